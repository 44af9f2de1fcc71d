"""The cast matrix for the api: every route with person data, called as every member
of the cast (see tests/sharing/world.py), asserting status, fields and audit rows.

Reads assert exactly which items and fields came back and exactly which audit rows
were written; writes assert who may use them and that nothing is written when refused.
Items are named as in the world: R1, R2, R3, the police `home` and the IDVA's
`refuge` addresses, and agencies by their key (`da_service`).
"""

from __future__ import annotations

from collections import Counter

import pytest

from accord.audit.models import AuditEvent
from accord.cases.models import AgencyRecord, RecordVersion
from accord.people.models import Address, Identity
from accord.sharing.models import (
    AccessGrant,
    Consent,
    ConsentWithdrawal,
    DisclosureDecision,
    InformationRequest,
)
from accord.sharing.services import decision_create, information_request_send
from tests.conftest import audit_rows

# Route names (as in tests/test_doors.py) this module calls as the whole cast.
COVERED: set[str] = {
    "api:person-search",
    "api:person-create",
    "api:person-detail",
    "api:person-chronology",
    "api:record-create",
    "api:record-detail",
    "api:record-correct",
    "api:address-create",
    "api:consent-list",
    "api:consent-withdraw",
    "api:decision-create",
    "api:decision-detail",
    "api:decision-approve",
    "api:decision-refuse",
    "api:decision-revoke",
    "api:request-create",
    "api:request-list",
    "api:request-decline",
}

V1 = "/api/v1"
CAST = [
    "police_officer",  # owner; a colleague not named on the restricted R2
    "police_spoc",  # owner; named on R2
    "gp",  # consent
    "probation_officer",  # no consent
    "housing_officer",  # consent withdrawn
    "nurse",  # consent expired
    "idva",  # consent to the specialist DA sector; holds R3 and the refuge address
    "social_worker",  # approved disclosure decision
    "police_admin",  # not a caseworker: 403
    "outsider",  # another partnership: 404
]
EVERY_AGENCY = {"police", "gp", "housing", "hospital", "probation", "da_service", "childrens"}


def _id(cast, world, name):
    """The id of a world item or agency by its name in the tables."""
    if name.startswith("agency:"):
        return getattr(cast.agency, name.removeprefix("agency:")).id
    if name.startswith("identity:"):
        return getattr(world.identities, name.removeprefix("identity:")).id
    if name.startswith("address:"):
        return getattr(world, name.removeprefix("address:")).id
    return {"R1": world.r1, "R2": world.r2, "R3": world.r3}[name].id


def _rows_since(user, before):
    return audit_rows(actor_id=user.id)[before:]


def _audit(cast, world, expected):
    return Counter((a, t, _id(cast, world, o), b) for a, t, o, b in expected)


def _seen(rows):
    return Counter((r.action, r.object_type, r.object_id, r.basis) for r in rows)


def _refused_by_role(rows, action):
    assert [(r.action, r.reason, r.person_id) for r in rows] == [
        ("deny", f"role does not allow {action}", None)
    ]


def _flags(agencies):
    return [("deny", "agency", f"agency:{a}", "") for a in sorted(agencies)]


# --- GET people/<id>/chronology/ ------------------------------------------------------

RECORD_KEYS = {
    "id",
    "agency",
    "author",
    "kind",
    "category",
    "occurred_at",
    "recorded_at",
    "summary",
    "body",
    "version",
    "basis",
}

# who: (status, {record: basis}, flagged agencies, audit rows beyond the flags)
# The flags are the person's (see PERSON): every agency holding a record, an identity or
# an address the caller may not see; every agency holds her identity.
CHRONOLOGY = {
    "police_officer": (200, {"R1": "owner"}, EVERY_AGENCY - {"police"}, []),
    "police_spoc": (200, {"R2": "named", "R1": "owner"}, EVERY_AGENCY - {"police"}, []),
    "gp": (
        200,
        {"R1": "consent"},
        EVERY_AGENCY - {"gp", "police"},
        [("read", "record", "R1", "consent")],
    ),
    "probation_officer": (200, {}, EVERY_AGENCY - {"probation"}, []),
    "housing_officer": (200, {}, EVERY_AGENCY - {"housing"}, []),
    "nurse": (200, {}, EVERY_AGENCY - {"hospital"}, []),
    "idva": (
        200,
        {"R3": "owner", "R1": "consent"},
        EVERY_AGENCY - {"da_service", "police"},
        [("read", "record", "R1", "consent")],
    ),
    "social_worker": (
        200,
        {"R1": "disclosure"},
        EVERY_AGENCY - {"childrens"},
        [("read", "record", "R1", "disclosure")],
    ),
    "police_admin": (403, None, None, None),
    "outsider": (404, None, None, None),
}


@pytest.mark.parametrize("who", CAST)
def test_the_chronology_answers_each_member_of_the_cast(cast, world, api, who):
    user = getattr(cast, who)
    status, records, flagged, reads = CHRONOLOGY[who]
    before = len(audit_rows(actor_id=user.id))
    response = api(user).get(f"{V1}/people/{world.person_id}/chronology/")
    assert response.status_code == status
    rows = _rows_since(user, before)
    if status == 403:
        return _refused_by_role(rows, "person.view")
    if status == 404:
        assert rows == []
        return
    body = response.json()
    # Newest first, exactly these records, each with exactly these fields.
    assert [(r["id"], r["basis"]) for r in body["records"]] == [
        (str(_id(cast, world, name)), basis) for name, basis in records.items()
    ]
    assert all(set(r) == RECORD_KEYS for r in body["records"])
    assert [f["agency"]["id"] for f in body["flags"]] == [
        str(getattr(cast.agency, a).id)
        for a in sorted(flagged, key=lambda a: getattr(cast.agency, a).name)
    ]
    assert all(f["spoc_request"] is True for f in body["flags"])
    assert _seen(rows) == _audit(cast, world, reads + _flags(flagged))
    assert {r.person_id for r in rows} <= {world.person_id}


# --- GET people/<id>/ -----------------------------------------------------------------

# who: (status, {identity: basis}, {address: "lines" | "withheld"} under visible identities,
#       {address: ...} of identities not visible, flagged agencies, audit rows beyond flags)
PERSON = {
    "police_officer": (
        200,
        {"police": "owner"},
        {"home": "lines"},
        {},
        EVERY_AGENCY - {"police"},
        [],
    ),
    "police_spoc": (
        200,
        {"police": "owner"},
        {"home": "lines"},
        {},
        EVERY_AGENCY - {"police"},
        [],
    ),
    "gp": (
        200,
        {"gp": "owner", "police": "consent"},
        {"home": "lines"},
        {"refuge": "lines"},  # named for the GP practice; the DA identity is not shared
        EVERY_AGENCY - {"gp", "police"},
        [
            ("read", "identity", "identity:police", "consent"),
            ("read", "address", "address:home", "consent"),
            ("read", "address", "address:refuge", "named"),
        ],
    ),
    "probation_officer": (200, {"probation": "owner"}, {}, {}, EVERY_AGENCY - {"probation"}, []),
    "housing_officer": (200, {"housing": "owner"}, {}, {}, EVERY_AGENCY - {"housing"}, []),
    "nurse": (200, {"hospital": "owner"}, {}, {}, EVERY_AGENCY - {"hospital"}, []),
    "idva": (
        200,
        {"da_service": "owner", "police": "consent"},
        {"home": "lines", "refuge": "lines"},
        {},
        EVERY_AGENCY - {"da_service", "police"},
        [
            ("read", "identity", "identity:police", "consent"),
            ("read", "address", "address:home", "consent"),
        ],
    ),
    "social_worker": (200, {"childrens": "owner"}, {}, {}, EVERY_AGENCY - {"childrens"}, []),
    "police_admin": (403, None, None, None, None, None),
    "outsider": (404, None, None, None, None, None),
}

ADDRESS_KEYS = {
    "id",
    "agency",
    "withheld",
    "lines",
    "postcode",
    "confidential",
    "is_current",
    "basis",
}


def _addresses(cast, world, shown):
    found = {}
    for address in shown:
        name = next(n for n in ("home", "refuge") if str(getattr(world, n).id) == address["id"])
        if address["withheld"]:
            assert set(address) == {"id", "agency", "withheld"}
            found[name] = "withheld"
        else:
            assert set(address) == ADDRESS_KEYS
            found[name] = "lines"
    return found


@pytest.mark.parametrize("who", CAST)
def test_the_person_answers_each_member_of_the_cast(cast, world, api, who):
    user = getattr(cast, who)
    status, identities, addresses, beyond, flagged, reads = PERSON[who]
    before = len(audit_rows(actor_id=user.id))
    response = api(user).get(f"{V1}/people/{world.person_id}/")
    assert response.status_code == status
    rows = _rows_since(user, before)
    if status == 403:
        return _refused_by_role(rows, "person.view")
    if status == 404:
        assert rows == []
        return
    body = response.json()
    shown = {i["id"]: i for i in body["identities"]}
    assert {k: v["basis"] for k, v in shown.items()} == {
        str(getattr(world.identities, name).id): basis for name, basis in identities.items()
    }
    under = [a for i in body["identities"] for a in i["addresses"]]
    assert _addresses(cast, world, under) == addresses
    assert _addresses(cast, world, body["other_addresses"]) == beyond
    assert [f["agency"]["id"] for f in body["flags"]] == [
        str(getattr(cast.agency, a).id)
        for a in sorted(flagged, key=lambda a: getattr(cast.agency, a).name)
    ]
    assert _seen(rows) == _audit(cast, world, reads + _flags(flagged))


def test_colleagues_not_named_see_the_refuge_withheld(cast, world, api):
    body = api(cast.marac_coordinator).get(f"{V1}/people/{world.person_id}/").json()
    under = [a for i in body["identities"] for a in i["addresses"]]
    assert _addresses(cast, world, under) == {"home": "lines", "refuge": "withheld"}
    rows = audit_rows(actor_id=cast.marac_coordinator.id, object_id=world.refuge.id)
    assert [(r.action, r.basis) for r in rows] == [("deny", "")]


# --- GET records/<id>/ ----------------------------------------------------------------

# who: {record: basis if 200, else the status}
RECORD = {
    "police_officer": {"R1": "owner", "R2": 404, "R3": 404},
    "police_spoc": {"R1": "owner", "R2": "named", "R3": 404},
    "gp": {"R1": "consent", "R2": 404, "R3": 404},
    "probation_officer": {"R1": 404, "R2": 404, "R3": 404},
    "housing_officer": {"R1": 404, "R2": 404, "R3": 404},
    "nurse": {"R1": 404, "R2": 404, "R3": 404},
    "idva": {"R1": "consent", "R2": 404, "R3": "owner"},
    "social_worker": {"R1": "disclosure", "R2": 404, "R3": 404},
    "police_admin": {"R1": 403, "R2": 403, "R3": 403},
    "outsider": {"R1": 404, "R2": 404, "R3": 404},
}
OWN = {"police_officer": "police", "police_spoc": "police", "idva": "da_service"}
HOLDER = {"R1": "police", "R2": "police", "R3": "da_service"}


@pytest.mark.parametrize("record", ["R1", "R2", "R3"])
@pytest.mark.parametrize("who", CAST)
def test_a_record_answers_each_member_of_the_cast(cast, world, api, who, record):
    user = getattr(cast, who)
    expected = RECORD[who][record]
    record_id = _id(cast, world, record)
    before = len(audit_rows(actor_id=user.id))
    response = api(user).get(f"{V1}/records/{record_id}/")
    rows = _rows_since(user, before)
    if expected == 403:
        assert response.status_code == 403
        return _refused_by_role(rows, "person.view")
    if who == "outsider":
        assert response.status_code == 404 and rows == []
        return
    if expected == 404:
        assert response.status_code == 404
        assert _seen(rows) == Counter([("deny", "record", record_id, "")])
        return
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(record_id) and body["basis"] == expected
    assert set(body) == RECORD_KEYS | {"person", "restricted", "versions"}
    assert [v["version"] for v in body["versions"]] == [1]
    own = OWN.get(who) == HOLDER[record]
    assert _seen(rows) == (Counter() if own else Counter([("read", "record", record_id, expected)]))
    assert {r.person_id for r in rows} <= {world.person_id}


# --- POST people/search/ --------------------------------------------------------------

# who: (status, {identity: basis} found by name)
SEARCH = {
    "police_officer": (200, {"police": "owner"}),
    "police_spoc": (200, {"police": "owner"}),
    "gp": (200, {"gp": "owner", "police": "consent"}),
    "probation_officer": (200, {"probation": "owner"}),
    "housing_officer": (200, {"housing": "owner"}),
    "nurse": (200, {"hospital": "owner"}),
    "idva": (200, {"da_service": "owner", "police": "consent"}),
    "social_worker": (200, {"childrens": "owner"}),
    "police_admin": (403, None),
    "outsider": (200, {}),
}


@pytest.mark.parametrize("who", CAST)
def test_the_search_answers_each_member_of_the_cast(cast, world, api, who):
    user = getattr(cast, who)
    status, found = SEARCH[who]
    before = len(audit_rows(actor_id=user.id))
    response = api(user).post(f"{V1}/people/search/", {"name": "Rowan"}, format="json")
    assert response.status_code == status
    rows = _rows_since(user, before)
    if status == 403:
        return _refused_by_role(rows, "person.view")
    results = response.json()["results"]
    assert {r["id"]: r["basis"] for r in results} == {
        str(getattr(world.identities, name).id): basis for name, basis in found.items()
    }
    others = [
        ("read", "identity", f"identity:{name}", basis)
        for name, basis in found.items()
        if basis != "owner"
    ]
    assert _seen(rows) == _audit(cast, world, others)


# --- Own agency's lists and decisions -------------------------------------------------


@pytest.fixture
def open_request(cast, world):
    return information_request_send(
        actor=cast.probation_officer,
        person_id=world.person_id,
        to_agency_id=cast.agency.police.id,
        purpose="marac",
        message="Is there a risk to staff?",
    )


@pytest.fixture
def pending(cast, world):
    """A decision of the police officer's waiting for a second person's approval."""
    return decision_create(
        actor=cast.police_officer,
        person_id=world.person_id,
        categories=["risk"],
        recipient_agency_id=cast.agency.probation.id,
        purpose="preventing_crime",
        lawful_basis_id=world.basis.id,
        necessity="Fictional necessity.",
        victim_survivor_told=True,
    )


POLICE_SEES = {"police_officer": 200, "police_spoc": 200, "police_admin": 403}


@pytest.mark.parametrize("who", CAST)
def test_the_consent_list_is_the_agency_s_own_for_each_member_of_the_cast(cast, world, api, who):
    user = getattr(cast, who)
    before = len(audit_rows(actor_id=user.id))
    response = api(user).get(f"{V1}/people/{world.person_id}/consents/")
    rows = _rows_since(user, before)
    expected = {"police_admin": 403, "outsider": 404}.get(who, 200)
    assert response.status_code == expected
    if expected == 403:
        return _refused_by_role(rows, "person.view")
    assert rows == []  # the agency's own consents; no other agency's information
    if expected == 200:
        ids = {c["id"] for c in response.json()["results"]}
        police = {str(world.consent.id), str(world.hospital_consent.id)}
        assert ids == (police if who in POLICE_SEES else set())


@pytest.mark.parametrize("who", CAST)
def test_a_decision_is_read_by_its_agency_only_for_each_member_of_the_cast(cast, world, api, who):
    user = getattr(cast, who)
    before = len(audit_rows(actor_id=user.id))
    response = api(user).get(f"{V1}/disclosures/{world.decision.id}/")
    rows = _rows_since(user, before)
    # The social worker is its recipient: she sees what was shared, not the decision.
    assert response.status_code == POLICE_SEES.get(who, 404)
    if who == "police_admin":
        return _refused_by_role(rows, "disclosure.decide")
    assert rows == []
    if response.status_code == 200:
        assert response.json()["id"] == str(world.decision.id)


@pytest.mark.parametrize("who", CAST)
def test_the_request_queue_is_the_spoc_s_for_each_member_of_the_cast(
    cast, world, api, open_request, who
):
    user = getattr(cast, who)
    before = len(audit_rows(actor_id=user.id))
    response = api(user).get(f"{V1}/information-requests/")
    rows = _rows_since(user, before)
    if who == "police_spoc":
        assert response.status_code == 200
        assert [r["id"] for r in response.json()["results"]] == [str(open_request.id)]
        assert rows == []
    else:
        assert response.status_code == 403
        _refused_by_role(rows, "information_request.answer")


# --- Writes: who may use them, and nothing written when refused ------------------------

MODELS = (
    Identity,
    Address,
    AgencyRecord,
    RecordVersion,
    Consent,
    ConsentWithdrawal,
    DisclosureDecision,
    AccessGrant,
    InformationRequest,
)


def _state():
    return {model.__name__: model.objects.count() for model in MODELS}


PRACTITIONERS = {
    "police_officer",
    "police_spoc",
    "gp",
    "probation_officer",
    "housing_officer",
    "nurse",
    "idva",
    "social_worker",
}


def _everyone(ok, *, admin=403, outsider=404, **others):
    table = {who: ok for who in PRACTITIONERS}
    table.update(police_admin=admin, outsider=outsider, **others)
    return table


def _police(ok, *, other=404):
    return _everyone(other, police_officer=ok, police_spoc=ok)


def _spoc_only(ok):
    return {who: (ok if who == "police_spoc" else 403) for who in CAST}


# route: (action refused by role, path, body, statuses, what a success adds)
WRITES = {
    "api:person-create": (
        "person.record",
        lambda c, w, x: "/people/",
        lambda c, w: {"family_name": "Fictitious", "person": str(w.person_id)},
        _everyone(201, outsider=400),
        {"Identity": 1},
    ),
    "api:record-create": (
        "person.record",
        lambda c, w, x: f"/people/{w.person_id}/records/",
        lambda c, w: {
            "kind": "note",
            "category": "risk",
            "occurred_at": "2026-10-05T12:00:00Z",
            "summary": "A matrix note",
        },
        _everyone(201),
        {"AgencyRecord": 1, "RecordVersion": 1},
    ),
    "api:record-correct": (
        "person.record",
        lambda c, w, x: f"/records/{w.r1.id}/corrections/",
        lambda c, w: {"summary": "Corrected", "reason": "Fictional correction."},
        _police(201),
        {"RecordVersion": 1},
    ),
    "api:address-create": (
        "person.record",
        lambda c, w, x: f"/people/{w.person_id}/addresses/",
        lambda c, w: {"lines": "2 Example Road", "postcode": "TE2 2AA"},
        _everyone(201),
        {"Address": 1},
    ),
    "api:consent-list": (
        "consent.record",
        lambda c, w, x: f"/people/{w.person_id}/consents/",
        lambda c, w: {
            "decision": "given",
            "given_by": "self",
            "method": "verbal",
            "recipient_sectors": ["education"],
            "categories": ["risk"],
            "purposes": ["safeguarding_children"],
            "explanation": "Her agency will tell the school.",
        },
        _everyone(201),
        {"Consent": 1, "AccessGrant": 1},
    ),
    "api:consent-withdraw": (
        "consent.record",
        lambda c, w, x: f"/consents/{w.consent.id}/withdrawals/",
        lambda c, w: {"note": "She withdrew it all."},
        _police(201),
        {"ConsentWithdrawal": 1},
    ),
    "api:decision-create": (
        "disclosure.decide",
        lambda c, w, x: f"/people/{w.person_id}/disclosures/",
        lambda c, w: {
            "purpose": "safeguarding_children",
            "lawful_basis": str(w.basis.id),
            "necessity": "Fictional necessity.",
            "victim_survivor_told": True,
            "categories": ["risk"],
            "recipient_agency": str(c.agency.school.id),
        },
        _everyone(201),
        {"DisclosureDecision": 1},
    ),
    "api:decision-approve": (
        "disclosure.approve",
        lambda c, w, x: f"/disclosures/{x.pending.id}/approval/",
        lambda c, w: {"note": "Agreed."},
        _spoc_only(200),
        {"AccessGrant": 1},
    ),
    "api:decision-refuse": (
        "disclosure.approve",
        lambda c, w, x: f"/disclosures/{x.pending.id}/refusal/",
        lambda c, w: {"note": "Not necessary."},
        _spoc_only(200),
        {},
    ),
    "api:decision-revoke": (
        "disclosure.decide",
        lambda c, w, x: f"/disclosures/{w.decision.id}/revocation/",
        lambda c, w: {"reason": "No longer necessary."},
        _police(200),
        {},
    ),
    "api:request-create": (
        "information_request.send",
        lambda c, w, x: f"/people/{w.person_id}/information-requests/",
        lambda c, w: {
            "to_agency": str(c.agency.school.id),
            "purpose": "safeguarding_children",
            "message": "Does the school hold concerns?",
        },
        _everyone(201),
        {"InformationRequest": 1},
    ),
    "api:request-decline": (
        "information_request.answer",
        lambda c, w, x: f"/information-requests/{x.open_request.id}/decline/",
        lambda c, w: {"reason": "Nothing to share."},
        _spoc_only(200),
        {},
    ),
}


@pytest.mark.parametrize("route", sorted(WRITES))
@pytest.mark.parametrize("who", CAST)
def test_each_write_answers_each_member_of_the_cast(
    cast, world, api, pending, open_request, route, who
):
    action, path, body, statuses, adds = WRITES[route]
    user = getattr(cast, who)
    extra = type("Extra", (), {"pending": pending, "open_request": open_request})
    before_state = _state()
    before_rows = AuditEvent.objects.count()
    response = api(user).post(f"{V1}{path(cast, world, extra)}", body(cast, world), format="json")
    assert response.status_code == statuses[who], response.json()
    rows = list(AuditEvent.objects.order_by("id")[before_rows:])
    if response.status_code >= 400:
        assert _state() == before_state
        if response.status_code == 403:
            _refused_by_role(rows, action)
        elif route == "api:record-correct" and who != "outsider":
            # Correcting another agency's record is a refusal, audited as one (an
            # outsider's partnership holds no such record, so nothing is written).
            assert [(r.action, r.object_id) for r in rows] == [("deny", world.r1.id)]
        else:
            assert rows == []
        return
    after = _state()
    assert {k: after[k] - before_state[k] for k in after if after[k] != before_state[k]} == adds
    assert rows and all(r.actor_id == user.id for r in rows)
    assert {r.action for r in rows} <= {"create", "update", "disclose"}
