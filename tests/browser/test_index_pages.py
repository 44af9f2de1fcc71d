"""The person index's pages in Chromium: a SPOC compares a pair and decides; the MARAC
coordinator merges one and undoes it from her page, and takes one record out of a
person on its page; the thresholds page polls a re-match's progress. Every page is
checked with axe and at 320 px."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accord.people.models import MatchRun, MatchRunStatus, ReviewItem, ReviewStatus
from tests.browser.conftest import check_page
from tests.browser.test_pages import _enrol, _sign_in
from tests.sharing.world import build_review_pair


def test_a_spoc_compares_a_pair_side_by_side_and_decides_different_people(cast, world, page):
    pair = build_review_pair(cast, world)
    _sign_in(page, "police_spoc", cast.password)
    _enrol(page)
    page.get_by_role("link", name="Person index", exact=True).click()
    expect(page.get_by_role("heading", name="Waiting for review")).to_be_visible()
    check_page(page, "review queue")

    page.get_by_role("link", name="compare pair 1").click()
    expect(page.get_by_role("heading", name="Are these the same person?")).to_be_visible()
    expect(page.get_by_text("Rowan Fictitious")).to_be_visible()
    expect(
        page.get_by_text("Held by Testshire DA Service; details not shared with you.")
    ).to_be_visible()
    # She may not see the DA service's record, so not what comparing it found either.
    expect(page.get_by_test_id("comparisons-withheld")).to_be_visible()
    expect(page.get_by_test_id("contributions")).to_have_count(0)
    check_page(page, "a pair side by side")

    page.get_by_label("No, different people").check()
    page.get_by_role("button", name="Save the decision").click()
    expect(page.get_by_role("link", name="Say why you decided this.")).to_be_visible()
    check_page(page, "a decision without a reason")

    page.get_by_label("No, different people").check()
    page.get_by_label("Why").fill("Different dates of birth and no shared identifier.")
    page.get_by_role("button", name="Save the decision").click()
    expect(page.get_by_text("Recorded as different people.")).to_be_visible()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    check_page(page, "the queue after a decision")
    assert ReviewItem.objects.get(pk=pair.item.pk).status == ReviewStatus.DIFFERENT

    page.get_by_role("link", name="Data quality").click()
    expect(page.get_by_text("The NHS number fails its check digit.")).to_be_visible()
    check_page(page, "data quality")


def test_pairs_whose_names_and_dates_differ_wait_in_their_own_view(cast, world, page):
    pair = build_review_pair(cast, world)
    ReviewItem.objects.filter(pk=pair.item.pk).update(names_and_dates_differ=True)
    _sign_in(page, "marac_coordinator", cast.password)  # sees both records
    _enrol(page)
    page.goto("/index/")
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    page.get_by_role("link", name="Given name and date of birth differ").click()
    expect(page.get_by_test_id("differ-explained")).to_be_visible()
    check_page(page, "the queue of pairs whose names and dates differ")
    page.get_by_role("link", name="compare pair 1").click()
    expect(page.get_by_test_id("names-and-dates-differ")).to_be_visible()
    check_page(page, "a pair whose names and dates differ")


def test_the_coordinator_merges_a_pair_and_undoes_it_from_her_page(cast, world, page):
    build_review_pair(cast, world)
    _sign_in(page, "marac_coordinator", cast.password)
    _enrol(page)
    page.goto("/index/")
    page.get_by_role("link", name="compare pair 1").click()
    expect(page.get_by_text("Address withheld")).to_be_visible()
    table = page.get_by_test_id("contributions")
    expect(table.get_by_role("row", name="Family name Exact match +9.6")).to_be_visible()
    expect(table.get_by_role("row", name="Starting point")).to_contain_text("\N{MINUS SIGN}6.1")
    page.get_by_label("Yes, the same person").check()
    page.get_by_label("Why").fill("The same phone number in both records.")
    page.get_by_role("button", name="Save the decision").click()
    expect(page.get_by_text("They are now one person.")).to_be_visible()
    expect(page.get_by_test_id("merge")).to_contain_text("by review, by Jo Coordinator")
    check_page(page, "her page with a merge")

    page.get_by_label("Why these are not the same person").fill("Two people after all.")
    page.get_by_role("button", name="Undo this merge").click()
    expect(page.get_by_text("The merge is undone")).to_be_visible()
    expect(page.get_by_test_id("merge")).to_contain_text("Undone on")
    check_page(page, "her page after undoing the merge")

    # On the page of the woman every agency knows, one record taken out on its own.
    page.goto(reverse("web:person", args=[world.person_id]))
    page.get_by_role("link", name="Take this record out of this person (Testshire Police)").click()
    expect(page.get_by_role("heading", name="Take a record out of this person")).to_be_visible()
    check_page(page, "taking a record out of a person")
    page.get_by_label("Why this record is not this person").fill("A namesake's record.")
    page.get_by_role("button", name="Take the record out").click()
    done = "Testshire Police's record is now a person of its own."
    expect(page.get_by_text(done)).to_be_visible()
    expect(
        page.get_by_role("link", name="Take this record out of this person (Testshire Police)")
    ).to_have_count(0)


def test_the_thresholds_page_follows_a_rematch_until_it_ends(cast, page):
    run = MatchRun.objects.create(
        partnership=cast.testshire,
        requested_by=cast.partnership_admin,
        status=MatchRunStatus.RUNNING,
        stage="Scoring pairs",
        total=5000,
        done=1200,
    )
    _sign_in(page, "partnership_admin", cast.password)
    _enrol(page)
    page.get_by_role("link", name="Person index settings").click()
    expect(page.get_by_test_id("run-progress")).to_have_text("1200 of 5000 records (24%)")
    check_page(page, "person index settings")

    MatchRun.objects.filter(pk=run.pk).update(
        status=MatchRunStatus.DONE, done=5000, links=40, reviews=7, finished_at=timezone.now()
    )
    expect(page.get_by_test_id("run-progress")).to_have_text(
        "5000 of 5000 records (100%)", timeout=6000
    )
    expect(page.get_by_test_id("run-status")).to_have_text("Finished")

    page.get_by_label("Link automatically at (%)").fill("100")
    page.get_by_role("button", name="Save the thresholds").click()
    expect(
        page.get_by_role(
            "link", name="Give the link threshold as a percentage above 0 and below 100."
        )
    ).to_be_visible()
    check_page(page, "person index settings with an error")
