"""The person index's pages: the review queue, one pair side by side and its decision,
undoing a merge from the person page, the data-quality list, and the thresholds with
the batch re-matches.

Each page is used by whom it is for and refused to others; the tests assert the page,
the database and the audit rows. The pair is `build_review_pair`'s (tests/sharing/world.py):
police's record of her and the DA service's record of someone like her.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accord.people.index import batch
from accord.people.index.merge import persons_merge
from accord.people.models import (
    Identity,
    IndexSettings,
    MatchRun,
    MatchRunStatus,
    Merge,
    NotLinkedBecause,
    PairJudgement,
    Person,
    ReviewItem,
    ReviewStatus,
)
from accord.people.services import identity_create, identity_update
from accord.web.index_views import (
    MINUS,
    NOT_LINKED,
    QUEUE_NOT_LINKED,
    percent,
    signed_weight,
)
from tests.conftest import audit_rows
from tests.people.index.test_review import _other_pair
from tests.sharing.world import build_review_pair
from tests.web.test_people_pages import _errors, _html, _person_url

HELD_BY_DA = "Held by Testshire DA Service; details not shared with you."
REASON = "Different dates of birth and no shared identifier."


@pytest.fixture
def pair_(cast, world):
    return build_review_pair(cast, world)


def _item_url(pair_) -> str:
    return reverse("web:index-review", args=[pair_.item.id])


def _decide_url(pair_) -> str:
    return reverse("web:index-review-decide", args=[pair_.item.id])


def _nav(page: str) -> str:
    return page.split('id="navigation"', 1)[1].split("</ul>", 1)[0]


# --- Who sees which page -----------------------------------------------------------------


def test_the_menu_offers_each_page_to_whom_it_is_for(cast, client_for):
    expected = {
        "police_spoc": {"Person index", "Data quality"},
        "marac_coordinator": {"Person index"},
        "police_admin": {"Data quality"},
        "partnership_admin": {"Person index settings"},
        "dpo": {"Person index settings"},
        "police_officer": set(),
        "idva": set(),
    }
    for who, links in expected.items():
        nav = _nav(_html(client_for(getattr(cast, who)).get(reverse("web:home"))))
        shown = {
            label for label in ("Person index settings", "Data quality") if f">{label}</a>" in nav
        }
        if ">Person index</a>" in nav:
            shown.add("Person index")
        assert shown == links, who


@pytest.mark.parametrize("who", ["police_officer", "idva", "police_admin", "dpo", "outsider"])
def test_the_review_pages_are_refused_to_everyone_but_reviewers(cast, pair_, client_for, who):
    client = client_for(getattr(cast, who))
    for url in (reverse("web:index-queue"), _item_url(pair_)):
        assert client.get(url).status_code == 403
    response = client.post(_decide_url(pair_), {"verdict": "same", "reason": REASON})
    assert response.status_code == 403
    assert ReviewItem.objects.get(pk=pair_.item.pk).status == ReviewStatus.OPEN


def test_a_pair_the_reviewers_agency_holds_no_side_of_is_not_found(cast, world, client_for):
    other = _other_pair(cast, world)
    client = client_for(cast.police_spoc)
    assert client.get(reverse("web:index-review", args=[other.id])).status_code == 404
    response = client.post(
        reverse("web:index-review-decide", args=[other.id]), {"verdict": "same", "reason": REASON}
    )
    assert response.status_code == 404
    assert ReviewItem.objects.get(pk=other.pk).status == ReviewStatus.OPEN


# --- The queue and one pair ---------------------------------------------------------------


def test_the_queue_lists_the_pair_with_its_agencies_and_names_only_where_allowed(
    cast, world, pair_, client_for
):
    page = _html(client_for(cast.police_spoc).get(reverse("web:index-queue")))
    assert "72.5%" in page and _item_url(pair_) in page
    assert "Testshire Police (your agency)" in page and "Testshire DA Service" in page
    assert "Rowan Fictitious" in page and "Rowena" not in page
    assert "Waiting for review" in page
    before = len(audit_rows(actor_id=cast.marac_coordinator.id, person_id=world.person_id))
    page = _html(client_for(cast.marac_coordinator).get(reverse("web:index-queue")))
    assert "Rowan Fictitious" in page and "Rowena Fictitious" in page
    [read] = audit_rows(actor_id=cast.marac_coordinator.id, person_id=world.person_id)[before:]
    assert (read.action, read.object_id, read.basis) == (
        "read",
        world.identities.police.id,
        "consent",
    )
    decided = _html(
        client_for(cast.police_spoc).get(reverse("web:index-queue") + "?status=decided")
    )
    assert "No pairs touching your agency have been decided or closed yet." in decided


def test_the_pair_page_shows_both_sides_as_the_policy_allows_with_the_weights(
    cast, world, pair_, client_for
):
    page = _html(client_for(cast.police_spoc).get(_item_url(pair_)))
    assert "Are these the same person?" in page
    assert "Rowan Fictitious" in page and "1 Example Street" in page
    assert HELD_BY_DA in page
    assert "Rowena" not in page and "Quiet Court" not in page and "7 March 1991" not in page
    assert "The NHS number fails its check digit." in page
    # What the comparison found would tell her what the hidden record holds.
    assert 'data-testid="comparisons-withheld"' in page
    assert 'data-testid="contributions"' not in page
    assert "Exact match" not in page and "Starting point" not in page
    assert "Testshire DA Service's reviewers see their own record" in page
    assert "72.5%" in page and 'name="verdict"' in page and "Not sure" in page
    assert _person_url(world) in page
    assert reverse("web:person", args=[pair_.dup_person_id]) not in page

    page = _html(client_for(cast.marac_coordinator).get(_item_url(pair_)))
    assert "Rowena Fictitious" in page and "7 March 1991" in page
    assert "Address withheld" in page and "Quiet Court" not in page
    assert "Rowan Fictitious" in page and "Shared with you by consent" in page
    assert "Held by" not in page
    assert "Each point doubles the odds" in page and "comparisons-withheld" not in page
    weights = ("Starting point", f"{MINUS}6.1", "Family name", "+9.6", f"{MINUS}2.1", "+1.4")
    for text in (*weights, "Exact match", "72.5%"):
        assert text in page, text


def test_the_pair_page_and_the_queue_say_why_the_matcher_did_not_join_them(cast, pair_, client_for):
    client = client_for(cast.marac_coordinator)  # sees both records
    hidden_from = client_for(cast.police_spoc)  # may not see the DA service's
    page = _html(client.get(_item_url(pair_)))
    assert 'data-testid="not-linked"' not in page  # not recorded for this item

    ReviewItem.objects.filter(pk=pair_.item.pk).update(not_linked_because=NotLinkedBecause.PAIR)
    page = _html(client.get(_item_url(pair_)))
    assert "Why it was not joined automatically</strong> (when the matcher queued it):" in page
    assert "It was above the partnership's threshold" in page
    assert "do not agree on given name and date of birth together" in page
    queue = _html(client.get(reverse("web:index-queue")))
    assert "Not joined: given name and date of birth differ" in queue
    # Why rests on the hidden record's fields: only that it was above the threshold.
    page = _html(hidden_from.get(_item_url(pair_)))
    assert "It was above the partnership's threshold" in page
    assert "why is not shown to you" in page and "given name and date of birth" not in page
    queue = _html(hidden_from.get(reverse("web:index-queue")))
    assert "Not joined: why is not shown to you" in queue and "Not joined: given" not in queue

    ReviewItem.objects.filter(pk=pair_.item.pk).update(not_linked_because=NotLinkedBecause.BELOW)
    for reviewer in (client, hidden_from):
        page = _html(reviewer.get(_item_url(pair_)))
        assert "It was under the partnership's threshold" in page and "Twins" not in page
        assert "Not joined" not in _html(reviewer.get(reverse("web:index-queue")))


def _police_pair(cast):
    """Two police records alike enough to be queued: the police reviewer sees both."""
    from tests.people.index.test_online import HER, _thresholds

    _thresholds(cast, link_at=0.999999999999, review_at=0.5)
    first = identity_create(actor=cast.police_officer, **HER)
    second = identity_create(actor=cast.police_officer, **{**HER, "phone": "", "nhs_number": ""})
    item = ReviewItem.objects.get(Q(identity_a=first) | Q(identity_b=first))
    return item, first, second


def test_a_pair_whose_records_changed_since_it_was_queued_is_scored_again_on_its_page(
    cast, client_for
):
    item, _, second = _police_pair(cast)
    client = client_for(cast.police_spoc)
    url = reverse("web:index-review", args=[item.id])
    page = _html(client.get(url))
    assert percent(item.match_probability) in page and "Scored again now" not in page

    # Another identity arriving moves the term frequencies, not the comparison: no note.
    identity_create(actor=cast.gp, given_names="Zebedee", family_name="Examplewright")
    assert "Scored again now" not in _html(client.get(url))

    # The second record loses its date of birth, and the item keeps the score it was
    # queued with (as an escalated item does where the change puts the pair under the
    # review threshold: it never lapses).
    identity_update(actor=cast.police_officer, identity_id=second.id, date_of_birth=None)
    ReviewItem.objects.filter(pk=item.pk).update(
        match_probability=item.match_probability,
        match_weight=item.match_weight,
        contributions=item.contributions,
        status=ReviewStatus.NOT_SURE,
    )
    page = _html(client.get(url))
    assert "Scored again now" in page
    assert f"match probability of {percent(item.match_probability)}" in page
    assert "Same or similar given name, date of birth missing" in page
    assert ReviewItem.objects.get(pk=item.pk).contributions == item.contributions  # no write


def test_a_pair_with_a_record_the_reviewer_may_not_see_is_not_scored_again(cast, client_for):
    from tests.people.index.test_online import HER, _thresholds

    _thresholds(cast, link_at=0.999999999999, review_at=0.5)
    police = identity_create(actor=cast.police_officer, **HER)
    gp = identity_create(actor=cast.gp, **{**HER, "phone": "", "nhs_number": ""})
    item = ReviewItem.objects.get(Q(identity_a=police) | Q(identity_b=police))
    ReviewItem.objects.filter(pk=item.pk).update(contributions=[], match_probability=0.61)
    page = _html(client_for(cast.police_spoc).get(reverse("web:index-review", args=[item.id])))
    assert "details not shared with you" in page  # the GP's record is hidden from police
    assert "Scored again now" not in page and "61.0%" in page
    assert gp.person_id != police.person_id


def test_a_pair_whose_names_and_dates_differ_waits_apart_with_a_warning(cast, pair_, client_for):
    ReviewItem.objects.filter(pk=pair_.item.pk).update(names_and_dates_differ=True)
    # Not for a reviewer who may not see one record: where it waits, and the warning,
    # would tell her what that record holds.
    hidden_from = client_for(cast.police_spoc)
    assert _item_url(pair_) in _html(hidden_from.get(reverse("web:index-queue")))
    apart = _html(hidden_from.get(reverse("web:index-queue") + "?status=differ"))
    assert _item_url(pair_) not in apart
    page = _html(hidden_from.get(_item_url(pair_)))
    assert 'data-testid="names-and-dates-differ"' not in page and "household" not in page

    client = client_for(cast.marac_coordinator)
    waiting = _html(client.get(reverse("web:index-queue")))
    assert _item_url(pair_) not in waiting and "Nothing is waiting for review." in waiting
    apart = _html(client.get(reverse("web:index-queue") + "?status=differ"))
    assert _item_url(pair_) in apart and 'data-testid="differ-explained"' in apart
    page = _html(client.get(_item_url(pair_)))
    assert 'data-testid="names-and-dates-differ"' in page
    assert "overstates how likely they are to be one" in page
    ReviewItem.objects.filter(pk=pair_.item.pk).update(names_and_dates_differ=False)
    assert 'data-testid="names-and-dates-differ"' not in _html(client.get(_item_url(pair_)))
    empty = _html(client.get(reverse("web:index-queue") + "?status=differ"))
    assert "No pairs whose given name and date of birth both differ are waiting." in empty


def test_every_reason_a_pair_was_not_joined_has_words():
    for because in NotLinkedBecause:
        assert NOT_LINKED[because].strip(), because
        assert because in QUEUE_NOT_LINKED, because


def test_a_reviewer_decides_different_people(cast, world, pair_, client_for):
    response = client_for(cast.police_spoc).post(
        _decide_url(pair_), {"verdict": "different", "reason": REASON}
    )
    assert response.status_code == 302 and response["Location"] == reverse("web:index-queue")
    item = ReviewItem.objects.get(pk=pair_.item.pk)
    assert item.status == ReviewStatus.DIFFERENT and item.decided_by == cast.police_spoc
    assert PairJudgement.objects.get().verdict == "different"
    assert {e.person_id for e in audit_rows(object_type="review_item")} == {
        world.person_id,
        pair_.dup_person_id,
    }
    page = _html(client_for(cast.marac_coordinator).get(_item_url(pair_)))
    assert "Different people" in page and "Decided by Bea Spoc, Testshire Police" in page
    assert REASON not in page and 'name="verdict"' not in page
    assert REASON in _html(client_for(cast.police_spoc).get(_item_url(pair_)))


def test_a_decision_without_a_reason_names_it_and_writes_nothing(cast, pair_, client_for):
    response = client_for(cast.police_spoc).post(_decide_url(pair_), {"verdict": "same"})
    assert response.status_code == 400
    assert _errors(response) == [
        '<span class="govuk-visually-hidden">Error:</span> Say why you decided this.'
    ]
    assert "There is a problem" in _html(response)
    assert ReviewItem.objects.get(pk=pair_.item.pk).status == ReviewStatus.OPEN
    assert not PairJudgement.objects.exists() and not Merge.objects.exists()
    assert audit_rows(object_type="review_item") == []


def test_a_lapsed_pair_says_why_it_no_longer_waits_and_cannot_be_decided(cast, pair_, client_for):
    ReviewItem.objects.filter(pk=pair_.item.pk).update(status=ReviewStatus.LAPSED)
    client = client_for(cast.police_spoc)
    page = _html(client.get(_item_url(pair_)))
    assert "No longer put up for review" in page
    assert "it did not put them up for review" in page
    assert 'name="verdict"' not in page
    response = client.post(_decide_url(pair_), {"verdict": "different", "reason": REASON})
    assert response.status_code == 400
    assert "There is a problem" in _html(response)
    assert "so it is not waiting for a decision" in _html(response)
    assert 'href="#id_verdict"' not in _html(response)  # the form is not on the page
    assert ReviewItem.objects.get(pk=pair_.item.pk).status == ReviewStatus.LAPSED
    assert not PairJudgement.objects.exists() and audit_rows(object_type="review_item") == []
    closed = _html(client.get(reverse("web:index-queue") + "?status=decided"))
    assert "No longer put up for review" in closed
    assert "No longer put up" not in _html(client.get(reverse("web:index-queue")))


def test_not_sure_escalates_and_the_other_agency_decides(cast, pair_, client_for):
    response = client_for(cast.police_spoc).post(
        _decide_url(pair_), {"verdict": "not_sure", "reason": REASON}
    )
    assert response["Location"] == reverse("web:index-queue")
    coordinator = client_for(cast.marac_coordinator)
    for url in (reverse("web:index-queue"), reverse("web:index-queue") + "?status=escalated"):
        assert "Escalated" in _html(coordinator.get(url)) and _item_url(pair_) in _html(
            coordinator.get(url)
        )
    page = _html(coordinator.get(_item_url(pair_)))
    assert (
        "Marked not sure by Bea Spoc" in page and "Not sure" not in page.split("Your decision")[1]
    )
    response = coordinator.post(_decide_url(pair_), {"verdict": "same", "reason": REASON})
    merge = Merge.objects.get()
    assert response["Location"] == reverse("web:person", args=[merge.survivor_id])
    assert merge.survivor_id == pair_.dup_person_id
    # Decided, the pair's page still says who was not sure, and why to their own agency.
    page = _html(client_for(cast.police_spoc).get(_item_url(pair_)))
    assert "Marked not sure by Bea Spoc" in page and f"Their reason: {REASON}" in page
    page = _html(coordinator.get(_item_url(pair_)))
    assert "Marked not sure by Bea Spoc" in page and page.count("Their reason:") == 1


# --- Merges on the person page ------------------------------------------------------------


def test_a_reviewer_merges_then_undoes_it_from_the_person_page(cast, world, pair_, client_for):
    spoc = client_for(cast.police_spoc)
    response = spoc.post(_decide_url(pair_), {"verdict": "same", "reason": REASON})
    assert response["Location"] == _person_url(world)
    merge = Merge.objects.get()
    page = _html(spoc.get(_person_url(world)))
    assert "They are now one person." in page
    assert "Another person was merged into this one by review, by Bea Spoc" in page
    undo = reverse("web:merge-undo", args=[world.person_id, merge.id])
    assert undo in page
    assert undo not in _html(client_for(cast.police_officer).get(_person_url(world)))
    assert "Merges" not in _html(client_for(cast.police_officer).get(_person_url(world)))

    response = spoc.post(undo, {"reason": ""})
    assert response.status_code == 400
    assert "Say why these are not the same person." in _html(response)
    assert Merge.objects.get().undone_at is None

    response = spoc.post(undo, {"reason": "Two people after all."})
    assert response["Location"] == _person_url(world)
    merge.refresh_from_db()
    assert merge.undone_by == cast.police_spoc
    assert Person.objects.get(pk=pair_.dup_person_id).merged_into_id is None
    page = _html(spoc.get(_person_url(world)))
    assert "Undone on" in page and undo not in page
    assert spoc.post(undo, {"reason": "Again."}).status_code == 404


def test_an_automatic_merge_is_listed_and_undone_only_by_reviewers(cast, world, pair_, client_for):
    merge = persons_merge(
        actor=cast.police_spoc,
        survivor_id=world.person_id,
        merged_id=pair_.dup_person_id,
        reason="",
        automatic=True,
    )
    page = _html(client_for(cast.marac_coordinator).get(_person_url(world)))
    assert "merged into this one automatically by the person index" in page
    undo = reverse("web:merge-undo", args=[world.person_id, merge.id])
    assert client_for(cast.idva).post(undo, {"reason": "No."}).status_code == 403
    form = client_for(cast.marac_coordinator).get(undo)
    assert form.status_code == 200 and "Undo this merge" in _html(form)
    wrong_person = reverse("web:merge-undo", args=[pair_.dup_person_id, merge.id])
    assert client_for(cast.police_spoc).post(wrong_person, {"reason": "No."}).status_code == 404
    assert Merge.objects.get().undone_at is None


# --- Data quality -------------------------------------------------------------------------


def test_the_data_quality_list_shows_the_agencys_own_problems(cast, world, pair_, client_for):
    page = _html(client_for(cast.police_spoc).get(reverse("web:data-quality")))
    assert "Rowan Fictitious" in page and _person_url(world) in page
    assert "NHS number" in page and "The NHS number fails its check digit." in page
    assert "Rowena" not in page and "0123" not in page
    # An agency admin may not view people: the record by when and by whom it was
    # recorded (it has no reference of the agency's own), never her name.
    page = _html(client_for(cast.police_admin).get(reverse("web:data-quality")))
    assert "The NHS number fails its check digit." in page
    assert "Rowan" not in page and "Fictitious" not in page and _person_url(world) not in page
    identity = world.identities.police
    on = timezone.localtime(identity.recorded_at)
    recorded = f"No reference: recorded in Accord on {on:%-d %B %Y}"
    assert recorded in page and "data-quality-by-reference" in page
    Identity.objects.filter(pk=identity.pk).update(local_id="PN-FICT-0042")
    page = _html(client_for(cast.police_admin).get(reverse("web:data-quality")))
    assert "Your reference: PN-FICT-0042" in page and "Rowan" not in page
    for who in ("marac_coordinator", "police_officer", "dpo"):
        response = client_for(getattr(cast, who)).get(reverse("web:data-quality"))
        assert response.status_code == 403, who


def test_the_data_quality_list_says_when_there_is_nothing(cast, client_for):
    page = _html(client_for(cast.police_admin).get(reverse("web:data-quality")))
    assert "No problems found in your agency's records." in page


# --- Thresholds and re-matches ------------------------------------------------------------


def test_the_thresholds_are_shown_and_saved_as_percentages(cast, client_for):
    admin = client_for(cast.partnership_admin)
    page = _html(admin.get(reverse("web:index-settings")))
    assert "At 99.9% or more" in page and "Below 50.0%" in page
    assert 'value="99.9"' in page and 'value="50"' in page
    response = admin.post(reverse("web:index-settings"), {"link_at": "99.5", "review_at": "60"})
    assert response.status_code == 302
    saved = IndexSettings.objects.get(partnership=cast.testshire)
    assert (saved.link_at, saved.review_at) == pytest.approx((0.995, 0.6))
    assert "At 99.5% or more" in _html(admin.get(reverse("web:index-settings")))
    [event] = audit_rows(object_type="index_settings")
    assert event.actor_id == cast.partnership_admin.id


@pytest.mark.parametrize(
    ("link_at", "review_at", "message"),
    [
        ("100", "50", "Give the link threshold as a percentage above 0 and below 100."),
        ("99", "0", "Give the review threshold as a percentage above 0 and below 100."),
        ("90", "95", "The review threshold must be below the link threshold."),
        ("high", "50", "Give a percentage as a number, such as 99.9."),
        ("", "50", "Give the link threshold as a percentage above 0 and below 100."),
    ],
)
def test_wrong_thresholds_name_the_field_and_save_nothing(
    cast, client_for, link_at, review_at, message
):
    response = client_for(cast.dpo).post(
        reverse("web:index-settings"), {"link_at": link_at, "review_at": review_at}
    )
    assert response.status_code == 400
    assert message in " ".join(_errors(response))
    assert not IndexSettings.objects.exists()
    assert audit_rows(object_type="index_settings") == []


@pytest.mark.parametrize("who", ["police_spoc", "police_admin", "marac_coordinator"])
def test_the_settings_are_refused_to_others(cast, client_for, who):
    client = client_for(getattr(cast, who))
    assert client.get(reverse("web:index-settings")).status_code == 403
    response = client.post(reverse("web:index-settings"), {"link_at": "99", "review_at": "50"})
    assert response.status_code == 403
    assert client.post(reverse("web:index-rematch")).status_code == 403
    assert not IndexSettings.objects.exists() and not MatchRun.objects.exists()


def _run(cast, **fields) -> MatchRun:
    return MatchRun.objects.create(
        partnership=cast.testshire, requested_by=cast.partnership_admin, **fields
    )


def test_a_rematch_is_started_and_its_progress_polled_while_it_runs(cast, client_for, monkeypatch):
    started = []

    def match_run_start(*, actor):
        started.append(actor)
        return _run(cast, status=MatchRunStatus.QUEUED)

    monkeypatch.setattr(batch, "match_run_start", match_run_start, raising=False)
    admin = client_for(cast.partnership_admin)
    response = admin.post(reverse("web:index-rematch"))
    assert response["Location"] == reverse("web:index-settings")
    assert started == [cast.partnership_admin]
    run = MatchRun.objects.get()
    MatchRun.objects.filter(pk=run.pk).update(
        status=MatchRunStatus.RUNNING, stage="Scoring pairs", total=5000, done=1200,
        pairs_scored=48000, links=12, reviews=3,
    )  # fmt: skip
    page = _html(admin.get(reverse("web:index-settings")))
    fragment = reverse("web:index-run", args=[run.id])
    assert f'hx-get="{fragment}"' in page and 'hx-trigger="every 2s"' in page
    assert (
        "A re-match is already under way." in page
        and "Re-match the whole index</button" not in page
    )
    assert admin.get(fragment)["Location"] == reverse("web:index-settings")
    part = _html(admin.get(fragment, headers={"HX-Request": "true"}))
    assert "1200 of 5000 records (24%)" in part and "Scoring pairs" in part and "48000" in part
    MatchRun.objects.filter(pk=run.pk).update(
        status=MatchRunStatus.FAILED, error="The model file is missing.", finished_at=timezone.now()
    )
    part = _html(admin.get(fragment, headers={"HX-Request": "true"}))
    assert "hx-trigger" not in part and "The model file is missing." in part and "Failed" in part


def test_another_partnerships_run_is_not_found(cast, client_for):
    run = MatchRun.objects.create(partnership=cast.elsewhere, requested_at=timezone.now())
    response = client_for(cast.partnership_admin).get(reverse("web:index-run", args=[run.id]))
    assert response.status_code == 404
    old = _run(cast, status=MatchRunStatus.DONE, requested_at=timezone.now() - timedelta(days=1))
    page = _html(client_for(cast.dpo).get(reverse("web:index-settings")))
    assert str(old.id) in page and "Re-match the whole index" in page


# --- Formatting ---------------------------------------------------------------------------


def test_weights_are_signed_and_probabilities_keep_their_telling_digits():
    assert [signed_weight(w) for w in (7.34, -4.06, 0.04, 0)] == [
        "+7.3",
        f"{MINUS}4.1",
        "0.0",
        "0.0",
    ]
    assert [percent(p) for p in (0.7252, 0.5, 0.999, 0.99954, 0.9999999)] == [
        "72.5%",
        "50.0%",
        "99.9%",
        "99.954%",
        "99.999%",
    ]


def test_a_merged_persons_page_leads_to_the_person_she_now_is(cast, world, pair_, client_for):
    persons_merge(
        actor=cast.police_spoc,
        survivor_id=world.person_id,
        merged_id=pair_.dup_person_id,
        reason="One person.",
    )
    old = reverse("web:person", args=[pair_.dup_person_id])
    response = client_for(cast.police_spoc).get(old)
    assert response.status_code == 302 and response["Location"] == _person_url(world)
    assert client_for(cast.police_spoc).get(old, follow=True).status_code == 200
    unknown = reverse("web:person", args=["00000000-0000-4000-8000-000000000000"])
    assert client_for(cast.police_spoc).get(unknown).status_code == 404


# --- Taking one record out of a person ------------------------------------------------------


def test_a_reviewer_takes_one_record_out_of_a_person(cast, world, client_for):
    from accord.sharing import policy

    person_page = reverse("web:person", args=[world.person_id])
    for who in (cast.police_officer, cast.police_spoc):
        # Not a reviewer; a reviewer who sees only one of her records (the hidden ones
        # are not counted: offering would tell that they exist).
        assert 'data-testid="detach"' not in _html(client_for(who).get(person_page))
    reviewer = cast.marac_coordinator  # the DA service's record, and the police's by consent
    client = client_for(reviewer)
    page = _html(client.get(person_page))
    own = world.identities.da_service
    url = reverse("web:identity-detach", args=[world.person_id, own.id])
    police_url = reverse("web:identity-detach", args=[world.person_id, world.identities.police.id])
    assert url in page and police_url in page and "Take this record out of this person" in page

    # A record hidden from her is not offered, and asking for it is a refusal.
    seen = set(
        policy.visible(reviewer, Identity.objects.filter(person_id=world.person_id))
        .order_by()
        .values_list("id", flat=True)
    )
    hidden = Identity.objects.filter(person_id=world.person_id).exclude(id__in=seen).first()
    assert hidden is not None
    hidden_url = reverse("web:identity-detach", args=[world.person_id, hidden.id])
    assert hidden_url not in page
    before = len(audit_rows(actor_id=reviewer.id))
    assert client.get(hidden_url).status_code == 404
    [refusal] = audit_rows(actor_id=reviewer.id)[before:]
    assert (refusal.action, refusal.object_type, refusal.object_id) == (
        "deny",
        "identity",
        hidden.id,
    )
    assert client.post(hidden_url, {"reason": "Wrong person."}).status_code == 404
    assert Identity.objects.get(pk=hidden.pk).person_id == world.person_id

    form = _html(client.get(url))
    assert "Testshire DA Service's record of Rowan Fictitious" in form
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    [error] = _errors(response)
    assert error.endswith("</span> Say why this identity is not this person.")
    assert Identity.objects.get(pk=own.pk).person_id == world.person_id

    before = len(audit_rows(actor_id=reviewer.id))
    response = client.post(url, {"reason": "A namesake's record, joined by mistake."})
    moved = Identity.objects.get(pk=own.pk)
    assert moved.person_id != world.person_id
    written = audit_rows(actor_id=reviewer.id)[before:]
    assert {(e.person_id, e.reason) for e in written if e.object_type == "identity"} == {
        (world.person_id, "identity detached"),
        (moved.person_id, "detached into a new person"),
    }
    assert response.status_code == 302 and response["Location"] == person_page
    page = _html(client.get(person_page))
    assert "Testshire DA Service's record is now a person of its own." in page
    assert url not in page
    assert 'data-testid="detach"' not in page  # she sees only the police record now
    assert 'data-testid="detach"' not in _html(
        client.get(reverse("web:person", args=[moved.person_id]))  # one record
    )
    # Gone from that person, the record is not found under it any more.
    assert client.get(url).status_code == 404


def test_after_taking_a_record_out_the_reviewer_lands_on_a_page_she_may_open(cast, world, pair_):
    """Taking out her agency's only record of a person takes its records along, and her
    agency may no longer know that person: then the new person's page, else the queue."""
    from accord.web.index_views import _a_page_of

    spoc = cast.police_spoc  # may not open the DA service's person
    mine = reverse("web:person", args=[world.person_id])
    assert _a_page_of(spoc, pair_.dup_person_id, world.person_id)["Location"] == mine
    assert _a_page_of(spoc, world.person_id, pair_.dup_person_id)["Location"] == mine
    assert _a_page_of(spoc, pair_.dup_person_id)["Location"] == reverse("web:index-queue")
