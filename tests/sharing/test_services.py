"""Consent, decisions and requests: what they write, and what bad input they refuse."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.cases.models import AgencyRecord, RecordVersion
from accord.cases.selectors import chronology_for, record_get_for
from accord.cases.services import record_correct
from accord.core.errors import NotAllowed, NotFound
from accord.people.models import Person
from accord.sharing import policy
from accord.sharing.models import (
    AccessGrant,
    Consent,
    DecisionStatus,
    DisclosureDecision,
    InformationRequest,
    RequestStatus,
)
from accord.sharing.services import (
    consent_record,
    consent_withdraw,
    decision_approve,
    decision_create,
    information_request_decline,
    information_request_send,
)
from tests.conftest import audit_rows


def _counts():
    return (
        Consent.objects.count(),
        DisclosureDecision.objects.count(),
        AccessGrant.objects.count(),
        AuditEvent.objects.count(),
        InformationRequest.objects.count(),
    )


def _agencies(cast):
    """The agencies holding her identity in the world, in the order flags are shown."""
    keys = ("police", "gp", "housing", "hospital", "probation", "da_service", "childrens")
    return sorted((getattr(cast.agency, key) for key in keys), key=lambda a: (a.name, a.id))


def _consent(cast, world, **overrides):
    fields = dict(
        actor=cast.police_officer,
        person_id=world.person_id,
        decision="given",
        given_by="self",
        method="verbal",
        recipient_agency_ids=[cast.agency.probation.id],
        categories=["risk"],
        purposes=["marac"],
        explanation="Police will tell probation.",
    )
    fields.update(overrides)
    return consent_record(**fields)


def _decision(cast, world, **overrides):
    fields = dict(
        actor=cast.police_officer,
        person_id=world.person_id,
        categories=["risk"],
        recipient_agency_id=cast.agency.probation.id,
        purpose="preventing_crime",
        lawful_basis_id=world.basis.id,
        necessity="Fictional necessity.",
        victim_survivor_told=True,
    )
    fields.update(overrides)
    return decision_create(**fields)


BAD_CONSENTS = [
    ({"recipient_agency_ids": [], "recipient_sectors": []}, "recipient_agencies"),
    ({"categories": []}, "categories"),
    ({"purposes": []}, "purposes"),
    ({"categories": ["gossip"]}, "categories"),
    ({"expires_at": timezone.now() - timedelta(days=1)}, "expires_at"),
    ({"explanation": "  "}, "explanation"),
    ({"given_by": "neighbour"}, "given_by"),
]


@pytest.mark.parametrize(("change", "field"), BAD_CONSENTS)
def test_a_bad_consent_names_the_field_and_saves_nothing(cast, world, change, field):
    before = _counts()
    with pytest.raises(ValidationError) as error:
        _consent(cast, world, **change)
    assert field in error.value.message_dict
    assert _counts() == before


BAD_DECISIONS = [
    ({"lawful_basis_id": None}, "lawful_basis"),
    ({"lawful_basis_id": "not-a-basis"}, "lawful_basis"),
    ({"necessity": ""}, "necessity"),
    ({"victim_survivor_told": False, "not_told_reason": ""}, "not_told_reason"),
    ({"victim_survivor_told": None}, "victim_survivor_told"),
    ({"categories": []}, "categories"),
    ({"expires_at": timezone.now() - timedelta(minutes=1)}, "expires_at"),
    ({"recipient_agency_id": None}, "recipient"),
]


@pytest.mark.parametrize(("change", "field"), BAD_DECISIONS)
def test_a_bad_decision_names_the_field_and_saves_nothing(cast, world, change, field):
    before = _counts()
    with pytest.raises(ValidationError) as error:
        _decision(cast, world, **change)
    assert field in error.value.message_dict
    assert _counts() == before


def test_a_decision_cannot_be_approved_by_its_own_author(cast, world):
    decision = _decision(cast, world, actor=cast.police_spoc)
    assert decision.status == DecisionStatus.PENDING
    before = _counts()
    with pytest.raises(ValidationError) as error:
        decision_approve(actor=cast.police_spoc, decision_id=decision.id)
    assert "approved_by" in error.value.message_dict
    assert _counts() == before
    assert DisclosureDecision.objects.get(pk=decision.pk).status == DecisionStatus.PENDING


def test_a_pending_decision_shares_nothing_until_approved(cast, world):
    decision = _decision(cast, world)
    r2_probation = AgencyRecord.objects.get(pk=world.r1.pk)
    assert not policy.check(cast.probation_officer, r2_probation).visible
    decision_approve(actor=cast.police_spoc, decision_id=decision.id)
    # R1 is criminal justice; the decision covers risk only.
    assert not policy.check(cast.probation_officer, r2_probation).visible
    assert [e.action for e in audit_rows(object_id=decision.id)] == ["create", "update", "disclose"]


def test_a_decision_for_specific_records_shares_only_those(cast, world):
    decision = _decision(cast, world, categories=[], record_ids=[world.r1.id])
    decision_approve(actor=cast.police_spoc, decision_id=decision.id)
    access = policy.check(cast.probation_officer, AgencyRecord.objects.get(pk=world.r1.pk))
    assert (access.visible, access.basis) == (True, "disclosure")


def test_a_restricted_record_cannot_be_disclosed_by_decision(cast, world):
    with pytest.raises(ValidationError) as error:
        _decision(cast, world, categories=[], record_ids=[world.r2.id])
    assert "records" in error.value.message_dict


def test_withdrawal_is_effective_on_the_very_next_request(cast, world):
    person = Person.objects.get(pk=world.person_id)
    assert world.r1.id in [r.id for r in chronology_for(actor=cast.gp, person=person).records]
    consent_withdraw(
        actor=cast.police_officer,
        consent_id=world.consent.id,
        recipient_agency_ids=[cast.agency.gp.id],
    )
    after = chronology_for(actor=cast.gp, person=person)
    assert world.r1.id not in [r.id for r in after.records]
    assert cast.agency.police in [flag.agency for flag in after.flags]
    with pytest.raises(NotFound):
        record_get_for(actor=cast.gp, record_id=world.r1.id)


def test_whole_withdrawal_ends_every_grant_and_marks_the_consent(cast, world):
    consent_withdraw(actor=cast.police_officer, consent_id=world.consent.id, note="All of it.")
    consent = Consent.objects.get(pk=world.consent.pk)
    assert consent.withdrawn_at is not None
    assert not AccessGrant.objects.filter(source_id=consent.id, ended_at__isnull=True).exists()
    with pytest.raises(ValidationError) as error:
        consent_withdraw(actor=cast.police_officer, consent_id=world.consent.id)
    assert "consent" in error.value.message_dict


def test_only_the_recording_agency_withdraws_its_consent(cast, world):
    with pytest.raises(NotFound):
        consent_withdraw(actor=cast.idva, consent_id=world.consent.id)


def test_a_refusal_is_kept_and_grants_nothing(cast, world):
    refused = _consent(
        cast, world, decision="refused", recipient_agency_ids=[], categories=[], purposes=[]
    )
    assert refused.decision == "refused"
    assert not AccessGrant.objects.filter(source_id=refused.id).exists()


def test_an_information_request_is_answered_by_a_decision_or_declined(cast, world):
    request = information_request_send(
        actor=cast.probation_officer,
        person_id=world.person_id,
        to_agency_id=cast.agency.police.id,
        purpose="marac",
        message="Is there a history of incidents?",
    )
    with pytest.raises(NotAllowed):
        information_request_decline(actor=cast.police_officer, request_id=request.id, reason="No")
    decision = _decision(
        cast,
        world,
        actor=cast.police_spoc,
        categories=["criminal_justice"],
        information_request_id=request.id,
    )
    request.refresh_from_db()
    assert (request.status, request.decision_id) == (RequestStatus.ANSWERED, decision.id)
    second = information_request_send(
        actor=cast.probation_officer,
        person_id=world.person_id,
        to_agency_id=cast.agency.police.id,
        purpose="marac",
        message="Anything else?",
    )
    with pytest.raises(ValidationError) as error:
        information_request_decline(actor=cast.police_spoc, request_id=second.id, reason="")
    assert "reason" in error.value.message_dict
    information_request_decline(
        actor=cast.police_spoc, request_id=second.id, reason="Not necessary for MARAC."
    )
    second.refresh_from_db()
    assert second.status == RequestStatus.DECLINED


def test_a_correction_adds_a_version_and_keeps_the_history(cast, world):
    record_correct(
        actor=cast.police_officer,
        record_id=world.r1.id,
        reason="Wrong time",
        occurred_at=world.r1.occurred_at - timedelta(hours=1),
        summary="Call-out to a domestic incident (corrected)",
    )
    record = AgencyRecord.objects.get(pk=world.r1.pk)
    assert record.version == 2
    versions = list(RecordVersion.objects.filter(record=record).order_by("version"))
    assert [v.summary for v in versions] == [
        "Call-out to a domestic incident",
        "Call-out to a domestic incident (corrected)",
    ]
    assert versions[1].correction_reason == "Wrong time"
    with pytest.raises(NotFound):
        record_correct(actor=cast.gp, record_id=world.r1.id, reason="x", summary="y")


def test_reads_are_audited_with_their_basis_and_refusals_too(cast, world):
    person = Person.objects.get(pk=world.person_id)
    before = len(audit_rows(actor_id=cast.social_worker.id))
    chronology_for(actor=cast.social_worker, person=person)
    rows = audit_rows(actor_id=cast.social_worker.id)[before:]
    # Every other agency holds her identity, which the social worker may not see: a flag each.
    flagged = [a for a in _agencies(cast) if a != cast.agency.childrens]
    assert Counter((r.action, r.object_type, r.object_id, r.basis) for r in rows) == Counter(
        [("read", "record", world.r1.id, "disclosure")]
        + [("deny", "agency", agency.id, "") for agency in flagged]
    )
    # The owner's own reads are audited only where the partnership says so.
    before = len(audit_rows(actor_id=cast.police_officer.id))
    chronology_for(actor=cast.police_officer, person=person)
    rows = audit_rows(actor_id=cast.police_officer.id)[before:]
    flagged = [a for a in _agencies(cast) if a != cast.agency.police]
    assert [(r.action, r.object_id) for r in rows] == [("deny", a.id) for a in flagged]
    cast.testshire.audit_own_agency_reads = True
    cast.testshire.save()
    officer = type(cast.police_officer).objects.get(pk=cast.police_officer.pk)
    chronology_for(actor=officer, person=person)
    rows = audit_rows(actor_id=officer.id)[before + len(flagged) :]
    assert Counter((r.action, r.object_id, r.basis) for r in rows) == Counter(
        [("read", world.r1.id, "owner")] + [("deny", a.id, "") for a in flagged]
    )


def test_reading_identities_audits_other_agencies_and_withheld_addresses(cast, world):
    from accord.people.selectors import identities_for

    person = Person.objects.get(pk=world.person_id)
    before = len(audit_rows(actor_id=cast.marac_coordinator.id))
    views = identities_for(actor=cast.marac_coordinator, person=person).identities
    # The DA service's colleague: the police identity (contact details under the
    # police consent to the specialist DA sector) and the police home address
    # (address category, same consent); the own refuge address is withheld.
    seen = {(v.identity.agency_id, a.id, acc.withheld) for v in views for a, acc in v.addresses}
    assert (cast.agency.da_service.id, world.refuge.id, True) in seen
    rows = audit_rows(actor_id=cast.marac_coordinator.id)[before:]
    assert ("deny", "address", world.refuge.id) in {
        (r.action, r.object_type, r.object_id) for r in rows
    }
    assert ("read", "identity", world.identities.police.id, "consent") in {
        (r.action, r.object_type, r.object_id, r.basis) for r in rows
    }


def test_if_the_audit_write_fails_the_read_fails(cast, world):
    from django.db import connection

    person = Person.objects.get(pk=world.person_id)
    with connection.cursor() as cursor:
        cursor.execute(
            """CREATE FUNCTION refuse_reads() RETURNS trigger AS $$
               BEGIN IF NEW.action = 'read' THEN RAISE EXCEPTION 'audit refused'; END IF;
               RETURN NEW; END $$ LANGUAGE plpgsql;
               CREATE TRIGGER refuse_reads BEFORE INSERT ON audit_auditevent
               FOR EACH ROW EXECUTE FUNCTION refuse_reads();"""
        )
    with pytest.raises(Exception, match="audit refused"):
        chronology_for(actor=cast.gp, person=person)


def test_withdrawing_what_the_consent_does_not_cover_is_refused(cast, world):
    before = _counts()
    with pytest.raises(ValidationError) as error:
        consent_withdraw(
            actor=cast.police_officer,
            consent_id=world.consent.id,
            recipient_agency_ids=[cast.agency.probation.id],
        )
    assert "recipient_agencies" in error.value.message_dict
    # Housing was withdrawn already: withdrawing it again is refused too.
    with pytest.raises(ValidationError):
        consent_withdraw(
            actor=cast.police_officer,
            consent_id=world.consent.id,
            recipient_agency_ids=[cast.agency.housing.id],
        )
    assert _counts() == before


def test_search_finds_by_name_and_postcode_and_audits_other_agencies_identities(cast, world):
    from accord.people.selectors import people_search

    before = len(audit_rows(actor_id=cast.gp.id))
    found = people_search(actor=cast.gp, name="rowan fict")
    assert {i.agency_id for i in found} >= {cast.agency.gp.id, cast.agency.police.id}
    rows = audit_rows(actor_id=cast.gp.id)[before:]
    assert {(r.object_id, r.basis) for r in rows} == {(world.identities.police.id, "consent")}
    # The police home address is shared with the GP; the refuge postcode finds no one.
    assert people_search(actor=cast.gp, postcode="te11st")
    for user in (cast.gp, cast.idva, cast.marac_coordinator, cast.police_officer):
        assert people_search(actor=user, postcode="TE9 9ZZ") == []
    assert people_search(actor=cast.outsider, name="Rowan") == []
