"""Flags (`accord/sharing/flags.py`): one answer on the person page, the chronology and the
API, for every member of the cast, built from what the policy flags item by item; and
each request about a person reads the grants once and audits in one statement."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accord.cases.models import AgencyRecord
from accord.people.models import Address, Identity, Person
from accord.people.services import address_add
from accord.sharing import policy
from accord.sharing.flags import FLAG_REASON, flags_for
from accord.sharing.services import consent_record
from tests.conftest import audit_rows
from tests.sharing.test_matrix_web import CAST

V1 = "/api/v1"
FLAG = re.compile(r'data-testid="flag">\s*<p class="govuk-body">(.*?) holds information about')


def _web_flags(response) -> list[str]:
    return [html.unescape(name) for name in FLAG.findall(response.content.decode())]


def _api_flags(response) -> list[str]:
    return [flag["agency"]["name"] for flag in response.json()["flags"]]


def _flag_rows(actor, before: int) -> list[tuple[str, object, str]]:
    rows = audit_rows(actor_id=actor.id)[before:]
    return [(r.action, r.object_id, r.reason) for r in rows if r.object_type == "agency"]


@pytest.mark.parametrize("who", CAST)
def test_the_web_and_the_api_flag_the_same_agencies_for_each_member_of_the_cast(
    cast, world, client_for, api, who
):
    actor = getattr(cast, who)
    before = len(audit_rows(actor_id=actor.id))
    page = client_for(actor).get(reverse("web:person", args=[world.person_id]))
    web_rows = _flag_rows(actor, before)
    client = api(actor)
    before = len(audit_rows(actor_id=actor.id))
    detail = client.get(f"{V1}/people/{world.person_id}/")
    api_rows = _flag_rows(actor, before)
    chronology = client.get(f"{V1}/people/{world.person_id}/chronology/")
    assert page.status_code == detail.status_code == chronology.status_code
    if page.status_code != 200:
        assert web_rows == api_rows == []
        return
    flagged = _web_flags(page)
    assert flagged == _api_flags(detail) == _api_flags(chronology)
    assert flagged == sorted(flagged)
    # The same refusals, in the same order and words, wherever the flags are shown.
    assert web_rows == api_rows
    assert [(action, reason) for action, _, reason in web_rows] == [("deny", FLAG_REASON)] * len(
        flagged
    )


@pytest.mark.parametrize("who", [who for who in CAST if who not in ("police_admin", "outsider")])
def test_flags_are_the_agencies_of_what_the_policy_shows_only_as_a_flag(cast, world, who):
    """The selector filters in the database; `policy.check` decides item by item. They agree:
    an agency is flagged exactly when the check gives the flag for one of its items (a
    restricted record does not exist for those not named, so it flags nothing)."""
    actor = getattr(cast, who)
    person = Person.objects.get(pk=world.person_id)
    items = [
        *AgencyRecord.objects.filter(person=person),
        *Identity.objects.filter(person=person),
        *Address.objects.filter(person=person),
    ]
    expected = {
        item.agency_id for item in items if policy.check(actor, item).fields == policy.FLAG_FIELDS
    }
    flags = flags_for(actor=actor, person=person)
    assert {flag.agency.id for flag in flags} == expected
    assert [flag.agency.name for flag in flags] == sorted(flag.agency.name for flag in flags)


def _gp_consent(cast, world, categories):
    return consent_record(
        actor=cast.gp,
        person_id=world.person_id,
        decision="given",
        given_by="self",
        method="verbal",
        recipient_agency_ids=[cast.agency.probation.id],
        categories=categories,
        purposes=["safety_planning"],
        explanation="Her GP will tell probation.",
    )


def test_an_address_the_reader_may_not_see_flags_its_agency_unless_shown_withheld(cast, world):
    """The GP holds no record about her. Once its identity is shared with probation, only
    its addresses can flag it: an ordinary one probation may not see, or a confidential
    one probation would not see withheld."""
    person = Person.objects.get(pk=world.person_id)
    gp = cast.agency.gp

    def flagged():
        return gp in [
            flag.agency for flag in flags_for(actor=cast.probation_officer, person=person)
        ]

    _gp_consent(cast, world, ["contact_details"])
    assert not flagged()
    home = address_add(
        actor=cast.gp, identity_id=world.identities.gp.id, lines="4 Test Row", postcode="TE4 4AA"
    )
    assert policy.check(cast.probation_officer, home).fields == policy.FLAG_FIELDS
    assert flagged()
    Address.objects.filter(pk=home.pk).update(confidential=True)
    assert flagged()
    # Shared addresses: the confidential one is shown withheld, so it flags nothing.
    _gp_consent(cast, world, ["address"])
    assert policy.check(cast.probation_officer, Address.objects.get(pk=home.pk)).withheld
    assert not flagged()


def _audit_statements(queries) -> int:
    return sum("INSERT INTO audit_auditevent" in q["sql"] for q in queries.captured_queries)


def _grant_reads(queries) -> int:
    return sum('FROM "sharing_accessgrant" WHERE' in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("who", ["gp", "marac_coordinator", "social_worker"])
def test_a_request_about_her_reads_the_grants_once_and_audits_in_one_statement(
    cast, world, client_for, api, who
):
    actor = getattr(cast, who)
    web, client = client_for(actor), api(actor)
    for name, call in (
        ("person page", lambda: web.get(reverse("web:person", args=[world.person_id]))),
        ("api person", lambda: client.get(f"{V1}/people/{world.person_id}/")),
        ("api chronology", lambda: client.get(f"{V1}/people/{world.person_id}/chronology/")),
    ):
        before = len(audit_rows(actor_id=actor.id))
        with CaptureQueriesContext(connection) as queries:
            assert call().status_code == 200
        assert len(audit_rows(actor_id=actor.id)) > before, name
        assert _audit_statements(queries) == 1, name
        assert _grant_reads(queries) <= 1, name
