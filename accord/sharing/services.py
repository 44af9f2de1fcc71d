"""Consent, disclosure decisions and information requests, and the grants they write.

Each service validates everything before it writes anything, names the field that
is wrong, and writes the decision, its grants and its audit event in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accord.audit.models import AuditAction
from accord.audit.services import audit_record
from accord.cases.models import AgencyRecord
from accord.core.errors import NotFound, require
from accord.core.ids import NO_ID, uuid_or_none
from accord.marac.models import Case, Meeting, MeetingStatus
from accord.marac.selectors import open_cases_for_disclosure
from accord.partnership.models import Agency, Partnership, User
from accord.partnership.permissions import Action
from accord.partnership.vocabulary import Sector
from accord.people.models import Identity
from accord.people.selectors import person_get_for
from accord.sharing.bases import DEFAULT_BASES
from accord.sharing.models import (
    AccessGrant,
    Consent,
    ConsentWithdrawal,
    DecisionStatus,
    DisclosureDecision,
    InformationRequest,
    LawfulBasis,
    RequestStatus,
)
from accord.sharing.vocabulary import (
    Basis,
    ConsentDecision,
    ConsentGivenBy,
    ConsentMethod,
    InformationCategory,
    Purpose,
)

Errors = dict[str, list[str]]


def _choices(
    errors: Errors, field: str, values: Iterable[str], allowed: Iterable[str]
) -> list[str]:
    chosen = sorted(set(values))
    wrong = [v for v in chosen if v not in set(allowed)]
    if wrong:
        errors[field] = [f"'{wrong[0]}' is not one of the allowed values."]
    return chosen


def _choice(errors: Errors, field: str, value: str, allowed: Iterable[str]) -> None:
    if value not in set(allowed):
        errors[field] = [f"'{value}' is not one of the allowed values."]


def _partner_agencies(
    actor: Any, ids: Iterable[uuid.UUID | str], errors: Errors, field: str
) -> list[Agency]:
    wanted = {str(i) for i in ids}
    agencies = list(
        Agency.objects.filter(partnership_id=actor.partnership_id, is_active=True).filter(
            id__in=[i for i in wanted if uuid_or_none(i)]
        )
    )
    if len(agencies) != len(wanted):
        errors[field] = ["Choose only active agencies of this partnership."]
    return agencies


def _settle(actor: Any, target: Any, *, object_type: str, reason: str, **changes: Any) -> None:
    """Save a step in a decision's or request's life and audit it (names, not values),
    in the caller's transaction."""
    for name, value in changes.items():
        setattr(target, name, value)
    target.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=object_type,
        object_id=target.pk,
        person_id=target.person_id,
        reason=reason,
        changed_fields=list(changes),
    )


def lawful_bases_seed(partnership: Partnership) -> None:
    """Give a partnership the default lawful bases it does not have yet."""
    have = set(LawfulBasis.objects.filter(partnership=partnership).values_list("code", flat=True))
    LawfulBasis.objects.bulk_create(
        LawfulBasis(
            partnership=partnership,
            code=basis.code,
            label=basis.label,
            explanation=basis.explanation,
            requires_approval=basis.requires_approval,
        )
        for basis in DEFAULT_BASES
        if basis.code not in have
    )


# --- Consent ------------------------------------------------------------------------


def consent_record(
    *,
    actor: Any,
    person_id: uuid.UUID,
    decision: str,
    given_by: str,
    method: str,
    recipient_agency_ids: Iterable[uuid.UUID | str] = (),
    recipient_sectors: Iterable[str] = (),
    categories: Iterable[str] = (),
    purposes: Iterable[str] = (),
    starts_at: datetime | None = None,
    expires_at: datetime | None = None,
    explanation: str,
    information_request_id: uuid.UUID | None = None,
) -> Consent:
    """Record the victim-survivor's consent (or refusal) to the actor's agency sharing
    its information about her: with whom, what, why and until when.

    Consent given writes one grant per recipient and category; refusal writes none
    but is kept, so the next practitioner knows she was asked.
    """
    require(actor, Action.CONSENT_RECORD)
    person = person_get_for(actor=actor, person_id=person_id)
    now = timezone.now()
    errors: Errors = {}
    _choice(errors, "decision", decision, ConsentDecision.values)
    _choice(errors, "given_by", given_by, ConsentGivenBy.values)
    _choice(errors, "method", method, ConsentMethod.values)
    agencies = _partner_agencies(actor, recipient_agency_ids, errors, "recipient_agencies")
    sectors = _choices(errors, "recipient_sectors", recipient_sectors, Sector.values)
    chosen_categories = _choices(errors, "categories", categories, InformationCategory.values)
    chosen_purposes = _choices(errors, "purposes", purposes, Purpose.values)
    if decision == ConsentDecision.GIVEN:
        if not agencies and not sectors and "recipient_agencies" not in errors:
            errors["recipient_agencies"] = [
                "Choose at least one agency or sector she agreed to share with."
            ]
        if not chosen_categories and "categories" not in errors:
            errors["categories"] = ["Choose at least one kind of information she agreed to share."]
        if not chosen_purposes and "purposes" not in errors:
            errors["purposes"] = ["Choose at least one purpose she agreed to."]
    if any(a.id == actor.agency_id for a in agencies):
        errors["recipient_agencies"] = ["Your own agency already holds this information."]
    starts = starts_at or now
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = ["The expiry date must be in the future."]
    elif expires_at is not None and expires_at <= starts:
        errors["expires_at"] = ["The expiry date must be after the start date."]
    if not explanation.strip():
        errors["explanation"] = ["Write, in plain words, what she was told would be shared."]
    request = _open_request(actor, information_request_id, person.id, errors)
    if not Identity.objects.filter(person=person, agency_id=actor.agency_id).exists():
        errors["person"] = ["Your agency must know this person itself to record her consent."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        consent = Consent.objects.create(
            partnership_id=actor.partnership_id,
            person=person,
            agency_id=actor.agency_id,
            decision=decision,
            given_by=given_by,
            method=method,
            recipient_sectors=sectors,
            categories=chosen_categories,
            purposes=chosen_purposes,
            starts_at=starts,
            expires_at=expires_at,
            explanation=explanation.strip(),
            recorded_by=actor,
        )
        consent.recipient_agencies.set(agencies)
        if decision == ConsentDecision.GIVEN:
            recipients: list[dict[str, Any]] = [{"recipient_agency_id": a.id} for a in agencies]
            recipients += [{"recipient_sector": s} for s in sectors]
            AccessGrant.objects.write(
                AccessGrant(
                    partnership_id=actor.partnership_id,
                    person_id=person.id,
                    holder_agency_id=actor.agency_id,
                    category=category,
                    basis=Basis.CONSENT,
                    purposes=chosen_purposes,
                    source_type="consent",
                    source_id=consent.id,
                    valid_from=starts,
                    valid_until=expires_at,
                    **recipient,
                )
                for recipient in recipients
                for category in chosen_categories
            )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="consent",
            object_id=consent.id,
            person_id=person.id,
            basis=Basis.CONSENT if decision == ConsentDecision.GIVEN else "",
            changed_fields=["decision", "recipients", "categories", "purposes", "expires_at"],
        )
        if request is not None:
            _answer(actor, request, consent=consent)
    return consent


def consent_withdraw(
    *,
    actor: Any,
    consent_id: uuid.UUID,
    recipient_agency_ids: Iterable[uuid.UUID | str] = (),
    recipient_sectors: Iterable[str] = (),
    categories: Iterable[str] = (),
    note: str = "",
) -> ConsentWithdrawal:
    """Withdraw consent, wholly (no recipients or categories named) or in part.

    Effective on the very next request: the matching grants are ended in this
    transaction and the policy reads only live grants, with nothing cached between.
    """
    require(actor, Action.CONSENT_RECORD)
    consent = _own_consent(actor, consent_id)
    errors: Errors = {}
    if consent.decision != ConsentDecision.GIVEN or consent.withdrawn_at is not None:
        errors["consent"] = ["This consent is not in force, so it cannot be withdrawn."]
    agencies = _partner_agencies(actor, recipient_agency_ids, errors, "recipient_agencies")
    sectors = _choices(errors, "recipient_sectors", recipient_sectors, Sector.values)
    chosen_categories = _choices(errors, "categories", categories, InformationCategory.values)
    if errors:
        raise ValidationError(errors)
    whole = not agencies and not sectors and not chosen_categories
    grants = AccessGrant.objects.filter(
        source_type="consent", source_id=consent.id, ended_at__isnull=True
    )
    if agencies or sectors:
        grants = grants.filter(
            Q(recipient_agency_id__in=[a.id for a in agencies]) | Q(recipient_sector__in=sectors)
        )
    if chosen_categories:
        grants = grants.filter(category__in=chosen_categories)
    if not whole and not grants.exists():
        only_categories = bool(chosen_categories) and not (agencies or sectors)
        field = "categories" if only_categories else "recipient_agencies"
        raise ValidationError({field: ["This consent does not cover what you chose, now."]})
    now = timezone.now()
    with transaction.atomic():
        withdrawal = ConsentWithdrawal.objects.create(
            consent=consent,
            recipient_sectors=sectors,
            categories=chosen_categories,
            note=note.strip(),
            recorded_by=actor,
        )
        withdrawal.recipient_agencies.set(agencies)
        ended = grants.update(ended_at=now)
        remaining = AccessGrant.objects.filter(
            source_type="consent", source_id=consent.id, ended_at__isnull=True
        ).exists()
        if whole or not remaining:
            consent.withdrawn_at = now
            consent.save(update_fields=["withdrawn_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="consent",
            object_id=consent.id,
            person_id=consent.person_id,
            reason=f"consent withdrawn ({'whole' if whole else 'in part'}; {ended} grants ended)",
            changed_fields=["withdrawn"],
        )
    return withdrawal


def _own_consent(actor: Any, consent_id: uuid.UUID) -> Consent:
    try:
        return Consent.objects.get(
            pk=consent_id, agency_id=actor.agency_id, partnership_id=actor.partnership_id
        )
    except (Consent.DoesNotExist, ValueError):
        raise NotFound from None


# --- Disclosure decisions -------------------------------------------------------------


def decision_create(
    *,
    actor: Any,
    person_id: uuid.UUID,
    purpose: str,
    lawful_basis_id: uuid.UUID | str | None,
    necessity: str,
    victim_survivor_told: bool | None,
    not_told_reason: str = "",
    categories: Iterable[str] = (),
    record_ids: Iterable[uuid.UUID | str] = (),
    recipient_agency_id: uuid.UUID | str | None = None,
    recipient_user_id: uuid.UUID | str | None = None,
    recipient_meeting_id: uuid.UUID | str | None = None,
    expires_at: datetime | None = None,
    information_request_id: uuid.UUID | None = None,
) -> DisclosureDecision:
    """Decide to share the actor's agency's information without or beyond consent.

    Takes effect at once when the partnership does not require a second person for
    the chosen basis; otherwise it waits for approval in the SPOC's work queue.
    """
    require(actor, Action.DISCLOSURE_DECIDE)
    person = person_get_for(actor=actor, person_id=person_id)
    errors: Errors = {}
    _choice(errors, "purpose", purpose, Purpose.values)
    chosen_categories = _choices(errors, "categories", categories, InformationCategory.values)
    records = list(
        AgencyRecord.objects.filter(
            person=person,
            agency_id=actor.agency_id,
            restricted=False,
            id__in=[str(r) for r in record_ids if uuid_or_none(r)],
        )
    )
    if len(records) != len({str(r) for r in record_ids}):
        errors["records"] = ["Choose only your agency's own, unrestricted records about her."]
    if not chosen_categories and not records and "categories" not in errors:
        errors["categories"] = ["Choose what is shared: kinds of information or records."]
    basis = None
    if not lawful_basis_id:
        errors["lawful_basis"] = ["Choose the lawful basis for sharing."]
    else:
        basis = LawfulBasis.objects.filter(
            partnership_id=actor.partnership_id,
            is_active=True,
            id=uuid_or_none(lawful_basis_id) or NO_ID,
        ).first()
        if basis is None:
            errors["lawful_basis"] = ["Choose one of the partnership's lawful bases."]
    if not necessity.strip():
        errors["necessity"] = ["Say why sharing is necessary and proportionate."]
    if victim_survivor_told is None:
        errors["victim_survivor_told"] = ["Say whether she was told."]
    elif not victim_survivor_told and not not_told_reason.strip():
        errors["not_told_reason"] = ["Say why she was not told."]
    recipient_agency, recipient_user, case = _recipient(
        actor, person.id, recipient_agency_id, recipient_user_id, recipient_meeting_id, errors
    )
    if case is not None and purpose != Purpose.MARAC and "purpose" not in errors:
        errors["purpose"] = ["Sharing to a MARAC meeting is for the MARAC purpose."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry date must be in the future."]
    request = _open_request(actor, information_request_id, person.id, errors)
    if errors:
        raise ValidationError(errors)
    assert basis is not None
    with transaction.atomic():
        decision = DisclosureDecision.objects.create(
            partnership_id=actor.partnership_id,
            person=person,
            agency_id=actor.agency_id,
            categories=chosen_categories,
            recipient_agency=recipient_agency,
            recipient_user=recipient_user,
            recipient_case=case,
            purpose=purpose,
            lawful_basis=basis,
            necessity=necessity.strip(),
            victim_survivor_told=bool(victim_survivor_told),
            not_told_reason=not_told_reason.strip(),
            decided_by=actor,
            status=DecisionStatus.PENDING if basis.requires_approval else DecisionStatus.APPROVED,
            expires_at=expires_at,
        )
        decision.records.set(records)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="disclosure_decision",
            object_id=decision.id,
            person_id=person.id,
            basis=basis.code,
            changed_fields=["categories", "records", "recipient", "purpose", "lawful_basis"],
        )
        if decision.status == DecisionStatus.APPROVED:
            _disclose(actor, decision)
        if request is not None:
            _answer(actor, request, decision=decision)
    return decision


def _recipient(
    actor: Any,
    person_id: uuid.UUID,
    agency_id: uuid.UUID | str | None,
    user_id: uuid.UUID | str | None,
    meeting_id: uuid.UUID | str | None,
    errors: Errors,
) -> tuple[Agency | None, User | None, Case | None]:
    if sum(1 for chosen in (agency_id, user_id, meeting_id) if chosen) != 1:
        errors["recipient"] = ["Choose one recipient: an agency, a named user or a MARAC meeting."]
        return None, None, None
    if agency_id:
        agencies = _partner_agencies(actor, [agency_id], errors, "recipient")
        if agencies and agencies[0].id == actor.agency_id:
            errors["recipient"] = ["Your own agency already holds this information."]
        return (agencies[0] if agencies else None), None, None
    if meeting_id:
        case = (
            open_cases_for_disclosure(actor=actor, person_id=person_id)
            .filter(meeting_id=uuid_or_none(meeting_id) or NO_ID)
            .first()
        )
        if case is None:
            errors["recipient"] = ["Choose a MARAC meeting with her case on its agenda."]
        return None, None, case
    user = User.objects.filter(
        id=uuid_or_none(user_id) or NO_ID,
        agency__partnership_id=actor.partnership_id,
        is_active=True,
    ).first()
    if user is None:
        errors["recipient"] = ["Choose an active user of this partnership."]
    return None, user, None


def _grants_of(
    decision: DisclosureDecision, recipients: Iterable[dict[str, Any]], now: datetime
) -> list[AccessGrant]:
    """The grants an approved decision writes, one per recipient and category or record.

    To a MARAC meeting, each agency represented (but the holder) is a recipient, on the
    MARAC basis, until the meeting's follow-up ends or the decision expires."""
    valid_until = decision.expires_at
    basis = Basis.DISCLOSURE
    case = decision.recipient_case
    if case is not None:
        meeting = case.meeting
        basis = Basis.MARAC
        if valid_until is None or meeting.follow_up_until < valid_until:
            valid_until = meeting.follow_up_until
    common: dict[str, Any] = dict(
        partnership_id=decision.partnership_id,
        person_id=decision.person_id,
        holder_agency_id=decision.agency_id,
        basis=basis,
        lawful_basis=decision.lawful_basis.code,
        purposes=[decision.purpose],
        source_type="disclosure_decision",
        source_id=decision.id,
        valid_from=now,
        valid_until=valid_until,
    )
    records = list(decision.records.all())
    grants = []
    for recipient in recipients:
        grants += [AccessGrant(category=c, **common, **recipient) for c in decision.categories]
        grants += [
            AccessGrant(category=r.category, item_id=r.id, **common, **recipient) for r in records
        ]
    return grants


def _meeting_recipients(decision: DisclosureDecision) -> list[dict[str, Any]]:
    """The agencies a decision to a meeting reaches now: none once the meeting is
    cancelled or her case is off its agenda (a later referral is a new case, and needs
    a new decision)."""
    case = decision.recipient_case
    assert case is not None
    meeting = case.meeting
    if meeting.status == MeetingStatus.CANCELLED or case.removed_at is not None:
        return []
    agencies = meeting.agencies.exclude(id=decision.agency_id).order_by("id")
    return [{"recipient_agency_id": a} for a in agencies.values_list("id", flat=True)]


def _disclose(actor: Any, decision: DisclosureDecision) -> None:
    """Write the grants of an approved decision and audit the disclosure."""
    if decision.recipient_case_id:
        recipients = _meeting_recipients(decision)
    else:
        recipients = [
            {
                "recipient_agency_id": decision.recipient_agency_id,
                "recipient_user_id": decision.recipient_user_id,
            }
        ]
    AccessGrant.objects.write(_grants_of(decision, recipients, timezone.now()))
    audit_record(
        actor=actor,
        action=AuditAction.DISCLOSE,
        object_type="disclosure_decision",
        object_id=decision.id,
        person_id=decision.person_id,
        basis=decision.lawful_basis.code,
        changed_fields=["categories", "records"],
    )


def meeting_shares_sync(actor: Any, meeting: Meeting) -> None:
    """Bring the grants of every approved disclosure to `meeting` into line with who is
    represented at it and whose cases are on its agenda, in the caller's transaction.

    An agency no longer represented, a case taken off, a cancelled meeting: their
    grants end now. An agency newly represented: grants from now on, audited as a
    disclosure to it."""
    now = timezone.now()
    decisions = DisclosureDecision.objects.filter(
        recipient_case__meeting=meeting, status=DecisionStatus.APPROVED
    ).select_related("lawful_basis", "recipient_case__meeting")
    for decision in decisions:
        wanted = {r["recipient_agency_id"] for r in _meeting_recipients(decision)}
        live = AccessGrant.objects.filter(
            source_type="disclosure_decision", source_id=decision.id, ended_at__isnull=True
        )
        have = set(live.values_list("recipient_agency_id", flat=True))
        ended = live.exclude(recipient_agency_id__in=wanted).update(ended_at=now)
        added = sorted(wanted - have)
        if added:
            recipients = [{"recipient_agency_id": a} for a in added]
            AccessGrant.objects.write(_grants_of(decision, recipients, now))
        if ended or added:
            audit_record(
                actor=actor,
                action=AuditAction.DISCLOSE if added else AuditAction.UPDATE,
                object_type="disclosure_decision",
                object_id=decision.id,
                person_id=decision.person_id,
                basis=decision.lawful_basis.code,
                reason="MARAC meeting changed",
                changed_fields=["recipients"],
            )


def _pending_for(actor: Any, decision_id: uuid.UUID) -> DisclosureDecision:
    try:
        return DisclosureDecision.objects.select_related("lawful_basis").get(
            pk=decision_id, agency_id=actor.agency_id, partnership_id=actor.partnership_id
        )
    except (DisclosureDecision.DoesNotExist, ValueError):
        raise NotFound from None


def decision_approve(*, actor: Any, decision_id: uuid.UUID, note: str = "") -> DisclosureDecision:
    """A second person of the deciding agency approves: the information is shared now."""
    require(actor, Action.DISCLOSURE_APPROVE)
    decision = _pending_for(actor, decision_id)
    _check_pending(actor, decision)
    with transaction.atomic():
        _settle(
            actor,
            decision,
            object_type="disclosure_decision",
            reason="approved",
            status=DecisionStatus.APPROVED,
            approved_by=actor,
            approved_at=timezone.now(),
            approval_note=note.strip(),
        )
        _disclose(actor, decision)
    return decision


def decision_refuse(*, actor: Any, decision_id: uuid.UUID, note: str) -> DisclosureDecision:
    """The approver refuses: nothing is shared, and the decision and reason are kept."""
    require(actor, Action.DISCLOSURE_APPROVE)
    decision = _pending_for(actor, decision_id)
    _check_pending(actor, decision)
    if not note.strip():
        raise ValidationError({"note": ["Say why the disclosure is refused."]})
    with transaction.atomic():
        _settle(
            actor,
            decision,
            object_type="disclosure_decision",
            reason="refused",
            status=DecisionStatus.REFUSED,
            approved_by=actor,
            approved_at=timezone.now(),
            approval_note=note.strip(),
        )
    return decision


def _check_pending(actor: Any, decision: DisclosureDecision) -> None:
    errors: Errors = {}
    if decision.status != DecisionStatus.PENDING:
        errors["status"] = ["This decision is not waiting for approval."]
    elif decision.decided_by_id == actor.id:
        errors["approved_by"] = ["A decision must be approved by someone other than its author."]
    if errors:
        raise ValidationError(errors)


def decision_revoke(*, actor: Any, decision_id: uuid.UUID, reason: str) -> DisclosureDecision:
    """Stop sharing under a decision from now on; what was read before stays in the audit."""
    require(actor, Action.DISCLOSURE_DECIDE)
    decision = _pending_for(actor, decision_id)
    errors: Errors = {}
    if decision.status not in (DecisionStatus.APPROVED, DecisionStatus.PENDING):
        errors["status"] = ["Only a pending or approved decision can be revoked."]
    if not reason.strip():
        errors["reason"] = ["Say why the decision is revoked."]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        _settle(
            actor,
            decision,
            object_type="disclosure_decision",
            reason="revoked",
            status=DecisionStatus.REVOKED,
            revoked_at=now,
            revoked_by=actor,
            revoke_reason=reason.strip(),
        )
        AccessGrant.objects.filter(
            source_type="disclosure_decision", source_id=decision.id, ended_at__isnull=True
        ).update(ended_at=now)
    return decision


# --- Information requests -----------------------------------------------------------


def information_request_send(
    *,
    actor: Any,
    person_id: uuid.UUID,
    to_agency_id: uuid.UUID | str,
    purpose: str,
    message: str,
) -> InformationRequest:
    """Ask an agency that holds information about this person (a flag) to share it."""
    require(actor, Action.INFORMATION_REQUEST_SEND)
    person = person_get_for(actor=actor, person_id=person_id)
    errors: Errors = {}
    _choice(errors, "purpose", purpose, Purpose.values)
    agencies = _partner_agencies(actor, [to_agency_id], errors, "to_agency")
    if agencies and agencies[0].id == actor.agency_id:
        errors["to_agency"] = ["Ask another agency, not your own."]
    if not message.strip():
        errors["message"] = ["Say what you need to know and why."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        request = InformationRequest.objects.create(
            partnership_id=actor.partnership_id,
            person=person,
            from_user=actor,
            from_agency_id=actor.agency_id,
            to_agency=agencies[0],
            purpose=purpose,
            message=message.strip(),
            status=RequestStatus.OPEN,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="information_request",
            object_id=request.id,
            person_id=person.id,
            changed_fields=["to_agency", "purpose", "message"],
        )
    return request


def _open_request(
    actor: Any, request_id: uuid.UUID | None, person_id: uuid.UUID, errors: Errors
) -> InformationRequest | None:
    if request_id is None:
        return None
    require(actor, Action.INFORMATION_REQUEST_ANSWER)
    request = InformationRequest.objects.filter(
        pk=uuid_or_none(request_id) or NO_ID,
        to_agency_id=actor.agency_id,
        status=RequestStatus.OPEN,
        person_id=person_id,
    ).first()
    if request is None:
        errors["information_request"] = ["This request is not open for your agency."]
    return request


def _answer(
    actor: Any,
    request: InformationRequest,
    *,
    consent: Consent | None = None,
    decision: DisclosureDecision | None = None,
) -> None:
    _settle(
        actor,
        request,
        object_type="information_request",
        reason="answered by consent" if consent else "answered by a disclosure decision",
        status=RequestStatus.ANSWERED,
        answered_by=actor,
        answered_at=timezone.now(),
        consent=consent,
        decision=decision,
    )


def information_request_decline(
    *, actor: Any, request_id: uuid.UUID, reason: str
) -> InformationRequest:
    """Decline a request with a reason: a decision not to share, recorded (golden rule 7)."""
    require(actor, Action.INFORMATION_REQUEST_ANSWER)
    try:
        request = InformationRequest.objects.get(
            pk=request_id, to_agency_id=actor.agency_id, partnership_id=actor.partnership_id
        )
    except (InformationRequest.DoesNotExist, ValueError):
        raise NotFound from None
    errors: Errors = {}
    if request.status != RequestStatus.OPEN:
        errors["status"] = ["This request has already been answered."]
    if not reason.strip():
        errors["reason"] = ["Say why the information is not shared."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _settle(
            actor,
            request,
            object_type="information_request",
            reason="declined",
            status=RequestStatus.DECLINED,
            answered_by=actor,
            answered_at=timezone.now(),
            decline_reason=reason.strip(),
        )
    return request


# --- The partnership's sharing settings -----------------------------------------------


def _check_basis_fields(label: str, explanation: str) -> Errors:
    errors: Errors = {}
    if not label.strip():
        errors["label"] = ["Enter the basis as staff will see it."]
    elif len(label) > 200:
        errors["label"] = ["Keep the label to 200 characters."]
    if len(explanation) > 500:
        errors["explanation"] = ["Keep the explanation to 500 characters."]
    return errors


def lawful_basis_create(
    *, actor: Any, code: str, label: str, explanation: str = "", requires_approval: bool = True
) -> LawfulBasis:
    """Add a lawful basis to the actor's partnership's list."""
    require(actor, Action.SHARING_SETTINGS_MANAGE)
    errors = _check_basis_fields(label, explanation)
    code = code.strip().lower()
    if not code or not all(c.isalnum() or c == "-" for c in code) or len(code) > 40:
        errors["code"] = ["Use up to 40 lower-case letters, digits and hyphens."]
    elif LawfulBasis.objects.filter(partnership_id=actor.partnership_id, code=code).exists():
        errors["code"] = ["The partnership already has a basis with this code."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        basis = LawfulBasis.objects.create(
            partnership_id=actor.partnership_id,
            code=code,
            label=label.strip(),
            explanation=explanation.strip(),
            requires_approval=requires_approval,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="lawful_basis",
            object_id=basis.id,
            changed_fields=["code", "label", "explanation", "requires_approval"],
        )
    return basis


def lawful_basis_update(
    *,
    actor: Any,
    basis_id: uuid.UUID,
    label: str,
    explanation: str,
    requires_approval: bool,
    is_active: bool,
) -> LawfulBasis:
    """Relabel a basis, say whether it needs a second person's approval, or retire it.

    Past decisions keep the basis they were made on; a retired basis cannot be chosen.
    """
    require(actor, Action.SHARING_SETTINGS_MANAGE)
    try:
        basis = LawfulBasis.objects.get(pk=basis_id, partnership_id=actor.partnership_id)
    except (LawfulBasis.DoesNotExist, ValueError):
        raise NotFound from None
    errors = _check_basis_fields(label, explanation)
    if errors:
        raise ValidationError(errors)
    changes = {
        "label": label.strip(),
        "explanation": explanation.strip(),
        "requires_approval": requires_approval,
        "is_active": is_active,
    }
    changed = [name for name, value in changes.items() if getattr(basis, name) != value]
    if changed:
        with transaction.atomic():
            for name in changed:
                setattr(basis, name, changes[name])
            basis.save(update_fields=changed)
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type="lawful_basis",
                object_id=basis.id,
                changed_fields=changed,
            )
    return basis


def own_agency_reads_audit_set(*, actor: Any, audited: bool) -> Partnership:
    """Say whether reads of one's own agency's records are audited across the partnership."""
    require(actor, Action.SHARING_SETTINGS_MANAGE)
    partnership = Partnership.objects.get(pk=actor.partnership_id)
    if partnership.audit_own_agency_reads != audited:
        with transaction.atomic():
            partnership.audit_own_agency_reads = audited
            partnership.save(update_fields=["audit_own_agency_reads"])
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type="partnership",
                object_id=partnership.id,
                changed_fields=["audit_own_agency_reads"],
            )
    return partnership
