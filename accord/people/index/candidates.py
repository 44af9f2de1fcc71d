"""The candidate index and term counts, kept in the database beside the identities.

Each identity is stored under a 64-bit key per blocking rule it has values for
(`BlockKey`; two for a swap or crossed rule, see `BlockingRule.keys`); a new identity's
candidates are the identities sharing a key with it, kept only where a rule itself
holds (a hash may collide, and a two-key rule stores more than it pairs). This returns exactly the
pairs Splink's blocking rules produce, with one indexed lookup instead of a join.

`TermCount` holds, per partnership, how many identities carry each value of the
term-frequency columns, and (under the empty value) how many carry any value. A
term's frequency is that share, shrunk towards the model's average (u of the exact
level) by `TF_PSEUDO_COUNT` imaginary records: in a new partnership with a dozen
identities every surname would otherwise look common and every match weak, while
over thousands of identities the share is what Splink computes. The batch re-match
registers the same frequencies with Splink, so batch and online still agree.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection

from accord.people.index.features import Features
from accord.people.index.model import BLOCKING_RULES, TF_COLUMNS, Model
from accord.people.models import BlockKey, MatchFeatures, TermCount

TOTAL = ""  # the TermCount value under which a column's non-missing count is kept
TF_PSEUDO_COUNT = 1000


def key_hash(partnership_id: uuid.UUID, key: tuple[str, ...]) -> int:
    """A signed 64-bit hash of the partnership and a rule's values."""
    text = "\x1f".join((str(partnership_id), *key)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)


def keys_of(partnership_id: uuid.UUID, features: Features) -> set[int]:
    return {key_hash(partnership_id, key) for rule in BLOCKING_RULES for key in rule.keys(features)}


def lock_writers(partnership_id: uuid.UUID) -> None:
    """Wait for, and hold until the transaction ends, the partnership's index lock.

    Every transaction that writes an identity or its address, matches one, changes which
    person holds one (a merge, its undoing, taking a record out) or rebuilds the index
    (the re-match) takes it first, before any row lock, and reads what it decides on
    after. So one such transaction runs at a time in a partnership, each deciding on
    what the one before committed, and none can wait for rows another holds while
    holding rows that one waits for. Without it: a change held its identity's rows
    while waiting for the block keys a re-match had deleted, while the re-match waited
    for those rows; an edit held a record's row while waiting for a term count another
    edit of her records held, while that edit's automatic merge waited to move the
    record; two records of one household arriving together each decided on persons
    without the other, and both joined one (deadlocks, and a wrong merge). Writers
    already queued on the term counts' total rows; each holds the lock for one match,
    about 10 to 30 ms. SQLite writes one transaction at a time anyway.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key_hash(partnership_id, _WRITERS)])


_WRITERS = ("index writers",)


def store(
    partnership_id: uuid.UUID,
    identity_id: uuid.UUID,
    features: Features,
    previous: Features | None,
) -> None:
    """Index an identity's (new) features in place of its previous ones (the caller
    holds `lock_writers`)."""
    if previous is not None:
        BlockKey.objects.filter(identity_id=identity_id).delete()
    BlockKey.objects.bulk_create(
        BlockKey(key=key, identity_id=identity_id) for key in keys_of(partnership_id, features)
    )
    changes: dict[tuple[str, str], int] = {}
    for column in TF_COLUMNS:
        old = previous.get(column) if previous else None
        new = features.get(column)
        if old == new:
            continue
        for value, step in ((old, -1), (new, 1)):
            if value is not None:
                changes[(column, value)] = changes.get((column, value), 0) + step
                changes[(column, TOTAL)] = changes.get((column, TOTAL), 0) + step
    count_add(partnership_id, changes)


def count_add(partnership_id: uuid.UUID, changes: dict[tuple[str, str], int]) -> None:
    """Add to term counts in one statement (insert, or add to the existing count)."""
    rows = [(column, value, step) for (column, value), step in changes.items() if step]
    if not rows:
        return
    table = TermCount._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    partnership = TermCount._meta.get_field("partnership").target_field
    stored_id = partnership.get_db_prep_value(partnership_id, connection)
    params: list[Any] = []
    for column, value, step in sorted(rows):
        params.extend([stored_id, column, value, step])
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ("partnership_id", "column", "value", "count") '  # noqa: S608
            f"VALUES {values} "
            'ON CONFLICT ("partnership_id", "column", "value") '
            f'DO UPDATE SET "count" = "{table}"."count" + EXCLUDED."count"',
            params,
        )


@dataclass(frozen=True)
class Candidate:
    identity_id: uuid.UUID
    person_id: uuid.UUID
    agency_id: uuid.UUID
    features: Features


def candidates(
    partnership_id: uuid.UUID, features: Features, *, exclude: uuid.UUID | None = None
) -> list[Candidate]:
    """The identities the blocking rules pair with these features."""
    keys = keys_of(partnership_id, features)
    if not keys:
        return []
    matching = MatchFeatures.objects.filter(
        identity_id__in=BlockKey.objects.filter(key__in=keys).values("identity_id"),
        partnership_id=partnership_id,
    )
    if exclude is not None:
        matching = matching.exclude(identity_id=exclude)
    rows = matching.values_list(
        "identity_id", "identity__person_id", "identity__agency_id", "values"
    )
    found = []
    for identity_id, person_id, agency_id, values in rows:
        if any(rule.holds(features, values) for rule in BLOCKING_RULES):
            found.append(Candidate(identity_id, person_id, agency_id, values))
    return found


def shrunk(count: int, total: int, u_exact: float) -> float:
    """A term's frequency shrunk towards the model's average for small indexes."""
    return (count + TF_PSEUDO_COUNT * u_exact) / (total + TF_PSEUDO_COUNT)


def frequencies(
    partnership_id: uuid.UUID, records: Iterable[Features], model: Model
) -> dict[tuple[str, str], float]:
    """Term frequencies of the TF columns' values in these records."""
    wanted = {
        (column, value)
        for record in records
        for column in TF_COLUMNS
        if (value := record.get(column)) is not None
    }
    if not wanted:
        return {}
    columns = {column for column, _ in wanted}
    values = {value for _, value in wanted} | {TOTAL}
    counts = {
        (column, value): count
        for column, value, count in TermCount.objects.filter(
            partnership_id=partnership_id, column__in=columns, value__in=values
        ).values_list("column", "value", "count")
    }
    result = {}
    for column, value in wanted:
        total = counts.get((column, TOTAL), 0)
        count = counts.get((column, value), 0)
        result[(column, value)] = shrunk(count, total, model.u_exact(column))
    return result
