"""The review queue's services and selectors.

The world (tests/sharing/world.py) holds one fictional victim-survivor known to every
Testshire agency; `build_review_pair` adds a second record of someone like her, held by
the DA service as a person of its own, paired in the queue with Testshire Police's
identity of her. Bea Spoc (police SPOC) and Jo Coordinator (MARAC coordinator at the DA
service) each review from their own agency's side.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.exceptions import ValidationError

from accord.core.errors import NotAllowed, NotFound
from accord.people.index import review
from accord.people.index.merge import persons_merge
from accord.people.index.online import pair
from accord.people.models import (
    Identity,
    IndexSettings,
    Merge,
    PairJudgement,
    ReviewItem,
    ReviewStatus,
)
from accord.people.services import address_add, identity_create
from tests.conftest import audit_rows
from tests.sharing.world import REVIEW_CONTRIBUTIONS, build_review_pair

pytestmark = pytest.mark.django_db

REASON = "Different dates of birth and no shared identifier."


@pytest.fixture
def pair_(cast, world):
    return build_review_pair(cast, world)


def _item(pair_) -> ReviewItem:
    return ReviewItem.objects.get(pk=pair_.item.pk)


def _text(view) -> str:
    """Everything a view-model would put on the page, as one string."""
    return repr(view)


# --- Deciding ---------------------------------------------------------------------------


def test_same_person_merges_into_the_reviewers_own_person_and_is_remembered(cast, world, pair_):
    decided = review.review_decide(
        actor=cast.police_spoc, item_id=pair_.item.id, verdict="same", reason=REASON
    )
    item = _item(pair_)
    assert item.status == ReviewStatus.SAME
    assert item.decided_by == cast.police_spoc and item.decided_at is not None
    assert item.reason == REASON
    merge = Merge.objects.get()
    assert decided.merge == merge
    assert (merge.survivor_id, merge.merged_id) == (world.person_id, pair_.dup_person_id)
    assert merge.review_id == item.id and not merge.automatic
    assert Identity.objects.get(pk=pair_.dup.pk).person_id == world.person_id
    [judgement] = PairJudgement.objects.all()
    assert judgement.verdict == "same" and judgement.decided_by == cast.police_spoc
    assert {judgement.identity_a_id, judgement.identity_b_id} == {
        world.identities.police.id,
        pair_.dup.id,
    }
    events = audit_rows(actor_id=cast.police_spoc.id, object_type="review_item")
    assert {(e.action, e.person_id) for e in events} == {
        ("update", world.person_id),
        ("update", pair_.dup_person_id),
    }
    assert all(e.reason == "review decided: same person; reason given" for e in events)
    assert all(REASON not in e.reason for e in audit_rows(actor_id=cast.police_spoc.id))
    assert "merge" in events[0].changed_fields and "pair_judgement" in events[0].changed_fields


def test_the_other_agencys_reviewer_keeps_their_own_person(cast, world, pair_):
    review.review_decide(
        actor=cast.marac_coordinator, item_id=pair_.item.id, verdict="same", reason=REASON
    )
    merge = Merge.objects.get()
    assert (merge.survivor_id, merge.merged_id) == (pair_.dup_person_id, world.person_id)


def test_different_people_is_remembered_and_refuses_a_later_merge(cast, world, pair_):
    review.review_decide(
        actor=cast.police_spoc, item_id=pair_.item.id, verdict="different", reason=REASON
    )
    assert _item(pair_).status == ReviewStatus.DIFFERENT
    [judgement] = PairJudgement.objects.all()
    assert judgement.verdict == "different" and judgement.reason == REASON
    assert not Merge.objects.exists()
    with pytest.raises(ValidationError) as refused:
        persons_merge(
            actor=cast.police_spoc,
            survivor_id=world.person_id,
            merged_id=pair_.dup_person_id,
            reason="Same person after all.",
        )
    assert "merged" in refused.value.message_dict
    events = audit_rows(object_type="review_item")
    assert {e.person_id for e in events} == {world.person_id, pair_.dup_person_id}
    assert {e.reason for e in events} == {"review decided: different people; reason given"}


def test_not_sure_escalates_and_stays_in_both_agencies_queues(cast, world, pair_):
    review.review_decide(
        actor=cast.police_spoc, item_id=pair_.item.id, verdict="not_sure", reason=REASON
    )
    item = _item(pair_)
    assert item.status == ReviewStatus.NOT_SURE and item.decided_by == cast.police_spoc
    assert not PairJudgement.objects.exists() and not Merge.objects.exists()
    for reviewer in (cast.police_spoc, cast.marac_coordinator):
        for status in ("waiting", "escalated"):
            [entry] = review.review_queue(actor=reviewer, status=status).entries
            assert entry.item.id == item.id and entry.escalated
        assert review.review_queue(actor=reviewer, status="decided").entries == []
        assert review.review_count_waiting(actor=reviewer) == 1
    # Escalated once is enough; the other agency decides it.
    with pytest.raises(ValidationError) as again:
        review.review_decide(
            actor=cast.marac_coordinator, item_id=item.id, verdict="not_sure", reason=REASON
        )
    assert "verdict" in again.value.message_dict
    review.review_decide(
        actor=cast.marac_coordinator, item_id=item.id, verdict="different", reason=REASON
    )
    decided = _item(pair_)
    assert decided.decided_by == cast.marac_coordinator
    # The escalation is kept beside the decision; its reason, like any, only for its agency.
    assert decided.escalated_by == cast.police_spoc and decided.escalation_reason == REASON
    assert decided.escalated_at is not None and decided.escalated_at <= decided.decided_at
    mine = review.review_item_for(actor=cast.police_spoc, item_id=item.id)
    theirs = review.review_item_for(actor=cast.marac_coordinator, item_id=item.id)
    assert (mine.escalation_reason, mine.reason) == (REASON, "")
    assert (theirs.escalation_reason, theirs.reason) == ("", REASON)
    [entry] = review.review_queue(actor=cast.police_spoc, status="decided").entries
    assert entry.item.status == ReviewStatus.DIFFERENT
    assert [e.reason for e in audit_rows(object_type="review_item")] == [
        "review escalated: not sure; reason given",
        "review escalated: not sure; reason given",
        "review decided: different people; reason given",
        "review decided: different people; reason given",
    ]


@pytest.mark.parametrize(
    ("verdict", "reason", "field"),
    [("same", "", "reason"), ("different", "   ", "reason"), ("maybe", REASON, "verdict")],
)
def test_wrong_input_names_the_field_and_writes_nothing(cast, pair_, verdict, reason, field):
    with pytest.raises(ValidationError) as refused:
        review.review_decide(
            actor=cast.police_spoc, item_id=pair_.item.id, verdict=verdict, reason=reason
        )
    assert field in refused.value.message_dict
    item = _item(pair_)
    assert item.status == ReviewStatus.OPEN and item.decided_by is None
    assert not PairJudgement.objects.exists() and not Merge.objects.exists()
    assert audit_rows(object_type="review_item") == []


def test_a_decided_pair_cannot_be_decided_again(cast, pair_):
    review.review_decide(
        actor=cast.police_spoc, item_id=pair_.item.id, verdict="different", reason=REASON
    )
    with pytest.raises(ValidationError) as refused:
        review.review_decide(
            actor=cast.marac_coordinator, item_id=pair_.item.id, verdict="same", reason=REASON
        )
    assert "verdict" in refused.value.message_dict
    assert _item(pair_).status == ReviewStatus.DIFFERENT
    assert not Merge.objects.exists()


def test_a_merge_refused_rolls_back_the_judgement_too(cast, world, pair_):
    PairJudgement.objects.create(
        partnership=cast.testshire,
        identity_a_id=min(world.identities.gp.id, pair_.dup.id, key=str),
        identity_b_id=max(world.identities.gp.id, pair_.dup.id, key=str),
        verdict="different",
    )
    with pytest.raises(ValidationError) as refused:
        review.review_decide(
            actor=cast.marac_coordinator, item_id=pair_.item.id, verdict="same", reason=REASON
        )
    [said] = refused.value.message_dict["merged"]
    assert said.startswith("These were judged different people on ")
    # Bea Spoc may not see the DA service's record: why is about its person, not said.
    with pytest.raises(ValidationError) as refused:
        review.review_decide(
            actor=cast.police_spoc, item_id=pair_.item.id, verdict="same", reason=REASON
        )
    assert refused.value.message_dict == {"verdict": [review.MERGE_REFUSED_WITHHELD]}
    assert _item(pair_).status == ReviewStatus.OPEN
    assert PairJudgement.objects.count() == 1
    assert audit_rows(object_type="review_item") == []


def _other_pair(cast, world) -> ReviewItem:
    """A pair the GP and housing hold: neither the police nor the DA service."""
    gp = identity_create(actor=cast.gp, given_names="Ash", family_name="Madeup")
    homes = identity_create(actor=cast.housing_officer, given_names="Ash", family_name="Madeup")
    ReviewItem.objects.filter(identity_a__in=[gp, homes]).delete()
    ReviewItem.objects.filter(identity_b__in=[gp, homes]).delete()
    first, second = pair(gp.id, homes.id)
    return ReviewItem.objects.create(
        partnership=cast.testshire,
        identity_a_id=first,
        identity_b_id=second,
        match_probability=0.9,
        match_weight=3.2,
        contributions=REVIEW_CONTRIBUTIONS,
        model_version="test",
    )


def test_a_pair_the_reviewers_agency_holds_no_side_of_is_not_found(cast, world, pair_):
    other = _other_pair(cast, world)
    for reviewer in (cast.police_spoc, cast.marac_coordinator):
        with pytest.raises(NotFound):
            review.review_item_for(actor=reviewer, item_id=other.id)
        with pytest.raises(NotFound):
            review.review_decide(actor=reviewer, item_id=other.id, verdict="same", reason=REASON)
        assert [e.item.id for e in review.review_queue(actor=reviewer).entries] == [pair_.item.id]
    with pytest.raises(NotFound):
        review.review_item_for(actor=cast.police_spoc, item_id="not-a-uuid")
    assert ReviewItem.objects.get(pk=other.pk).status == ReviewStatus.OPEN


def test_only_reviewers_may_review(cast, pair_):
    for who in (cast.police_officer, cast.idva, cast.police_admin, cast.dpo):
        with pytest.raises(NotAllowed):
            review.review_queue(actor=who)
        with pytest.raises(NotAllowed):
            review.review_item_for(actor=who, item_id=pair_.item.id)
        with pytest.raises(NotAllowed):
            review.review_decide(actor=who, item_id=pair_.item.id, verdict="same", reason=REASON)
    assert _item(pair_).status == ReviewStatus.OPEN


# --- What each reviewer sees --------------------------------------------------------------


def _last_row() -> int:
    rows = audit_rows()
    return max((e.id for e in rows), default=0)


def _rows(actor, since: int, *people) -> Counter:
    """The audit rows the actor wrote about these people after row `since`."""
    return Counter(
        (e.action, e.object_type, e.object_id, e.basis)
        for e in audit_rows(actor_id=actor.id, id__gt=since)
        if e.person_id in people
    )


def test_a_side_the_policy_hides_shows_only_its_agency_and_the_flag_is_audited(cast, world, pair_):
    since = _last_row()
    view = review.review_item_for(actor=cast.police_spoc, item_id=pair_.item.id)
    police = view.a if view.a.identity_id == world.identities.police.id else view.b
    dup = view.b if police is view.a else view.a
    assert police.own and police.visible and police.basis == "owner"
    assert ("Name", "Rowan Fictitious") in [(d.label, d.value) for d in police.details]
    assert [a.lines for a in police.addresses] == ["1 Example Street\nTesttown"]
    assert police.problems == ("The NHS number fails its check digit.",)
    assert police.person_id == world.person_id
    assert dup.agency == cast.agency.da_service and not dup.visible and not dup.own
    assert (dup.details, dup.addresses, dup.person_id, dup.problems) == ((), (), None, ())
    text = _text(view)
    assert "Rowena" not in text and "Quiet Court" not in text and "0123" not in text
    assert "7 March 1991" not in text
    assert _rows(cast.police_spoc, since, world.person_id, pair_.dup_person_id) == Counter(
        {("deny", "agency", cast.agency.da_service.id, ""): 1}
    )
    [flag] = audit_rows(actor_id=cast.police_spoc.id, id__gt=since)
    assert flag.person_id == pair_.dup_person_id
    assert flag.reason == "information withheld: flag shown"


def test_the_other_agencys_confidential_address_is_never_in_the_view(cast, world, pair_):
    since = _last_row()
    view = review.review_item_for(actor=cast.marac_coordinator, item_id=pair_.item.id)
    police = view.a if view.a.identity_id == world.identities.police.id else view.b
    dup = view.b if police is view.a else view.a
    assert police.visible and police.basis == "consent" and not police.own
    assert [a.lines for a in police.addresses] == ["1 Example Street\nTesttown"]
    assert dup.own and dup.visible
    assert ("Date of birth", "7 March 1991") in [(d.label, d.value) for d in dup.details]
    assert [(a.withheld, a.lines, a.postcode) for a in dup.addresses] == [(True, "", "")]
    assert "Quiet Court" not in _text(view) and "TE8" not in _text(view)
    police_id = world.identities.police.id
    assert _rows(cast.marac_coordinator, since, world.person_id, pair_.dup_person_id) == Counter(
        {
            ("read", "identity", police_id, "consent"): 1,
            ("read", "address", world.home.id, "consent"): 1,
            ("deny", "address", pair_.quiet.id, ""): 1,
        }
    )


def test_a_confidential_address_shows_to_a_reviewer_named_for_it(cast, world, pair_):
    # A new address is the current one: the earlier refuge address is no longer shown.
    address_add(
        actor=cast.idva,
        identity_id=pair_.dup.id,
        lines="Room 3, 12 Safe Street\nTesttown",
        postcode="TE7 7SS",
        confidential=True,
        named_user_ids=[cast.marac_coordinator.id],
    )
    view = review.review_item_for(actor=cast.marac_coordinator, item_id=pair_.item.id)
    dup = view.a if view.a.identity_id == pair_.dup.id else view.b
    assert [(a.lines, a.postcode, a.confidential) for a in dup.addresses] == [
        ("Room 3, 12 Safe Street\nTesttown", "TE7 7SS", True)
    ]
    police_view = review.review_item_for(actor=cast.police_spoc, item_id=pair_.item.id)
    assert "Safe Street" not in _text(police_view)


def test_the_contributions_carry_titles_labels_weights_and_the_starting_weight(cast, pair_):
    # Jo Coordinator sees both records (the police's through consent).
    view = review.review_item_for(actor=cast.marac_coordinator, item_id=pair_.item.id)
    assert view.a.visible and view.b.visible and not view.comparisons_withheld
    assert [(c.title, c.label, c.weight) for c in view.contributions][:2] == [
        ("Family name", "Exact match", 9.6),
        (
            "Given name and date of birth",
            "Same or similar given name, different date of birth",
            -2.1,
        ),
    ]
    assert view.prior_weight == pytest.approx(1.4 - 7.5)
    assert view.waiting and not view.escalated and view.reason == ""


def test_where_a_side_is_hidden_nothing_its_comparison_found_is_shown(cast, pair_):
    """Bea Spoc may not see the DA service's record: "date of birth: exact match" would
    give her its date of birth, so no comparison is shown, only the probability."""
    ReviewItem.objects.filter(pk=pair_.item.pk).update(names_and_dates_differ=True)
    view = review.review_item_for(actor=cast.police_spoc, item_id=pair_.item.id)
    assert view.comparisons_withheld and not (view.a.visible and view.b.visible)
    assert (view.contributions, view.prior_weight, view.queued_probability) == ((), 0.0, None)
    assert view.match_probability == pair_.item.match_probability
    assert "Exact match" not in _text(view) and "date of birth" not in _text(view)
    [entry] = review.review_queue(actor=cast.police_spoc).entries
    assert entry.withheld
    [entry] = review.review_queue(actor=cast.marac_coordinator, status="differ").entries
    assert not entry.withheld


def test_where_a_compared_address_is_not_shared_no_comparison_is_shown(cast, world, pair_):
    """Jo Coordinator sees the police identity through consent; with the consent to its
    address ended, "postcode: exact match" would give her the address."""
    from django.utils import timezone

    from accord.sharing.models import AccessGrant

    ended = AccessGrant.objects.filter(
        person_id=world.person_id, holder_agency=cast.agency.police, category="address"
    ).update(ended_at=timezone.now())
    assert ended
    view = review.review_item_for(actor=cast.marac_coordinator, item_id=pair_.item.id)
    police = view.a if view.a.identity_id == world.identities.police.id else view.b
    assert police.visible and police.addresses_not_shared and police.addresses == ()
    assert view.comparisons_withheld and view.contributions == ()


def test_the_reason_shows_only_to_the_deciding_agency(cast, pair_):
    review.review_decide(
        actor=cast.police_spoc, item_id=pair_.item.id, verdict="not_sure", reason=REASON
    )
    assert review.review_item_for(actor=cast.police_spoc, item_id=pair_.item.id).reason == REASON
    other = review.review_item_for(actor=cast.marac_coordinator, item_id=pair_.item.id)
    assert other.reason == "" and other.escalated


def test_the_queue_names_a_side_only_where_the_policy_allows_and_audits_it(cast, world, pair_):
    since = _last_row()
    [entry] = review.review_queue(actor=cast.police_spoc).entries
    names = {side.agency.name: side.name for side in entry.sides}
    assert names == {"Testshire Police": "Rowan Fictitious", "Testshire DA Service": None}
    assert _rows(cast.police_spoc, since, world.person_id, pair_.dup_person_id) == Counter()
    [entry] = review.review_queue(actor=cast.marac_coordinator).entries
    names = {side.agency.name: side.name for side in entry.sides}
    assert names == {
        "Testshire Police": "Rowan Fictitious",
        "Testshire DA Service": "Rowena Fictitious",
    }
    assert _rows(cast.marac_coordinator, since, world.person_id, pair_.dup_person_id) == Counter(
        {("read", "identity", world.identities.police.id, "consent"): 1}
    )
    with pytest.raises(ValidationError):
        review.review_queue(actor=cast.police_spoc, status="everything")


def test_pairs_whose_given_names_and_dates_differ_wait_apart_unless_escalated(cast, pair_):
    """They would crowd the top of the queue (a household's shared fields make their
    score high), so the main view and its count leave them out; escalated, they are back.
    Only for a reviewer who sees both records: which view holds the pair would tell one
    who does not what the hidden record holds, so for Bea Spoc it waits with the rest."""
    ReviewItem.objects.filter(pk=pair_.item.pk).update(names_and_dates_differ=True)
    hidden_from = cast.police_spoc
    assert [e.item.id for e in review.review_queue(actor=hidden_from).entries] == [pair_.item.id]
    assert review.review_count_waiting(actor=hidden_from) == 1
    assert review.review_queue(actor=hidden_from, status="differ").entries == []
    reviewer = cast.marac_coordinator
    assert review.review_queue(actor=reviewer).entries == []
    assert review.review_count_waiting(actor=reviewer) == 0
    [entry] = review.review_queue(actor=reviewer, status="differ").entries
    assert entry.item.id == pair_.item.id
    review.review_decide(actor=reviewer, item_id=pair_.item.id, verdict="not_sure", reason=REASON)
    for status in ("waiting", "escalated"):
        assert [e.item.id for e in review.review_queue(actor=reviewer, status=status).entries] == [
            pair_.item.id
        ]
    assert review.review_queue(actor=reviewer, status="differ").entries == []
    assert review.review_count_waiting(actor=reviewer) == 1


# --- Data quality, thresholds -------------------------------------------------------------


def test_the_data_quality_list_holds_the_agencys_own_identities_only(cast, world, pair_):
    police = world.identities.police
    rows, page = review.data_quality_for(actor=cast.police_spoc)
    assert [(r.identity_id, [p.message for p in r.problems]) for r in rows] == [
        (police.id, ["The NHS number fails its check digit."])
    ]
    assert (rows[0].name, rows[0].person_id) == (police.full_name, police.person_id)
    assert page.paginator.count == 1
    # An agency admin may not view people: the record, not her name or her person.
    rows, _ = review.data_quality_for(actor=cast.police_admin)
    assert [r.identity_id for r in rows] == [police.id]
    assert (rows[0].name, rows[0].person_id) == (None, None)
    assert (rows[0].reference, rows[0].recorded_by) == ("", cast.police_officer.display_name)
    with pytest.raises(NotAllowed):
        review.data_quality_for(actor=cast.marac_coordinator)


def test_thresholds_are_checked_by_field_and_saved_with_an_audit_row(cast):
    for link_at, review_at, field in (
        (1.0, 0.5, "link_at"),
        (0.0, 0.5, "link_at"),
        (0.99, 0.0, "review_at"),
        (0.9, 0.95, "review_at"),
        (0.9, 0.9, "review_at"),
        (None, 0.5, "link_at"),
    ):
        with pytest.raises(ValidationError) as refused:
            review.index_settings_update(
                actor=cast.partnership_admin, link_at=link_at, review_at=review_at
            )
        assert field in refused.value.message_dict, (link_at, review_at)
    assert not IndexSettings.objects.exists()
    assert review.index_settings_for(actor=cast.dpo).link_at == 0.999
    saved = review.index_settings_update(actor=cast.dpo, link_at=0.995, review_at=0.6)
    assert (saved.link_at, saved.review_at, saved.updated_by) == (0.995, 0.6, cast.dpo)
    [event] = audit_rows(object_type="index_settings")
    assert event.action == "update" and event.changed_fields == ["link_at", "review_at"]
    with pytest.raises(NotAllowed):
        review.index_settings_update(actor=cast.police_spoc, link_at=0.99, review_at=0.5)
