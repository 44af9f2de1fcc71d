"""Reading people and identities, always through the access policy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accord.core.errors import NotFound
from accord.people.models import Address, Identity, Person, normalise_postcode
from accord.sharing import policy
from accord.sharing.models import AccessGrant
from accord.sharing.reads import PersonReading, Read, reading_for, record_reads_by_person


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


def merged_into_person(person_id: uuid.UUID) -> set[uuid.UUID]:
    """The persons merged into this one, directly or through merges of merges, while
    those merges stand: what was filed under their ids is now about this person."""
    found: set[uuid.UUID] = set()
    frontier = {person_id}
    while frontier:
        frontier = (
            set(Person.objects.filter(merged_into_id__in=frontier).values_list("id", flat=True))
            - found
        )
        found |= frontier
    return found


def survivor_for(*, actor: Any, person_id: uuid.UUID | str) -> Person | None:
    """The person a merged person of the actor's partnership now is (following merges
    of merges), if the actor may see that person; otherwise None."""
    try:
        merged = Person.objects.filter(
            pk=person_id, partnership_id=actor.partnership_id, merged_into__isnull=False
        ).first()
    except (ValueError, ValidationError):
        return None
    seen: set[uuid.UUID] = set()
    while merged is not None and merged.merged_into_id is not None and merged.id not in seen:
        seen.add(merged.id)
        merged = Person.objects.filter(pk=merged.merged_into_id).first()
    if merged is None or merged.id in seen:
        return None
    try:
        return person_get_for(actor=actor, person_id=merged.id)
    except NotFound:
        return None


@dataclass(frozen=True)
class IdentityView:
    """An identity as the actor may see it, with its addresses as the policy allows."""

    identity: Identity
    access: policy.Access
    addresses: list[tuple[Address, policy.Access]]


@dataclass(frozen=True)
class PersonIdentities:
    """Who the person is, as far as the actor may see: the identities it may see, each
    with its addresses, and the addresses it may see (or sees withheld) whose identity
    it may not see (a refuge address named for the actor's agency, say)."""

    identities: list[IdentityView]
    other_addresses: list[tuple[Address, policy.Access]]


def identities_for(
    *, actor: Any, person: Person, reading: PersonReading | None = None
) -> PersonIdentities:
    """The person's identities the actor may see, each with its addresses (visible ones,
    and confidential ones the actor would otherwise see, marked withheld), and the
    addresses of that kind whose identity the actor may not see.

    Reads of other agencies' identities and addresses are audited with their basis,
    and a withheld address as a refusal, in `reading` (a page's, or this call's own)."""
    addresses = (
        Address.objects.filter(person=person)
        .select_related("agency")
        .order_by("-is_current", "-recorded_at")
    )
    identities = Identity.objects.filter(person=person).select_related("agency")
    with reading_for(reading, actor=actor, person_id=person.id) as reading:
        shown: list[tuple[Address, policy.Access]] = []
        for address in addresses:
            access = policy.check(actor, address, grants=reading.grants)
            if access.visible or access.withheld:
                shown.append((address, access))
        reading.add(Read("address", a.id, a.agency_id, acc.visible, acc.basis) for a, acc in shown)
        views = []
        for identity in identities.order_by("recorded_at"):
            access = policy.check(actor, identity, grants=reading.grants)
            if access.visible:
                its_addresses = [(a, acc) for a, acc in shown if a.identity_id == identity.id]
                views.append(IdentityView(identity, access, its_addresses))
        reading.add(
            Read("identity", v.identity.id, v.identity.agency_id, True, v.access.basis)
            for v in views
        )
    seen = {v.identity.id for v in views}
    return PersonIdentities(views, [(a, acc) for a, acc in shown if a.identity_id not in seen])


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
