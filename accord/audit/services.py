"""Writing to the audit chain. Called inside the transaction of the act it records."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from accord.audit import chain as sealing
from accord.audit.models import ActorKind, AuditAction, AuditChainHead, AuditEvent

SYSTEM_CHAIN = "system"
_FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_.]{0,62}$")


class AuditActor(Protocol):
    """Anything that acts: a signed-in user or an agency system's API key."""

    id: uuid.UUID
    agency_id: uuid.UUID

    @property
    def actor_kind(self) -> str: ...

    @property
    def partnership_id(self) -> uuid.UUID: ...


class AuditError(Exception):
    """The audit row could not be written; the act that needed it must not happen."""


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
    """Append one sealed row to the actor's partnership chain.

    Runs in the caller's transaction: if this fails, the caller's change is
    rolled back with it, so there is never an unaudited act. The chain head
    row is locked until the caller commits, which orders concurrent writers of
    one partnership and never forks its chain.
    """
    if action not in AuditAction.values:
        raise AuditError(f"'{action}' is not an audit action.")
    fields = sorted(set(changed_fields))
    for name in fields:
        if not _FIELD_NAME.match(name):
            raise AuditError("Changed fields are recorded by name only.")
    if len(reason) > AuditEvent._meta.get_field("reason").max_length:  # type: ignore[operator]
        raise AuditError("The reason is longer than 500 characters.")

    actor_kind: str
    actor_id: uuid.UUID | None
    agency_id: uuid.UUID | None
    if actor is None:
        actor_kind, actor_id, agency_id = ActorKind.ANONYMOUS, None, None
    else:
        actor_kind, actor_id, agency_id = actor.actor_kind, actor.id, actor.agency_id
        partnership_id = partnership_id or actor.partnership_id
    chain_name = str(partnership_id) if partnership_id else SYSTEM_CHAIN

    with transaction.atomic():
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(chain=chain_name)], ignore_conflicts=True
        )
        head = AuditChainHead.objects.select_for_update().get(chain=chain_name)
        event = AuditEvent(
            chain=chain_name,
            seq=head.seq + 1,
            occurred_at=timezone.now(),
            actor_kind=actor_kind,
            actor_id=actor_id,
            agency_id=agency_id,
            action=str(action),
            object_type=object_type,
            object_id=object_id,
            person_id=person_id,
            basis=basis,
            reason=reason,
            changed_fields=fields,
            key_id=sealing.current_key_id(),
            prev_hash=head.hash,
        )
        event.hash = sealing.seal(event, head.hash)
        event.save(force_insert=True)
        head.seq = event.seq
        head.hash = event.hash
        head.save(update_fields=["seq", "hash"])
    return event
