"""MARAC pages in Chromium: the coordinator schedules a meeting, a police officer refers
her case and shares to it, probation reads it on the MARAC basis."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from accord.sharing.models import DisclosureDecision
from accord.sharing.services import decision_approve
from tests.browser.conftest import check_page
from tests.browser.test_consent_flow import _signed_in
from tests.browser.test_pages import _enrol, _sign_in


def test_a_meeting_is_scheduled_her_case_referred_and_shared_to(
    cast, world, page, browser, live_server
):
    problems: list[str] = []
    _sign_in(page, "marac_coordinator", cast.password)
    _enrol(page)
    page.get_by_role("link", name="MARAC meetings").click()
    check_page(page, "MARAC meetings")
    page.get_by_role("link", name="Schedule a meeting").click()
    page.get_by_label("Title").fill("Testshire MARAC")
    day = timezone.localdate() + timedelta(days=7)
    page.get_by_label("Date of the meeting").fill(day.isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("Testshire Police").check()
    page.get_by_label("Testshire Probation").check()
    check_page(page, "schedule a meeting")
    page.get_by_role("button", name="Schedule the meeting").click()
    expect(page.get_by_text("The meeting has been scheduled.")).to_be_visible()
    check_page(page, "a MARAC meeting")

    officer = _signed_in(browser, live_server, "police_officer", cast.password, problems)
    officer.goto(f"/people/{world.person_id}/")
    officer.get_by_role("link", name="Refer to a MARAC meeting").click()
    check_page(officer, "refer to a MARAC meeting")
    officer.get_by_label("Meeting").select_option(label=f"Testshire MARAC, {day:%-d %b %Y} 10:00")
    officer.get_by_label("Visible high risk").check()
    officer.get_by_role("button", name="Put her case on the agenda").click()
    expect(officer.get_by_text("Her case is on the meeting's agenda.")).to_be_visible()
    officer.goto(f"/people/{world.person_id}/disclosures/new/")
    officer.get_by_label("Criminal justice").check()
    officer.get_by_label("Or to this MARAC meeting").select_option(
        label=f"Testshire MARAC, {day:%-d %b %Y}"
    )
    officer.get_by_label("What for").select_option("marac")
    officer.get_by_label("UK GDPR 6(1)(e) public task").first.check()
    officer.get_by_label("Why sharing is necessary and proportionate").fill(
        "Her case is on the agenda."
    )
    officer.get_by_label("Yes").check()
    officer.get_by_role("button", name="Record the decision").click()
    expect(officer.get_by_text("Testshire MARAC")).to_be_visible()
    decision = DisclosureDecision.objects.get(recipient_case__isnull=False)
    decision_approve(actor=cast.police_spoc, decision_id=decision.id)

    page.goto(f"/marac/{decision.recipient_case.meeting_id}/")
    expect(page.get_by_text("Case 1: referred by Testshire Police")).to_be_visible()

    probation = _signed_in(browser, live_server, "probation_officer", cast.password, problems)
    probation.goto(f"/people/{world.person_id}/")
    expect(probation.get_by_text("Call-out to a domestic incident")).to_be_visible()
    expect(probation.get_by_text("Shared for MARAC")).to_be_visible()
    assert problems == []
