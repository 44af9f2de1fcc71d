"""The person pages: finding a person, what agencies know about her, and sharing it.

Thin views over the people, cases and sharing selectors and services. Every read of
another agency's information goes through a selector that asks the access policy and
audits the read. Names and dates of birth travel only in POST bodies, never in a URL.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.cases import selectors as records
from accord.cases import services as record_services
from accord.core.declare import requires
from accord.core.errors import NotFound
from accord.marac import selectors as marac
from accord.partnership.permissions import Action
from accord.partnership.selectors import agency_get_for
from accord.partnership.vocabulary import Sector
from accord.people import selectors as people
from accord.people import services as people_services
from accord.people.index import review as index_review
from accord.people.models import Person
from accord.sharing import selectors as sharing
from accord.sharing import services as sharing_services
from accord.sharing.models import DecisionStatus, RequestStatus
from accord.sharing.reads import PersonReading
from accord.sharing.vocabulary import Basis, InformationCategory, Purpose
from accord.web import people_forms as pf

FORM = "web/people/form.html"

# How a chronology entry from another agency came to be shown, in plain words.
BASIS_LABELS = {
    Basis.CONSENT: "Shared with you by consent",
    Basis.DISCLOSURE: "Shared with you by a disclosure decision",
    Basis.NAMED: "You are named on it",
    Basis.MARAC: "Shared for MARAC",
}


def _apply_errors(form: Form, error: ValidationError, renames: dict[str, str]) -> None:
    """Show a service's errors against the form field they are about."""
    for field, field_messages in error.message_dict.items():
        target: str | None = renames.get(field, field)
        if target not in form.fields:
            target = None
        for message in field_messages:
            form.add_error(target, message)


def _form_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    return render(request, context.pop("template", FORM), context)


def _labels(values: list[str], choices: Any) -> list[str]:
    names = dict(choices)
    return [str(names.get(value, value)) for value in values]


def _labelled(consent: Any) -> Any:
    """The consent, with its scope in the words staff read."""
    consent.sector_labels = _labels(consent.recipient_sectors, Sector.choices)
    consent.category_labels = _labels(consent.categories, InformationCategory.choices)
    consent.purpose_labels = _labels(consent.purposes, Purpose.choices)
    return consent


def _word(actor: Any) -> str:
    return str(actor.agency.word_for_victim_survivor)


# --- Finding and recording a person -------------------------------------------------


@requires(Action.PERSON_VIEW)
@never_cache
@require_http_methods(["GET", "POST"])
def people_search(request: HttpRequest) -> HttpResponse:
    """Find a person among the identities the actor may see.

    The search is posted (by htmx as one types), never put in the address, so names
    and dates of birth stay out of URLs and logs.
    """
    actor: Any = request.user
    form = pf.PersonSearchForm(request.POST or None)
    results = None
    if request.method == "POST" and form.is_valid() and form.has_terms():
        results = list(
            people.people_search(
                actor=actor,
                name=form.cleaned_data["name"],
                date_of_birth=form.cleaned_data["date_of_birth"],
                postcode=form.cleaned_data["postcode"],
            )
        )
    context = {"form": form, "results": results}
    if request.headers.get("HX-Request"):
        return render(request, "web/people/_results.html", context)
    return render(request, "web/people/search.html", context)


@requires(Action.PERSON_RECORD)
@require_http_methods(["GET", "POST"])
def person_new(request: HttpRequest) -> HttpResponse:
    """Record a person as the actor's agency knows them: a new person, or linked by hand."""
    actor: Any = request.user
    form = pf.IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        person_id = fields.pop("person_reference")
        try:
            identity = people_services.identity_create(actor=actor, person_id=person_id, **fields)
        except ValidationError as error:
            _apply_errors(form, error, {})
        except NotFound:
            form.add_error("person_reference", "No person in this partnership has this reference.")
        else:
            messages.success(request, "The person has been recorded for your agency.")
            return redirect("web:person", person_id=identity.person_id)
    return _form_page(
        request,
        {
            "form": form,
            "title": "Record a new person",
            "submit": "Record the person",
            "intro": (
                "Record the person as your agency knows them. Other agencies see these "
                "details only where sharing allows."
            ),
        },
    )


# --- The person page ----------------------------------------------------------------


@requires(Action.PERSON_VIEW)
@never_cache
@require_GET
def person(request: HttpRequest, person_id: Any) -> HttpResponse:
    """What agencies know about the person, as far as the access policy allows."""
    actor: Any = request.user
    try:
        subject = people.person_get_for(actor=actor, person_id=person_id)
    except NotFound:
        # A person merged into another: her page is now the other's, if the actor may see it.
        survivor = people.survivor_for(actor=actor, person_id=person_id)
        if survivor is None:
            raise
        return redirect("web:person", person_id=survivor.id)
    # One reading: the grants are read once, and every read and flag audited together.
    with PersonReading(actor=actor, person_id=subject.id) as reading:
        found = people.identities_for(actor=actor, person=subject, reading=reading)
        chronology = records.chronology_for(actor=actor, person=subject, reading=reading)
    identities = found.identities
    entries = [
        {
            "record": record,
            "own": record.agency_id == actor.agency_id,
            "basis": BASIS_LABELS.get(record.access_basis, ""),  # type: ignore[attr-defined]
        }
        for record in chronology.records
    ]
    own_identity = next(
        (v.identity for v in identities if v.identity.agency_id == actor.agency_id), None
    )
    name_from = own_identity or (identities[0].identity if identities else None)
    context = {
        "person": subject,
        "word": _word(actor),
        "name": name_from.full_name if name_from else "",
        "identities": identities,
        "other_addresses": found.other_addresses,
        "entries": entries,
        "flags": chronology.flags,
        "knows_her": own_identity is not None,
        "consents": [_labelled(c) for c in sharing.consents_for(actor=actor, person=subject)],
        "decisions": sharing.decisions_for(actor=actor, person=subject),
        "requests_sent": sharing.requests_sent_for(actor=actor, person=subject),
        "marac_cases": marac.cases_for_person(actor=actor, person=subject),
        # The person index's merges into her, for its reviewers to undo (web/index/).
        "merges": (
            index_review.merges_for(actor=actor, person=subject)
            if actor.may(Action.PERSON_INDEX_REVIEW)
            else []
        ),
        # Taking one record out: offered to a reviewer who sees more than one of hers
        # (hidden ones are not counted: the offer would tell that they exist).
        "detachable": actor.may(Action.PERSON_INDEX_REVIEW) and len(identities) > 1,
        "may": {
            "record": actor.may(Action.PERSON_RECORD),
            "consent": actor.may(Action.CONSENT_RECORD),
            "decide": actor.may(Action.DISCLOSURE_DECIDE),
            "ask": actor.may(Action.INFORMATION_REQUEST_SEND),
            "audit": actor.may(Action.PERSON_AUDIT_VIEW),
            "refer": actor.may(Action.MARAC_REFER),
            "review": actor.may(Action.PERSON_INDEX_REVIEW),
        },
        "now": timezone.now(),
    }
    return render(request, "web/people/person.html", context)


# --- Records ------------------------------------------------------------------------


@requires(Action.PERSON_RECORD)
@require_http_methods(["GET", "POST"])
def record_new(request: HttpRequest, person_id: Any) -> HttpResponse:
    actor: Any = request.user
    subject = people.person_get_for(actor=actor, person_id=person_id)
    form = pf.RecordCreateForm(
        request.POST or None,
        users=sharing.partnership_users_for(actor=actor),
        initial={"occurred_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = record_services.record_create(
                actor=actor,
                person_id=subject.id,
                kind=data["kind"],
                category=data["category"],
                occurred_at=form.occurred_at(),
                summary=data["summary"],
                body=data["body"],
                restricted_to=data["restricted_to"] if data["restricted"] else None,
            )
        except ValidationError as error:
            _apply_errors(form, error, {"occurred_at": "occurred_on"})
        else:
            messages.success(request, "The record has been added.")
            return redirect("web:record", record_id=record.id)
    return _form_page(
        request,
        {
            "form": form,
            "person": subject,
            "title": "Add a record",
            "caption": _word(actor).capitalize(),
            "submit": "Add the record",
        },
    )


@requires(Action.PERSON_VIEW)
@never_cache
@require_GET
def record(request: HttpRequest, record_id: Any) -> HttpResponse:
    """One record and its versions, if the policy allows (the read is audited)."""
    actor: Any = request.user
    item = records.record_get_for(actor=actor, record_id=record_id)
    context = {
        "record": item,
        "versions": records.versions_of(actor=actor, record=item),
        "own": item.agency_id == actor.agency_id,
        "basis": BASIS_LABELS.get(item.access_basis, ""),  # type: ignore[attr-defined]
        "may_correct": item.agency_id == actor.agency_id and actor.may(Action.PERSON_RECORD),
    }
    return render(request, "web/people/record.html", context)


@requires(Action.PERSON_RECORD)
@require_http_methods(["GET", "POST"])
def record_correct(request: HttpRequest, record_id: Any) -> HttpResponse:
    """Correct one of the agency's own records by adding a version."""
    actor: Any = request.user
    item = records.own_record_for_correction(actor=actor, record_id=record_id)
    occurred = timezone.localtime(item.occurred_at)
    form = pf.RecordCorrectForm(
        request.POST or None,
        initial={
            "kind": item.kind,
            "category": item.category,
            "occurred_on": occurred.date(),
            "occurred_time": occurred.strftime("%H:%M"),
            "summary": item.summary,
            "body": item.body,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        occurred_at = form.occurred_at()
        if occurred_at == occurred.replace(second=0, microsecond=0):
            occurred_at = item.occurred_at  # unchanged to the minute the form shows
        try:
            record_services.record_correct(
                actor=actor,
                record_id=item.id,
                reason=data["reason"],
                kind=data["kind"],
                category=data["category"],
                occurred_at=occurred_at,
                summary=data["summary"],
                body=data["body"],
            )
        except ValidationError as error:
            _apply_errors(form, error, {"occurred_at": "occurred_on"})
        else:
            messages.success(request, "The record has been corrected. Earlier versions are kept.")
            return redirect("web:record", record_id=item.id)
    return _form_page(
        request,
        {
            "form": form,
            "title": "Correct a record",
            "submit": "Save the correction",
            "intro": (
                "A correction adds a new version. Everyone who may see the record "
                "can see every version."
            ),
            "back": reverse("web:record", args=[item.id]),
        },
    )


# --- Addresses ----------------------------------------------------------------------


@requires(Action.PERSON_RECORD)
@require_http_methods(["GET", "POST"])
def address_new(request: HttpRequest, person_id: Any) -> HttpResponse:
    actor: Any = request.user
    subject = people.person_get_for(actor=actor, person_id=person_id)
    identity = sharing.own_identity_for(actor=actor, person=subject)
    form = pf.AddressForm(
        request.POST or None,
        users=sharing.partnership_users_for(actor=actor),
        agencies=sharing.partner_agencies_for(actor=actor),
    )
    if identity is None:
        form.add_error(None, "Record this person's identity for your agency first.")
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            people_services.address_add(
                actor=actor,
                identity_id=identity.id,
                lines=data["lines"],
                postcode=data["postcode"],
                confidential=data["confidential"],
                named_user_ids=data["named_users"],
                named_agency_ids=data["named_agencies"],
            )
        except ValidationError as error:
            _apply_errors(form, error, {})
        else:
            messages.success(request, "The address has been added.")
            return redirect("web:person", person_id=subject.id)
    return _form_page(
        request,
        {
            "form": form,
            "person": subject,
            "title": "Add an address",
            "caption": _word(actor).capitalize(),
            "submit": "Add the address",
            "intro": (
                "A confidential address is never found by a search, and everyone not "
                "named for it is told only that it is withheld."
            ),
        },
    )


# --- Consent ------------------------------------------------------------------------


def _request_context(actor: Any, request: HttpRequest, subject: Person) -> Any:
    """The open request `?request=` answers, if any (a UUID: no personal data)."""
    wanted = request.GET.get("request")
    if not wanted:
        return None, None
    found = sharing.open_request_for(actor=actor, request_id=wanted, person=subject)
    return wanted, found


@requires(Action.CONSENT_RECORD)
@require_http_methods(["GET", "POST"])
def consent_new(request: HttpRequest, person_id: Any) -> HttpResponse:
    """Record what she agreed (or refused) to let the actor's agency share."""
    actor: Any = request.user
    subject = people.person_get_for(actor=actor, person_id=person_id)
    request_id, answering = _request_context(actor, request, subject)
    initial: dict[str, Any] = {}
    if answering is not None:
        initial = {
            "recipient_agencies": [str(answering.from_agency_id)],
            "purposes": [answering.purpose],
        }
    form = pf.ConsentForm(
        request.POST or None, agencies=sharing.partner_agencies_for(actor=actor), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sharing_services.consent_record(
                actor=actor,
                person_id=subject.id,
                decision=data["decision"],
                given_by=data["given_by"],
                method=data["method"],
                recipient_agency_ids=data["recipient_agencies"],
                recipient_sectors=data["recipient_sectors"],
                categories=data["categories"],
                purposes=data["purposes"],
                starts_at=form.starts_at(),
                expires_at=form.expires_at(),
                explanation=data["explanation"],
                information_request_id=request_id,
            )
        except ValidationError as error:
            _apply_errors(form, error, {"expires_at": "expires_on"})
        else:
            messages.success(request, "Her consent has been recorded. It applies from now.")
            return redirect("web:person", person_id=subject.id)
    return _form_page(
        request,
        {
            "form": form,
            "person": subject,
            "answering": answering,
            "title": "Record consent",
            "caption": _word(actor).capitalize(),
            "submit": "Record consent",
            "intro": (
                f"Record what she agreed {actor.agency.name} may share about her, with whom, "
                "what and why. She can withdraw it at any time, and it stops at once."
            ),
        },
    )


@requires(Action.CONSENT_RECORD)
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, consent_id: Any) -> HttpResponse:
    """Withdraw consent, all of it or in part. It takes effect on the very next request."""
    actor: Any = request.user
    consent = sharing.consent_get_for(actor=actor, consent_id=consent_id)
    form = pf.ConsentWithdrawForm(request.POST or None, consent=consent)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sharing_services.consent_withdraw(
                actor=actor,
                consent_id=consent.id,
                recipient_agency_ids=data.get("recipient_agencies", []),
                recipient_sectors=data.get("recipient_sectors", []),
                categories=data.get("categories", []),
                note=data["note"],
            )
        except ValidationError as error:
            _apply_errors(form, error, {})
        else:
            messages.success(request, "Consent has been withdrawn. Sharing has stopped.")
            return redirect("web:person", person_id=consent.person_id)
    return _form_page(
        request,
        {
            "form": form,
            "title": "Withdraw consent",
            "submit": "Withdraw consent",
            "intro": (
                "Leave every box unticked to withdraw all of it, or tick only what she "
                "no longer agrees to share."
            ),
            "back": reverse("web:person", args=[consent.person_id]),
        },
    )


# --- Disclosure decisions -----------------------------------------------------------


@requires(Action.DISCLOSURE_DECIDE)
@require_http_methods(["GET", "POST"])
def decision_new(request: HttpRequest, person_id: Any) -> HttpResponse:
    """Decide to share without consent, or beyond it, on a recorded lawful basis."""
    actor: Any = request.user
    subject = people.person_get_for(actor=actor, person_id=person_id)
    request_id, answering = _request_context(actor, request, subject)
    initial: dict[str, Any] = {}
    if answering is not None:
        initial = {"recipient_agency": str(answering.from_agency_id), "purpose": answering.purpose}
    form = pf.DecisionForm(
        request.POST or None,
        records=sharing.own_records_for(actor=actor, person=subject),
        agencies=sharing.partner_agencies_for(actor=actor),
        users=sharing.partnership_users_for(actor=actor),
        meetings=marac.meetings_for_disclosure(actor=actor, person=subject),
        bases=sharing.lawful_bases_for(actor=actor),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            decision = sharing_services.decision_create(
                actor=actor,
                person_id=subject.id,
                purpose=data["purpose"],
                lawful_basis_id=data["lawful_basis"] or None,
                necessity=data["necessity"],
                victim_survivor_told=form.told(),
                not_told_reason=data["not_told_reason"],
                categories=data["categories"],
                record_ids=data["records"],
                recipient_agency_id=data["recipient_agency"] or None,
                recipient_user_id=data["recipient_user"] or None,
                recipient_meeting_id=data.get("recipient_meeting") or None,
                expires_at=form.expires_at(),
                information_request_id=request_id,
            )
        except ValidationError as error:
            _apply_errors(
                form, error, {"recipient": "recipient_agency", "expires_at": "expires_on"}
            )
        else:
            if decision.status == DecisionStatus.PENDING:
                messages.success(
                    request, "The decision waits for your single point of contact to approve it."
                )
            else:
                messages.success(request, "The decision has been recorded. It applies from now.")
            return redirect("web:decision", decision_id=decision.id)
    return _form_page(
        request,
        {
            "form": form,
            "person": subject,
            "answering": answering,
            "title": "Record a disclosure decision",
            "caption": _word(actor).capitalize(),
            "submit": "Record the decision",
            "intro": (
                "Share without her consent, or beyond it, only where the law allows and it "
                "is necessary and proportionate. Record exactly what, to whom, why and on "
                "which basis."
            ),
        },
    )


def _decision_page(
    request: HttpRequest, decision: Any, *, forms: dict[str, Form] | None = None, status: int = 200
) -> HttpResponse:
    actor: Any = request.user
    forms = forms or {}
    pending = decision.status == DecisionStatus.PENDING
    may_approve = (
        pending and actor.may(Action.DISCLOSURE_APPROVE) and decision.decided_by_id != actor.id
    )
    may_revoke = decision.status in (DecisionStatus.PENDING, DecisionStatus.APPROVED) and actor.may(
        Action.DISCLOSURE_DECIDE
    )
    context = {
        "decision": decision,
        "category_labels": _labels(decision.categories, InformationCategory.choices),
        "records": decision.records.all(),
        "approve_form": forms.get("approve") or pf.NoteForm(),
        "refuse_form": forms.get("refuse") or pf.RefuseForm(),
        "revoke_form": forms.get("revoke") or pf.RevokeForm(),
        "may_approve": may_approve,
        "own_pending": pending and decision.decided_by_id == actor.id,
        "may_revoke": may_revoke,
        "now": timezone.now(),
    }
    return render(request, "web/people/decision.html", context, status=status)


@requires(Action.DISCLOSURE_DECIDE)
@never_cache
@require_GET
def decision(request: HttpRequest, decision_id: Any) -> HttpResponse:
    actor: Any = request.user
    return _decision_page(request, sharing.decision_get_for(actor=actor, decision_id=decision_id))


def _decision_action(
    request: HttpRequest, decision_id: Any, name: str, form_class: type[Form], act: Any, done: str
) -> HttpResponse:
    actor: Any = request.user
    item = sharing.decision_get_for(actor=actor, decision_id=decision_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(actor=actor, decision_id=item.id, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error, {"approved_by": "note", "status": "note"})
        else:
            messages.success(request, done)
            return redirect("web:decision", decision_id=item.id)
    return _decision_page(request, item, forms={name: form})


@requires(Action.DISCLOSURE_APPROVE)
@require_POST
def decision_approve(request: HttpRequest, decision_id: Any) -> HttpResponse:
    """A second person of the deciding agency approves: the information is shared now."""
    return _decision_action(
        request,
        decision_id,
        "approve",
        pf.NoteForm,
        sharing_services.decision_approve,
        "The disclosure is approved and applies from now.",
    )


@requires(Action.DISCLOSURE_APPROVE)
@require_POST
def decision_refuse(request: HttpRequest, decision_id: Any) -> HttpResponse:
    return _decision_action(
        request,
        decision_id,
        "refuse",
        pf.RefuseForm,
        sharing_services.decision_refuse,
        "The disclosure is refused. Nothing has been shared.",
    )


@requires(Action.DISCLOSURE_DECIDE)
@require_POST
def decision_revoke(request: HttpRequest, decision_id: Any) -> HttpResponse:
    return _decision_action(
        request,
        decision_id,
        "revoke",
        pf.RevokeForm,
        sharing_services.decision_revoke,
        "The decision is revoked. Sharing under it has stopped.",
    )


# --- Information requests -----------------------------------------------------------


@requires(Action.INFORMATION_REQUEST_SEND)
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, person_id: Any) -> HttpResponse:
    """Ask the single point of contact of an agency that holds information about her."""
    actor: Any = request.user
    subject = people.person_get_for(actor=actor, person_id=person_id)
    agency = agency_get_for(actor=actor, agency_id=request.GET.get("agency", ""))
    form = pf.InformationRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sharing_services.information_request_send(
                actor=actor, person_id=subject.id, to_agency_id=agency.id, **form.cleaned_data
            )
        except ValidationError as error:
            _apply_errors(form, error, {})
        else:
            messages.success(
                request, f"Your request has been sent to {agency.name}'s single point of contact."
            )
            return redirect("web:person", person_id=subject.id)
    return _form_page(
        request,
        {
            "form": form,
            "person": subject,
            "title": f"Ask {agency.name}'s single point of contact (SPOC)",
            "caption": _word(actor).capitalize(),
            "submit": "Send the request",
            "intro": (
                f"{agency.name} holds information about this person that is not shared with "
                "you. Its single point of contact will decide whether it can be shared: with "
                "her consent, or on a lawful basis."
            ),
        },
    )


@requires(Action.INFORMATION_REQUEST_ANSWER)
@never_cache
@require_http_methods(["GET", "POST"])
def information_request(request: HttpRequest, request_id: Any) -> HttpResponse:
    """A request to the actor's agency: answer by consent, by decision, or decline."""
    actor: Any = request.user
    item = sharing.request_get_for(actor=actor, request_id=request_id)
    form = pf.DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sharing_services.information_request_decline(
                actor=actor, request_id=item.id, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _apply_errors(form, error, {"status": "reason"})
        else:
            messages.success(request, "The request has been declined, with your reason.")
            return redirect("web:home")
    context = {"item": item, "form": form, "open": item.status == RequestStatus.OPEN}
    return render(request, "web/people/request.html", context)
