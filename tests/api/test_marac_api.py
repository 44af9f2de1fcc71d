"""Disclosure to a MARAC meeting through the API: the same service, the same answers."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accord.marac.services import case_refer, meeting_create
from accord.sharing.models import DisclosureDecision
from tests.api.test_people_api import V1, _decision_body, _fields, _post


def _meeting_with_her_case(cast, world):
    meeting = meeting_create(
        actor=cast.marac_coordinator,
        title="Testshire MARAC",
        held_at=timezone.now() + timedelta(days=7),
        agency_ids=[cast.agency.police.id, cast.agency.probation.id],
    )
    case_refer(
        actor=cast.police_officer,
        person_id=world.person_id,
        meeting_id=meeting.id,
        criteria=["visible_high_risk"],
    )
    return meeting


def test_a_decision_to_a_meeting_reaches_its_agencies_on_the_marac_basis(cast, world, api):
    meeting = _meeting_with_her_case(cast, world)
    body = _decision_body(
        cast, world, purpose="marac", recipient_agency=None, recipient_meeting=str(meeting.id)
    )
    response = _post(api(cast.police_officer), f"/people/{world.person_id}/disclosures/", body)
    assert response.status_code == 201
    made = response.json()
    assert made["recipient_meeting"] == str(meeting.id)
    assert made["recipient_agency"] is None and made["recipient_user"] is None
    approved = _post(api(cast.police_spoc), f"/disclosures/{made['id']}/approval/", {})
    assert approved.status_code == 200
    chronology = f"{V1}/people/{world.person_id}/chronology/"
    records = api(cast.probation_officer).get(chronology).json()["records"]
    assert [(r["id"], r["basis"]) for r in records] == [(str(world.r1.id), "marac")]
    assert api(cast.teacher).get(chronology).status_code == 404  # not represented: unknown


def test_a_decision_to_a_meeting_without_her_case_or_for_another_purpose_is_refused(
    cast, world, api
):
    meeting = _meeting_with_her_case(cast, world)
    other = meeting_create(
        actor=cast.marac_coordinator,
        title="Another MARAC",
        held_at=timezone.now() + timedelta(days=14),
        agency_ids=[cast.agency.police.id, cast.agency.probation.id],
    )
    before = DisclosureDecision.objects.count()
    client = api(cast.police_officer)
    url = f"/people/{world.person_id}/disclosures/"
    for overrides, field in (
        ({"purpose": "marac", "recipient_meeting": str(other.id)}, "recipient"),
        ({"purpose": "preventing_crime", "recipient_meeting": str(meeting.id)}, "purpose"),
    ):
        body = _decision_body(cast, world, recipient_agency=None, **overrides)
        response = _post(client, url, body)
        assert response.status_code == 400 and _fields(response) == [field]
    assert DisclosureDecision.objects.count() == before
