"""The three matchers, each run in a child process of its own.

A child loads the records (without their truth), converts them to the matcher's input,
notes its peak memory so far (the data's share), runs the matcher under a clock and
writes the predicted same-person pairs and its measurements to a file. Running each in
a fresh process is what makes the peak memory one matcher's own, and keeps DuckDB's
and pandas' caches from helping the next one.
"""

from __future__ import annotations

import inspect
import os
import pickle
import re
import resource
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.linkage.data import as_records, read_input

SPLINK_PREDICT_THRESHOLD = 0.2  # as in Splink's published FEBRL examples
SPLINK_CLUSTER_THRESHOLD = 0.99
SPLINK_U_MAX_PAIRS = 1e7
SPLINK_SEED = 2
DETERMINISTIC_RECALL = 0.8
JARO_WINKLER = 0.85  # recordlinkage's documented string threshold
# Other link thresholds at which Accord and Splink are also scored on the small sets
# (FEBRL), after the clock: published FEBRL figures are often read at lower thresholds,
# and the index's own default (IndexSettings.link_at) is 0.999.
SWEEP_THRESHOLDS = (0.5, 0.9, 0.999)
assert SPLINK_CLUSTER_THRESHOLD not in SWEEP_THRESHOLDS  # the main tables' own threshold

# What a matcher found worth reporting besides its pairs; each child process has its own.
EXTRAS: dict[str, Any] = {}
AFTER: list[Callable[[], None]] = []  # run after the clock stops and memory is read
SWEEP: list[bool] = [False]  # whether this child also scores at SWEEP_THRESHOLDS


def _peak_kb() -> int:
    """This process's peak resident memory, in KiB.

    `VmHWM` belongs to the process's own address space, so it starts afresh in a
    spawned child. `ru_maxrss` does not: Linux carries it over from the parent through
    fork and exec, so a child of a parent holding a million records would report the
    parent's memory as its own.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _django() -> None:
    """Accord's modules may import Django models: set Django up without a database.

    Nothing here queries a database but the online path (which needs PostgreSQL);
    SQLite in memory only satisfies the settings when the benchmark runs without
    `bin/with-postgres`.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
    import django

    django.setup()


def _source_of(record: dict[str, Any]) -> str:
    return str(record["agency"])


# --- Accord ---------------------------------------------------------------------------


def accord_available() -> str | None:
    """None when Accord's batch matcher imports, else why not."""
    try:
        _django()
        from accord.people.index.batch import link_records  # noqa: F401
    except Exception as error:  # an import failing for any reason means: not there yet
        return f"{type(error).__name__}: {error}"
    return None


def run_accord(frame: Any, link_type: str) -> tuple[Callable[[], set[tuple[str, str]]], str]:
    _django()
    from accord.people.index.batch import link_records

    records = as_records(frame)
    parameters = inspect.signature(link_records).parameters
    kwargs: dict[str, Any] = {}
    note = "dedupe_only over both files (link_records has no link_type yet)"
    main = {"link_at": SPLINK_CLUSTER_THRESHOLD}
    if "link_type" in parameters:
        kwargs["link_type"] = link_type
        if "source_of" in parameters:
            kwargs["source_of"] = _source_of if link_type == "link_only" else None
        note = f"link_type={link_type}"
    _sweep_accord(link_records, records, kwargs)
    return lambda: set(link_records(records, **main, **kwargs)), note


def run_accord_alone(frame: Any, link_type: str) -> tuple[Callable[[], set[tuple[str, str]]], str]:
    """Accord's model without the household safeguard: what the safeguard costs on
    data without families (FEBRL) and what it saves on data with them."""
    _django()
    from accord.people.index.batch import link_records

    records = as_records(frame)
    note = "safeguard off; dedupe_only over both files"
    _sweep_accord(link_records, records, {"safeguard": False})
    return lambda: set(
        link_records(records, link_at=SPLINK_CLUSTER_THRESHOLD, safeguard=False)
    ), note


def _sweep_accord(link_records: Any, records: Any, kwargs: dict[str, Any]) -> None:
    """After the clock, when asked: the same matcher's pairs at each other threshold
    (trained afresh each time with the same seed, so on the same model)."""
    if not SWEEP[0]:
        return

    def sweep() -> None:
        EXTRAS["pairs_by_threshold"] = {
            at: set(link_records(records, link_at=at, **kwargs)) for at in SWEEP_THRESHOLDS
        }

    AFTER.append(sweep)


# --- Splink ---------------------------------------------------------------------------

_LEADING_NUMBER = re.compile(r"^\s*(?:flat\s+\d+\s*,\s*)?(\d+[a-z]?)\b\s*(.*)$", re.IGNORECASE)


def splink_frame(frame: Any) -> Any:
    """The light cleaning Splink's tutorials do before linking: lower-case names, the
    first given name, dates as ISO strings, postcode without spaces, digits only for
    numbers, the house number apart from the street."""
    import pandas as pd

    def blank(series: Any) -> Any:
        return series.where(series.astype(bool), None)

    given = frame["given_names"].fillna("").str.strip().str.lower().str.split().str[0]
    address = frame["address_line"].fillna("").str.strip().str.lower()
    parts = address.str.extract(_LEADING_NUMBER)
    phone = frame["phone"].fillna("").str.replace(r"\D", "", regex=True)
    phone = phone.where(~phone.str.startswith("44"), "0" + phone.str[2:])
    dob = frame["date_of_birth"].map(lambda d: d.isoformat() if d is not None else None)
    out = pd.DataFrame(
        {
            "unique_id": frame["record_id"],
            "source_dataset": frame["agency"],
            "given_name": blank(given.fillna("")),
            "family_name": blank(frame["family_name"].fillna("").str.strip().str.lower()),
            "date_of_birth": dob,
            "street_number": blank(parts[0].fillna("")),
            "address": blank(parts[1].fillna(address)),
            "postcode": blank(frame["postcode"].fillna("").str.upper().str.replace(" ", "")),
            "police_id": blank(frame["police_id"].fillna("").str.strip().str.upper()),
            "nhs_number": blank(frame["nhs_number"].fillna("").str.replace(r"\D", "", regex=True)),
            "phone": blank(phone),
            "email": blank(frame["email"].fillna("").str.strip().str.lower()),
        }
    )
    return out


def splink_settings(columns_present: set[str], link_type: str) -> tuple[Any, list[Any]]:
    """Settings in the style of Splink's published FEBRL examples, plus the identifiers
    and contact details a dataset has (FEBRL has none of NHS number and email)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on
    from splink.blocking_rule_library import CustomRule

    comparisons: list[Any] = [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("family_name").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison(
            "date_of_birth",
            input_is_string=True,
            datetime_format="%Y-%m-%d",
            invalid_dates_as_null=True,
        ),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
            term_frequency_adjustments=True
        ),
    ]
    blocking: list[Any] = [
        block_on("given_name", "family_name"),
        CustomRule("l.given_name = r.family_name and l.family_name = r.given_name"),
        block_on("date_of_birth"),
        block_on("street_number", "address"),
        block_on("postcode"),
    ]
    deterministic: list[Any] = [block_on("given_name", "family_name", "date_of_birth")]
    if "police_id" in columns_present:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("police_id", [1, 2]))
        blocking.append(block_on("police_id"))
        deterministic.append(block_on("police_id"))
    if "nhs_number" in columns_present:
        comparisons.append(cl.ExactMatch("nhs_number"))
        blocking.append(block_on("nhs_number"))
        deterministic.append(block_on("nhs_number"))
    if "phone" in columns_present:
        comparisons.append(cl.ExactMatch("phone"))
        blocking.append(block_on("phone"))
    if "email" in columns_present:
        comparisons.append(cl.EmailComparison("email"))
        blocking.append(block_on("email"))
    settings = SettingsCreator(
        link_type="link_only" if link_type == "link_only" else "dedupe_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
        retain_intermediate_calculation_columns=False,
    )
    return settings, deterministic


def run_splink(frame: Any, link_type: str) -> tuple[Callable[[], set[tuple[str, str]]], str]:
    import logging

    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    prepared = splink_frame(frame)
    present = {c for c in prepared.columns if prepared[c].notna().any()}

    def link() -> set[tuple[str, str]]:
        settings, deterministic = splink_settings(present, link_type)
        connection = duckdb.connect()
        connection.execute("SET enable_progress_bar = false")  # quiet, not faster
        db_api = DuckDBAPI(connection=connection)
        if link_type == "link_only":
            tables = [
                db_api.register(part.reset_index(drop=True), table_name=f"source_{name}")
                for name, part in prepared.groupby("source_dataset", sort=True)
            ]
            linker = Linker(tables, settings, log_level=logging.WARNING)
        else:
            table = db_api.register(prepared.drop(columns=["source_dataset"]))
            linker = Linker(table, settings, log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(
            deterministic, recall=DETERMINISTIC_RECALL
        )
        linker.training.estimate_u_using_random_sampling(
            max_pairs=SPLINK_U_MAX_PAIRS, seed=SPLINK_SEED
        )
        for rule in ("date_of_birth", "postcode"):
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(rule), estimate_without_term_frequencies=True
            )
        predictions = linker.inference.predict(threshold_match_probability=SPLINK_PREDICT_THRESHOLD)

        def clustered(at: float) -> set[tuple[str, str]]:
            clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=at
            ).as_pandas_dataframe()
            return _cluster_pairs(clusters["cluster_id"], clusters["unique_id"])

        pairs = clustered(SPLINK_CLUSTER_THRESHOLD)

        def explain() -> None:
            """What explains the result, taken after the clock and the memory reading."""
            EXTRAS["m_disagree"] = _m_of_disagreement(linker, ("given_name", "date_of_birth"))
            scored = predictions.as_pandas_dataframe()
            strong = scored[scored["match_probability"] >= SPLINK_CLUSTER_THRESHOLD]
            EXTRAS["pairs_before_clustering"] = {
                (a, b) if a < b else (b, a)
                for a, b in zip(strong["unique_id_l"], strong["unique_id_r"], strict=True)
            }
            if SWEEP[0]:
                EXTRAS["pairs_by_threshold"] = {at: clustered(at) for at in SWEEP_THRESHOLDS}

        AFTER.append(explain)
        return pairs

    return link, f"{len(present) - 2} columns compared or blocked on"


def _m_of_disagreement(linker: Any, names: tuple[str, ...]) -> dict[str, float]:
    """The trained m of each named comparison's last level ("all other comparisons"):
    how often the model believes a true match disagrees on that field."""
    found: dict[str, float] = {}
    for comparison in linker._settings_obj.comparisons:
        name = comparison.output_column_name
        levels = comparison.comparison_levels
        if name in names and levels and levels[-1].m_probability is not None:
            found[name] = float(levels[-1].m_probability)
    return found


def _cluster_pairs(cluster_ids: Any, record_ids: Any) -> set[tuple[str, str]]:
    """Every pair of records that share a cluster."""
    import itertools

    members: dict[Any, list[str]] = {}
    for cluster, record in zip(cluster_ids, record_ids, strict=True):
        members.setdefault(cluster, []).append(str(record))
    return {
        (a, b) if a < b else (b, a)
        for ids in members.values()
        if len(ids) > 1
        for a, b in itertools.combinations(ids, 2)
    }


# --- recordlinkage --------------------------------------------------------------------


def run_recordlinkage(frame: Any, link_type: str) -> tuple[Callable[[], set[tuple[str, str]]], str]:
    import recordlinkage

    prepared = splink_frame(frame).set_index("unique_id")
    present = {c for c in prepared.columns if prepared[c].notna().any()}

    def link() -> set[tuple[str, str]]:
        indexer = recordlinkage.Index()
        indexer.block(["given_name", "family_name"])
        indexer.block(["family_name", "date_of_birth"])
        indexer.block(["given_name", "date_of_birth"])
        indexer.block("postcode")
        for identifier in ("police_id", "nhs_number"):
            if identifier in present:
                indexer.block(identifier)
        compare = recordlinkage.Compare()
        for name in ("given_name", "family_name"):
            compare.string(name, name, method="jarowinkler", threshold=JARO_WINKLER, label=name)
        compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
        compare.exact("street_number", "street_number", label="street_number")
        compare.string("address", "address", threshold=JARO_WINKLER, label="address")
        compare.exact("postcode", "postcode", label="postcode")
        for name in ("police_id", "nhs_number", "phone", "email"):
            if name in present:
                compare.exact(name, name, label=name)
        if link_type == "link_only":
            sources = sorted(prepared["source_dataset"].unique())
            left = prepared[prepared["source_dataset"] == sources[0]]
            right = prepared[prepared["source_dataset"] == sources[1]]
            candidates = indexer.index(left, right)
            features = compare.compute(candidates, left, right)
        else:
            candidates = indexer.index(prepared)
            features = compare.compute(candidates, prepared)
        classifier = recordlinkage.ECMClassifier(binarize=None)
        matches = classifier.fit_predict(features)
        return {(a, b) if a < b else (b, a) for a, b in matches}

    return link, "indexer: union of blocks"


MATCHERS: dict[str, Callable[[Any, str], tuple[Callable[[], set[tuple[str, str]]], str]]] = {
    "accord": run_accord,
    "accord_alone": run_accord_alone,
    "splink": run_splink,
    "recordlinkage": run_recordlinkage,
}


def child(matcher: str, data_path: str, link_type: str, out_path: str, sweep: bool = False) -> None:
    """A child process's whole life: load, prepare, link under a clock, write. With
    `sweep`, Accord and Splink are also scored at SWEEP_THRESHOLDS, after the clock."""
    outcome: dict[str, Any]
    SWEEP[0] = sweep
    try:
        frame = read_input(data_path)
        link, note = MATCHERS[matcher](frame, link_type)
        data_kb = _peak_kb()
        started = time.perf_counter()
        pairs = link()
        seconds = time.perf_counter() - started
        peak_kb = _peak_kb()
        for after in AFTER:
            after()
        outcome = {
            "pairs": pairs,
            "seconds": seconds,
            "peak_kb": peak_kb,
            "data_kb": data_kb,
            "note": note,
            "extras": EXTRAS,
        }
    except Exception:
        outcome = {"error": traceback.format_exc(limit=8), "peak_kb": _peak_kb()}
    with Path(out_path).open("wb") as handle:
        pickle.dump(outcome, handle, pickle.HIGHEST_PROTOCOL)


# --- the online path ------------------------------------------------------------------


def online_hook_available() -> str | None:
    """None when the online benchmark can run here, else why not: it needs
    `bench.linkage.online` to import and the database to be PostgreSQL (the production
    database, where the candidate index lives), which `bin/with-postgres` provides."""
    try:
        _django()
        from django.db import connection

        from bench.linkage.online import NEEDS_POSTGRES, online_benchmark  # noqa: F401
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    if connection.vendor != "postgresql":
        return NEEDS_POSTGRES
    return None


def online_child(data_path: str, out_path: str) -> None:
    """Accord's online matching, measured against a person index built from these
    records: `bench.linkage.online.online_benchmark`, whose docstring gives the method
    (which identities arrive, how many, what is timed, Splink's per-record paths as the
    baseline). It returns a mapping with at least `p50_ms` and `p99_ms`; the benchmark
    reports it with the child's wall time and peak memory (the load of the index
    included).
    """
    outcome: dict[str, Any]
    try:
        _django()
        from bench.linkage.online import online_benchmark

        records = as_records(read_input(data_path))
        started = time.perf_counter()
        measured = dict(online_benchmark(records))
        outcome = {
            "measured": measured,
            "seconds": time.perf_counter() - started,
            "peak_kb": _peak_kb(),
        }
    except Exception:
        outcome = {"error": traceback.format_exc(limit=8), "peak_kb": _peak_kb()}
    with Path(out_path).open("wb") as handle:
        pickle.dump(outcome, handle, pickle.HIGHEST_PROTOCOL)
