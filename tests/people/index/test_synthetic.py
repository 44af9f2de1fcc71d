"""The synthetic people: deterministic, fictional by construction, and hard in the right ways.

The matcher is trained and benchmarked on this data, so its truth must be complete and its
errors must occur at the rates the module promises; if they drift, the benchmark measures
something else without saying so.
"""

from __future__ import annotations

import collections
import datetime
import re

import pytest

from accord.people.index import synthetic
from accord.people.index.features import nhs_check_digit, nhs_check_digit_ok

N = 4000


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return synthetic.generate(N, seed=7, annotate=True)


@pytest.fixture(scope="module")
def heavy() -> list[dict]:
    return synthetic.generate(N, seed=7, household_heavy=True)


def _rate(records: list[dict], error: str) -> float:
    return sum(error in record["errors"] for record in records) / len(records)


def test_the_same_seed_gives_the_same_records(records: list[dict]) -> None:
    again = synthetic.generate(N, seed=7, annotate=True)
    assert again == records
    other = synthetic.generate(N, seed=8, annotate=True)
    assert other != records


def test_every_record_has_the_fields_and_the_truth(records: list[dict]) -> None:
    for record in records:
        assert set(synthetic.FIELDS) <= set(record)
        assert record["person"].startswith("P")
        assert record["agency"] in synthetic.AGENCIES
        assert record["gender"] in {"female", "male", "other", "not_known"}
        dob = record["date_of_birth"]
        assert dob is None or isinstance(dob, datetime.date)
        for key in synthetic.FIELDS:
            if key not in {"household", "date_of_birth"}:
                assert isinstance(record[key], str)
    assert len({record["record_id"] for record in records}) == len(records)
    persons = {record["person"] for record in records}
    assert len(persons) == N
    assert 1.3 <= len(records) / N <= 1.6


def test_the_true_nhs_number_always_passes_its_check_digit(records: list[dict]) -> None:
    numbers = [r for r in records if r["nhs_number"]]
    assert len(numbers) > N / 4
    for record in numbers:
        assert re.fullmatch(r"9\d{9}", record["nhs_number"])  # the range never issued
        valid = nhs_check_digit_ok(record["nhs_number"])
        assert valid == nhs_check_digit_ok(record["nhs_number"])
        assert valid == ("nhs_mistyped" not in record["errors"])
    # One number per person, never shared between persons.
    by_number: dict[str, set[str]] = collections.defaultdict(set)
    for record in numbers:
        if "nhs_mistyped" not in record["errors"]:
            by_number[record["nhs_number"]].add(record["person"])
    assert all(len(owners) == 1 for owners in by_number.values())


def test_nhs_check_digit() -> None:
    # The worked example of the NHS number's modulus-11 check.
    assert nhs_check_digit("943476591") == 9
    assert nhs_check_digit_ok("9434765919")
    assert not nhs_check_digit_ok("9434765918")


@pytest.mark.parametrize(
    ("error", "low", "high"),
    [
        ("given_typo", 0.015, 0.05),
        ("family_typo", 0.015, 0.05),
        ("nickname", 0.03, 0.12),
        ("swapped_names", 0.003, 0.025),
        ("former_surname", 0.01, 0.07),
        ("dob_swapped", 0.002, 0.015),
        ("dob_wrong_day", 0.006, 0.03),
        ("dob_wrong_year", 0.006, 0.03),
        ("dob_missing", 0.02, 0.08),
        ("nhs_mistyped", 0.002, 0.015),
        ("moved", 0.015, 0.08),
        ("postcode_malformed", 0.003, 0.02),
        ("no_name", 0.0003, 0.01),
    ],
)
def test_errors_occur_at_their_rates(records: list[dict], error: str, low: float, high: float):
    assert low <= _rate(records, error) <= high


def test_some_records_are_impossible_or_empty(records: list[dict]) -> None:
    nameless = [r for r in records if not r["given_names"] and not r["family_name"]]
    assert nameless
    impossible = [
        r
        for r in records
        if r["date_of_birth"]
        and not datetime.date(1900, 1, 2) <= r["date_of_birth"] <= synthetic.REFERENCE_DATE
    ]
    assert impossible
    assert any(not r["phone"] for r in records)
    assert any(not r["email"] for r in records)
    assert any(not r["postcode"] for r in records)


def test_postcodes_phones_and_emails_are_fictional(records: list[dict]) -> None:
    areas = "|".join(synthetic.POSTCODE_AREAS)
    well_formed = re.compile(rf"^({areas})\d{{1,2}} \d[A-Z]{{2}}$")
    postcodes = [r for r in records if r["postcode"]]
    for record in postcodes:
        assert record["postcode"].upper().startswith(synthetic.POSTCODE_AREAS)
    clean = [r for r in postcodes if not {"postcode_malformed"} & set(r["errors"])]
    assert sum(bool(well_formed.match(r["postcode"])) for r in clean) / len(clean) > 0.9
    for record in records:
        if record["phone"]:
            digits = re.sub(r"\D", "", record["phone"])
            assert digits.startswith(("04", "444"))  # the unallocated 04 range
        if record["email"]:
            assert record["email"].rsplit("@", 1)[1] in synthetic.EMAIL_DOMAINS
        if record["police_id"]:
            assert record["police_id"].startswith("ZZ/")


def test_no_famous_full_name_is_produced() -> None:
    for record in synthetic.generate(20000, seed=3):
        assert f"{record['given_names']} {record['family_name']}".lower() not in synthetic.FAMOUS


def test_households_share_surname_address_and_phone(records: list[dict]) -> None:
    share = sum(r["household"] is not None for r in records) / len(records)
    assert 0.25 <= share <= 0.45
    clean = [r for r in records if r["household"] and not r["errors"] and r["postcode"]]
    by_household: dict[str, list[dict]] = collections.defaultdict(list)
    for record in clean:
        by_household[record["household"]].append(record)
    shared_postcode = shared_surname = multi = 0
    for members in by_household.values():
        if len({m["person"] for m in members}) < 2:
            continue
        multi += 1
        shared_postcode += len({m["postcode"].upper().replace(" ", "") for m in members}) == 1
        shared_surname += len({m["family_name"].upper() for m in members}) == 1
    assert multi > 100
    assert shared_postcode / multi > 0.95
    assert shared_surname / multi > 0.5


def test_twins_juniors_and_namesakes_exist() -> None:
    records = synthetic.generate(20000, seed=11, household_heavy=True, annotate=True)
    people: dict[str, dict] = {}
    for record in records:
        if not record["errors"]:  # each person as recorded without errors
            people.setdefault(record["person"], record)
    by_household: dict[str, list[dict]] = collections.defaultdict(list)
    for person in people.values():
        if person["household"]:
            by_household[person["household"]].append(person)
    twins = juniors = 0
    for members in by_household.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if a["date_of_birth"] and a["date_of_birth"] == b["date_of_birth"]:
                    twins += 1
                if (
                    a["given_names"].split()[:1] == b["given_names"].split()[:1]
                    and a["family_name"] == b["family_name"]
                    and a["date_of_birth"] != b["date_of_birth"]
                ):
                    juniors += 1
    assert twins > 20
    assert juniors > 10
    names = collections.Counter(
        (p["given_names"].upper(), p["family_name"].upper()) for p in people.values()
    )
    assert sum(count for count in names.values() if count > 1) > 100  # strangers alike


def test_household_heavy_puts_most_people_in_households(heavy: list[dict]) -> None:
    share = sum(r["household"] is not None for r in heavy) / len(heavy)
    assert share > 0.85
    assert len(synthetic.household_pairs(heavy)) > len(synthetic.true_pairs(heavy))


def test_true_pairs_and_household_pairs() -> None:
    records: list[dict[str, str | None]] = [
        {"record_id": "R1", "person": "P1", "household": "H1"},
        {"record_id": "R2", "person": "P1", "household": "H1"},
        {"record_id": "R3", "person": "P2", "household": "H1"},
        {"record_id": "R4", "person": "P3", "household": None},
    ]
    assert synthetic.true_pairs(records) == {("R1", "R2")}
    assert synthetic.household_pairs(records) == {("R1", "R3"), ("R2", "R3")}


def test_frame_matches_the_records() -> None:
    frame = synthetic.generate_frame(500, seed=5)
    records = synthetic.generate(500, seed=5)
    assert list(frame.columns) == list(synthetic.FIELDS)
    assert frame.to_dict("records") == records
