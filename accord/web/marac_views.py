"""MARAC meetings: the coordinator schedules them and chooses who is represented;
caseworkers refer her case from her page and see the meetings their agency attends.

An agenda names no one. It lists cases by number and referring agency, each linking
to her page, where the access policy decides what the reader may see."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.core.declare import requires
from accord.core.errors import NotFound
from accord.core.ids import NO_ID, uuid_or_none
from accord.marac import selectors, services
from accord.marac.models import Case, MeetingStatus
from accord.partnership.models import Agency
from accord.partnership.permissions import Action
from accord.people import selectors as people
from accord.web import marac_forms as mf
from accord.web.people_views import FORM, _apply_errors


def _agencies(actor: Any) -> Any:
    return Agency.objects.filter(partnership_id=actor.partnership_id, is_active=True).order_by(
        "name"
    )


@requires(Action.MARAC_MEETING_VIEW)
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    context = {
        "meetings": selectors.meetings_for(actor),
        "may_manage": actor.may(Action.MARAC_MEETING_MANAGE),
    }
    return render(request, "web/marac/meetings.html", context)


@requires(Action.MARAC_MEETING_MANAGE)
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    form = mf.MeetingForm(request.POST or None, agencies=_agencies(actor))
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(
                actor=actor,
                title=form.cleaned_data["title"],
                held_at=form.held_at(),
                follow_up_until=form.follow_up_until(),
                agency_ids=form.cleaned_data["agencies"],
            )
        except ValidationError as error:
            _apply_errors(form, error, {"held_at": "held_on", "follow_up_until": "follow_up_on"})
        else:
            messages.success(request, "The meeting has been scheduled.")
            return redirect("web:marac-meeting", meeting_id=meeting.id)
    context = {
        "form": form,
        "title": "Schedule a MARAC meeting",
        "submit": "Schedule the meeting",
        "back": reverse("web:marac-meeting-list"),
        "intro": (
            "A MARAC (multi-agency risk assessment conference) shares information about "
            "victim-survivors at the highest risk and agrees actions. What agencies share "
            "to the meeting is seen by every agency represented, for her case on the agenda."
        ),
    }
    return render(request, FORM, context)


def _meeting_page(
    request: HttpRequest, meeting: Any, *, forms: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    actor: Any = request.user
    forms = forms or {}
    may_manage = actor.may(Action.MARAC_MEETING_MANAGE)
    open_ = meeting.status == MeetingStatus.SCHEDULED
    context = {
        "meeting": meeting,
        "agenda": selectors.agenda(meeting),
        "agencies": meeting.agencies.order_by("name"),
        "may_manage": may_manage and open_,
        "agencies_form": forms.get("agencies")
        or mf.MeetingAgenciesForm(
            initial={"agencies": [a.id for a in meeting.agencies.all()]},
            agencies=_agencies(actor),
        ),
        "cancel_form": forms.get("cancel") or mf.CancelForm(),
    }
    return render(request, "web/marac/meeting.html", context, status=status)


@requires(Action.MARAC_MEETING_VIEW)
@require_GET
def meeting(request: HttpRequest, meeting_id: Any) -> HttpResponse:
    found = selectors.meeting_get_for(actor=request.user, meeting_id=meeting_id)
    return _meeting_page(request, found)


@requires(Action.MARAC_MEETING_MANAGE)
@require_POST
def meeting_agencies(request: HttpRequest, meeting_id: Any) -> HttpResponse:
    actor: Any = request.user
    found = selectors.meeting_get_for(actor=actor, meeting_id=meeting_id)
    form = mf.MeetingAgenciesForm(request.POST, agencies=_agencies(actor))
    if form.is_valid():
        try:
            services.meeting_agencies_set(
                actor=actor, meeting_id=found.id, agency_ids=form.cleaned_data["agencies"]
            )
        except ValidationError as error:
            _apply_errors(form, error, {"status": "agencies"})
        else:
            messages.success(request, "The agencies represented have been saved.")
            return redirect("web:marac-meeting", meeting_id=found.id)
    return _meeting_page(request, found, forms={"agencies": form}, status=400)


@requires(Action.MARAC_MEETING_MANAGE)
@require_POST
def meeting_cancel(request: HttpRequest, meeting_id: Any) -> HttpResponse:
    actor: Any = request.user
    found = selectors.meeting_get_for(actor=actor, meeting_id=meeting_id)
    form = mf.CancelForm(request.POST)
    if form.is_valid():
        try:
            services.meeting_cancel(
                actor=actor, meeting_id=found.id, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _apply_errors(form, error, {})
        else:
            messages.success(request, "The meeting is cancelled. Nothing is shared to it now.")
            return redirect("web:marac-meeting", meeting_id=found.id)
    return _meeting_page(request, found, forms={"cancel": form}, status=400)


@requires(Action.MARAC_REFER)
@require_http_methods(["GET", "POST"])
def person_refer(request: HttpRequest, person_id: Any) -> HttpResponse:
    """Put her case on a meeting's agenda."""
    actor: Any = request.user
    subject = people.person_get_for(actor=actor, person_id=person_id)
    form = mf.ReferralForm(
        request.POST or None, meetings=selectors.meetings_open_for_referral(actor)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.case_refer(
                actor=actor,
                person_id=subject.id,
                meeting_id=form.cleaned_data["meeting"],
                criteria=form.cleaned_data["criteria"],
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as error:
            _apply_errors(form, error, {})
        else:
            messages.success(request, "Her case is on the meeting's agenda.")
            return redirect("web:person", person_id=subject.id)
    context = {
        "form": form,
        "person": subject,
        "title": "Refer to a MARAC meeting",
        "caption": str(actor.agency.word_for_victim_survivor).capitalize(),
        "submit": "Put her case on the agenda",
        "intro": (
            "Refer when a criterion is met. Referring shares nothing by itself: share what "
            "your agency holds by her consent or by a disclosure decision to the meeting. "
            "Tell her if it is safe to; never tell the person harming her."
        ),
    }
    return render(request, FORM, context)


@requires(Action.MARAC_MEETING_VIEW)
@require_http_methods(["GET", "POST"])
def case_remove(request: HttpRequest, case_id: Any) -> HttpResponse:
    """Take a case off the agenda: the coordinator or chair, or the referring agency."""
    actor: Any = request.user
    case = Case.objects.filter(
        pk=uuid_or_none(case_id) or NO_ID,
        partnership_id=actor.partnership_id,
        removed_at__isnull=True,
    ).first()
    if case is None or not (
        actor.may(Action.MARAC_MEETING_MANAGE) or case.referred_by_agency_id == actor.agency_id
    ):
        raise NotFound
    form = mf.RemoveCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_remove(actor=actor, case_id=case.id, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            _apply_errors(form, error, {})
        else:
            messages.success(request, "The case is off the agenda. Nothing is shared to it now.")
            return redirect("web:marac-meeting-list")
    context = {
        "form": form,
        "title": f"Take case {case.number} off the agenda",
        "submit": "Take it off the agenda",
        "back": reverse("web:marac-meeting-list"),
        "intro": "What agencies shared to the meeting about her stops being visible at once.",
    }
    return render(request, FORM, context)
