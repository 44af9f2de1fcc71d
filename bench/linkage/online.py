"""Matching on arrival at a million persons: each new identity against the person
index, with Splink's own per-record paths timed in the same run as the baseline.

`online_benchmark(records)` runs in the linkage benchmark's child process
(`bench.linkage.matchers.online_child`), against the PostgreSQL database the benchmark
migrated, with the main synthetic set's records. It:

1. holds out a random sample of the records (fixed seed) as the identities that
   arrive, and a few more for the warm-up. Some belong to a person another of whose
   records is in the index, so links and review items happen; the rest are new to it;
2. loads every other record into the index as the online path would have stored it:
   a `Person` of its own per record (the index has linked nothing yet, so an arrival's
   other records are separate persons: the most persons to score and decide between),
   its `Identity`, its current `Address` (lines and sealed postcode encrypted with
   `accord.core.crypto.encrypt`, row by row), its `MatchFeatures` (`features.derive`
   of what `online.raw_from_identity` reads, with `online.index_secret()`), its
   `BlockKey` rows (`candidates.keys_of`) and the partnership's `TermCount` rows. The
   load is COPY in chunks, in one transaction with foreign-key triggers off and the
   tables' secondary indexes dropped and rebuilt, then VACUUM ANALYZE;
3. times `accord.people.index.online.match_identity` for each arriving identity,
   whose `Person`, `Identity` and `Address` rows are created just before, untimed, in
   a transaction rolled back afterwards, so every arrival meets the same index. The
   call is the whole online path: features derived and stored, block keys and term
   counts written, candidates retrieved and checked, term frequencies read, every
   candidate scored, and the decision (an automatic merge or a review item included).
   The same arrivals are timed again through the services a user's request runs,
   `identity_create` and then `address_add` (each matches, so two matches, plus the
   permission checks and audit rows). A warm-up pass over other held-out records
   comes first;
4. runs Splink 5 on DuckDB with the same trained model (`load_model().settings`) over
   the same index's features, with the index's term frequencies registered (shrunk as
   the online path shrinks them): `linker.inference.predict_between(index, new)` for
   one arriving record at a time (Splink 5's successor of `find_matches_to_new_records`)
   and `linker.inference.score_pair` (the successor of `compare_two_records`) for one
   pair per arrival, each after a warm-up. For those arrivals, untimed, the pairs
   Splink's blocking finds are checked against the online path's candidates, and
   Splink's match weights against the online scorer's with the same term frequencies.

The arrivals and the Splink sample are sized by ACCORD_LINKAGE_ONLINE_SAMPLE (default
1,000) and ACCORD_LINKAGE_ONLINE_SPLINK_SAMPLE (default 30).
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import logging
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAMPLE = int(os.environ.get("ACCORD_LINKAGE_ONLINE_SAMPLE", "1000") or 1000)
SPLINK_SAMPLE = int(os.environ.get("ACCORD_LINKAGE_ONLINE_SPLINK_SAMPLE", "30") or 30)
WARMUP = 50  # held-out records matched, untimed, before the timed pass
SPLINK_WARMUP = 3
SEED = 20260503
CHUNK = 25_000  # records per COPY round while loading

PARTNERSHIP = "Linkwater"  # fictional
PASSWORD = "linkwater-fictional-password"  # nobody signs in

# The tables the load fills; their secondary indexes are dropped for it and rebuilt.
LOADED = (
    "people_person",
    "people_identity",
    "people_address",
    "people_matchfeatures",
    "people_blockkey",
    "people_termcount",
)

Log = Callable[[str], None]


def _print(message: str) -> None:
    print(f"    {message}", flush=True)


def _quantile(values: Sequence[float], q: int) -> float:
    """The q-th percentile, interpolated between the samples (never beyond them)."""
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[q - 1])


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# --- the partnership and the records as identities ---------------------------------------


@dataclass
class Setup:
    partnership_id: uuid.UUID
    agencies: dict[str, uuid.UUID]  # record's agency key -> agency id
    users: dict[str, Any]  # record's agency key -> a practitioner of that agency
    today: datetime.date = field(default_factory=datetime.date.today)


def _partnership(agency_keys: set[str]) -> Setup:
    from accord.partnership.seed import AgencySpec, UserSpec, build_partnership
    from accord.partnership.vocabulary import Role, Sector
    from accord.people.models import Identity

    sectors = {
        "police": Sector.POLICE,
        "gp": Sector.PRIMARY_HEALTH,
        "housing": Sector.HOUSING,
        "idva": Sector.SPECIALIST_DA,
        "school": Sector.EDUCATION,
        "probation": Sector.PROBATION,
        "mental_health": Sector.MENTAL_HEALTH,
    }
    specs = [
        AgencySpec(
            key,
            f"{PARTNERSHIP} {key.replace('_', ' ').title()}",
            sectors.get(key, Sector.OTHER),
            (UserSpec(f"linkwater_{key}", f"{PARTNERSHIP} {key} worker", Role.PRACTITIONER),),
        )
        for key in sorted(agency_keys)
    ]
    partnership, agencies, users = build_partnership(PARTNERSHIP, specs, password=PASSWORD)
    if Identity.objects.filter(partnership_id=partnership.id).exists():
        raise RuntimeError(
            f"The partnership {PARTNERSHIP} already has identities: the online benchmark "
            "needs a fresh database."
        )
    return Setup(
        partnership.id,
        {key: agency.id for key, agency in agencies.items()},
        {key: users[f"linkwater_{key}"] for key in agencies},
    )


@functools.cache
def _genders() -> frozenset[str]:
    from accord.people.models import Gender

    return frozenset(Gender.values)


def _squash(value: Any) -> str:
    return " ".join(str(value or "").split())


def identity_fields(record: Mapping[str, Any], today: datetime.date) -> dict[str, Any]:
    """A record's identity fields as `people.services.identity_create` would store them
    (a date of birth in the future or an NHS number that is not ten digits would be
    refused there, so they are left empty)."""
    born = record.get("date_of_birth")
    if isinstance(born, datetime.datetime):
        born = born.date()
    if not isinstance(born, datetime.date) or born > today:
        born = None
    nhs = "".join(str(record.get("nhs_number") or "").split())
    gender = str(record.get("gender") or "not_known")
    return {
        "given_names": _squash(record.get("given_names")),
        "family_name": _squash(record.get("family_name")),
        "date_of_birth": born,
        "gender": gender if gender in _genders() else "not_known",
        "phone": _squash(record.get("phone")),
        "email": str(record.get("email") or "").strip(),
        "nhs_number": nhs if nhs.isdigit() and len(nhs) == 10 else "",
        "police_id": _squash(record.get("police_id")),
        "local_id": str(record.get("record_id") or "")[:60],
    }


def address_of(record: Mapping[str, Any]) -> tuple[str, str]:
    """The record's current address as stored: its first line and normalised postcode
    (both empty when the record has none)."""
    from accord.people.models import normalise_postcode

    lines = _squash(record.get("address_line"))
    postcode = normalise_postcode(str(record.get("postcode") or ""))
    return lines, postcode if len(postcode) <= 10 else ""


def raw_of(fields: Mapping[str, Any], lines: str, postcode: str) -> dict[str, Any]:
    """What `online.raw_from_identity` reads from these stored rows."""
    raw = {
        name: fields[name]
        for name in (
            "given_names",
            "family_name",
            "date_of_birth",
            "gender",
            "phone",
            "email",
            "nhs_number",
            "police_id",
        )
    }
    raw["address_line"] = lines.splitlines()[0] if lines else ""
    raw["postcode"] = postcode
    return raw


# --- the load -----------------------------------------------------------------------------


@dataclass
class Loaded:
    identities: int = 0
    addresses: int = 0
    block_keys: int = 0
    term_counts: int = 0
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, str] = field(default_factory=dict)
    first: tuple[str, dict[str, Any]] = ("", {})  # an indexed identity's id and features


def _columns(table: str) -> str:
    return ", ".join(f'"{name}"' for name in COLUMNS[table])


COLUMNS = {
    "people_person": ("id", "partnership_id", "created_at", "merged_into_id"),
    "people_identity": (
        "id",
        "partnership_id",
        "person_id",
        "agency_id",
        "given_names",
        "family_name",
        "other_names",
        "date_of_birth",
        "gender",
        "phone",
        "email",
        "nhs_number",
        "police_id",
        "local_id",
        "recorded_by_id",
        "recorded_at",
        "updated_at",
        "may_be_shared",
    ),
    "people_address": (
        "id",
        "partnership_id",
        "identity_id",
        "person_id",
        "agency_id",
        "lines",
        "postcode",
        "postcode_sealed",
        "confidential",
        "is_current",
        "recorded_by_id",
        "recorded_at",
    ),
    "people_matchfeatures": (
        "identity_id",
        "partnership_id",
        "values",
        "problems",
        "has_problems",
        "updated_at",
    ),
    "people_blockkey": ("key", "identity_id"),
    "people_termcount": ("partnership_id", "column", "value", "count"),
}


def _copy(cursor: Any, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
    if not rows:
        return
    with cursor.copy(f"COPY {table} ({_columns(table)}) FROM STDIN") as out:
        for row in rows:
            out.write_row(row)


def _copy_keys(cursor: Any, rows: Sequence[tuple[int, str]]) -> None:
    """Block keys, many per identity: COPY's text format written directly (an integer
    and a UUID need no escaping), which is several times faster than row by row."""
    if not rows:
        return
    table = "people_blockkey"
    with cursor.copy(f"COPY {table} ({_columns(table)}) FROM STDIN") as out:
        out.write("".join(f"{key}\t{identity}\n" for key, identity in rows))


def _secondary_indexes(cursor: Any) -> list[tuple[str, str]]:
    """The loaded tables' indexes that back no constraint: (name, definition)."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname "
        "NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
        [list(LOADED)],
    )
    return [(str(name), str(definition)) for name, definition in cursor.fetchall()]


def load_index(
    records: Sequence[Mapping[str, Any]],
    held: set[int],
    setup: Setup,
    duck: Any,
    log: Log,
) -> Loaded:
    """Load every record not held out into the person index, and its features into the
    DuckDB table `index_features` for Splink."""
    import pandas as pd
    from django.db import connection, transaction
    from django.utils import timezone

    from accord.core.crypto import encrypt
    from accord.people.index.candidates import TOTAL, keys_of
    from accord.people.index.features import FEATURE_COLUMNS, derive
    from accord.people.index.model import TF_COLUMNS
    from accord.people.index.online import index_secret

    began = time.perf_counter()
    loaded = Loaded()
    secret = index_secret()
    partnership = setup.partnership_id
    now = timezone.now()
    rng = random.Random(SEED + 1)
    counts: dict[tuple[str, str], int] = {}
    duck.execute(
        "CREATE TABLE index_features (unique_id VARCHAR, "
        + ", ".join(f"{column} VARCHAR" for column in FEATURE_COLUMNS)
        + ")"
    )

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor, for COPY
        cursor.execute("SELECT current_setting('is_superuser')")
        if cursor.fetchone()[0] == "on":
            cursor.execute("SET LOCAL session_replication_role = replica")  # no FK triggers
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL max_parallel_maintenance_workers = 0")
        indexes = _secondary_indexes(cursor)
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')

        def flush(
            batch: dict[str, list[tuple[Any, ...]]], frame_rows: list[dict[str, Any]]
        ) -> None:
            for table in ("people_person", "people_identity", "people_address"):
                _copy(cursor, table, batch[table])
            _copy(cursor, "people_matchfeatures", batch["people_matchfeatures"])
            _copy_keys(cursor, batch["people_blockkey"])
            chunk = pd.DataFrame(frame_rows, columns=["unique_id", *FEATURE_COLUMNS])
            duck.register("features_chunk", chunk)
            duck.execute("INSERT INTO index_features SELECT * FROM features_chunk")
            duck.unregister("features_chunk")

        def empty() -> dict[str, list[tuple[Any, ...]]]:
            return {table: [] for table in LOADED}

        batch, frame_rows = empty(), []
        for position, record in enumerate(records):
            if position in held:
                continue
            fields = identity_fields(record, setup.today)
            lines, postcode = address_of(record)
            agency_key = str(record.get("agency") or "")
            agency, user = setup.agencies[agency_key], setup.users[agency_key].id
            person_id, identity_id = new_id(), new_id()
            batch["people_person"].append((person_id, partnership, now, None))
            batch["people_identity"].append(
                (
                    identity_id,
                    partnership,
                    person_id,
                    agency,
                    fields["given_names"],
                    fields["family_name"],
                    "",
                    fields["date_of_birth"],
                    fields["gender"],
                    fields["phone"],
                    fields["email"],
                    fields["nhs_number"],
                    fields["police_id"],
                    fields["local_id"],
                    user,
                    now,
                    now,
                    False,
                )
            )
            if lines or postcode:
                batch["people_address"].append(
                    (
                        new_id(),
                        partnership,
                        identity_id,
                        person_id,
                        agency,
                        encrypt(lines, context="people_address.lines"),
                        postcode,
                        encrypt(postcode, context="people_address.postcode_sealed"),
                        False,
                        True,
                        user,
                        now,
                    )
                )
                loaded.addresses += 1
            features, problems = derive(raw_of(fields, lines, postcode), premise_secret=secret)
            batch["people_matchfeatures"].append(
                (
                    identity_id,
                    partnership,
                    json.dumps(features),
                    json.dumps(problems),
                    bool(problems),
                    now,
                )
            )
            keys = keys_of(partnership, features)
            identity_text = str(identity_id)
            batch["people_blockkey"].extend((key, identity_text) for key in keys)
            loaded.block_keys += len(keys)
            for column in TF_COLUMNS:
                if (value := features.get(column)) is not None:
                    counts[(column, value)] = counts.get((column, value), 0) + 1
                    counts[(column, TOTAL)] = counts.get((column, TOTAL), 0) + 1
            frame_rows.append({"unique_id": identity_text, **features})
            if not loaded.first[0]:
                loaded.first = (identity_text, features)
            loaded.identities += 1
            if loaded.identities % CHUNK == 0:
                flush(batch, frame_rows)
                batch, frame_rows = empty(), []
                if loaded.identities % (CHUNK * 8) == 0:
                    log(
                        f"{loaded.identities:,} identities loaded "
                        f"({time.perf_counter() - began:.0f} s)"
                    )
        flush(batch, frame_rows)
        _copy(
            cursor,
            "people_termcount",
            [(partnership, column, value, n) for (column, value), n in sorted(counts.items())],
        )
        loaded.term_counts = len(counts)
        loaded.stages["rows"] = time.perf_counter() - began
        log(
            f"{loaded.identities:,} identities, {loaded.block_keys:,} block keys and "
            f"{loaded.term_counts:,} term counts written in {loaded.stages['rows']:.0f} s"
        )
        started = time.perf_counter()
        for _, definition in indexes:
            cursor.execute(definition)
        loaded.stages["indexes"] = time.perf_counter() - started
        log(f"{len(indexes)} secondary indexes rebuilt in {loaded.stages['indexes']:.0f} s")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in LOADED:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        loaded.stages["vacuum analyze"] = time.perf_counter() - started
        for table in ("people_identity", "people_matchfeatures", "people_blockkey"):
            cursor.execute(
                "SELECT pg_size_pretty(pg_table_size(%s)), pg_size_pretty(pg_indexes_size(%s))",
                [table, table],
            )
            heap, index = cursor.fetchone()
            loaded.sizes[table] = f"{heap} + {index} indexes"
    loaded.seconds = time.perf_counter() - began
    log(f"VACUUM ANALYZE in {loaded.stages['vacuum analyze']:.0f} s; load {loaded.seconds:.0f} s")
    return loaded


# --- the arrivals ---------------------------------------------------------------------------


@dataclass
class Queries:
    """SQL statements run and the time spent waiting for them, while counting."""

    count: int = 0
    seconds: float = 0.0

    def __call__(self, execute: Any, sql: Any, params: Any, many: Any, context: Any) -> Any:
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


@contextmanager
def _rolled_back() -> Iterator[None]:
    """A transaction that is always rolled back: the index stays as loaded."""
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _arrive(record: Mapping[str, Any], setup: Setup) -> Any:
    """The arriving identity's rows as `identity_create` and `address_add` write them
    (untimed; their audit rows and permission checks are the services path's)."""
    from accord.people.models import Address, Identity, Person

    fields = identity_fields(record, setup.today)
    lines, postcode = address_of(record)
    agency_key = str(record.get("agency") or "")
    user = setup.users[agency_key]
    person = Person.objects.create(partnership_id=setup.partnership_id)
    identity = Identity.objects.create(
        partnership_id=setup.partnership_id,
        person=person,
        agency_id=setup.agencies[agency_key],
        recorded_by=user,
        **fields,
    )
    if lines or postcode:
        Address.objects.create(
            partnership_id=setup.partnership_id,
            identity=identity,
            person_id=person.id,
            agency_id=identity.agency_id,
            lines=lines,
            postcode=postcode,
            postcode_sealed=postcode,
            recorded_by=user,
        )
    return identity


@dataclass
class Arrival:
    seconds: float
    action: str
    candidates: int
    queries: int
    query_seconds: float
    best_weight: float | None  # of the best-scoring candidate, as the online path scored it
    features: dict[str, Any]
    found: dict[str, dict[str, Any]]  # the candidates' features by identity id


def _match_one(record: Mapping[str, Any], setup: Setup, model: Any) -> Arrival:
    """One arrival through `match_identity`, timed, in a transaction rolled back."""
    from django.db import connection

    from accord.people.index import candidates as index
    from accord.people.index.online import match_identity
    from accord.people.models import MatchFeatures

    with _rolled_back():
        identity = _arrive(record, setup)
        actor = setup.users[str(record.get("agency") or "")]
        queries = Queries()  # a few microseconds a statement, inside the clock
        with connection.execute_wrapper(queries):
            started = time.perf_counter()
            outcome = match_identity(identity, actor=actor, model=model)
            seconds = time.perf_counter() - started
        # After the clock: what was matched against, to report and to check Splink by.
        features = MatchFeatures.objects.get(identity_id=identity.id).values
        found = index.candidates(setup.partnership_id, features, exclude=identity.id)
    return Arrival(
        seconds,
        outcome.action,
        len(found),
        queries.count,
        queries.seconds,
        outcome.best.match_weight if outcome.best is not None else None,
        features,
        {str(c.identity_id): c.features for c in found},
    )


def _services_one(record: Mapping[str, Any], setup: Setup) -> tuple[float, bool]:
    """One arrival through `identity_create` and `address_add` (where the address is
    one `address_add` accepts), timed, in a transaction rolled back."""
    from accord.people.models import normalise_postcode
    from accord.people.services import address_add, identity_create

    fields = identity_fields(record, setup.today)
    lines, postcode = address_of(record)
    # address_add's own test: a first line, and a postcode of up to 8 characters
    with_address = bool(lines) and 0 < len(normalise_postcode(postcode)) <= 8
    actor = setup.users[str(record.get("agency") or "")]
    with _rolled_back():
        started = time.perf_counter()
        identity = identity_create(actor=actor, **fields)
        if with_address:
            address_add(actor=actor, identity_id=identity.id, lines=lines, postcode=postcode)
        seconds = time.perf_counter() - started
    return seconds, with_address


# --- Splink ---------------------------------------------------------------------------------


def _splink(
    duck: Any,
    model: Any,
    arrivals: list[Arrival],
    warmup: list[Arrival],
    fallback: tuple[str, dict[str, Any]],
) -> dict[str, Any]:
    """Splink's predict_between and score_pair per arriving record, over the same index
    features and trained model, with the index's term frequencies registered."""
    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    from accord.people.index import candidates as index
    from accord.people.index.features import FEATURE_COLUMNS
    from accord.people.index.model import TF_COLUMNS
    from accord.people.index.scorer import score

    db_api = DuckDBAPI(connection=duck)
    table = db_api.register("index_features", table_name="index_features_input")
    linker = Linker(table, copy.deepcopy(model.settings), log_level=logging.WARNING)
    frequencies: dict[tuple[str, str], float] = {}
    for column in TF_COLUMNS:
        total = duck.execute(f"SELECT count({column}) FROM index_features").fetchone()[0]
        lookup = duck.execute(
            f"SELECT {column}, count(*) AS n FROM index_features "
            f"WHERE {column} IS NOT NULL GROUP BY {column}"
        ).df()
        lookup[f"tf_{column}"] = [
            index.shrunk(int(n), int(total), model.u_exact(column)) for n in lookup["n"]
        ]
        registered = db_api.register(lookup[[column, f"tf_{column}"]])
        linker.table_management.register_term_frequency_lookup(registered, column)
        frequencies.update(
            ((column, value), tf)
            for value, tf in zip(lookup[column], lookup[f"tf_{column}"], strict=True)
        )

    schema = pa.schema([(name, pa.string()) for name in ("unique_id", *FEATURE_COLUMNS)])

    def record(arrival: Arrival, n: int) -> dict[str, Any]:
        return {
            "unique_id": f"arriving-{n}",
            **{c: arrival.features.get(c) for c in FEATURE_COLUMNS},
        }

    def predict(arrival: Arrival, n: int) -> tuple[float, Any]:
        started = time.perf_counter()
        new = db_api.register(pa.Table.from_pylist([record(arrival, n)], schema=schema))
        found = linker.inference.predict_between(table, new, warning_mode="never")
        frame = found.as_pandas_dataframe()
        seconds = time.perf_counter() - started
        found.drop_table_from_database_and_remove_from_cache()
        new.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
        return seconds, frame

    def score_pair(arrival: Arrival, n: int) -> float:
        # its first candidate, or for an arrival without one any identity of the index
        identity_id, features = next(iter(arrival.found.items()), fallback)
        other = {"unique_id": identity_id, **features}
        started = time.perf_counter()
        scored = linker.inference.score_pair(record(arrival, n), other)
        scored.as_pandas_dataframe()
        seconds = time.perf_counter() - started
        scored.drop_table_from_database_and_remove_from_cache()
        return seconds

    def tf(column: str, value: str) -> float | None:
        return frequencies.get((column, value))

    for n, arrival in enumerate(warmup):
        predict(arrival, -1 - n)
        score_pair(arrival, -1 - n)
    predict_times, score_times = [], []
    same_pairs = pairs = equal_weights = 0
    shift = 0.0
    for n, arrival in enumerate(arrivals):
        seconds, frame = predict(arrival, n)
        predict_times.append(seconds)
        score_times.append(score_pair(arrival, n))
        # Untimed: the same pairs as the online path's candidates, and the same weights
        # as the online scorer's with the same (the index's) term frequencies.
        weights = dict(zip(map(str, frame["unique_id_l"]), frame["match_weight"], strict=True))
        same_pairs += set(weights) == set(arrival.found)
        for identity_id, splink_weight in weights.items():
            pairs += 1
            if identity_id in arrival.found:
                ours = score(model, arrival.found[identity_id], arrival.features, tf)
                equal_weights += abs(ours.match_weight - float(splink_weight)) <= 1e-6
        if arrival.best_weight is not None and weights:
            shift = max(shift, abs(max(weights.values()) - arrival.best_weight))
    return {
        "splink_predict_p50_ms": _ms(statistics.median(predict_times)),
        "splink_predict_p99_ms": _ms(_quantile(predict_times, 99)),
        "splink_predict_samples": len(predict_times),
        "splink_score_pair_p50_ms": _ms(statistics.median(score_times)),
        "splink_score_pair_p99_ms": _ms(_quantile(score_times, 99)),
        "splink_same_candidates": f"{same_pairs} of {len(arrivals)} arrivals",
        "splink_same_weights": f"{equal_weights} of {pairs} pairs",
        "splink_best_weight_shift_max": round(shift, 4),
    }


# --- the benchmark --------------------------------------------------------------------------

NEEDS_POSTGRES = "needs PostgreSQL (run under bin/with-postgres)"


def online_benchmark(
    records: Sequence[Mapping[str, Any]],
    *,
    sample: int = SAMPLE,
    splink_sample: int = SPLINK_SAMPLE,
    warmup: int = WARMUP,
    seed: int = SEED,
    log: Log = _print,
) -> dict[str, Any]:
    """p50 and p99 of `match_identity` per arriving identity against an index of the
    other records, and Splink's per-record paths over the same index (module docstring).
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        raise RuntimeError(NEEDS_POSTGRES)
    import duckdb

    from accord.people.index.model import load_model
    from accord.people.models import IndexSettings

    total = len(records)
    sample = max(1, min(sample, total // 5))
    warmup = max(1, min(warmup, total // 20))
    chosen = random.Random(seed).sample(range(total), sample + warmup)
    warm_positions, timed_positions = chosen[:warmup], chosen[warmup:]
    model = load_model()
    setup = _partnership({str(record.get("agency") or "") for record in records})
    IndexSettings.objects.get_or_create(partnership_id=setup.partnership_id)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        database = f"PostgreSQL {str(cursor.fetchone()[0]).split()[0]}"

    with tempfile.TemporaryDirectory(prefix="accord-online-") as tmp:
        duck = duckdb.connect(str(Path(tmp) / "index.duckdb"))
        duck.execute("SET enable_progress_bar = false")
        log(f"loading {total - len(chosen):,} identities into the person index ({database}) ...")
        loaded = load_index(records, set(chosen), setup, duck, log)

        log(f"warm-up: {warmup} arrivals ...")
        warm = [_match_one(records[i], setup, model) for i in warm_positions]
        for i in warm_positions:
            _services_one(records[i], setup)

        log(f"timing {sample} arrivals ...")
        arrivals: list[Arrival] = []
        services: list[float] = []
        without_address = 0
        started = time.perf_counter()
        for n, position in enumerate(timed_positions):
            record = records[position]
            if n % 2:  # alternate which path goes first
                seconds, with_address = _services_one(record, setup)
                arrivals.append(_match_one(record, setup, model))
            else:
                arrivals.append(_match_one(record, setup, model))
                seconds, with_address = _services_one(record, setup)
            services.append(seconds)
            without_address += not with_address
            if (n + 1) % 250 == 0:
                log(f"{n + 1} arrivals timed ({time.perf_counter() - started:.0f} s)")

        log(f"Splink: predict_between and score_pair for {min(splink_sample, sample)} arrivals ...")
        started = time.perf_counter()
        splink = _splink(duck, model, arrivals[:splink_sample], warm[:SPLINK_WARMUP], loaded.first)
        splink["splink_seconds"] = round(time.perf_counter() - started, 1)
        duck.close()

    times = [a.seconds for a in arrivals]
    actions = [a.action for a in arrivals]
    by_outcome: dict[str, Any] = {}
    for action in ("new", "review", "linked"):
        chosen_times = [a.seconds for a in arrivals if a.action == action]
        if chosen_times:
            by_outcome[f"{action}_p50_ms"] = _ms(statistics.median(chosen_times))
            by_outcome[f"{action}_p99_ms"] = _ms(_quantile(chosen_times, 99))
    return {
        "p50_ms": _ms(statistics.median(times)),
        "p99_ms": _ms(_quantile(times, 99)),
        "max_ms": _ms(max(times)),
        "mean_ms": _ms(statistics.fmean(times)),
        "samples": len(times),
        "warmup": warmup,
        "linked": actions.count("linked"),
        "review": actions.count("review"),
        "new": actions.count("new"),
        **by_outcome,
        "candidates_mean": round(statistics.fmean(a.candidates for a in arrivals), 1),
        "candidates_max": max(a.candidates for a in arrivals),
        "queries_mean": round(statistics.fmean(a.queries for a in arrivals), 1),
        "database_ms_mean": _ms(statistics.fmean(a.query_seconds for a in arrivals)),
        "services_p50_ms": _ms(statistics.median(services)),
        "services_p99_ms": _ms(_quantile(services, 99)),
        "services_without_address": without_address,
        **splink,
        "index_identities": loaded.identities,
        "index_addresses": loaded.addresses,
        "block_keys": loaded.block_keys,
        "term_counts": loaded.term_counts,
        "load_s": round(loaded.seconds, 1),
        "load_stages_s": {name: round(s, 1) for name, s in loaded.stages.items()},
        "table_sizes": loaded.sizes,
        "database": database,
        "model": model.version,
    }
