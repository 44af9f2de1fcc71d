"""Obviously fictional people, as the agencies of a partnership would hold them.

The matcher is trained, tested, demonstrated and benchmarked on data with a known truth,
and no real person's data may be used for any of that. `generate(n)` makes `n` true
persons and, for each, one to four identities ("records") as different agencies hold
them, with the errors that make record linkage hard in the UK:

- names: one- or two-character typos, nicknames ("Liz" for "Elizabeth"), given and
  family names swapped, a middle name sometimes given and sometimes not, a former or
  married surname, upper-case entry, an initial only, no name at all or a placeholder;
- dates of birth: day and month swapped, a wrong day, a wrong year, missing, and a few
  impossible ones (1900-01-01, or after the reference date);
- identifiers: NHS numbers mistyped by one digit (which always fails the modulus-11
  check), police ids only where police or probation know the person;
- contact details: mobile or household landline, formatting noise, missing values;
- addresses: a move to a new address for some later records, "Rd" for "Road",
  malformed postcodes.

Households make the hard negatives: parents and children share a surname, address,
postcode and landline; children differ by date of birth; some sons share their father's
given name; twins share everything but their given names, and sometimes the initial.
Common names recur, and a few unrelated people are deliberately given another's name,
so blocking on a name alone sweeps in many strangers.

Why the data is fictional, not merely pseudonymised: given names and surnames are common
British ones combined at random (a name alone is nobody's personal data), and every
other attribute is made to be impossible for a real person:

- postcodes use areas that do not exist (ZZ, XQ, QY, QX, XZ, ZQ: no UK area starts
  with Q or X, and the only Z area is ZE);
- NHS numbers start with 9 (the 900-999 million range is not issued to patients);
- phone numbers are in the 04 range, which Ofcom has not allocated;
- email addresses use the example.com/.org/.net domains reserved by RFC 2606;
- street names are invented compounds, police ids start with "ZZ".

A short list of famous full names is never produced, even by a nickname.

Everything is drawn from one seed, with a fixed reference date (not today), so a seed
gives the same data on every machine and every day. One million persons take well
under a minute.
"""

from __future__ import annotations

import calendar
import datetime
import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from accord.people.index.nicknames import NICKNAMES

# The day the data describes: ages, "future" dates of birth and the like are relative
# to it, so the data does not change with the calendar.
REFERENCE_DATE = datetime.date(2025, 6, 30)

FIELDS = (
    "record_id",
    "person",
    "household",
    "agency",
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

AGENCIES = ("police", "gp", "housing", "idva", "school", "probation", "mental_health")

# Common given names by sex, most frequent first (frequency falls off as a power law
# in `_zipf`). Formal names with nicknames in `NICKNAMES` are included so nicknames occur.
FEMALE = (
    "Sarah", "Emma", "Laura", "Rebecca", "Jessica", "Charlotte", "Hannah", "Amy",
    "Elizabeth", "Emily", "Sophie", "Lauren", "Katherine", "Rachel", "Samantha", "Jennifer",
    "Victoria", "Nicola", "Claire", "Lisa", "Michelle", "Kelly", "Louise", "Gemma",
    "Catherine", "Helen", "Amanda", "Natalie", "Joanne", "Stephanie", "Danielle", "Chloe",
    "Megan", "Olivia", "Lucy", "Holly", "Abigail", "Ellie", "Grace", "Jade", "Zoe",
    "Leanne", "Kirsty", "Donna", "Karen", "Susan", "Margaret", "Patricia", "Deborah",
    "Julie", "Tracey", "Dawn", "Angela", "Alison", "Caroline", "Jacqueline", "Christine",
    "Eleanor", "Isabel", "Frances", "Alexandra", "Gabrielle", "Dorothy", "Barbara",
    "Amelia", "Isla", "Ava", "Mia", "Poppy", "Freya", "Evie", "Lily", "Ruby", "Phoebe",
    "Aisha", "Fatima", "Zainab", "Priya", "Amira", "Maryam", "Sana", "Nadia", "Agnieszka",
    "Katarzyna", "Siobhan", "Bethany", "Carly", "Shannon", "Paige", "Toni", "Kayleigh",
)  # fmt: skip
MALE = (
    "James", "David", "Daniel", "Thomas", "Michael", "Christopher", "Matthew", "Andrew",
    "Robert", "John", "Richard", "Mark", "Paul", "Stephen", "Joseph", "William", "Benjamin",
    "Samuel", "Jonathan", "Adam", "Luke", "Ryan", "Craig", "Lee", "Jamie", "Scott",
    "Nathan", "Liam", "Dean", "Wayne", "Carl", "Darren", "Jason", "Shaun", "Kevin", "Neil",
    "Anthony", "Peter", "Alexander", "Edward", "Nicholas", "Patrick", "Kenneth", "Ronald",
    "Timothy", "Gregory", "Leonard", "Lawrence", "Frederick", "Henry", "Harold", "Alfred",
    "Charles", "Oliver", "Joshua", "Zachary", "Theodore", "Jack", "Harry", "George", "Noah",
    "Oscar", "Leo", "Archie", "Mohammed", "Muhammad", "Ahmed", "Omar", "Bilal", "Imran",
    "Tariq", "Rajesh", "Piotr", "Tomasz", "Callum", "Connor", "Kieran", "Reece", "Tyler",
    "Jordan", "Aaron", "Gareth", "Rhys", "Owen", "Declan", "Sean", "Barry", "Terry",
)  # fmt: skip
OTHER_GIVEN = ("Alex", "Sam", "Charlie", "Jordan", "Robin", "Morgan", "Riley", "Jamie")

# Common British surnames, most frequent first.
COMMON_SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood",
    "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King",
    "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis",
    "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook",
    "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox",
    "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh",
    "Begum", "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason",
    "Ali", "Hunt", "Hussain", "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills",
    "Barnes", "Knight", "Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens",
    "Jenkins", "Murray", "Dixon", "Harvey", "Graham", "Pearson", "Ahmed", "Fletcher",
    "Walsh", "Kaur", "Gibson", "Howard", "Andrews", "Stewart", "Elliott", "Reynolds",
    "Saunders", "Payne", "Fox", "Ford", "Pearce", "Day", "Brooks", "West", "Lawrence",
    "Cole", "Atkinson", "Bradley", "Spencer", "Gill", "Dawson", "Ball", "Burton", "O'Brien",
    "Watts", "Rose", "Booth", "Perry", "Ryan", "Grant", "Wells", "Armstrong", "Francis",
    "Rees", "Hayes", "Hart", "Hudson", "Newman", "Barrett", "Webster", "Hunter", "Gregory",
    "Carr", "Lowe", "Page", "Marsh", "Riley", "Dunn", "Woods", "Parsons", "Berry", "Stone",
    "Reid", "Holland", "Hawkins", "Harding", "Porter", "Robertson", "Newton", "Oliver",
    "Reed", "Kennedy", "Williamson", "Bird", "Gardner", "Shah", "Dean", "Lane", "Cooke",
    "Bates", "Henderson", "Parry", "Burgess", "Bishop", "Walton", "Burns", "Nicholson",
    "Shepherd", "Ross", "Cross", "Long", "Freeman", "Warren", "Nicholls", "Hamilton",
    "Byrne", "Sutton", "McDonald", "Yates", "Hodgson", "Robson", "Curtis", "Hopkins",
    "O'Connor", "Harper", "Coleman", "Watkins", "Moss", "McCarthy", "Chambers", "O'Neill",
    "Griffin", "Sharp", "Hardy", "Wheeler", "Osborne", "Johnston", "Doyle", "Wallace",
    "Jordan", "Hutchinson", "Rowe", "Burke", "Pritchard", "Gilbert", "Willis", "Higgins",
    "Read", "Miles", "Stevenson", "Stephenson", "Hammond", "Arnold", "Buckley", "Walters",
    "Hewitt", "Barber", "Nelson", "Slater", "Austin", "Sullivan", "Whitehead", "Mann",
    "Frost", "Lambert", "Stephens", "Blake", "Akhtar", "Lynch", "Goodwin", "Barton",
    "Woodward", "Thomson", "Cunningham", "Quinn", "Barnett", "Baxter", "Bibi", "Clayton",
    "Nash", "Greenwood", "Jennings", "Holt", "Kemp", "Poole", "Gallagher", "Tucker",
    "Davidson", "Wall", "Kowalski", "Nowak", "Wisniewski", "Chowdhury", "Rahman", "Miah",
    "Islam", "Uddin", "Mahmood", "Iqbal", "Sharma", "Mistry", "Okafor", "Mensah", "Adeyemi",
    "Boateng", "Nguyen", "Chen", "Wong", "Fernandes", "Costa", "Silva", "Popescu", "Kaya",
)  # fmt: skip

# The long tail: surnames put together from English place-name parts ("Ashford",
# "Thornwick"), so a million people have tens of thousands of surnames, as they do,
# and blocking on a surname does not sweep in a tenth of the population.
_SURNAME_HEAD = (
    "Ash", "Brad", "Brom", "Cal", "Carl", "Cot", "Dal", "Dun", "Elm", "Fair", "Farn",
    "Gold", "Hal", "Hart", "Hol", "Ken", "Kings", "Lang", "Lock", "Mar", "Mid", "Mor",
    "Nor", "Oak", "Pem", "Rad", "Rams", "Red", "Shel", "Stan", "Stock", "Sut", "Thorn",
    "Tid", "Wal", "Whit", "Wick", "Win", "Wood", "Yar", "Ack", "Bel", "Bur", "Chal",
    "Crom", "Dray", "Fen", "Gar", "Hemp", "Lind",
)  # fmt: skip
_SURNAME_TAIL = (
    "ley", "ton", "ford", "by", "wood", "field", "well", "worth", "ham", "more", "stead",
    "croft", "ridge", "combe", "hurst", "wick", "land", "bury", "dale", "shaw", "low",
    "den", "er", "ock", "ington",
)  # fmt: skip
SURNAMES = COMMON_SURNAMES + tuple(
    dict.fromkeys(
        head + tail
        for head in _SURNAME_HEAD
        for tail in _SURNAME_TAIL
        if head + tail not in COMMON_SURNAMES
    )
)
COMMON_SHARE = 0.35  # of people whose surname is one of the common ones

# Full names of well-known people that random combination could otherwise produce.
# Checked on the name as recorded, so a nickname cannot produce one either.
FAMOUS = frozenset(
    {
        "tom jones", "harry potter", "george harrison", "james martin", "david mitchell",
        "john lewis", "paul allen", "james bond", "mark wright", "gary barlow",
        "harry kane", "john major", "ed davey", "david davies", "james blake",
        "david jason", "paul young", "tony blair", "michael owen", "ryan giggs",
        "jack wilson", "amy winehouse", "emma watson", "lily allen", "kate moss",
        "david walliams", "kevin keegan", "ian wright", "rachel riley", "gary neville",
        "phil neville", "john barnes", "peter andre", "james may", "alan carr",
        "matt smith", "david bailey", "emma thompson", "mark williams", "jack grealish",
        "paul robinson", "gareth bale", "ben stokes", "sam smith", "james cook",
        "william wallace", "oliver cromwell", "charles dickens", "john lennon",
        "george michael", "elizabeth taylor", "emily thornberry", "grace jones",
        "tom daley", "andy murray", "jamie murray", "james murray", "liam payne",
        "olivia colman", "sophie turner", "john terry", "frank lampard", "lee evans",
        "terry wogan", "michael palin", "john cleese", "david baddiel", "harry judd",
    }
)  # fmt: skip

# Invented street names: a first part and a kind of road.
STREET_FIRST = (
    "Acacia", "Alderwick", "Amberlow", "Ashgrove", "Barrowmead", "Beechcombe", "Birchfold",
    "Blackthorn", "Bramblewick", "Brackenhurst", "Briarmoor", "Brookhollow", "Calderby",
    "Cedarwell", "Chalkridge", "Cherrydale", "Clovermead", "Copperfold", "Corndell",
    "Crabapple", "Cresswold", "Dapplegate", "Dunmoor", "Elderbrook", "Elmstead",
    "Farrowdene", "Fernhollow", "Fieldfare", "Foxglove", "Gorsemoor", "Greystowe",
    "Hartwell", "Hawthornby", "Hazelmere", "Heathcot", "Hollyfold", "Juniper", "Kestrelby",
    "Kingfisher", "Larkmere", "Lavenham", "Lindenfold", "Mallowby", "Maplestead",
    "Meadowsweet", "Millbourne", "Moorcroft", "Nettlecombe", "Oakhollow", "Orchardine",
    "Osierby", "Pebblecombe", "Pennywort", "Primrose", "Quarrymead", "Redwing", "Ribbleton",
    "Rookwood", "Rosebay", "Rowanfold", "Saffronby", "Sandpiper", "Sedgemoor", "Sloeberry",
    "Sorrelby", "Sparrowhall", "Stonechat", "Swallowdene", "Sycamore", "Tansyfield",
    "Teasel", "Thistledown", "Thrushcombe", "Tillingbourne", "Vetchley", "Wagtail",
    "Warrenfold", "Willowmere", "Windrush", "Wrenfield", "Yarrowby", "Yewstead",
)  # fmt: skip
STREET_KIND = (
    "Road", "Street", "Lane", "Avenue", "Close", "Crescent", "Drive", "Way", "Gardens",
    "Grove", "Terrace", "Place",
)  # fmt: skip
STREET_ABBREVIATION = {
    "Road": "Rd", "Street": "St", "Lane": "Ln", "Avenue": "Ave", "Close": "Cl",
    "Crescent": "Cres", "Drive": "Dr", "Gardens": "Gdns", "Terrace": "Tce", "Place": "Pl",
}  # fmt: skip
# Postcode areas that do not exist in the UK.
POSTCODE_AREAS = ("ZZ", "XQ", "QY", "QX", "XZ", "ZQ")
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters real inward codes use
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
PLACEHOLDER_NAMES = ("Unknown", "NK", "Baby")

# Per agency: how often a record carries each value when the person has one.
_PRESENT = {
    #                police  gp    housing idva  school probation mental_health
    "nhs_number": (0.10, 0.97, 0.05, 0.30, 0.20, 0.15, 0.90),
    "police_id": (0.95, 0.0, 0.0, 0.05, 0.0, 0.85, 0.0),
    "phone": (0.70, 0.85, 0.85, 0.95, 0.80, 0.75, 0.80),
    "email": (0.20, 0.40, 0.60, 0.55, 0.10, 0.30, 0.35),
    "address": (0.90, 0.97, 0.99, 0.80, 0.95, 0.92, 0.90),
    "date_of_birth": (0.95, 0.99, 0.93, 0.88, 0.99, 0.99, 0.97),
}
_UPPER_CASE = (0.35, 0.02, 0.05, 0.02, 0.02, 0.30, 0.02)  # police systems shout
# Where a record is held, by whether the person is a child (under 18).
_ADULT_AGENCY = (0.28, 0.22, 0.15, 0.12, 0.0, 0.10, 0.13)
_CHILD_AGENCY = (0.10, 0.30, 0.05, 0.02, 0.45, 0.0, 0.08)

# Error rates per record (the first record of a person is as error-prone as the rest).
RATES = {
    "given_typo": 0.03,
    "family_typo": 0.03,
    "nickname": 0.15,  # of records of persons whose name has nicknames
    "middle_name": 0.5,  # of records of persons with a middle name: recorded with it
    "initial_only": 0.01,
    "swapped_names": 0.01,
    "former_surname": 0.35,  # of records of persons with a former surname
    "no_name": 0.003,
    "placeholder_name": 0.002,
    "given_missing": 0.004,
    "dob_swapped": 0.02,  # where the day is 12 or less and differs from the month
    "dob_wrong_day": 0.015,
    "dob_wrong_year": 0.015,
    "dob_impossible": 0.002,
    "nhs_mistyped": 0.015,
    "phone_typo": 0.01,
    "email_typo": 0.005,
    "moved": 0.6,  # of later records of persons who moved
    "postcode_missing": 0.03,
    "postcode_malformed": 0.01,
    "address_abbreviated": 0.15,
    "gender_not_known": 0.03,
}
RECORDS_PER_PERSON = (1, 2, 3, 4)
RECORDS_WEIGHTS = (0.68, 0.20, 0.08, 0.04)  # mean 1.48
_KEYBOARD = {
    row[i]: row[max(i - 1, 0)] + row[i + 1 : i + 2]
    for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    for i in range(len(row))
}


def _zipf(count: int, exponent: float = 0.9) -> np.ndarray:
    """Weights falling off as a power of rank, so the first names of a list are common."""
    weights = 1.0 / np.arange(1, count + 1) ** exponent
    return np.asarray(weights / weights.sum())


def _surname_weights() -> np.ndarray:
    """About 1.5% Smith, 1% Jones, down to a long tail of rarer names (about 0.03% each)."""
    common = _zipf(len(COMMON_SURNAMES), 0.6) * COMMON_SHARE
    tail = _zipf(len(SURNAMES) - len(COMMON_SURNAMES), 0.3) * (1 - COMMON_SHARE)
    return np.concatenate([common, tail])


_SURNAME_WEIGHTS = _surname_weights()


def _nhs_numbers(count: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct, valid NHS numbers in the 900-999 million range that is never issued.

    A multiplier coprime with 10**8 maps distinct indexes to distinct numbers; bases
    whose check digit would be 10 (no valid number) are skipped.
    """
    offset = int(rng.integers(0, 10**8))
    index = np.arange(int(count * 1.15) + 16, dtype=np.int64)
    base = 900_000_000 + (index * 54_435_761 + offset) % 10**8
    digits = (base[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    total = (digits * np.arange(10, 1, -1)).sum(axis=1)
    check = (11 - total % 11) % 11
    valid = check != 10
    numbers = base[valid] * 10 + check[valid]
    return numbers[:count]


def _typo(text: str, rand: random.Random) -> str:
    """One or two character edits: a neighbouring key, a dropped, doubled or swapped letter."""
    if len(text) < 2:
        return text
    for _ in range(1 if rand.random() < 0.8 else 2):
        i = rand.randrange(1, len(text)) if len(text) > 2 else 1
        kind = rand.random()
        lower = text[i].lower()
        if kind < 0.35 and lower in _KEYBOARD:
            new = rand.choice(_KEYBOARD[lower])
            text = text[:i] + (new.upper() if text[i].isupper() else new) + text[i + 1 :]
        elif kind < 0.6 and len(text) > 3:
            text = text[:i] + text[i + 1 :]
        elif kind < 0.8:
            text = text[:i] + text[i] + text[i:]
        elif i < len(text) - 1:
            text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        else:
            text = text[: i - 1] + text[i] + text[i - 1]
    return text


def _mistype_digits(text: str, rand: random.Random, *, keep: int) -> str:
    """One digit replaced by another: what a single slip on a number pad does.

    The first `keep` digits are left alone, so a mistyped number stays in its fictional
    range (an NHS number starting 9, a phone number starting 04) and cannot become one
    that might be real.
    """
    positions = [i for i, c in enumerate(text) if c.isdigit()][keep:]
    if not positions:
        return text
    i = rand.choice(positions)
    new = str((int(text[i]) + rand.randrange(1, 10)) % 10)
    return text[:i] + new + text[i + 1 :]


def _malformed_postcode(code: str, rand: random.Random) -> str:
    kind = rand.randrange(4)
    if kind == 0:
        return code.replace(" ", "")[:-1]  # truncated
    if kind == 1:
        return (
            code.replace("0", "O").replace("1", "I") if any(c in "01" for c in code) else code[:-1]
        )
    if kind == 2:
        return code.replace(" ", "") + rand.choice("ABDEF")  # an extra character
    return code.split(" ")[0]  # the outward code only


class _Persons:
    """The true persons, column by column (numpy arrays indexed by person number)."""

    def __init__(self, n: int) -> None:
        self.given = np.zeros(n, dtype=np.int32)  # index into _GIVEN
        self.middle = np.full(n, -1, dtype=np.int32)
        self.family = np.zeros(n, dtype=np.int32)  # index into SURNAMES
        self.former = np.full(n, -1, dtype=np.int32)
        self.gender = np.zeros(n, dtype=np.int8)  # index into _GENDERS
        self.born = np.zeros(n, dtype=np.int32)  # days before REFERENCE_DATE
        self.household = np.full(n, -1, dtype=np.int32)
        self.address = np.zeros(n, dtype=np.int32)
        self.landline = np.full(n, -1, dtype=np.int64)
        self.parent = np.full(n, -1, dtype=np.int32)  # whose mobile a young child gives


_GIVEN = FEMALE + MALE + OTHER_GIVEN
_FEMALE_AT, _MALE_AT, _OTHER_AT = 0, len(FEMALE), len(FEMALE) + len(MALE)
_GENDERS = ("female", "male", "other", "not_known")


def _draw_given(rng: np.random.Generator, genders: np.ndarray) -> np.ndarray:
    """A given name (index into _GIVEN) for each gender code."""
    out = np.empty(len(genders), dtype=np.int32)
    female = rng.choice(len(FEMALE), size=len(genders), p=_zipf(len(FEMALE), 0.5))
    male = rng.choice(len(MALE), size=len(genders), p=_zipf(len(MALE), 0.5))
    either = rng.choice(len(FEMALE) + len(MALE) + len(OTHER_GIVEN), size=len(genders))
    out[:] = either
    out[genders == 0] = female[genders == 0]
    out[genders == 1] = _MALE_AT + male[genders == 1]
    neutral = (genders >= 2) & (rng.random(len(genders)) < 0.5)
    out[neutral] = _OTHER_AT + rng.integers(0, len(OTHER_GIVEN), size=int(neutral.sum()))
    return out


def _households(
    n: int, share: float, twins_share: float, rng: np.random.Generator, p: _Persons
) -> int:
    """Fill persons 0..k-1 with households of two or more; returns k.

    A household has one or two adults and up to four children, born when the youngest
    adult was 18 or older and a year or more apart, except twins. The loop decides the
    shape of each household; names are drawn for all of them at once afterwards, then
    adjusted for twins and sons named after their fathers.
    """
    target = min(n, round(n * share))
    twin_pairs_wanted = round(n * twins_share / 2)
    # Households with two or more children, about 0.45 of households of about three
    # people: each has twins with the chance that gives the wanted number, spread
    # through the data rather than bunched at its start.
    eligible = max(1.0, 0.45 * target / 3.0)
    twin_chance = min(1.0, twin_pairs_wanted / eligible)
    twin_pairs = 0
    family_pool = rng.choice(len(SURNAMES), size=target + 1, p=_SURNAME_WEIGHTS).tolist()
    partner_pool = rng.choice(len(SURNAMES), size=target + 1, p=_SURNAME_WEIGHTS).tolist()
    landline_pool = (4_400_000_000 + rng.integers(0, 99_999_999, size=target + 1)).tolist()
    rand = random.Random(int(rng.integers(2**62)))
    twins: list[tuple[int, int, bool]] = []  # (first, second, same initial)
    juniors: list[tuple[int, int]] = []  # (father, son)
    i = 0
    h = 0
    while i < target:
        adults = 2 if rand.random() < 0.6 else 1
        children = rand.choices((0, 1, 2, 3, 4), weights=(0.25, 0.3, 0.28, 0.12, 0.05))[0]
        if adults + children < 2:
            children = 1
        size = min(adults + children, n - i)
        if target - i < size and target - i >= 2:
            size = target - i
        adults = min(adults, size)
        first_age = rand.randint(22, 52)
        genders = [0 if rand.random() < 0.8 else 1]
        days = [first_age * 365 + rand.randint(0, 364)]
        youngest = first_age
        if adults == 2:
            age = max(18, first_age + rand.randint(-6, 8))
            youngest = min(youngest, age)
            genders.append(1 - genders[0] if rand.random() < 0.92 else genders[0])
            days.append(age * 365 + rand.randint(0, 364))
        child_years = sorted(
            rand.randint(0, max(0, min(youngest - 18, 24))) for _ in range(size - adults)
        )
        previous = -1
        for years in child_years:
            born = years * 365 + rand.randint(0, 364)
            if previous >= 0 and born - previous < 330:
                born = previous + 330 + rand.randint(0, 700)  # a year or more apart
            days.append(born)
            genders.append(0 if rand.random() < 0.5 else 1)
            previous = born
        children = size - adults
        if children >= 2 and twin_pairs < twin_pairs_wanted and rand.random() < twin_chance:
            days[adults + 1] = days[adults]
            twins.append((i + adults, i + adults + 1, rand.random() < 0.3))
            twin_pairs += 1
        father = next((k for k in range(adults) if genders[k] == 1), None)
        son = next((k for k in range(adults, size) if genders[k] == 1), None)
        if father is not None and son is not None and rand.random() < 0.15:
            juniors.append((i + father, i + son))
        end = i + size
        p.family[i:end] = family_pool[h]
        if adults == 2 and rand.random() < 0.25:
            p.family[i + 1] = partner_pool[h]  # the second adult kept another surname
        p.gender[i:end] = genders
        p.born[i:end] = days
        p.household[i:end] = h
        p.address[i:end] = h
        if rand.random() < 0.6:
            p.landline[i:end] = landline_pool[h]
        young = np.asarray(days[adults:]) < 12 * 365
        p.parent[i + adults : end][young] = i
        i = end
        h += 1
    p.given[:i] = _draw_given(rng, p.gender[:i])
    for a, b, same_initial in twins:
        if same_initial:
            initial = _GIVEN[p.given[a]][0]
            block = range(0, _MALE_AT) if p.given[a] < _MALE_AT else range(_MALE_AT, _OTHER_AT)
            same = [g for g in block if _GIVEN[g][0] == initial and g != p.given[a]]
            if same:
                p.given[b] = rand.choice(same)
                p.gender[b] = p.gender[a]
        if p.given[a] == p.given[b]:
            g = int(p.given[b])
            p.given[b] = g + 1 if g + 1 not in (_MALE_AT, _OTHER_AT) else g - 1
    for father, son in juniors:
        p.given[son] = p.given[father]
    return i


def _build_persons(
    n: int, share: float, twins_share: float, rng: np.random.Generator
) -> tuple[_Persons, int]:
    """Households first, then people living alone; returns them and the address count."""
    p = _Persons(n)
    in_households = _households(n, share, twins_share, rng, p)
    households = int(p.household.max()) + 1 if in_households else 0
    alone = np.arange(in_households, n)
    m = len(alone)
    g = rng.random(m)
    p.gender[alone] = np.where(g < 0.62, 0, np.where(g < 0.97, 1, np.where(g < 0.985, 2, 3)))
    p.family[alone] = rng.choice(len(SURNAMES), size=m, p=_SURNAME_WEIGHTS)
    p.given[alone] = _draw_given(rng, p.gender[alone])
    # Adults living alone: 18 to 85, more of them young.
    ages = 18 + (rng.beta(1.6, 2.6, size=m) * 67).astype(np.int32)
    p.born[alone] = ages * 365 + rng.integers(0, 365, size=m)
    p.address[alone] = households + np.arange(m, dtype=np.int32)
    # Namesakes: some unrelated people given exactly another's name.
    copies = alone[rng.random(m) < 0.01]
    if len(copies):
        sources = rng.integers(0, n, size=len(copies))
        p.given[copies] = p.given[sources]
        p.family[copies] = p.family[sources]
        p.gender[copies] = np.where(p.given[sources] < _MALE_AT, 0, 1)
    # Middle names for a fifth; former surnames for some adult women and a few men.
    with_middle = rng.random(n) < 0.2
    p.middle[with_middle] = _draw_given(rng, p.gender[with_middle])
    p.middle[p.middle == p.given] = -1
    adult = p.born >= 18 * 365
    former = adult & (rng.random(n) < np.where(p.gender == 0, 0.18, 0.02))
    p.former[former] = rng.choice(len(SURNAMES), size=int(former.sum()), p=_SURNAME_WEIGHTS)
    p.former[p.former == p.family] = -1
    _avoid_famous(p)
    return p, households + m


def _avoid_famous(p: _Persons) -> None:
    """Move anyone whose name (or former name) is in `FAMOUS` to the next surname."""
    famous = {
        (g, f)
        for g, given in enumerate(_GIVEN)
        for f, family in enumerate(SURNAMES)
        if f"{given} {family}".lower() in FAMOUS
    }
    for column in (p.family, p.former):
        pairs = p.given.astype(np.int64) * len(SURNAMES) + column
        bad = np.isin(pairs, [g * len(SURNAMES) + f for g, f in famous])
        column[bad] = (column[bad] + 1) % len(SURNAMES)


def _addresses(count: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """First lines and postcodes: about 25 addresses to a street, streets across districts."""
    streets = max(40, count // 25)
    street_name = rng.integers(0, len(STREET_FIRST) * len(STREET_KIND), size=streets)
    area = rng.integers(0, len(POSTCODE_AREAS), size=streets)
    district = rng.integers(1, 41, size=streets)
    sector = rng.integers(0, 10, size=streets)
    street_of = rng.integers(0, streets, size=count)
    number = rng.integers(1, 180, size=count)
    flat = np.where(rng.random(count) < 0.08, rng.integers(1, 12, size=count), 0)
    u1 = rng.integers(0, len(_UNIT_LETTERS), size=streets)
    u2 = rng.integers(0, len(_UNIT_LETTERS), size=streets)
    names = [f"{STREET_FIRST[s // len(STREET_KIND)]} {STREET_KIND[s % len(STREET_KIND)]}"
             for s in range(len(STREET_FIRST) * len(STREET_KIND))]  # fmt: skip
    lines: list[str] = []
    postcodes: list[str] = []
    unit_count = len(_UNIT_LETTERS)
    for j in range(count):
        s = int(street_of[j])
        no = int(number[j])
        line = f"{no} {names[int(street_name[s])]}"
        if flat[j]:
            line = f"Flat {int(flat[j])}, {line}"
        lines.append(line)
        block = no // 16  # neighbouring houses share a postcode unit
        unit = (
            _UNIT_LETTERS[(int(u1[s]) + block) % unit_count]
            + _UNIT_LETTERS[(int(u2[s]) + 7 * block) % unit_count]
        )
        postcodes.append(f"{POSTCODE_AREAS[int(area[s])]}{int(district[s])} {int(sector[s])}{unit}")
    return lines, postcodes


def _email(given: str, family: str, number: int, style: int) -> str:
    g = given.lower()
    f = family.lower().replace("'", "").replace(" ", "")
    domain = EMAIL_DOMAINS[number % len(EMAIL_DOMAINS)]
    if style == 0:
        return f"{g}.{f}{number % 100}@{domain}"
    if style == 1:
        return f"{g[0]}{f}{number % 1000}@{domain}"
    return f"{f}.{g}{1950 + number % 60}@{domain}"


def _phone_text(number: int, style: int) -> str:
    digits = f"0{number}"
    if style == 0:
        return digits
    if style == 1:
        return f"{digits[:5]} {digits[5:]}"
    return f"+44 {digits[1:5]} {digits[5:]}"


def _flags(rng: np.random.Generator, rates: Sequence[float], r: int) -> list[int]:
    """One draw per record and rate, packed as bits: bit k is set with probability rates[k].

    Packing keeps the per-record loop to integer tests instead of dozens of numpy
    lookups, and never holds more than one array of draws at a time.
    """
    bits = np.zeros(r, dtype=np.int64)
    for k, rate in enumerate(rates):
        bits |= (rng.random(r, dtype=np.float32) < np.asarray(rate, dtype=np.float32)).astype(
            np.int64
        ) << k
    result: list[int] = bits.tolist()
    return result


_ERRORS = tuple(RATES)
_BIT = {name: 1 << k for k, name in enumerate(_ERRORS)}
_EXTRA = ("upper", "phone_parent", "phone_landline", "postcode_noise", *_PRESENT)
_XBIT = {name: 1 << k for k, name in enumerate(_EXTRA)}


def _wrong_day(born: datetime.date, rand: random.Random) -> datetime.date:
    last = calendar.monthrange(born.year, born.month)[1]
    days = [d for d in (born.day - 2, born.day - 1, born.day + 1, born.day + 2, born.day + 10)
            if 1 <= d <= last]  # fmt: skip
    return born.replace(day=rand.choice(days))


def _columns(
    n_persons: int,
    *,
    seed: int,
    household_share: float,
    twins_share: float,
    annotate: bool,
) -> dict[str, list[Any]]:
    rng = np.random.default_rng(seed)
    rand = random.Random(seed * 7919 + 17)
    p, addresses = _build_persons(n_persons, household_share, twins_share, rng)
    n = n_persons

    nhs = _nhs_numbers(n, rng).tolist()
    mobile_array = np.where(
        rng.random(n) < 0.88, 4_700_000_000 + rng.integers(0, 99_999_999, size=n), -1
    )
    mobile_array[p.born < 11 * 365] = -1  # young children have no phone of their own
    mobile = mobile_array.tolist()
    has_email = ((rng.random(n) < 0.7) & (p.born >= 14 * 365)).tolist()
    email_number = rng.integers(0, 10**6, size=n).tolist()
    email_style = rng.integers(0, 3, size=n).tolist()
    police = rng.integers(10**6, 10**7, size=n).tolist()
    moved_array = rng.random(n) < 0.2
    new_address = np.full(n, -1, dtype=np.int64)
    new_address[moved_array] = addresses + np.arange(int(moved_array.sum()))
    lines, postcodes = _addresses(addresses + int(moved_array.sum()), rng)
    moved = new_address.tolist()

    # Records: how many per person, and which agency holds each.
    counts = rng.choice(RECORDS_PER_PERSON, size=n, p=RECORDS_WEIGHTS)
    owner_array = np.repeat(np.arange(n, dtype=np.int64), counts)
    r = len(owner_array)
    later = (np.arange(r) - np.repeat(np.cumsum(counts) - counts, counts)) > 0
    child = p.born[owner_array] < 18 * 365
    agency_array = np.where(
        child,
        rng.choice(len(AGENCIES), size=r, p=_CHILD_AGENCY),
        rng.choice(len(AGENCIES), size=r, p=_ADULT_AGENCY),
    )
    flags = _flags(rng, [RATES[name] for name in _ERRORS], r)
    extra_rates: list[Any] = [
        np.asarray(_UPPER_CASE)[agency_array],
        0.5,
        0.35,
        0.05,
        *(np.asarray(rates)[agency_array] for rates in _PRESENT.values()),
    ]
    extra = _flags(rng, extra_rates, r)
    style = rng.integers(0, 3, size=r).tolist()
    owner = owner_array.tolist()
    agency = agency_array.tolist()
    later_list = later.tolist()
    del owner_array, agency_array, later, child, extra_rates

    given_of = p.given.tolist()
    middle_of = p.middle.tolist()
    family_of = p.family.tolist()
    former_of = p.former.tolist()
    gender_of = p.gender.tolist()
    born_of = p.born.tolist()
    household_of = p.household.tolist()
    address_of = p.address.tolist()
    landline_of = p.landline.tolist()
    parent_of = p.parent.tolist()
    nicknames_of = [tuple(nick.title() for nick in NICKNAMES.get(g.lower(), ())) for g in _GIVEN]
    born_cache: dict[int, datetime.date] = {}

    cols: dict[str, list[Any]] = {name: [] for name in FIELDS}
    errors_col: list[tuple[str, ...]] = []
    width = len(str(max(r, n)))
    b = _BIT
    x = _XBIT
    for j in range(r):
        person = owner[j]
        f = flags[j]
        e = extra[j]
        errors: list[str] = []

        # --- name ---
        canonical_given = _GIVEN[given_of[person]]
        given = canonical_given
        nicknames = nicknames_of[given_of[person]]
        if nicknames and f & b["nickname"]:
            given = rand.choice(nicknames)
            errors.append("nickname")
        if middle_of[person] >= 0 and f & b["middle_name"]:
            given = f"{given} {_GIVEN[middle_of[person]]}"
            errors.append("middle_name")
        family = SURNAMES[family_of[person]]
        if former_of[person] >= 0 and f & b["former_surname"]:
            family = SURNAMES[former_of[person]]
            errors.append("former_surname")
        if f & b["given_typo"]:
            given = _typo(given, rand)
            errors.append("given_typo")
        if f & b["family_typo"]:
            family = _typo(family, rand)
            errors.append("family_typo")
        if f & b["initial_only"]:
            given = given[0]
            errors.append("initial_only")
        if f & b["swapped_names"]:
            given, family = family, given
            errors.append("swapped_names")
        if f"{given} {family}".lower() in FAMOUS:
            given, family = canonical_given, SURNAMES[family_of[person]]
        if f & b["given_missing"]:
            given = ""
            errors.append("given_missing")
        if f & b["no_name"]:
            given, family = "", ""
            errors.append("no_name")
        elif f & b["placeholder_name"]:
            given = rand.choice(PLACEHOLDER_NAMES)
            family = SURNAMES[family_of[person]] if given == "Baby" else given
            errors.append("placeholder_name")
        if e & x["upper"]:
            given, family = given.upper(), family.upper()

        # --- date of birth ---
        born: datetime.date | None = None
        if not e & x["date_of_birth"]:
            errors.append("dob_missing")
        elif f & b["dob_impossible"]:
            born = (
                datetime.date(1900, 1, 1)
                if rand.random() < 0.7
                else REFERENCE_DATE + datetime.timedelta(days=rand.randint(1, 4000))
            )
            errors.append("dob_impossible")
        else:
            days = born_of[person]
            born = born_cache.get(days)
            if born is None:
                born = born_cache[days] = REFERENCE_DATE - datetime.timedelta(days=days)
            if f & b["dob_swapped"] and born.day <= 12 and born.day != born.month:
                born = born.replace(month=born.day, day=born.month)
                errors.append("dob_swapped")
            if f & b["dob_wrong_day"]:
                born = _wrong_day(born, rand)
                errors.append("dob_wrong_day")
            if f & b["dob_wrong_year"]:
                leap_day = born.month == 2 and born.day == 29
                born = born.replace(
                    year=born.year + rand.choice((-1, 1, -10, 10)),
                    day=28 if leap_day else born.day,
                )
                errors.append("dob_wrong_year")

        gender = "not_known" if f & b["gender_not_known"] else _GENDERS[gender_of[person]]

        # --- identifiers ---
        nhs_number = ""
        if e & x["nhs_number"]:
            nhs_number = str(nhs[person])
            if f & b["nhs_mistyped"]:
                nhs_number = _mistype_digits(nhs_number, rand, keep=1)
                errors.append("nhs_mistyped")
        police_id = ""
        if e & x["police_id"]:
            pid = police[person]
            police_id = f"ZZ/{pid % 100:02d}/{pid // 100:05d}"

        # --- contact details ---
        phone = ""
        if e & x["phone"]:
            own = mobile[person]
            landline = landline_of[person]
            parent = parent_of[person]
            if own < 0 and parent >= 0 and mobile[parent] >= 0 and e & x["phone_parent"]:
                number = mobile[parent]  # a young child's record gives a parent's mobile
            elif landline >= 0 and (own < 0 or e & x["phone_landline"]):
                number = landline
            else:
                number = own
            if number >= 0:
                phone = _phone_text(number, style[j])
                if f & b["phone_typo"]:
                    phone = _mistype_digits(phone, rand, keep=4)
                    errors.append("phone_typo")
        email = ""
        if has_email[person] and e & x["email"]:
            email = _email(
                canonical_given,
                SURNAMES[family_of[person]],
                email_number[person],
                email_style[person],
            )
            if f & b["email_typo"]:
                user, domain = email.split("@")
                email = f"{_typo(user, rand)}@{domain}"  # never a domain that might exist
                errors.append("email_typo")

        # --- address ---
        address = address_of[person]
        if later_list[j] and moved[person] >= 0 and f & b["moved"]:
            address = moved[person]
            errors.append("moved")
        address_line, postcode = "", ""
        if e & x["address"]:
            address_line = lines[address]
            postcode = postcodes[address]
            if f & b["address_abbreviated"]:
                kind = address_line.rsplit(" ", 1)[-1]
                if kind in STREET_ABBREVIATION:
                    address_line = address_line[: -len(kind)] + STREET_ABBREVIATION[kind]
            if e & x["upper"]:
                address_line = address_line.upper()
            if f & b["postcode_missing"]:
                postcode = ""
                errors.append("postcode_missing")
            elif f & b["postcode_malformed"]:
                postcode = _malformed_postcode(postcode, rand)
                errors.append("postcode_malformed")
            elif e & x["postcode_noise"]:
                postcode = postcode.lower() if rand.random() < 0.5 else postcode.replace(" ", "")
        else:
            errors.append("address_missing")

        household = household_of[person]
        cols["record_id"].append(f"R{j:0{width}d}")
        cols["person"].append(f"P{person:0{width}d}")
        cols["household"].append(f"H{household:0{width}d}" if household >= 0 else None)
        cols["agency"].append(AGENCIES[agency[j]])
        cols["given_names"].append(given)
        cols["family_name"].append(family)
        cols["date_of_birth"].append(born)
        cols["gender"].append(gender)
        cols["phone"].append(phone)
        cols["email"].append(email)
        cols["nhs_number"].append(nhs_number)
        cols["police_id"].append(police_id)
        cols["address_line"].append(address_line)
        cols["postcode"].append(postcode)
        if annotate:
            errors_col.append(tuple(errors))
    if annotate:
        cols["errors"] = errors_col
    return cols


def generate(
    n_persons: int,
    *,
    seed: int = 0,
    household_share: float = 0.35,
    twins_share: float = 0.01,
    household_heavy: bool = False,
    annotate: bool = False,
) -> list[dict[str, Any]]:
    """Records of `n_persons` fictional persons: one dict per identity an agency holds.

    Keys are `FIELDS`: `person` is the truth (the same for every record of one person),
    `household` is shared by people who live together (None for people living alone).
    `household_share` is the share of persons living in households of two or more;
    `household_heavy=True` raises it to 0.9 (the benchmark's household set).
    `annotate=True` adds `errors`, the tuple of errors applied to that record, so tests
    can check rates.
    """
    cols = _columns(
        n_persons,
        seed=seed,
        household_share=0.9 if household_heavy else household_share,
        twins_share=twins_share,
        annotate=annotate,
    )
    keys = list(cols)
    return [dict(zip(keys, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def generate_frame(
    n_persons: int,
    *,
    seed: int = 0,
    household_share: float = 0.35,
    twins_share: float = 0.01,
    household_heavy: bool = False,
    annotate: bool = False,
) -> Any:
    """The same records as `generate`, as a pandas DataFrame (one row per record).

    Column-wise, so it takes far less memory than a million dicts. `date_of_birth`
    holds `datetime.date` objects or None.
    """
    import pandas as pd

    cols = _columns(
        n_persons,
        seed=seed,
        household_share=0.9 if household_heavy else household_share,
        twins_share=twins_share,
        annotate=annotate,
    )
    return pd.DataFrame(cols)


def true_pairs(
    records: Iterable[Mapping[str, Any]], *, key: str = "record_id"
) -> set[tuple[str, str]]:
    """Every pair of records of one person, each as (smaller id, larger id)."""
    by_person: dict[str, list[str]] = {}
    for record in records:
        by_person.setdefault(record["person"], []).append(record[key])
    return {
        (a, b) if a < b else (b, a)
        for ids in by_person.values()
        if len(ids) > 1
        for a, b in itertools.combinations(ids, 2)
    }


def household_pairs(
    records: Iterable[Mapping[str, Any]], *, key: str = "record_id"
) -> set[tuple[str, str]]:
    """Pairs of records of different persons who live together: a link here is false
    and would chain a family into one person."""
    by_household: dict[str, list[tuple[str, str]]] = {}
    for record in records:
        if record["household"] is not None:
            by_household.setdefault(record["household"], []).append((record["person"], record[key]))
    pairs: set[tuple[str, str]] = set()
    for members in by_household.values():
        for (pa, a), (pb, b) in itertools.combinations(members, 2):
            if pa != pb:
                pairs.add((a, b) if a < b else (b, a))
    return pairs


def persons_of(records: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """record_id -> true person, for scoring predicted clusters."""
    return {record["record_id"]: record["person"] for record in records}
