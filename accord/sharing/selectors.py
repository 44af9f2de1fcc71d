"""Reading consent, disclosure decisions and information requests, scoped to the actor.

An agency sees its own consents and decisions, and the requests addressed to it.
Other agencies' items about a person are read through `accord.sharing.policy` in the
people and cases selectors, never here.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from accord.cases.models import AgencyRecord
from accord.core.errors import NotFound
from accord.core.ids import uuid_or_none
from accord.partnership.models import Agency, User
from accord.partnership.permissions import Action
from accord.people.models import Identity, Person
from accord.sharing.models import (
    Consent,
    DecisionStatus,
    DisclosureDecision,
    InformationRequest,
    LawfulBasis,
    RequestStatus,
)


def own_identity_for(*, actor: Any, person: Person) -> Identity | None:
    """The actor's agency's own identity for the person, if it knows her itself."""
    return (
        Identity.objects.filter(person=person, agency_id=actor.agency_id)
        .order_by("recorded_at")
        .first()
    )


def consents_for(*, actor: Any, person: Person) -> QuerySet[Consent]:
    """The actor's agency's consents for the person, newest first."""
    return (
        Consent.objects.filter(
            person=person, agency_id=actor.agency_id, partnership_id=actor.partnership_id
        )
        .prefetch_related("recipient_agencies", "withdrawals")
        .order_by("-recorded_at")
    )


def consent_get_for(*, actor: Any, consent_id: uuid.UUID | str) -> Consent:
    """One of the actor's agency's consents; NotFound for anything else."""
    try:
        return Consent.objects.prefetch_related("recipient_agencies").get(
            pk=consent_id, agency_id=actor.agency_id, partnership_id=actor.partnership_id
        )
    except (Consent.DoesNotExist, ValueError):
        raise NotFound from None


def decisions_for(*, actor: Any, person: Person) -> QuerySet[DisclosureDecision]:
    """The actor's agency's disclosure decisions about the person, newest first."""
    return (
        DisclosureDecision.objects.filter(
            person=person, agency_id=actor.agency_id, partnership_id=actor.partnership_id
        )
        .select_related(
            "recipient_agency",
            "recipient_user",
            "recipient_case__meeting",
            "lawful_basis",
            "decided_by",
        )
        .order_by("-decided_at")
    )


def decision_get_for(*, actor: Any, decision_id: uuid.UUID | str) -> DisclosureDecision:
    """One of the actor's agency's disclosure decisions; NotFound for anything else."""
    try:
        return (
            DisclosureDecision.objects.select_related(
                "recipient_agency",
                "recipient_user",
                "recipient_case__meeting",
                "lawful_basis",
                "decided_by",
                "approved_by",
                "revoked_by",
            )
            .prefetch_related("records")
            .get(pk=decision_id, agency_id=actor.agency_id, partnership_id=actor.partnership_id)
        )
    except (DisclosureDecision.DoesNotExist, ValueError):
        raise NotFound from None


def decisions_awaiting_approval(*, actor: Any) -> QuerySet[DisclosureDecision]:
    """Pending decisions of the actor's agency that the actor may approve: not their own.

    Empty for anyone who may not approve disclosures."""
    if not actor.may(Action.DISCLOSURE_APPROVE):
        return DisclosureDecision.objects.none()
    return (
        DisclosureDecision.objects.filter(
            agency_id=actor.agency_id,
            partnership_id=actor.partnership_id,
            status=DecisionStatus.PENDING,
        )
        .exclude(decided_by_id=actor.id)
        .select_related(
            "recipient_agency", "recipient_user", "recipient_case__meeting", "decided_by"
        )
        .order_by("decided_at")
    )


def requests_to_agency(*, actor: Any) -> QuerySet[InformationRequest]:
    """Open information requests to the actor's agency, oldest first.

    Empty for anyone who may not answer them."""
    if not actor.may(Action.INFORMATION_REQUEST_ANSWER):
        return InformationRequest.objects.none()
    return (
        InformationRequest.objects.filter(
            to_agency_id=actor.agency_id,
            partnership_id=actor.partnership_id,
            status=RequestStatus.OPEN,
        )
        .select_related("from_agency", "from_user")
        .order_by("created_at")
    )


def request_get_for(*, actor: Any, request_id: uuid.UUID | str) -> InformationRequest:
    """A request addressed to the actor's agency; NotFound for anything else."""
    try:
        return InformationRequest.objects.select_related(
            "from_agency", "from_user", "to_agency", "answered_by"
        ).get(pk=request_id, to_agency_id=actor.agency_id, partnership_id=actor.partnership_id)
    except (InformationRequest.DoesNotExist, ValueError):
        raise NotFound from None


def open_request_for(*, actor: Any, request_id: Any, person: Person) -> InformationRequest | None:
    """The open request `?request=` names, if it is to the actor's agency about this
    person and the actor may answer it; None otherwise (the service says why)."""
    wanted = uuid_or_none(request_id)
    if wanted is None or not actor.may(Action.INFORMATION_REQUEST_ANSWER):
        return None
    return (
        InformationRequest.objects.select_related("from_agency", "from_user")
        .filter(
            pk=wanted,
            to_agency_id=actor.agency_id,
            person=person,
            status=RequestStatus.OPEN,
        )
        .first()
    )


def lawful_bases_for(*, actor: Any) -> QuerySet[LawfulBasis]:
    """The partnership's lawful bases staff may choose now."""
    return LawfulBasis.objects.filter(partnership_id=actor.partnership_id, is_active=True)


def partner_agencies_for(*, actor: Any) -> QuerySet[Agency]:
    """The other active agencies of the actor's partnership: whom it may share with."""
    return (
        Agency.objects.filter(partnership_id=actor.partnership_id, is_active=True)
        .exclude(pk=actor.agency_id)
        .order_by("name")
    )


def partnership_users_for(*, actor: Any) -> QuerySet[User]:
    """Active users of the actor's partnership, who may be named on an item."""
    return (
        User.objects.filter(agency__partnership_id=actor.partnership_id, is_active=True)
        .select_related("agency")
        .order_by("agency__name", "display_name")
    )


def own_records_for(*, actor: Any, person: Person) -> QuerySet[AgencyRecord]:
    """The actor's agency's unrestricted records about the person: what a disclosure
    decision may name."""
    return AgencyRecord.objects.filter(
        person=person, agency_id=actor.agency_id, restricted=False
    ).order_by("-occurred_at")


def requests_sent_for(*, actor: Any, person: Person) -> QuerySet[InformationRequest]:
    """The actor's agency's information requests about the person and how each was
    answered, newest first: the requester sees whether it was declined, and why."""
    return (
        InformationRequest.objects.filter(
            person=person, from_agency_id=actor.agency_id, partnership_id=actor.partnership_id
        )
        .select_related("to_agency", "from_user")
        .order_by("-created_at")
    )
