"""Writing to the audit log. Called inside the transaction of the act it records."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accord.audit.models import ActorKind, AuditAction, AuditEvent, AuditPending

SYSTEM_CHAIN = "system"
_FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_.]{0,62}$")
_REASON_MAX = 500

# One statement writes the event and queues it for sealing: auditing a read costs
# one round trip, and no writer waits on another.
_INSERT_POSTGRESQL = """
WITH event AS (
    INSERT INTO audit_auditevent (chain, occurred_at, actor_kind, actor_id, agency_id, action,
        object_type, object_id, person_id, basis, reason, changed_fields)
    VALUES %s
    RETURNING id, chain
)
INSERT INTO audit_auditpending (event_id, chain) SELECT id, chain FROM event RETURNING event_id
"""


class AuditActor(Protocol):
    """Anything that acts: a signed-in user or an agency system's API key."""

    id: uuid.UUID
    agency_id: uuid.UUID

    @property
    def actor_kind(self) -> str: ...

    @property
    def partnership_id(self) -> uuid.UUID: ...


class AuditError(Exception):
    """The audit event could not be written; the act that needed it must not happen."""


@dataclass(frozen=True)
class AuditEntry:
    """One event of a batch written by `audit_record_many` (a page that reads many items)."""

    action: str
    object_type: str = ""
    object_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    basis: str = ""
    reason: str = ""
    changed_fields: tuple[str, ...] = ()


def audit_record(
    *,
    actor: AuditActor | None,
    action: AuditAction | str,
    partnership_id: uuid.UUID | None = None,
    object_type: str = "",
    object_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    basis: str = "",
    reason: str = "",
    changed_fields: Iterable[str] = (),
) -> AuditEvent:
    """Write one event to the actor's partnership's audit log.

    Runs in the caller's transaction: if this fails, the caller's change is rolled
    back with it, so there is never an unaudited act. The event is sealed into its
    chain shortly after the transaction commits (see `accord.audit.chain`).
    """
    entry = AuditEntry(
        action=str(action),
        object_type=object_type,
        object_id=object_id,
        person_id=person_id,
        basis=basis,
        reason=reason,
        changed_fields=tuple(changed_fields),
    )
    return audit_record_many(actor=actor, entries=[entry], partnership_id=partnership_id)[0]


def audit_record_many(
    *,
    actor: AuditActor | None,
    entries: Sequence[AuditEntry],
    partnership_id: uuid.UUID | None = None,
) -> list[AuditEvent]:
    """Write several events by one actor in one statement (on PostgreSQL).

    Used where one request reads many items, such as a chronology: each item read
    gets its own event with its own basis, at the cost of one round trip.
    """
    actor_kind: str
    actor_id: uuid.UUID | None
    agency_id: uuid.UUID | None
    if actor is None:
        actor_kind, actor_id, agency_id = ActorKind.ANONYMOUS, None, None
    else:
        actor_kind, actor_id, agency_id = actor.actor_kind, actor.id, actor.agency_id
        partnership_id = partnership_id or actor.partnership_id
    chain = str(partnership_id) if partnership_id else SYSTEM_CHAIN
    now = timezone.now()
    events = [
        AuditEvent(
            chain=chain,
            occurred_at=now,
            actor_kind=actor_kind,
            actor_id=actor_id,
            agency_id=agency_id,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            person_id=entry.person_id,
            basis=entry.basis,
            reason=entry.reason,
            changed_fields=_checked(entry),
        )
        for entry in entries
    ]
    if not events:
        return []
    if connection.vendor == "postgresql":
        row = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
        params: list[Any] = []
        for event in events:
            params += [
                event.chain,
                event.occurred_at,
                event.actor_kind,
                event.actor_id,
                event.agency_id,
                event.action,
                event.object_type,
                event.object_id,
                event.person_id,
                event.basis,
                event.reason,
                json.dumps(event.changed_fields),
            ]
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_POSTGRESQL % ", ".join([row] * len(events)), params)
            ids = sorted(r[0] for r in cursor.fetchall())
        for event, event_id in zip(events, ids, strict=True):
            event.id = event_id
    else:
        with transaction.atomic():
            for event in events:
                event.save(force_insert=True)
                AuditPending.objects.create(event_id=event.id, chain=event.chain)
    transaction.on_commit(request_sealing)
    return events


def _checked(entry: AuditEntry) -> list[str]:
    if entry.action not in AuditAction.values:
        raise AuditError(f"'{entry.action}' is not an audit action.")
    fields = sorted(set(entry.changed_fields))
    for name in fields:
        if not _FIELD_NAME.match(name):
            raise AuditError("Changed fields are recorded by name only.")
    if len(entry.reason) > _REASON_MAX:
        raise AuditError(f"The reason is longer than {_REASON_MAX} characters.")
    return fields


_last_request = 0.0
_request_lock = threading.Lock()


def request_sealing() -> None:
    """Ask the background worker to seal, at most once per AUDIT_SEAL_INTERVAL per process.

    The sealing task runs again a second after it last sealed anything, so events
    committed between requests are sealed without waiting for the next write.
    """
    global _last_request
    now = time.monotonic()
    with _request_lock:
        if now - _last_request < settings.AUDIT_SEAL_INTERVAL_SECONDS:
            return
        _last_request = now
    from accord.audit.tasks import request_seal

    request_seal()
