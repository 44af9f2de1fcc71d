"""Reading agency records: one person's chronology and single records, through the policy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from accord.cases.models import AgencyRecord, RecordVersion
from accord.core.errors import NotFound
from accord.people.models import Person
from accord.sharing import policy
from accord.sharing.flags import Flag, flags_for
from accord.sharing.reads import PersonReading, Read, reading_for, record_reads


@dataclass(frozen=True)
class Chronology:
    records: list[AgencyRecord]
    flags: list[Flag]


def chronology_for(
    *, actor: Any, person: Person, limit: int = 500, reading: PersonReading | None = None
) -> Chronology:
    """The person's records the actor may see, newest first, and the agencies holding
    more than it may see (`accord.sharing.flags`). Every record of another agency read,
    and every flag, is audited in `reading` (a page's, or this call's own)."""
    records = list(
        policy.visible(actor, AgencyRecord.objects.filter(person=person))
        .select_related("agency", "author")
        .order_by("-occurred_at", "-recorded_at")[:limit]
    )
    with reading_for(reading, actor=actor, person_id=person.id) as reading:
        reading.add(
            Read("record", r.id, r.agency_id, True, r.access_basis)  # type: ignore[attr-defined]
            for r in records
        )
        flags = flags_for(actor=actor, person=person, reading=reading)
    return Chronology(records, flags)


def record_get_for(*, actor: Any, record_id: uuid.UUID | str, audit: bool = True) -> AgencyRecord:
    """One record, if the policy lets the actor see it; NotFound otherwise (audited)."""
    try:
        record = AgencyRecord.objects.select_related("agency", "author").get(
            pk=record_id, partnership_id=actor.partnership_id
        )
    except (AgencyRecord.DoesNotExist, ValueError):
        raise NotFound from None
    access = policy.check(actor, record)
    if audit:
        with transaction.atomic():
            record_reads(
                actor=actor,
                person_id=record.person_id,
                reads=[Read("record", record.id, record.agency_id, access.visible, access.basis)],
            )
    if not access.visible:
        raise NotFound
    record.access_basis = access.basis  # type: ignore[attr-defined]
    return record


def versions_of(*, actor: Any, record: AgencyRecord) -> list[RecordVersion]:
    """Every version of a record the actor has already been allowed to see."""
    if not policy.check(actor, record).visible:
        raise NotFound
    return list(record.versions.select_related("author").order_by("-version"))


def own_record_for_correction(*, actor: Any, record_id: uuid.UUID | str) -> AgencyRecord:
    """One of the actor's agency's records it may see, to correct; anything else is
    refused as not found, and the refusal audited."""
    try:
        record = AgencyRecord.objects.select_related("agency", "author").get(
            pk=record_id, partnership_id=actor.partnership_id
        )
    except (AgencyRecord.DoesNotExist, ValueError):
        raise NotFound from None
    access = policy.check(actor, record)
    allowed = access.visible and record.agency_id == actor.agency_id
    with transaction.atomic():
        record_reads(
            actor=actor,
            person_id=record.person_id,
            reads=[
                Read(
                    "record",
                    record.id,
                    record.agency_id,
                    allowed,
                    access.basis,
                    reason="" if allowed else "correction refused: not the agency's record",
                )
            ],
        )
    if not allowed:
        raise NotFound
    return record
