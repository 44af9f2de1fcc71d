"""MARAC pages: the coordinator schedules a meeting and chooses who is represented; a
caseworker refers her case from her page and shares to the meeting; the agencies
represented see it; bad input names its field and writes nothing."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accord.marac.models import Case, Meeting
from accord.marac.services import case_refer, meeting_create
from accord.sharing.models import DisclosureDecision
from tests.conftest import audit_rows
from tests.web.test_people_pages import R1, _errors, _html, _person_url


def _meeting(cast, *keys):
    return meeting_create(
        actor=cast.marac_coordinator,
        title="Testshire MARAC",
        held_at=timezone.now() + timedelta(days=7),
        agency_ids=[getattr(cast.agency, k).id for k in keys or ("police", "probation")],
    )


def test_the_coordinator_schedules_a_meeting_and_sees_it_listed(cast, client_for):
    coordinator = client_for(cast.marac_coordinator)
    day = (timezone.localdate() + timedelta(days=14)).isoformat()
    response = coordinator.post(
        reverse("web:marac-meeting-new"),
        {
            "title": "Northgate MARAC",
            "held_on": day,
            "held_time": "10:00",
            "agencies": [str(cast.agency.police.id), str(cast.agency.housing.id)],
        },
    )
    meeting = Meeting.objects.get(title="Northgate MARAC")
    assert response["Location"] == reverse("web:marac-meeting", args=[meeting.id])
    assert timezone.localtime(meeting.held_at).strftime("%H:%M") == "10:00"
    assert meeting.follow_up_until == meeting.held_at + timedelta(days=90)
    page = _html(coordinator.get(response["Location"]))
    assert "Testshire Homes" in page and "No cases on the agenda yet." in page
    assert "Northgate MARAC" in _html(coordinator.get(reverse("web:marac-meeting-list")))
    [event] = audit_rows(object_type="marac_meeting", object_id=meeting.id)
    assert event.action == "create"


def test_a_meeting_with_bad_input_names_the_fields_and_saves_nothing(cast, client_for):
    response = client_for(cast.marac_coordinator).post(
        reverse("web:marac-meeting-new"),
        {"title": "", "held_on": "", "agencies": [str(cast.agency.police.id)]},
    )
    assert response.status_code == 200
    errors = " ".join(_errors(response))
    assert "Give the meeting a title" in errors
    assert "Give the date and time of the meeting." in errors
    assert "at least 2 for a meeting" in errors
    assert Meeting.objects.count() == 0


def test_a_caseworker_refers_her_case_and_shares_to_the_meeting(cast, world, client_for):
    meeting = _meeting(cast, "police", "probation")
    officer = client_for(cast.police_officer)
    page = _html(officer.get(_person_url(world)))
    assert reverse("web:marac-refer", args=[world.person_id]) in page
    response = officer.post(
        reverse("web:marac-refer", args=[world.person_id]),
        {"meeting": str(meeting.id), "criteria": ["visible_high_risk"]},
    )
    assert response["Location"] == _person_url(world)
    case = Case.objects.get(meeting=meeting, person_id=world.person_id)
    page = _html(officer.get(_person_url(world)))
    assert "Testshire MARAC" in page and "Case 1" in page
    assert "Criteria: Visible high risk" in page
    assert "Criteria:" not in _html(client_for(cast.probation_officer).get(_person_url(world)))
    assert R1 not in _html(client_for(cast.probation_officer).get(_person_url(world)))
    form = _html(officer.get(reverse("web:decision-new", args=[world.person_id])))
    assert "Or to this MARAC meeting" in form
    response = officer.post(
        reverse("web:decision-new", args=[world.person_id]),
        {
            "categories": ["criminal_justice"],
            "recipient_meeting": str(meeting.id),
            "purpose": "marac",
            "lawful_basis": str(world.basis.id),
            "necessity": "Her case is on the agenda.",
            "victim_survivor_told": "yes",
        },
    )
    decision = DisclosureDecision.objects.get(recipient_case=case)
    assert response["Location"] == reverse("web:decision", args=[decision.id])
    assert "Testshire MARAC" in _html(officer.get(response["Location"]))
    client_for(cast.police_spoc).post(
        reverse("web:decision-approve", args=[decision.id]), {"note": "Agreed."}
    )
    probation = _html(client_for(cast.probation_officer).get(_person_url(world)))
    assert R1 in probation and "Shared for MARAC" in probation
    # The school is not represented: the flag only.
    assert R1 not in _html(client_for(cast.teacher).get(_person_url(world)))


def test_a_referral_with_bad_input_names_the_fields_and_saves_nothing(cast, world, client_for):
    _meeting(cast)
    response = client_for(cast.police_officer).post(
        reverse("web:marac-refer", args=[world.person_id]),
        {"meeting": "", "criteria": ["professional_judgement"], "notes": ""},
    )
    errors = " ".join(_errors(response))
    assert "professional judgement needs reasons" in errors
    response = client_for(cast.police_officer).post(
        reverse("web:marac-refer", args=[world.person_id]), {"meeting": "", "criteria": []}
    )
    errors = " ".join(_errors(response))
    assert "Choose at least one referral criterion." in errors
    assert Case.objects.count() == 0


def test_changing_the_agencies_and_cancelling_change_who_sees(cast, world, client_for):
    meeting = _meeting(cast, "police", "probation", "housing")
    case_refer(
        actor=cast.police_officer,
        person_id=world.person_id,
        meeting_id=meeting.id,
        criteria=["repeat"],
    )
    coordinator = client_for(cast.marac_coordinator)
    agenda = _html(coordinator.get(reverse("web:marac-meeting", args=[meeting.id])))
    assert "Case 1: referred by Testshire Police" in agenda
    assert "Rowan" not in agenda and "Fictitious" not in agenda  # the agenda names no one
    response = coordinator.post(
        reverse("web:marac-meeting-agencies", args=[meeting.id]),
        {"agencies": [str(cast.agency.police.id)]},
    )
    assert response.status_code == 400
    assert "at least 2 for a meeting" in " ".join(_errors(response))
    response = coordinator.post(
        reverse("web:marac-meeting-agencies", args=[meeting.id]),
        {"agencies": [str(cast.agency.police.id), str(cast.agency.school.id)]},
    )
    assert response.status_code == 302
    assert set(meeting.agencies.values_list("id", flat=True)) == {
        cast.agency.police.id,
        cast.agency.school.id,
    }
    response = coordinator.post(reverse("web:marac-meeting-cancel", args=[meeting.id]), {})
    assert "Say why the meeting is cancelled." in " ".join(_errors(response))
    coordinator.post(reverse("web:marac-meeting-cancel", args=[meeting.id]), {"reason": "Moved."})
    meeting.refresh_from_db()
    assert meeting.status == "cancelled"


def test_meetings_are_seen_by_the_agencies_represented_and_the_coordinator(cast, world, client_for):
    meeting = _meeting(cast, "police", "probation")
    url = reverse("web:marac-meeting", args=[meeting.id])
    assert client_for(cast.probation_officer).get(url).status_code == 200
    assert client_for(cast.marac_chair).get(url).status_code == 200
    assert client_for(cast.teacher).get(url).status_code == 404
    assert client_for(cast.outsider).get(url).status_code == 404
    assert client_for(cast.analyst).get(url).status_code == 403
    assert "There are no meetings to show." in _html(
        client_for(cast.teacher).get(reverse("web:marac-meeting-list"))
    )
    assert client_for(cast.police_officer).get(reverse("web:marac-meeting-new")).status_code == 403
    response = client_for(cast.probation_officer).post(
        reverse("web:marac-meeting-agencies", args=[meeting.id]),
        {"agencies": [str(cast.agency.police.id)]},
    )
    assert response.status_code == 403


def test_the_referring_agency_takes_her_case_off_and_others_cannot(cast, world, client_for):
    meeting = _meeting(cast, "police", "probation")
    case = case_refer(
        actor=cast.police_officer,
        person_id=world.person_id,
        meeting_id=meeting.id,
        criteria=["repeat"],
    )
    url = reverse("web:marac-case-remove", args=[case.id])
    assert client_for(cast.probation_officer).get(url).status_code == 404
    officer = client_for(cast.police_officer)
    assert "Say why her case is taken off the agenda." in " ".join(
        _errors(officer.post(url, {"reason": ""}))
    )
    assert officer.post(url, {"reason": "Referred in error."}).status_code == 302
    case.refresh_from_db()
    assert case.removed_by == cast.police_officer
