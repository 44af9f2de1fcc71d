"""Reads the API needs beyond the people, cases and sharing selectors."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from accord.cases.models import AgencyRecord
from accord.partnership.models import Agency
from accord.people.models import Identity, Person
from accord.sharing import policy
from accord.sharing.reads import Read, record_reads


def person_flags_for(*, actor: Any, person: Person) -> list[Agency]:
    """Agencies holding identities or records about the person that the actor may not
    see ("flag, not content"), by name. Each flag shown is audited as a refusal, as the
    chronology audits its own."""
    agency_ids: set[uuid.UUID] = set()
    for model in (Identity, AgencyRecord):
        hidden = policy.held_elsewhere(actor, model._default_manager.filter(person=person))
        agency_ids |= set(hidden.values_list("agency_id", flat=True))
    agencies = list(Agency.objects.filter(id__in=agency_ids).order_by("name"))
    with transaction.atomic():
        record_reads(
            actor=actor,
            person_id=person.id,
            reads=[
                Read("agency", a.id, a.id, False, reason="information withheld: flag shown")
                for a in agencies
            ],
        )
    return agencies
