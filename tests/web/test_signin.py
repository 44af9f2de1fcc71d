"""Sign-in: password, second factor, lockout, sessions."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.partnership.models import RecoveryCode, RecoveryCodeDevice
from tests.conftest import audit_rows, verify_second_factor

SIGN_IN = "/sign-in/"


def _post_password(client: Client, username: str, password: str):
    return client.post(SIGN_IN, {"username": username, "password": password})


def _code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset * device.step
    return f"{totp.token():06d}"


def _enrol(cast, client: Client) -> TOTPDevice:
    _post_password(client, "gp", cast.password)
    client.get("/sign-in/second-factor/set-up/")
    return TOTPDevice.objects.get(user=cast.gp, confirmed=False)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(cast):
    wrong = _post_password(Client(), "gp", "not-the-password")
    unknown = _post_password(Client(), "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    assert "The username or password is not right." in wrong.content.decode()
    strip = lambda r: r.content.decode().replace("gp", "").replace("nobody-here", "")  # noqa: E731
    assert (
        strip(wrong).split("csrfmiddlewaretoken")[0]
        == strip(unknown).split("csrfmiddlewaretoken")[0]
    )
    failures = audit_rows(action="sign-in-failed")
    assert len(failures) == 2
    assert failures[0].object_id == cast.gp.id or failures[1].object_id == cast.gp.id


def test_an_inactive_user_gets_the_same_answer(cast):
    cast.gp.is_active = False
    cast.gp.save()
    response = _post_password(Client(), "gp", cast.password)
    assert "The username or password is not right." in response.content.decode()


def test_a_password_alone_does_not_reach_the_work_queue(cast):
    client = Client()
    response = _post_password(client, "gp", cast.password)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:second-factor-setup")
    assert client.get("/").status_code == 302
    assert client.get("/agencies/")["Location"] == reverse("web:second-factor-setup")
    assert client.get("/api/v1/me/").status_code == 401
    assert client.get("/api/v1/docs/")["Location"] == reverse("web:second-factor")


def test_enrolment_shows_a_qr_code_and_confirms_with_a_code(cast):
    client = Client()
    _enrol(cast, client)
    page = client.get("/sign-in/second-factor/set-up/").content.decode()
    assert "<svg" in page and "Key:" in page
    device = TOTPDevice.objects.get(user=cast.gp, confirmed=False)  # the secret now shown
    response = client.post("/sign-in/second-factor/set-up/", {"token": _code(device)})
    assert response.status_code == 200
    assert "Your recovery codes" in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert RecoveryCode.objects.filter(device__user=cast.gp).count() == 10
    shown = response.content.decode().split('data-testid="recovery-codes">')[1].split("</ul>")[0]
    first_code = shown.split("<li>")[1].split("</li>")[0]
    assert len(first_code.replace(" ", "")) == 20
    # Only digests are stored: the database holds nothing that can be typed in.
    stored = list(RecoveryCode.objects.values_list("digest", flat=True))
    assert first_code not in stored and first_code.replace(" ", "") not in stored
    assert client.get("/").status_code == 200
    assert [r.changed_fields for r in audit_rows(action="update", object_id=cast.gp.id)] == [
        ["recovery_codes", "second_factor"]
    ]


def test_enrolment_refuses_a_wrong_code(cast):
    client = Client()
    _enrol(cast, client)
    response = client.post("/sign-in/second-factor/set-up/", {"token": "000000"})
    assert "The code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=cast.gp, confirmed=True).exists()


def test_a_user_with_a_device_cannot_enrol_another_with_only_a_password(cast):
    TOTPDevice.objects.create(user=cast.gp, name="phone", confirmed=True)
    client = Client()
    _post_password(client, "gp", cast.password)
    response = client.get("/sign-in/second-factor/set-up/")
    assert response["Location"] == reverse("web:second-factor")
    assert TOTPDevice.objects.filter(user=cast.gp).count() == 1


def test_the_challenge_accepts_a_code_once_and_refuses_a_replay(cast):
    device = TOTPDevice.objects.create(user=cast.gp, name="phone", confirmed=True)
    code = _code(device)
    first = Client()
    _post_password(first, "gp", cast.password)
    assert first.post("/sign-in/second-factor/", {"token": code})["Location"] == "/"
    assert first.get("/").status_code == 200

    replay = Client()
    _post_password(replay, "gp", cast.password)
    response = replay.post("/sign-in/second-factor/", {"token": code})
    assert response.status_code == 200
    assert "has been used already" in response.content.decode()
    assert replay.get("/").status_code == 302
    reasons = [r.reason for r in audit_rows(object_id=None, actor_id=cast.gp.id)]
    assert reasons == [
        "password accepted",
        "second factor accepted",
        "password accepted",
        "second factor refused",
    ]


def test_a_recovery_code_works_once(cast):
    TOTPDevice.objects.create(user=cast.gp, name="phone", confirmed=True)
    recovery = RecoveryCodeDevice.objects.create(
        user=cast.gp, name="Recovery codes", confirmed=True
    )
    code = recovery.issue_codes(10)[3]
    client = Client()
    _post_password(client, "gp", cast.password)
    assert client.post("/sign-in/second-factor/", {"token": code.upper()}).status_code == 302
    assert client.get("/").status_code == 200
    again = Client()
    _post_password(again, "gp", cast.password)
    assert again.post("/sign-in/second-factor/", {"token": code}).status_code == 200
    assert again.get("/").status_code == 302
    assert RecoveryCode.objects.filter(device=recovery).count() == 9


def test_repeated_failures_lock_the_username_with_a_clear_message(cast, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _post_password(Client(), "gp", "wrong-password")
    locked = _post_password(Client(), "gp", "wrong-password")
    assert locked.status_code == 429
    assert "Sign-in is locked for now" in locked.content.decode()
    # Even the right password is refused while locked, with the same message.
    still = _post_password(Client(), "gp", cast.password)
    assert still.status_code == 429
    assert "_auth_user_id" not in still.wsgi_request.session


def test_unknown_usernames_are_locked_out_alike(cast, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = _post_password(Client(), "no-such-user", "wrong-password")
    assert response.status_code == 429


def test_sign_in_is_audited(cast):
    client = Client()
    _post_password(client, "gp", cast.password)
    rows = audit_rows(action="sign-in", actor_id=cast.gp.id)
    assert [r.reason for r in rows] == ["password accepted"]
    assert rows[0].agency_id == cast.agency.gp.id


def test_sign_in_only_follows_local_next_addresses(cast, settings):
    settings.SECOND_FACTOR_REQUIRED = False
    client = Client()
    response = client.post(
        SIGN_IN,
        {"username": "gp", "password": cast.password, "next": "https://elsewhere.example/steal"},
    )
    assert response["Location"] == "/"
    client = Client()
    response = client.post(
        SIGN_IN, {"username": "gp", "password": cast.password, "next": "/agencies/"}
    )
    assert response["Location"] == "/agencies/"


def test_sign_out_ends_the_session(cast, client_for):
    client = client_for(cast.gp)
    assert client.get("/").status_code == 200
    assert client.get("/sign-out/").status_code == 405
    client.post("/sign-out/")
    assert client.get("/").status_code == 302


def test_forms_need_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    response = client.post(SIGN_IN, {"username": "gp", "password": cast.password})
    assert response.status_code == 403
    assert "Your form could not be accepted" in response.content.decode()
    assert audit_rows(action="sign-in") == []


def test_a_forged_session_cookie_is_not_signed_in(cast):
    client = Client()
    client.cookies["accord_session"] = "forged-session-key-that-does-not-exist"
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_sessions_expire_after_thirty_idle_minutes(cast, settings):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = Client()
    verify_second_factor(client, cast.gp)
    response = client.get("/")
    assert response.cookies["accord_session"]["httponly"]
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = session.expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)
    # Each request renews it; once 30 idle minutes have passed, it is gone.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("path", ["/", "/sign-in/"])
def test_pages_carry_a_strict_content_security_policy(cast, client_for, path):
    response = client_for(cast.gp).get(path, follow=True)
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"


def test_an_unknown_username_costs_as_much_time_as_a_wrong_password(cast, settings):
    """Both run the production password hasher once, so timing does not reveal which
    usernames exist. Medians of a few tries, compared within a generous factor."""
    import statistics

    from django.test import RequestFactory

    from accord.partnership.backends import AccordModelBackend

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    cast.gp.set_password(cast.password)
    cast.gp.save()
    backend, request = AccordModelBackend(), RequestFactory().post(SIGN_IN)

    def seconds(username: str) -> float:
        start = time.perf_counter()
        assert backend.authenticate(request, username=username, password="wrong") is None
        return time.perf_counter() - start

    known = statistics.median(seconds("gp") for _ in range(3))
    unknown = statistics.median(seconds("nobody-at-all") for _ in range(3))
    assert 0.5 < unknown / known < 2.0, (known, unknown)


def _fail(username: str, **extra):
    return Client().post(SIGN_IN, {"username": username, "password": "wrong-password"}, **extra)


def test_a_name_is_locked_whatever_its_case(cast, settings):
    for spelling in ["GP", "gP", "Gp", "gp ", "GP"][: settings.AXES_FAILURE_LIMIT]:
        _fail(spelling, REMOTE_ADDR=f"10.1.0.{len(spelling)}{spelling.count('G')}")
    locked = Client().post(
        SIGN_IN, {"username": "gp", "password": cast.password}, REMOTE_ADDR="10.9.9.9"
    )
    assert locked.status_code == 429


def test_a_colleagues_own_sign_in_does_not_reset_the_count_against_a_name(cast, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _fail("gp", REMOTE_ADDR="10.2.0.1")
    ok = Client().post(
        SIGN_IN, {"username": "nurse", "password": cast.password}, REMOTE_ADDR="10.2.0.1"
    )
    assert ok.status_code == 302
    assert _fail("gp", REMOTE_ADDR="10.2.0.2").status_code == 429


def test_behind_the_proxy_the_address_is_the_hop_the_proxy_added(cast, settings):
    settings.TRUST_FORWARDED_FOR = True
    for n in range(settings.AXES_FAILURE_LIMIT):
        # The client controls everything left of the proxy's own entry.
        _fail(
            f"nobody{n}", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 192.0.2.50", REMOTE_ADDR="10.0.0.1"
        )
    blocked = Client().post(
        SIGN_IN,
        {"username": "nurse", "password": cast.password},
        HTTP_X_FORWARDED_FOR="198.51.100.7, 192.0.2.50",
        REMOTE_ADDR="10.0.0.1",
    )
    assert blocked.status_code == 429
    elsewhere = Client().post(
        SIGN_IN,
        {"username": "nurse", "password": cast.password},
        HTTP_X_FORWARDED_FOR="192.0.2.51",
        REMOTE_ADDR="10.0.0.1",
    )
    assert elsewhere.status_code == 302


def test_each_visit_to_set_up_shows_a_new_secret(cast):
    client = Client()
    _post_password(client, "gp", cast.password)
    first = client.get("/sign-in/second-factor/set-up/").content.decode()
    first_device = TOTPDevice.objects.get(user=cast.gp, confirmed=False)
    second = client.get("/sign-in/second-factor/set-up/").content.decode()
    secret = lambda page: page.split('data-testid="totp-secret">')[1].split("<")[0]  # noqa: E731
    assert secret(first) != secret(second)
    # A code from the secret someone else saw earlier no longer enrols anything.
    response = client.post("/sign-in/second-factor/set-up/", {"token": _code(first_device)})
    assert "The code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=cast.gp, confirmed=True).exists()
    assert "no-store" in client.get("/sign-in/second-factor/set-up/")["Cache-Control"]


def test_where_the_user_was_going_survives_the_second_factor(cast):
    device = TOTPDevice.objects.create(user=cast.gp, name="phone", confirmed=True)
    client = Client()
    client.post(SIGN_IN, {"username": "gp", "password": cast.password, "next": "/agencies/"})
    response = client.post("/sign-in/second-factor/", {"token": _code(device)})
    assert response["Location"] == "/agencies/"


def test_a_deactivated_agencys_users_cannot_sign_in_or_act(cast, client_for):
    client = client_for(cast.gp)
    cast.agency.gp.is_active = False
    cast.agency.gp.save()
    assert client.get("/").status_code == 302  # the session ends with the agency
    refused = _post_password(Client(), "gp", cast.password)
    assert "The username or password is not right." in refused.content.decode()


def test_a_user_whose_password_an_admin_chose_must_choose_their_own(cast, client_for):
    from accord.partnership import services

    user = services.user_create(
        actor=cast.police_admin,
        agency=cast.agency.police,
        username="new.officer",
        display_name="New Officer",
        role="practitioner",
        password="chosen-by-the-admin",
    )
    assert user.must_change_password
    client = client_for(user)
    assert client.get("/")["Location"] == "/account/password/"
    assert client.get("/agencies/")["Location"] == "/account/password/"
    assert client.get("/api/v1/me/").status_code == 401
    page = client.get("/account/password/").content.decode()
    assert "Choose your own password" in page

    wrong = client.post(
        "/account/password/",
        {
            "old_password": "not-it",
            "new_password": "my-own-long-passphrase",
            "repeated": "my-own-long-passphrase",
        },
    )
    assert "Your current password is not right." in wrong.content.decode()
    differ = client.post(
        "/account/password/",
        {
            "old_password": "chosen-by-the-admin",
            "new_password": "my-own-long-passphrase",
            "repeated": "my-own-long-passphrase!",
        },
    )
    assert "The two new passwords are not the same." in differ.content.decode()

    done = client.post(
        "/account/password/",
        {
            "old_password": "chosen-by-the-admin",
            "new_password": "my-own-long-passphrase",
            "repeated": "my-own-long-passphrase",
        },
    )
    assert done["Location"] == "/"
    assert client.get("/").status_code == 200  # still signed in with the new password
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("my-own-long-passphrase")
    [row] = audit_rows(reason="own password changed")
    assert row.actor_id == user.id and row.changed_fields == ["password"]
    assert "no-store" in client.get("/account/password/")["Cache-Control"]


def test_a_successful_sign_in_leaves_no_second_record_outside_the_audit_log(cast):
    from axes.models import AccessLog

    _post_password(Client(), "gp", cast.password)
    assert not AccessLog.objects.exists()
    assert audit_rows(action="sign-in", actor_id=cast.gp.id)
