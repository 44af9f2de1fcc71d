"""The cast matrix for the web: every route with person data, called as every member
of the cast (see tests/sharing/world.py), asserting status, fields and audit rows.

Reads: each page is opened by each member of the cast; the test asserts the status,
exactly which of the world's marker texts came back, and the audit rows written
about her. Writes: each form is posted by each member of the cast; the test asserts
who may use it, and that nothing is written when they may not.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accord.cases.models import AgencyRecord, RecordVersion
from accord.marac.models import Case, Meeting
from accord.marac.services import meeting_create
from accord.people.index.merge import persons_merge
from accord.people.models import Address, Identity, Merge, PairJudgement, ReviewItem
from accord.sharing.models import (
    AccessGrant,
    Consent,
    ConsentWithdrawal,
    DisclosureDecision,
    InformationRequest,
    LawfulBasis,
)
from accord.sharing.services import decision_create, information_request_send
from tests.conftest import audit_rows
from tests.sharing.world import build_review_pair

# Route names (as in tests/test_doors.py) this module calls as the whole cast.
COVERED: set[str] = {
    "web:people-search",
    "web:person-new",
    "web:person",
    "web:record-new",
    "web:address-new",
    "web:consent-new",
    "web:decision-new",
    "web:request-new",
    "web:record",
    "web:record-correct",
    "web:consent-withdraw",
    "web:decision",
    "web:decision-approve",
    "web:decision-refuse",
    "web:decision-revoke",
    "web:request",
    "web:marac-refer",
    # The person index (INDEX_READS, and WRITES for decisions and undoing merges).
    "web:index-queue",
    "web:index-review",
    "web:index-review-decide",
    "web:merge-undo",
    "web:identity-detach",
    "web:data-quality",
}

CAST = [
    "police_officer",  # the owner agency; also the colleague not named on restricted R2
    "gp",  # consent
    "probation_officer",  # no consent
    "housing_officer",  # consent withdrawn
    "nurse",  # consent expired
    "idva",  # the IDVA: consent to her sector, named on the refuge
    "marac_coordinator",  # the IDVA's colleague: the refuge is withheld
    "police_spoc",  # named on R2
    "social_worker",  # disclosure decision
    "police_admin",  # an admin: 403
    "outsider",  # another partnership: 404
]
CASEWORKERS = [who for who in CAST if who not in ("police_admin", "outsider")]
EVERY_AGENCY = ("police", "gp", "housing", "hospital", "probation", "da_service", "childrens")

MARKERS = {
    "R1": "Call-out to a domestic incident",
    "R1 body": "Officers attended; the fictional suspect had left.",
    "R2": "Restricted note",
    "R2 body": "A member of staff knows the family.",
    "R3": "Safety planning session",
    "R3 body": "Agreed a safe word with her.",
    "home": "1 Example Street",
    "refuge": "9 Hidden Lane",
    "withheld": "Address withheld",
    "police flag": "Testshire Police holds information about this person.",
    "gp flag": "Testshire Surgery holds information about this person.",
    "housing flag": "Testshire Homes holds information about this person.",
    "hospital flag": "Testshire Hospital holds information about this person.",
    "probation flag": "Testshire Probation holds information about this person.",
    "da_service flag": "Testshire DA Service holds information about this person.",
    "childrens flag": "Testshire Children's Services holds information about this person.",
    "her": "/people/{person}/",
}


def _markers(page: str, world: Any) -> set[str]:
    text = " ".join(html.unescape(page).split())
    return {
        name for name, marker in MARKERS.items() if marker.format(person=world.person_id) in text
    }


# --- Reads --------------------------------------------------------------------------

# An expected audit row: (action, object type, which object, basis).
Row = tuple[str, str, str, str]


@dataclass(frozen=True)
class Seen:
    status: int
    markers: frozenset[str] = frozenset()
    audit: tuple[Row, ...] = ()


def seen(status: int, markers: str = "", *audit: Row) -> Seen:
    return Seen(status, frozenset(m.strip() for m in markers.split(",") if m.strip()), audit)


REFUSED = seen(403)  # by role, before anything is looked up
NOT_FOUND = seen(404)


# Every Testshire agency holds her identity: whoever may not see an agency's identity,
# records or addresses sees its flag, and each flag shown is audited as a refusal.
def flags(*but: str) -> str:
    """The markers of every agency's flag but these agencies'."""
    return ", ".join(f"{agency} flag" for agency in EVERY_AGENCY if agency not in but)


def denied(*but: str) -> tuple[Row, ...]:
    """The refusals audited for every agency's flag but these agencies'."""
    return tuple(("deny", "agency", agency, "") for agency in EVERY_AGENCY if agency not in but)


READS: dict[str, dict[str, Seen]] = {
    "web:person": {
        "police_officer": seen(200, f"her, R1, home, {flags('police')}", *denied("police")),
        "gp": seen(
            200,
            f"her, R1, home, refuge, {flags('gp', 'police')}",
            ("read", "address", "home", "consent"),
            ("read", "address", "refuge", "named"),
            ("read", "identity", "police identity", "consent"),
            ("read", "record", "R1", "consent"),
            *denied("gp", "police"),
        ),
        "probation_officer": seen(200, f"her, {flags('probation')}", *denied("probation")),
        "housing_officer": seen(200, f"her, {flags('housing')}", *denied("housing")),
        "nurse": seen(200, f"her, {flags('hospital')}", *denied("hospital")),
        "idva": seen(
            200,
            f"her, R1, R3, home, refuge, {flags('da_service', 'police')}",
            ("read", "address", "home", "consent"),
            ("read", "identity", "police identity", "consent"),
            ("read", "record", "R1", "consent"),
            *denied("da_service", "police"),
        ),
        "marac_coordinator": seen(
            200,
            f"her, R1, R3, home, withheld, {flags('da_service', 'police')}",
            ("read", "address", "home", "consent"),
            ("deny", "address", "refuge", ""),
            ("read", "identity", "police identity", "consent"),
            ("read", "record", "R1", "consent"),
            *denied("da_service", "police"),
        ),
        "police_spoc": seen(200, f"her, R1, R2, home, {flags('police')}", *denied("police")),
        "social_worker": seen(
            200,
            f"her, R1, {flags('childrens')}",
            ("read", "record", "R1", "disclosure"),
            *denied("childrens"),
        ),
        "police_admin": REFUSED,
        "outsider": NOT_FOUND,
    },
    "web:record R1": {
        "police_officer": seen(200, "R1, R1 body, her"),
        "gp": seen(200, "R1, R1 body, her", ("read", "record", "R1", "consent")),
        "probation_officer": seen(404, "", ("deny", "record", "R1", "")),
        "housing_officer": seen(404, "", ("deny", "record", "R1", "")),
        "nurse": seen(404, "", ("deny", "record", "R1", "")),
        "idva": seen(200, "R1, R1 body, her", ("read", "record", "R1", "consent")),
        "marac_coordinator": seen(200, "R1, R1 body, her", ("read", "record", "R1", "consent")),
        "police_spoc": seen(200, "R1, R1 body, her"),
        "social_worker": seen(200, "R1, R1 body, her", ("read", "record", "R1", "disclosure")),
        "police_admin": REFUSED,
        "outsider": NOT_FOUND,
    },
    "web:record R2": {
        **{who: seen(404, "", ("deny", "record", "R2", "")) for who in CASEWORKERS},
        "police_spoc": seen(200, "R2, R2 body, her"),
        "police_admin": REFUSED,
        "outsider": NOT_FOUND,
    },
    # Only the owner agency corrects; anyone else's attempt is refused and audited.
    "web:record-correct": {
        **{who: seen(404, "", ("deny", "record", "R1", "")) for who in CASEWORKERS},
        "police_officer": seen(200, "R1, R1 body"),
        "police_spoc": seen(200, "R1, R1 body"),
        "police_admin": REFUSED,
        "outsider": NOT_FOUND,
    },
    # The decision form offers the agency's own unrestricted records, and no one else's.
    "web:decision-new": {
        **{who: seen(200, "her") for who in CASEWORKERS},
        "police_officer": seen(200, "her, R1"),
        "police_spoc": seen(200, "her, R1"),
        "idva": seen(200, "her, R3"),
        "marac_coordinator": seen(200, "her, R3"),
        "police_admin": REFUSED,
        "outsider": NOT_FOUND,
    },
    "web:consent-withdraw": {
        **{who: NOT_FOUND for who in CASEWORKERS},
        "police_officer": seen(200, "her"),
        "police_spoc": seen(200, "her"),
        "police_admin": REFUSED,
        "outsider": NOT_FOUND,
    },
    "web:decision": {
        **{who: NOT_FOUND for who in CASEWORKERS},
        "police_officer": seen(200, "her"),
        "police_spoc": seen(200, "her"),
        "police_admin": REFUSED,
        "outsider": NOT_FOUND,
    },
    # Only the receiving agency's single point of contact answers a request.
    "web:request": {
        **{who: REFUSED for who in CAST},
        "police_spoc": seen(200, "her"),
    },
    # Search: every Testshire caseworker's agency knows her; the outsider finds no one.
    # Another agency's identity in the results is an audited read.
    "web:people-search": {
        **{who: seen(200, "her") for who in CASEWORKERS},
        "gp": seen(200, "her", ("read", "identity", "police identity", "consent")),
        "idva": seen(200, "her", ("read", "identity", "police identity", "consent")),
        "marac_coordinator": seen(200, "her", ("read", "identity", "police identity", "consent")),
        "police_admin": REFUSED,
        "outsider": seen(200),
    },
}
for route in (
    "web:record-new",
    "web:address-new",
    "web:consent-new",
    "web:request-new",
    "web:marac-refer",
):
    READS[route] = {
        **{who: seen(200, "her") for who in CASEWORKERS},
        "police_admin": REFUSED,
        "outsider": NOT_FOUND,
    }


def _request(cast: Any, world: Any) -> Any:
    return information_request_send(
        actor=cast.probation_officer,
        person_id=world.person_id,
        to_agency_id=cast.agency.police.id,
        purpose="risk_assessment",
        message="Is anything known about risk?",
    )


def _read_call(route: str, cast: Any, world: Any) -> Callable[[Any], Any]:
    """How to open one page of the matrix, given a client; anything it needs is made now."""
    person = [world.person_id]
    if route == "web:people-search":
        return lambda client: client.post(reverse(route), {"name": "Rowan Fictitious"})
    if route == "web:request":
        url = reverse(route, args=[_request(cast, world).id])
        return lambda client: client.get(url)
    if route == "web:request-new":
        url = reverse(route, args=person) + f"?agency={cast.agency.police.id}"
        return lambda client: client.get(url)
    targets = {
        "web:record R1": ("web:record", world.r1.id),
        "web:record R2": ("web:record", world.r2.id),
        "web:record-correct": ("web:record-correct", world.r1.id),
        "web:consent-withdraw": ("web:consent-withdraw", world.consent.id),
        "web:decision": ("web:decision", world.decision.id),
    }
    if route in targets:
        name, item = targets[route]
        url = reverse(name, args=[item])
    else:
        url = reverse(route, args=person)
    return lambda client: client.get(url)


def _objects(cast: Any, world: Any) -> dict[str, Any]:
    return {
        "R1": world.r1.id,
        "R2": world.r2.id,
        "R3": world.r3.id,
        "home": world.home.id,
        "refuge": world.refuge.id,
        "police identity": world.identities.police.id,
        **{agency: getattr(cast.agency, agency).id for agency in EVERY_AGENCY},
    }


def test_the_read_table_covers_the_whole_cast():
    for route, expected in (READS | INDEX_READS).items():
        assert set(expected) == set(CAST), route
    assert {route.split(" ")[0] for route in READS | INDEX_READS} | {
        "web:person-new",
        "web:decision-approve",
        "web:decision-refuse",
        "web:decision-revoke",
        "web:index-review-decide",
        "web:merge-undo",
        "web:identity-detach",
    } == COVERED


@pytest.mark.parametrize("route", sorted(READS))
@pytest.mark.parametrize("who", CAST)
def test_each_page_shows_each_member_of_the_cast_exactly_what_the_policy_allows(
    cast, world, client_for, route, who
):
    actor = getattr(cast, who)
    expected = READS[route][who]
    client = client_for(actor)
    call = _read_call(route, cast, world)
    before_all = len(audit_rows(actor_id=actor.id))
    before = len(audit_rows(actor_id=actor.id, person_id=world.person_id))
    response = call(client)
    assert response.status_code == expected.status
    assert _markers(response.content.decode(), world) == expected.markers
    names = {value: name for name, value in _objects(cast, world).items()}
    written = audit_rows(actor_id=actor.id, person_id=world.person_id)[before:]
    assert Counter(
        (e.action, e.object_type, names.get(e.object_id, str(e.object_id)), e.basis)
        for e in written
    ) == Counter(expected.audit)
    if expected.status == 403:
        refused = audit_rows(actor_id=actor.id)[before_all:]
        assert [(e.action, e.person_id) for e in refused] == [("deny", None)]


# --- The person index ----------------------------------------------------------------
#
# The pair in the review queue (tests/sharing/world.py, `build_review_pair`): police's
# identity of her, and the DA service's record of "Rowena Fictitious", a person of her
# own with a confidential address. Reviewers are the police SPOC and the MARAC
# coordinator (DA service); each sees the other side only as the policy allows, and the
# audit rows are about either person.

INDEX_MARKERS = {
    "Rowan": "Rowan Fictitious",
    "Rowena": "Rowena Fictitious",
    "her dob": "1 January 1990",
    "dup dob": "7 March 1991",
    "home": "1 Example Street",
    "quiet": "Quiet Court",
    "withheld": "Address withheld",
    "da held": "Held by Testshire DA Service; details not shared with you.",
    "police held": "Held by Testshire Police; details not shared with you.",
    "weights": "Starting point",
    "nhs problem": "The NHS number fails its check digit.",
    "phone problem": "The phone number is not a UK number of 10 or 11 digits.",
}

ONLY_REVIEWERS = {who: REFUSED for who in CAST}
INDEX_READS: dict[str, dict[str, Seen]] = {
    # Names where the policy allows; another agency's identity named is an audited read.
    "web:index-queue": {
        **ONLY_REVIEWERS,
        "police_spoc": seen(200, "Rowan"),
        "marac_coordinator": seen(
            200, "Rowan, Rowena", ("read", "identity", "police identity", "consent")
        ),
    },
    "web:index-review": {
        **ONLY_REVIEWERS,
        # No weights: what the comparison found tells what the hidden record holds.
        "police_spoc": seen(
            200,
            "Rowan, her dob, home, da held, nhs problem",
            ("deny", "agency", "da_service", ""),
        ),
        "marac_coordinator": seen(
            200,
            "Rowan, her dob, home, Rowena, dup dob, withheld, weights, nhs problem, phone problem",
            ("read", "identity", "police identity", "consent"),
            ("read", "address", "home", "consent"),
            ("deny", "address", "quiet", ""),
        ),
    },
    # The agency's own identities with problems: SPOCs by name, agency admins (who may
    # not view people) by reference only.
    "web:data-quality": {
        **ONLY_REVIEWERS,
        "police_spoc": seen(200, "Rowan, nhs problem"),
        "police_admin": seen(200, "nhs problem"),
    },
}


def _index_markers(page: str) -> set[str]:
    text = " ".join(html.unescape(page).split())
    return {name for name, marker in INDEX_MARKERS.items() if marker in text}


@pytest.mark.parametrize("route", sorted(INDEX_READS))
@pytest.mark.parametrize("who", CAST)
def test_each_index_page_shows_each_member_of_the_cast_exactly_what_the_policy_allows(
    cast, world, client_for, route, who
):
    actor = getattr(cast, who)
    expected = INDEX_READS[route][who]
    pair = build_review_pair(cast, world)
    url = reverse(route, args=[pair.item.id] if route == "web:index-review" else [])
    people = (world.person_id, pair.dup_person_id)
    before = len(audit_rows(actor_id=actor.id))
    response = client_for(actor).get(url)
    assert response.status_code == expected.status
    assert _index_markers(response.content.decode()) == expected.markers
    names = {value: name for name, value in _objects(cast, world).items()}
    names[pair.quiet.id] = "quiet"
    written = audit_rows(actor_id=actor.id)[before:]
    assert Counter(
        (e.action, e.object_type, names.get(e.object_id, str(e.object_id)), e.basis)
        for e in written
        if e.person_id in people
    ) == Counter(expected.audit)
    if expected.status == 403:
        assert [(e.action, e.person_id) for e in written] == [("deny", None)]


# --- Writes -------------------------------------------------------------------------


def _state() -> tuple[Any, ...]:
    """Everything a person-data form could write: any change means something was saved."""
    return (
        Identity.objects.count(),
        AgencyRecord.objects.count(),
        RecordVersion.objects.count(),
        Address.objects.count(),
        Consent.objects.count(),
        Consent.objects.filter(withdrawn_at__isnull=False).count(),
        ConsentWithdrawal.objects.count(),
        sorted(DisclosureDecision.objects.values_list("status", flat=True)),
        sorted(InformationRequest.objects.values_list("status", flat=True)),
        AccessGrant.objects.filter(ended_at__isnull=True).count(),
        Case.objects.filter(removed_at__isnull=True).count(),
        sorted(ReviewItem.objects.values_list("status", flat=True)),
        PairJudgement.objects.count(),
        Merge.objects.filter(undone_at__isnull=True).count(),
        sorted(str(p) for p in Identity.objects.values_list("person_id", flat=True)),
    )


def _meeting(cast: Any) -> Any:
    """A MARAC meeting to come, that her case may be referred to."""
    return Meeting.objects.first() or meeting_create(
        actor=cast.marac_coordinator,
        title="Testshire MARAC",
        held_at=timezone.now() + timedelta(days=7),
        agency_ids=[cast.agency.police.id, cast.agency.probation.id],
    )


def _pending(cast: Any, world: Any) -> Any:
    return decision_create(
        actor=cast.police_officer,
        person_id=world.person_id,
        categories=["criminal_justice"],
        recipient_agency_id=cast.agency.probation.id,
        purpose="preventing_crime",
        lawful_basis_id=world.basis.id,
        necessity="Probation supervises the fictional perpetrator.",
        victim_survivor_told=True,
    )


@dataclass(frozen=True)
class Write:
    """A form posted by each member of the cast: who may use it (status 302)."""

    url: Callable[[Any, Any], str]
    data: Callable[[Any, Any], dict[str, Any]]
    status: dict[str, int] = field(default_factory=dict)


def _person(route: str, query: str = "") -> Callable[[Any, Any], str]:
    return lambda cast, world: reverse(route, args=[world.person_id]) + query


def _everyone(ok: int, **others: int) -> dict[str, int]:
    table = {who: ok for who in CASEWORKERS} | {"police_admin": 403, "outsider": 404}
    return table | others


def _police_only(ok: int = 302) -> dict[str, int]:
    return _everyone(404, police_officer=ok, police_spoc=ok)


def _spoc_only() -> dict[str, int]:
    return {who: 403 for who in CAST} | {"police_spoc": 302}


def _reviewers_only() -> dict[str, int]:
    return {who: 403 for who in CAST} | {"police_spoc": 302, "marac_coordinator": 302}


def _merged(cast: Any, world: Any) -> Any:
    """The review pair's two persons, merged into hers (as a reviewer would)."""
    pair = build_review_pair(cast, world)
    return persons_merge(
        actor=cast.police_spoc,
        survivor_id=world.person_id,
        merged_id=pair.dup_person_id,
        reason="The same phone number.",
    )


WRITES: dict[str, Write] = {
    # Linking by reference to a person of another partnership finds no one (200, an error).
    "web:person-new": Write(
        lambda cast, world: reverse("web:person-new"),
        lambda cast, world: {
            "family_name": "Fictitious",
            "gender": "female",
            "person_reference": str(world.person_id),
        },
        _everyone(302, outsider=200),
    ),
    "web:record-new": Write(
        _person("web:record-new"),
        lambda cast, world: {
            "kind": "note",
            "category": "other",
            "occurred_on": timezone.localdate().isoformat(),
            "summary": "A fictional note",
        },
        _everyone(302),
    ),
    "web:address-new": Write(
        _person("web:address-new"),
        lambda cast, world: {"lines": "5 Sample Road", "postcode": "TE2 2AB"},
        _everyone(302),
    ),
    "web:consent-new": Write(
        _person("web:consent-new"),
        lambda cast, world: {
            "decision": "given",
            "given_by": "self",
            "method": "written",
            "recipient_sectors": ["education"],
            "categories": ["other"],
            "purposes": ["safety_planning"],
            "explanation": "Her school may be told.",
        },
        _everyone(302),
    ),
    "web:decision-new": Write(
        _person("web:decision-new"),
        lambda cast, world: {
            "categories": ["other"],
            "recipient_agency": str(cast.agency.school.id),
            "purpose": "safeguarding_children",
            "lawful_basis": str(
                LawfulBasis.objects.get(partnership=cast.testshire, code="vital-interests").id
            ),
            "necessity": "A child's life is at risk.",
            "victim_survivor_told": "yes",
        },
        _everyone(302),
    ),
    # One's own agency is not asked: the service names the field (200, nothing sent).
    "web:request-new": Write(
        lambda cast, world: (
            reverse("web:request-new", args=[world.person_id]) + f"?agency={cast.agency.police.id}"
        ),
        lambda cast, world: {"purpose": "risk_assessment", "message": "Anything known?"},
        _everyone(302, police_officer=200, police_spoc=200),
    ),
    "web:record-correct": Write(
        lambda cast, world: reverse("web:record-correct", args=[world.r1.id]),
        lambda cast, world: {
            "kind": "incident",
            "category": "criminal_justice",
            "occurred_on": "2026-10-01",
            "occurred_time": "23:30",
            "summary": "Call-out to a domestic incident (corrected)",
            "reason": "Typing error.",
        },
        _police_only(),
    ),
    "web:consent-withdraw": Write(
        lambda cast, world: reverse("web:consent-withdraw", args=[world.consent.id]),
        lambda cast, world: {"note": "She changed her mind."},
        _police_only(),
    ),
    "web:decision-revoke": Write(
        lambda cast, world: reverse("web:decision-revoke", args=[world.decision.id]),
        lambda cast, world: {"reason": "No longer needed."},
        _police_only(),
    ),
    "web:decision-approve": Write(
        lambda cast, world: reverse("web:decision-approve", args=[_pending(cast, world).id]),
        lambda cast, world: {"note": "Agreed."},
        _spoc_only(),
    ),
    "web:decision-refuse": Write(
        lambda cast, world: reverse("web:decision-refuse", args=[_pending(cast, world).id]),
        lambda cast, world: {"note": "Not proportionate."},
        _spoc_only(),
    ),
    "web:marac-refer": Write(
        _person("web:marac-refer"),
        lambda cast, world: {"meeting": str(_meeting(cast).id), "criteria": ["repeat"]},
        _everyone(302),
    ),
    "web:request": Write(
        lambda cast, world: reverse("web:request", args=[_request(cast, world).id]),
        lambda cast, world: {"reason": "Nothing relevant."},
        _spoc_only(),
    ),
    "web:index-review-decide": Write(
        lambda cast, world: reverse(
            "web:index-review-decide", args=[build_review_pair(cast, world).item.id]
        ),
        lambda cast, world: {"verdict": "different", "reason": "Different dates of birth."},
        _reviewers_only(),
    ),
    "web:merge-undo": Write(
        lambda cast, world: reverse(
            "web:merge-undo", args=[world.person_id, _merged(cast, world).id]
        ),
        lambda cast, world: {"reason": "Two different people."},
        _reviewers_only(),
    ),
    # Her police record: the police SPOC's own, the coordinator's by consent.
    "web:identity-detach": Write(
        lambda cast, world: reverse(
            "web:identity-detach", args=[world.person_id, world.identities.police.id]
        ),
        lambda cast, world: {"reason": "A namesake's record."},
        _reviewers_only(),
    ),
}


def test_the_write_table_covers_every_route_and_the_whole_cast():
    reads_only = {"web:person", "web:record", "web:decision", "web:people-search"} | set(
        INDEX_READS
    )
    assert set(WRITES) | reads_only == COVERED
    for route, write in WRITES.items():
        assert set(write.status) == set(CAST), route


@pytest.mark.parametrize("route", sorted(WRITES))
@pytest.mark.parametrize("who", CAST)
def test_each_form_may_be_used_only_by_whom_it_is_for(cast, world, client_for, route, who):
    actor = getattr(cast, who)
    write = WRITES[route]
    url = write.url(cast, world)
    client = client_for(actor)
    before = _state()
    before_rows = len(audit_rows(actor_id=actor.id))
    response = client.post(url, write.data(cast, world))
    expected = write.status[who]
    assert response.status_code == expected
    written = audit_rows(actor_id=actor.id)[before_rows:]
    if expected == 302:
        assert _state() != before
        assert any(e.action in ("create", "update") for e in written)
    else:
        assert _state() == before
        assert all(e.action in ("deny", "read") for e in written)
        if expected == 403:
            assert [(e.action, e.person_id) for e in written] == [("deny", None)]
