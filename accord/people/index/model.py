"""The person-index model: comparisons, blocking rules, training and its artefact.

One definition serves both paths. Each comparison level is written once as portable
SQL (for Splink, on DuckDB or Spark) beside the same test in Python (for the online
scorer), and `tests/people/index/test_scorer.py` holds the two to each other: on a
sample of pairs, the online score equals Splink's prediction to 1e-6.

The comparisons (docs/matching.md explains each level):

- family name: exact (term-frequency adjusted), given and family names swapped, one
  or two letters different, same sound (Soundex);
- given name and date of birth together: in a household these two are what tell a
  mother from her daughter and one twin from the other, and they are not independent
  of each other there, so one comparison carries both (same name and date; nickname
  or typo with the same date; a date typo or day/month swap; the date missing; the
  same date with a different name (twins); the same name with a different date (a
  parent and a child named after them));
- postcode (exact, term-frequency adjusted; same sector; same district), the first
  line of the address (keyed hash, exact), phone (exact; one digit different), email
  (exact; same user name; up to two characters different), NHS number, police
  identifier, gender.

Training (`train`): u by random sampling, m by expectation maximisation in two
sessions blocked on different fields (and a third on the NHS number where enough
records share one), the prior from deterministic rules. The result
is stored as a versioned JSON artefact in `artefacts/` with a description of the data
it was trained on (counts and completeness, never the data itself).
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jellyfish

from accord.people.index.features import FEATURE_COLUMNS, Features

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
CURRENT_VERSION = "person-v3"

Test = Callable[[Features, Features], bool]


def _eq(column: str) -> Test:
    def test(left: Features, right: Features) -> bool:
        value = left[column]
        return value is not None and value == right[column]

    return test


def _cross_eq(left_column: str, right_column: str) -> Test:
    def test(left: Features, right: Features) -> bool:
        value = left[left_column]
        return value is not None and value == right[right_column]

    return test


def _lev(column: str, at_most: int) -> Test:
    def test(left: Features, right: Features) -> bool:
        a, b = left[column], right[column]
        return a is not None and b is not None and jellyfish.levenshtein_distance(a, b) <= at_most

    return test


def dl1(column: str, right_column: str | None = None) -> Test:
    """One edit or two neighbouring characters swapped (Damerau-Levenshtein at most 1),
    between a column on the left and the same (or `right_column`) on the right."""

    def test(left: Features, right: Features) -> bool:
        a, b = left[column], right[right_column or column]
        return a is not None and b is not None and jellyfish.damerau_levenshtein_distance(a, b) <= 1

    return test


def dl1_sql(left: str, right: str) -> str:
    """Damerau-Levenshtein at most 1, in SQL. The same as `damerau_levenshtein(l, r) <= 1`
    (a swap of neighbours keeps the length and is two Levenshtein edits), but the slow
    function only runs on the few pairs the fast one leaves in doubt."""
    return (
        f"(levenshtein({left}, {right}) <= 1 OR (length({left}) = length({right})"
        f" AND levenshtein({left}, {right}) = 2 AND damerau_levenshtein({left}, {right}) <= 1))"
    )


def _missing(column: str) -> Test:
    def test(left: Features, right: Features) -> bool:
        return left[column] is None or right[column] is None

    return test


def _all(*tests: Test) -> Test:
    return lambda left, right: all(test(left, right) for test in tests)


def _any(*tests: Test) -> Test:
    return lambda left, right: any(test(left, right) for test in tests)


@dataclass(frozen=True)
class Level:
    label: str
    sql: str
    test: Test
    null: bool = False
    tf_column: str | None = None


@dataclass(frozen=True)
class Comparison:
    name: str
    title: str
    levels: tuple[Level, ...]
    columns: tuple[str, ...] = field(default=())


def _null(column: str) -> Level:
    return Level(
        "Missing on one side",
        f"{column}_l IS NULL OR {column}_r IS NULL",
        _missing(column),
        null=True,
    )


def _exact(column: str, label: str = "Exact match", tf: bool = False) -> Level:
    return Level(label, f"{column}_l = {column}_r", _eq(column), tf_column=column if tf else None)


def _lev_level(column: str, at_most: int, label: str) -> Level:
    return Level(label, f"levenshtein({column}_l, {column}_r) <= {at_most}", _lev(column, at_most))


ELSE = Level("All other", "ELSE", lambda left, right: True)

_SWAPPED_SQL = "(given_l = family_r OR family_l = given_r)"
_swapped = _any(_cross_eq("given", "family"), _cross_eq("family", "given"))
# Across a transposition one crossing is the family name and the other the given name.
# The given names agree only when both crossings do (one exactly, the other the same or
# one letter off): when only one name is crossed ("Pemcroft, Samantha" against "Donna
# Pemcroft"), that crossing is the family name agreeing, and the given names (Samantha,
# Donna) were never compared. In a household every member would otherwise have a
# "similar given name" to any other member's record with the names transposed.
_TRANSPOSED_SQL = (
    f"((given_l = family_r AND {dl1_sql('family_l', 'given_r')})"
    f" OR (family_l = given_r AND {dl1_sql('given_l', 'family_r')}))"
)


_transposed = _any(
    _all(_cross_eq("given", "family"), dl1("family", "given")),
    _all(_cross_eq("family", "given"), dl1("given", "family")),
)


def _long_typo(left: Features, right: Features) -> bool:
    a, b = left["given"], right["given"]
    return (
        a is not None
        and b is not None
        and len(a) >= 5
        and len(b) >= 5
        and jellyfish.levenshtein_distance(a, b) <= 2
    )


def _shortened(left: Features, right: Features) -> bool:
    a, b = left["given"], right["given"]
    if a is None or b is None or len(a) < 3 or len(b) < 3:
        return False
    return a.startswith(b) or b.startswith(a)


def _initial(left: Features, right: Features) -> bool:
    a, b = left["given"], right["given"]
    return a is not None and b is not None and (len(a) == 1 or len(b) == 1) and a[0] == b[0]


def _same_month(left: Features, right: Features) -> bool:
    a, b = left["dob"], right["dob"]
    return a is not None and b is not None and a[:7] == b[:7]


_GIVEN_LIKE_SQL = (
    f"(given_key_l = given_key_r OR {dl1_sql('given_l', 'given_r')}"
    " OR (levenshtein(given_l, given_r) <= 2 AND length(given_l) >= 5 AND length(given_r) >= 5)"
    " OR ((length(given_l) = 1 OR length(given_r) = 1)"
    " AND substr(given_l, 1, 1) = substr(given_r, 1, 1))"
    " OR (length(given_l) >= 3 AND length(given_r) >= 3"
    " AND (substr(given_l, 1, length(given_r)) = given_r"
    " OR substr(given_r, 1, length(given_l)) = given_l))"
    f" OR {_TRANSPOSED_SQL})"
)
_given_like = _any(_eq("given_key"), dl1("given"), _long_typo, _initial, _shortened, _transposed)
_DOB_NEAR_SQL = (
    f"(dob_l = dob_swap_r OR {dl1_sql('dob_l', 'dob_r')}"
    " OR substr(dob_l, 1, 7) = substr(dob_r, 1, 7))"
)
_dob_near = _any(_cross_eq("dob", "dob_swap"), dl1("dob"), _same_month)
_DOB_MISSING_SQL = "(dob_l IS NULL OR dob_r IS NULL)"
_GIVEN_MISSING_SQL = "(given_l IS NULL OR given_r IS NULL)"

COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "family_name",
        "Family name",
        (
            _null("family"),
            _exact("family", tf=True),
            Level("Given and family names swapped", _SWAPPED_SQL, _swapped),  # one side suffices
            _lev_level("family", 1, "One letter different"),
            _lev_level("family", 2, "Two letters different"),
            _exact("family_key", "Sounds the same"),
            ELSE,
        ),
        ("family", "family_key", "given"),
    ),
    Comparison(
        "given_name_and_birth",
        "Given name and date of birth",
        (
            Level(
                "Both missing on one side",
                f"{_GIVEN_MISSING_SQL} AND {_DOB_MISSING_SQL}",
                _all(_missing("given"), _missing("dob")),
                null=True,
            ),
            Level(
                "Same given name, same date of birth",
                "given_l = given_r AND dob_l = dob_r",
                _all(_eq("given"), _eq("dob")),
            ),
            Level(
                "Nickname or typo of the given name, same date of birth",
                f"{_GIVEN_LIKE_SQL} AND dob_l = dob_r",
                _all(_given_like, _eq("dob")),
            ),
            Level(
                "Same or similar given name, date of birth mistyped or day and month swapped",
                f"{_GIVEN_LIKE_SQL} AND {_DOB_NEAR_SQL}",
                _all(_given_like, _dob_near),
            ),
            Level(
                "Same or similar given name, date of birth missing",
                f"{_GIVEN_LIKE_SQL} AND {_DOB_MISSING_SQL}",
                _all(_given_like, _any(_missing("dob"))),
            ),
            Level(
                "Same date of birth, given name missing",
                f"dob_l = dob_r AND {_GIVEN_MISSING_SQL}",
                _all(_eq("dob"), _missing("given")),
            ),
            Level(
                "Same date of birth, different given name (twins?)",
                "dob_l = dob_r",
                _eq("dob"),
            ),
            Level(
                "Same or similar given name, different date of birth",
                _GIVEN_LIKE_SQL,
                _given_like,
            ),
            Level(
                "Date of birth mistyped or swapped, different or missing given name",
                _DOB_NEAR_SQL,
                _dob_near,
            ),
            Level("Different given name and date of birth", "ELSE", ELSE.test),
        ),
        ("given", "given_key", "family", "dob", "dob_swap"),
    ),
    Comparison(
        "postcode",
        "Postcode",
        (
            _null("postcode"),
            _exact("postcode", tf=True),
            _exact("postcode_sector", "Same postcode sector"),
            _exact("postcode_district", "Same postcode district"),
            Level(
                "One character different or two swapped",
                dl1_sql("postcode_l", "postcode_r"),
                dl1("postcode"),
            ),
            ELSE,
        ),
        ("postcode", "postcode_sector", "postcode_district"),
    ),
    Comparison(
        "address",
        "First line of address",
        (_null("premise"), _exact("premise"), ELSE),
        ("premise",),
    ),
    Comparison(
        "phone",
        "Phone",
        (_null("phone"), _exact("phone"), _lev_level("phone", 1, "One digit different"), ELSE),
        ("phone",),
    ),
    Comparison(
        "email",
        "Email",
        (
            _null("email"),
            _exact("email"),
            _exact("email_user", "Same user name"),
            _lev_level("email", 2, "Up to two characters different"),
            ELSE,
        ),
        ("email", "email_user"),
    ),
    Comparison(
        "nhs_number",
        "NHS number",
        (_null("nhs_number"), _exact("nhs_number"), ELSE),
        ("nhs_number",),
    ),
    Comparison(
        "police_id",
        "Police identifier",
        (
            _null("police_id"),
            _exact("police_id"),
            Level(
                "One character different or two swapped",
                dl1_sql("police_id_l", "police_id_r"),
                dl1("police_id"),
            ),
            ELSE,
        ),
        ("police_id",),
    ),
    Comparison("gender", "Gender", (_null("gender"), _exact("gender"), ELSE), ("gender",)),
)


@dataclass(frozen=True)
class BlockingRule:
    """Pairs agreeing on all of `columns` are compared. `swap` pairs a date of birth
    with the other side's day/month swap instead of with itself; `crossed` also asks
    that one side's given name be the other's family name (names transposed)."""

    name: str
    columns: tuple[str, ...]
    swap: bool = False
    crossed: bool = False

    @property
    def sql(self) -> list[str]:
        """The rule as Splink blocking rules, each a join on equalities. A crossed rule
        is two (her given name his family name, or her family name his given name):
        with the two in one OR, the database could join on the date alone and filter
        millions of pairs. Over ordered pairs the two give exactly the pairs `holds`
        keeps."""
        parts = [f"l.{column} = r.{column}" for column in self.columns]
        if self.swap:
            parts.insert(0, "l.dob_swap = r.dob")
        if self.crossed:
            return [
                " AND ".join([crossing, *parts])
                for crossing in ("l.given = r.family", "l.family = r.given")
            ]
        return [" AND ".join(parts)]

    def holds(self, left: Features, right: Features) -> bool:
        if self.swap and (left["dob_swap"] is None or left["dob_swap"] != right["dob"]):
            return False
        if self.crossed and not _swapped(left, right):
            return False
        return all(
            left[column] is not None and left[column] == right[column] for column in self.columns
        )

    def keys(self, features: Features) -> list[tuple[str, ...]]:
        """The candidate-index keys under which this record is stored and probed.

        A swap rule is symmetric (if her swapped date is his date, his swapped date
        is hers), so each record is stored under both its date and its swapped date
        and both are probed; `holds` removes the pairs the rule would not produce.
        A crossed rule likewise stores and probes each record under its given name
        and under its family name, in one space, so her given name meets his family
        name; `holds` keeps only the pairs whose names are crossed.
        """
        values = [value for column in self.columns if (value := features[column]) is not None]
        if len(values) < len(self.columns):
            return []
        if self.swap:
            dates = [date for date in (features["dob"], features["dob_swap"]) if date is not None]
            return [(self.name, date, *values) for date in dates]
        if self.crossed:
            names = [name for name in (features["given"], features["family"]) if name is not None]
            return [(self.name, name, *values) for name in names]
        return [(self.name, *values)]


BLOCKING_RULES: tuple[BlockingRule, ...] = (
    BlockingRule("nhs", ("nhs_number",)),
    BlockingRule("dob_family", ("dob", "family_key")),
    BlockingRule("dob_given", ("dob", "given_key")),
    BlockingRule("swap_family", ("family_key",), swap=True),
    BlockingRule("postcode_given", ("postcode", "given_key")),
    BlockingRule("dob_postcode", ("dob", "postcode")),
    BlockingRule("family_postcode", ("family_key", "postcode")),
    BlockingRule("phone", ("phone",)),
    BlockingRule("email", ("email",)),
    BlockingRule("police", ("police_id",)),
    BlockingRule("names_year", ("family_key", "given_key", "dob_year")),
    # Names transposed, on the same date of birth. (With the postcode too, it found 8 more
    # of FEBRL3's 6,538 true pairs, but Splink's blocking then joins fifteen times and
    # outgrew the batch's memory bound on household-heavy data.)
    BlockingRule("crossed_dob", ("dob",), crossed=True),
)

# Deterministic rules for the prior (probability that two random records match).
PRIOR_RULES = (
    "l.nhs_number = r.nhs_number",
    "l.given = r.given AND l.family = r.family AND l.dob = r.dob",
    "l.email = r.email AND l.dob = r.dob",
)
PRIOR_RECALL = 0.7
EM_BLOCKING_RULES = (
    "l.dob = r.dob AND l.given_key = r.given_key",
    "l.postcode = r.postcode AND l.family_key = r.family_key",
)
# Pairs sharing an NHS number are almost all the same person, whatever their names: the
# only block in which names transposed are seen among matches (the two above need the
# given name or the family name to agree). It runs where it holds enough pairs to teach
# m something (a partnership without health agencies has few NHS numbers); the
# artefact says whether it ran. The two above between them estimate every comparison.
EM_IDENTIFIER_RULE = "l.nhs_number = r.nhs_number"
EM_PAIRS_AT_LEAST = 1000


def _pairs_blocked(table: Any, rule: str) -> int:
    """How many pairs of the records a blocking rule produces."""
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    counted = count_comparisons_from_blocking_rules(
        table, blocking_rules=rule, link_type="dedupe_only", record_sample_proportion=1.0
    )
    return int(counted[0]["marginal_comparison_count"])


def prediction_blocking() -> list[dict[str, str]]:
    """The blocking rules as Splink takes them. They are code, not trained: an artefact
    does not keep them, and every model predicts over the code's rules, the same ones
    the candidate index applies online."""
    return [{"blocking_rule": sql} for rule in BLOCKING_RULES for sql in rule.sql]


def splink_settings(link_type: str = "dedupe_only") -> dict[str, Any]:
    """The untrained model as a Splink settings dictionary."""
    comparisons = []
    for comparison in COMPARISONS:
        levels = []
        for level in comparison.levels:
            entry: dict[str, Any] = {"sql_condition": level.sql, "label_for_charts": level.label}
            if level.null:
                entry["is_null_level"] = True
            if level.tf_column:
                entry["tf_adjustment_column"] = level.tf_column
                entry["tf_adjustment_weight"] = 1.0
            levels.append(entry)
        comparisons.append(
            {
                "output_column_name": comparison.name,
                "comparison_description": comparison.title,
                "comparison_levels": levels,
            }
        )
    return {
        "link_type": link_type,
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": 1e-6,
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": prediction_blocking(),
        "retain_intermediate_calculation_columns": False,
        "retain_matching_columns": False,
    }


TF_COLUMNS: tuple[str, ...] = tuple(
    sorted({level.tf_column for c in COMPARISONS for level in c.levels if level.tf_column})
)


@dataclass(frozen=True)
class TrainedLevel:
    label: str
    weight: float  # log2(m/u); 0 for the null level
    tf_column: str | None
    log2_u_exact: float | None  # for the term-frequency adjustment


@dataclass(frozen=True)
class Model:
    """A trained model's parameters, as the online scorer needs them."""

    version: str
    prior_weight: float
    levels: tuple[tuple[TrainedLevel, ...], ...]  # per comparison, in COMPARISONS order
    settings: dict[str, Any]
    description: dict[str, Any]

    def u_exact(self, column: str) -> float:
        """u of the exact-match level whose term frequency adjusts on `column`."""
        for trained in self.levels:
            for level in trained:
                if level.tf_column == column and level.log2_u_exact is not None:
                    return float(2**level.log2_u_exact)
        raise KeyError(column)


def _level_weight(entry: Mapping[str, Any]) -> float:
    if entry.get("is_null_level"):
        return 0.0
    m, u = entry.get("m_probability"), entry.get("u_probability")
    if m is None or u is None:
        raise ValueError(f"The level '{entry.get('label_for_charts')}' is not trained.")
    return math.log2(max(m, 1e-300) / max(u, 1e-300))


def model_from_settings(
    settings: dict[str, Any], *, version: str, description: dict[str, Any]
) -> Model:
    """Read a trained Splink settings dictionary into the scorer's parameters."""
    by_name = {c["output_column_name"]: c for c in settings["comparisons"]}
    levels: list[tuple[TrainedLevel, ...]] = []
    for comparison in COMPARISONS:
        entries = by_name[comparison.name]["comparison_levels"]
        if [e["sql_condition"] for e in entries] != [level.sql for level in comparison.levels]:
            raise ValueError(f"The artefact's '{comparison.name}' levels are not this code's.")
        exact_u = {
            level.tf_column: entry.get("u_probability")
            for level, entry in zip(comparison.levels, entries, strict=True)
            if level.tf_column
        }
        levels.append(
            tuple(
                TrainedLevel(
                    label=level.label,
                    weight=_level_weight(entry),
                    tf_column=level.tf_column,
                    log2_u_exact=(math.log2(exact_u[level.tf_column]) if level.tf_column else None),
                )
                for level, entry in zip(comparison.levels, entries, strict=True)
            )
        )
    prior = settings["probability_two_random_records_match"]
    settings = {**settings, "blocking_rules_to_generate_predictions": prediction_blocking()}
    return Model(
        version=version,
        prior_weight=math.log2(prior / (1 - prior)),
        levels=tuple(levels),
        settings=settings,
        description=description,
    )


def artefact_path(version: str) -> Path:
    return ARTEFACTS / f"{version}.json"


@cache
def load_model(version: str = CURRENT_VERSION) -> Model:
    """The stored, trained model of this version."""
    data = json.loads(artefact_path(version).read_text(encoding="utf-8"))
    return model_from_settings(
        data["splink_settings"], version=data["version"], description=data["training_data"]
    )


def _fill_unobserved(settings: dict[str, Any], u_pairs: float) -> list[str]:
    """Give a level the training data never showed explicit, cautious parameters.

    A level not seen among the random pairs gets u at most one in the pairs sampled;
    a level not seen among the likely matches gets m equal to its u, a weight of
    zero: neither evidence for nor against. The artefact lists such levels.
    """
    filled = []
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            missing = [k for k in ("m_probability", "u_probability") if level.get(k) is None]
            if not missing:
                continue
            if level.get("u_probability") is None:
                level["u_probability"] = 1.0 / u_pairs
            if level.get("m_probability") is None:
                level["m_probability"] = level["u_probability"]
            filled.append(
                f"{comparison['output_column_name']}: {level['label_for_charts']} "
                f"({', '.join(k[0] for k in missing)} not observed)"
            )
    return filled


def duckdb_api() -> Any:
    """A Splink DuckDB backend on a connection of its own, its memory bounded.

    DuckDB would otherwise take up to four fifths of the machine's memory for its
    buffers; with a bound it spills to a temporary directory instead. The bound is
    ACCORD_INDEX_DUCKDB_MEMORY (DuckDB's notation, default "384MB": at a million
    persons the batch is about as fast as with more, and its peak stays under 2 GB).
    """
    import os

    import duckdb
    from splink import DuckDBAPI

    limit = os.environ.get("ACCORD_INDEX_DUCKDB_MEMORY", "384MB")
    return DuckDBAPI(connection=duckdb.connect(config={"memory_limit": limit}))


def train(
    frame: Any,
    *,
    version: str,
    description: str,
    seed: int = 1,
    u_max_pairs: float = 5e6,
    em_sample: float = 1.0,
    em_records_at_most: int = 300_000,
    identifier_pairs_at_least: int = EM_PAIRS_AT_LEAST,
) -> dict[str, Any]:
    """Train the model on features (FEATURE_COLUMNS + unique_id), a pandas frame or an
    Arrow table.

    Expectation maximisation sees `em_sample` of the records, but at most about
    `em_records_at_most` of them: the pairs it compares grow with the square of the
    records sampled, and a larger sample teaches m no more. The NHS-number session runs
    when at least `identifier_pairs_at_least` of its pairs are among those sampled.

    Returns the artefact: the trained Splink settings and a description of the data
    (its size and how complete each column is; never any value of it).
    """
    from splink import Linker

    db_api = duckdb_api()
    if hasattr(frame, "select"):  # an Arrow table
        table = db_api.register(frame.select(["unique_id", *FEATURE_COLUMNS]))
        records = frame.num_rows
        completeness = {
            column: round(1 - frame[column].null_count / max(records, 1), 4)
            for column in FEATURE_COLUMNS
        }
    else:  # a pandas frame
        table = db_api.register(frame[["unique_id", *FEATURE_COLUMNS]])
        records = len(frame)
        completeness = {
            column: round(float(frame[column].notna().mean()), 4) for column in FEATURE_COLUMNS
        }
    linker = Linker(table, splink_settings(), log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match(
        list(PRIOR_RULES), recall=PRIOR_RECALL
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    sample = min(em_sample, em_records_at_most / max(records, 1))
    sessions = list(EM_BLOCKING_RULES)
    # EM sees the pairs among the records it samples: about sample² of them.
    identifier_pairs = round(_pairs_blocked(table, EM_IDENTIFIER_RULE) * sample**2)
    if identifier_pairs >= identifier_pairs_at_least:
        sessions.append(EM_IDENTIFIER_RULE)
    for rule in sessions:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, record_sample_proportion=sample
        )
    settings = linker.misc.save_model_to_json()
    del settings["blocking_rules_to_generate_predictions"]  # code, not trained
    filled = _fill_unobserved(settings, u_max_pairs)
    return {
        "version": version,
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "training_data": {
            "description": description,
            "records": records,
            "completeness": completeness,
            "u": f"random sampling, up to {int(u_max_pairs)} pairs, seed {seed}",
            "m": f"expectation maximisation on {sample:.0%} of the records, blocked on: "
            + "; ".join(sessions)
            + (
                ""
                if EM_IDENTIFIER_RULE in sessions
                else f" (not on {EM_IDENTIFIER_RULE}: about {identifier_pairs} pairs sampled)"
            ),
            "prior": f"deterministic rules at recall {PRIOR_RECALL}: " + "; ".join(PRIOR_RULES),
            "levels_not_observed": filled,
        },
        "splink_settings": settings,
    }
