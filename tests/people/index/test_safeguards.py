"""The safeguards on pairs that agree only because one record lacks a field."""

from __future__ import annotations

from accord.people.index.features import FEATURE_COLUMNS
from accord.people.index.safeguards import (
    LEFT,
    RIGHT,
    ambiguous,
    conflicting,
    contradicted,
    linkable,
    names_and_dates_differ,
    vague_sides,
)


def _features(**values):
    features = dict.fromkeys(FEATURE_COLUMNS)
    features.update(given="dawn", given_key="dawn", family="pateltest")
    features.update(values)
    return features


MOTHER = _features(dob="1971-03-02")
MOTHER_AGAIN = _features(given="dwan", dob="1971-03-02")
DAUGHTER = _features(dob="1998-05-06")
NO_DATE = _features()


def _linked(*pairs):
    """Pairs at or above the link threshold, with their vague sides, as callers give them."""
    everyone = {"m": MOTHER, "m2": MOTHER_AGAIN, "d": DAUGHTER, "v": NO_DATE, "p": NO_DATE}
    return [(a, b, vague_sides(everyone[a], everyone[b])) for a, b in pairs], everyone


def test_a_pair_agreeing_only_through_a_missing_date_is_vague_on_the_side_lacking_it():
    assert vague_sides(NO_DATE, MOTHER) == LEFT
    assert vague_sides(MOTHER, NO_DATE) == RIGHT
    assert vague_sides(NO_DATE, NO_DATE) == LEFT | RIGHT
    assert vague_sides(MOTHER, MOTHER_AGAIN) == 0
    # An identifier both share makes it no guess.
    shared = {"nhs_number": "9434765919"}
    assert vague_sides({**NO_DATE, **shared}, {**MOTHER, **shared}) == 0
    # A missing given name with the same date of birth is vague too.
    assert vague_sides(_features(given=None, given_key=None, dob="1998-05-06"), DAUGHTER) == LEFT


def test_a_record_without_a_date_as_like_a_mother_as_her_namesake_daughter_is_ambiguous():
    linked, everyone = _linked(("m", "v"), ("d", "v"), ("m", "m2"))
    assert conflicting(MOTHER, DAUGHTER)
    assert ambiguous(linked, everyone) == {("m", "v"), ("d", "v")}


def test_a_record_without_a_date_and_no_namesake_in_conflict_is_not_ambiguous():
    # Only the mother's records: nothing says it is anyone else's.
    linked, everyone = _linked(("m", "v"), ("m2", "v"), ("m", "m2"))
    assert ambiguous(linked, everyone) == set()
    # Nor with another record without a date, linked to it and to the mother: no two
    # of the records either is linked to conflict.
    linked, everyone = _linked(("m", "v"), ("v", "p"), ("m", "p"))
    assert ambiguous(linked, everyone) == set()
    # Nor does the daughter linked to one of the mother's records (a pair the
    # safeguard would refuse anyway): only what the undated record is linked to counts.
    linked, everyone = _linked(("m", "v"), ("d", "m2"))
    assert ambiguous(linked, everyone) == set()


def test_every_vague_pair_of_a_record_linked_to_two_in_conflict_is_ambiguous():
    """Linked to the mother and the daughter, and to another record without a date that
    is linked to the daughter: refusing only its pairs with the two would leave it
    chained to the daughter through the other undated record."""
    linked, everyone = _linked(("m", "v"), ("d", "v"), ("v", "p"), ("p", "d"))
    assert vague_sides(NO_DATE, NO_DATE) == LEFT | RIGHT
    # The other undated record's pair with the daughter is no guess: the two records it
    # is linked to (her and the daughter) do not conflict.
    assert ambiguous(linked, everyone) == {("m", "v"), ("d", "v"), ("v", "p")}
    # An identifier the mother's record shares with it makes that pair no guess
    # (not vague), while its other vague pairs are still refused.
    shared = {"nhs_number": "9434765919"}
    everyone = {**everyone, "m": {**MOTHER, **shared}, "v": {**NO_DATE, **shared}}
    linked = [(a, b, vague_sides(everyone[a], everyone[b])) for a, b, _ in linked]
    assert ambiguous(linked, everyone) == {("d", "v"), ("v", "p")}


def test_twins_make_a_record_without_a_given_name_ambiguous():
    one = _features(given="amytest", given_key="amytest", dob="2001-03-04")
    other = _features(given="bethtest", given_key="bethtest", dob="2001-03-04")
    nameless = _features(given=None, given_key=None, dob="2001-03-04")
    everyone = {"a": one, "b": other, "n": nameless}
    linked = [(x, "n", vague_sides(everyone[x], nameless)) for x in ("a", "b")]
    assert all(sides == RIGHT for *_, sides in linked)
    assert ambiguous(linked, everyone) == {("a", "n"), ("b", "n")}


def test_identifiers_that_differ_make_a_pair_agreeing_through_a_missing_date_unlinkable():
    mother = {**MOTHER, "nhs_number": "9434765919"}
    other_number = {**NO_DATE, "nhs_number": "4010232137"}
    assert contradicted(mother, other_number)
    assert not linkable(mother, other_number)
    assert vague_sides(mother, other_number) == 0
    # A police reference a typo apart is not a contradiction.
    typo = ({**MOTHER, "police_id": "ZZ0100011"}, {**NO_DATE, "police_id": "ZZ0100021"})
    assert not contradicted(*typo) and linkable(*typo)
    far = ({**MOTHER, "police_id": "ZZ0100011"}, {**NO_DATE, "police_id": "ZZ0177311"})
    assert contradicted(*far) and not linkable(*far)
    # Where given name and date of birth agree, differing identifiers are the score's
    # to weigh, not a safeguard.
    again = {**MOTHER_AGAIN, "nhs_number": "4010232137"}
    assert not contradicted(mother, again) and linkable(mother, again)


def test_given_names_and_dates_that_both_differ_mark_how_a_household_looks():
    son = _features(given="jorytest", given_key="jorytest", dob="2014-09-01")
    assert names_and_dates_differ(MOTHER, son)
    assert not names_and_dates_differ(MOTHER, DAUGHTER)  # same given name
    assert not names_and_dates_differ(MOTHER, _features(given="jorytest", dob="1971-03-02"))
    shared = {"nhs_number": "9434765919"}
    assert not names_and_dates_differ({**MOTHER, **shared}, {**son, **shared})
