"""The cast matrix for the data protection officer's pages: who saw a person's data,
and the subject access bundle as CSV and PDF."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from tests.conftest import audit_rows

COVERED: set[str] = {"web:person-who-saw", "web:subject-access-csv", "web:subject-access-pdf"}

ROUTES = sorted(COVERED)

# Only a DPO whose agency knows the person may open these. Everyone else in the cast
# is refused by role (403), the partnership team's DPO does not know her (404), and
# the outsider's role is refused before anything is looked up (403).
STATUS = {
    "police_dpo": 200,
    "dpo": 404,
    "police_officer": 403,
    "gp": 403,
    "probation_officer": 403,
    "housing_officer": 403,
    "nurse": 403,
    "idva": 403,
    "police_spoc": 403,
    "social_worker": 403,
    "police_admin": 403,
    "outsider": 403,
}


def _open(client, route: str, world):
    """The who-saw page is a GET; the exports are POSTed from it."""
    url = reverse(route, args=[world.person_id])
    return client.get(url) if route == "web:person-who-saw" else client.post(url)


def _text(route: str, response) -> str:
    if route.endswith("pdf"):
        assert response["Content-Type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(response.content))
        return "\n".join(page.extract_text() for page in reader.pages)
    return response.content.decode()


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("who", sorted(STATUS))
def test_the_dpo_pages_answer_each_member_of_the_cast(cast, world, client_for, route, who):
    actor = getattr(cast, who)
    before = len(audit_rows(actor_id=actor.id))
    response = _open(client_for(actor), route, world)
    assert response.status_code == STATUS[who]
    written = audit_rows(actor_id=actor.id)[before:]
    if STATUS[who] == 200:
        expected = {"web:person-who-saw": "read", "web:subject-access-csv": "export"}
        assert [(e.action, e.person_id) for e in written] == [
            (expected.get(route, "export"), world.person_id)
        ]
    elif STATUS[who] == 403:
        assert [e.action for e in written] == ["deny"]
    else:
        assert written == []


@pytest.mark.parametrize("route", ["web:subject-access-csv", "web:subject-access-pdf"])
def test_the_bundle_holds_what_the_agency_holds_and_withholds_what_the_policy_withholds(
    cast, world, client_for, route
):
    # The GP reads the police incident under consent: that is a disclosure to report.
    client_for(cast.gp).get(reverse("web:person-who-saw", args=[world.person_id]))
    from accord.cases.selectors import record_get_for

    record_get_for(actor=cast.gp, record_id=world.r1.id)
    response = _open(client_for(cast.police_dpo), route, world)
    text = " ".join(_text(route, response).split())
    assert "Rowan" in text and "Fictitious" in text
    assert "Call-out to a domestic incident" in text  # R1, police's own
    assert "1 Example Street" in text  # police's own address
    assert "Police will tell her GP" in text  # the consent, in plain words
    assert "She asked that housing is not told" in text  # the withdrawal
    assert "Children live at the address" in text  # the disclosure decision's reasons
    assert "Testshire Surgery" in text  # the GP read R1: disclosed
    # Not the police's to give: the IDVA's records and refuge address; and the
    # restricted record, on which the DPO is not named, does not exist for them.
    assert "Safety planning session" not in text
    assert "Hidden Lane" not in text
    assert "Restricted note" not in text
    assert "A member of staff knows the family" not in text


def test_the_csv_is_a_table_that_a_spreadsheet_cannot_run(cast, world, client_for):
    from accord.cases.services import record_create

    record_create(
        actor=cast.police_officer,
        person_id=world.person_id,
        kind="note",
        category="other",
        occurred_at=world.r1.occurred_at,
        summary="=HYPERLINK(1)",
    )
    response = _open(client_for(cast.police_dpo), "web:subject-access-csv", world)
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Rowan" not in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "when", "item", "detail", "text"]
    texts = [row[4] for row in rows[1:]]
    assert "'=HYPERLINK(1)" in texts
    assert not any(text.startswith("=") for text in texts)


def test_who_saw_lists_every_read_and_refusal_with_its_basis(cast, world, client_for):
    client_for(cast.gp).get(reverse("web:person-who-saw", args=[world.person_id]))
    from accord.cases.selectors import chronology_for
    from accord.people.models import Person

    person = Person.objects.get(pk=world.person_id)
    chronology_for(actor=cast.gp, person=person)
    chronology_for(actor=cast.housing_officer, person=person)
    page = client_for(cast.police_dpo).get(reverse("web:person-who-saw", args=[world.person_id]))
    html = " ".join(page.content.decode().split())
    assert "Dee Doctor" in html and "Consent" in html  # the GP read R1 under consent
    assert "Fay Housing" in html and "Deny" in html  # housing was refused: flag only


def test_an_export_cannot_be_triggered_by_a_link(cast, world, client_for):
    client = client_for(cast.police_dpo)
    before = len(audit_rows(action="export"))
    for route in ("web:subject-access-csv", "web:subject-access-pdf"):
        assert client.get(reverse(route, args=[world.person_id])).status_code == 405
    assert len(audit_rows(action="export")) == before


def test_who_saw_never_shows_a_restricted_record_the_dpo_is_not_named_on(cast, world):
    from accord.cases.selectors import record_get_for
    from accord.people.models import Person
    from accord.sharing import dpo

    cast.testshire.audit_own_agency_reads = True
    cast.testshire.save()
    spoc = type(cast.police_spoc).objects.get(pk=cast.police_spoc.pk)
    record_get_for(actor=spoc, record_id=world.r2.id)  # the named SPOC reads R2
    officer = type(cast.police_officer).objects.get(pk=cast.police_officer.pk)
    with pytest.raises(Exception):  # noqa: B017 - NotFound, and a deny row about R2
        record_get_for(actor=officer, record_id=world.r2.id)
    person = Person.objects.get(pk=world.person_id)
    lines = dpo.who_saw(actor=cast.police_dpo, person=person)
    assert lines, "the DPO sees the other events"
    about_r2 = audit_rows(object_id=world.r2.id)
    assert len(about_r2) >= 3  # created, read by the SPOC, refused to the officer
    shown = {(line.occurred_at, line.who, line.action) for line in lines}
    for event in about_r2:
        user = type(cast.police_spoc).objects.filter(pk=event.actor_id).first()
        who = user.display_name if user else ""
        assert (event.occurred_at, who, event.get_action_display()) not in shown
    bundle = dpo.subject_access_bundle(actor=cast.police_dpo, person=person, export="csv")
    assert "Restricted note" not in dpo.bundle_csv(bundle)


def test_the_csv_quotes_formulas_in_every_column(cast, world):
    from accord.people.models import Person
    from accord.people.services import address_add
    from accord.sharing import dpo

    address_add(
        actor=cast.police_officer,
        identity_id=world.identities.police.id,
        lines="=HYPERLINK(2)",
        postcode="TE1 2AB",
    )
    person = Person.objects.get(pk=world.person_id)
    bundle = dpo.subject_access_bundle(actor=cast.police_dpo, person=person, export="csv")
    rows = list(csv.reader(io.StringIO(dpo.bundle_csv(bundle))))
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    assert any(cell.startswith("'=HYPERLINK(2)") for row in rows for cell in row)
