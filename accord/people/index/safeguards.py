"""The decision rules on top of the score that keep a family from becoming one person.

The score is Splink's; these rules decide whether a pair may be joined without a
person looking at it. A pair may be linked when its given name and date of birth
agree (same, nickname or typo, a date mistyped, swapped or missing, or one side's
name missing), or, whatever they say, when a personal identifier agrees exactly (the
NHS number or the police identifier: twins and a parent and child never share one).
Two identities conflict when they disagree on given name and date of birth (twins,
a parent and a namesake child, siblings) and share no such identifier; no person may
hold two identities that conflict, so no link or cluster join may create one.
"""

from __future__ import annotations

from accord.people.index.features import Features
from accord.people.index.model import COMPARISONS

BIRTH_NAME = [c.name for c in COMPARISONS].index("given_name_and_birth")
AGREEING_LEVELS = frozenset({1, 2, 3, 4, 5})
IDENTIFIERS = ("nhs_number", "police_id")


def birth_name_position(left: Features, right: Features) -> int:
    """The given-name-and-birth level a pair falls in (its position in the list)."""
    levels = COMPARISONS[BIRTH_NAME].levels
    return next(i for i, level in enumerate(levels) if level.test(left, right))


def identifier_agrees(left: Features, right: Features) -> bool:
    return any(left[column] is not None and left[column] == right[column] for column in IDENTIFIERS)


def linkable(left: Features, right: Features) -> bool:
    """May this pair, scored above the link threshold, be linked automatically?"""
    return birth_name_position(left, right) in AGREEING_LEVELS or identifier_agrees(left, right)


def conflicting(left: Features, right: Features) -> bool:
    """Must these two identities never be in one person without a reviewer?"""
    position = birth_name_position(left, right)
    return position not in AGREEING_LEVELS and position != 0 and not identifier_agrees(left, right)
