"""The test cast, shared by every app's tests.

Testshire is the partnership under test: police, a GP practice, a hospital,
housing, children's social care, a specialist domestic abuse service with an
IDVA, a school, probation and a partnership team, with users in every role.
Elsewhere is an outsider partnership that must never see into Testshire.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accord.partnership.models import User
from accord.partnership.seed import AgencySpec, UserSpec, build_partnership
from accord.partnership.vocabulary import Role, Sector

PASSWORD = "correct-horse-battery-staple"

TESTSHIRE = [
    AgencySpec(
        "police",
        "Testshire Police",
        Sector.POLICE,
        (
            UserSpec("police_officer", "Alice Officer", Role.PRACTITIONER),
            UserSpec("police_spoc", "Bea Spoc", Role.AGENCY_SPOC),
            UserSpec("police_admin", "Cal Admin", Role.AGENCY_ADMIN),
            UserSpec("police_dpo", "Uma Dpo", Role.DATA_PROTECTION_OFFICER),
        ),
    ),
    AgencySpec(
        "gp",
        "Testshire Surgery",
        Sector.PRIMARY_HEALTH,
        (UserSpec("gp", "Dee Doctor", Role.PRACTITIONER),),
    ),
    AgencySpec(
        "hospital",
        "Testshire Hospital",
        Sector.ACUTE_HEALTH,
        (UserSpec("nurse", "Eve Nurse", Role.PRACTITIONER),),
    ),
    AgencySpec(
        "housing",
        "Testshire Homes",
        Sector.HOUSING,
        (
            UserSpec("housing_officer", "Fay Housing", Role.PRACTITIONER),
            UserSpec("housing_admin", "Gil Housing Admin", Role.AGENCY_ADMIN),
        ),
    ),
    AgencySpec(
        "childrens",
        "Testshire Children's Services",
        Sector.CHILDRENS_SOCIAL_CARE,
        (UserSpec("social_worker", "Hal Social", Role.PRACTITIONER),),
    ),
    AgencySpec(
        "da_service",
        "Testshire DA Service",
        Sector.SPECIALIST_DA,
        (
            UserSpec("idva", "Ivy Idva", Role.IDVA),
            UserSpec("marac_coordinator", "Jo Coordinator", Role.MARAC_COORDINATOR),
        ),
    ),
    AgencySpec(
        "school",
        "Testshire Primary",
        Sector.EDUCATION,
        (UserSpec("teacher", "Kit Teacher", Role.PRACTITIONER),),
    ),
    AgencySpec(
        "probation",
        "Testshire Probation",
        Sector.PROBATION,
        (UserSpec("probation_officer", "Lee Probation", Role.PRACTITIONER),),
    ),
    AgencySpec(
        "partnership_team",
        "Testshire Partnership Team",
        Sector.OTHER,
        (
            UserSpec("marac_chair", "Mo Chair", Role.MARAC_CHAIR),
            UserSpec("analyst", "Ned Analyst", Role.PARTNERSHIP_ANALYST),
            UserSpec("dpo", "Oz Dpo", Role.DATA_PROTECTION_OFFICER),
            UserSpec("partnership_admin", "Pam Partnership", Role.PARTNERSHIP_ADMIN),
        ),
    ),
]

ELSEWHERE = [
    AgencySpec(
        "police",
        "Elsewhere Police",
        Sector.POLICE,
        (
            UserSpec("outsider", "Quin Outsider", Role.PRACTITIONER),
            UserSpec("outsider_admin", "Rae Outsider Admin", Role.AGENCY_ADMIN),
            UserSpec("outsider_partnership_admin", "Sol Outsider", Role.PARTNERSHIP_ADMIN),
        ),
    ),
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: once Chromium is driven, an event loop runs in this thread."""
    browser = [item for item in items if "/tests/browser/" in str(item.path)]
    for item in browser:
        item.add_marker(pytest.mark.browser)
    others = [item for item in items if item not in browser]
    items[:] = others + browser


@pytest.fixture
def cast(db: None) -> SimpleNamespace:
    """Testshire and Elsewhere, their agencies (`cast.agency.police`) and users (`cast.idva`)."""
    testshire, agencies, users = build_partnership("Testshire", TESTSHIRE, password=PASSWORD)
    elsewhere, other_agencies, other_users = build_partnership(
        "Elsewhere", ELSEWHERE, password=PASSWORD
    )
    return SimpleNamespace(
        testshire=testshire,
        elsewhere=elsewhere,
        agency=SimpleNamespace(**agencies),
        elsewhere_agency=SimpleNamespace(**other_agencies),
        password=PASSWORD,
        **users,
        **other_users,
    )


@pytest.fixture
def world(cast: SimpleNamespace) -> SimpleNamespace:
    """One victim-survivor known to every Testshire agency, with consent, a withdrawal,
    an expiry, a disclosure decision, a restricted record and a confidential address
    (see tests/sharing/world.py for who may see what)."""
    from tests.sharing.world import build_world

    return build_world(cast)


def verify_second_factor(client: Client, user: User) -> TOTPDevice:
    """Sign the client in as `user` with a confirmed authenticator, as after a real code."""
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    """A browser-like client fully signed in (password and second factor) as a user."""

    def make(user: User) -> Client:
        client = Client()
        verify_second_factor(client, user)
        return client

    return make


# --- The API: every response any test receives is checked against the published schema.


class _SchemaValidator:
    def __init__(self) -> None:
        self._openapi: Any = None
        self.validated = 0
        self.operations_seen: set[tuple[str, str, int]] = set()

    def openapi(self) -> Any:
        if self._openapi is None:
            from drf_spectacular.generators import SchemaGenerator
            from openapi_core import OpenAPI
            from rest_framework.renderers import JSONRenderer

            schema = SchemaGenerator().get_schema(request=None, public=True)
            self._openapi = OpenAPI.from_dict(json.loads(JSONRenderer().render(schema)))
        return self._openapi

    def validate(self, response: Any) -> None:
        from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

        request = response.wsgi_request
        if not request.path.startswith("/api/v1/") or request.path.startswith("/api/v1/schema"):
            return
        if request.path.startswith("/api/v1/docs"):
            return
        if request.resolver_match is None:
            # A path that matches no endpoint is in no schema; its body must still be an Error.
            from openapi_schema_validator import OAS30Validator

            from accord.api.errors import ERROR_SCHEMA

            OAS30Validator(ERROR_SCHEMA).validate(json.loads(response.content))
            self.validated += 1
            return
        self.openapi().validate_response(
            DjangoOpenAPIRequest(request), DjangoOpenAPIResponse(response)
        )
        self.validated += 1
        match = request.resolver_match
        route = match.route if match else request.path
        self.operations_seen.add((request.method, route, response.status_code))


SCHEMA = _SchemaValidator()


class ValidatingAPIClient(APIClient):
    """An API client that fails the test if a response does not match the schema."""

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = super().request(*args, **kwargs)
        SCHEMA.validate(response)
        return response


@pytest.fixture
def api() -> Iterator[Callable[..., ValidatingAPIClient]]:
    """`api(user)` for a signed-in session, `api(key=secret)` for an agency system,
    `api()` for nobody. Every response is validated against the OpenAPI schema."""

    def make(user: User | None = None, *, key: str | None = None) -> ValidatingAPIClient:
        client = ValidatingAPIClient()
        if user is not None:
            verify_second_factor(client, user)
        if key is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client

    yield make


def audit_rows(**filters: Any) -> list[Any]:
    from accord.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(**filters).order_by("chain", "id"))
