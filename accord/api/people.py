"""API endpoints for people, their records, consent, disclosure decisions and requests.

Thin, like every endpoint: each declares its action per method, fetches through a
selector that takes the actor (404 for what the actor may not see, exactly as for what
does not exist) and writes through a service. What another agency's item shows is the
access policy's answer; the selectors audit every read and refusal.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accord.api import people_serializers as s
from accord.api.views import Paginated
from accord.cases import selectors as records
from accord.cases import services as record_services
from accord.core.errors import NotFound
from accord.partnership.permissions import Action
from accord.people import selectors as people
from accord.people import services as people_services
from accord.people.models import Address
from accord.sharing import policy
from accord.sharing import selectors as sharing
from accord.sharing import services as sharing_services
from accord.sharing.flags import Flag, flags_for
from accord.sharing.reads import PersonReading

PAGE_PARAMETERS = [
    OpenApiParameter("limit", OpenApiTypes.INT, description="How many to return (50 by default)."),
    OpenApiParameter("offset", OpenApiTypes.INT, description="How many to skip."),
]

# A search answers at most this many identities; a caller who needs more narrows it.
SEARCH_LIMIT = 50


def _valid(serializer: type[Any], request: Request) -> dict[str, Any]:
    data = serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _address(address: Address, access: policy.Access) -> dict[str, Any]:
    """An address as the policy shows it: in full, or its agency and "withheld"."""
    shown = policy.fields_of(address, access)
    shown.update(id=address.id, withheld=access.withheld)
    if not access.withheld:
        # A confidential address keeps its postcode only sealed, so no search finds it;
        # whoever is named for it sees it in full.
        shown["postcode"] = address.postcode or address.postcode_sealed
        shown["basis"] = access.basis
    return shown


def _identity(identity: Any, access: policy.Access, **extra: Any) -> dict[str, Any]:
    shown = policy.fields_of(identity, access)
    shown.update(person_id=identity.person_id, access_basis=access.basis, **extra)
    return shown


def _flags(actor: Any, flags: list[Flag]) -> list[dict[str, Any]]:
    may_ask = actor.may(Action.INFORMATION_REQUEST_SEND)
    return [{"agency": flag.agency, "spoc_request": may_ask} for flag in flags]


# --- People -------------------------------------------------------------------------


class PersonSearchView(APIView):
    required_actions = {"POST": Action.PERSON_VIEW}

    @extend_schema(
        request=s.PersonSearchIn,
        responses=s.IdentityPage,
        summary="Find a person among the identities you may see",
        description="Criteria travel in the body, never in the address, so names and dates "
        "of birth stay out of logs. A confidential address's postcode matches nothing. "
        f"One page of at most {SEARCH_LIMIT} identities, each an audited read; narrow the "
        "search to find others.",
    )
    def post(self, request: Request) -> Response:
        criteria = _valid(s.PersonSearchIn, request)
        found = list(
            people.people_search(
                actor=request.user,
                name=criteria.get("name", ""),
                date_of_birth=criteria.get("date_of_birth"),
                postcode=criteria.get("postcode", ""),
                limit=SEARCH_LIMIT,
            )
        )
        # One page, all of it audited: `people_search` audits every identity it returns.
        body = {"count": len(found), "next": None, "previous": None, "results": found}
        return Response(s.IdentityPage(body).data)


class PersonCreateView(APIView):
    required_actions = {"POST": Action.PERSON_RECORD}

    @extend_schema(
        request=s.PersonIn,
        responses={201: s.IdentityOut},
        summary="Record a person as your agency knows them",
        description="Without `person`, a new person is recorded; with it, your agency's "
        "identity is linked by hand to that person.",
    )
    def post(self, request: Request) -> Response:
        actor: Any = request.user
        fields = _valid(s.PersonIn, request)
        person_id = fields.pop("person", None)
        try:
            identity = people_services.identity_create(actor=actor, person_id=person_id, **fields)
        except NotFound:
            raise ValidationError(
                {"person": ["No person in this partnership has this reference."]}
            ) from None
        access = policy.check(actor, identity)
        return Response(s.IdentityOut(_identity(identity, access)).data, status=201)


class PersonDetailView(APIView):
    required_actions = {"GET": Action.PERSON_VIEW}

    @extend_schema(
        responses=s.PersonOut,
        summary="A person: the identities and addresses you may see, and who holds more",
    )
    def get(self, request: Request, person_id: uuid.UUID) -> Response:
        actor: Any = request.user
        person = people.person_get_for(actor=actor, person_id=person_id)
        # One reading: the grants are read once, and every read and flag audited together.
        with PersonReading(actor=actor, person_id=person.id) as reading:
            found = people.identities_for(actor=actor, person=person, reading=reading)
            flags = flags_for(actor=actor, person=person, reading=reading)
        body = {
            "id": person.id,
            "identities": [
                _identity(
                    v.identity,
                    v.access,
                    addresses=[_address(a, access) for a, access in v.addresses],
                )
                for v in found.identities
            ],
            "other_addresses": [_address(a, access) for a, access in found.other_addresses],
            "flags": _flags(actor, flags),
        }
        return Response(s.PersonOut(body).data)


class ChronologyView(APIView):
    required_actions = {"GET": Action.PERSON_VIEW}

    @extend_schema(
        responses=s.ChronologyOut,
        summary="The person's records you may see, newest first, and who holds more",
    )
    def get(self, request: Request, person_id: uuid.UUID) -> Response:
        actor: Any = request.user
        person = people.person_get_for(actor=actor, person_id=person_id)
        chronology = records.chronology_for(actor=actor, person=person)
        body = {
            "records": chronology.records,
            "flags": _flags(actor, chronology.flags),
        }
        return Response(s.ChronologyOut(body).data)


class AddressCreateView(APIView):
    required_actions = {"POST": Action.PERSON_RECORD}

    @extend_schema(
        request=s.AddressIn,
        responses={201: s.AddressOut},
        summary="Add an address to your agency's identity for the person",
        description="A confidential address (a refuge, a new home) is shown only to the "
        "users and agencies named, and you; everyone else who sees your agency's "
        "addresses sees it withheld, and no search finds her by its postcode.",
    )
    def post(self, request: Request, person_id: uuid.UUID) -> Response:
        actor: Any = request.user
        person = people.person_get_for(actor=actor, person_id=person_id)
        fields = _valid(s.AddressIn, request)
        identity = sharing.own_identity_for(actor=actor, person=person)
        if identity is None:
            raise ValidationError(
                {"person": ["Record this person's identity for your agency first."]}
            )
        address = people_services.address_add(
            actor=actor,
            identity_id=identity.id,
            lines=fields["lines"],
            postcode=fields["postcode"],
            confidential=fields["confidential"],
            named_user_ids=fields["named_users"],
            named_agency_ids=fields["named_agencies"],
        )
        return Response(s.AddressOut(_address(address, policy.check(actor, address))).data, 201)


# --- Records ------------------------------------------------------------------------


def _record_detail(actor: Any, record: Any) -> dict[str, Any]:
    """The record and its versions: the shape of `RecordDetailOut`."""
    data: dict[str, Any] = dict(s.RecordOut(record).data)
    data["versions"] = s.VersionOut(records.versions_of(actor=actor, record=record), many=True).data
    return data


class RecordCreateView(APIView):
    required_actions = {"POST": Action.PERSON_RECORD}

    @extend_schema(
        request=s.RecordIn,
        responses={201: s.RecordDetailOut},
        summary="Record an event or note about a person your agency knows",
    )
    def post(self, request: Request, person_id: uuid.UUID) -> Response:
        actor: Any = request.user
        fields = _valid(s.RecordIn, request)
        record = record_services.record_create(actor=actor, person_id=person_id, **fields)
        record = records.record_get_for(actor=actor, record_id=record.id, audit=False)
        return Response(_record_detail(actor, record), status=201)


class RecordDetailView(APIView):
    required_actions = {"GET": Action.PERSON_VIEW}

    @extend_schema(responses=s.RecordDetailOut, summary="One record, with every version")
    def get(self, request: Request, record_id: uuid.UUID) -> Response:
        record = records.record_get_for(actor=request.user, record_id=record_id)
        return Response(_record_detail(request.user, record))


class RecordCorrectView(APIView):
    required_actions = {"POST": Action.PERSON_RECORD}

    @extend_schema(
        request=s.RecordCorrectionIn,
        responses={201: s.RecordDetailOut},
        summary="Correct your agency's record by adding a version; earlier ones stay",
    )
    def post(self, request: Request, record_id: uuid.UUID) -> Response:
        actor: Any = request.user
        fields = _valid(s.RecordCorrectionIn, request)
        record = record_services.record_correct(actor=actor, record_id=record_id, **fields)
        record = records.record_get_for(actor=actor, record_id=record.id, audit=False)
        return Response(_record_detail(actor, record), status=201)


# --- Consent ------------------------------------------------------------------------


class ConsentListView(Paginated):
    required_actions = {"GET": Action.PERSON_VIEW, "POST": Action.CONSENT_RECORD}

    @extend_schema(
        responses=s.ConsentPage,
        parameters=PAGE_PARAMETERS,
        summary="Your agency's consents for the person, newest first",
        operation_id="person_consents_list",
    )
    def get(self, request: Request, person_id: uuid.UUID) -> Response:
        person = people.person_get_for(actor=request.user, person_id=person_id)
        return self.page(
            request, sharing.consents_for(actor=request.user, person=person), s.ConsentOut
        )

    @extend_schema(
        request=s.ConsentIn,
        responses={201: s.ConsentOut},
        summary="Record her consent (or refusal) to your agency sharing",
        description="Consent given lets your agency's information of the chosen kinds be "
        "seen by the chosen agencies and sectors, for the chosen purposes, until it expires "
        "or is withdrawn.",
    )
    def post(self, request: Request, person_id: uuid.UUID) -> Response:
        actor: Any = request.user
        fields = _valid(s.ConsentIn, request)
        consent = sharing_services.consent_record(
            actor=actor,
            person_id=person_id,
            decision=fields["decision"],
            given_by=fields["given_by"],
            method=fields["method"],
            recipient_agency_ids=fields["recipient_agencies"],
            recipient_sectors=fields["recipient_sectors"],
            categories=fields["categories"],
            purposes=fields["purposes"],
            starts_at=fields["starts_at"],
            expires_at=fields["expires_at"],
            explanation=fields["explanation"],
            information_request_id=fields["information_request"],
        )
        consent = sharing.consent_get_for(actor=actor, consent_id=consent.id)
        return Response(s.ConsentOut(consent).data, status=201)


class ConsentWithdrawView(APIView):
    required_actions = {"POST": Action.CONSENT_RECORD}

    @extend_schema(
        request=s.WithdrawalIn,
        responses={201: s.ConsentOut},
        summary="Withdraw consent, wholly or in part; effective on the next request",
    )
    def post(self, request: Request, consent_id: uuid.UUID) -> Response:
        actor: Any = request.user
        fields = _valid(s.WithdrawalIn, request)
        sharing_services.consent_withdraw(
            actor=actor,
            consent_id=consent_id,
            recipient_agency_ids=fields["recipient_agencies"],
            recipient_sectors=fields["recipient_sectors"],
            categories=fields["categories"],
            note=fields["note"],
        )
        consent = sharing.consent_get_for(actor=actor, consent_id=consent_id)
        return Response(s.ConsentOut(consent).data, status=201)


# --- Disclosure decisions -----------------------------------------------------------


class DecisionCreateView(APIView):
    required_actions = {"POST": Action.DISCLOSURE_DECIDE}

    @extend_schema(
        request=s.DecisionIn,
        responses={201: s.DecisionOut},
        summary="Decide to share without or beyond consent, on a lawful basis",
        description="Shared at once when the partnership needs no second person for the "
        "basis; otherwise `pending` until your agency's SPOC approves it.",
    )
    def post(self, request: Request, person_id: uuid.UUID) -> Response:
        actor: Any = request.user
        fields = _valid(s.DecisionIn, request)
        decision = sharing_services.decision_create(
            actor=actor,
            person_id=person_id,
            purpose=fields["purpose"],
            lawful_basis_id=fields["lawful_basis"],
            necessity=fields["necessity"],
            victim_survivor_told=fields["victim_survivor_told"],
            not_told_reason=fields["not_told_reason"],
            categories=fields["categories"],
            record_ids=fields["records"],
            recipient_agency_id=fields["recipient_agency"],
            recipient_user_id=fields["recipient_user"],
            recipient_meeting_id=fields["recipient_meeting"],
            expires_at=fields["expires_at"],
            information_request_id=fields["information_request"],
        )
        decision = sharing.decision_get_for(actor=actor, decision_id=decision.id)
        return Response(s.DecisionOut(decision).data, status=201)


class DecisionDetailView(APIView):
    required_actions = {"GET": Action.DISCLOSURE_DECIDE}

    @extend_schema(responses=s.DecisionOut, summary="One of your agency's disclosure decisions")
    def get(self, request: Request, decision_id: uuid.UUID) -> Response:
        decision = sharing.decision_get_for(actor=request.user, decision_id=decision_id)
        return Response(s.DecisionOut(decision).data)


class _DecisionStep(APIView):
    """Approve, refuse or revoke: one service call on one of the agency's decisions."""

    serializer: type[Any]

    def step(self, actor: Any, decision_id: uuid.UUID, fields: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, decision_id: uuid.UUID) -> Response:
        actor: Any = request.user
        fields = _valid(self.serializer, request)
        self.step(actor, decision_id, fields)
        decision = sharing.decision_get_for(actor=actor, decision_id=decision_id)
        return Response(s.DecisionOut(decision).data)


class DecisionApproveView(_DecisionStep):
    required_actions = {"POST": Action.DISCLOSURE_APPROVE}
    serializer = s.ApprovalIn

    def step(self, actor: Any, decision_id: uuid.UUID, fields: dict[str, Any]) -> None:
        sharing_services.decision_approve(actor=actor, decision_id=decision_id, **fields)

    @extend_schema(
        request=s.ApprovalIn,
        responses=s.DecisionOut,
        summary="Approve a pending decision (not your own): the information is shared now",
    )
    def post(self, request: Request, decision_id: uuid.UUID) -> Response:
        return super().post(request, decision_id)


class DecisionRefuseView(_DecisionStep):
    required_actions = {"POST": Action.DISCLOSURE_APPROVE}
    serializer = s.RefusalIn

    def step(self, actor: Any, decision_id: uuid.UUID, fields: dict[str, Any]) -> None:
        sharing_services.decision_refuse(actor=actor, decision_id=decision_id, **fields)

    @extend_schema(
        request=s.RefusalIn,
        responses=s.DecisionOut,
        summary="Refuse a pending decision: nothing is shared; the reasons are kept",
    )
    def post(self, request: Request, decision_id: uuid.UUID) -> Response:
        return super().post(request, decision_id)


class DecisionRevokeView(_DecisionStep):
    required_actions = {"POST": Action.DISCLOSURE_DECIDE}
    serializer = s.RevocationIn

    def step(self, actor: Any, decision_id: uuid.UUID, fields: dict[str, Any]) -> None:
        sharing_services.decision_revoke(actor=actor, decision_id=decision_id, **fields)

    @extend_schema(
        request=s.RevocationIn,
        responses=s.DecisionOut,
        summary="Stop sharing under a decision from now on",
    )
    def post(self, request: Request, decision_id: uuid.UUID) -> Response:
        return super().post(request, decision_id)


# --- Information requests -----------------------------------------------------------


class RequestCreateView(APIView):
    required_actions = {"POST": Action.INFORMATION_REQUEST_SEND}

    @extend_schema(
        request=s.RequestIn,
        responses={201: s.RequestOut},
        summary="Ask an agency that holds more about the person (a flag) to share it",
    )
    def post(self, request: Request, person_id: uuid.UUID) -> Response:
        fields = _valid(s.RequestIn, request)
        sent = sharing_services.information_request_send(
            actor=request.user,
            person_id=person_id,
            to_agency_id=fields["to_agency"],
            purpose=fields["purpose"],
            message=fields["message"],
        )
        return Response(s.RequestOut(sent).data, status=201)


class RequestListView(Paginated):
    required_actions = {"GET": Action.INFORMATION_REQUEST_ANSWER}

    @extend_schema(
        responses=s.RequestPage,
        parameters=PAGE_PARAMETERS,
        summary="Open information requests to your agency, oldest first (SPOCs)",
        operation_id="information_requests_list",
    )
    def get(self, request: Request) -> Response:
        return self.page(request, sharing.requests_to_agency(actor=request.user), s.RequestOut)


class RequestDeclineView(APIView):
    required_actions = {"POST": Action.INFORMATION_REQUEST_ANSWER}

    @extend_schema(
        request=s.DeclineIn,
        responses=s.RequestOut,
        summary="Decline a request to your agency, with the reason",
        description="To share instead, record consent or a disclosure decision naming the "
        "request as `information_request`.",
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        fields = _valid(s.DeclineIn, request)
        declined = sharing_services.information_request_decline(
            actor=request.user,
            request_id=request_id,
            reason=fields["reason"],
        )
        return Response(s.RequestOut(declined).data)
