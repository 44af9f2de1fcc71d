"""Reading people and identities, always through the access policy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accord.core.errors import NotFound
from accord.people.models import Address, Identity, Person, normalise_postcode
from accord.sharing import policy
from accord.sharing.models import AccessGrant
from accord.sharing.reads import Read, record_reads, record_reads_by_person


def _known_to(actor: Any) -> Q:
    """A person the actor's agency knows itself, or about whom something was shared with it."""
    now = timezone.now()
    own_identity = Identity.objects.filter(person_id=OuterRef("pk"), agency_id=actor.agency_id)
    shared = AccessGrant.objects.filter(
        Q(recipient_agency_id=actor.agency_id)
        | Q(recipient_user_id=actor.id)
        | Q(recipient_sector=actor.agency.sector),
        Q(valid_until__isnull=True) | Q(valid_until__gt=now),
        person_id=OuterRef("pk"),
        ended_at__isnull=True,
        valid_from__lte=now,
    )
    return Q(Exists(own_identity)) | Q(Exists(shared))


def person_get_for(*, actor: Any, person_id: uuid.UUID | str) -> Person:
    """The person, if the actor's agency knows them or was given something about them.

    Anyone else gets NotFound, exactly as for a person who does not exist.
    """
    try:
        return Person.objects.filter(_known_to(actor)).get(
            pk=person_id, partnership_id=actor.partnership_id
        )
    except (Person.DoesNotExist, ValueError):
        raise NotFound from None


@dataclass(frozen=True)
class IdentityView:
    """An identity as the actor may see it, with its addresses as the policy allows."""

    identity: Identity
    access: policy.Access
    addresses: list[tuple[Address, policy.Access]]


def identities_for(*, actor: Any, person: Person) -> list[IdentityView]:
    """The person's identities the actor may see, each with its addresses (visible ones,
    and confidential ones the actor would otherwise see, marked withheld).

    Reads of other agencies' identities and addresses are audited with their basis,
    and a withheld address as a refusal, in the caller's request."""
    grants = policy.grants_for(actor, person_id=person.id)
    identities = Identity.objects.filter(person=person).select_related("agency")
    addresses = Address.objects.filter(person=person).order_by("-is_current", "-recorded_at")
    by_identity: dict[uuid.UUID, list[tuple[Address, policy.Access]]] = {}
    reads: list[Read] = []
    for address in addresses:
        access = policy.check(actor, address, grants=grants)
        if access.visible or access.withheld:
            by_identity.setdefault(address.identity_id, []).append((address, access))
            reads.append(
                Read("address", address.id, address.agency_id, access.visible, access.basis)
            )
    views = []
    for identity in identities.order_by("recorded_at"):
        access = policy.check(actor, identity, grants=grants)
        if access.visible:
            views.append(IdentityView(identity, access, by_identity.get(identity.id, [])))
            reads.append(Read("identity", identity.id, identity.agency_id, True, access.basis))
    with transaction.atomic():
        record_reads(actor=actor, person_id=person.id, reads=reads)
    return views


def people_search(
    *,
    actor: Any,
    name: str = "",
    date_of_birth: date | None = None,
    postcode: str = "",
    limit: int = 20,
) -> list[Identity]:
    """Identities the actor may see that match, for finding a person.

    A confidential address never matches: its postcode is kept only encrypted, so a
    search by it finds nothing for anyone, and the addresses searched are only those
    the policy lets the actor see. Each other agency's identity shown is an audited
    read, with its basis and its person; a search's reads are written in one statement.
    """
    identities = policy.visible(actor, Identity.objects.all())
    name = " ".join(name.split())
    if name:
        for part in name.split(" ")[:4]:
            identities = identities.filter(
                Q(family_name__istartswith=part)
                | Q(given_names__istartswith=part)
                | Q(other_names__icontains=part)
            )
    if date_of_birth is not None:
        identities = identities.filter(date_of_birth=date_of_birth)
    if postcode:
        addresses = policy.visible(
            actor, Address.objects.filter(postcode=normalise_postcode(postcode))
        ).filter(confidential=False)
        identities = identities.filter(person_id__in=addresses.values("person_id"))
    found = list(
        identities.select_related("agency").order_by("family_name", "given_names", "id")[:limit]
    )
    by_person: dict[uuid.UUID | None, list[Read]] = {}
    for i in found:
        by_person.setdefault(i.person_id, []).append(
            Read("identity", i.id, i.agency_id, True, i.access_basis)  # type: ignore[attr-defined]
        )
    with transaction.atomic():
        record_reads_by_person(actor=actor, reads=by_person)
    return found
