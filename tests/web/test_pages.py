"""Pages: the header names agency and role; administration is scoped to the actor."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.api.models import ApiKey
from accord.partnership.models import Agency, User
from tests.conftest import audit_rows

EVERY_ROLE_USER = [
    "police_officer",
    "police_spoc",
    "police_admin",
    "idva",
    "marac_coordinator",
    "marac_chair",
    "analyst",
    "dpo",
    "partnership_admin",
]


@pytest.mark.parametrize("username", EVERY_ROLE_USER)
def test_the_work_queue_shows_who_and_where_you_are(cast, client_for, username):
    user = getattr(cast, username)
    page = client_for(user).get("/").content.decode()
    assert "Your work queue" in page
    assert "Nothing is waiting for you." in page
    assert user.display_name in page and user.agency.name in page
    assert user.get_role_display() in page.replace("&#x27;", "'")
    assert "This is a demonstration" not in page


def test_the_demo_banner_is_on_every_page_in_demo_mode(cast, client_for, settings):
    settings.DEMO_MODE = True
    assert "This is a demonstration" in Client().get("/sign-in/").content.decode()
    assert "This is a demonstration" in client_for(cast.gp).get("/").content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(db):
    for path in ["/", "/agencies/", "/users/", "/api-keys/"]:
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


def test_everyone_sees_their_own_partnerships_agencies_only(cast, client_for):
    page = client_for(cast.teacher).get("/agencies/").content.decode()
    assert "Testshire Police" in page and "Elsewhere Police" not in page
    assert "Add an agency" not in page


def test_practitioners_cannot_open_administration(cast, client_for):
    client = client_for(cast.police_officer)
    for path in ["/users/", "/users/new/", "/agencies/new/", "/api-keys/"]:
        assert client.get(path).status_code == 403
    denials = audit_rows(action="deny", actor_id=cast.police_officer.id)
    assert [d.reason for d in denials] == [
        "role does not allow user.view",
        "role does not allow user.manage",
        "role does not allow agency.manage",
        "role does not allow api_key.manage",
    ]
    assert "Users" not in client.get("/").content.decode().split("<main")[0]


def test_an_agency_admin_lists_and_adds_users_in_their_agency(cast, client_for):
    client = client_for(cast.police_admin)
    page = client.get("/users/").content.decode()
    assert "Alice Officer" in page and "Dee Doctor" not in page
    form = client.get("/users/new/").content.decode()
    assert "Partnership admin" not in form
    assert "Testshire Homes" not in form
    response = client.post(
        "/users/new/",
        {
            "username": "new.officer",
            "display_name": "New Officer",
            "email": "",
            "agency": cast.agency.police.id,
            "role": "practitioner",
            "training_level": "awareness",
            "training_date": "2025-02-01",
            "password": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="new.officer").agency == cast.agency.police


def test_an_agency_admin_cannot_post_a_user_into_another_agency(cast, client_for):
    response = client_for(cast.police_admin).post(
        "/users/new/",
        {
            "username": "sneaky",
            "display_name": "Sneaky",
            "agency": cast.agency.housing.id,
            "role": "practitioner",
            "training_level": "none",
            "password": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not User.objects.filter(username="sneaky").exists()


def test_form_errors_are_summarised_and_nothing_is_saved(cast, client_for):
    before = User.objects.count()
    response = client_for(cast.police_admin).post(
        "/users/new/",
        {
            "username": "",
            "display_name": "",
            "agency": cast.agency.police.id,
            "role": "practitioner",
            "training_level": "none",
            "password": "short",
        },
    )
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Enter a username." in page and "Enter the person&#x27;s name." in page
    assert "<title>Error:" in page
    assert User.objects.count() == before


def test_another_agencys_user_page_is_not_found(cast, client_for):
    client = client_for(cast.police_admin)
    assert client.get(f"/users/{cast.gp.id}/").status_code == 404
    assert client.get(f"/users/{cast.police_officer.id}/").status_code == 200


def test_editing_a_user_records_their_training(cast, client_for):
    client = client_for(cast.police_admin)
    response = client.post(
        f"/users/{cast.police_officer.id}/",
        {
            "display_name": "Alice Officer",
            "email": "",
            "role": "practitioner",
            "training_level": "specialist",
            "training_date": "2025-09-30",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    cast.police_officer.refresh_from_db()
    assert cast.police_officer.training_level == "specialist"
    assert str(cast.police_officer.training_date) == "2025-09-30"


def test_a_partnership_admin_adds_and_changes_agencies(cast, client_for):
    client = client_for(cast.partnership_admin)
    response = client.post(
        "/agencies/new/", {"name": "Testshire Refuge", "sector": "specialist_da"}
    )
    assert response.status_code == 302
    agency = Agency.objects.get(name="Testshire Refuge")
    response = client.post(
        f"/agencies/{agency.id}/",
        {
            "name": "Testshire Refuge",
            "sector": "specialist_da",
            "victim_survivor_word": "resident",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.word_for_victim_survivor == "resident"
    assert client.get(f"/agencies/{cast.elsewhere_agency.police.id}/").status_code == 404


def test_an_agency_admin_issues_and_revokes_an_api_key(cast, client_for):
    client = client_for(cast.police_admin)
    page = client.post("/api-keys/", {"name": "Case system", "scopes": ["agency.view"]})
    html = page.content.decode()
    key = ApiKey.objects.get(name="Case system")
    secret = html.split('data-testid="issued-key">')[1].split("<")[0]
    assert secret.startswith("acc_") and key.digest not in html
    assert secret not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    client.post(f"/api-keys/{key.id}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert [r.action for r in audit_rows(object_id=key.id)] == ["create", "update"]


def test_another_agencys_api_key_cannot_be_revoked(cast, client_for):
    from accord.api.services import api_key_issue

    key, _ = api_key_issue(actor=cast.housing_admin, name="Housing system", scopes=["agency.view"])
    assert client_for(cast.police_admin).post(f"/api-keys/{key.id}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_unknown_pages_get_a_plain_not_found_page(cast, client_for):
    response = client_for(cast.gp).get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_the_user_list_filters_as_the_admin_types(cast, client_for):
    client = client_for(cast.police_admin)
    page = client.post("/users/", {"q": "spoc"}).content.decode()
    assert "Bea Spoc" in page and "Alice Officer" not in page
    rows = client.post("/users/", {"q": "alice"}, headers={"HX-Request": "true"}).content.decode()
    assert rows.lstrip().startswith('<tbody class="govuk-table__body" id="user-rows">')
    assert "Alice Officer" in rows and "<html" not in rows
    # The filter never widens the admin's reach.
    assert "Dee Doctor" not in client.post("/users/", {"q": "dee"}).content.decode()


def test_an_agency_admin_resets_a_lost_second_factor(cast, client_for):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accord.partnership.models import RecoveryCodeDevice

    TOTPDevice.objects.create(user=cast.police_officer, name="old phone", confirmed=True)
    RecoveryCodeDevice.objects.create(
        user=cast.police_officer, name="codes", confirmed=True
    ).issue_codes(10)
    client = client_for(cast.police_admin)
    response = client.post(f"/users/{cast.police_officer.id}/reset-second-factor/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.police_officer).exists()
    assert not RecoveryCodeDevice.objects.filter(user=cast.police_officer).exists()
    [row] = audit_rows(reason="second factor reset")
    assert row.object_id == cast.police_officer.id and row.actor_id == cast.police_admin.id
    # Another agency's user is not theirs to reset.
    TOTPDevice.objects.create(user=cast.gp, name="phone", confirmed=True)
    assert client.post(f"/users/{cast.gp.id}/reset-second-factor/").status_code == 404
    assert TOTPDevice.objects.filter(user=cast.gp).exists()
    assert client.get(f"/users/{cast.police_officer.id}/reset-second-factor/").status_code == 405


def test_an_agency_admin_lifts_a_sign_in_lock(cast, client_for, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            "/sign-in/", {"username": "police_officer", "password": "wrong"}, REMOTE_ADDR="10.0.0.9"
        )
    locked = Client().post(
        "/sign-in/",
        {"username": "police_officer", "password": cast.password},
        REMOTE_ADDR="10.0.0.8",
    )
    assert locked.status_code == 429
    client_for(cast.police_admin).post(f"/users/{cast.police_officer.id}/unlock/")
    after = Client().post(
        "/sign-in/",
        {"username": "police_officer", "password": cast.password},
        REMOTE_ADDR="10.0.0.8",
    )
    assert after.status_code == 302
    assert [r.reason for r in audit_rows(object_id=cast.police_officer.id, action="update")] == [
        "sign-in lockout lifted"
    ]
    assert (
        client_for(cast.police_officer).post(f"/users/{cast.police_officer.id}/unlock/").status_code
        == 403
    )


def test_server_errors_show_a_plain_page_without_traces(db, settings):
    from django.test import RequestFactory

    from accord.web.errors import server_error

    page = server_error(RequestFactory().get("/agencies/"))
    assert page.status_code == 500
    html = page.content.decode()
    assert "Sorry, there is a problem with the service" in html and "Traceback" not in html
    api = server_error(RequestFactory().get("/api/v1/agencies/"))
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
    assert api.content.decode().startswith('{"status": 500')
