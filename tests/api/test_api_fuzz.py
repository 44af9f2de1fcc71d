"""Generated requests for every API operation: no server errors, and every answer as
documented (status, content type, body and headers), for valid and malformed input."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from accord.api.docs import schema_document
from tests.conftest import verify_second_factor

schema = schemathesis.openapi.from_dict(schema_document())
schema.app = get_wsgi_application()

CSRF = "fuzzcsrfsecretfuzzcsrfsecret1234"  # 32 characters, as Django's CSRF secrets are
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture
def admin_session(cast, client):
    """A partnership admin's session (password and second factor): every operation is open."""
    verify_second_factor(client, cast.partnership_admin)
    # As Django's own test client does: the test's transaction must outlive each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield client.cookies["accord_session"].value
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_as_documented(case, admin_session):
    response = case.call(
        cookies={"accord_session": admin_session, "accord_csrf": CSRF},
        headers={"X-CSRFToken": CSRF},
    )
    case.validate_response(response, checks=CHECKS)
