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


def _known_cases(actor: Any, person_id: Any) -> QuerySet[Case]:
    """Her live cases that the actor's agency knows of: it referred her or is
    represented at the meeting (MARAC lists go to the member agencies)."""
    return (
        Case.objects.filter(
            person_id=person_id, partnership_id=actor.partnership_id, removed_at__isnull=True
        )
        .filter(Q(referred_by_agency_id=actor.agency_id) | Q(meeting__agencies__id=actor.agency_id))
        .select_related("meeting", "referred_by_agency")
        .distinct()
    )


def cases_for_person(*, actor: Any, person: Person) -> list[Case]:
    """Her cases on agendas, as the actor may know of them."""
    return list(_known_cases(actor, person.id).order_by("-meeting__held_at"))


def open_cases_for_disclosure(*, actor: Any, person_id: Any) -> QuerySet[Case]:
    """Her cases the actor's agency may share to: known to it, on a meeting not
    cancelled whose follow-up has not ended."""
    return _known_cases(actor, person_id).filter(
        meeting__status=MeetingStatus.SCHEDULED, meeting__follow_up_until__gt=timezone.now()
    )


def meetings_for_disclosure(*, actor: Any, person: Person) -> list[Meeting]:
    """Meetings with her case on the agenda that information may still be shared to."""
    cases = open_cases_for_disclosure(actor=actor, person_id=person.id)
    return [case.meeting for case in cases.order_by("meeting__held_at")]
