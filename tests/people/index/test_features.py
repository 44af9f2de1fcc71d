"""Bad input is accepted but flagged, and never crashes the matcher."""

from __future__ import annotations

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.people.index import synthetic
from accord.people.index.features import (
    FEATURE_COLUMNS,
    RAW_FIELDS,
    derive,
    derive_columns,
    describe,
    nhs_check_digit_ok,
)
from accord.people.index.model import BLOCKING_RULES, COMPARISONS

SECRET = b"test-secret"
TODAY = datetime.date(2026, 11, 23)


def _derive(**raw):
    return derive(raw, premise_secret=SECRET, today=TODAY)


def test_a_clean_identity_has_no_problems_and_folds_names_and_nicknames():
    features, problems = _derive(
        given_names="Lizzie Jane",
        family_name="O'Example-Smyth",
        date_of_birth=datetime.date(1990, 3, 4),
        gender="female",
        phone="+44 7700 900123",
        email="Liz.Example@Example.invalid",
        nhs_number="943 476 5919",
        postcode="zz1 4xa",
        address_line="12 Acacia Rd",
    )
    assert problems == []
    assert features["given"] == "lizzie" and features["given_key"] == "elizabeth"
    assert features["family"] == "oexamplesmyth"
    assert features["dob_swap"] == "1990-04-03"
    assert features["phone"] == "07700900123"
    assert features["postcode"] == "ZZ14XA" and features["postcode_sector"] == "ZZ1 4"
    assert features["nhs_number"] == "9434765919"
    # The first line of the address is kept only as a keyed hash, equal for "Rd"/"Road".
    same, _ = _derive(address_line="12  acacia road")
    assert features["premise"] == same["premise"] and "acacia" not in features["premise"]


def test_each_kind_of_bad_input_is_flagged_with_its_field():
    cases = {
        "no_name": {"given_names": "", "family_name": ""},
        "name_placeholder": {"given_names": "Unknown", "family_name": "Example"},
        "date_of_birth_impossible": {"date_of_birth": "1990-02-30"},
        "postcode_malformed": {"postcode": "ZZZ 12"},
        "phone_malformed": {"phone": "12345678"},
        "email_malformed": {"email": "not an email"},
        "nhs_number_malformed": {"nhs_number": "12345"},
        "nhs_number_check_digit": {"nhs_number": "9434765918"},
    }
    for code, raw in cases.items():
        features, problems = _derive(**{"given_names": "Ada", "family_name": "Example", **raw})
        assert code in problems, code
        assert describe([code])[0].field in {
            "family_name",
            "given_names",
            "date_of_birth",
            "postcode",
            "phone",
            "email",
            "nhs_number",
        }
    # A date on or before 1 January 1900 (the usual placeholder) or in the future is
    # impossible too; the next day is a date.
    for born in (datetime.date(1850, 1, 1), datetime.date(1900, 1, 1), datetime.date(2030, 1, 1)):
        features, problems = _derive(given_names="Ada", date_of_birth=born)
        assert "date_of_birth_impossible" in problems and features["dob"] is None
    features, problems = _derive(given_names="Ada", date_of_birth=datetime.date(1900, 1, 2))
    assert not problems and features["dob"] == "1900-01-02"
    # A failing NHS number is not compared at all: a wrong number would count against
    # a true match far more than a missing one.
    features, _ = _derive(nhs_number="9434765918")
    assert features["nhs_number"] is None


def test_the_nhs_check_digit():
    assert nhs_check_digit_ok("9434765919")
    assert not nhs_check_digit_ok("9434765918")
    assert not nhs_check_digit_ok("943476591")
    assert not nhs_check_digit_ok("94347659x9")


_text = st.text(max_size=30)
# Any of an identity's raw fields, each arbitrary text (a date of birth also a date).
_identity = st.fixed_dictionaries(
    {},
    optional={
        field: st.one_of(st.dates(), _text, st.none()) if field == "date_of_birth" else _text
        for field in RAW_FIELDS
    },
)


@settings(max_examples=300, deadline=None)
@given(
    _identity,
    st.fixed_dictionaries({"given_names": _text, "postcode": _text}),
)
def test_no_input_crashes_the_features_the_blocking_or_the_comparisons(raw, other):
    features, problems = derive(raw, premise_secret=SECRET, today=TODAY)
    assert set(features) == set(FEATURE_COLUMNS)
    assert all(value is None or isinstance(value, str) for value in features.values())
    assert all(describe([code]) for code in problems)
    right, _ = derive(other, premise_secret=SECRET, today=TODAY)
    for rule in BLOCKING_RULES:
        rule.keys(features)
        rule.holds(features, right)
    for comparison in COMPARISONS:
        assert any(level.test(features, right) for level in comparison.levels)


def _columns_of(records):
    raw = {field: [record.get(field) for record in records] for field in RAW_FIELDS}
    columns = derive_columns(raw, premise_secret=SECRET, today=TODAY)
    return [{column: columns[column][i] for column in FEATURE_COLUMNS} for i in range(len(records))]


def test_a_missing_value_from_a_pandas_frame_is_missing_not_the_word_nan():
    import pandas as pd

    frame = pd.DataFrame(
        [
            {"given_names": "Ada", "family_name": "Otherby", "date_of_birth": "1990-02-03"},
            {"given_names": float("nan"), "family_name": float("nan"), "date_of_birth": None},
        ]
    )
    frame["date_of_birth"] = pd.to_datetime(frame["date_of_birth"])
    row = frame.to_dict("records")[1]
    assert row["given_names"] != row["given_names"]  # NaN, as read from a file
    assert row["date_of_birth"] is pd.NaT
    features, problems = derive(row, premise_secret=SECRET, today=TODAY)
    assert (features, problems) == derive({}, premise_secret=SECRET, today=TODAY)
    assert features["given"] is None and features["dob"] is None


def test_many_identities_at_once_have_the_features_each_has_alone():
    records = synthetic.generate(300, seed=5, household_heavy=True)
    records += [{"given_names": "Unknown", "date_of_birth": "31/02/1990", "nhs_number": "123"}]
    expected = [derive(r, premise_secret=SECRET, today=TODAY)[0] for r in records]
    assert _columns_of(records) == expected


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        _identity,
        max_size=8,
    )
)
def test_arbitrary_identities_at_once_have_the_features_each_has_alone(records):
    expected = [derive(r, premise_secret=SECRET, today=TODAY)[0] for r in records]
    assert _columns_of(records) == expected
