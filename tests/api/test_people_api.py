"""People, records, consent, disclosure decisions and requests over the API: what each
endpoint answers and writes, the bad input it refuses, and agency systems' keys.

Every response is also checked against the published schema by the `api` fixture.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings

from accord.api.services import api_key_issue
from accord.audit.models import AuditEvent
from accord.cases.models import AgencyRecord, RecordVersion
from accord.people.models import Address, Identity, Person
from accord.sharing.models import (
    AccessGrant,
    Consent,
    DecisionStatus,
    DisclosureDecision,
    InformationRequest,
    RequestStatus,
)
from tests.api import test_api_fuzz as fuzz
from tests.conftest import audit_rows, verify_second_factor

V1 = "/api/v1"


def _counts():
    return tuple(
        model.objects.count()
        for model in (
            Person,
            Identity,
            Address,
            AgencyRecord,
            RecordVersion,
            Consent,
            DisclosureDecision,
            AccessGrant,
            InformationRequest,
            AuditEvent,
        )
    )


def _fields(response):
    return [error["field"] for error in response.json()["errors"]]


def _consent_body(cast, **overrides):
    body = {
        "decision": "given",
        "given_by": "self",
        "method": "verbal",
        "recipient_agencies": [str(cast.agency.probation.id)],
        "categories": ["risk"],
        "purposes": ["marac"],
        "explanation": "Police will tell probation.",
    }
    body.update(overrides)
    return body


def _decision_body(cast, world, **overrides):
    body = {
        "purpose": "preventing_crime",
        "lawful_basis": str(world.basis.id),
        "necessity": "Fictional necessity.",
        "victim_survivor_told": True,
        "categories": ["criminal_justice"],
        "recipient_agency": str(cast.agency.probation.id),
    }
    body.update(overrides)
    return body


def _post(client, path, body):
    return client.post(f"{V1}{path}", body, format="json")


# --- Finding and recording people ---------------------------------------------------


def test_search_finds_visible_identities_and_audits_other_agencies(cast, world, api):
    before = len(audit_rows(actor_id=cast.gp.id))
    response = _post(api(cast.gp), "/people/search/", {"name": "rowan fict"})
    assert response.status_code == 200
    body = response.json()
    found = {(r["agency"]["name"], r["basis"]) for r in body["results"]}
    assert found == {("Testshire Surgery", "owner"), ("Testshire Police", "consent")}
    assert body["count"] == 2 and body["next"] is None
    assert {r["person"] for r in body["results"]} == {str(world.person_id)}
    rows = audit_rows(actor_id=cast.gp.id)[before:]
    assert [(r.action, r.object_id, r.basis) for r in rows] == [
        ("read", world.identities.police.id, "consent")
    ]


def test_search_needs_a_criterion_and_names_the_field(cast, world, api):
    response = _post(api(cast.gp), "/people/search/", {"name": "  "})
    assert response.status_code == 400
    assert _fields(response) == ["name"]


def test_a_confidential_postcode_finds_no_one(cast, world, api):
    for user in (cast.gp, cast.idva, cast.marac_coordinator, cast.police_officer):
        response = _post(api(user), "/people/search/", {"postcode": "TE9 9ZZ"})
        assert response.json()["results"] == []
    home = _post(api(cast.gp), "/people/search/", {"postcode": "te1 1st"})
    assert {r["agency"]["name"] for r in home.json()["results"]} >= {"Testshire Police"}


def test_recording_a_new_person(cast, api):
    response = _post(
        api(cast.teacher),
        "/people/",
        {"given_names": "Sky", "family_name": "Example", "date_of_birth": "2015-03-04"},
    )
    assert response.status_code == 201
    body = response.json()
    identity = Identity.objects.get(pk=body["id"])
    assert identity.agency_id == cast.agency.school.id and identity.recorded_by == cast.teacher
    assert str(identity.person_id) == body["person"] and body["basis"] == "owner"
    assert body["agency"] == {"id": str(cast.agency.school.id), "name": "Testshire Primary"}
    [row] = audit_rows(object_id=identity.id)
    assert (row.action, row.actor_id, row.person_id) == (
        "create",
        cast.teacher.id,
        identity.person_id,
    )


def test_linking_by_hand_and_an_unknown_reference(cast, world, api):
    linked = _post(
        api(cast.teacher), "/people/", {"family_name": "X", "person": str(world.person_id)}
    )
    assert linked.status_code == 201 and linked.json()["person"] == str(world.person_id)
    before = _counts()
    unknown = _post(
        api(cast.teacher), "/people/", {"family_name": "X", "person": str(cast.testshire.id)}
    )
    assert unknown.status_code == 400 and _fields(unknown) == ["person"]
    assert _counts() == before


def test_an_identity_with_a_future_birth_date_names_the_field(cast, api):
    before = _counts()
    response = _post(api(cast.teacher), "/people/", {"date_of_birth": "2999-01-01"})
    assert response.status_code == 400 and _fields(response) == ["date_of_birth"]
    assert _counts() == before


def test_the_person_shows_identities_addresses_and_flags(cast, world, api):
    response = api(cast.gp).get(f"{V1}/people/{world.person_id}/")
    assert response.status_code == 200
    body = response.json()
    identities = {i["agency"]["name"]: i for i in body["identities"]}
    assert set(identities) == {"Testshire Surgery", "Testshire Police"}
    assert identities["Testshire Police"]["basis"] == "consent"
    [home] = identities["Testshire Police"]["addresses"]
    assert home["lines"] == "1 Example Street\nTesttown" and home["postcode"] == "TE1 1ST"
    # The GP practice is named for the refuge address, whose identity it may not see.
    [refuge] = body["other_addresses"]
    assert refuge["withheld"] is False and refuge["postcode"] == "TE9 9ZZ"
    assert refuge["basis"] == "named"
    assert {f["agency"]["name"] for f in body["flags"]} == {
        "Testshire Children's Services",
        "Testshire DA Service",
        "Testshire Homes",
        "Testshire Hospital",
        "Testshire Probation",
    }
    assert all(f["spoc_request"] for f in body["flags"])


def test_a_confidential_address_is_withheld_from_colleagues_not_named(cast, world, api):
    body = api(cast.marac_coordinator).get(f"{V1}/people/{world.person_id}/").json()
    [own] = [i for i in body["identities"] if i["agency"]["name"] == "Testshire DA Service"]
    [refuge] = own["addresses"]
    assert refuge == {
        "id": str(world.refuge.id),
        "agency": {"id": str(cast.agency.da_service.id), "name": "Testshire DA Service"},
        "withheld": True,
    }
    rows = audit_rows(actor_id=cast.marac_coordinator.id, object_id=world.refuge.id)
    assert [r.action for r in rows] == ["deny"]


def test_an_address_added_as_confidential_is_withheld_and_not_searchable(cast, world, api):
    response = _post(
        api(cast.police_officer),
        f"/people/{world.person_id}/addresses/",
        {"lines": "Flat 2\nNew Road", "postcode": "te5 5nn", "confidential": True},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["withheld"] is False and body["postcode"] == "TE5 5NN"
    address = Address.objects.get(pk=body["id"])
    assert address.confidential and address.postcode == ""
    assert [r.action for r in audit_rows(object_id=address.id)] == ["create"]
    # The GP sees police addresses by consent, so sees this one withheld.
    person = api(cast.gp).get(f"{V1}/people/{world.person_id}/").json()
    [police] = [i for i in person["identities"] if i["agency"]["name"] == "Testshire Police"]
    assert {"id": body["id"], "agency": body["agency"], "withheld": True} in police["addresses"]
    assert _post(api(cast.gp), "/people/search/", {"postcode": "TE5 5NN"}).json()["count"] == 0


def test_an_address_needs_lines_and_the_agency_s_own_identity(cast, world, api):
    before = _counts()
    bad = _post(
        api(cast.police_officer),
        f"/people/{world.person_id}/addresses/",
        {"lines": "", "postcode": ""},
    )
    assert bad.status_code == 400 and set(_fields(bad)) == {"lines", "postcode"}
    stranger = _post(
        api(cast.marac_coordinator),
        f"/people/{world.person_id}/addresses/",
        {"lines": "1 Road", "postcode": "TE1 1AA"},
    )
    # The DA service knows her (the IDVA's identity), so this is its identity's address.
    assert stranger.status_code == 201
    assert (
        Address.objects.get(pk=stranger.json()["id"]).identity_id == world.identities.da_service.id
    )
    assert _counts()[2] == before[2] + 1


# --- Records ------------------------------------------------------------------------


def test_the_chronology_shows_what_the_policy_allows_and_audits_it(cast, world, api):
    before = len(audit_rows(actor_id=cast.gp.id, person_id=world.person_id))
    response = api(cast.gp).get(f"{V1}/people/{world.person_id}/chronology/")
    assert response.status_code == 200
    body = response.json()
    [r1] = body["records"]
    assert r1["id"] == str(world.r1.id) and r1["basis"] == "consent"
    assert r1["summary"] == "Call-out to a domestic incident"
    assert r1["author"] == {"id": str(cast.police_officer.id), "display_name": "Alice Officer"}
    # Every agency holding something she may not see, by name: the DA service's record
    # and identity, and the identities of the agencies that shared nothing with the GP.
    flagged = [
        cast.agency.childrens,
        cast.agency.da_service,
        cast.agency.housing,
        cast.agency.hospital,
        cast.agency.probation,
    ]
    assert body["flags"] == [
        {"agency": {"id": str(agency.id), "name": agency.name}, "spoc_request": True}
        for agency in flagged
    ]
    rows = audit_rows(actor_id=cast.gp.id, person_id=world.person_id)[before:]
    assert [(r.action, r.object_id, r.basis) for r in rows] == [
        ("read", world.r1.id, "consent"),
        *[("deny", agency.id, "") for agency in flagged],
    ]


def test_recording_a_record_and_reading_it_back(cast, world, api):
    response = _post(
        api(cast.police_officer),
        f"/people/{world.person_id}/records/",
        {
            "kind": "incident",
            "category": "risk",
            "occurred_at": "2026-10-03T09:00:00Z",
            "summary": "A second call-out",
            "body": "Fictional detail.",
        },
    )
    assert response.status_code == 201
    body = response.json()
    record = AgencyRecord.objects.get(pk=body["id"])
    assert record.agency_id == cast.agency.police.id and record.author == cast.police_officer
    assert body["basis"] == "owner" and body["version"] == 1 and len(body["versions"]) == 1
    assert [r.action for r in audit_rows(object_id=record.id)] == ["create"]


def test_a_restricted_record_is_seen_by_the_named_only(cast, world, api):
    response = _post(
        api(cast.police_officer),
        f"/people/{world.person_id}/records/",
        {
            "kind": "note",
            "category": "risk",
            "occurred_at": "2026-10-03T09:00:00Z",
            "summary": "Restricted",
            "restricted_to": [str(cast.police_spoc.id)],
        },
    )
    assert response.status_code == 201 and response.json()["basis"] == "named"
    record_id = response.json()["id"]
    assert api(cast.police_spoc).get(f"{V1}/records/{record_id}/").status_code == 200
    assert api(cast.gp).get(f"{V1}/records/{record_id}/").status_code == 404


def test_a_bad_record_names_the_field_and_saves_nothing(cast, world, api):
    before = _counts()
    response = _post(
        api(cast.police_officer),
        f"/people/{world.person_id}/records/",
        {
            "kind": "incident",
            "category": "risk",
            "occurred_at": "2999-01-01T00:00:00Z",
            "summary": "",
        },
    )
    assert response.status_code == 400
    assert set(_fields(response)) == {"occurred_at", "summary"}
    assert _counts() == before


def test_reading_a_record_is_audited_with_its_basis_or_refused(cast, world, api):
    response = api(cast.gp).get(f"{V1}/records/{world.r1.id}/")
    assert response.status_code == 200 and response.json()["basis"] == "consent"
    assert [v["version"] for v in response.json()["versions"]] == [1]
    assert [
        (r.action, r.basis) for r in audit_rows(actor_id=cast.gp.id, object_id=world.r1.id)
    ] == [("read", "consent")]
    assert api(cast.probation_officer).get(f"{V1}/records/{world.r1.id}/").status_code == 404
    rows = audit_rows(actor_id=cast.probation_officer.id, object_id=world.r1.id)
    assert [r.action for r in rows] == ["deny"]


def test_a_correction_adds_a_version(cast, world, api):
    response = _post(
        api(cast.police_officer),
        f"/records/{world.r1.id}/corrections/",
        {"summary": "Call-out to a domestic incident (corrected)", "reason": "Typo."},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 2 and [v["version"] for v in body["versions"]] == [2, 1]
    assert body["versions"][0]["correction_reason"] == "Typo."
    assert RecordVersion.objects.filter(record=world.r1).count() == 2
    assert [r.action for r in audit_rows(object_id=world.r1.id, action="update")] == ["update"]
    before = _counts()
    bad = _post(api(cast.police_officer), f"/records/{world.r1.id}/corrections/", {"reason": ""})
    assert bad.status_code == 400 and "reason" in _fields(bad)
    assert _counts() == before
    # Another agency cannot correct a record it may read.
    other = _post(
        api(cast.gp), f"/records/{world.r1.id}/corrections/", {"summary": "X", "reason": "Y"}
    )
    assert other.status_code == 404


# --- Consent ------------------------------------------------------------------------


def test_recording_consent_writes_its_grants(cast, world, api):
    response = _post(
        api(cast.police_officer), f"/people/{world.person_id}/consents/", _consent_body(cast)
    )
    assert response.status_code == 201
    body = response.json()
    consent = Consent.objects.get(pk=body["id"])
    assert consent.agency_id == cast.agency.police.id and consent.recorded_by == cast.police_officer
    assert body["recipient_agencies"] == [
        {"id": str(cast.agency.probation.id), "name": "Testshire Probation"}
    ]
    assert body["withdrawals"] == [] and body["withdrawn_at"] is None
    assert AccessGrant.objects.filter(source_id=consent.id).count() == 1
    [row] = audit_rows(object_id=consent.id)
    assert (row.action, row.basis) == ("create", "consent")
    chronology = api(cast.probation_officer).get(f"{V1}/people/{world.person_id}/chronology/")
    assert chronology.json()["records"] == []  # R1 is criminal justice, not risk


BAD_CONSENTS = [
    ({"recipient_agencies": [], "recipient_sectors": []}, "recipient_agencies"),
    ({"categories": []}, "categories"),
    ({"purposes": []}, "purposes"),
    ({"expires_at": (timezone.now() - timedelta(days=1)).isoformat()}, "expires_at"),
    ({"explanation": " "}, "explanation"),
    ({"given_by": "neighbour"}, "given_by"),
]


@pytest.mark.parametrize(("change", "field"), BAD_CONSENTS)
def test_a_bad_consent_names_the_field_and_saves_nothing(cast, world, api, change, field):
    before = _counts()
    response = _post(
        api(cast.police_officer),
        f"/people/{world.person_id}/consents/",
        _consent_body(cast, **change),
    )
    assert response.status_code == 400
    assert _fields(response) == [field]
    assert _counts() == before


def test_the_consent_list_is_the_agency_s_own(cast, world, api):
    police = api(cast.police_officer).get(f"{V1}/people/{world.person_id}/consents/").json()
    assert {c["id"] for c in police["results"]} == {
        str(world.consent.id),
        str(world.hospital_consent.id),
    }
    consent = next(c for c in police["results"] if c["id"] == str(world.consent.id))
    [withdrawal] = consent["withdrawals"]
    assert withdrawal["recipient_agencies"][0]["name"] == "Testshire Homes"
    assert api(cast.gp).get(f"{V1}/people/{world.person_id}/consents/").json()["count"] == 0


def test_withdrawal_is_effective_on_the_very_next_request(cast, world, api):
    gp = api(cast.gp)
    chronology = f"{V1}/people/{world.person_id}/chronology/"
    assert [r["id"] for r in gp.get(chronology).json()["records"]] == [str(world.r1.id)]
    response = _post(
        api(cast.police_officer),
        f"/consents/{world.consent.id}/withdrawals/",
        {"recipient_agencies": [str(cast.agency.gp.id)], "note": "She changed her mind."},
    )
    assert response.status_code == 201
    assert len(response.json()["withdrawals"]) == 2
    after = gp.get(chronology).json()
    assert after["records"] == []
    assert "Testshire Police" in {f["agency"]["name"] for f in after["flags"]}
    assert gp.get(f"{V1}/records/{world.r1.id}/").status_code == 404


def test_only_the_recording_agency_withdraws_its_consent(cast, world, api):
    before = _counts()
    response = _post(api(cast.gp), f"/consents/{world.consent.id}/withdrawals/", {})
    assert response.status_code == 404
    assert _counts() == before


# --- Disclosure decisions -----------------------------------------------------------


def test_a_decision_waits_for_approval_then_shares(cast, world, api):
    response = _post(
        api(cast.police_officer),
        f"/people/{world.person_id}/disclosures/",
        _decision_body(cast, world),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending" and body["approved_by"] is None
    assert body["decided_by"]["id"] == str(cast.police_officer.id)
    decision_id = body["id"]
    chronology = f"{V1}/people/{world.person_id}/chronology/"
    assert api(cast.probation_officer).get(chronology).json()["records"] == []
    approved = _post(
        api(cast.police_spoc), f"/disclosures/{decision_id}/approval/", {"note": "Yes."}
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    records = api(cast.probation_officer).get(chronology).json()["records"]
    assert [(r["id"], r["basis"]) for r in records] == [(str(world.r1.id), "disclosure")]
    assert [r.action for r in audit_rows(object_id=decision_id)] == ["create", "update", "disclose"]
    revoked = _post(
        api(cast.police_officer), f"/disclosures/{decision_id}/revocation/", {"reason": "Done."}
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert api(cast.probation_officer).get(chronology).json()["records"] == []


BAD_DECISIONS = [
    ({"lawful_basis": None}, "lawful_basis"),
    ({"necessity": ""}, "necessity"),
    ({"victim_survivor_told": False, "not_told_reason": ""}, "not_told_reason"),
    ({"categories": []}, "categories"),
    ({"expires_at": (timezone.now() - timedelta(minutes=1)).isoformat()}, "expires_at"),
    ({"recipient_agency": None}, "recipient"),
]


@pytest.mark.parametrize(("change", "field"), BAD_DECISIONS)
def test_a_bad_decision_names_the_field_and_saves_nothing(cast, world, api, change, field):
    before = _counts()
    response = _post(
        api(cast.police_officer),
        f"/people/{world.person_id}/disclosures/",
        _decision_body(cast, world, **change),
    )
    assert response.status_code == 400
    assert _fields(response) == [field]
    assert _counts() == before


def test_a_decision_cannot_be_approved_by_its_own_author(cast, world, api):
    spoc = api(cast.police_spoc)
    decision_id = _post(
        spoc, f"/people/{world.person_id}/disclosures/", _decision_body(cast, world)
    ).json()["id"]
    before = _counts()
    response = _post(spoc, f"/disclosures/{decision_id}/approval/", {})
    assert response.status_code == 400 and _fields(response) == ["approved_by"]
    assert _counts() == before
    assert DisclosureDecision.objects.get(pk=decision_id).status == DecisionStatus.PENDING


def test_a_refusal_needs_a_reason_and_shares_nothing(cast, world, api):
    decision_id = _post(
        api(cast.police_officer),
        f"/people/{world.person_id}/disclosures/",
        _decision_body(cast, world),
    ).json()["id"]
    spoc = api(cast.police_spoc)
    assert _fields(_post(spoc, f"/disclosures/{decision_id}/refusal/", {"note": ""})) == ["note"]
    refused = _post(spoc, f"/disclosures/{decision_id}/refusal/", {"note": "Not necessary."})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert not AccessGrant.objects.filter(source_id=decision_id).exists()


def test_a_decision_is_read_by_its_own_agency_only(cast, world, api):
    own = api(cast.police_officer).get(f"{V1}/disclosures/{world.decision.id}/")
    assert own.status_code == 200
    body = own.json()
    assert body["recipient_agency"]["name"] == "Testshire Children's Services"
    assert body["lawful_basis"]["code"] == "public-task-safeguarding"
    assert body["approved_by"]["id"] == str(cast.police_spoc.id)
    assert api(cast.social_worker).get(f"{V1}/disclosures/{world.decision.id}/").status_code == 404


# --- Information requests -----------------------------------------------------------


def test_a_request_is_sent_listed_and_declined(cast, world, api):
    sent = _post(
        api(cast.probation_officer),
        f"/people/{world.person_id}/information-requests/",
        {"to_agency": str(cast.agency.police.id), "purpose": "marac", "message": "What risk?"},
    )
    assert sent.status_code == 201
    request_id = sent.json()["id"]
    assert sent.json()["status"] == "open" and sent.json()["from_user"]["id"] == str(
        cast.probation_officer.id
    )
    assert [r.action for r in audit_rows(object_id=request_id)] == ["create"]
    queue = api(cast.police_spoc).get(f"{V1}/information-requests/").json()
    assert [r["id"] for r in queue["results"]] == [request_id]
    assert api(cast.gp).get(f"{V1}/information-requests/").status_code == 403
    bad = _post(
        api(cast.police_spoc), f"/information-requests/{request_id}/decline/", {"reason": ""}
    )
    assert bad.status_code == 400 and _fields(bad) == ["reason"]
    declined = _post(
        api(cast.police_spoc), f"/information-requests/{request_id}/decline/", {"reason": "No."}
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert api(cast.police_spoc).get(f"{V1}/information-requests/").json()["count"] == 0


def test_a_request_is_answered_by_consent(cast, world, api):
    request_id = _post(
        api(cast.probation_officer),
        f"/people/{world.person_id}/information-requests/",
        {"to_agency": str(cast.agency.police.id), "purpose": "marac", "message": "What risk?"},
    ).json()["id"]
    response = _post(
        api(cast.police_spoc),
        f"/people/{world.person_id}/consents/",
        _consent_body(cast, information_request=request_id),
    )
    assert response.status_code == 201
    answered = InformationRequest.objects.get(pk=request_id)
    assert (
        answered.status == RequestStatus.ANSWERED
        and str(answered.consent_id) == response.json()["id"]
    )


# --- Agency systems -----------------------------------------------------------------


@pytest.fixture
def police_system(cast):
    _, secret = api_key_issue(
        actor=cast.police_admin, name="Police case system", scopes=["person.view", "person.record"]
    )
    return secret


def test_an_agency_system_records_and_reads_as_its_agency(cast, world, api, police_system):
    system = api(key=police_system)
    created = _post(system, "/people/", {"given_names": "Jo", "family_name": "Sample"})
    assert created.status_code == 201
    identity = Identity.objects.get(pk=created.json()["id"])
    assert identity.agency_id == cast.agency.police.id and identity.recorded_by is None
    [row] = audit_rows(object_id=identity.id)
    assert (row.actor_kind, row.agency_id) == ("api_key", cast.agency.police.id)
    record = _post(
        system,
        f"/people/{world.person_id}/records/",
        {
            "kind": "custody",
            "category": "criminal_justice",
            "occurred_at": "2026-10-04T10:00:00Z",
            "summary": "Released",
        },
    )
    assert record.status_code == 201 and record.json()["author"] is None
    chronology = system.get(f"{V1}/people/{world.person_id}/chronology/").json()
    # The police's own records (not the restricted note), nothing of the IDVA's.
    assert {r["id"] for r in chronology["records"]} == {str(world.r1.id), record.json()["id"]}
    # Every other agency holds her identity, which the police may not see: a flag each.
    assert [f["agency"]["name"] for f in chronology["flags"]] == [
        "Testshire Children's Services",
        "Testshire DA Service",
        "Testshire Homes",
        "Testshire Hospital",
        "Testshire Probation",
        "Testshire Surgery",
    ]
    assert all(f["spoc_request"] is False for f in chronology["flags"])


def test_an_agency_system_cannot_restrict_a_record(cast, world, api, police_system):
    before = _counts()
    response = _post(
        api(key=police_system),
        f"/people/{world.person_id}/records/",
        {
            "kind": "note",
            "category": "risk",
            "occurred_at": "2026-10-04T10:00:00Z",
            "summary": "X",
            "restricted_to": [str(cast.police_spoc.id)],
        },
    )
    assert response.status_code == 400 and _fields(response) == ["restricted_to"]
    assert _counts() == before


def test_an_agency_system_may_not_record_consent_or_decide(cast, world, api, police_system):
    system = api(key=police_system)
    consent = _post(system, f"/people/{world.person_id}/consents/", _consent_body(cast))
    decision = _post(system, f"/people/{world.person_id}/disclosures/", _decision_body(cast, world))
    assert (consent.status_code, decision.status_code) == (403, 403)
    assert not Consent.objects.filter(recorded_by__isnull=True).exists()


def test_a_key_without_the_scope_is_refused(cast, world, api):
    _, secret = api_key_issue(actor=cast.police_admin, name="Reader", scopes=["person.view"])
    before = _counts()[1]
    response = _post(api(key=secret), "/people/", {"family_name": "X"})
    assert response.status_code == 403
    assert Identity.objects.count() == before
    assert api(key=secret).get(f"{V1}/people/{world.person_id}/").status_code == 200


# --- Generated requests as a caseworker -----------------------------------------------
# The shared fuzz test signs in as a partnership admin, whom these endpoints refuse; here
# a police officer sends generated bodies, so the 201s and 400s are checked as well.

PERSON_PATHS = r"^/api/v1/(people|records|consents|disclosures|information-requests)/"
person_schema = fuzz.schema.include(path_regex=PERSON_PATHS)


@pytest.fixture
def officer_session(cast, client):
    verify_second_factor(client, cast.police_officer)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield client.cookies["accord_session"].value
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@person_schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_generated_requests_as_a_caseworker_answer_as_documented(case, officer_session):
    response = case.call(
        cookies={"accord_session": officer_session, "accord_csrf": fuzz.CSRF},
        headers={"X-CSRFToken": fuzz.CSRF},
    )
    case.validate_response(response, checks=fuzz.CHECKS)
