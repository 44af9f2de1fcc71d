"""Real pages in Chromium: sign-in with a second factor, administration, accessibility."""

from __future__ import annotations

import time

from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.browser.conftest import check_page
from tests.conftest import audit_rows


def _code_for(secret_text: str) -> str:
    import base64

    secret = secret_text.replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time()
    return f"{totp.token():06d}"


def _sign_in(page, username: str, password: str) -> None:
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _enrol(page) -> None:
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_role("textbox", name="Code").fill(_code_for(secret))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_test_id("recovery-codes").wait_for()


def test_an_agency_admin_signs_in_with_a_second_factor_and_every_page_is_accessible(cast, page):
    page.goto("/sign-in/")
    check_page(page, "sign-in")

    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Enter your username.").first).to_be_visible()
    check_page(page, "sign-in with errors")

    _sign_in(page, "police_admin", cast.password)
    page.wait_for_url("**/sign-in/second-factor/set-up/")
    check_page(page, "second-factor set-up")

    _enrol(page)
    check_page(page, "recovery codes")
    page.get_by_role("link", name="I have saved my codes").click()

    expect(page.get_by_role("heading", name="Your work queue")).to_be_visible()
    identity = page.get_by_test_id("identity").inner_text()
    assert "Cal Admin" in identity and "Agency admin" in identity
    assert "Testshire Police" in identity
    check_page(page, "work queue")

    page.get_by_role("link", name="Agencies").click()
    expect(page.get_by_role("cell", name="Testshire Homes")).to_be_visible()
    check_page(page, "agencies")

    page.get_by_role("link", name="Users").click()
    check_page(page, "users")
    page.get_by_label("Find a user by name or username").fill("spoc")
    expect(page.get_by_role("link", name="Cal Admin")).to_have_count(0)
    expect(page.get_by_role("link", name="Bea Spoc")).to_be_visible()
    page.get_by_label("Find a user by name or username").fill("")
    expect(page.get_by_role("link", name="Cal Admin")).to_be_visible()
    page.get_by_role("link", name="Add a user").click()
    check_page(page, "add a user")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    check_page(page, "add a user with errors")

    page.get_by_label("Username").fill("night.shift")
    page.get_by_label("Full name").fill("Night Shift Officer")
    page.get_by_label("Domestic abuse training level").select_option("practitioner")
    page.get_by_label("First password").fill("a-long-enough-passphrase")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_text("Night Shift Officer can now sign in as night.shift")).to_be_visible()

    page.get_by_role("link", name="Night Shift Officer").click()
    check_page(page, "change a user")
    page.get_by_role("button", name="Reset second factor for Night Shift Officer").click()
    expect(page.get_by_text("will set up a new authenticator app")).to_be_visible()

    page.get_by_role("link", name="API keys").click()
    check_page(page, "api keys")
    page.get_by_role("textbox", name="Name").fill("Case system")
    page.get_by_label("agency.view").check()
    page.get_by_role("button", name="Issue key").click()
    assert page.get_by_test_id("issued-key").inner_text().startswith("acc_")
    check_page(page, "api key issued")
    page.get_by_role("button", name="Revoke Case system").click()
    expect(page.get_by_text("has been revoked")).to_be_visible()

    page.get_by_role("link", name="Change your password").click()
    check_page(page, "change your password")

    page.goto("/no-such-page/")
    check_page(page, "not found")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    assert [r.reason for r in audit_rows(action="sign-in", actor_id=cast.police_admin.id)] == [
        "password accepted",
        "second factor enrolled",
    ]


def test_a_returning_user_is_asked_for_a_code(cast, page):
    _sign_in(page, "gp", cast.password)
    _enrol(page)
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, "gp", cast.password)
    page.wait_for_url("**/sign-in/second-factor/")
    check_page(page, "second-factor challenge")
    page.get_by_role("textbox", name="Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    check_page(page, "second-factor challenge with error")


def test_a_partnership_admin_adds_an_agency(cast, page):
    _sign_in(page, "partnership_admin", cast.password)
    _enrol(page)
    page.goto("/agencies/")
    page.get_by_role("link", name="Add an agency").click()
    check_page(page, "add an agency")
    page.get_by_role("textbox", name="Name").fill("Testshire Refuge")
    page.get_by_label("Sector").select_option("specialist_da")
    page.get_by_role("button", name="Add agency").click()
    expect(page.get_by_text("Testshire Refuge has been added.")).to_be_visible()
    page.get_by_role("link", name="Testshire Refuge").click()
    check_page(page, "change an agency")


def test_a_refusal_is_a_plain_accessible_page(cast, page):
    _sign_in(page, "teacher", cast.password)
    _enrol(page)
    page.goto("/users/")
    expect(page.get_by_role("heading", name="You cannot do this")).to_be_visible()
    check_page(page, "forbidden")


def test_the_lockout_page_is_clear_and_accessible(cast, page, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(page, "teacher", "wrong-password")
    expect(page.get_by_role("heading", name="Sign-in is locked for now")).to_be_visible()
    check_page(page, "locked out")


def test_the_demo_banner_shows_in_demo_mode(cast, page, settings):
    settings.DEMO_MODE = True
    settings.SECOND_FACTOR_REQUIRED = False
    _sign_in(page, "idva", cast.password)
    expect(page.get_by_text("This is a demonstration")).to_be_visible()
    expect(page.get_by_role("heading", name="Your work queue")).to_be_visible()
    check_page(page, "work queue in demo mode")


def test_the_api_docs_page_loads_from_our_own_origin(cast, page):
    _sign_in(page, "police_spoc", cast.password)
    _enrol(page)
    page.goto("/api/v1/docs/")
    page.get_by_text("/api/v1/agencies/").first.wait_for()
    check_page(page, "api docs")
