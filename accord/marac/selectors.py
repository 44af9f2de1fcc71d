"""Reading MARAC meetings and agendas.

The coordinator and chair see every meeting of the partnership; anyone else sees the
meetings their agency is represented at. An agenda names no one: it lists cases by
number and referring agency, and what may be seen of each person is the access
policy's answer on her own page.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accord.core.errors import NotFound
from accord.core.ids import NO_ID, uuid_or_none
from accord.marac.models import Case, Meeting, MeetingStatus
from accord.partnership.permissions import Action
from accord.people.models import Person


def _meetings(actor: Any) -> QuerySet[Meeting]:
    meetings = Meeting.objects.filter(partnership_id=actor.partnership_id)
    if not actor.may(Action.MARAC_MEETING_MANAGE):
        meetings = meetings.filter(agencies__id=actor.agency_id)
    return meetings


def meetings_for(actor: Any) -> list[Meeting]:
    """The meetings the actor may see, soonest first, each with `case_count`."""
    return list(
        _meetings(actor)
        .annotate(case_count=Count("cases", filter=Q(cases__removed_at__isnull=True)))
        .order_by("-held_at", "id")
    )


def meeting_get_for(*, actor: Any, meeting_id: Any) -> Meeting:
    try:
        return _meetings(actor).get(pk=uuid_or_none(meeting_id) or NO_ID)
    except Meeting.DoesNotExist:
        raise NotFound from None


def agenda(meeting: Meeting) -> list[Case]:
    """The cases on the agenda, in order, with their referring agencies."""
    return list(
        meeting.cases.filter(removed_at__isnull=True)
        .select_related("referred_by_agency")
        .order_by("number")
    )


def meetings_open_for_referral(actor: Any) -> list[Meeting]:
    """Meetings of the partnership still to come, that a case may be referred to."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return list(
        Meeting.objects.filter(
            partnership_id=actor.partnership_id,
            status=MeetingStatus.SCHEDULED,
            held_at__gte=start,
        ).order_by("held_at", "id")
    )


def cases_for_person(*, actor: Any, person: Person) -> list[Case]:
    """Her cases on agendas, as the actor may know of them: the actor's agency referred
    her or is represented at the meeting (MARAC lists go to the member agencies)."""
    return list(
        Case.objects.filter(person=person, removed_at__isnull=True)
        .filter(Q(referred_by_agency_id=actor.agency_id) | Q(meeting__agencies__id=actor.agency_id))
        .select_related("meeting", "referred_by_agency")
        .distinct()
        .order_by("-meeting__held_at")
    )


def meetings_for_disclosure(*, actor: Any, person: Person) -> list[Meeting]:
    """Meetings with her case on the agenda that information may still be shared to."""
    return [
        case.meeting
        for case in cases_for_person(actor=actor, person=person)
        if case.meeting.status == MeetingStatus.SCHEDULED
        and case.meeting.follow_up_until > timezone.now()
    ]
