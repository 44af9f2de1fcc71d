"""The decision rules on top of the score that keep a family from becoming one person.

The score is Splink's; these rules decide whether a pair may be joined without a
person looking at it. A pair may be linked when its given name and date of birth
agree (same, nickname or typo, a date mistyped, swapped or missing, or one side's
name missing), or, whatever they say, when a personal identifier agrees exactly (the
NHS number or the police identifier: twins and a parent and child never share one).
Two identities conflict when they disagree on given name and date of birth (twins,
a parent and a namesake child, siblings) and share no such identifier; no person may
hold two identities that conflict, so no link or cluster join may create one.

A pair that agrees only because one record lacks a date of birth or a given name is
*vague*: "Dawn Patel" with no date of birth is as like a mother Dawn Patel as her
namesake daughter at the same address. So a vague pair is not linkable where an NHS
number or police identifier both hold is more than a typo apart (`contradicted`), and
where the record lacking the field is linkable to two records that conflict with each
other, which of them it belongs to is a guess: all its vague pairs are *ambiguous* and
left to a person (`ambiguous`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from itertools import combinations
from typing import TypeVar

from accord.people.index.features import Features
from accord.people.index.model import COMPARISONS, dl1

BIRTH_NAME = [c.name for c in COMPARISONS].index("given_name_and_birth")
AGREEING_LEVELS = frozenset({1, 2, 3, 4, 5})
# "Different given name and date of birth" (the last level: neither agrees nor is near).
DIFFERENT_LEVEL = len(COMPARISONS[BIRTH_NAME].levels) - 1
IDENTIFIERS = ("nhs_number", "police_id")
_NEAR = {column: dl1(column) for column in IDENTIFIERS}
# The agreeing levels reached only because one side lacks a field: that field.
VAGUE_LEVELS = {4: "dob", 5: "given"}
LEFT, RIGHT = 1, 2  # `vague_sides` bits: which side lacks the field

Key = TypeVar("Key", bound=Hashable)


def birth_name_position(left: Features, right: Features) -> int:
    """The given-name-and-birth level a pair falls in (its position in the list)."""
    levels = COMPARISONS[BIRTH_NAME].levels
    return next(i for i, level in enumerate(levels) if level.test(left, right))


def identifier_agrees(left: Features, right: Features) -> bool:
    return any(left[column] is not None and left[column] == right[column] for column in IDENTIFIERS)


def identifier_contradicts(left: Features, right: Features) -> bool:
    """Do both records hold an identifier of one kind, more than a typo apart (one
    character different or two neighbours swapped)? A typo is not a contradiction:
    police references are mistyped, and two valid NHS numbers are never a typo apart."""
    return any(
        left[column] is not None and right[column] is not None and not _NEAR[column](left, right)
        for column in IDENTIFIERS
    )


def contradicted(left: Features, right: Features) -> bool:
    """Do given name and date of birth agree only because one side lacks one of them,
    while an identifier both hold says they are two people?"""
    return birth_name_position(left, right) in VAGUE_LEVELS and identifier_contradicts(left, right)


def linkable(left: Features, right: Features) -> bool:
    """May this pair, scored above the link threshold, be linked automatically?"""
    if identifier_agrees(left, right):
        return True
    position = birth_name_position(left, right)
    if position in VAGUE_LEVELS:
        return not identifier_contradicts(left, right)
    return position in AGREEING_LEVELS


def conflicting(left: Features, right: Features) -> bool:
    """Must these two identities never be in one person without a reviewer?"""
    position = birth_name_position(left, right)
    return position not in AGREEING_LEVELS and position != 0 and not identifier_agrees(left, right)


def vague_sides(left: Features, right: Features) -> int:
    """Which side of a pair lacks the field its agreement rests on (`LEFT`, `RIGHT`,
    both or 0): nonzero only for a pair that is linkable through a vague level alone,
    with no identifier agreeing."""
    missing = VAGUE_LEVELS.get(birth_name_position(left, right))
    if missing is None or identifier_agrees(left, right) or identifier_contradicts(left, right):
        return 0
    return (LEFT if left[missing] is None else 0) | (RIGHT if right[missing] is None else 0)


def ambiguous(
    linked: Iterable[tuple[Key, Key, int]], features: Mapping[Key, Features]
) -> set[tuple[Key, Key]]:
    """The vague pairs to leave to a person, among `linked`: the pairs at or above the
    link threshold that are linkable, each with its `vague_sides`.

    A record lacking the field is *torn* when two of the records it is linked to (in
    `linked`) conflict with each other: the mother's and the daughter's records cannot
    be one person, and nothing in the record without a date of birth says which of them
    it is. Every vague pair of a torn record is ambiguous, not only those with the two
    in conflict: through another record without a date (linked to it and to the
    daughter, say) it would otherwise still be chained to one of them.
    """
    pairs = list(linked)
    vague = {
        key
        for left, right, sides in pairs
        for key, bit in ((left, LEFT), (right, RIGHT))
        if sides & bit
    }
    if not vague:
        return set()
    partners: dict[Key, list[Key]] = {key: [] for key in vague}
    for left, right, _ in pairs:
        if left in partners:
            partners[left].append(right)
        if right in partners:
            partners[right].append(left)
    torn = {
        key
        for key, others in partners.items()
        if any(conflicting(features[a], features[b]) for a, b in combinations(others, 2))
    }
    return {
        (left, right)
        for left, right, sides in pairs
        if (sides & LEFT and left in torn) or (sides & RIGHT and right in torn)
    }


def names_and_dates_differ(left: Features, right: Features) -> bool:
    """Do given name and date of birth fall in the "different" level, with no identifier
    agreeing? How two members of one household look: the review queue keeps such pairs
    apart, since the score counts what a household shares as evidence of one person."""
    return birth_name_position(left, right) == DIFFERENT_LEVEL and not identifier_agrees(
        left, right
    )
