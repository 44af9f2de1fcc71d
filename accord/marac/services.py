"""Scheduling MARAC meetings, choosing who is represented, and referring cases to them.

What is shared to a meeting follows its agencies and its agenda: each change here
brings the grants of every disclosure to the meeting into line in the same
transaction (`accord.sharing.services.meeting_shares_sync`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accord.audit.models import AuditAction
from accord.audit.services import audit_record
from accord.core.errors import NotFound, require
from accord.core.ids import NO_ID, uuid_or_none
from accord.marac.models import Case, Criterion, Meeting, MeetingStatus
from accord.partnership.models import Agency
from accord.partnership.permissions import Action
from accord.people.selectors import person_get_for
from accord.sharing.services import meeting_shares_sync

Errors = dict[str, list[str]]

# Information shared to a meeting stays visible for its actions: by default this long.
DEFAULT_FOLLOW_UP = timedelta(days=90)
MINIMUM_AGENCIES = 2


def _agencies(actor: Any, ids: Iterable[Any], errors: Errors) -> list[Agency]:
    wanted = {uuid_or_none(i) or NO_ID for i in ids}
    agencies = list(
        Agency.objects.filter(
            partnership_id=actor.partnership_id, is_active=True, id__in=wanted
        ).order_by("name")
    )
    if len(agencies) != len(wanted):
        errors["agencies"] = ["Choose only active agencies of this partnership."]
    elif len(agencies) < MINIMUM_AGENCIES:
        errors["agencies"] = [
            f"Choose the agencies represented: at least {MINIMUM_AGENCIES} for a meeting."
        ]
    return agencies


def meeting_create(
    *,
    actor: Any,
    title: str,
    held_at: datetime | None,
    agency_ids: Iterable[Any],
    follow_up_until: datetime | None = None,
) -> Meeting:
    """Schedule a meeting with the agencies represented at it."""
    require(actor, Action.MARAC_MEETING_MANAGE)
    errors: Errors = {}
    if not title.strip():
        errors["title"] = ["Give the meeting a title, for example 'Northgate MARAC'."]
    if held_at is None:
        errors["held_at"] = ["Give the date and time of the meeting."]
    elif follow_up_until is not None and follow_up_until <= held_at:
        errors["follow_up_until"] = ["The follow-up must end after the meeting."]
    elif (follow_up_until or held_at + DEFAULT_FOLLOW_UP) <= timezone.now():
        errors["held_at"] = ["This meeting's follow-up would already be over."]
    agencies = _agencies(actor, agency_ids, errors)
    if errors:
        raise ValidationError(errors)
    assert held_at is not None
    with transaction.atomic():
        meeting = Meeting.objects.create(
            partnership_id=actor.partnership_id,
            title=title.strip(),
            held_at=held_at,
            follow_up_until=follow_up_until or held_at + DEFAULT_FOLLOW_UP,
            created_by=actor,
        )
        meeting.agencies.set(agencies)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="marac_meeting",
            object_id=meeting.id,
            changed_fields=["title", "held_at", "follow_up_until", "agencies"],
        )
    return meeting


def _meeting_for_change(actor: Any, meeting_id: Any) -> Meeting:
    try:
        meeting = Meeting.objects.select_for_update().get(
            pk=uuid_or_none(meeting_id) or NO_ID, partnership_id=actor.partnership_id
        )
    except Meeting.DoesNotExist:
        raise NotFound from None
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError({"status": ["This meeting was cancelled."]})
    return meeting


def meeting_agencies_set(*, actor: Any, meeting_id: Any, agency_ids: Iterable[Any]) -> Meeting:
    """Change who is represented. An agency added sees what was shared to the meeting
    from now on; an agency taken off stops seeing it at once."""
    require(actor, Action.MARAC_MEETING_MANAGE)
    errors: Errors = {}
    agencies = _agencies(actor, agency_ids, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        meeting = _meeting_for_change(actor, meeting_id)
        meeting.agencies.set(agencies)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="marac_meeting",
            object_id=meeting.id,
            changed_fields=["agencies"],
        )
        meeting_shares_sync(actor, meeting)
    return meeting


def meeting_cancel(*, actor: Any, meeting_id: Any, reason: str) -> Meeting:
    """Cancel a meeting: whatever was shared to it stops being visible at once."""
    require(actor, Action.MARAC_MEETING_MANAGE)
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the meeting is cancelled."]})
    with transaction.atomic():
        meeting = _meeting_for_change(actor, meeting_id)
        meeting.status = MeetingStatus.CANCELLED
        meeting.cancelled_at = timezone.now()
        meeting.cancel_reason = reason.strip()
        meeting.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="marac_meeting",
            object_id=meeting.id,
            reason="cancelled",
            changed_fields=["status", "cancelled_at", "cancel_reason"],
        )
        meeting_shares_sync(actor, meeting)
    return meeting


def case_refer(
    *,
    actor: Any,
    person_id: uuid.UUID | str,
    meeting_id: Any,
    criteria: Iterable[str],
    notes: str = "",
) -> Case:
    """Put her case on a meeting's agenda, for the reasons the referral criteria give.

    Referring shares nothing by itself: what each agency brings to the meeting is
    shared by consent or by a disclosure decision to the meeting."""
    require(actor, Action.MARAC_REFER)
    person = person_get_for(actor=actor, person_id=person_id)
    errors: Errors = {}
    chosen = sorted(set(criteria))
    if not chosen:
        errors["criteria"] = ["Choose at least one referral criterion."]
    elif any(c not in Criterion.values for c in chosen):
        errors["criteria"] = ["Choose only the referral criteria listed."]
    elif Criterion.PROFESSIONAL_JUDGEMENT in chosen and not notes.strip():
        errors["notes"] = ["Say why, in your words: professional judgement needs reasons."]
    meeting = Meeting.objects.filter(
        pk=uuid_or_none(meeting_id) or NO_ID,
        partnership_id=actor.partnership_id,
        status=MeetingStatus.SCHEDULED,
    ).first()
    if meeting is None or meeting.held_at < _today_start():
        errors["meeting"] = ["Choose one of the meetings still to come."]
    if errors:
        raise ValidationError(errors)
    assert meeting is not None
    with transaction.atomic():
        Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
        if Case.objects.filter(meeting=meeting, person=person, removed_at__isnull=True).exists():
            raise ValidationError({"meeting": ["Her case is already on this meeting's agenda."]})
        last = Case.objects.filter(meeting=meeting).aggregate(n=Max("number"))["n"] or 0
        case = Case.objects.create(
            partnership_id=actor.partnership_id,
            meeting=meeting,
            person=person,
            number=last + 1,
            referred_by_agency_id=actor.agency_id,
            referred_by=actor,
            criteria=chosen,
            notes=notes.strip(),
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="marac_case",
            object_id=case.id,
            person_id=person.id,
            changed_fields=["meeting", "criteria", "notes"],
        )
    return case


def _today_start() -> datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def case_remove(*, actor: Any, case_id: Any, reason: str) -> Case:
    """Take a case off the agenda (the coordinator or chair, or the referring agency):
    what was shared to the meeting about her stops being visible at once."""
    try:
        case = Case.objects.select_related("meeting").get(
            pk=uuid_or_none(case_id) or NO_ID,
            partnership_id=actor.partnership_id,
            removed_at__isnull=True,
        )
    except Case.DoesNotExist:
        raise NotFound from None
    if not actor.may(Action.MARAC_MEETING_MANAGE):
        require(actor, Action.MARAC_REFER)
        if case.referred_by_agency_id != actor.agency_id:
            raise NotFound
    if not reason.strip():
        raise ValidationError({"reason": ["Say why her case is taken off the agenda."]})
    with transaction.atomic():
        case.removed_at = timezone.now()
        case.removed_by = actor
        case.removal_reason = reason.strip()
        case.save(update_fields=["removed_at", "removed_by", "removal_reason"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="marac_case",
            object_id=case.id,
            person_id=case.person_id,
            reason="removed",
            changed_fields=["removed_at", "removed_by", "removal_reason"],
        )
        meeting_shares_sync(actor, case.meeting)
    return case
