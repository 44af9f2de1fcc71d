"""The batch matcher on records outside the database: its linkable pairs, its
clustering under the household safeguard, and the whole of `link_records`."""

from __future__ import annotations

import itertools

from accord.people.index import synthetic
from accord.people.index.batch import (
    BENCH_SECRET,
    SAFEGUARD_COLUMNS,
    _predicted,
    _Rows,
    cluster_pairs,
    features_arrow,
    link_records,
    without_ambiguous,
)
from accord.people.index.features import FEATURE_COLUMNS, RAW_FIELDS, derive_columns
from accord.people.index.model import load_model
from accord.people.index.safeguards import (
    LEFT,
    RIGHT,
    VAGUE_LEVELS,
    ambiguous,
    birth_name_position,
    contradicted,
    linkable,
    vague_sides,
)


def _truth(records):
    by_person, by_household = {}, {}
    for record in records:
        by_person.setdefault(record["person"], []).append(record["record_id"])
        if record["household"] is not None:
            by_household.setdefault(record["household"], []).append(record)
    same = {
        tuple(sorted(pair)) for ids in by_person.values() for pair in itertools.combinations(ids, 2)
    }
    household = {
        tuple(sorted((a["record_id"], b["record_id"])))
        for members in by_household.values()
        for a, b in itertools.combinations(members, 2)
        if a["person"] != b["person"]
    }
    return same, household


def _predictions(records):
    """Each record's features, and Splink's pairs at 0.5 as `_predicted` gives them."""
    raw = {field: [r.get(field) for r in records] for field in RAW_FIELDS}
    columns = derive_columns(raw, premise_secret=BENCH_SECRET)
    table, _ = features_arrow(raw, premise_secret=BENCH_SECRET)
    rows = [{c: columns[c][i] for c in FEATURE_COLUMNS} for i in range(len(records))]
    return rows, _predicted(table, load_model().settings, threshold=0.5)


def _scored(records):
    """The pairs as `link_records` clusters them at 0.99: ambiguous pairs not linkable."""
    rows, (left, right, probability, flags, vague) = _predictions(records)
    flags = without_ambiguous(left, right, probability, flags, vague, rows, link_at=0.99)
    scored = zip(left.tolist(), right.tolist(), probability.tolist(), flags.tolist(), strict=True)
    return rows, list(scored)


_PATELS = [
    # A household of namesakes: identifiers a typo apart, identifiers that differ, a
    # record without a date of birth, one without a given name.
    {
        "given_names": "Dawn",
        "family_name": "Pateltest",
        "date_of_birth": date,
        "phone": "07700 900123",
        "address_line": "4 Example Yard",
        "postcode": "ZZ9 9ZZ",
        "nhs_number": nhs,
        "police_id": police,
    }
    for date, nhs, police in (
        ("1971-03-02", "9434765919", "ZZ/01/00011"),
        (None, "4010232137", ""),
        (None, "", "ZZ/01/00012"),
        ("1998-05-06", "", "ZZ/01/00111"),
        (None, "", ""),
        # Undated, with the mother's NHS number: its pair with her is no guess (not
        # vague), yet it makes the record torn between her and the daughter.
        (None, "9434765919", ""),
    )
] + [{"family_name": "Pateltest", "date_of_birth": "1998-05-06", "postcode": "ZZ9 9ZZ"}]


def test_the_linkable_and_vague_flags_worked_out_in_sql_are_the_safeguards_own():
    records = synthetic.generate(1500, seed=11, household_heavy=True) + _PATELS
    rows, predicted = _predictions(records)
    pairs = list(zip(*(column.tolist() for column in predicted), strict=True))
    assert len(pairs) > 500
    assert {flag for *_, flag, _ in pairs} == {True, False}
    assert {LEFT, RIGHT} <= {sides for *_, sides in pairs}
    assert any(contradicted(rows[left], rows[right]) for left, right, *_ in pairs)
    # Both vague levels (a date of birth missing, a given name missing) are among them.
    levels = {birth_name_position(rows[left], rows[right]) for left, right, *_ in pairs}
    assert set(VAGUE_LEVELS) <= levels
    for left, right, _, flag, sides in pairs:
        assert flag == linkable(rows[left], rows[right]), (rows[left], rows[right])
        assert sides == vague_sides(rows[left], rows[right]), (rows[left], rows[right])


def test_the_ambiguous_pairs_turned_off_in_the_batch_are_the_safeguards_own():
    """`without_ambiguous` looks only at the pairs touching a record lacking a field;
    over every pair, `ambiguous` finds the same."""
    records = synthetic.generate(1500, seed=11, household_heavy=True) + _PATELS
    rows, (left, right, probability, flags, vague) = _predictions(records)
    columns = (left.tolist(), right.tolist(), probability.tolist(), flags.tolist())
    pairs = list(zip(*columns, strict=True))
    expected = ambiguous(
        ((a, b, vague_sides(rows[a], rows[b])) for a, b, p, flag in pairs if flag and p >= 0.99),
        rows,
    )
    # The undated record holding the mother's NHS number: its pair with the daughter is
    # ambiguous only because of a pair that is not vague (with the mother).
    patels = len(records) - len(_PATELS)
    mother, daughter, with_number = patels, patels + 3, patels + 5
    assert rows[with_number]["nhs_number"] == rows[mother]["nhs_number"]
    assert tuple(sorted((daughter, with_number))) in {tuple(sorted(p)) for p in expected}
    kept = without_ambiguous(left, right, probability, flags, vague, rows, link_at=0.99)
    turned_off = {
        (a, b) for (a, b, _, flag), k in zip(pairs, kept.tolist(), strict=True) if flag and not k
    }
    assert turned_off == expected


def test_the_safeguard_keeps_households_apart_where_the_model_alone_chains_them():
    records = synthetic.generate(1500, seed=12, household_heavy=True)
    same, household = _truth(records)
    rows, scored = _scored(records)
    name = {i: r["record_id"] for i, r in enumerate(records)}
    guarded = cluster_pairs(scored, rows, link_at=0.99).pairs(name.__getitem__)
    alone = cluster_pairs(scored, rows, link_at=0.99, safeguard=False).pairs(name.__getitem__)
    assert len(guarded & same) / len(guarded) >= 0.99
    # 8 false pairs before vague pairs were checked (identifiers, ambiguity), all a
    # record without a date of birth and a namesake in her household; 2 now.
    assert len(guarded - same) <= 2
    assert len(guarded & household) < len(alone & household)
    assert len(alone & household) > 0.05 * len(alone)


def _features(**values):
    features = dict.fromkeys(FEATURE_COLUMNS)
    features.update(values)
    return features


def test_a_mother_and_her_namesake_daughter_are_not_chained_through_a_shared_record():
    mother = _features(given="sarah", given_key="sarah", family="xq", dob="1980-03-04")
    mother_typo = _features(given="sara", given_key="sarah", family="xq", dob="1980-03-04")
    daughter = _features(given="sarah", given_key="sarah", family="xq", dob="2008-03-04")
    features = {"m": mother, "m2": mother_typo, "d": daughter}
    # The strongest pair joins the mother's two records; the daughter's record pairs
    # with one of them well enough to link, but it conflicts with the mother's.
    ordered = [("m", "m2", 0.9999), ("d", "m2", 0.995), ("d", "m", 0.995)]
    assert cluster_pairs(ordered, features, link_at=0.99).pairs() == {("m", "m2")}
    alone = cluster_pairs(ordered, features, link_at=0.99, safeguard=False).pairs()
    assert alone == {("m", "m2"), ("d", "m"), ("d", "m2")}


def test_link_records_finds_the_same_people_without_joining_families():
    records = synthetic.generate(2000, seed=13, household_heavy=True)
    same, household = _truth(records)
    inputs = [{k: v for k, v in r.items() if k not in ("person", "household")} for r in records]
    found = link_records(inputs)
    assert found
    assert len(found & same) / len(found) >= 0.99
    assert len(found & same) / len(same) >= 0.85
    assert len(found & household) <= 0.01 * len(found)
    assert all(a < b for a, b in found)


def test_features_go_straight_into_arrow_as_derive_columns_has_them():
    records = synthetic.generate(400, seed=13, household_heavy=True)
    records += [{"given_names": "Unknown", "date_of_birth": "31/02/1990", "nhs_number": "123"}]
    raw = {field: [r.get(field) for r in records] for field in RAW_FIELDS}
    columns = derive_columns(raw, premise_secret=BENCH_SECRET)
    table, coded = features_arrow(raw, premise_secret=BENCH_SECRET, keep=SAFEGUARD_COLUMNS)
    assert table.column_names == ["unique_id", *FEATURE_COLUMNS]
    assert table.column("unique_id").to_pylist() == list(range(len(records)))
    for column in FEATURE_COLUMNS:
        assert table.column(column).to_pylist() == columns[column], column
    rows = _Rows(coded)
    assert len(rows) == len(records)
    for i in range(len(records)):
        assert rows[i] == {c: columns[c][i] for c in SAFEGUARD_COLUMNS}
