"""Reading people: a search's audit rows, written in one statement."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.people.selectors import people_search
from accord.people.services import identity_create
from accord.sharing.services import consent_record
from tests.conftest import audit_rows


def _audit_statements(queries) -> int:
    return sum("INSERT INTO audit_auditevent" in q["sql"] for q in queries.captured_queries)


def test_a_search_finding_several_people_audits_them_in_one_statement(cast, world):
    # A second fictional person of the same first name, known to the police, who tell
    # her GP her contact details with her consent.
    other = identity_create(
        actor=cast.police_officer,
        given_names="Rowan",
        family_name="Example",
        date_of_birth=date(1985, 2, 2),
    )
    consent_record(
        actor=cast.police_officer,
        person_id=other.person_id,
        decision="given",
        given_by="self",
        method="verbal",
        recipient_agency_ids=[cast.agency.gp.id],
        categories=["contact_details"],
        purposes=["safety_planning"],
        explanation="Police will tell her GP how to reach her.",
    )
    before = len(audit_rows(actor_id=cast.gp.id))
    with CaptureQueriesContext(connection) as queries:
        found = people_search(actor=cast.gp, name="Rowan")
    assert {i.id for i in found} == {
        world.identities.gp.id,
        world.identities.police.id,
        other.id,
    }
    assert _audit_statements(queries) == 1
    # One read per identity of another agency, with its basis and its person; the GP's
    # own identity is not audited (the partnership does not audit own-agency reads).
    rows = audit_rows(actor_id=cast.gp.id)[before:]
    assert sorted((r.action, r.object_type, r.object_id, r.basis, r.person_id) for r in rows) == (
        sorted(
            [
                ("read", "identity", world.identities.police.id, "consent", world.person_id),
                ("read", "identity", other.id, "consent", other.person_id),
            ]
        )
    )


def test_a_search_audits_own_agency_identities_where_the_partnership_says_so(cast, world):
    cast.testshire.audit_own_agency_reads = True
    cast.testshire.save()
    gp = type(cast.gp).objects.get(pk=cast.gp.pk)
    before = len(audit_rows(actor_id=gp.id))
    with CaptureQueriesContext(connection) as queries:
        people_search(actor=gp, name="Rowan")
    assert _audit_statements(queries) == 1
    rows = audit_rows(actor_id=gp.id)[before:]
    assert sorted((r.object_id, r.basis, r.person_id) for r in rows) == sorted(
        [
            (world.identities.gp.id, "owner", world.person_id),
            (world.identities.police.id, "consent", world.person_id),
        ]
    )


def test_a_search_finding_no_one_writes_nothing(cast, world):
    before = len(audit_rows())
    with CaptureQueriesContext(connection) as queries:
        assert people_search(actor=cast.gp, name="Nobody") == []
    assert _audit_statements(queries) == 0
    assert len(audit_rows()) == before
