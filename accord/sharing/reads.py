"""Auditing what an actor read, item by item, with the basis the policy gave.

Every read of another agency's item is an audit event with its basis; every refusal
too. Reads of the actor's own agency's items are audited where the partnership says
so. The events are written in one statement, inside the request's transaction: if
the audit write fails, the read fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from accord.audit.models import AuditAction
from accord.audit.services import AuditEntry, audit_record_many
from accord.sharing.vocabulary import Basis


@dataclass(frozen=True)
class Read:
    object_type: str
    object_id: uuid.UUID
    holder_agency_id: uuid.UUID
    visible: bool
    basis: str = ""
    reason: str = ""


def audit_own_reads(actor: Any) -> bool:
    return bool(actor.agency.partnership.audit_own_agency_reads)


def record_reads(*, actor: Any, person_id: uuid.UUID | None, reads: Iterable[Read]) -> None:
    """Audit a request's reads and refusals for one person."""
    record_reads_by_person(actor=actor, reads={person_id: reads})


def record_reads_by_person(*, actor: Any, reads: Mapping[uuid.UUID | None, Iterable[Read]]) -> None:
    """Audit a request's reads and refusals about several people (a search's results) in
    one statement, each event with the person it is about."""
    own_too = None
    entries = []
    for person_id, person_reads in reads.items():
        for read in person_reads:
            if not read.visible:
                entries.append(
                    AuditEntry(
                        action=AuditAction.DENY,
                        object_type=read.object_type,
                        object_id=read.object_id,
                        person_id=person_id,
                        reason=read.reason or "content withheld by the access policy",
                    )
                )
                continue
            if read.basis == Basis.OWNER or read.holder_agency_id == actor.agency_id:
                if own_too is None:
                    own_too = audit_own_reads(actor)
                if not own_too:
                    continue
            entries.append(
                AuditEntry(
                    action=AuditAction.READ,
                    object_type=read.object_type,
                    object_id=read.object_id,
                    person_id=person_id,
                    basis=read.basis,
                )
            )
    audit_record_many(actor=actor, entries=entries)
