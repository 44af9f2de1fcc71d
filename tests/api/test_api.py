"""The REST API: sessions and agency keys, scoped actions, one error format, the schema."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.api.models import ApiKey
from accord.api.services import api_key_issue, api_key_revoke, key_digest
from accord.partnership.models import User
from tests.conftest import SCHEMA, audit_rows


@pytest.fixture
def police_key(cast):
    key, secret = api_key_issue(
        actor=cast.police_admin, name="Police case system", scopes=["agency.view"]
    )
    return key, secret


def test_me_describes_the_signed_in_user(cast, api):
    response = api(cast.idva).get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "user" and body["role"] == "idva"
    assert body["agency"]["name"] == "Testshire DA Service"
    assert body["agency"]["victim_survivor_word"] == "client"


def test_nobody_gets_401_in_the_error_format(db, api):
    response = api().get("/api/v1/agencies/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    body = response.json()
    assert body["status"] == 401 and body["title"] and isinstance(body["errors"], list)


def test_a_password_only_session_is_not_enough_for_the_api(cast, api):
    client = api()
    client.force_login(cast.gp)
    assert client.get("/api/v1/me/").status_code == 401


def test_agencies_are_listed_for_the_callers_partnership_only(cast, api):
    response = api(cast.gp).get("/api/v1/agencies/")
    names = [a["name"] for a in response.json()["results"]]
    assert "Testshire Police" in names and "Elsewhere Police" not in names
    other = api(cast.gp).get(f"/api/v1/agencies/{cast.elsewhere_agency.police.id}/")
    assert other.status_code == 404
    assert other.json() == {"status": 404, "title": "Not found.", "errors": []}


def test_a_partnership_admin_adds_an_agency(cast, api):
    response = api(cast.partnership_admin).post(
        "/api/v1/agencies/", {"name": "Testshire Refuge", "sector": "specialist_da"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["victim_survivor_word"] == "client"
    assert (
        audit_rows(action="create", object_type="agency")[0].actor_id == cast.partnership_admin.id
    )


def test_a_practitioner_cannot_add_an_agency(cast, api):
    response = api(cast.gp).post(
        "/api/v1/agencies/", {"name": "X", "sector": "other"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["status"] == 403
    [denial] = audit_rows(action="deny", actor_id=cast.gp.id)
    assert denial.reason == "role does not allow agency.manage"


def test_a_malformed_body_names_each_field_and_changes_nothing(cast, api):
    before = User.objects.count()
    response = api(cast.police_admin).post(
        "/api/v1/users/",
        {"username": "", "role": "wizard", "training_date": "yesterday"},
        format="json",
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"username", "display_name", "role", "password", "training_date"} <= fields
    assert User.objects.count() == before


def test_broken_json_gets_a_clear_400(cast, api):
    response = api(cast.police_admin).post(
        "/api/v1/users/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["errors"][0]["message"]


def test_a_non_json_body_gets_415(cast, api):
    response = api(cast.police_admin).post(
        "/api/v1/users/", "a=b", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_service_errors_arrive_as_field_errors(cast, api):
    response = api(cast.police_admin).post(
        "/api/v1/users/",
        {
            "username": "gp",
            "display_name": "Copy",
            "role": "practitioner",
            "password": "a-long-enough-passphrase",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "username", "message": "This username is already taken."}
    ]


def test_an_agency_admin_creates_and_changes_users_of_their_agency(cast, api):
    client = api(cast.police_admin)
    created = client.post(
        "/api/v1/users/",
        {
            "username": "api.officer",
            "display_name": "Api Officer",
            "role": "practitioner",
            "training_level": "awareness",
            "password": "a-long-enough-passphrase",
        },
        format="json",
    )
    assert created.status_code == 201
    assert "password" not in created.json()
    user_id = created.json()["id"]
    assert created.json()["agency_id"] == str(cast.agency.police.id)
    changed = client.patch(
        f"/api/v1/users/{user_id}/", {"training_level": "specialist"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["training_level"] == "specialist"
    assert client.get(f"/api/v1/users/{cast.gp.id}/").status_code == 404
    assert (
        client.patch(
            f"/api/v1/users/{cast.gp.id}/", {"display_name": "X"}, format="json"
        ).status_code
        == 404
    )
    listed = client.get("/api/v1/users/").json()
    assert {u["agency_id"] for u in listed["results"]} == {str(cast.agency.police.id)}


def test_an_agency_admin_cannot_choose_another_agency_for_a_user(cast, api):
    response = api(cast.police_admin).post(
        "/api/v1/users/",
        {
            "username": "x.y",
            "display_name": "X Y",
            "role": "practitioner",
            "agency_id": str(cast.agency.housing.id),
            "password": "a-long-enough-passphrase",
        },
        format="json",
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="x.y").exists()


def test_the_agency_of_a_user_is_never_taken_from_an_unknown_body_field(cast, api):
    response = api(cast.police_admin).patch(
        f"/api/v1/users/{cast.police_officer.id}/",
        {"agency": str(cast.agency.housing.id)},
        format="json",
    )
    assert response.status_code == 200
    cast.police_officer.refresh_from_db()
    assert cast.police_officer.agency == cast.agency.police


def test_an_api_key_acts_for_its_agency_within_its_scopes(cast, api, police_key):
    key, secret = police_key
    client = api(key=secret)
    me = client.get("/api/v1/me/").json()
    assert me["kind"] == "api_key" and me["agency"]["name"] == "Testshire Police"
    assert client.get("/api/v1/agencies/").status_code == 200
    assert client.get("/api/v1/users/").status_code == 403
    assert (
        client.post(
            "/api/v1/agencies/", {"name": "X", "sector": "other"}, format="json"
        ).status_code
        == 403
    )
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_api_keys_are_stored_only_as_digests(cast, police_key):
    key, secret = police_key
    stored = ApiKey.objects.filter(pk=key.pk).values().get()
    assert secret not in str(stored)
    assert stored["digest"] == key_digest(secret)


def test_a_revoked_or_wrong_key_is_refused_at_once(cast, api, police_key):
    key, secret = police_key
    assert api(key=secret).get("/api/v1/me/").status_code == 200
    api_key_revoke(actor=cast.police_admin, key_id=key.id)
    refused = api(key=secret).get("/api/v1/me/")
    assert refused.status_code == 401
    assert "revoked" in refused.json()["errors"][0]["message"]
    assert api(key=secret[:-2] + "zz").get("/api/v1/me/").status_code == 401
    assert api(key="acc_nothing_here").get("/api/v1/me/").status_code == 401


def test_an_api_key_cannot_hold_scopes_beyond_what_systems_may_do(cast):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        api_key_issue(actor=cast.police_admin, name="Too much", scopes=["user.manage"])
    assert "scopes" in error.value.message_dict


def test_unknown_api_paths_answer_in_the_error_format(cast, api):
    response = api(cast.gp).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_the_schema_and_its_docs_page_are_served(cast, client_for):
    client = client_for(cast.gp)
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/agencies/" in document["paths"]
    operation = document["paths"]["/api/v1/agencies/"]["post"]
    assert {"400", "401", "403"} <= set(operation["responses"])
    docs = client.get("/api/v1/docs/").content.decode()
    assert "Accord API reference" in docs and "/api/v1/agencies/{agency_id}/" in docs
    assert "Request body (UserInRequest)" in docs
    assert Client().get("/api/v1/schema/").status_code == 401


def test_the_api_client_checks_each_response_against_the_schema(cast, api):
    before = SCHEMA.validated
    api(cast.gp).get("/api/v1/agencies/")
    api().get("/api/v1/me/")
    assert SCHEMA.validated == before + 2


def test_renaming_an_agency_to_a_name_in_use_answers_400(cast, api):
    response = api(cast.partnership_admin).patch(
        f"/api/v1/agencies/{cast.agency.gp.id}/", {"name": "Testshire Police"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"
