"""Merging two persons, undoing it exactly, and detaching one identity.

Two fictional persons a reviewer merges: police, the hospital and housing know the
survivor; her GP, the DA service and housing again know the merged person, each
with addresses (two confidential), records,
consents, disclosure decisions, a MARAC case and an information request, all
written through the services as in real use.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.cases.models import AgencyRecord
from accord.cases.services import record_create
from accord.core.errors import NotAllowed, NotFound
from accord.marac.services import case_refer, case_remove, meeting_create
from accord.people.index.merge import (
    HOUSEHOLD_CONFLICT,
    PAIR_MOVED,
    household_refusal,
    identity_detach,
    merge_undo,
    person_links,
    persons_merge,
)
from accord.people.models import (
    Address,
    Identity,
    IndexSettings,
    Merge,
    PairJudgement,
    Person,
    ReviewItem,
    ReviewStatus,
)
from accord.people.services import address_add, identity_create
from accord.sharing import policy
from accord.sharing.models import AccessGrant, LawfulBasis
from accord.sharing.services import (
    consent_record,
    decision_approve,
    decision_create,
    information_request_send,
)
from tests.conftest import audit_rows

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 10, 1, 22, 30, tzinfo=UTC)
SURVIVOR = {"given_names": "Rowan", "family_name": "Fictitious", "date_of_birth": date(1990, 1, 1)}
# Unlike enough that the person index does not link them on arrival: here a reviewer
# decides, and the tests say what a merge of any two persons does.
MERGED = {"given_names": "Robin", "family_name": "Example", "date_of_birth": date(1985, 6, 15)}
OTHER = {"given_names": "Sam", "family_name": "Sample", "date_of_birth": date(1979, 3, 3)}


def _record(actor, person_id, category: str, summary: str = "A fictional note") -> AgencyRecord:
    return record_create(
        actor=actor,
        person_id=person_id,
        kind="note",
        category=category,
        occurred_at=WHEN,
        summary=summary,
    )


def _consent(actor, person_id, to, categories):
    return consent_record(
        actor=actor,
        person_id=person_id,
        decision="given",
        given_by="self",
        method="verbal",
        recipient_agency_ids=[a.id for a in to],
        categories=categories,
        purposes=["safety_planning"],
        explanation="She agreed; fictional.",
    )


def _meeting(cast, title: str):
    return meeting_create(
        actor=cast.marac_coordinator,
        title=title,
        held_at=timezone.now() + timedelta(days=7),
        agency_ids=[cast.agency.police.id, cast.agency.gp.id, cast.agency.da_service.id],
    )


def _refer(actor, person_id, meeting):
    return case_refer(
        actor=actor, person_id=person_id, meeting_id=meeting.id, criteria=["visible_high_risk"]
    )


@pytest.fixture
def two(cast) -> SimpleNamespace:
    a = cast.agency
    # The survivor: police, the hospital and housing.
    police = identity_create(actor=cast.police_officer, **SURVIVOR, police_id="TP-0101")
    s = police.person_id
    hospital = identity_create(actor=cast.nurse, person_id=s, **SURVIVOR)
    housing_s = identity_create(actor=cast.housing_officer, person_id=s, **SURVIVOR)
    address_add(
        actor=cast.police_officer,
        identity_id=police.id,
        lines="1 Example Street",
        postcode="TE1 1ST",
    )
    address_add(
        actor=cast.nurse,
        identity_id=hospital.id,
        lines="Flat 2, 3 Sample Road",
        postcode="TE2 2ST",
        confidential=True,
        named_agency_ids=[a.police.id],
    )
    r_police = _record(cast.police_officer, s, "criminal_justice", "Call-out")
    r_hospital = _record(cast.nurse, s, "health", "A&E attendance")
    _consent(cast.police_officer, s, [a.gp], ["criminal_justice", "contact_details"])
    basis = LawfulBasis.objects.get(partnership=cast.testshire, code="public-task-safeguarding")
    decision = decision_create(
        actor=cast.police_officer,
        person_id=s,
        categories=["criminal_justice"],
        recipient_agency_id=a.childrens.id,
        purpose="safeguarding_children",
        lawful_basis_id=basis.id,
        necessity="Children live at the address.",
        victim_survivor_told=True,
    )
    decision_approve(actor=cast.police_spoc, decision_id=decision.id, note="Agreed.")
    northgate = _meeting(cast, "Northgate MARAC")
    _refer(cast.police_officer, s, northgate)

    # The merged person: her GP, the DA service and housing again.
    gp = identity_create(actor=cast.gp, **MERGED, nhs_number="9434765919")
    m = gp.person_id
    da = identity_create(actor=cast.idva, person_id=m, **MERGED)
    housing_m = identity_create(actor=cast.housing_officer, person_id=m, **MERGED)
    address_add(actor=cast.gp, identity_id=gp.id, lines="1 Example Street", postcode="TE1 1ST")
    address_add(
        actor=cast.idva,
        identity_id=da.id,
        lines="Refuge, 9 Hidden Lane",
        postcode="TE9 9ZZ",
        confidential=True,
        named_agency_ids=[a.gp.id],
    )
    r_gp = _record(cast.gp, m, "health", "Bruising seen at appointment")
    r_da = _record(cast.idva, m, "safety_plan", "Safety planning session")
    _consent(cast.gp, m, [a.police], ["health", "contact_details"])
    # Only on the merged side: housing shares its contact details with police.
    _consent(cast.housing_officer, m, [a.police], ["contact_details"])
    southgate = _meeting(cast, "Southgate MARAC")
    _refer(cast.idva, m, southgate)
    decision_create(
        actor=cast.idva,
        person_id=m,
        categories=["safety_plan"],
        recipient_meeting_id=southgate.id,
        purpose="marac",
        lawful_basis_id=LawfulBasis.objects.get(
            partnership=cast.testshire, code="vital-interests"
        ).id,
        necessity="Her case is on the agenda.",
        victim_survivor_told=True,
    )
    information_request_send(
        actor=cast.idva,
        person_id=m,
        to_agency_id=a.gp.id,
        purpose="safety_planning",
        message="Please share what you hold.",
    )
    return SimpleNamespace(
        s=s,
        m=m,
        police=police,
        hospital=hospital,
        housing_s=housing_s,
        gp=gp,
        da=da,
        housing_m=housing_m,
        r_police=r_police,
        r_hospital=r_hospital,
        r_gp=r_gp,
        r_da=r_da,
        northgate=northgate,
        southgate=southgate,
    )


def _merge(cast, two, **overrides: Any) -> Merge:
    fields: dict[str, Any] = dict(
        actor=cast.police_spoc,
        survivor_id=two.s,
        merged_id=two.m,
        reason="Same date of birth and address; a typing error in the family name.",
    )
    fields.update(overrides)
    return persons_merge(**fields)


def _snapshot() -> dict[str, Any]:
    """Every row of every table that refers to a person, field by field, and the persons.

    The policy's hint is left out: it is only ever set, so an undo may leave it true."""
    tables: dict[str, Any] = {}
    for link in person_links():
        rows = link.model._base_manager.order_by("pk").values()
        if link.model is Identity:
            rows = [{k: v for k, v in row.items() if k != "may_be_shared"} for row in rows]
        tables[link.key] = list(rows)
    tables["persons"] = sorted(Person.objects.values_list("id", "merged_into"))
    return tables


def _people_pointers() -> dict[str, set[tuple[Any, Any]]]:
    return {
        link.key: set(link.model._base_manager.values_list("pk", link.field.attname))
        for link in person_links()
    }


def _visible(actor, model, person_id) -> set[Any]:
    return set(
        policy.visible(actor, model.objects.filter(person_id=person_id)).values_list(
            "pk", flat=True
        )
    )


def _allowed(actor, model, person_id) -> set[Any]:
    return {
        item.pk
        for item in model.objects.filter(person_id=person_id)
        if policy.check(actor, item).visible
    }


# --- What a merge moves ---------------------------------------------------------------


def test_every_table_that_refers_to_a_person_is_moved_hidden_ones_included():
    assert {link.key for link in person_links()} == {
        "people.Identity",
        "people.Address",
        "cases.AgencyRecord",
        "marac.Case",
        "sharing.Consent",
        "sharing.DisclosureDecision",
        "sharing.AccessGrant",
        "sharing.InformationRequest",
    }


def test_a_merge_points_every_row_at_the_survivor_and_records_exactly_what_moved(cast, two):
    before = _people_pointers()
    merge = _merge(cast, two)
    after = _people_pointers()
    for key, rows in before.items():
        expected_moved = {str(pk) for pk, person in rows if person == two.m}
        assert set(merge.moved.get(key, [])) == expected_moved, key
        assert {pk for pk, _ in after[key]} == {pk for pk, _ in rows}
        assert not [pk for pk, person in after[key] if person == two.m], key
        assert {(pk, two.s if p == two.m else p) for pk, p in rows} == after[key]
    assert set(merge.moved) == {
        "people.Identity",
        "people.Address",
        "cases.AgencyRecord",
        "marac.Case",
        "sharing.Consent",
        "sharing.DisclosureDecision",
        "sharing.AccessGrant",
        "sharing.InformationRequest",
    }
    merged = Person.objects.get(pk=two.m)
    assert merged.merged_into_id == two.s
    assert Person.objects.get(pk=two.s).merged_into_id is None
    assert not Identity.objects.filter(person_id=two.m).exists()
    merge.refresh_from_db()
    assert (merge.survivor_id, merge.merged_id, merge.merged_by_id) == (
        two.s,
        two.m,
        cast.police_spoc.id,
    )
    assert not merge.automatic and merge.reason.startswith("Same date of birth")


def test_after_a_merge_the_grants_of_the_merged_side_cover_the_survivor(cast, two):
    # Before: the GP's record is not the survivor's, so police reading her find nothing of it.
    assert two.r_gp.id not in _visible(cast.police_officer, AgencyRecord, two.s)
    _merge(cast, two)
    # The GP's consent to police moved with its record: police see it on her page.
    assert two.r_gp.id in _visible(cast.police_officer, AgencyRecord, two.s)
    gp_record = AgencyRecord.objects.get(pk=two.r_gp.id)
    assert policy.check(cast.police_officer, gp_record).basis == "consent"
    # And the survivor's own: police's consent to the GP now covers what came with her.
    assert two.r_police.id in _visible(cast.gp, AgencyRecord, two.s)
    # The DA service's refuge stays named for the GP only, wherever it is.
    refuge = Address.objects.get(identity=two.da, confidential=True)
    assert refuge.person_id == two.s
    assert policy.check(cast.gp, refuge).visible
    assert not policy.check(cast.police_officer, refuge).visible
    # The filter and the check agree, for every actor's view of the survivor.
    for actor in (cast.police_officer, cast.gp, cast.housing_officer, cast.probation_officer):
        for model in (AgencyRecord, Identity, Address):
            assert _visible(actor, model, two.s) == _allowed(actor, model, two.s), (actor, model)


def test_a_merge_sets_the_hint_where_a_grant_only_on_the_merged_side_now_covers(cast, two):
    # Housing shared its contact details with police only about the merged person.
    assert not Identity.objects.get(pk=two.housing_s.pk).may_be_shared
    assert Identity.objects.get(pk=two.housing_m.pk).may_be_shared
    _merge(cast, two)
    assert Identity.objects.get(pk=two.housing_s.pk).may_be_shared
    # Without it the filter would hide what the check allows (ADR 0012).
    assert two.housing_s.id in _visible(cast.police_officer, Identity, two.s)
    assert _visible(cast.police_officer, Identity, two.s) == _allowed(
        cast.police_officer, Identity, two.s
    )
    # No grant covers the hospital's contact details: its hint stays false.
    assert not Identity.objects.get(pk=two.hospital.pk).may_be_shared


def test_a_merge_is_audited_for_both_persons(cast, two):
    merge = _merge(cast, two)
    rows = audit_rows(object_type="merge", object_id=merge.id)
    assert {(r.person_id, r.action, r.actor_id) for r in rows} == {
        (two.s, "update", cast.police_spoc.id),
        (two.m, "update", cast.police_spoc.id),
    }
    merged_row = next(r for r in rows if r.person_id == two.m)
    assert "merged_into" in merged_row.changed_fields
    assert "cases.agencyrecord" in merged_row.changed_fields
    assert "Same date" not in "".join(r.reason for r in rows)  # her details stay out


def test_open_reviews_between_identities_now_in_one_person_are_withdrawn_until_an_undo(cast, two):
    other = identity_create(actor=cast.probation_officer, **OTHER)

    def review(x, y, status=ReviewStatus.OPEN):
        a, b = sorted([x.id, y.id])
        return ReviewItem.objects.create(
            partnership=cast.testshire,
            identity_a_id=a,
            identity_b_id=b,
            match_probability=0.9,
            match_weight=3.0,
            model_version="test",
            status=status,
        )

    open_pair = review(two.police, two.gp)
    escalated = review(two.hospital, two.da, ReviewStatus.NOT_SURE)
    decided = review(two.housing_s, two.housing_m, ReviewStatus.SAME)
    lapsed = review(two.hospital, two.gp, ReviewStatus.LAPSED)
    the_one = review(two.police, two.da)
    elsewhere = review(two.police, other)
    _merge(cast, two, review=the_one)
    statuses = {r.pk: r.status for r in ReviewItem.objects.all()}
    assert statuses == {
        open_pair.pk: ReviewStatus.WITHDRAWN,
        escalated.pk: ReviewStatus.WITHDRAWN,
        lapsed.pk: ReviewStatus.WITHDRAWN,
        decided.pk: ReviewStatus.SAME,
        the_one.pk: ReviewStatus.OPEN,  # the review service settles its own item
        elsewhere.pk: ReviewStatus.OPEN,
    }
    merge = Merge.objects.get()
    assert merge.review_id == the_one.pk
    assert merge.withdrawn == {
        str(open_pair.pk): ReviewStatus.OPEN,
        str(escalated.pk): ReviewStatus.NOT_SURE,
        str(lapsed.pk): ReviewStatus.LAPSED,
    }

    # Undone, the pairs are two persons again: their items come back as they were,
    # unless someone settled one meanwhile.
    ReviewItem.objects.filter(pk=escalated.pk).update(status=ReviewStatus.DIFFERENT)
    merge_undo(actor=cast.police_spoc, merge_id=merge.id, reason="Two people after all.")
    statuses = {r.pk: r.status for r in ReviewItem.objects.all()}
    assert statuses[open_pair.pk] == ReviewStatus.OPEN
    assert statuses[lapsed.pk] == ReviewStatus.LAPSED
    assert statuses[escalated.pk] == ReviewStatus.DIFFERENT
    assert statuses[decided.pk] == ReviewStatus.SAME
    assert any("2 review items reopened" in row.reason for row in audit_rows())


def test_an_automatic_merge_needs_no_reason(cast):
    # Two records of her that the matcher only queued (the threshold was higher then).
    IndexSettings.objects.update_or_create(
        partnership=cast.testshire, defaults={"link_at": 0.999999999999, "review_at": 0.5}
    )
    police = identity_create(actor=cast.police_officer, **SURVIVOR)
    gp = identity_create(actor=cast.gp, **SURVIVOR)
    assert police.person_id != gp.person_id

    merge = persons_merge(
        actor=cast.police_officer,
        survivor_id=police.person_id,
        merged_id=gp.person_id,
        reason="",
        automatic=True,
    )
    assert merge.automatic and merge.merged_by_id == cast.police_officer.id


def test_an_automatic_merge_is_refused_where_the_persons_records_conflict(cast, two):
    """The household safeguard, checked again under the persons' locks: the matcher
    decided on the persons as it read them, and a merge committed meanwhile can have
    put a record that conflicts with hers into one of them (tests/people/index/
    test_concurrency.py races two arrivals). Rowan Fictitious, born 1990, and Robin
    Example, born 1985, share no identifier: a person may join them, the matcher not."""
    refused = _refused(cast, two, actor=cast.police_officer, reason="", automatic=True)
    assert refused == {"merged": [HOUSEHOLD_CONFLICT]}
    with pytest.raises(ValidationError) as error:
        _merge(cast, two, actor=cast.police_officer, reason="", automatic=True)
    assert household_refusal(error.value)

    assert _merge(cast, two).merged_id == two.m  # a reviewer's decision stands


def test_an_automatic_merge_is_refused_where_the_records_that_matched_have_moved(cast, two):
    """Given the pair that led to it (a record of the merged person, one of the
    survivor), the merge checks, under the persons' locks, that they are still there."""
    moved = (two.police.id, two.gp.id)  # each in the other's person
    refused = _refused(cast, two, actor=cast.police_officer, reason="", automatic=True, pair=moved)
    assert refused == {"merged": [PAIR_MOVED]}


# --- What a merge refuses -------------------------------------------------------------


def _refused(cast, two, **overrides: Any) -> dict[str, list[str]]:
    before = _snapshot()
    with pytest.raises(ValidationError) as refused:
        _merge(cast, two, **overrides)
    assert _snapshot() == before
    assert not Merge.objects.exists()
    return refused.value.message_dict


def test_a_merge_is_refused_when_a_pair_was_judged_different_people(cast, two):
    a, b = sorted([two.hospital.id, two.gp.id])
    PairJudgement.objects.create(
        partnership=cast.testshire,
        identity_a_id=a,
        identity_b_id=b,
        verdict=PairJudgement.Verdict.DIFFERENT,
        decided_by=cast.police_spoc,
        decided_at=datetime(2026, 11, 3, 12, 0, tzinfo=UTC),
    )
    errors = _refused(cast, two)
    assert errors == {"merged": ["These were judged different people on 3 Nov 2026."]}
    # Automatic merges too.
    assert "merged" in _refused(cast, two, reason="", automatic=True)


def test_a_same_person_judgement_does_not_stop_a_merge(cast, two):
    a, b = sorted([two.hospital.id, two.gp.id])
    PairJudgement.objects.create(
        partnership=cast.testshire, identity_a_id=a, identity_b_id=b, verdict="same"
    )
    assert _merge(cast, two).merged_id == two.m


def test_a_merge_is_refused_while_both_are_on_one_meetings_agenda(cast, two):
    case = _refer(cast.idva, two.m, two.northgate)
    errors = _refused(cast, two)
    assert list(errors) == ["meeting"]
    assert "Northgate MARAC" in errors["meeting"][0]
    assert "take one of the cases off" in errors["meeting"][0]
    # Once the coordinator takes one case off, the merge goes ahead.
    case_remove(actor=cast.marac_coordinator, case_id=case.id, reason="Duplicate referral.")
    merge = _merge(cast, two)
    assert str(case.id) in merge.moved["marac.Case"]


def test_a_merge_is_refused_without_a_reason(cast, two):
    assert _refused(cast, two, reason="  ") == {"reason": ["Say why these are the same person."]}


def test_a_merge_is_refused_for_a_person_of_another_partnership(cast, two):
    outsider = identity_create(actor=cast.outsider, **MERGED)
    with pytest.raises(NotFound):
        _merge(cast, two, merged_id=outsider.person_id)
    with pytest.raises(NotFound):
        _merge(cast, two, survivor_id=outsider.person_id)
    with pytest.raises(NotFound):
        _merge(cast, two, merged_id="not-an-id")
    assert not Merge.objects.exists()


def test_a_merge_is_refused_for_a_person_already_merged_or_the_same_person(cast, two):
    third = identity_create(actor=cast.probation_officer, **OTHER).person_id
    _merge(cast, two)
    assert "merged" in _refused_again(cast, survivor_id=third, merged_id=two.m)
    assert "survivor" in _refused_again(cast, survivor_id=two.m, merged_id=third)
    assert "merged" in _refused_again(cast, survivor_id=third, merged_id=third)


def _refused_again(cast, **ids: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        persons_merge(actor=cast.police_spoc, reason="Same person.", **ids)
    return refused.value.message_dict


def test_a_review_about_other_people_is_refused(cast, two):
    other = identity_create(actor=cast.probation_officer, **OTHER)
    a, b = sorted([two.police.id, other.id])
    item = ReviewItem.objects.create(
        partnership=cast.testshire,
        identity_a_id=a,
        identity_b_id=b,
        match_probability=0.9,
        match_weight=3.0,
        model_version="test",
    )
    assert "review" in _refused(cast, two, review=item)


def test_only_the_index_reviewers_may_merge_unmerge_and_detach(cast, two):
    with pytest.raises(NotAllowed):
        _merge(cast, two, actor=cast.police_officer)
    merge = _merge(cast, two, actor=cast.marac_coordinator)
    with pytest.raises(NotAllowed):
        merge_undo(actor=cast.gp, merge_id=merge.id, reason="Not her.")
    with pytest.raises(NotAllowed):
        identity_detach(actor=cast.gp, identity_id=two.gp.id, reason="Not her.")


# --- Undoing a merge ------------------------------------------------------------------


def test_undoing_a_merge_restores_every_row_exactly(cast, two):
    before = _snapshot()
    merge = _merge(cast, two)
    assert _snapshot() != before
    merge_undo(actor=cast.marac_coordinator, merge_id=merge.id, reason="Two different women.")
    assert _snapshot() == before
    assert Person.objects.get(pk=two.m).merged_into_id is None
    merge.refresh_from_db()
    assert merge.undone_by_id == cast.marac_coordinator.id
    assert merge.undone_at is not None and merge.undo_reason == "Two different women."
    # What police see of the survivor is again only what is hers.
    assert two.r_gp.id not in _visible(cast.police_officer, AgencyRecord, two.s)
    assert two.r_gp.id in _visible(cast.police_officer, AgencyRecord, two.m)
    # The hint is never cleared, and the filter and the check still agree.
    assert Identity.objects.get(pk=two.housing_s.pk).may_be_shared
    for person in (two.s, two.m):
        for model in (AgencyRecord, Identity, Address):
            actor = cast.police_officer
            assert _visible(actor, model, person) == _allowed(actor, model, person)


def test_undoing_a_merge_is_audited_for_both_persons(cast, two):
    merge = _merge(cast, two)
    merge_undo(actor=cast.police_spoc, merge_id=merge.id, reason="Two different women.")
    rows = audit_rows(object_type="merge", object_id=merge.id)
    assert len(rows) == 4
    undo = [r for r in rows if r.reason.startswith("merge undone")]
    assert {r.person_id for r in undo} == {two.s, two.m}
    assert all("Two different" not in r.reason for r in rows)


def test_a_merge_is_undone_once_and_only_with_a_reason(cast, two):
    merge = _merge(cast, two)
    with pytest.raises(ValidationError) as refused:
        merge_undo(actor=cast.police_spoc, merge_id=merge.id, reason=" ")
    assert "reason" in refused.value.message_dict
    merge_undo(actor=cast.police_spoc, merge_id=merge.id, reason="Two different women.")
    with pytest.raises(ValidationError) as refused:
        merge_undo(actor=cast.police_spoc, merge_id=merge.id, reason="Again.")
    assert refused.value.message_dict == {"merge": ["This merge was undone already."]}
    with pytest.raises(NotFound):
        merge_undo(actor=cast.police_spoc, merge_id="not-an-id", reason="Again.")


def test_rows_added_after_a_merge_follow_an_agency_whose_identities_are_all_on_the_merged_side(
    cast, two
):
    merge = _merge(cast, two)
    # Since the merge: the GP (known only through the merged identity) records, adds an
    # address and shares; police (only on the survivor's side) record too; housing
    # (on both sides) records; probation links a new identity to the merged person.
    gp_record = _record(cast.gp, two.s, "health", "Follow-up appointment")
    gp_address = address_add(
        actor=cast.gp, identity_id=two.gp.id, lines="4 New Close", postcode="TE4 4ST"
    )
    gp_consent = _consent(cast.gp, two.s, [cast.agency.probation], ["health"])
    police_record = _record(cast.police_officer, two.s, "criminal_justice", "Second call-out")
    housing_record = _record(cast.housing_officer, two.s, "housing", "Rent arrears")
    probation = identity_create(actor=cast.probation_officer, person_id=two.s, **MERGED)
    probation_record = _record(cast.probation_officer, two.s, "criminal_justice", "Supervision")
    # And an address added to the DA service's moved identity, named for police.
    refuge = address_add(
        actor=cast.idva,
        identity_id=two.da.id,
        lines="Refuge, 10 Hidden Lane",
        postcode="TE9 9ZY",
        confidential=True,
        named_agency_ids=[cast.agency.police.id],
    )
    merge_undo(actor=cast.police_spoc, merge_id=merge.id, reason="Two different women.")

    def person_of(model, pk):
        return model.objects.get(pk=pk).person_id

    assert person_of(AgencyRecord, gp_record.id) == two.m
    assert person_of(Address, gp_address.id) == two.m
    assert gp_consent.__class__.objects.get(pk=gp_consent.pk).person_id == two.m
    assert set(
        AccessGrant.objects.filter(source_id=gp_consent.id).values_list("person_id", flat=True)
    ) == {two.m}
    assert person_of(Address, refuge.id) == two.m
    assert set(
        AccessGrant.objects.filter(source_id=refuge.id).values_list("person_id", flat=True)
    ) == {two.m}
    # Police's, housing's (on both sides) and the new identity's stay with the survivor.
    assert person_of(AgencyRecord, police_record.id) == two.s
    assert person_of(AgencyRecord, housing_record.id) == two.s
    assert person_of(Identity, probation.id) == two.s
    assert person_of(AgencyRecord, probation_record.id) == two.s
    # The refuge stays named for police, now on the merged person's page.
    assert policy.check(cast.police_officer, Address.objects.get(pk=refuge.id)).visible
    undo = audit_rows(object_type="merge", object_id=merge.id, person_id=two.m)[-1]
    assert "rows added since followed their agency" in undo.reason


def test_nested_merges_are_undone_last_in_first_out(cast, two):
    third = identity_create(actor=cast.probation_officer, **OTHER)
    _record(cast.probation_officer, third.person_id, "criminal_justice", "Supervision")
    before = _snapshot()
    first = _merge(cast, two)  # m into s
    second = _merge(cast, two, survivor_id=third.person_id, merged_id=two.s)  # s into third
    assert set(AgencyRecord.objects.values_list("person_id", flat=True)) == {third.person_id}
    assert Person.objects.get(pk=two.m).merged_into_id == two.s  # the chain is kept
    with pytest.raises(ValidationError) as refused:
        merge_undo(actor=cast.police_spoc, merge_id=first.id, reason="Not her.")
    message = refused.value.message_dict["merge"][0]
    assert "later merge" in message and "undo that merge first" in message
    merge_undo(actor=cast.police_spoc, merge_id=second.id, reason="Not her.")
    merge_undo(actor=cast.police_spoc, merge_id=first.id, reason="Not her either.")
    assert _snapshot() == before


def test_a_later_merge_into_the_same_survivor_must_be_undone_first(cast, two):
    third = identity_create(actor=cast.probation_officer, **OTHER)
    before = _snapshot()
    first = _merge(cast, two)
    second = _merge(cast, two, merged_id=third.person_id)
    with pytest.raises(ValidationError):
        merge_undo(actor=cast.police_spoc, merge_id=first.id, reason="Not her.")
    merge_undo(actor=cast.police_spoc, merge_id=second.id, reason="Not her.")
    merge_undo(actor=cast.police_spoc, merge_id=first.id, reason="Not her either.")
    assert _snapshot() == before


def test_a_merge_can_be_redone_after_it_was_undone(cast, two):
    first = _merge(cast, two)
    merge_undo(actor=cast.police_spoc, merge_id=first.id, reason="Not sure yet.")
    again = _merge(cast, two, survivor_id=two.m, merged_id=two.s)
    assert set(again.moved["people.Identity"]) == {
        str(i.id) for i in (two.police, two.hospital, two.housing_s)
    }
    assert Person.objects.get(pk=two.s).merged_into_id == two.m


# --- Detaching one identity -----------------------------------------------------------


def test_detaching_an_agencys_only_identity_takes_its_rows_with_it(cast, two):
    new = identity_detach(actor=cast.police_spoc, identity_id=two.hospital.id, reason="Not her.")
    assert Identity.objects.get(pk=two.hospital.pk).person_id == new.id
    assert new.partnership_id == cast.testshire.id and new.merged_into_id is None
    # Its confidential address, the grant naming police for it, and its record.
    address = Address.objects.get(identity=two.hospital)
    assert address.person_id == new.id
    assert set(
        AccessGrant.objects.filter(source_id=address.id).values_list("person_id", flat=True)
    ) == {new.id}
    assert AgencyRecord.objects.get(pk=two.r_hospital.pk).person_id == new.id
    # Nothing else moved.
    assert AgencyRecord.objects.get(pk=two.r_police.pk).person_id == two.s
    assert not AccessGrant.objects.filter(person_id=new.id).exclude(source_id=address.id).exists()
    rows = audit_rows(object_type="identity", object_id=two.hospital.id, action="update")
    assert {r.person_id for r in rows} == {two.s, new.id}


def test_detaching_one_of_an_agencys_identities_leaves_its_person_level_rows(cast, two):
    merge = _merge(cast, two)  # housing now has two identities in one person
    housing_consent = AccessGrant.objects.filter(holder_agency=cast.agency.housing)
    assert housing_consent.exists()
    record = _record(cast.housing_officer, two.s, "housing", "Tenancy visit")
    new = identity_detach(
        actor=cast.police_spoc, identity_id=two.housing_m.id, reason="A different tenant."
    )
    assert Identity.objects.get(pk=two.housing_m.pk).person_id == new.id
    assert AgencyRecord.objects.get(pk=record.pk).person_id == two.s
    assert set(housing_consent.values_list("person_id", flat=True)) == {two.s}
    # An identity the merge joined has left: the merge can no longer be undone exactly.
    with pytest.raises(ValidationError) as refused:
        merge_undo(actor=cast.police_spoc, merge_id=merge.id, reason="Not her.")
    assert "detached" in refused.value.message_dict["merge"][0]


def test_the_only_identity_cannot_be_detached(cast):
    alone = identity_create(actor=cast.police_officer, **SURVIVOR)
    with pytest.raises(ValidationError) as refused:
        identity_detach(actor=cast.police_spoc, identity_id=alone.id, reason="Not her.")
    assert "identity" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        identity_detach(actor=cast.police_spoc, identity_id=alone.id, reason="")
    assert "reason" in refused.value.message_dict
    outsider = identity_create(actor=cast.outsider, **SURVIVOR)
    with pytest.raises(NotFound):
        identity_detach(actor=cast.police_spoc, identity_id=outsider.id, reason="Not her.")


def test_an_identity_moved_since_its_person_was_checked_is_not_detached(cast, two):
    """The page checks the identity in one person; a merge moving it before the detach
    takes its lock must not let it be taken out of another person, never checked."""
    with pytest.raises(ValidationError) as refused:
        identity_detach(
            actor=cast.police_spoc,
            identity_id=two.hospital.id,
            reason="Not her.",
            from_person_id=two.m,
        )
    assert "moved meanwhile" in refused.value.message_dict["identity"][0]
    assert Identity.objects.get(pk=two.hospital.pk).person_id == two.s
    new = identity_detach(
        actor=cast.police_spoc, identity_id=two.hospital.id, reason="Not her.", from_person_id=two.s
    )
    assert Identity.objects.get(pk=two.hospital.pk).person_id == new.id


def test_after_detaching_the_filter_and_the_check_still_agree(cast, two):
    new = identity_detach(actor=cast.police_spoc, identity_id=two.police.id, reason="Not her.")
    # Police's consent to the GP covers its contact details, and followed its identity;
    # the hint it set stays.
    assert AccessGrant.objects.cover_contact_details(
        person_id=new.id, agency_id=two.police.agency_id
    )
    assert Identity.objects.get(pk=two.police.pk).may_be_shared
    assert (
        _visible(cast.gp, Identity, new.id)
        == _allowed(cast.gp, Identity, new.id)
        == {two.police.id}
    )


def test_an_undo_is_refused_when_the_survivor_would_be_left_with_no_identity(cast, two):
    merge = _merge(cast, two)
    for identity in (two.police, two.hospital, two.housing_s):
        identity_detach(actor=cast.police_spoc, identity_id=identity.id, reason="Not her.")
    with pytest.raises(ValidationError) as refused:
        merge_undo(actor=cast.police_spoc, merge_id=merge.id, reason="Not her.")
    assert "nothing would be left" in refused.value.message_dict["merge"][0]
    assert Person.objects.get(pk=two.m).merged_into_id == two.s
