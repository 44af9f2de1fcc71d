"""The person pages: finding, recording, consent, disclosure decisions and requests.

Each page is used by the member of the cast it is for, and the tests assert the page,
the database and the audit rows; bad input names its field and writes nothing.
The world (tests/sharing/world.py) says who may see what.
"""

from __future__ import annotations

import html
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accord.cases.models import AgencyRecord, RecordVersion
from accord.people.models import Address, Identity
from accord.sharing.models import (
    AccessGrant,
    Consent,
    DecisionStatus,
    DisclosureDecision,
    InformationRequest,
    RequestStatus,
)
from accord.sharing.services import decision_create, information_request_send
from tests.conftest import audit_rows

R1 = "Call-out to a domestic incident"
FLAG_POLICE = "Testshire Police holds information about this person."


def _html(response) -> str:
    """The page's text with entities decoded, so "Police's" reads as typed."""
    return " ".join(html.unescape(response.content.decode()).split())


def _errors(response) -> list[str]:
    import re

    return re.findall(r'govuk-error-message"[^>]*>(.*?)</p>', response.content.decode(), re.S)


def _person_url(world) -> str:
    return reverse("web:person", args=[world.person_id])


def _tomorrow() -> str:
    return (timezone.localdate() + timedelta(days=1)).isoformat()


def _yesterday() -> str:
    return (timezone.localdate() - timedelta(days=1)).isoformat()


# --- The person page ----------------------------------------------------------------


def test_the_person_page_uses_the_agency_word_and_shows_what_the_policy_allows(
    cast, world, client_for
):
    html = _html(client_for(cast.gp).get(_person_url(world)))
    assert '<span class="govuk-caption-l">Patient</span>Rowan Fictitious' in html
    assert "How agencies know her" in html
    assert R1 in html and "Shared with you by consent" in html
    assert "Testshire DA Service holds information about this person." in html
    assert "Ask Testshire DA Service's single point of contact (SPOC)" in html
    assert "Safety planning session" not in html and "Restricted note" not in html
    police_html = _html(client_for(cast.police_officer).get(_person_url(world)))
    assert '<span class="govuk-caption-l">Victim</span>' in police_html
    housing_html = _html(client_for(cast.housing_officer).get(_person_url(world)))
    assert '<span class="govuk-caption-l">Tenant</span>' in housing_html


def test_the_person_page_lists_the_agency_consents_and_decisions_with_a_withdraw_link(
    cast, world, client_for
):
    html = _html(client_for(cast.police_officer).get(_person_url(world)))
    assert reverse("web:consent-withdraw", args=[world.consent.id]) in html
    assert "In force, withdrawn in part" in html
    assert "(expired)" in html  # the hospital's consent
    assert reverse("web:decision", args=[world.decision.id]) in html
    assert "Criminal justice, Contact details, Address" in html or "Address" in html
    # Another agency's page lists only its own consents.
    gp_html = _html(client_for(cast.gp).get(_person_url(world)))
    assert "No consent recorded by your agency." in gp_html


def test_the_gp_reading_the_person_page_is_audited_with_each_basis(cast, world, client_for):
    before = len(audit_rows(actor_id=cast.gp.id, person_id=world.person_id))
    client_for(cast.gp).get(_person_url(world))
    written = audit_rows(actor_id=cast.gp.id, person_id=world.person_id)[before:]
    seen = {(e.action, e.object_type, e.object_id, e.basis) for e in written}
    assert ("read", "record", world.r1.id, "consent") in seen
    assert ("deny", "agency", cast.agency.da_service.id, "") in seen
    assert ("read", "address", world.refuge.id, "named") in seen
    assert ("read", "address", world.home.id, "consent") in seen


def test_withdrawal_takes_effect_on_the_very_next_request(cast, world, client_for):
    gp = client_for(cast.gp)
    assert R1 in _html(gp.get(_person_url(world)))
    police = client_for(cast.police_officer)
    response = police.post(
        reverse("web:consent-withdraw", args=[world.consent.id]),
        {"recipient_agencies": [str(cast.agency.gp.id)], "note": "She asked."},
    )
    assert response.status_code == 302
    html = _html(gp.get(_person_url(world)))
    assert R1 not in html
    assert FLAG_POLICE in html
    assert gp.get(reverse("web:record", args=[world.r1.id])).status_code == 404


def test_the_refuge_address_is_withheld_from_the_idva_colleague_and_shown_to_the_gp(
    cast, world, client_for
):
    coordinator = _html(client_for(cast.marac_coordinator).get(_person_url(world)))
    assert "Address withheld" in coordinator
    assert "Hidden Lane" not in coordinator and "TE9 9ZZ" not in coordinator
    gp = _html(client_for(cast.gp).get(_person_url(world)))
    assert "Refuge, 9 Hidden Lane" in gp and "TE9 9ZZ" in gp
    assert "Address withheld" not in gp
    idva = _html(client_for(cast.idva).get(_person_url(world)))
    assert "Refuge, 9 Hidden Lane" in idva


def test_a_person_the_agency_does_not_know_is_not_found(cast, world, client_for):
    assert client_for(cast.teacher).get(_person_url(world)).status_code == 404
    assert client_for(cast.outsider).get(_person_url(world)).status_code == 404


# --- Finding a person ---------------------------------------------------------------


def test_search_is_posted_and_finds_visible_identities(cast, world, client_for):
    client = client_for(cast.gp)
    page = client.get(reverse("web:people-search"))
    assert page.status_code == 200
    assert 'method="post"' in page.content.decode()
    response = client.post(
        reverse("web:people-search"),
        {"name": "rowan fict", "date_of_birth": "1990-01-01", "postcode": ""},
        HTTP_HX_REQUEST="true",
    )
    html = _html(response)
    assert response.status_code == 200 and "<html" not in html  # only the results
    assert _person_url(world) in html
    assert "Testshire Surgery" in html and "Testshire Police" in html  # police's by consent
    assert "Testshire Homes" not in html  # housing's identity is not shared with the GP


def test_search_by_the_home_postcode_finds_her_and_by_the_refuge_postcode_finds_nobody(
    cast, world, client_for
):
    for user in (cast.gp, cast.idva, cast.police_officer, cast.marac_coordinator):
        client = client_for(user)
        refuge = _html(client.post(reverse("web:people-search"), {"postcode": "TE9 9ZZ"}))
        assert "No one matches" in refuge and _person_url(world) not in refuge
    home = _html(
        client_for(cast.police_officer).post(reverse("web:people-search"), {"postcode": "te1 1st"})
    )
    assert _person_url(world) in home


def test_search_puts_nothing_in_the_url(cast, world, client_for):
    response = client_for(cast.gp).post(reverse("web:people-search"), {"name": "Rowan"})
    assert response.wsgi_request.get_full_path() == "/people/"


# --- Recording a person, records and addresses ------------------------------------------


def test_a_practitioner_records_a_new_person_and_links_one_by_reference(cast, world, client_for):
    client = client_for(cast.teacher)
    response = client.post(
        reverse("web:person-new"),
        {"given_names": "Sam", "family_name": "Madeup", "gender": "not_known"},
    )
    assert response.status_code == 302
    identity = Identity.objects.get(family_name="Madeup")
    assert identity.agency == cast.agency.school
    assert response["Location"] == reverse("web:person", args=[identity.person_id])
    assert "Madeup" not in response["Location"]
    response = client.post(
        reverse("web:person-new"),
        {"family_name": "Fictitious", "gender": "female", "person_reference": str(world.person_id)},
    )
    assert response["Location"] == _person_url(world)
    assert Identity.objects.filter(person_id=world.person_id, agency=cast.agency.school).exists()


def test_recording_a_person_with_bad_input_names_the_field_and_saves_nothing(cast, client_for):
    before = Identity.objects.count()
    response = client_for(cast.teacher).post(
        reverse("web:person-new"),
        {
            "family_name": "Madeup",
            "gender": "female",
            "nhs_number": "12",
            "date_of_birth": "2999-01-01",
        },
    )
    html = _html(response)
    assert response.status_code == 200
    assert 'href="#id_nhs_number">An NHS number is 10 digits.' in html
    assert "The date of birth cannot be in the future." in html
    assert 'value="Madeup"' in html  # what was typed is kept
    assert Identity.objects.count() == before


def test_a_record_is_added_restricted_and_corrected_with_its_versions(cast, world, client_for):
    client = client_for(cast.police_officer)
    response = client.post(
        reverse("web:record-new", args=[world.person_id]),
        {
            "kind": "concern",
            "category": "risk",
            "occurred_on": _yesterday(),  # today at 09:15 is in the future before then
            "occurred_time": "09:15",
            "summary": "Neighbour reported shouting",
            "body": "Fictional details.",
            "restricted": "on",
            "restricted_to": [str(cast.police_spoc.id)],
        },
    )
    assert response.status_code == 302, _errors(response)
    record = AgencyRecord.objects.get(kind="concern", agency=cast.agency.police)
    assert record.restricted and record.author == cast.police_officer
    named = set(
        AccessGrant.objects.filter(item_id=record.id).values_list("recipient_user_id", flat=True)
    )
    assert named == {cast.police_officer.id, cast.police_spoc.id}
    correct = reverse("web:record-correct", args=[record.id])
    page = client.get(correct)
    assert 'value="09:15"' in page.content.decode()
    response = client.post(
        correct,
        {
            "kind": "concern",
            "category": "risk",
            "occurred_on": _yesterday(),  # today at 09:15 is in the future before then
            "occurred_time": "09:15",
            "summary": "Neighbour reported shouting and a scream",
            "body": "Fictional details.",
            "reason": "The caller added detail.",
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.version == 2
    assert audit_rows(object_id=record.id)[-1].changed_fields == ["summary"]
    html = _html(client.get(reverse("web:record", args=[record.id])))
    assert "Version 1" in html and "The caller added detail." in html
    # The colleague not named may neither see nor correct it.
    assert client_for(cast.police_admin).get(correct).status_code == 403


def test_another_agency_may_not_correct_a_record_it_may_read(cast, world, client_for):
    url = reverse("web:record-correct", args=[world.r1.id])
    assert client_for(cast.gp).get(url).status_code == 404
    assert RecordVersion.objects.filter(record=world.r1).count() == 1


def test_a_record_with_no_summary_and_a_future_date_names_the_fields(cast, world, client_for):
    before = AgencyRecord.objects.count()
    response = client_for(cast.gp).post(
        reverse("web:record-new", args=[world.person_id]),
        {"kind": "attendance", "category": "health", "occurred_on": "2999-01-01", "summary": " "},
    )
    html = _html(response)
    assert "Enter a short summary." in html or "When it happened cannot be in the future." in html
    assert AgencyRecord.objects.count() == before


def test_a_confidential_address_names_its_users_and_is_never_searchable(cast, world, client_for):
    response = client_for(cast.housing_officer).post(
        reverse("web:address-new", args=[world.person_id]),
        {
            "lines": "Flat 2, New Place\nTesttown",
            "postcode": "te5 5aa",
            "confidential": "on",
            "named_agencies": [str(cast.agency.gp.id)],
        },
    )
    assert response.status_code == 302
    address = Address.objects.get(agency=cast.agency.housing)
    assert address.confidential and address.postcode == ""
    found = _html(client_for(cast.gp).post(reverse("web:people-search"), {"postcode": "TE5 5AA"}))
    assert "No one matches" in found


def test_an_address_with_named_users_but_not_confidential_is_refused(cast, world, client_for):
    response = client_for(cast.housing_officer).post(
        reverse("web:address-new", args=[world.person_id]),
        {"lines": "3 Open Road", "postcode": "TE1 1AA", "named_users": [str(cast.gp.id)]},
    )
    assert "Only a confidential address has named users or agencies." in _html(response)
    assert not Address.objects.filter(agency=cast.agency.housing).exists()


# --- Consent ------------------------------------------------------------------------


def _consent(**extra):
    data = {
        "decision": "given",
        "given_by": "self",
        "method": "verbal",
        "categories": ["health"],
        "purposes": ["safety_planning"],
        "explanation": "Her GP will tell the IDVA service about her injuries.",
    }
    data.update(extra)
    return data


def test_consent_is_recorded_and_shares_at_once(cast, world, client_for):
    response = client_for(cast.gp).post(
        reverse("web:consent-new", args=[world.person_id]),
        _consent(recipient_agencies=[str(cast.agency.da_service.id)], expires_on=_tomorrow()),
    )
    assert response.status_code == 302
    consent = Consent.objects.get(agency=cast.agency.gp)
    assert consent.expires_at > timezone.now() + timedelta(hours=1)
    assert (
        AccessGrant.objects.filter(
            source_id=consent.id, recipient_agency=cast.agency.da_service
        ).count()
        == 1
    )
    assert audit_rows(object_id=consent.id)[0].action == "create"


def test_a_consent_with_no_scope_or_a_past_expiry_names_the_field_and_saves_nothing(
    cast, world, client_for
):
    client = client_for(cast.gp)
    url = reverse("web:consent-new", args=[world.person_id])
    html = _html(client.post(url, _consent(categories=[], purposes=[])))
    assert 'href="#id_recipient_agencies">Choose at least one agency or sector' in html
    assert 'href="#id_categories">Choose at least one kind of information' in html
    assert "Her GP will tell the IDVA service" in html  # kept
    html = _html(client.post(url, _consent(recipient_sectors=["housing"], expires_on=_yesterday())))
    assert 'href="#id_expires_on">The expiry date must be in the future.' in html
    assert not Consent.objects.filter(agency=cast.agency.gp).exists()
    assert AccessGrant.objects.filter(holder_agency=cast.agency.gp).count() == 0


def test_a_refusal_is_kept_without_scope(cast, world, client_for):
    response = client_for(cast.gp).post(
        reverse("web:consent-new", args=[world.person_id]),
        _consent(decision="refused", categories=[], purposes=[]),
    )
    assert response.status_code == 302
    consent = Consent.objects.get(agency=cast.agency.gp)
    assert consent.decision == "refused"
    assert not AccessGrant.objects.filter(source_id=consent.id).exists()


def test_withdrawing_all_of_a_consent_ends_every_grant(cast, world, client_for):
    response = client_for(cast.police_officer).post(
        reverse("web:consent-withdraw", args=[world.consent.id]), {"note": ""}
    )
    assert response.status_code == 302
    world.consent.refresh_from_db()
    assert world.consent.withdrawn_at is not None
    assert not AccessGrant.objects.filter(
        source_id=world.consent.id, ended_at__isnull=True
    ).exists()
    # It cannot be withdrawn twice; another agency cannot reach it at all.
    again = client_for(cast.police_officer).post(
        reverse("web:consent-withdraw", args=[world.consent.id]), {"note": ""}
    )
    assert "This consent is not in force" in _html(again)
    assert (
        client_for(cast.gp)
        .get(reverse("web:consent-withdraw", args=[world.consent.id]))
        .status_code
        == 404
    )


# --- Disclosure decisions -----------------------------------------------------------


def _decision(world, cast, **extra):
    data = {
        "categories": ["criminal_justice"],
        "recipient_agency": str(cast.agency.probation.id),
        "purpose": "preventing_crime",
        "lawful_basis": str(world.basis.id),
        "necessity": "Probation supervises the fictional perpetrator.",
        "victim_survivor_told": "yes",
    }
    data.update(extra)
    return data


def test_a_decision_with_no_basis_or_reason_names_the_fields_and_saves_nothing(
    cast, world, client_for
):
    before = DisclosureDecision.objects.count()
    url = reverse("web:decision-new", args=[world.person_id])
    html = _html(
        client_for(cast.police_officer).post(
            url,
            _decision(world, cast, lawful_basis="", necessity="", victim_survivor_told="no"),
        )
    )
    assert 'href="#id_lawful_basis">Choose the lawful basis for sharing.' in html
    assert 'href="#id_necessity">Say why sharing is necessary and proportionate.' in html
    assert 'href="#id_not_told_reason">Say why she was not told.' in html
    html = _html(
        client_for(cast.police_officer).post(url, _decision(world, cast, expires_on=_yesterday()))
    )
    assert "The expiry date must be in the future." in html
    assert DisclosureDecision.objects.count() == before


def test_a_decision_waits_for_another_spoc_who_approves_it(cast, world, client_for):
    officer = client_for(cast.police_officer)
    response = officer.post(
        reverse("web:decision-new", args=[world.person_id]),
        _decision(world, cast, categories=[], records=[str(world.r1.id)]),
    )
    decision = DisclosureDecision.objects.get(recipient_agency=cast.agency.probation)
    assert response["Location"] == reverse("web:decision", args=[decision.id])
    assert decision.status == DecisionStatus.PENDING
    home = _html(client_for(cast.police_spoc).get(reverse("web:home")))
    assert "Disclosures waiting for your approval" in home
    assert reverse("web:decision", args=[decision.id]) in home
    assert R1 not in _html(client_for(cast.probation_officer).get(_person_url(world)))
    response = client_for(cast.police_spoc).post(
        reverse("web:decision-approve", args=[decision.id]), {"note": "Agreed."}
    )
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.APPROVED and decision.approved_by == cast.police_spoc
    html = _html(client_for(cast.probation_officer).get(_person_url(world)))
    assert R1 in html and "Shared with you by a disclosure decision" in html


def test_the_author_cannot_approve_their_own_decision(cast, world, client_for):
    decision = decision_create(
        actor=cast.police_spoc,
        person_id=world.person_id,
        categories=["criminal_justice"],
        recipient_agency_id=cast.agency.probation.id,
        purpose="preventing_crime",
        lawful_basis_id=world.basis.id,
        necessity="Needed.",
        victim_survivor_told=True,
    )
    client = client_for(cast.police_spoc)
    page = _html(client.get(reverse("web:decision", args=[decision.id])))
    assert "You cannot approve your own decision." in page and "Approve the disclosure" not in page
    response = client.post(reverse("web:decision-approve", args=[decision.id]), {"note": ""})
    html = _html(response)
    assert response.status_code == 200
    assert 'href="#id_note">A decision must be approved by someone other than its author.' in html
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.PENDING
    assert not AccessGrant.objects.filter(source_id=decision.id).exists()
    assert reverse("web:decision", args=[decision.id]) not in _html(client.get(reverse("web:home")))


def test_a_refusal_needs_a_note_and_a_revocation_stops_sharing(cast, world, client_for):
    spoc = client_for(cast.police_spoc)
    url = reverse("web:decision-revoke", args=[world.decision.id])
    html = _html(spoc.post(url, {"reason": ""}))
    assert "Say why the decision is revoked." in html
    assert R1 in _html(client_for(cast.social_worker).get(_person_url(world)))
    assert spoc.post(url, {"reason": "Assessment complete."}).status_code == 302
    world.decision.refresh_from_db()
    assert world.decision.status == DecisionStatus.REVOKED
    assert R1 not in _html(client_for(cast.social_worker).get(_person_url(world)))


# --- Information requests -----------------------------------------------------------


def test_a_request_from_the_flag_is_answered_by_consent(cast, world, client_for):
    probation = client_for(cast.probation_officer)
    url = reverse("web:request-new", args=[world.person_id]) + f"?agency={cast.agency.police.id}"
    assert "Ask Testshire Police's single point of contact (SPOC)" in _html(probation.get(url))
    bad = _html(probation.post(url, {"purpose": "risk_assessment", "message": ""}))
    assert "Say what you need to know and why." in bad
    assert (
        probation.post(
            url, {"purpose": "risk_assessment", "message": "Is there a history?"}
        ).status_code
        == 302
    )
    request = InformationRequest.objects.get(from_agency=cast.agency.probation)
    spoc = client_for(cast.police_spoc)
    home = _html(spoc.get(reverse("web:home")))
    assert "Information requests to your agency" in home
    page = _html(spoc.get(reverse("web:request", args=[request.id])))
    answer = reverse("web:consent-new", args=[world.person_id]) + f"?request={request.id}"
    assert answer.replace("&", "&amp;") in page or answer in page
    form = _html(spoc.get(answer))
    assert "This answers a request from Testshire Probation" in form
    response = spoc.post(
        answer,
        _consent(
            categories=["criminal_justice"],
            purposes=["risk_assessment"],
            recipient_agencies=[str(cast.agency.probation.id)],
        ),
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.ANSWERED and request.consent is not None
    assert R1 in _html(probation.get(_person_url(world)))


def test_a_request_is_declined_with_a_reason(cast, world, client_for):
    request = information_request_send(
        actor=cast.probation_officer,
        person_id=world.person_id,
        to_agency_id=cast.agency.police.id,
        purpose="risk_assessment",
        message="Anything known?",
    )
    url = reverse("web:request", args=[request.id])
    spoc = client_for(cast.police_spoc)
    assert "Say why the information is not shared." in _html(spoc.post(url, {"reason": ""}))
    assert spoc.post(url, {"reason": "Nothing relevant to risk."}).status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.DECLINED
    # Only the receiving agency's SPOC opens it.
    assert client_for(cast.police_officer).get(url).status_code == 403
    assert client_for(cast.gp).get(url).status_code == 403


# --- GOV.UK patterns ----------------------------------------------------------------


def test_the_forms_follow_govuk_patterns(cast, world, client_for):
    client = client_for(cast.police_spoc)
    for url in (
        reverse("web:person-new"),
        reverse("web:record-new", args=[world.person_id]),
        reverse("web:address-new", args=[world.person_id]),
        reverse("web:consent-new", args=[world.person_id]),
        reverse("web:decision-new", args=[world.person_id]),
    ):
        html = client.get(url).content.decode()
        assert 'class="govuk-heading-l"' in html and 'class="govuk-button"' in html, url
        assert "novalidate" in html and "csrfmiddlewaretoken" in html, url
        assert "govuk-back-link" in html or url == reverse("web:person-new"), url
    decision_form = client.get(reverse("web:decision-new", args=[world.person_id])).content.decode()
    assert 'class="govuk-hint govuk-radios__hint"' in decision_form  # each basis explains itself
    consent_form = client.get(reverse("web:consent-new", args=[world.person_id])).content.decode()
    assert "What she was told, in plain words" in consent_form
    assert '<textarea class="govuk-textarea"' in consent_form
    nav = client.get(reverse("web:home")).content.decode()
    assert reverse("web:people-search") in nav
    assert (
        reverse("web:people-search")
        not in client_for(cast.police_admin).get(reverse("web:home")).content.decode()
    )


def test_the_requester_sees_on_the_person_page_how_each_request_was_answered(
    cast, world, client_for
):
    from accord.sharing.services import information_request_decline, information_request_send

    request = information_request_send(
        actor=cast.probation_officer,
        person_id=world.person_id,
        to_agency_id=cast.agency.police.id,
        purpose="marac",
        message="Any history?",
    )
    page = client_for(cast.probation_officer).get(f"/people/{world.person_id}/")
    assert "waiting for an answer" in page.content.decode()
    information_request_decline(
        actor=cast.police_spoc, request_id=request.id, reason="Not necessary yet."
    )
    html = client_for(cast.probation_officer).get(f"/people/{world.person_id}/").content.decode()
    assert "declined: Not necessary yet." in html
    # Another agency does not see probation's requests.
    other = client_for(cast.gp).get(f"/people/{world.person_id}/").content.decode()
    assert "Any history?" not in other and "Not necessary yet." not in other
