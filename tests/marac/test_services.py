"""MARAC meetings and disclosure to a meeting: who sees what, for how long, and what
bad input is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.core.errors import NotAllowed, NotFound
from accord.marac.models import Case, Meeting
from accord.marac.selectors import agenda, cases_for_person, meetings_for
from accord.marac.services import (
    case_refer,
    case_remove,
    meeting_agencies_set,
    meeting_cancel,
    meeting_create,
)
from accord.sharing import policy
from accord.sharing.models import AccessGrant, DisclosureDecision
from accord.sharing.services import decision_approve, decision_create, decision_revoke
from tests.conftest import audit_rows

pytestmark = pytest.mark.django_db


def _meeting(cast, *keys, **overrides):
    fields = dict(
        actor=cast.marac_coordinator,
        title="Testshire MARAC",
        held_at=timezone.now() + timedelta(days=7),
        agency_ids=[getattr(cast.agency, k).id for k in keys or ("police", "probation")],
    )
    fields.update(overrides)
    return meeting_create(**fields)


def _refer(cast, world, meeting, **overrides):
    fields = dict(
        actor=cast.police_officer,
        person_id=world.person_id,
        meeting_id=meeting.id,
        criteria=["visible_high_risk"],
    )
    fields.update(overrides)
    return case_refer(**fields)


def _share(cast, world, meeting, **overrides):
    fields = dict(
        actor=cast.police_officer,
        person_id=world.person_id,
        categories=["criminal_justice"],
        recipient_meeting_id=meeting.id,
        purpose="marac",
        lawful_basis_id=world.basis.id,
        necessity="Her case is on the agenda; the police history is needed to plan.",
        victim_survivor_told=True,
    )
    fields.update(overrides)
    decision = decision_create(**fields)
    if decision.status == "pending":
        decision_approve(actor=cast.police_spoc, decision_id=decision.id, note="Agreed.")
    return decision


def _sees_r1(user, world) -> str:
    """The basis on which `user` sees police record R1, or '' for the flag only."""
    access = policy.check(user, world.r1)
    assert access.exists
    return access.basis if access.visible else ""


@pytest.fixture
def shared(cast, world):
    """A meeting with police, probation, housing and the DA service represented, her
    case on its agenda, and police's criminal-justice records shared to it."""
    meeting = _meeting(cast, "police", "probation", "housing", "da_service")
    case = _refer(cast, world, meeting)
    decision = _share(cast, world, meeting)
    return meeting, case, decision


def test_a_disclosure_to_a_meeting_reaches_every_agency_represented_on_the_marac_basis(
    cast, world, shared
):
    meeting, _case, decision = shared
    assert _sees_r1(cast.probation_officer, world) == "marac"
    assert _sees_r1(cast.housing_officer, world) == "marac"  # her consent for housing was withdrawn
    assert _sees_r1(cast.teacher, world) == ""  # the school is not represented
    grants = AccessGrant.objects.filter(source_id=decision.id)
    assert {g.recipient_agency_id for g in grants} == {
        cast.agency.probation.id,
        cast.agency.housing.id,
        cast.agency.da_service.id,
    }  # not the police themselves
    assert all(g.basis == "marac" and g.valid_until == meeting.follow_up_until for g in grants)
    assert all(g.purposes == ["marac"] and g.lawful_basis == world.basis.code for g in grants)
    # The same answer from the filter as from the check.
    from accord.cases.models import AgencyRecord

    seen = policy.visible(cast.probation_officer, AgencyRecord.objects.filter(id=world.r1.id))
    assert [r.access_basis for r in seen] == ["marac"]


def test_the_sharing_ends_with_the_follow_up_or_the_decisions_own_expiry(cast, world):
    meeting = _meeting(cast, "police", "probation")
    _refer(cast, world, meeting)
    soon = timezone.now() + timedelta(days=3)
    decision = _share(cast, world, meeting, expires_at=soon)
    assert {g.valid_until for g in AccessGrant.objects.filter(source_id=decision.id)} == {soon}
    AccessGrant.objects.filter(source_id=decision.id).update(
        valid_until=timezone.now() - timedelta(seconds=1)
    )
    assert _sees_r1(cast.probation_officer, world) == ""


def test_an_agency_added_later_sees_from_then_and_one_taken_off_stops_at_once(cast, world, shared):
    meeting, _case, decision = shared
    keys = ("police", "probation", "da_service", "school")
    meeting_agencies_set(
        actor=cast.marac_coordinator,
        meeting_id=meeting.id,
        agency_ids=[getattr(cast.agency, k).id for k in keys],
    )
    assert _sees_r1(cast.housing_officer, world) == ""
    assert _sees_r1(cast.teacher, world) == "marac"
    assert _sees_r1(cast.probation_officer, world) == "marac"
    live = AccessGrant.objects.filter(source_id=decision.id, ended_at__isnull=True)
    assert sorted(str(a) for a in live.values_list("recipient_agency_id", flat=True)) == sorted(
        str(getattr(cast.agency, k).id) for k in ("probation", "da_service", "school")
    )
    event = audit_rows(object_id=decision.id, reason="MARAC meeting changed")
    assert [e.action for e in event] == ["disclose"]


def test_taking_her_case_off_ends_the_sharing_and_a_new_referral_needs_a_new_decision(
    cast, world, shared
):
    meeting, case, _decision = shared
    case_remove(actor=cast.police_officer, case_id=case.id, reason="Referred in error.")
    assert _sees_r1(cast.probation_officer, world) == ""
    assert agenda(meeting) == []
    _refer(cast, world, meeting)
    meeting_agencies_set(
        actor=cast.marac_coordinator,
        meeting_id=meeting.id,
        agency_ids=[cast.agency.police.id, cast.agency.probation.id],
    )
    assert _sees_r1(cast.probation_officer, world) == ""


def test_cancelling_the_meeting_and_revoking_the_decision_each_end_the_sharing(cast, world, shared):
    _, _case, decision = shared
    decision_revoke(actor=cast.police_officer, decision_id=decision.id, reason="No longer needed.")
    assert _sees_r1(cast.probation_officer, world) == ""
    second = _meeting(cast, "police", "probation", title="Emergency MARAC")
    _refer(cast, world, second, criteria=["professional_judgement"], notes="Threats to kill.")
    _share(cast, world, second)
    assert _sees_r1(cast.probation_officer, world) == "marac"
    meeting_cancel(actor=cast.marac_coordinator, meeting_id=second.id, reason="Chair unwell.")
    assert _sees_r1(cast.probation_officer, world) == ""
    with pytest.raises(ValidationError) as refused:
        meeting_agencies_set(
            actor=cast.marac_coordinator,
            meeting_id=second.id,
            agency_ids=[cast.agency.police.id, cast.agency.probation.id],
        )
    assert "status" in refused.value.message_dict


def test_referral_is_audited_and_the_agenda_names_cases_by_number(cast, world, shared):
    meeting, case, _decision = shared
    assert case.number == 1
    assert [c.id for c in agenda(meeting)] == [case.id]
    [event] = audit_rows(object_type="marac_case", object_id=case.id)
    assert (event.action, event.person_id, event.agency_id) == (
        "create",
        world.person_id,
        cast.agency.police.id,
    )
    assert set(event.changed_fields) == {"meeting", "criteria", "notes"}


def test_who_sees_the_meeting_and_her_case(cast, world, shared):
    meeting, case, _decision = shared
    assert [m.id for m in meetings_for(cast.marac_coordinator)] == [meeting.id]
    assert [m.id for m in meetings_for(cast.probation_officer)] == [meeting.id]
    assert meetings_for(cast.teacher) == []
    assert meetings_for(cast.outsider) == []
    from accord.people.models import Person

    person = Person.objects.get(id=world.person_id)
    assert [c.id for c in cases_for_person(actor=cast.housing_officer, person=person)] == [case.id]
    assert cases_for_person(actor=cast.gp, person=person) == []  # GP not represented


def _counts():
    return (
        Meeting.objects.count(),
        Case.objects.count(),
        DisclosureDecision.objects.count(),
        AccessGrant.objects.count(),
        AuditEvent.objects.count(),
    )


BAD_MEETINGS = [
    ({"title": "  "}, "title"),
    ({"held_at": None}, "held_at"),
    ({"agency_ids": []}, "agencies"),
    ({"agency_ids": ["not-an-id"]}, "agencies"),
    ({"held_at": timezone.now() - timedelta(days=200)}, "held_at"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_MEETINGS)
def test_a_bad_meeting_is_refused_naming_the_field_and_nothing_is_saved(cast, overrides, field):
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        _meeting(cast, **overrides)
    assert field in refused.value.message_dict
    assert _counts() == before


def test_a_meeting_needs_its_own_partnerships_agencies_and_a_coordinator(cast):
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        _meeting(cast, agency_ids=[cast.agency.police.id, cast.elsewhere_agency.police.id])
    assert "agencies" in refused.value.message_dict
    held = timezone.now() + timedelta(days=7)
    with pytest.raises(ValidationError) as refused:
        _meeting(cast, held_at=held, follow_up_until=held - timedelta(hours=1))
    assert "follow_up_until" in refused.value.message_dict
    with pytest.raises(NotAllowed):
        _meeting(cast, actor=cast.police_officer)
    assert _counts() == before


BAD_REFERRALS = [
    ({"criteria": []}, "criteria"),
    ({"criteria": ["gut_feeling"]}, "criteria"),
    ({"criteria": ["professional_judgement"], "notes": " "}, "notes"),
    ({"meeting_id": "not-an-id"}, "meeting"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_REFERRALS)
def test_a_bad_referral_is_refused_naming_the_field_and_nothing_is_saved(
    cast, world, overrides, field
):
    meeting = _meeting(cast)
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        _refer(cast, world, meeting, **overrides)
    assert field in refused.value.message_dict
    assert _counts() == before


def test_no_referral_to_a_past_or_cancelled_meeting_twice_or_of_someone_unknown(cast, world):
    past = _meeting(cast, held_at=timezone.now() - timedelta(days=2))
    cancelled = _meeting(cast)
    meeting_cancel(actor=cast.marac_coordinator, meeting_id=cancelled.id, reason="Moved.")
    meeting = _meeting(cast)
    _refer(cast, world, meeting)
    before = _counts()
    for target in (past, cancelled, meeting):
        with pytest.raises(ValidationError) as refused:
            _refer(cast, world, target)
        assert "meeting" in refused.value.message_dict
    with pytest.raises(NotFound):
        _refer(cast, world, meeting, actor=cast.outsider)
    with pytest.raises(NotAllowed):
        _refer(cast, world, meeting, actor=cast.analyst)
    assert _counts() == before


BAD_MEETING_DECISIONS = [
    ({"purpose": "safety_planning"}, "purpose"),
    ({"recipient_agency_id": "x"}, "recipient"),  # two recipients
]


@pytest.mark.parametrize(("overrides", "field"), BAD_MEETING_DECISIONS)
def test_a_bad_disclosure_to_a_meeting_is_refused_naming_the_field(cast, world, overrides, field):
    meeting = _meeting(cast)
    _refer(cast, world, meeting)
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        _share(cast, world, meeting, **overrides)
    assert field in refused.value.message_dict
    assert _counts() == before


def test_no_disclosure_to_a_meeting_without_her_case_on_the_agenda(cast, world):
    meeting = _meeting(cast)
    elsewhere_case = _meeting(cast, "housing", "probation")
    _refer(cast, world, elsewhere_case, actor=cast.housing_officer)
    before = _counts()
    for target in (meeting, elsewhere_case):  # not on this agenda; police not at that one
        with pytest.raises(ValidationError) as refused:
            _share(cast, world, target)
        assert "recipient" in refused.value.message_dict
    assert _counts() == before


def test_only_the_coordinator_or_the_referring_agency_takes_a_case_off(cast, world, shared):
    _, case, _decision = shared
    with pytest.raises(NotFound):
        case_remove(actor=cast.housing_officer, case_id=case.id, reason="Not ours.")
    with pytest.raises(ValidationError) as refused:
        case_remove(actor=cast.marac_coordinator, case_id=case.id, reason="")
    assert "reason" in refused.value.message_dict
    case_remove(actor=cast.marac_coordinator, case_id=case.id, reason="Duplicate referral.")
    assert Case.objects.get(id=case.id).removed_by == cast.marac_coordinator
