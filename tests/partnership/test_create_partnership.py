"""Setting up a new partnership from the command line."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.partnership.models import Partnership, User
from tests.conftest import audit_rows

ARGS = [
    "--name",
    "Newshire",
    "--agency",
    "Newshire Council",
    "--sector",
    "other",
    "--admin-username",
    "new.admin",
    "--admin-name",
    "Nia Admin",
]


def test_it_creates_the_partnership_its_agency_and_admin(db, monkeypatch):
    monkeypatch.setenv("ACCORD_INITIAL_ADMIN_PASSWORD", "a-long-enough-passphrase")
    call_command("create_partnership", *ARGS, stdout=StringIO())
    admin = User.objects.get(username="new.admin")
    assert admin.role == "partnership_admin"
    assert admin.agency.partnership.name == "Newshire"
    assert admin.check_password("a-long-enough-passphrase")
    rows = audit_rows(chain=str(admin.agency.partnership_id))
    assert [r.object_type for r in rows] == ["partnership", "agency", "user"]


def test_it_refuses_a_weak_password_and_writes_nothing(db, monkeypatch):
    monkeypatch.setenv("ACCORD_INITIAL_ADMIN_PASSWORD", "password")
    with pytest.raises(CommandError, match="password is refused"):
        call_command("create_partnership", *ARGS, stdout=StringIO())
    assert not Partnership.objects.exists() and not User.objects.exists()


def test_it_refuses_a_name_already_used(cast, monkeypatch):
    monkeypatch.setenv("ACCORD_INITIAL_ADMIN_PASSWORD", "a-long-enough-passphrase")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_partnership", *[a if a != "Newshire" else "testshire" for a in ARGS])
