"""Sealing events into their chain, and proving the chain whole.

Each seal's hash is HMAC-SHA256(key, previous seal's hash | canonical content), where
the content is the event itself plus its chain, position and key id. The key is
named by the seal's key id, so keys can be rotated without resealing history:
retired keys stay in the key ring for verification only.
"""

from __future__ import annotations

import datetime
import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accord.audit.models import AuditChainHead, AuditEvent, AuditPending, AuditSeal

GENESIS = "0" * 64

EVENT_FIELDS = (
    "id",
    "chain",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "agency_id",
    "action",
    "object_type",
    "object_id",
    "person_id",
    "basis",
    "reason",
    "changed_fields",
)


def _value(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, list)):
        return value
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return str(value)


def canonical(event: AuditEvent, *, seq: int, key_id: str) -> bytes:
    """The sealed content as bytes that depend on neither dict order nor database."""
    content = {name: _value(getattr(event, name)) for name in EVENT_FIELDS}
    content["seq"] = seq
    content["key_id"] = key_id
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


def _key(key_id: str) -> bytes:
    keys: dict[str, bytes] = settings.AUDIT_KEYS.keys
    try:
        return keys[key_id]
    except KeyError:
        raise ImproperlyConfigured(
            f"The audit key '{key_id}' is not in ACCORD_AUDIT_KEY or ACCORD_AUDIT_OLD_KEYS."
        ) from None


def seal_hash(event: AuditEvent, *, seq: int, key_id: str, prev_hash: str) -> str:
    content = canonical(event, seq=seq, key_id=key_id)
    return hmac.new(_key(key_id), prev_hash.encode() + b"|" + content, "sha256").hexdigest()


def seal_pending(*, batch: int = 5000) -> int:
    """Seal every committed, unsealed event into its chain. Returns how many were sealed.

    Safe to run from any number of processes at once: each chain's head row is
    locked while its batch is sealed, and the queue is read after the lock is held.
    """
    sealed = 0
    chains = list(AuditPending.objects.values_list("chain", flat=True).distinct())
    for chain in chains:
        while True:
            count = _seal_batch(chain, batch)
            sealed += count
            if count < batch:
                break
    return sealed


def _seal_batch(chain: str, batch: int) -> int:
    key_id: str = settings.AUDIT_KEYS.current_id
    _key(key_id)  # a missing key must stop sealing before anything is written
    with transaction.atomic():
        AuditChainHead.objects.bulk_create([AuditChainHead(chain=chain)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(chain=chain)
        # Queue rows whose event has gone are left for audit_verify to report; they
        # must not block the events behind them.
        waiting = list(
            AuditPending.objects.filter(chain=chain)
            .filter(Exists(AuditEvent.objects.filter(id=OuterRef("event_id"))))
            .order_by("event_id")
            .values_list("event_id", flat=True)[:batch]
        )
        if not waiting:
            return 0
        events = AuditEvent.objects.in_bulk(waiting)
        now = timezone.now()
        seals = []
        seq, prev_hash = head.seq, head.hash
        sealable = []
        for event_id in waiting:
            event = events.get(event_id)
            if event is None:
                # Its event was removed before it could be sealed. The queue row stays,
                # so audit_verify reports it rather than the gap passing unseen.
                continue
            sealable.append(event_id)
            seq += 1
            digest = seal_hash(event, seq=seq, key_id=key_id, prev_hash=prev_hash)
            seals.append(
                AuditSeal(
                    event_id=event_id,
                    chain=chain,
                    seq=seq,
                    key_id=key_id,
                    prev_hash=prev_hash,
                    hash=digest,
                    sealed_at=now,
                )
            )
            prev_hash = digest
        AuditSeal.objects.bulk_create(seals)
        AuditPending.objects.filter(event_id__in=sealable).delete()
        head.seq, head.hash = seq, prev_hash
        head.save(update_fields=["seq", "hash"])
    return len(sealable)


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int | None
    event_id: int | None
    what: str

    def __str__(self) -> str:
        where = f"position {self.seq}" if self.seq is not None else "the chain as a whole"
        event = f" (event {self.event_id})" if self.event_id is not None else ""
        return f"chain {self.chain}, {where}{event}: {self.what}"


@dataclass(frozen=True)
class ChainReport:
    chain: str
    sealed: int
    waiting: int
    oldest_waiting_seconds: float
    problem: ChainProblem | None
    head_hash: str = GENESIS


def checkpoint_problem(chain: str, seq: int, digest: str) -> ChainProblem | None:
    """Compare the chain with a checkpoint kept outside the database.

    The chain head and the last seals live in the database, so someone with the
    owner's rights could remove the end of a chain and set the head back. A checkpoint
    recorded earlier elsewhere (position and hash) must still be in the chain.
    """
    if seq == 0:
        return None
    seal = AuditSeal.objects.filter(chain=chain, seq=seq).first()
    if seal is None:
        return ChainProblem(
            chain, seq, None, "a checkpointed seal is gone: the end of the chain was removed"
        )
    if not hmac.compare_digest(seal.hash, digest):
        return ChainProblem(
            chain,
            seq,
            seal.event_id,
            "the seal differs from its checkpoint: the chain was rewritten",
        )
    return None


def _walk(chain: str, batch_size: int) -> tuple[int, str, ChainProblem | None]:
    prev_hash, expected = GENESIS, 1
    seals = AuditSeal.objects.filter(chain=chain).order_by("seq")
    last_seq = 0
    while True:
        page = list(seals.filter(seq__gt=last_seq)[:batch_size])
        if not page:
            break
        events = AuditEvent.objects.in_bulk([s.event_id for s in page])
        for seal in page:
            if seal.seq != expected:
                return (
                    expected - 1,
                    prev_hash,
                    ChainProblem(
                        chain,
                        expected,
                        None,
                        f"expected position {expected} next but found {seal.seq}: "
                        "seals were deleted or reordered",
                    ),
                )
            if seal.prev_hash != prev_hash:
                return (
                    expected - 1,
                    prev_hash,
                    ChainProblem(
                        chain,
                        seal.seq,
                        seal.event_id,
                        "its link to the previous seal is broken: seals were deleted or reordered",
                    ),
                )
            event = events.get(seal.event_id)
            if event is None or event.chain != chain:
                return (
                    expected - 1,
                    prev_hash,
                    ChainProblem(chain, seal.seq, seal.event_id, "its event was deleted"),
                )
            try:
                recomputed = seal_hash(event, seq=seal.seq, key_id=seal.key_id, prev_hash=prev_hash)
            except ImproperlyConfigured as error:
                return (
                    expected - 1,
                    prev_hash,
                    ChainProblem(chain, seal.seq, seal.event_id, str(error)),
                )
            if not hmac.compare_digest(recomputed, seal.hash):
                return (
                    expected - 1,
                    prev_hash,
                    ChainProblem(
                        chain,
                        seal.seq,
                        seal.event_id,
                        "the event does not match its seal: it was altered or moved",
                    ),
                )
            prev_hash = seal.hash
            expected += 1
        last_seq = page[-1].seq
    return expected - 1, prev_hash, None


def verify(*, batch_size: int = 5000, expected: Iterable[str] = ()) -> Iterator[ChainReport]:
    """Walk every chain and report, per chain, the first problem found (or None).

    `expected` names chains that must exist (every partnership's: its creation is
    audited), so a chain removed whole, head and all, is still noticed.
    """
    heads = {head.chain: head for head in AuditChainHead.objects.all()}
    chains = (
        set(heads)
        | set(AuditEvent.objects.values_list("chain", flat=True).distinct())
        | set(AuditSeal.objects.values_list("chain", flat=True).distinct())
    )
    for chain in sorted(set(expected) - chains):
        yield ChainReport(
            chain,
            0,
            0,
            0.0,
            ChainProblem(
                chain, None, None, "the partnership has no audit log at all: it was removed"
            ),
        )
    now = timezone.now()
    for chain in sorted(chains):
        sealed, last_hash, problem = _walk(chain, batch_size)
        waiting = AuditPending.objects.filter(chain=chain)
        waiting_count = waiting.count()
        oldest = (
            AuditEvent.objects.filter(id__in=waiting.values("event_id"))
            .order_by("occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
        lag = (now - oldest).total_seconds() if oldest else 0.0
        head = heads.get(chain)
        if problem is None and head is not None and (head.seq, head.hash) != (sealed, last_hash):
            problem = ChainProblem(
                chain,
                sealed + 1,
                None,
                f"the chain head records {head.seq} seals but {sealed} remain: "
                "seals at the end were deleted",
            )
        if problem is None and head is None and sealed:
            problem = ChainProblem(chain, None, None, "the chain head is missing")
        if problem is None:
            lost = waiting.exclude(Exists(AuditEvent.objects.filter(id=OuterRef("event_id"))))
            lost_id = lost.values_list("event_id", flat=True).first()
            if lost_id is not None:
                problem = ChainProblem(
                    chain, None, lost_id, "an event waiting to be sealed was deleted"
                )
        if problem is None:
            events = AuditEvent.objects.filter(chain=chain).count()
            if events != sealed + waiting_count:
                problem = ChainProblem(
                    chain,
                    None,
                    None,
                    f"{events} events but {sealed} sealed and {waiting_count} waiting: "
                    "events were added outside the audit service or their seals removed",
                )
        yield ChainReport(chain, sealed, waiting_count, lag, problem, last_hash)
