"""The data protection officer's pages and the sharing settings, in Chromium."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import check_page
from tests.browser.test_pages import _enrol, _sign_in


def test_the_police_dpo_sees_who_saw_her_data_and_downloads_the_bundle(cast, world, page):
    from accord.cases.selectors import record_get_for

    record_get_for(actor=cast.gp, record_id=world.r1.id)  # a read under consent
    _sign_in(page, "police_dpo", cast.password)
    _enrol(page)
    page.goto(f"/people/{world.person_id}/who-saw/")
    expect(page.get_by_role("heading", name="Who saw this person's data")).to_be_visible()
    expect(page.get_by_role("cell", name="Dee Doctor Testshire Surgery")).to_be_visible()
    check_page(page, "who saw this person's data")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the subject access bundle (PDF)").click()
    assert download.value.suggested_filename == f"subject-access-{world.person_id}.pdf"


def test_a_partnership_admin_changes_a_lawful_basis(cast, page):
    _sign_in(page, "partnership_admin", cast.password)
    _enrol(page)
    page.get_by_role("link", name="Sharing settings").click()
    check_page(page, "sharing settings")
    page.get_by_role("link", name="Change vital-interests").click()
    check_page(page, "change a lawful basis")
    page.get_by_label("A second person must approve decisions on this basis").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("The lawful basis has been saved.")).to_be_visible()
