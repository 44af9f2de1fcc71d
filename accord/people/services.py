"""Recording people as an agency knows them: identities and addresses."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accord.audit.models import AuditAction
from accord.audit.services import audit_record
from accord.core.errors import require
from accord.partnership.models import Agency, User
from accord.partnership.permissions import Action
from accord.people.models import Address, Gender, Identity, Person, normalise_postcode
from accord.sharing.models import AccessGrant
from accord.sharing.vocabulary import Basis, InformationCategory

IDENTITY_FIELDS = (
    "given_names",
    "family_name",
    "other_names",
    "date_of_birth",
    "gender",
    "phone",
    "email",
    "nhs_number",
    "police_id",
    "local_id",
)


def _check_identity(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    unknown = set(fields) - set(IDENTITY_FIELDS)
    if unknown:
        errors[sorted(unknown)[0]] = ["This is not a field of an identity."]
    gender = fields.get("gender", Gender.NOT_KNOWN)
    if gender not in Gender.values:
        errors["gender"] = [f"'{gender}' is not one of the allowed values."]
    born = fields.get("date_of_birth")
    if born is not None and born > timezone.localdate():
        errors["date_of_birth"] = ["The date of birth cannot be in the future."]
    nhs = "".join(str(fields.get("nhs_number", "")).split())
    if nhs and (not nhs.isdigit() or len(nhs) != 10):
        errors["nhs_number"] = ["An NHS number is 10 digits."]
    if errors:
        raise ValidationError(errors)
    cleaned = {name: fields[name] for name in IDENTITY_FIELDS if name in fields}
    if "nhs_number" in cleaned:
        cleaned["nhs_number"] = nhs
    for name in ("given_names", "family_name", "other_names", "phone", "police_id", "local_id"):
        if name in cleaned:
            cleaned[name] = " ".join(str(cleaned[name]).split())
    return cleaned


def identity_create(*, actor: Any, person_id: uuid.UUID | None = None, **fields: Any) -> Identity:
    """Record a person as the actor's agency knows them.

    With `person_id`, the identity is linked by hand to a person the actor can already
    see; without it, a new person is created and the person index matches it on
    arrival (accord.people.index.online): it may join a matching person at once, or
    put the pair in the review queue.
    """
    require(actor, Action.PERSON_RECORD)
    cleaned = _check_identity(fields)
    with transaction.atomic():
        _index_lock(actor)
        if person_id is None:
            person = Person.objects.create(partnership_id=actor.partnership_id)
        else:
            # Linking by hand: the person's reference reached the agency out of band
            # (a referral, a MARAC list). Any person of the partnership may be named;
            # the link is audited, and the person index will review such links.
            person = _person_in_partnership(actor, person_id)
        identity = Identity.objects.create(
            partnership_id=actor.partnership_id,
            person=person,
            agency_id=actor.agency_id,
            recorded_by=actor if isinstance(actor, User) else None,
            may_be_shared=AccessGrant.objects.cover_contact_details(
                person_id=person.id, agency_id=actor.agency_id
            ),
            **cleaned,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="identity",
            object_id=identity.id,
            person_id=person.id,
            changed_fields=[name for name, value in cleaned.items() if value],
        )
        _match(identity, actor)
    identity.refresh_from_db(fields=["person"])
    return identity


def _index_lock(actor: Any) -> None:
    """The person index's lock, first in a transaction that will match an identity
    (`candidates.lock_writers`: taken before any row lock)."""
    from accord.people.index.candidates import lock_writers

    lock_writers(actor.partnership_id)


def _match(identity: Identity, actor: Any) -> None:
    """Match the identity on arrival or change, in the caller's transaction."""
    from accord.people.index.online import match_identity

    match_identity(identity, actor=actor)


def identity_update(*, actor: Any, identity_id: uuid.UUID, **fields: Any) -> Identity:
    """Correct or complete one of the actor's agency's identities; the person index
    matches it again (a change can reveal a match, or a review item)."""
    require(actor, Action.PERSON_RECORD)
    cleaned = _check_identity(fields)
    with transaction.atomic():
        _index_lock(actor)  # then read her as the last writer left her
        identity = _own_identity(actor, identity_id)
        changed = [name for name, value in cleaned.items() if getattr(identity, name) != value]
        if not changed:
            return identity
        for name in changed:
            setattr(identity, name, cleaned[name])
        identity.updated_at = timezone.now()
        identity.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="identity",
            object_id=identity.id,
            person_id=identity.person_id,
            changed_fields=changed,
        )
        _match(identity, actor)
    identity.refresh_from_db(fields=["person"])
    return identity


def _person_in_partnership(actor: Any, person_id: uuid.UUID) -> Person:
    from accord.core.errors import NotFound

    try:
        person = Person.objects.get(pk=person_id, partnership_id=actor.partnership_id)
    except (Person.DoesNotExist, ValueError):
        raise NotFound from None
    # A reference to a person merged into another leads to the one she now is.
    seen = {person.id}
    while person.merged_into_id is not None and person.merged_into_id not in seen:
        seen.add(person.merged_into_id)
        person = Person.objects.get(pk=person.merged_into_id)
    return person


def _own_identity(actor: Any, identity_id: uuid.UUID) -> Identity:
    from accord.core.errors import NotFound

    try:
        return Identity.objects.get(
            pk=identity_id, agency_id=actor.agency_id, partnership_id=actor.partnership_id
        )
    except (Identity.DoesNotExist, ValueError):
        raise NotFound from None


def address_add(
    *,
    actor: Any,
    identity_id: uuid.UUID,
    lines: str,
    postcode: str,
    confidential: bool = False,
    named_user_ids: Iterable[uuid.UUID] = (),
    named_agency_ids: Iterable[uuid.UUID] = (),
) -> Address:
    """Add an address to one of the actor's agency's identities.

    A confidential address (a refuge, a new home) is shown only to the users and
    agencies named here; the recording user is always named. Its postcode is stored
    only encrypted, so no search finds her by it.
    """
    require(actor, Action.PERSON_RECORD)
    identity = _own_identity(actor, identity_id)
    lines = "\n".join(line.strip() for line in lines.strip().splitlines() if line.strip())
    errors: dict[str, list[str]] = {}
    if not lines:
        errors["lines"] = ["Enter the address."]
    compact = normalise_postcode(postcode)
    if not compact or len(compact) > 8:
        errors["postcode"] = ["Enter a postcode, such as AB1 2CD."]
    users = list(User.objects.filter(id__in=list(named_user_ids), is_active=True))
    agencies = list(Agency.objects.filter(id__in=list(named_agency_ids)))
    if any(u.partnership_id != actor.partnership_id for u in users) or len(users) != len(
        set(named_user_ids)
    ):
        errors["named_users"] = ["Name only active users of this partnership."]
    if any(a.partnership_id != actor.partnership_id for a in agencies) or len(agencies) != len(
        set(named_agency_ids)
    ):
        errors["named_agencies"] = ["Name only agencies of this partnership."]
    if not confidential and (users or agencies):
        errors["confidential"] = ["Only a confidential address has named users or agencies."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _index_lock(actor)
        # Her person as the last merge or undo left it: the address is filed under it.
        identity.refresh_from_db(fields=["person"])
        Address.objects.filter(identity=identity, is_current=True).update(is_current=False)
        address = Address.objects.create(
            partnership_id=actor.partnership_id,
            identity=identity,
            person_id=identity.person_id,
            agency_id=identity.agency_id,
            lines=lines,
            postcode="" if confidential else compact,
            postcode_sealed=compact,
            confidential=confidential,
            recorded_by=actor if isinstance(actor, User) else None,
        )
        if confidential:
            named_users = {u.id for u in users}
            if isinstance(actor, User):
                named_users.add(actor.id)
            _name_for(actor, address, users=named_users, agencies={a.id for a in agencies})
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="address",
            object_id=address.id,
            person_id=identity.person_id,
            changed_fields=["lines", "postcode", "confidential"],
        )
        _match(identity, actor)
    return address


def _name_for(
    actor: Any, address: Address, *, users: Iterable[uuid.UUID], agencies: Iterable[uuid.UUID]
) -> None:
    now = timezone.now()
    common = dict(
        partnership_id=actor.partnership_id,
        person_id=address.person_id,
        holder_agency_id=address.agency_id,
        category=InformationCategory.ADDRESS,
        item_id=address.id,
        basis=Basis.NAMED,
        source_type="address",
        source_id=address.id,
        valid_from=now,
    )
    AccessGrant.objects.write(
        [AccessGrant(recipient_user_id=u, **common) for u in users]
        + [AccessGrant(recipient_agency_id=a, **common) for a in agencies]
    )
