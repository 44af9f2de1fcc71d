"""Matching on arrival: a link above the upper threshold, a review item between, a
person of her own below; households are not chained; "different" is remembered."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.people.index.candidates import TOTAL, candidates
from accord.people.index.model import BLOCKING_RULES, CURRENT_VERSION
from accord.people.index.online import match_identity, pair, refresh
from accord.people.index.safeguards import conflicting, linkable
from accord.people.models import (
    Address,
    Identity,
    IndexSettings,
    MatchFeatures,
    Merge,
    NotLinkedBecause,
    PairJudgement,
    Person,
    ReviewItem,
    ReviewStatus,
    TermCount,
)
from accord.people.services import address_add, identity_create, identity_update

pytestmark = pytest.mark.django_db

HER = dict(
    given_names="Morwenna",
    family_name="Examplewright",
    date_of_birth=date(1991, 6, 14),
    gender="female",
    phone="07700 900461",
    nhs_number="9434765919",
)


def _thresholds(cast, *, link_at=0.999, review_at=0.5):
    IndexSettings.objects.update_or_create(
        partnership=cast.testshire, defaults={"link_at": link_at, "review_at": review_at}
    )


def test_the_same_woman_at_a_second_agency_joins_her_person_by_an_undoable_merge(cast):
    police = identity_create(actor=cast.police_officer, **HER)
    gp = identity_create(actor=cast.gp, **{**HER, "given_names": "Morwena"})
    assert gp.person_id == police.person_id
    merge = Merge.objects.get(survivor_id=police.person_id)
    assert merge.automatic and merge.undone_at is None
    assert Person.objects.get(pk=merge.merged_id).merged_into_id == police.person_id


def test_a_mother_and_daughter_sharing_name_address_and_phone_are_not_linked(cast):
    mother = identity_create(actor=cast.police_officer, **HER)
    daughter = identity_create(
        actor=cast.gp,
        **{**HER, "given_names": "Tamsin", "date_of_birth": date(2012, 2, 3), "nhs_number": ""},
    )
    address_add(
        actor=cast.police_officer, identity_id=mother.id, lines="3 Example Row", postcode="ZZ1 4XA"
    )
    address_add(actor=cast.gp, identity_id=daughter.id, lines="3 Example Row", postcode="ZZ1 4XA")
    daughter.refresh_from_db()
    assert daughter.person_id != mother.person_id


def test_twins_are_not_linked_however_much_else_they_share(cast):
    one = identity_create(actor=cast.police_officer, **{**HER, "nhs_number": ""})
    other = identity_create(actor=cast.gp, **{**HER, "nhs_number": "", "given_names": "Demelza"})
    assert one.person_id != other.person_id


def test_a_twin_whose_names_one_agency_transposed_is_not_linked_to_her_sister(cast):
    """ "Examplewright, Morwenna" has her sister Demelza's family name where Demelza has
    it: one name crossed, the given names (Morwenna, Demelza) never compared. That is
    not a given name agreeing, so the safeguard still sees twins."""
    one = identity_create(actor=cast.police_officer, **{**HER, "nhs_number": ""})
    transposed = {
        **HER,
        "given_names": HER["family_name"],
        "family_name": "Demelza",
        "nhs_number": "",
    }
    other = identity_create(actor=cast.gp, **transposed)
    assert one.person_id != other.person_id
    left, right = (MatchFeatures.objects.get(pk=i.pk).values for i in (one, other))
    assert not linkable(left, right) and conflicting(left, right)


def test_between_the_thresholds_the_pair_goes_to_the_review_queue(cast):
    _thresholds(cast, link_at=0.999999999999, review_at=0.5)
    police = identity_create(actor=cast.police_officer, **HER)
    gp = identity_create(actor=cast.gp, **{**HER, "phone": "", "nhs_number": ""})
    assert gp.person_id != police.person_id
    a, b = pair(police.id, gp.id)
    item = ReviewItem.objects.get(identity_a_id=a, identity_b_id=b)
    assert 0.5 <= item.match_probability < 0.999999999999
    assert {c["comparison"] for c in item.contributions} >= {"family_name", "nhs_number"}
    assert item.model_version == CURRENT_VERSION


def test_below_the_lower_threshold_she_is_a_person_of_her_own(cast):
    identity_create(actor=cast.police_officer, **HER)
    other = identity_create(
        actor=cast.gp,
        given_names="Zebedee",
        family_name="Examplewright",
        date_of_birth=date(1950, 1, 1),
        gender="male",
    )
    assert not ReviewItem.objects.exists()
    assert Identity.objects.filter(person_id=other.person_id).count() == 1


def test_different_people_are_never_linked_again_even_when_a_change_makes_them_alike(cast):
    _thresholds(cast, link_at=0.999999999999)
    police = identity_create(actor=cast.police_officer, **HER)
    gp = identity_create(actor=cast.gp, **{**HER, "phone": "", "nhs_number": ""})
    a, b = pair(police.id, gp.id)
    PairJudgement.objects.create(
        partnership=cast.testshire, identity_a_id=a, identity_b_id=b, verdict="different"
    )
    ReviewItem.objects.filter(identity_a_id=a).update(status="different")
    _thresholds(cast, link_at=0.999)
    gp = identity_update(actor=cast.gp, identity_id=gp.id, phone=HER["phone"])
    assert gp.person_id != police.person_id
    assert ReviewItem.objects.get(identity_a_id=a, identity_b_id=b).status == "different"


def test_a_change_to_an_identity_is_matched_again(cast):
    _thresholds(cast, link_at=0.999, review_at=0.998)
    police = identity_create(actor=cast.police_officer, **HER)
    gp = identity_create(actor=cast.gp, given_names="M", family_name="Examplewright")
    assert gp.person_id != police.person_id
    gp = identity_update(
        actor=cast.gp,
        identity_id=gp.id,
        given_names="Morwenna",
        date_of_birth=HER["date_of_birth"],
        phone=HER["phone"],
        nhs_number=HER["nhs_number"],
    )
    assert gp.person_id == police.person_id


def test_a_confidential_address_never_reaches_the_matcher(cast):
    identity = identity_create(actor=cast.idva, **HER)
    address_add(
        actor=cast.idva,
        identity_id=identity.id,
        lines="Refuge, 1 Hidden Lane",
        postcode="ZZ9 9ZZ",
        confidential=True,
    )
    values = MatchFeatures.objects.get(identity=identity).values
    assert values["postcode"] is None and values["premise"] is None
    assert not TermCount.objects.filter(column="postcode", value="ZZ99ZZ").exists()


def test_term_counts_follow_changes(cast):
    one = identity_create(actor=cast.police_officer, **HER)
    identity_create(actor=cast.housing_officer, given_names="Ada", family_name="Otherby")
    counts = dict(TermCount.objects.filter(column="family").values_list("value", "count"))
    assert counts == {TOTAL: 2, "examplewright": 1, "otherby": 1}
    identity_update(actor=cast.police_officer, identity_id=one.id, family_name="Otherby")
    counts = dict(TermCount.objects.filter(column="family").values_list("value", "count"))
    assert counts == {TOTAL: 2, "examplewright": 0, "otherby": 2}


def test_bad_input_is_accepted_flagged_and_matched_without_crashing(cast):
    identity = identity_create(
        actor=cast.gp,
        given_names="",
        family_name="",
        nhs_number="9434765918",
        phone="12",
        email="not-an-email",
    )
    stored = MatchFeatures.objects.get(identity=identity)
    assert stored.has_problems
    assert set(stored.problems) >= {
        "no_name",
        "nhs_number_check_digit",
        "phone_malformed",
        "email_malformed",
    }
    assert match_identity(identity, actor=cast.gp).action == "new"


def test_a_shared_nhs_number_links_despite_a_different_given_name(cast):
    """An NHS number is personal: twins and a parent and child never share one."""
    police = identity_create(actor=cast.police_officer, **HER)
    gp = identity_create(actor=cast.gp, **{**HER, "given_names": "Wenna"})
    assert gp.person_id == police.person_id


def test_a_record_with_given_and_family_name_transposed_is_found(cast):
    """Only a crossed-name rule pairs these two: their names' keys, phones and NHS
    numbers differ, and neither has an address. Before those rules they were never
    compared at all."""
    police = identity_create(actor=cast.police_officer, **HER)
    swapped = {
        **HER,
        "given_names": HER["family_name"],
        "family_name": HER["given_names"],
        "phone": "",
        "nhs_number": "",
    }
    gp = identity_create(actor=cast.gp, **swapped)
    left, right = (MatchFeatures.objects.get(pk=i.pk).values for i in (police, gp))
    assert [rule.name for rule in BLOCKING_RULES if rule.holds(left, right)] == ["crossed_dob"]
    a, b = pair(police.id, gp.id)
    gp.refresh_from_db()
    assert (
        gp.person_id == police.person_id
        or ReviewItem.objects.filter(identity_a_id=a, identity_b_id=b).exists()
    )


def test_the_migration_adds_the_keys_a_crossed_rule_stores(cast):
    """Migration 0009 gives the identities that exist the crossed rules' keys, spelt
    out as the rules spelt them; after it, the transposed record is a candidate."""
    from importlib import import_module

    from django.apps import apps

    from accord.people.index.candidates import key_hash
    from accord.people.models import BlockKey

    migration = import_module("accord.people.migrations.0009_block_keys_for_crossed_names")
    police = identity_create(actor=cast.police_officer, **HER)
    features = MatchFeatures.objects.get(pk=police.pk).values
    crossed = [rule for rule in BLOCKING_RULES if rule.crossed]
    stored = {key_hash(cast.testshire.id, key) for rule in crossed for key in rule.keys(features)}
    assert migration.crossed_keys(cast.testshire.id, features) == stored
    assert {name for name, _ in migration.CROSSED} == {rule.name for rule in crossed}

    BlockKey.objects.filter(identity_id=police.id, key__in=stored).delete()  # as before 0009
    arriving = {**features, "given": features["family"], "family": features["given"]}
    arriving = {**arriving, "given_key": None, "family_key": None, "phone": None}
    arriving = {**arriving, "nhs_number": None}
    assert not candidates(cast.testshire.id, arriving)
    migration.add_keys(apps, None)
    assert [c.identity_id for c in candidates(cast.testshire.id, arriving)] == [police.id]


def _indexed(cast, user, **fields) -> Identity:
    """An identity already in the index as a person of its own (as the index holds
    people before any link), without matching it."""
    person = Person.objects.create(partnership=cast.testshire)
    identity = Identity.objects.create(
        partnership=cast.testshire, person=person, agency=user.agency, recorded_by=user, **fields
    )
    refresh(identity)
    return identity


def _arriving(cast, user, **fields) -> Identity:
    person = Person.objects.create(partnership=cast.testshire)
    return Identity.objects.create(
        partnership=cast.testshire, person=person, agency=user.agency, recorded_by=user, **fields
    )


def test_one_arrival_links_to_one_person_and_queues_the_others_for_review(cast):
    _thresholds(cast, link_at=0.999, review_at=0.5)
    same = _indexed(cast, cast.police_officer, **HER)
    alike = [
        _indexed(cast, user, **{**HER, "nhs_number": "", "phone": ""})
        for user in (cast.housing_officer, cast.idva)
    ]
    arriving = _arriving(cast, cast.gp, **{**HER, "given_names": "Morwena"})
    outcome = match_identity(arriving, actor=cast.gp)
    assert outcome.action == "linked"
    assert outcome.person_id == same.person_id
    assert Identity.objects.get(pk=arriving.id).person_id == same.person_id
    queued = {pair(arriving.id, other.id) for other in alike}
    assert set(outcome.reviews) == queued
    items = ReviewItem.objects.filter(status="open")
    assert {(i.identity_a_id, i.identity_b_id) for i in items} == queued


def test_a_pair_matched_again_rescores_its_open_or_escalated_item_and_leaves_a_decided_one(
    cast,
):
    _thresholds(cast, link_at=0.999999999999, review_at=0.5)
    police = identity_create(actor=cast.police_officer, **HER)
    gp = identity_create(actor=cast.gp, **{**HER, "phone": "", "nhs_number": ""})
    key = pair(police.id, gp.id)
    item = ReviewItem.objects.get(identity_a_id=key[0], identity_b_id=key[1])
    before = item.match_weight
    ReviewItem.objects.filter(pk=item.pk).update(status="not_sure")
    identity_update(actor=cast.gp, identity_id=gp.id, phone=HER["phone"])
    item = ReviewItem.objects.get(identity_a_id=key[0], identity_b_id=key[1])
    assert item.status == "not_sure" and item.match_weight > before
    assert ReviewItem.objects.count() == 1

    ReviewItem.objects.filter(pk=item.pk).update(status="withdrawn")
    outcome = match_identity(Identity.objects.get(pk=gp.id), actor=cast.gp)
    assert outcome.action == "new" and outcome.reviews == []
    assert ReviewItem.objects.get(pk=item.pk).status == "withdrawn"


def test_a_change_that_makes_a_waiting_pair_unlike_lapses_it_and_one_back_reopens_it(cast):
    _thresholds(cast, link_at=0.999999999999, review_at=0.5)
    police = identity_create(actor=cast.police_officer, **HER)
    gp = identity_create(actor=cast.gp, **{**HER, "phone": "", "nhs_number": ""})
    key = pair(police.id, gp.id)
    item = ReviewItem.objects.get(identity_a_id=key[0], identity_b_id=key[1])
    queued_at = item.match_probability

    # The GP corrects her record: another woman altogether.
    unlike = dict(given_names="Zebedee", family_name="Otherfield", date_of_birth=date(1950, 1, 1))
    identity_update(actor=cast.gp, identity_id=gp.id, **unlike)
    item.refresh_from_db()
    assert item.status == ReviewStatus.LAPSED
    assert item.match_probability == queued_at  # as it was when it last waited

    # Corrected back, and her phone added: the same item waits again, scored as the
    # records are now.
    back = {k: HER[k] for k in (*unlike, "phone")}
    identity_update(actor=cast.gp, identity_id=gp.id, **back)
    item.refresh_from_db()
    assert item.status == ReviewStatus.OPEN
    assert item.match_probability > queued_at
    assert ReviewItem.objects.count() == 1


def test_nothing_lapses_when_nothing_the_matcher_compares_changed(cast):
    """Her local reference edited, with the review threshold since raised above the
    pair: the pair is not compared anew, so it stays; a change the matcher compares
    (gender) lapses it."""
    _thresholds(cast, link_at=0.999999999999, review_at=0.5)
    identity_create(actor=cast.police_officer, **HER)
    gp = identity_create(actor=cast.gp, **{**HER, "phone": "", "nhs_number": ""})
    item = ReviewItem.objects.get()
    review_at = (1 + item.match_probability) / 2
    _thresholds(cast, link_at=(1 + review_at) / 2, review_at=review_at)
    identity_update(actor=cast.gp, identity_id=gp.id, local_id="GP-0042")
    assert ReviewItem.objects.get().status == ReviewStatus.OPEN
    identity_update(actor=cast.gp, identity_id=gp.id, gender="not_known")
    assert ReviewItem.objects.get().status == ReviewStatus.LAPSED


def test_an_address_only_leaving_what_is_compared_lapses_nothing():
    from accord.people.index.online import _may_lapse

    before = {
        "given": "ada",
        "postcode": "ZZ14XA",
        "postcode_sector": "ZZ14",
        "postcode_district": "ZZ1",
        "premise": "h1",
        "dob": "1990-02-03",
    }
    gone = {
        **before,
        "postcode": None,
        "postcode_sector": None,
        "postcode_district": None,
        "premise": None,
    }
    assert not _may_lapse(before, before)
    assert not _may_lapse(before, gone)  # a confidential address, say
    assert _may_lapse(before, {**before, "postcode": "ZZ99XZ"})  # moved, not hidden
    assert _may_lapse(before, {**gone, "dob": "1990-03-02"})
    assert _may_lapse(gone, before)


def test_the_address_features_are_exactly_what_an_address_gives():
    from accord.people.index.features import derive
    from accord.people.index.online import ADDRESS_FEATURES

    person = {"given_names": "Ada", "family_name": "Otherby", "date_of_birth": date(1990, 2, 3)}
    housed = {**person, "address_line": "3 Example Row", "postcode": "ZZ1 4XA"}
    (without, _), (with_address, _) = (derive(raw, premise_secret=b"k") for raw in (person, housed))
    assert {c for c in with_address if with_address[c] != without[c]} == ADDRESS_FEATURES


def test_a_change_leaves_an_escalated_pair_and_other_identities_items_alone(cast):
    _thresholds(cast, link_at=0.999999999999, review_at=0.5)
    police = identity_create(actor=cast.police_officer, **HER)
    gp = identity_create(actor=cast.gp, **{**HER, "phone": "", "nhs_number": ""})
    housing = identity_create(actor=cast.housing_officer, **{**HER, "phone": "", "nhs_number": ""})
    items = {frozenset(pair(i.identity_a_id, i.identity_b_id)): i for i in ReviewItem.objects.all()}
    escalated = items[frozenset(pair(police.id, gp.id))]
    ReviewItem.objects.filter(pk=escalated.pk).update(status=ReviewStatus.NOT_SURE)
    unlike = dict(given_names="Zebedee", family_name="Otherfield", date_of_birth=date(1950, 1, 1))
    identity_update(actor=cast.gp, identity_id=gp.id, **unlike)
    statuses = dict(ReviewItem.objects.values_list("id", "status"))
    assert statuses[escalated.pk] == ReviewStatus.NOT_SURE
    for members, item in items.items():
        if gp.id in members and item.pk != escalated.pk:
            assert statuses[item.pk] == ReviewStatus.LAPSED
        elif item.pk != escalated.pk:  # police and housing: neither changed
            assert statuses[item.pk] == ReviewStatus.OPEN
    assert any(housing.id in members and gp.id not in members for members in items)


def test_a_new_identity_lapses_nothing_and_costs_no_statement_for_it(cast):
    _thresholds(cast, link_at=0.999999999999, review_at=0.5)
    identity_create(actor=cast.police_officer, **HER)
    with CaptureQueriesContext(connection) as new:
        identity_create(actor=cast.gp, **{**HER, "phone": "", "nhs_number": ""})
    assert not [q for q in new.captured_queries if 'UPDATE "people_reviewitem"' in q["sql"]]
    assert ReviewItem.objects.get().status == ReviewStatus.OPEN


def test_deciding_an_arrival_takes_as_many_statements_for_one_candidate_as_for_three(cast):
    """The persons in play are read once, and every review item written at once."""
    _thresholds(cast, link_at=0.999999999999, review_at=0.5)
    users = (cast.police_officer, cast.housing_officer, cast.idva)
    statements = []
    for family, others in (("Examplewright", 1), ("Otherwright", 3)):
        fields = {**HER, "family_name": family, "nhs_number": "", "phone": ""}
        for user in users[:others]:
            _indexed(cast, user, **fields)
        arriving = _arriving(cast, cast.gp, **fields)
        with CaptureQueriesContext(connection) as captured:
            outcome = match_identity(arriving, actor=cast.gp)
        assert outcome.action == "review" and len(outcome.reviews) == others
        statements.append(len(captured))
    assert statements[0] == statements[1]


def test_an_identity_committed_alongside_is_matched_again_after_commit(
    cast, django_capture_on_commit_callbacks
):
    """The police's match could not see the GP's identity of the same woman, committed
    by another transaction at the same moment; after the police's commit the check
    finds it and she is matched again, as the police officer."""
    police = _arriving(cast, cast.police_officer, **HER)
    with django_capture_on_commit_callbacks() as after_commit:
        assert match_identity(police, actor=cast.police_officer).action == "new"
    gp = _indexed(cast, cast.gp, **{**HER, "given_names": "Morwena"})  # the other commit
    assert Identity.objects.get(pk=police.id).person_id != gp.person_id
    for callback in after_commit:
        callback()
    assert Identity.objects.get(pk=police.id).person_id == gp.person_id
    merge = Merge.objects.get()
    assert merge.automatic and merge.merged_by == cast.police_officer


def test_with_nothing_committed_alongside_the_check_after_commit_changes_nothing(
    cast, django_capture_on_commit_callbacks
):
    same = _indexed(cast, cast.police_officer, **HER)
    arriving = _arriving(cast, cast.gp, **{**HER, "given_names": "Morwena"})
    with django_capture_on_commit_callbacks() as after_commit:
        assert match_identity(arriving, actor=cast.gp).action == "linked"
    stored = MatchFeatures.objects.get(identity=arriving)
    for callback in after_commit:  # the check, and the audit log's sealing
        callback()
    # Not matched again: a second match would have stored her features afresh.
    assert MatchFeatures.objects.get(identity=arriving).updated_at == stored.updated_at
    assert Identity.objects.get(pk=arriving.id).person_id == same.person_id


# --- Why a pair went to review instead of being joined ----------------------------------


def _item(one: Identity, other: Identity) -> ReviewItem:
    a, b = pair(one.id, other.id)
    return ReviewItem.objects.get(identity_a_id=a, identity_b_id=b)


def test_a_review_item_says_it_was_under_the_link_threshold(cast):
    _thresholds(cast, link_at=0.999999999999, review_at=0.5)
    police = identity_create(actor=cast.police_officer, **HER)
    gp = identity_create(actor=cast.gp, **{**HER, "phone": "", "nhs_number": ""})
    assert _item(police, gp).not_linked_because == NotLinkedBecause.BELOW


def test_twins_above_the_link_threshold_are_held_as_a_pair_the_safeguard_refuses(cast):
    _thresholds(cast, link_at=0.6, review_at=0.5)
    one = identity_create(actor=cast.police_officer, **{**HER, "nhs_number": ""})
    other = identity_create(actor=cast.gp, **{**HER, "nhs_number": "", "given_names": "Demelza"})
    assert one.person_id != other.person_id
    item = _item(one, other)
    assert item.match_probability >= 0.6
    assert item.not_linked_because == NotLinkedBecause.PAIR


def test_a_pair_that_would_chain_a_family_is_held_for_the_household(cast):
    """Her daughter's record was joined to her person by a shared NHS number (an agency's
    mistake); the daughter's own record then matches that one, not her."""
    _thresholds(cast, link_at=0.6, review_at=0.5)
    mother = _indexed(cast, cast.police_officer, **HER)
    daughter = {**HER, "given_names": "Tamsin", "date_of_birth": date(2012, 2, 3)}
    mislinked = Identity.objects.create(
        partnership=cast.testshire,
        person=mother.person,
        agency=cast.housing_officer.agency,
        recorded_by=cast.housing_officer,
        **daughter,
    )
    refresh(mislinked)
    arriving = _arriving(cast, cast.gp, **{**daughter, "nhs_number": ""})
    outcome = match_identity(arriving, actor=cast.gp)
    assert outcome.action == "review"
    assert Identity.objects.get(pk=arriving.id).person_id != mother.person_id
    item = _item(arriving, mislinked)
    assert item.match_probability >= 0.6
    assert item.not_linked_because == NotLinkedBecause.HOUSEHOLD


@pytest.mark.parametrize(
    ("second", "because"),
    [
        # Alike but for the phone and NHS number: held only because the arrival linked.
        ({"nhs_number": "", "phone": ""}, NotLinkedBecause.ANOTHER_LINK),
        # Her twin sister: named as failing the safeguard, not as "joined another person".
        ({"nhs_number": "", "given_names": "Demelza"}, NotLinkedBecause.PAIR),
    ],
)
def test_a_second_person_above_the_link_threshold_once_the_arrival_has_linked(
    cast, second, because
):
    _thresholds(cast, link_at=0.6, review_at=0.5)
    same = _indexed(cast, cast.police_officer, **HER)
    other = _indexed(cast, cast.housing_officer, **{**HER, **second})
    arriving = _arriving(cast, cast.gp, **{**HER, "given_names": "Morwena"})
    outcome = match_identity(arriving, actor=cast.gp)
    assert outcome.action == "linked" and outcome.person_id == same.person_id
    item = _item(arriving, other)
    assert item.match_probability >= 0.6
    assert item.not_linked_because == because


def test_rescoring_an_open_item_records_why_anew(cast):
    _thresholds(cast, link_at=0.999999999999, review_at=0.5)
    one = identity_create(actor=cast.police_officer, **{**HER, "nhs_number": ""})
    other = identity_create(actor=cast.gp, **{**HER, "nhs_number": "", "given_names": "Demelza"})
    assert _item(one, other).not_linked_because == NotLinkedBecause.BELOW
    _thresholds(cast, link_at=0.6, review_at=0.5)
    match_identity(Identity.objects.get(pk=other.id), actor=cast.gp)
    item = _item(one, other)
    assert item.not_linked_because == NotLinkedBecause.PAIR
    assert ReviewItem.objects.count() == 1


def test_a_merge_refused_because_both_are_on_one_agenda_is_held_for_review(cast):
    from tests.people.index.test_merge import _meeting, _refer

    _thresholds(cast, link_at=0.999, review_at=0.5)
    police = _indexed(cast, cast.police_officer, **HER)
    arriving = _arriving(cast, cast.gp, **{**HER, "given_names": "Morwena"})
    meeting = _meeting(cast, "Northgate MARAC")
    _refer(cast.police_officer, police.person_id, meeting)
    _refer(cast.gp, arriving.person_id, meeting)
    outcome = match_identity(arriving, actor=cast.gp)
    assert outcome.action == "review"
    assert not Merge.objects.exists()
    assert _item(police, arriving).not_linked_because == NotLinkedBecause.MERGE_REFUSED


def _held_above_the_link_threshold(one: Identity, other: Identity, because: str) -> None:
    """The pair scored at or above the tests' link threshold (0.6) and was queued."""
    item = _item(one, other)
    assert item.match_probability >= 0.6
    assert item.not_linked_because == because


NAMESAKES = dict(
    given_names="Morwenna",
    family_name="Examplewright",
    gender="female",
    phone="07700 900461",
)


def test_a_record_without_a_date_as_like_a_mother_as_her_namesake_daughter_joins_neither(cast):
    _thresholds(cast, link_at=0.6, review_at=0.5)
    mother = _indexed(cast, cast.police_officer, **NAMESAKES, date_of_birth=date(1971, 3, 2))
    daughter = _indexed(cast, cast.social_worker, **NAMESAKES, date_of_birth=date(1998, 5, 6))
    arriving = _arriving(cast, cast.gp, **NAMESAKES)
    outcome = match_identity(arriving, actor=cast.gp)
    assert outcome.action == "review"
    assert not Merge.objects.exists()
    for other in (mother, daughter):
        item = _item(arriving, other)
        assert item.match_probability >= 0.6
        assert item.not_linked_because == NotLinkedBecause.AMBIGUOUS


def test_a_record_without_a_date_joins_the_one_namesake_there_is(cast):
    _thresholds(cast, link_at=0.6, review_at=0.5)
    mother = _indexed(cast, cast.police_officer, **NAMESAKES, date_of_birth=date(1971, 3, 2))
    arriving = _arriving(cast, cast.gp, **NAMESAKES)
    assert match_identity(arriving, actor=cast.gp).action == "linked"
    assert Identity.objects.get(pk=arriving.id).person_id == mother.person_id


def test_a_daughter_arriving_does_not_join_a_record_without_a_date_as_like_her_mother(cast):
    """The record without a date of birth is the one lacking it: what makes the pair a
    guess is its likeness to her mother, which only scoring it against her mother shows."""
    _thresholds(cast, link_at=0.6, review_at=0.5)
    mother = _indexed(cast, cast.police_officer, **NAMESAKES, date_of_birth=date(1971, 3, 2))
    undated = _indexed(cast, cast.housing_officer, **NAMESAKES)
    arriving = _arriving(cast, cast.social_worker, **NAMESAKES, date_of_birth=date(1998, 5, 6))
    outcome = match_identity(arriving, actor=cast.social_worker)
    assert outcome.action == "review"
    assert Identity.objects.get(pk=arriving.id).person_id not in (
        mother.person_id,
        undated.person_id,
    )
    assert _item(arriving, undated).not_linked_because == NotLinkedBecause.AMBIGUOUS
    assert _item(arriving, mother).not_linked_because == NotLinkedBecause.PAIR


def test_a_record_without_a_date_is_known_as_like_her_mother_beyond_her_own_candidates(cast):
    """The daughter and her mother share no phone, address or date, so blocking never
    pairs them: only the undated record's own candidates show it is as like the mother
    (by the email they share) as the daughter (by the phone)."""
    _thresholds(cast, link_at=0.6, review_at=0.5)
    names = {k: v for k, v in NAMESAKES.items() if k != "phone"}
    mother = _indexed(
        cast,
        cast.police_officer,
        **names,
        date_of_birth=date(1971, 3, 2),
        phone="07700 900777",
        email="dawn.example@example.org",
    )
    undated = _indexed(
        cast, cast.housing_officer, **names, phone="07700 900461", email="dawn.example@example.org"
    )
    arriving = _arriving(
        cast, cast.social_worker, **names, date_of_birth=date(1998, 5, 6), phone="07700 900461"
    )
    outcome = match_identity(arriving, actor=cast.social_worker)

    def found(identity):
        features = MatchFeatures.objects.get(pk=identity.pk).values
        return {c.identity_id for c in candidates(cast.testshire.id, features, exclude=identity.id)}

    assert found(arriving) == {undated.id}
    assert found(undated) == {mother.id, arriving.id}
    assert outcome.action == "review"
    assert Identity.objects.get(pk=arriving.id).person_id != undated.person_id
    _held_above_the_link_threshold(arriving, undated, NotLinkedBecause.AMBIGUOUS)


def test_a_record_without_a_date_already_with_the_mother_is_torn_by_her_own_person(cast):
    """Joined to the mother earlier, and matched again: the mother is not a candidate
    (same person), yet she and the daughter make the record a guess, so it is joined
    to no other undated namesake either, as a batch would decide."""
    _thresholds(cast, link_at=0.6, review_at=0.5)
    mother = _indexed(cast, cast.police_officer, **NAMESAKES, date_of_birth=date(1971, 3, 2))
    undated = Identity.objects.create(
        partnership=cast.testshire,
        person=mother.person,
        agency=cast.gp.agency,
        recorded_by=cast.gp,
        **NAMESAKES,
        email="m.examplewright@example.org",
    )
    refresh(undated)
    _indexed(cast, cast.social_worker, **NAMESAKES, date_of_birth=date(1998, 5, 6))
    # Another undated record sharing only the email with it: nothing of its own pairs
    # it with the mother or the daughter, so only its partner's person shows the guess.
    names = {k: v for k, v in NAMESAKES.items() if k != "phone"}
    other_undated = _indexed(
        cast, cast.housing_officer, **names, email="m.examplewright@example.org"
    )
    outcome = match_identity(undated, actor=cast.gp)
    assert outcome.action == "review"
    assert Identity.objects.get(pk=other_undated.id).person_id != mother.person_id
    _held_above_the_link_threshold(undated, other_undated, NotLinkedBecause.AMBIGUOUS)


def test_a_record_without_a_date_and_another_nhs_number_is_not_joined(cast):
    _thresholds(cast, link_at=0.6, review_at=0.5)
    mother = _indexed(
        cast,
        cast.police_officer,
        **NAMESAKES,
        date_of_birth=date(1971, 3, 2),
        nhs_number="9434765919",
    )
    arriving = _arriving(cast, cast.gp, **NAMESAKES, nhs_number="4010232137")
    assert match_identity(arriving, actor=cast.gp).action == "review"
    item = _item(arriving, mother)
    assert item.match_probability >= 0.6
    assert item.not_linked_because == NotLinkedBecause.IDENTIFIERS


def test_a_pair_whose_given_names_and_dates_both_differ_is_queued_apart(cast):
    """A mother and her son share a family name, an address and a phone: the score
    counts each as evidence of one person, and the pair is queued above the link
    threshold, marked as how a household looks. Twins are not so marked."""
    _thresholds(cast, link_at=0.6, review_at=0.5)
    mother = identity_create(actor=cast.police_officer, **{**HER, "nhs_number": ""})
    son = identity_create(
        actor=cast.gp,
        **{**HER, "given_names": "Jory", "date_of_birth": date(2014, 9, 1), "nhs_number": ""},
    )
    twin = identity_create(
        actor=cast.social_worker, **{**HER, "given_names": "Demelza", "nhs_number": ""}
    )
    item = _item(mother, son)
    assert item.match_probability >= 0.6 and item.names_and_dates_differ
    assert not _item(mother, twin).names_and_dates_differ


def test_the_migration_marks_the_waiting_pairs_whose_names_and_dates_differ(cast):
    from importlib import import_module

    from django.apps import apps

    _thresholds(cast, link_at=0.6, review_at=0.5)
    mother = identity_create(actor=cast.police_officer, **{**HER, "nhs_number": ""})
    son = identity_create(
        actor=cast.gp,
        **{**HER, "given_names": "Jory", "date_of_birth": date(2014, 9, 1), "nhs_number": ""},
    )
    twin = identity_create(
        actor=cast.social_worker, **{**HER, "given_names": "Demelza", "nhs_number": ""}
    )
    ReviewItem.objects.update(names_and_dates_differ=False)
    migration = import_module("accord.people.migrations.0012_review_names_and_dates_differ")
    migration.backfill(apps, None)
    assert _item(mother, son).names_and_dates_differ
    assert not _item(mother, twin).names_and_dates_differ


def test_a_large_household_does_not_crowd_her_own_record_out_of_the_persons_decided(cast):
    """Five of her household score higher with her than her own older record does (they
    share her address and phone; it has neither), yet only her record may link."""
    from accord.people.index.model import load_model
    from accord.people.index.online import REVIEW_PERSONS_AT_MOST
    from accord.people.index.scorer import score

    _thresholds(cast, link_at=0.98, review_at=0.5)
    home = dict(family_name="Examplewright", phone="07700 900461", gender="female")
    address = dict(lines="3 Example Row", postcode="ZZ1 4XA", is_current=True)
    household = []
    for name, born in (
        ("Demelza", date(1966, 1, 2)),
        ("Jory", date(2009, 3, 4)),
        ("Tamsin", date(2011, 5, 6)),
        ("Kerensa", date(2013, 7, 8)),
        ("Lowenna", date(2016, 9, 10)),
    ):
        member = _arriving(cast, cast.housing_officer, **home, given_names=name, date_of_birth=born)
        _address(member, cast.housing_officer, **address)
        refresh(member)
        household.append(member)
    assert len(household) == REVIEW_PERSONS_AT_MOST
    own = _indexed(
        cast,
        cast.police_officer,
        given_names="Morwenna",
        family_name="Examplewright",
        date_of_birth=date(1991, 6, 14),
    )
    arriving = _arriving(
        cast, cast.gp, **home, given_names="Morwenna", date_of_birth=date(1991, 6, 14)
    )
    _address(arriving, cast.gp, **address)
    outcome = match_identity(arriving, actor=cast.gp)

    def weight(other):
        left, right = (MatchFeatures.objects.get(pk=i.pk).values for i in (arriving, other))
        return score(load_model(), left, right, lambda column, value: None).match_weight

    assert min(weight(member) for member in household) > weight(own)
    assert outcome.action == "linked" and outcome.person_id == own.person_id


def _address(identity: Identity, user, **fields) -> None:
    """A current address, without the service (which would match her at once)."""
    Address.objects.create(
        partnership=identity.partnership,
        identity=identity,
        person=identity.person,
        agency=user.agency,
        recorded_by=user,
        **fields,
    )


def test_a_merge_decided_on_persons_since_changed_is_left_to_a_person(cast):
    """The decision reads the persons first and merges after. Where, in between, a merge
    put into her match's person a record that conflicts with hers (her namesake mother),
    the automatic merge checks again, is refused, and the pair goes to review as a
    household pair; where the record she matched has left that person, it is refused
    too. (All writers take the index lock first, so in the index itself this happens
    only to a caller that read the persons before taking it.)"""
    from accord.people.index.merge import persons_merge
    from accord.people.index.model import load_model
    from accord.people.index.online import _Around, _decide
    from accord.people.index.scorer import Score

    _thresholds(cast, link_at=0.999999999999)
    shared = {"phone": "07700 900461", "email": "morwenna.e@example.org"}
    undated = identity_create(
        actor=cast.idva, given_names="Morwenna", family_name="Examplewright", **shared
    )
    mother = identity_create(
        actor=cast.police_officer,
        given_names="Morwenna",
        date_of_birth=date(1971, 6, 14),
        **shared,
    )
    daughter = identity_create(
        actor=cast.gp,
        given_names="Morwenna",
        family_name="Examplewright",
        date_of_birth=date(2003, 2, 3),
        **shared,
    )
    assert len({undated.person_id, mother.person_id, daughter.person_id}) == 3
    limits = IndexSettings.objects.get(partnership=cast.testshire)
    limits.link_at = 0.9
    model = load_model(CURRENT_VERSION)
    sure = Score(match_weight=20.0, match_probability=0.999999, contributions=(), positions=())

    def decide(around):
        return _decide(
            around,
            daughter.id,
            undated.id,
            sure,
            model=model,
            limits=limits,
            actor=cast.gp,
            may_link=True,
        )

    before = _Around.read({daughter.id, undated.id})
    persons_merge(
        actor=cast.police_spoc,
        survivor_id=undated.person_id,
        merged_id=mother.person_id,
        reason="Same woman: the date of birth was missing from one record.",
    )
    assert decide(before) == ("review", NotLinkedBecause.HOUSEHOLD)
    daughter.refresh_from_db()
    assert daughter.person_id != undated.person_id
    assert Merge.objects.count() == 1

    # Read afresh, the decision itself sees the mother.
    assert decide(_Around.read({daughter.id, undated.id})) == (
        "review",
        NotLinkedBecause.HOUSEHOLD,
    )
