"""An audited write against the same write without its audit row.

The write is the core of `partnership.services.user_update` when an admin records a
user's training: one UPDATE of two fields inside `transaction.atomic()`. The audited
variant adds `audit_record(...)` in the same transaction, as the service does; the
baseline is the same block without it. Both run in this process, on one database,
in one run.

- Serial: one connection; after a warm-up, blocks of each variant alternate (A B,
  B A, ...) so that drift in the machine or the database touches both alike.
  Per-write latency is reported as median and p95; the ratio is of the medians.
- Service: the whole `user_update` call (scoped read of the user, checks, write,
  audit row) against the same call with `audit_record` replaced by a no-op, in the
  same alternating blocks. This is the ratio a user of the service sees.
- Breakdown: the statements each variant sends and the time spent inside the
  database driver, against the time of one bare round trip and of sealing one row.
- Concurrent: four threads, each with its own connection and its own target user,
  all in one partnership, so the audited writers queue on the partnership's chain
  head row lock (the design's known contention point). Rounds run A B B A; the
  report gives throughput of each variant and the time spent taking that lock.
  The whole audit log is verified afterwards.
"""

from __future__ import annotations

import datetime
import re
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any
from unittest import mock

from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.audit import chain as sealing
from accord.audit.models import AuditAction, AuditEvent
from accord.audit.services import audit_record
from accord.partnership import services
from accord.partnership.models import User
from accord.partnership.seed import AgencySpec, UserSpec, build_partnership
from accord.partnership.vocabulary import Role, Sector, TrainingLevel

SECTION = "audit_write"
TITLE = "Audited write against the same write without its audit row"
TARGET = 1.3

SERIAL_WARMUP = 200  # writes per variant, not recorded
SERIAL_BLOCKS = 20
SERIAL_BLOCK_SIZE = 100  # 20 blocks x 100 = 2000 recorded writes per variant
SERVICE_WARMUP = 100
SERVICE_BLOCKS = 10
SERVICE_BLOCK_SIZE = 100  # 1000 recorded calls per variant
BREAKDOWN_WRITES = 300  # per variant, with every statement timed
THREADS = 4
THREAD_WARMUP = 25  # writes per thread per round, not recorded
THREAD_WRITES = 250  # recorded writes per thread per round
THREAD_ORDER = (False, True, True, False)  # audited? per round: 2 x 4 x 250 = 2000 per variant
ROUND_TRIPS = 1000
LOCK_STATEMENT = "SELECT audit_auditchainhead FOR UPDATE"
SEALS = 5000

CHANGED = ["training_level", "training_date"]
LEVELS = [TrainingLevel.AWARENESS, TrainingLevel.PRACTITIONER, TrainingLevel.SPECIALIST]
FIRST_DATE = datetime.date(2024, 1, 1)

PARTNERSHIP = "Benchmoor"
WORKERS = ("Ash", "Birch", "Cedar", "Elm")
AGENCIES = [
    AgencySpec(
        "team",
        "Benchmoor Partnership Team",
        Sector.OTHER,
        (UserSpec("benchmoor_admin", "Rowan Admin", Role.PARTNERSHIP_ADMIN),),
    ),
    AgencySpec(
        "housing",
        "Benchmoor Homes",
        Sector.HOUSING,
        tuple(
            UserSpec(f"benchmoor_{name.lower()}", f"{name} Worker", Role.PRACTITIONER)
            for name in WORKERS
        ),
    ),
]
PASSWORD = "benchmoor-fictional-password"  # a fictional partnership; nobody signs in

Runner = Callable[[int, int], list[float]]  # (first n, count) -> microseconds per write


# --- the writes under test


def _training(n: int) -> dict[str, Any]:
    """Training fields that differ from those of write n - 1, so every write changes a row."""
    return {
        "training_level": LEVELS[n % len(LEVELS)],
        "training_date": FIRST_DATE + datetime.timedelta(days=n % 366),
    }


def write(actor: User, target: User, n: int, *, audited: bool) -> None:
    """Record a change to `target`'s training, with or without its audit row."""
    with transaction.atomic():
        for name, value in _training(n).items():
            setattr(target, name, value)
        target.save(update_fields=CHANGED)
        if audited:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type="user",
                object_id=target.id,
                changed_fields=CHANGED,
            )


def _timed(actor: User, target: User, first: int, count: int, *, audited: bool) -> list[float]:
    """Run `count` writes; return each one's wall time in microseconds."""
    clock = time.perf_counter_ns
    samples: list[float] = []
    for n in range(first, first + count):
        began = clock()
        write(actor, target, n, audited=audited)
        samples.append((clock() - began) / 1000)
    return samples


def _no_audit_row(**_: Any) -> None:
    return None


def _service_runner(actor: User, target: User, *, audited: bool) -> Runner:
    """`user_update` as the admin pages call it; without audit, `audit_record` does nothing."""

    def run(first: int, count: int) -> list[float]:
        clock = time.perf_counter_ns
        samples: list[float] = []
        patch: AbstractContextManager[Any] = (
            nullcontext() if audited else mock.patch.object(services, "audit_record", _no_audit_row)
        )
        with patch:
            for n in range(first, first + count):
                began = clock()
                services.user_update(actor=actor, user=target, **_training(n))
                samples.append((clock() - began) / 1000)
        return samples

    return run


# --- statistics


@dataclass(frozen=True)
class Latency:
    count: int
    mean_us: float
    median_us: float
    p95_us: float

    @classmethod
    def of(cls, samples_us: list[float]) -> Latency:
        p95 = statistics.quantiles(samples_us, n=20, method="inclusive")[18]
        return cls(
            len(samples_us), statistics.fmean(samples_us), statistics.median(samples_us), p95
        )


@dataclass(frozen=True)
class Pair:
    """A baseline and its audited variant, measured in alternating blocks."""

    plain: Latency
    audited: Latency
    block_ratios: tuple[float, float]  # lowest and highest ratio of block medians

    @property
    def ratio(self) -> float:
        return self.audited.median_us / self.plain.median_us


@dataclass(frozen=True)
class Statements:
    """What one write sends to the database, timed inside the driver."""

    kinds: tuple[str, ...]  # BEGIN and COMMIT included
    median_us: dict[str, float]  # per kind, inside `cursor.execute`
    in_driver_us: float  # mean per write, inside `cursor.execute`
    total_us: float  # mean per write, wall time


@dataclass(frozen=True)
class Throughput:
    writes: int
    seconds: float
    latency: Latency
    lock_wait: Latency | None  # the chain head SELECT ... FOR UPDATE

    @property
    def per_second(self) -> float:
        return self.writes / self.seconds


@dataclass(frozen=True)
class Result:
    serial: Pair
    service: Pair
    plain_statements: Statements
    audited_statements: Statements
    round_trip_us: float
    seal_us: float
    concurrent_plain: Throughput
    concurrent_audited: Throughput
    serial_lock_us: float
    audit_rows: int
    chain_problems: tuple[str, ...]
    seconds: float

    @property
    def ratio(self) -> float:
        return self.serial.ratio

    @property
    def concurrent_ratio(self) -> float:
        return self.concurrent_plain.per_second / self.concurrent_audited.per_second

    @property
    def met(self) -> bool:
        return self.ratio <= TARGET


# --- the measurements


def _alternating(plain: Runner, audited: Runner, warmup: int, blocks: int, size: int) -> Pair:
    samples: dict[bool, list[float]] = {False: [], True: []}
    runners = {False: plain, True: audited}
    block_ratios: list[float] = []
    n = 0
    for variant in (False, True):
        runners[variant](n, warmup)
        n += warmup
    for block in range(blocks):
        medians: dict[bool, float] = {}
        for variant in (False, True) if block % 2 == 0 else (True, False):
            block_samples = runners[variant](n, size)
            n += size
            samples[variant].extend(block_samples)
            medians[variant] = statistics.median(block_samples)
        block_ratios.append(medians[True] / medians[False])
    return Pair(
        Latency.of(samples[False]),
        Latency.of(samples[True]),
        (min(block_ratios), max(block_ratios)),
    )


def _statement_kind(sql: str) -> str:
    """`UPDATE partnership_user`, `SELECT audit_auditchainhead FOR UPDATE`, `SAVEPOINT`..."""
    words = sql.split()
    if words[0] not in {"INSERT", "UPDATE", "SELECT", "DELETE"}:
        return " ".join(words[:2]) if words[0] == "RELEASE" else words[0]
    table = re.search(r'(?:INTO|UPDATE|FROM)\s+"?(\w+)"?', sql)
    kind = f"{words[0]} {table.group(1)}" if table else words[0]
    for clause in ("ON CONFLICT", "FOR UPDATE"):
        if clause in sql:
            kind += f" {clause}"
    return kind


@contextmanager
def _timing_statements(into: dict[str, list[float]]) -> Iterator[None]:
    """Time every statement this thread's connection executes, by kind."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            into.setdefault(_statement_kind(sql), []).append(
                (time.perf_counter_ns() - began) / 1000
            )

    with connection.execute_wrapper(wrapper):
        yield


def _statements(actor: User, target: User, first: int, *, audited: bool) -> Statements:
    with CaptureQueriesContext(connection) as captured:
        write(actor, target, first, audited=audited)
    kinds = tuple(_statement_kind(query["sql"]) for query in captured.captured_queries)
    timings: dict[str, list[float]] = {}
    with _timing_statements(timings):
        samples = _timed(actor, target, first + 1, BREAKDOWN_WRITES, audited=audited)
    in_driver = sum(sum(each) for each in timings.values()) / BREAKDOWN_WRITES
    return Statements(
        kinds=kinds,
        median_us={kind: statistics.median(each) for kind, each in timings.items()},
        in_driver_us=in_driver,
        total_us=statistics.fmean(samples),
    )


def _round_trip_us() -> float:
    """The median time of the cheapest statement: one round trip to the server."""
    samples: list[float] = []
    with connection.cursor() as cursor:
        for _ in range(ROUND_TRIPS):
            began = time.perf_counter_ns()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            samples.append((time.perf_counter_ns() - began) / 1000)
    return statistics.median(samples)


def _seal_us(actor: User) -> float:
    """The median time to seal one row (canonical JSON and HMAC), in this process only."""
    event = AuditEvent(
        chain=str(uuid.uuid4()),
        seq=1,
        occurred_at=timezone.now(),
        actor_kind=actor.actor_kind,
        actor_id=actor.id,
        agency_id=actor.agency_id,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=uuid.uuid4(),
        changed_fields=CHANGED,
        key_id=sealing.current_key_id(),
    )
    samples: list[float] = []
    for _ in range(SEALS):
        began = time.perf_counter_ns()
        sealing.seal(event, sealing.GENESIS)
        samples.append((time.perf_counter_ns() - began) / 1000)
    return statistics.median(samples)


class _Round:
    """One round of writers, each on its own connection and target user, started together."""

    def __init__(
        self, actor_id: uuid.UUID, target_ids: list[uuid.UUID], first: int, *, audited: bool
    ) -> None:
        self.actor_id = actor_id
        self.target_ids = target_ids
        self.first = first
        self.audited = audited
        self.barrier = threading.Barrier(len(target_ids))
        self.starts = [0.0] * len(target_ids)
        self.ends = [0.0] * len(target_ids)
        self.samples: list[list[float]] = [[] for _ in target_ids]
        self.lock_waits: list[list[float]] = [[] for _ in target_ids]
        self.errors: list[Exception] = []

    def worker(self, index: int) -> None:
        try:
            actor = User.objects.select_related("agency").get(pk=self.actor_id)
            target = User.objects.get(pk=self.target_ids[index])
            _timed(actor, target, self.first, THREAD_WARMUP, audited=self.audited)
            timings: dict[str, list[float]] = {}
            self.barrier.wait()
            with _timing_statements(timings):
                self.starts[index] = time.perf_counter()
                self.samples[index] = _timed(
                    actor, target, self.first + THREAD_WARMUP, THREAD_WRITES, audited=self.audited
                )
                self.ends[index] = time.perf_counter()
            self.lock_waits[index] = timings.get(LOCK_STATEMENT, [])
        except Exception as error:
            self.errors.append(error)
            self.barrier.abort()
        finally:
            connections.close_all()

    def run(self) -> tuple[float, list[float], list[float]]:
        threads = [
            threading.Thread(target=self.worker, args=(index,), name=f"bench-writer-{index}")
            for index in range(len(self.target_ids))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.errors:
            raise self.errors[0]
        return (
            max(self.ends) - min(self.starts),
            [sample for each in self.samples for sample in each],
            [wait for each in self.lock_waits for wait in each],
        )


def _concurrent(actor_id: uuid.UUID, target_ids: list[uuid.UUID]) -> tuple[Throughput, Throughput]:
    seconds: dict[bool, float] = {False: 0.0, True: 0.0}
    samples: dict[bool, list[float]] = {False: [], True: []}
    waits: dict[bool, list[float]] = {False: [], True: []}
    first = 0
    for audited in THREAD_ORDER:
        elapsed, round_samples, round_waits = _Round(
            actor_id, target_ids, first, audited=audited
        ).run()
        first += THREAD_WARMUP + THREAD_WRITES
        seconds[audited] += elapsed
        samples[audited].extend(round_samples)
        waits[audited].extend(round_waits)
    return (
        Throughput(len(samples[False]), seconds[False], Latency.of(samples[False]), None),
        Throughput(
            len(samples[True]), seconds[True], Latency.of(samples[True]), Latency.of(waits[True])
        ),
    )


def run() -> Result:
    began = time.perf_counter()
    partnership, _, users = build_partnership(PARTNERSHIP, AGENCIES, password=PASSWORD)
    actor = User.objects.select_related("agency").get(pk=users["benchmoor_admin"].pk)
    targets = [users[f"benchmoor_{name.lower()}"] for name in WORKERS]
    target = targets[0]

    serial = _alternating(
        lambda first, count: _timed(actor, target, first, count, audited=False),
        lambda first, count: _timed(actor, target, first, count, audited=True),
        SERIAL_WARMUP,
        SERIAL_BLOCKS,
        SERIAL_BLOCK_SIZE,
    )
    service = _alternating(
        _service_runner(actor, targets[1], audited=False),
        _service_runner(actor, targets[1], audited=True),
        SERVICE_WARMUP,
        SERVICE_BLOCKS,
        SERVICE_BLOCK_SIZE,
    )
    plain_statements = _statements(actor, target, 0, audited=False)
    audited_statements = _statements(actor, target, BREAKDOWN_WRITES + 1, audited=True)
    round_trip = _round_trip_us()
    seal = _seal_us(actor)

    chain = str(partnership.id)
    chain_before = AuditEvent.objects.filter(chain=chain).count()
    concurrent_plain, concurrent_audited = _concurrent(actor.pk, [t.pk for t in targets])
    added = AuditEvent.objects.filter(chain=chain).count() - chain_before
    expected = THREAD_ORDER.count(True) * len(targets) * (THREAD_WARMUP + THREAD_WRITES)
    problems = [str(problem) for _, _, problem in sealing.verify() if problem is not None]
    if added != expected:
        problems.append(f"the concurrent writers added {added} audit rows, expected {expected}")

    return Result(
        serial=serial,
        service=service,
        plain_statements=plain_statements,
        audited_statements=audited_statements,
        round_trip_us=round_trip,
        seal_us=seal,
        concurrent_plain=concurrent_plain,
        concurrent_audited=concurrent_audited,
        serial_lock_us=audited_statements.median_us.get(LOCK_STATEMENT, 0.0),
        audit_rows=AuditEvent.objects.count(),
        chain_problems=tuple(problems),
        seconds=time.perf_counter() - began,
    )


# --- reporting


def _ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.3f} ms"


def _chain_line(result: Result) -> str:
    if result.chain_problems:
        return "PROBLEMS: " + "; ".join(result.chain_problems)
    return f"{result.audit_rows} rows, verified intact"


def table(result: Result) -> str:
    """A short plain-text table for the terminal."""
    s, v = result.serial, result.service
    cp, ca = result.concurrent_plain, result.concurrent_audited
    verdict = "met" if result.met else "MISSED"
    head = f"{'':34}{'median':>11}{'p95':>11}{'count':>7}"

    def row(name: str, latency: Latency) -> str:
        return f"{name:34}{_ms(latency.median_us):>11}{_ms(latency.p95_us):>11}{latency.count:>7}"

    lines = [
        TITLE,
        head,
        row("write, without audit row", s.plain),
        row("write, audited", s.audited),
        f"  ratio of medians {s.ratio:.2f}x (target <= {TARGET}x: {verdict}); "
        f"blocks {s.block_ratios[0]:.2f}x to {s.block_ratios[1]:.2f}x",
        row("user_update, audit_record no-op", v.plain),
        row("user_update, audited", v.audited),
        f"  ratio of medians {v.ratio:.2f}x; blocks "
        f"{v.block_ratios[0]:.2f}x to {v.block_ratios[1]:.2f}x",
        f"{THREADS} threads, one partnership{'writes/s':>12}{'median':>11}{'p95':>11}",
        f"{'  write, without audit row':32}{cp.per_second:>12.0f}"
        f"{_ms(cp.latency.median_us):>11}{_ms(cp.latency.p95_us):>11}",
        f"{'  write, audited':32}{ca.per_second:>12.0f}"
        f"{_ms(ca.latency.median_us):>11}{_ms(ca.latency.p95_us):>11}",
        f"  throughput ratio {result.concurrent_ratio:.2f}x; chain head lock taken in "
        f"{_ms(ca.lock_wait.median_us if ca.lock_wait else 0)} median "
        f"({_ms(result.serial_lock_us)} alone)",
        f"statements per write (BEGIN, COMMIT included): "
        f"{len(result.plain_statements.kinds)} without, "
        f"{len(result.audited_statements.kinds)} audited; round trip "
        f"{_ms(result.round_trip_us)}; seal {_ms(result.seal_us)}",
        f"audit log after the run: {_chain_line(result)}",
        f"took {result.seconds:.1f} s",
    ]
    return "\n".join(lines)


def _verdict(result: Result) -> str:
    if result.met:
        return (
            f"**Target met:** the audited write takes {result.ratio:.2f}x the time of the "
            f"same write without its audit row (target ≤ {TARGET}x)."
        )
    return (
        f"**Target missed:** the audited write takes {result.ratio:.2f}x the time of the "
        f"same write without its audit row, against a target of ≤ {TARGET}x."
    )


def _why(result: Result) -> str:
    """What the breakdown says about the difference between the two variants."""
    plain, audited = result.plain_statements, result.audited_statements
    extra = len(audited.kinds) - len(plain.kinds)
    in_driver = audited.in_driver_us - plain.in_driver_us
    elsewhere = (audited.total_us - audited.in_driver_us) - (plain.total_us - plain.in_driver_us)
    return (
        f"Why: the baseline is a single UPDATE, and the audit row adds {extra} statements "
        f"to it (see below). They spend {_ms(in_driver)} more per write in the database "
        f"driver, and the ORM work around them another {_ms(elsewhere)}; sealing the row "
        f"itself costs only {_ms(result.seal_us)}. Each added statement costs about as much "
        "as the write being audited, so the ratio follows the statement count."
    )


def _breakdown(result: Result) -> list[str]:
    plain, audited = result.plain_statements, result.audited_statements
    lines = [
        "| | without audit row | audited |",
        "|---|---:|---:|",
        f"| statements per write (BEGIN and COMMIT included) | {len(plain.kinds)} | "
        f"{len(audited.kinds)} |",
        f"| mean wall time per write | {_ms(plain.total_us)} | {_ms(audited.total_us)} |",
        f"| of which inside the database driver (send, server, receive) | "
        f"{_ms(plain.in_driver_us)} | {_ms(audited.in_driver_us)} |",
        f"| of which elsewhere (ORM, sealing, COMMIT, benchmark loop) | "
        f"{_ms(plain.total_us - plain.in_driver_us)} | "
        f"{_ms(audited.total_us - audited.in_driver_us)} |",
        "",
        f"The audited write sends: {', '.join(audited.kinds)}. Median time inside the driver "
        "per statement, audited write: "
        + ", ".join(f"{kind} {_ms(us)}" for kind, us in audited.median_us.items())
        + " (BEGIN is sent with the first statement).",
        "",
        f"For scale: one bare round trip (`SELECT 1`) takes {_ms(result.round_trip_us)}, and "
        f"sealing one row (canonical JSON and HMAC) takes {_ms(result.seal_us)}.",
    ]
    return lines


def markdown(result: Result, *, date: str, machine: dict[str, str]) -> str:
    """The section of RESULTS.md for this benchmark."""
    s, v = result.serial, result.service
    cp, ca = result.concurrent_plain, result.concurrent_audited
    order = ", ".join("audited" if audited else "without" for audited in THREAD_ORDER)
    serial_rate = {False: 1e6 / s.plain.mean_us, True: 1e6 / s.audited.mean_us}
    lines = [
        f"## {TITLE}",
        "",
        f"Measured {date} in {result.seconds:.0f} s. Written by `make bench`; do not edit by hand.",
        "",
        "The write: an admin records a user's training (`training_level`, `training_date`) "
        "in `transaction.atomic()`, as `partnership.services.user_update` does; the audited "
        "variant adds `audit_record(...)` in the same transaction.",
        "",
        "### Machine",
        "",
        *(f"- {name}: {value}" for name, value in machine.items()),
        "",
        "### Result",
        "",
        f"{SERIAL_WARMUP} warm-up writes of each variant, then {SERIAL_BLOCKS} alternating "
        f"blocks of {SERIAL_BLOCK_SIZE}, on one connection.",
        "",
        "| variant | writes | median | p95 |",
        "|---|---:|---:|---:|",
        f"| without audit row | {s.plain.count} | {_ms(s.plain.median_us)} | "
        f"{_ms(s.plain.p95_us)} |",
        f"| audited | {s.audited.count} | {_ms(s.audited.median_us)} | {_ms(s.audited.p95_us)} |",
        "",
        f"Ratio of medians (audited / without): **{s.ratio:.2f}x**; the ratio of block "
        f"medians ranged from {s.block_ratios[0]:.2f}x to {s.block_ratios[1]:.2f}x.",
        "",
        _verdict(result),
        "",
        _why(result),
        "",
        "### The whole service call",
        "",
        "`user_update` as the administration pages call it (scoped read of the user, "
        "checks, write, audit row) against the same call with `audit_record` replaced by a "
        f"no-op; {SERVICE_WARMUP} warm-up calls each, then {SERVICE_BLOCKS} alternating "
        f"blocks of {SERVICE_BLOCK_SIZE}.",
        "",
        "| variant | calls | median | p95 |",
        "|---|---:|---:|---:|",
        f"| `audit_record` a no-op | {v.plain.count} | {_ms(v.plain.median_us)} | "
        f"{_ms(v.plain.p95_us)} |",
        f"| audited | {v.audited.count} | {_ms(v.audited.median_us)} | {_ms(v.audited.p95_us)} |",
        "",
        f"Ratio of medians: **{v.ratio:.2f}x** (blocks {v.block_ratios[0]:.2f}x to "
        f"{v.block_ratios[1]:.2f}x).",
        "",
        "### Where the time goes",
        "",
        f"{BREAKDOWN_WRITES} more writes of each variant with every statement timed:",
        "",
        *_breakdown(result),
        "",
        f"### {THREADS} threads writing to one partnership",
        "",
        f"Each thread has its own connection and target user; rounds of {THREAD_WRITES} "
        f"writes per thread (after {THREAD_WARMUP} warm-up writes) ran in the order {order}. "
        "The audited writers queue on the partnership's chain head row lock.",
        "",
        "| variant | writes | writes/s | one connection, writes/s | median | p95 |",
        "|---|---:|---:|---:|---:|---:|",
        f"| without audit row | {cp.writes} | {cp.per_second:.0f} | {serial_rate[False]:.0f} | "
        f"{_ms(cp.latency.median_us)} | {_ms(cp.latency.p95_us)} |",
        f"| audited | {ca.writes} | {ca.per_second:.0f} | {serial_rate[True]:.0f} | "
        f"{_ms(ca.latency.median_us)} | {_ms(ca.latency.p95_us)} |",
        "",
        f"Throughput ratio (without / audited): **{result.concurrent_ratio:.2f}x**. "
        '"One connection" is the rate implied by the mean serial latency above. The '
        "threads share one Python interpreter lock and, here, the cores with the server, so "
        "a writer holding the chain head lock may wait for the interpreter before it can "
        "commit; separate web processes would not share that wait.",
    ]
    if ca.lock_wait is not None:
        lines += [
            "",
            "Taking the chain head lock (`SELECT ... FOR UPDATE`) took "
            f"{_ms(ca.lock_wait.median_us)} median, {_ms(ca.lock_wait.p95_us)} p95, under "
            f"contention, against {_ms(result.serial_lock_us)} median on one connection.",
        ]
    lines += [
        "",
        f"Audit log after the run, checked by `audit.chain.verify`: {_chain_line(result)}.",
    ]
    if machine.get("PostgreSQL durability", "").startswith("fsync=off"):
        lines += [
            "",
            "The benchmark server runs without durable commits (fsync and synchronous_commit "
            "off). A durable server adds a WAL flush to every commit, the same for both "
            "variants, so there the absolute times are higher and the ratio likely lower.",
        ]
    return "\n".join(lines) + "\n"
