"""Flags: the agencies holding something about a person that the actor may not see.

"Flag, not content": the actor learns only that the agency holds information, and may
ask its single point of contact to share it. Every page and endpoint that shows a
person's flags asks here, so the person page, the chronology and the API flag the same
agencies for the same actor, and audit them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from accord.cases.models import AgencyRecord
from accord.partnership.models import Agency
from accord.people.models import Address, Identity, Person
from accord.sharing import policy
from accord.sharing.reads import PersonReading, Read, reading_for

FLAG_REASON = "information withheld: flag shown"


@dataclass(frozen=True)
class Flag:
    """Another agency holds information about this person that the actor may not see."""

    agency: Agency


def flags_for(*, actor: Any, person: Person, reading: PersonReading | None = None) -> list[Flag]:
    """The agencies holding a record, an identity or an address about the person that the
    actor may not see, by name. Each flag is audited as a refusal, in `reading`.

    A restricted record flags nothing: for anyone not named it does not exist. A
    confidential address flags its agency only where the policy gives the flag; whoever
    would otherwise see the agency's addresses is shown it as withheld instead.
    """
    records = policy.held_elsewhere(actor, AgencyRecord.objects.filter(person=person))
    identities = policy.held_elsewhere(actor, Identity.objects.filter(person=person))
    addresses = (
        policy.held_elsewhere(actor, Address.objects.filter(person=person))
        .exclude(agency_id=actor.agency_id)
        .exclude(agency_id__in=identities.values("agency_id"))
        .only("id", "partnership_id", "person_id", "agency_id", "confidential")
    )
    with reading_for(reading, actor=actor, person_id=person.id) as reading:
        by_address = {
            address.agency_id
            for address in addresses
            if policy.check(actor, address, grants=reading.grants).fields == policy.FLAG_FIELDS
        }
        agencies = list(
            Agency.objects.filter(
                Q(id__in=records.values("agency_id"))
                | Q(id__in=identities.values("agency_id"))
                | Q(id__in=by_address)
            ).order_by("name", "id")
        )
        reading.add(Read("agency", a.id, a.id, False, reason=FLAG_REASON) for a in agencies)
    return [Flag(agency) for agency in agencies]
