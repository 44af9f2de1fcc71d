"""An audited write against the same write without its audit row, and the sealing after it.

The write is the core of `partnership.services.user_update` when an admin records a
user's training: one UPDATE of two fields inside `transaction.atomic()`. The audited
variant adds `audit_record(...)` in the same transaction, as the service does: one
statement that inserts the event and queues it for sealing, and an on-commit request
for sealing. The baseline is the same block without it. Both run in this process, on
one database, in one run.

Sealing is not part of the write. Production seals in a separate worker process and
each web process asks for it at most once a second; the test settings would instead
seal inline after every commit. So every measurement runs with production's task
settings (`bench.worker.production_tasks`): the writes queue a seal request in the
database about once a second, as in production, and no worker runs while writes are
timed. Between timed blocks the benchmark calls `seal_pending()` itself, as the
worker would, so the queue of waiting events stays as short as it would be.

- Serial: one connection; after a warm-up, blocks of each variant alternate (A B,
  B A, ...) so that drift in the machine or the database touches both alike.
  Per-write latency is reported as median and p95; the ratio is of the medians.
- Service: the whole `user_update` call (scoped read of the user, checks, write,
  audit row) against the same call with `audit_record` replaced by a no-op, in the
  same alternating blocks. This is the ratio a user of the service sees.
- Breakdown: the statements each variant sends and the time spent inside the
  database driver, against the server's own time for them (`EXPLAIN ANALYZE`) and
  the time of one bare round trip.
- Concurrent: four threads, each with its own connection and its own target user,
  all in one partnership. Writers take no audit lock, so the audited writers should
  not queue on each other. Rounds run A B B A; the report gives the throughput of
  each variant and the time of the audit statement under contention.
- Sealing: N events written with no sealer running, then one timed `seal_pending()`:
  events sealed per second, and from it the lag a writer would see at the measured
  write rates. Then four writers run for a few seconds beside the real worker
  (`db_worker` in its own process, started by `python -m bench.worker`) and the lag
  from each act to its seal is observed. The whole audit log is verified afterwards:
  every chain intact and nothing left waiting.
"""

from __future__ import annotations

import datetime
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from unittest import mock

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accord.audit import chain as sealing
from accord.audit.models import AuditAction, AuditEvent, AuditPending
from accord.audit.services import audit_record
from accord.audit.tasks import seal_audit_log
from accord.partnership import services
from accord.partnership.models import User
from accord.partnership.seed import AgencySpec, UserSpec, build_partnership
from accord.partnership.vocabulary import Role, Sector, TrainingLevel
from bench.worker import production_tasks

SECTION = "audit_write"
TITLE = "Audited write against the same write without its audit row"
TARGET = 1.3
# The design before the redesign of the audit log, measured by this benchmark.
PREVIOUS_RATIO = 4.49
PREVIOUS_EXTRA_STATEMENTS = 6

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
EXPLAINS = 100  # EXPLAIN ANALYZE runs per statement
HMACS = 5000
SEAL_EVENTS = 20000  # written with no sealer running, then sealed by one timed call
LAG_SECONDS = 8.0  # four audited writers beside the real worker
WORKER_TIMEOUT = 30.0  # seconds to wait for the worker to start, drain or stop
RERUN_SECONDS = 1.0  # `seal_audit_log` runs again this long after a pass that sealed

# Statement kinds, as `_statement_kind` names them.
AUDIT_STATEMENT = "WITH INSERT audit_auditevent, INSERT audit_auditpending"
UPDATE_STATEMENT = "UPDATE partnership_user"
STATEMENTS = (UPDATE_STATEMENT, AUDIT_STATEMENT)
SEAL_REQUEST = f"INSERT {DBTaskResult._meta.db_table}"

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


@dataclass
class _Passes:
    """Sealing done between timed blocks, standing in for the worker; never timed as a write."""

    events: int = 0
    passes: int = 0
    seconds: float = 0.0

    def seal(self) -> None:
        began = time.perf_counter()
        self.events += sealing.seal_pending()
        self.seconds += time.perf_counter() - began
        self.passes += 1


def _write_runner(actor: User, target: User, passes: _Passes, *, audited: bool) -> Runner:
    def run(first: int, count: int) -> list[float]:
        samples = _timed(actor, target, first, count, audited=audited)
        if audited:
            passes.seal()
        return samples

    return run


def _no_audit_row(**_: Any) -> None:
    return None


def _service_runner(actor: User, target: User, passes: _Passes, *, audited: bool) -> Runner:
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
        if audited:
            passes.seal()
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

    kinds: tuple[str, ...]  # BEGIN and COMMIT included; not the occasional seal request
    median_us: dict[str, float]  # per kind, inside `cursor.execute`
    in_driver_us: float  # mean per write, inside `cursor.execute`
    total_us: float  # mean per write, wall time
    writes: int
    seconds: float  # wall time of the timed writes
    seal_requests: int  # seal requests queued after commit during the timed writes
    server_us: dict[str, float]  # per kind: planning and execution on the server, median


@dataclass(frozen=True)
class Throughput:
    writes: int
    seconds: float
    latency: Latency
    statements: dict[str, Latency]  # the UPDATE's and audit statement's time in the driver

    @property
    def per_second(self) -> float:
        return self.writes / self.seconds


@dataclass(frozen=True)
class Sealing:
    """One `seal_pending()` call over events written with no sealer running."""

    events: int
    write_seconds: float  # writing them, one audited write each, one connection
    seal_seconds: float
    hmac_us: float  # the HMAC of one seal alone (canonical JSON and SHA-256), median
    between: _Passes  # the sealing between timed blocks, for comparison

    @property
    def per_second(self) -> float:
        return self.events / self.seal_seconds

    def pass_s(self, writes_per_second: float) -> float:
        """The time to seal one second's writes at this rate."""
        return writes_per_second / self.per_second

    def predicted_wait_s(self, writes_per_second: float) -> float:
        """The longest wait for a pass to start: the task's rerun delay plus one pass."""
        return RERUN_SECONDS + self.pass_s(writes_per_second)


@dataclass(frozen=True)
class Observed:
    """Four audited writers beside the real worker: the lag from each act to its seal."""

    writes: int
    seconds: float
    lag: Latency  # sealed_at - occurred_at
    max_lag_us: float
    drain_seconds: float  # after the last write, until nothing waited
    tasks: int  # seal tasks the worker ran from the first write until it was stopped
    tasks_sealing: int  # of which found something to seal
    pass_median_us: float  # time of one task run that sealed something
    tasks_queued: int  # seal tasks still queued when the worker was stopped

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
    concurrent_plain: Throughput
    concurrent_audited: Throughput
    sealing: Sealing
    observed: Observed
    audit_rows: int
    chains: int
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
    """`UPDATE partnership_user`, `WITH INSERT audit_auditevent, INSERT ...`, `COMMIT`..."""
    words = sql.split()
    if words[0] == "WITH":
        targets = re.findall(r'INSERT\s+INTO\s+"?(\w+)"?', sql)
        return "WITH " + ", ".join(f"INSERT {name}" for name in targets)
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
            elapsed = (time.perf_counter_ns() - began) / 1000
            into.setdefault(_statement_kind(sql), []).append(elapsed)

    with connection.execute_wrapper(wrapper):
        yield


def _statements(actor: User, target: User, first: int, *, audited: bool) -> Statements:
    with CaptureQueriesContext(connection) as captured:
        write(actor, target, first, audited=audited)
    sql = {_statement_kind(query["sql"]): query["sql"] for query in captured.captured_queries}
    kinds = tuple(_statement_kind(query["sql"]) for query in captured.captured_queries)
    # What follows COMMIT is the on-commit seal request, sent about once a second.
    if "COMMIT" in kinds:
        kinds = kinds[: kinds.index("COMMIT") + 1]
    timings: dict[str, list[float]] = {}
    began = time.perf_counter()
    with _timing_statements(timings):
        samples = _timed(actor, target, first + 1, BREAKDOWN_WRITES, audited=audited)
    seconds = time.perf_counter() - began
    in_driver = sum(sum(each) for each in timings.values()) / BREAKDOWN_WRITES
    return Statements(
        kinds=kinds,
        median_us={
            kind: statistics.median(each) for kind, each in timings.items() if kind in kinds
        },
        in_driver_us=in_driver,
        total_us=statistics.fmean(samples),
        writes=BREAKDOWN_WRITES,
        seconds=seconds,
        seal_requests=len(timings.get(SEAL_REQUEST, [])),
        server_us={kind: _server_us(sql[kind]) for kind in STATEMENTS if kind in sql},
    )


def _server_us(sql: str) -> float:
    """The server's own planning and execution time for a statement, by EXPLAIN ANALYZE.

    Each run is rolled back, so the audit statement leaves no event behind.
    """
    samples: list[float] = []
    for _ in range(EXPLAINS):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            row = cursor.fetchone()
            transaction.set_rollback(True)
        plan = row[0][0] if row else {}
        samples.append((plan.get("Planning Time", 0.0) + plan.get("Execution Time", 0.0)) * 1000)
    return statistics.median(samples)


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


def _hmac_us(actor: User) -> float:
    """The median time of one seal's HMAC (canonical JSON and SHA-256), in this process only."""
    event = AuditEvent(
        id=1,
        chain=str(uuid.uuid4()),
        occurred_at=timezone.now(),
        actor_kind=actor.actor_kind,
        actor_id=actor.id,
        agency_id=actor.agency_id,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=uuid.uuid4(),
        changed_fields=CHANGED,
    )
    key_id: str = settings.AUDIT_KEYS.current_id
    samples: list[float] = []
    for seq in range(1, HMACS + 1):
        began = time.perf_counter_ns()
        sealing.seal_hash(event, seq=seq, key_id=key_id, prev_hash=sealing.GENESIS)
        samples.append((time.perf_counter_ns() - began) / 1000)
    return statistics.median(samples)


class _Round:
    """One round of writers, each on its own connection and target user, started together.

    With `count`, each writer makes that many timed writes; with `until` (a
    `time.perf_counter()` deadline) it writes until then.
    """

    def __init__(
        self,
        actor_id: uuid.UUID,
        target_ids: list[uuid.UUID],
        first: int,
        *,
        audited: bool,
        warmup: int = THREAD_WARMUP,
        count: int = THREAD_WRITES,
        seconds: float | None = None,
    ) -> None:
        self.actor_id = actor_id
        self.target_ids = target_ids
        self.first = first
        self.audited = audited
        self.warmup = warmup
        self.count = count
        self.seconds = seconds
        self.barrier = threading.Barrier(len(target_ids))
        self.starts = [0.0] * len(target_ids)
        self.ends = [0.0] * len(target_ids)
        self.samples: list[list[float]] = [[] for _ in target_ids]
        self.timings: list[dict[str, list[float]]] = [{} for _ in target_ids]
        self.errors: list[Exception] = []

    def _write_until(self, actor: User, target: User, first: int, deadline: float) -> list[float]:
        clock = time.perf_counter_ns
        samples: list[float] = []
        n = first
        while time.perf_counter() < deadline:
            began = clock()
            write(actor, target, n, audited=self.audited)
            samples.append((clock() - began) / 1000)
            n += 1
        return samples

    def worker(self, index: int) -> None:
        try:
            actor = User.objects.select_related("agency").get(pk=self.actor_id)
            target = User.objects.get(pk=self.target_ids[index])
            first = self.first
            _timed(actor, target, first, self.warmup, audited=self.audited)
            self.barrier.wait()
            with _timing_statements(self.timings[index]):
                self.starts[index] = time.perf_counter()
                if self.seconds is None:
                    self.samples[index] = _timed(
                        actor, target, first + self.warmup, self.count, audited=self.audited
                    )
                else:
                    deadline = self.starts[index] + self.seconds
                    self.samples[index] = self._write_until(
                        actor, target, first + self.warmup, deadline
                    )
                self.ends[index] = time.perf_counter()
        except Exception as error:
            self.errors.append(error)
            self.barrier.abort()
        finally:
            connections.close_all()

    def run(self) -> tuple[float, list[float], dict[str, list[float]]]:
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
        timings: dict[str, list[float]] = {}
        for each in self.timings:
            for kind, samples in each.items():
                timings.setdefault(kind, []).extend(samples)
        return (
            max(self.ends) - min(self.starts),
            [sample for each in self.samples for sample in each],
            timings,
        )


def _concurrent(
    actor_id: uuid.UUID, target_ids: list[uuid.UUID], passes: _Passes
) -> tuple[Throughput, Throughput]:
    seconds: dict[bool, float] = {False: 0.0, True: 0.0}
    samples: dict[bool, list[float]] = {False: [], True: []}
    timings: dict[bool, dict[str, list[float]]] = {False: {}, True: {}}
    first = 0
    for audited in THREAD_ORDER:
        elapsed, round_samples, round_timings = _Round(
            actor_id, target_ids, first, audited=audited
        ).run()
        first += THREAD_WARMUP + THREAD_WRITES
        seconds[audited] += elapsed
        samples[audited].extend(round_samples)
        for kind, each in round_timings.items():
            timings[audited].setdefault(kind, []).extend(each)
        if audited:
            passes.seal()

    def throughput(audited: bool) -> Throughput:
        return Throughput(
            len(samples[audited]),
            seconds[audited],
            Latency.of(samples[audited]),
            {
                kind: Latency.of(timings[audited][kind])
                for kind in STATEMENTS
                if timings[audited].get(kind)
            },
        )

    return throughput(False), throughput(True)


def _sealing(actor: User, target: User, passes: _Passes) -> Sealing:
    """Write SEAL_EVENTS audited writes with no sealer running, then seal them in one call."""
    passes.seal()  # start from an empty queue
    began = time.perf_counter()
    for n in range(SEAL_EVENTS):
        write(actor, target, n, audited=True)
    write_seconds = time.perf_counter() - began
    waiting = AuditPending.objects.count()
    began = time.perf_counter()
    sealed = sealing.seal_pending()
    seal_seconds = time.perf_counter() - began
    if waiting != SEAL_EVENTS or sealed != SEAL_EVENTS:
        raise RuntimeError(f"{waiting} events waited and {sealed} were sealed, not {SEAL_EVENTS}")
    return Sealing(
        events=sealed,
        write_seconds=write_seconds,
        seal_seconds=seal_seconds,
        hmac_us=_hmac_us(actor),
        between=passes,
    )


# --- the real worker beside four writers


def _seal_tasks() -> Any:
    return DBTaskResult.objects.filter(task_path=seal_audit_log.module_path)


def _wait_for(
    condition: Callable[[], bool], worker: subprocess.Popen[bytes], log: IO[bytes]
) -> float:
    """Poll until `condition()`; return the seconds it took. Fail if the worker has died."""
    began = time.perf_counter()
    while not condition():
        if worker.poll() is not None:
            log.seek(0)
            raise RuntimeError("the worker stopped: " + log.read().decode(errors="replace"))
        if time.perf_counter() - began > WORKER_TIMEOUT:
            raise RuntimeError(f"the worker did not finish within {WORKER_TIMEOUT:.0f} s")
        time.sleep(0.02)
    return time.perf_counter() - began


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Ask the worker to stop (it finishes the task it is running), then make sure it has."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=WORKER_TIMEOUT)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _lags_us(after_event_id: int) -> list[float]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXTRACT(EPOCH FROM s.sealed_at - e.occurred_at) * 1000000 "
            "FROM audit_auditseal s JOIN audit_auditevent e ON e.id = s.event_id "
            "WHERE e.id > %s",
            [after_event_id],
        )
        return [float(row[0]) for row in cursor.fetchall()]


def _observed(actor_id: uuid.UUID, target_ids: list[uuid.UUID], first: int) -> Observed:
    """Four audited writers for LAG_SECONDS while the real worker seals in its own process."""
    sealing.seal_pending()
    last_event = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryFile() as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "bench.worker"],
            cwd=root,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            # Seal requests queued by the earlier measurements run first; they find nothing.
            _wait_for(
                lambda: (
                    not _seal_tasks()
                    .filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
                    .exists()
                ),
                worker,
                log,
            )
            started = timezone.now()
            elapsed, samples, _ = _Round(
                actor_id, target_ids, first, audited=True, warmup=0, seconds=LAG_SECONDS
            ).run()
            drain = _wait_for(lambda: not AuditPending.objects.exists(), worker, log)
        finally:
            _stop(worker)
    runs = list(
        _seal_tasks()
        .filter(started_at__gte=started, finished_at__isnull=False)
        .values_list("status", "return_value", "started_at", "finished_at")
    )
    failed = [run for run in runs if run[0] != TaskResultStatus.SUCCESSFUL]
    if failed:
        raise RuntimeError(f"{len(failed)} seal tasks failed in the worker")
    passes = [(finish - start).total_seconds() * 1e6 for _, sealed, start, finish in runs if sealed]
    lags = _lags_us(last_event)
    if len(lags) != len(samples):
        raise RuntimeError(f"{len(samples)} events were written but {len(lags)} sealed")
    return Observed(
        writes=len(samples),
        seconds=elapsed,
        lag=Latency.of(lags),
        max_lag_us=max(lags),
        drain_seconds=drain,
        tasks=len(runs),
        tasks_sealing=len(passes),
        pass_median_us=statistics.median(passes) if passes else 0.0,
        tasks_queued=_seal_tasks().filter(status=TaskResultStatus.READY).count(),
    )


def run() -> Result:
    began = time.perf_counter()
    partnership, _, users = build_partnership(PARTNERSHIP, AGENCIES, password=PASSWORD)
    actor = User.objects.select_related("agency").get(pk=users["benchmoor_admin"].pk)
    targets = [users[f"benchmoor_{name.lower()}"] for name in WORKERS]
    target = targets[0]
    passes = _Passes()

    with production_tasks():
        serial = _alternating(
            _write_runner(actor, target, passes, audited=False),
            _write_runner(actor, target, passes, audited=True),
            SERIAL_WARMUP,
            SERIAL_BLOCKS,
            SERIAL_BLOCK_SIZE,
        )
        service = _alternating(
            _service_runner(actor, targets[1], passes, audited=False),
            _service_runner(actor, targets[1], passes, audited=True),
            SERVICE_WARMUP,
            SERVICE_BLOCKS,
            SERVICE_BLOCK_SIZE,
        )
        plain_statements = _statements(actor, target, 0, audited=False)
        audited_statements = _statements(actor, target, BREAKDOWN_WRITES + 1, audited=True)
        passes.seal()
        round_trip = _round_trip_us()

        chain = str(partnership.id)
        chain_before = AuditEvent.objects.filter(chain=chain).count()
        concurrent_plain, concurrent_audited = _concurrent(
            actor.pk, [t.pk for t in targets], passes
        )
        added = AuditEvent.objects.filter(chain=chain).count() - chain_before

        sealed = _sealing(actor, targets[2], passes)
        observed = _observed(actor.pk, [t.pk for t in targets], first=10_000_000)

    sealing.seal_pending()  # nothing should be left; verify says so if it was
    reports = list(sealing.verify())
    problems = [str(report.problem) for report in reports if report.problem is not None]
    problems += [
        f"chain {report.chain}: {report.waiting} events still waiting"
        for report in reports
        if report.waiting
    ]
    expected = THREAD_ORDER.count(True) * len(targets) * (THREAD_WARMUP + THREAD_WRITES)
    if added != expected:
        problems.append(f"the concurrent writers added {added} audit rows, expected {expected}")
    audit_rows = AuditEvent.objects.count()
    if sum(report.sealed for report in reports) != audit_rows:
        problems.append(f"{audit_rows} audit rows but not all of them sealed")

    return Result(
        serial=serial,
        service=service,
        plain_statements=plain_statements,
        audited_statements=audited_statements,
        round_trip_us=round_trip,
        concurrent_plain=concurrent_plain,
        concurrent_audited=concurrent_audited,
        sealing=sealed,
        observed=observed,
        audit_rows=audit_rows,
        chains=len(reports),
        chain_problems=tuple(problems),
        seconds=time.perf_counter() - began,
    )


# --- reporting


def _ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.3f} ms"


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def _chain_line(result: Result) -> str:
    if result.chain_problems:
        return "PROBLEMS: " + "; ".join(result.chain_problems)
    return (
        f"{result.audit_rows} events in {result.chains} "
        f"chain{'s' if result.chains != 1 else ''}, all sealed, "
        "verified intact, none waiting"
    )


def _serial_rate(result: Result) -> float:
    """Audited writes per second on one connection, from the mean serial latency."""
    return 1e6 / result.serial.audited.mean_us


def table(result: Result) -> str:
    """A short plain-text table for the terminal."""
    s, v = result.serial, result.service
    cp, ca = result.concurrent_plain, result.concurrent_audited
    seal, seen = result.sealing, result.observed
    verdict = "met" if result.met else "MISSED"
    head = f"{'':34}{'median':>11}{'p95':>11}{'count':>7}"

    def row(name: str, latency: Latency) -> str:
        return f"{name:34}{_ms(latency.median_us):>11}{_ms(latency.p95_us):>11}{latency.count:>7}"

    alone = result.audited_statements.median_us
    together = {kind: latency.median_us for kind, latency in ca.statements.items()}
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
        f"  throughput ratio {result.concurrent_ratio:.2f}x; in the driver, audited: audit "
        f"statement {_ms(together.get(AUDIT_STATEMENT, 0))} "
        f"({_ms(alone.get(AUDIT_STATEMENT, 0))} alone), UPDATE "
        f"{_ms(together.get(UPDATE_STATEMENT, 0))} ({_ms(alone.get(UPDATE_STATEMENT, 0))} alone)",
        f"statements per write (BEGIN, COMMIT included): "
        f"{len(result.plain_statements.kinds)} without, "
        f"{len(result.audited_statements.kinds)} audited; round trip "
        f"{_ms(result.round_trip_us)}",
        f"sealing: {seal.events} events in {_s(seal.seal_seconds)}, "
        f"{seal.per_second:.0f} events/s (HMAC alone {_ms(seal.hmac_us)} per seal)",
        f"  predicted wait for a pass at {ca.per_second:.0f} writes/s: up to about "
        f"{_s(seal.predicted_wait_s(ca.per_second))}",
        f"  beside the worker: {seen.writes} writes at {seen.per_second:.0f}/s; lag median "
        f"{_s(seen.lag.median_us / 1e6)}, p95 {_s(seen.lag.p95_us / 1e6)}, max "
        f"{_s(seen.max_lag_us / 1e6)}; all sealed {_s(seen.drain_seconds)} after the last write",
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
    statement = audited.median_us.get(AUDIT_STATEMENT, 0.0)
    update = audited.median_us.get(UPDATE_STATEMENT, 0.0)
    return (
        f"Why: the baseline is a single UPDATE, and the audit row adds {extra} "
        f"statement{'s' if extra != 1 else ''} to it, which inserts the event and queues it "
        f"for sealing (median {_ms(statement)} in the driver, against {_ms(update)} for the "
        f"UPDATE). The audited write spends {_ms(in_driver)} more per write in the database "
        f"driver, and {_ms(elsewhere)} more outside it (building the event in Python, the "
        "on-commit hook, a larger COMMIT). No audit lock is taken and nothing is sealed "
        "in the write."
    )


def _breakdown(result: Result) -> list[str]:
    plain, audited = result.plain_statements, result.audited_statements
    return [
        "| | without audit row | audited |",
        "|---|---:|---:|",
        f"| statements per write (BEGIN and COMMIT included) | {len(plain.kinds)} | "
        f"{len(audited.kinds)} |",
        f"| mean wall time per write | {_ms(plain.total_us)} | {_ms(audited.total_us)} |",
        f"| of which inside the database driver (send, server, receive) | "
        f"{_ms(plain.in_driver_us)} | {_ms(audited.in_driver_us)} |",
        f"| of which elsewhere (ORM, COMMIT, on-commit hooks, benchmark loop) | "
        f"{_ms(plain.total_us - plain.in_driver_us)} | "
        f"{_ms(audited.total_us - audited.in_driver_us)} |",
        "",
        f"The audited write sends: {', '.join(audited.kinds)}. Median time inside the driver "
        "per statement, audited write: "
        + ", ".join(f"{kind} {_ms(us)}" for kind, us in audited.median_us.items())
        + " (the driver sends BEGIN, its own round trip, just before the first statement, "
        "so it is counted in the UPDATE's time). After COMMIT, `request_sealing` "
        f"queued a seal request (one INSERT into the task queue) after {audited.seal_requests} "
        f"of these {audited.writes} audited writes, which took {_s(audited.seconds)}: it does "
        "so at most once a second per process, as in production.",
        "",
        "Each statement's time inside the driver against the server's own time for it "
        f"(planning and execution by `EXPLAIN ANALYZE`, median of {EXPLAINS} runs, rolled "
        f"back) and one bare round trip (`SELECT 1`, {_ms(result.round_trip_us)}); the rest "
        "is the client's work (Django and psycopg turning the call into SQL text and reading "
        "the reply) and the server's work outside the plan (parsing, sending); for the "
        "UPDATE it also holds the BEGIN round trip:",
        "",
        "| statement | in the driver | on the server | round trip | the rest |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {kind} | {_ms(audited.median_us[kind])} | {_ms(audited.server_us[kind])} | "
            f"{_ms(result.round_trip_us)} | "
            f"{_ms(audited.median_us[kind] - audited.server_us[kind] - result.round_trip_us)} |"
            for kind in STATEMENTS
            if kind in audited.median_us and kind in audited.server_us
        ),
    ]


def _contention(result: Result) -> list[str]:
    """Each statement's time under contention against its time on one connection."""
    alone = result.audited_statements.median_us
    plain, audited = result.concurrent_plain.statements, result.concurrent_audited.statements
    lines = [
        "Median time inside the driver per statement:",
        "",
        f"| statement | one connection, audited | {THREADS} threads, without audit row | "
        f"{THREADS} threads, audited |",
        "|---|---:|---:|---:|",
    ]
    factors: dict[str, float] = {}
    for kind, name in ((UPDATE_STATEMENT, "UPDATE"), (AUDIT_STATEMENT, "audit statement")):
        without = _ms(plain[kind].median_us) if kind in plain else "—"
        lines.append(
            f"| {name} | {_ms(alone.get(kind, 0.0))} | {without} | "
            f"{_ms(audited[kind].median_us) if kind in audited else '—'} |"
        )
        if kind in audited and alone.get(kind):
            factors[kind] = audited[kind].median_us / alone[kind]
    if len(factors) == 2:
        update, audit = factors[UPDATE_STATEMENT], factors[AUDIT_STATEMENT]
        if audit <= 1.1 * update:
            compared = "no more than"
        elif audit <= 1.5 * update:
            compared = "about as much as"
        else:
            compared = "more than"
        lines += [
            "",
            f"Under contention the UPDATE took {update:.1f}x its one-connection time and the "
            f"audit statement {audit:.1f}x. The time inside the driver includes waiting for "
            "the interpreter lock and for a core; the audit statement slows down "
            f"{compared} each thread's UPDATE of its own row"
            + (
                ", so the audited writers are not waiting on each other."
                if compared != "more than"
                else "."
            ),
        ]
    return lines


def _sealing_lines(result: Result) -> list[str]:
    seal, seen, between = result.sealing, result.observed, result.sealing.between
    ca = result.concurrent_audited
    rates = [("one connection", _serial_rate(result)), (f"{THREADS} threads", ca.per_second)]
    lines = [
        "### Sealing",
        "",
        f"{seal.events} audited writes ({_s(seal.write_seconds)} on one connection) with no "
        "sealer running, then one timed `seal_pending()`, which sealed them into the "
        f"partnership's chain in batches of 5000: **{_s(seal.seal_seconds)}, "
        f"{seal.per_second:.0f} events/s** ({_ms(1e6 / seal.per_second)} per event; the "
        f"HMAC alone, canonical JSON and SHA-256, is {_ms(seal.hmac_us)}). For comparison, "
        f"the {between.passes} sealing passes between the timed blocks above sealed "
        f"{between.events} events in {_s(between.seconds)}, "
        f"{between.events / between.seconds:.0f} events/s, in batches of about "
        f"{between.events // max(between.passes, 1)}.",
        "",
        "The worker seals in passes: `seal_audit_log` runs when a process asks for sealing "
        "(at most once a second per process) and again a second after every pass that "
        "sealed anything. So an event waits for the next pass to start, at most about a "
        "second plus the time of the pass before, and is sealed when that pass commits, about "
        "one pass-time later. At the audited write rates measured here:",
        "",
        "| audited writes/s | sealing one second's writes | sealer busy | longest wait for a pass "
        "(predicted) |",
        "|---|---:|---:|---:|",
    ]
    for name, rate in rates:
        lines.append(
            f"| {rate:.0f} ({name}) | {_ms(seal.pass_s(rate) * 1e6)} | "
            f"{seal.pass_s(rate):.0%} | about {_s(seal.predicted_wait_s(rate))} |"
        )
    lines += [
        "",
        f"The sealer keeps up while the audited write rate stays below {seal.per_second:.0f} "
        "events/s for one partnership's chain (chains are sealed one after another by one "
        "worker).",
        "",
        f"Observed with the real worker: {THREADS} threads wrote audited for "
        f"{LAG_SECONDS:.0f} s while `db_worker` ran in its own process with production's task "
        f"settings: {seen.writes} writes, **{seen.per_second:.0f} writes/s**, against "
        f"{ca.per_second:.0f} in the shorter rounds above with no worker running (here the "
        "worker shares the two cores with the writers and the server). The lag from each act "
        f"(`occurred_at`) to the start of the pass that sealed it (`sealed_at`): median "
        f"**{_s(seen.lag.median_us / 1e6)}**, p95 **{_s(seen.lag.p95_us / 1e6)}**, max "
        f"{_s(seen.max_lag_us / 1e6)}; {_s(seen.drain_seconds)} after the last write nothing "
        f"was waiting any more. The worker ran {seen.tasks} seal tasks, "
        f"{seen.tasks_sealing} of which sealed something (median "
        f"{_ms(seen.pass_median_us)} per such task, claim and bookkeeping included); "
        f"{seen.tasks_queued} were still queued when it was stopped.",
    ]
    if seen.tasks + seen.tasks_queued > 1.5 * (LAG_SECONDS + seen.drain_seconds + 1):
        lines += [
            "",
            "That is more than one pass a second: every once-a-second seal request queues a "
            "task, and every task that sealed something queues its own rerun a second later, "
            "so while writes keep coming the seal tasks multiply instead of settling to one a "
            "second. Each pass still seals everything waiting, so the lag stays short, but "
            "the worker spends more of its time on seal tasks the longer writing goes on.",
        ]
    lines += [
        "",
        f"Audit log after the run, checked by `audit.chain.verify`: {_chain_line(result)}.",
    ]
    return lines


def markdown(result: Result, *, date: str, machine: dict[str, str]) -> str:
    """The section of RESULTS.md for this benchmark."""
    s, v = result.serial, result.service
    cp, ca = result.concurrent_plain, result.concurrent_audited
    order = ", ".join("audited" if audited else "without" for audited in THREAD_ORDER)
    serial_rate = {False: 1e6 / s.plain.mean_us, True: _serial_rate(result)}
    lines = [
        f"## {TITLE}",
        "",
        f"Measured {date} in {result.seconds:.0f} s. Written by `make bench`; do not edit by hand.",
        "",
        "The write: an admin records a user's training (`training_level`, `training_date`) "
        "in `transaction.atomic()`, as `partnership.services.user_update` does; the audited "
        "variant adds `audit_record(...)` in the same transaction: one statement that inserts "
        "the event and queues it for sealing, and an on-commit request for sealing.",
        "",
        "Sealing is measured separately, not inside the write. The test settings seal inline "
        "after every commit, which production never does, so the benchmark process runs with "
        "production's task settings instead (tasks queued in the database, sealing requested "
        "at most once a second per process). No worker runs while writes are timed; between "
        "timed blocks the benchmark calls `seal_pending()` itself, untimed, as the worker "
        "would, so the queue of waiting events stays short.",
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
        f"The previous design measured **{PREVIOUS_RATIO:.2f}x** on this benchmark: each "
        "audited write locked its partnership's chain head row (`SELECT ... FOR UPDATE`), "
        "sealed its own event and moved the head, "
        f"{PREVIOUS_EXTRA_STATEMENTS} extra statements per audited write (9 against 3), and "
        "concurrent writers in one partnership queued on that lock. Because an event is "
        "written on every read of another agency's data, that lock serialised every audited "
        "act of a partnership, reads included, and the design asks that the audit chain "
        "never become such a lock. So the audit log was redesigned: writers only append, "
        "and a background worker, the only one to take the chain lock, seals committed "
        "events into the chain shortly after commit.",
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
        f"writes per thread (after {THREAD_WARMUP} warm-up writes) ran in the order {order}, "
        "with the events sealed between rounds. Writers take no audit lock.",
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
        "threads share one Python interpreter lock and, here, the two cores with the server.",
    ]
    lines += ["", *_contention(result), "", *_sealing_lines(result)]
    if machine.get("PostgreSQL durability", "").startswith("fsync=off"):
        lines += [
            "",
            "The benchmark server runs without durable commits (fsync and synchronous_commit "
            "off). A durable server adds a WAL flush to every commit, the same for both "
            "variants, so there the absolute times are higher and the ratio likely lower.",
        ]
    return "\n".join(lines) + "\n"
