"""What the matcher compares of an identity, and what is wrong with it.

`derive` turns an identity, as an agency recorded it, into the flat values the model
compares (names folded to plain letters, the nickname key, the date of birth and its
day/month swap, postcode parts, a keyed hash of the first address line, digits of the
phone, the email, a checked NHS number, the police identifier) and lists its
data-quality problems. Batch (Splink) and online (the scorer) both read these values,
so the two never see different inputs.

Bad input is accepted, because real agencies hold it, but flagged: a record with no
name, an impossible date of birth, a malformed postcode, phone or email, or an NHS
number that fails its check digit. A value that cannot be trusted is left out of the
comparison (treated as missing) rather than compared: a wrong NHS number would count
against a true match far more than a missing one.

A confidential address never reaches this module (see `online.raw_from_identity`).
"""

from __future__ import annotations

import datetime
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jellyfish

from accord.people.index.nicknames import canonical

FEATURE_COLUMNS: tuple[str, ...] = (
    "given",
    "given_key",
    "family",
    "family_key",
    "dob",
    "dob_swap",
    "dob_year",
    "gender",
    "postcode",
    "postcode_sector",
    "postcode_district",
    "premise",
    "phone",
    "email",
    "email_user",
    "nhs_number",
    "police_id",
)

Features = dict[str, str | None]


@dataclass(frozen=True)
class Problem:
    code: str
    field: str
    message: str


PROBLEMS: dict[str, tuple[str, str]] = {
    "no_name": ("family_name", "No name is recorded."),
    "name_placeholder": ("given_names", "The name is a placeholder (such as 'Unknown')."),
    "date_of_birth_impossible": ("date_of_birth", "The date of birth is impossible."),
    "postcode_malformed": ("postcode", "The postcode is not in UK format."),
    "phone_malformed": ("phone", "The phone number is not a UK number of 10 or 11 digits."),
    "email_malformed": ("email", "The email address is malformed."),
    "nhs_number_malformed": ("nhs_number", "The NHS number is not 10 digits."),
    "nhs_number_check_digit": ("nhs_number", "The NHS number fails its check digit."),
}

_PLACEHOLDER_NAMES = frozenset(
    {"unknown", "unk", "notknown", "nk", "baby", "infant", "xxx", "xx", "x", "anon", "none"}
)
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])([A-Z]{2})$")
_STREET_WORDS = {
    "rd": "road",
    "st": "street",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "cl": "close",
    "dr": "drive",
    "cres": "crescent",
    "ct": "court",
    "pl": "place",
    "sq": "square",
    "gdns": "gardens",
    "tce": "terrace",
}
# No one alive was born on or before this day, and 1 January 1900 is the date agency
# systems put where the date of birth is unknown: two records carrying it agree on
# nothing, so it is flagged and not compared.
EARLIEST_BIRTH = datetime.date(1900, 1, 1)


def fold(value: Any) -> str:
    """Plain lower-case letters: accents dropped, everything but a-z removed."""
    text = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", text.lower())


def nhs_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit of nine digits (weights 10..2), or None where the
    remainder gives 10, which no NHS number is issued with."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def nhs_check_digit_ok(number: str) -> bool:
    """Whether a ten-digit string passes the NHS number's check digit."""
    if len(number) != 10 or not number.isdigit():
        return False
    return nhs_check_digit(number[:9]) == int(number[9])


def _given(raw: Mapping[str, Any], problems: list[str]) -> str | None:
    tokens = str(raw.get("given_names") or "").split()
    given = fold(tokens[0]) if tokens else ""
    if given in _PLACEHOLDER_NAMES:
        problems.append("name_placeholder")
        return None
    return given or None


def _family(raw: Mapping[str, Any], problems: list[str]) -> str | None:
    family = fold(raw.get("family_name"))
    if family in _PLACEHOLDER_NAMES:
        if "name_placeholder" not in problems:
            problems.append("name_placeholder")
        return None
    return family or None


def _dob(raw: Mapping[str, Any], problems: list[str], today: datetime.date) -> datetime.date | None:
    value = raw.get("date_of_birth")
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        try:
            value = datetime.date.fromisoformat(str(value).strip())
        except ValueError:
            problems.append("date_of_birth_impossible")
            return None
    if not EARLIEST_BIRTH < value <= today:
        problems.append("date_of_birth_impossible")
        return None
    return value


def _premise(line: str, secret: bytes) -> str | None:
    tokens = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKD", line).lower())
    words = [_STREET_WORDS.get(token, token) for token in tokens]
    if not words:
        return None
    # A keyed hash: the first line of an address is stored only encrypted, so the
    # matcher keeps a value it can compare for equality and nothing it can read.
    digest = hashlib.blake2b(" ".join(words).encode(), key=secret[:64], digest_size=10)
    return digest.hexdigest()


def _postcode(raw: Mapping[str, Any], problems: list[str]) -> tuple[str | None, ...]:
    compact = re.sub(r"[^A-Z0-9]", "", str(raw.get("postcode") or "").upper())
    if not compact:
        return None, None, None
    match = _POSTCODE.match(compact)
    if match is None:
        problems.append("postcode_malformed")
        # Still compared for equality: a malformed value two agencies share is evidence.
        return compact, None, None
    outward, sector_digit, _ = match.groups()
    return compact, f"{outward} {sector_digit}", outward


def _phone(raw: Mapping[str, Any], problems: list[str]) -> str | None:
    digits = re.sub(r"\D", "", str(raw.get("phone") or ""))
    if not digits:
        return None
    if digits.startswith("0044"):
        digits = "0" + digits[4:]
    elif digits.startswith("44") and len(digits) == 12:
        digits = "0" + digits[2:]
    if len(digits) not in (10, 11) or not digits.startswith("0"):
        problems.append("phone_malformed")
        return digits if len(digits) >= 6 else None
    return digits


def _email(raw: Mapping[str, Any], problems: list[str]) -> tuple[str | None, str | None]:
    email = str(raw.get("email") or "").strip().lower()
    if not email:
        return None, None
    user, at, domain = email.rpartition("@")
    if not at or not user or "." not in domain or " " in email:
        problems.append("email_malformed")
        return None, None
    return email, user


def _nhs(raw: Mapping[str, Any], problems: list[str]) -> str | None:
    number = re.sub(r"\s", "", str(raw.get("nhs_number") or ""))
    if not number:
        return None
    if len(number) != 10 or not number.isdigit():
        problems.append("nhs_number_malformed")
        return None
    if not nhs_check_digit_ok(number) or len(set(number)) == 1:
        problems.append("nhs_number_check_digit")
        return None
    return number


def _missing(value: Any) -> bool:
    """None, or a pandas frame's NaN or NaT (the values not equal to themselves)."""
    return value is None or (not isinstance(value, str) and bool(value != value))


def derive(
    raw: Mapping[str, Any], *, premise_secret: bytes, today: datetime.date | None = None
) -> tuple[Features, list[str]]:
    """The compared values of one identity, and the codes of its problems (`PROBLEMS`).

    `raw` has an identity's fields (given_names, family_name, date_of_birth, gender,
    phone, email, nhs_number, police_id) and its current, non-confidential address
    (address_line, postcode); any may be missing or malformed. A missing value may be
    None or, from a pandas frame, NaN or NaT: each is derived as None.
    """
    raw = {name: None if _missing(value) else value for name, value in raw.items()}
    problems: list[str] = []
    today = today or datetime.date.today()
    given = _given(raw, problems)
    family = _family(raw, problems)
    if given is None and family is None and "name_placeholder" not in problems:
        problems.append("no_name")
    born = _dob(raw, problems, today)
    dob = born.isoformat() if born else None
    dob_swap = None
    if born is not None and born.day <= 12 and born.day != born.month:
        dob_swap = f"{born.year:04d}-{born.day:02d}-{born.month:02d}"
    postcode, sector, district = _postcode(raw, problems)
    email, email_user = _email(raw, problems)
    gender = {"female": "f", "male": "m", "other": "o"}.get(str(raw.get("gender") or ""))
    police_id = re.sub(r"[^A-Z0-9]", "", str(raw.get("police_id") or "").upper()) or None
    features: Features = {
        "given": given,
        "given_key": canonical(given) if given else None,
        "family": family,
        "family_key": jellyfish.soundex(family) if family else None,
        "dob": dob,
        "dob_swap": dob_swap,
        "dob_year": dob[:4] if dob else None,
        "gender": gender,
        "postcode": postcode,
        "postcode_sector": sector,
        "postcode_district": district,
        "premise": _premise(str(raw.get("address_line") or ""), premise_secret),
        "phone": _phone(raw, problems),
        "email": email,
        "email_user": email_user,
        "nhs_number": _nhs(raw, problems),
        "police_id": police_id,
    }
    return features, problems


def describe(codes: list[str]) -> list[Problem]:
    """The problems' fields and messages, for the data-quality list."""
    return [Problem(code, *PROBLEMS[code]) for code in codes if code in PROBLEMS]


def _coded(
    values: Sequence[Any], derive_one: Callable[[Any], tuple[str | None, ...]], width: int
) -> tuple[Any, list[list[str | None]]]:
    """`derive_one` of each value, computed once per distinct value: the codes (each
    row's index into the distinct values, a numpy array) and `width` lists of derived
    values by code. Missing values (None, NaN) are derived from None, as the last code."""
    import numpy as np
    import pandas as pd

    codes, distinct = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    codes[codes < 0] = len(distinct)
    derived = [derive_one(value) for value in distinct] + [derive_one(None)]
    return codes, [[item[i] for item in derived] for i in range(width)]


CodedColumn = tuple[str, Any, list[str | None]]  # name, codes, derived value by code


def derive_coded(
    raw: Mapping[str, Sequence[Any]], *, premise_secret: bytes, today: datetime.date | None = None
) -> Iterator[CodedColumn]:
    """The features of many identities at once, one column at a time (all of
    `FEATURE_COLUMNS`, in an order of their own), each as codes into its derived values.

    `raw` maps each raw field `derive` reads to a sequence of values, one per identity,
    all of one length. Every feature comes from one raw field through the same helpers
    `derive` uses, so each distinct value (a given name, a postcode) is derived once;
    `tests/people/index/test_features.py` holds this to `derive` record by record. The
    problem codes are `derive`'s alone. A missing value may be None or, from a pandas
    frame, NaN: both are derived as None. A column at a time, so a caller can turn each
    into something compact (an Arrow array) before the next is made.
    """
    today = today or datetime.date.today()

    def given(value: Any) -> tuple[str | None, ...]:
        folded = _given({"given_names": value}, [])
        return folded, canonical(folded) if folded else None

    def family(value: Any) -> tuple[str | None, ...]:
        folded = _family({"family_name": value}, [])
        return folded, jellyfish.soundex(folded) if folded else None

    def born(value: Any) -> tuple[str | None, ...]:
        date = _dob({"date_of_birth": value}, [], today)
        if date is None:
            return None, None, None
        swap = None
        if date.day <= 12 and date.day != date.month:
            swap = f"{date.year:04d}-{date.day:02d}-{date.month:02d}"
        text = date.isoformat()
        return text, swap, text[:4]

    def email(value: Any) -> tuple[str | None, ...]:
        return _email({"email": value}, [])

    def gender(value: Any) -> tuple[str | None, ...]:
        return ({"female": "f", "male": "m", "other": "o"}.get(str(value or "")),)

    def police_id(value: Any) -> tuple[str | None, ...]:
        return (re.sub(r"[^A-Z0-9]", "", str(value or "").upper()) or None,)

    fields: list[tuple[str, Callable[[Any], tuple[str | None, ...]], tuple[str, ...]]] = [
        ("given_names", given, ("given", "given_key")),
        ("family_name", family, ("family", "family_key")),
        ("date_of_birth", born, ("dob", "dob_swap", "dob_year")),
        ("gender", gender, ("gender",)),
        (
            "postcode",
            lambda v: _postcode({"postcode": v}, []),
            ("postcode", "postcode_sector", "postcode_district"),
        ),
        ("address_line", lambda v: (_premise(str(v or ""), premise_secret),), ("premise",)),
        ("phone", lambda v: (_phone({"phone": v}, []),), ("phone",)),
        ("email", email, ("email", "email_user")),
        ("nhs_number", lambda v: (_nhs({"nhs_number": v}, []),), ("nhs_number",)),
        ("police_id", police_id, ("police_id",)),
    ]
    for field_name, derive_one, names in fields:
        codes, outputs = _coded(raw[field_name], derive_one, len(names))
        for name, values in zip(names, outputs, strict=True):
            yield name, codes, values


def derive_columns(
    raw: Mapping[str, Sequence[Any]], *, premise_secret: bytes, today: datetime.date | None = None
) -> dict[str, list[str | None]]:
    """`derive_coded`'s columns as lists, in the order of `FEATURE_COLUMNS`."""
    import numpy as np

    columns: dict[str, list[str | None]] = {}
    for name, codes, values in derive_coded(raw, premise_secret=premise_secret, today=today):
        by_code = np.empty(len(values), dtype=object)
        by_code[:] = values
        columns[name] = by_code[codes].tolist()
    return {column: columns[column] for column in FEATURE_COLUMNS}


RAW_FIELDS: tuple[str, ...] = (
    "given_names",
    "family_name",
    "date_of_birth",
    "gender",
    "phone",
    "email",
    "nhs_number",
    "police_id",
    "address_line",
    "postcode",
)
