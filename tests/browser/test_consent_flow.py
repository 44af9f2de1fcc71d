"""Consent in Chromium: the IDVA records it, the GP sees what it shares, and after the
IDVA withdraws it for housing, housing sees only that the IDVA's service holds something."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from playwright.sync_api import expect

from accord.cases.services import record_create
from accord.people.services import identity_create
from tests.browser.conftest import check_page
from tests.browser.test_pages import _enrol, _sign_in

SUMMARY = "Safety planning session at the drop-in"
FLAG = "Testshire DA Service holds information about this person."


def _her(cast: Any) -> Any:
    """A fictional victim-survivor known to the DA service, her GP and her landlord; the
    DA service holds one record about her, which no one else may see yet."""
    name = {"given_names": "Robin", "family_name": "Madeup", "date_of_birth": date(1988, 5, 5)}
    person_id = identity_create(actor=cast.idva, **name).person_id
    identity_create(actor=cast.gp, person_id=person_id, **name)
    identity_create(actor=cast.housing_officer, person_id=person_id, **name)
    record_create(
        actor=cast.idva,
        person_id=person_id,
        kind="contact",
        category="safety_plan",
        occurred_at=datetime(2026, 9, 3, 10, 0, tzinfo=UTC),
        summary=SUMMARY,
        body="Fictional: agreed a safe word.",
    )
    return person_id


def _signed_in(
    browser: Any, live_server: Any, username: str, password: str, problems: list[str]
) -> Any:
    """A second browser, signed in as someone else; its page errors go in `problems`."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1024, "height": 800})
    other = context.new_page()
    other.on("pageerror", lambda error: problems.append(str(error)))
    other.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    _sign_in(other, username, password)
    _enrol(other)
    return other


def test_the_idva_records_consent_the_gp_sees_and_withdrawal_leaves_housing_the_flag(
    cast, page, browser, live_server
):
    person_id = _her(cast)
    _sign_in(page, "idva", cast.password)
    _enrol(page)
    page.goto(f"/people/{person_id}/")
    expect(page.get_by_role("heading", name="Client Robin Madeup")).to_be_visible()
    check_page(page, "person page")

    page.get_by_role("link", name="Record consent").click()
    check_page(page, "consent form")
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    check_page(page, "consent form with errors")

    page.get_by_label("Yes, she agreed").check()
    page.get_by_label("Verbally").check()
    page.get_by_label("Testshire Surgery").check()
    page.get_by_label("Testshire Homes").check()
    page.get_by_label("Safety plan", exact=True).check()
    page.get_by_label("Safety planning", exact=True).check()
    page.get_by_label("What she was told, in plain words").fill(
        "Her GP and her landlord will see her safety plan, to keep her safe."
    )
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Her consent has been recorded.")).to_be_visible()
    expect(page.get_by_test_id("consent")).to_contain_text("In force")

    problems: list[str] = []
    gp = _signed_in(browser, live_server, "gp", cast.password, problems)
    gp.goto(f"/people/{person_id}/")
    expect(gp.get_by_role("heading", name="Patient Robin Madeup")).to_be_visible()
    expect(gp.get_by_role("link", name=SUMMARY)).to_be_visible()
    expect(gp.get_by_text("Shared with you by consent")).to_be_visible()
    check_page(gp, "person page, shared by consent")
    gp.context.close()

    page.get_by_role("link", name="Withdraw").click()
    check_page(page, "withdraw consent")
    page.get_by_label("Testshire Homes").check()
    page.get_by_label("What she said (optional)").fill("She does not want her landlord told.")
    page.get_by_role("button", name="Withdraw consent").click()
    expect(page.get_by_text("Consent has been withdrawn.")).to_be_visible()

    housing = _signed_in(browser, live_server, "housing_officer", cast.password, problems)
    housing.goto(f"/people/{person_id}/")
    expect(housing.get_by_role("heading", name="Tenant Robin Madeup")).to_be_visible()
    expect(housing.get_by_text(FLAG)).to_be_visible()
    expect(housing.get_by_text(SUMMARY)).to_have_count(0)
    expect(
        housing.get_by_role(
            "link", name="Ask Testshire DA Service's single point of contact (SPOC)"
        )
    ).to_be_visible()
    check_page(housing, "person page, flag only")
    housing.context.close()
    assert problems == []
