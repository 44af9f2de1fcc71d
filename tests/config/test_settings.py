"""Settings read the environment once, refuse what they don't understand, and fail closed."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env

ROOT = Path(__file__).resolve().parents[2]
KEY = "k1:" + "a2V5LWZvci1hY2NvcmQtcHJvZHVjdGlvbi10ZXN0cyE="  # 32 bytes, test-only
AUDIT_KEY = "a1:" + base64.b64encode(b"audit-key-for-accord-prod-tests!").decode()

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "test-only-Qm7#vR2@pL9!zX4&kW8^nB1*cT6%yH3-fake-production-key",
    "ALLOWED_HOSTS": "accord.example.org",
    "DATABASE_URL": "postgres://accord@127.0.0.1:5432/accord",
    "ACCORD_FIELD_ENCRYPTION_KEY": KEY,
    "ACCORD_AUDIT_KEY": AUDIT_KEY,
}


def _clean_environment() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACCORD_", "DJANGO_")) and k not in PRODUCTION
    }


def _run(code: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = _clean_environment()
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


LOAD = "import django; django.setup(); print('loaded')"


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "ACCORD_FIELD_ENCRYPTION_KEY",
        "ACCORD_AUDIT_KEY",
    ],
)
def test_production_refuses_to_start_without(missing):
    environment = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _run(LOAD, environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr.splitlines()[-1]


def test_production_starts_with_everything_set():
    result = _run(LOAD, PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded"


def test_production_check_deploy_is_clean():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env={**_clean_environment(), **PRODUCTION},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_demo_mode_cannot_be_switched_on_in_production():
    result = _run(LOAD, {**PRODUCTION, "ACCORD_DEMO_MODE": "true"})
    assert result.returncode != 0
    assert "ACCORD_DEMO_MODE cannot be set in production" in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = _run(LOAD, {**PRODUCTION, "SECRET_KEY": "short"})
    assert result.returncode != 0 and "SECRET_KEY must be at least 50" in result.stderr


def test_production_refuses_a_malformed_key():
    result = _run(LOAD, {**PRODUCTION, "ACCORD_AUDIT_KEY": "a1:not base64!"})
    assert result.returncode != 0 and "ACCORD_AUDIT_KEY" in result.stderr


def test_manage_py_without_settings_module_is_production_and_refuses():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_error_pages_show_no_traces():
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)\n"
    )
    result = _run(code, PRODUCTION)
    assert result.stdout.split() == ["False", "True", "True"]


@pytest.fixture
def environ(monkeypatch):
    def set_(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_


def test_booleans_refuse_words_they_do_not_know(environ):
    environ(ACCORD_X="maybe")
    with pytest.raises(ImproperlyConfigured, match="ACCORD_X must be one of"):
        env.boolean("ACCORD_X", False)


def test_integers_are_bounded(environ):
    environ(ACCORD_SESSION_IDLE_MINUTES="0")
    with pytest.raises(ImproperlyConfigured, match="between 5 and 720"):
        env.integer("ACCORD_SESSION_IDLE_MINUTES", 30, minimum=5, maximum=720)
    environ(ACCORD_SESSION_IDLE_MINUTES="ten")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env.integer("ACCORD_SESSION_IDLE_MINUTES", 30, minimum=5, maximum=720)


def test_database_urls_must_name_postgresql_or_sqlite(environ):
    environ(DATABASE_URL="mysql://u@h/db")
    with pytest.raises(ImproperlyConfigured, match="PostgreSQL or SQLite"):
        env.database()


def test_key_rings_keep_retired_keys_for_checking(environ):
    environ(ACCORD_K=KEY, ACCORD_K_OLD="k0:" + "b2xkLWtleS1mb3ItYWNjb3JkLXByb2QtdGVzdHMhISE=")
    ring = env.key_ring("ACCORD_K", old_name="ACCORD_K_OLD")
    assert ring.current_id == "k1" and set(ring.keys) == {"k1", "k0"}
    environ(ACCORD_K_OLD="k1:" + KEY.split(":")[1])
    with pytest.raises(ImproperlyConfigured, match="used twice"):
        env.key_ring("ACCORD_K", old_name="ACCORD_K_OLD")


def test_session_idle_timeout_is_thirty_minutes_by_default(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ALLOWED_HOSTS": "*"}, "not '*'"),
        ({"DATABASE_URL": "sqlite:///accord.sqlite3"}, "PostgreSQL database in production"),
        ({"ACCORD_AUDIT_KEY": KEY.replace("k1", "a9")}, "must be different keys"),
        (
            {"ACCORD_AUDIT_KEY": "d1:ZGVtby1vbmx5LWtleS1ub3Qtc2VjcmV0LTMyYnl0ZSE="},
            "published with Accord's demo or tests",
        ),
    ],
)
def test_production_refuses_unsafe_values(changes, message):
    result = _run(LOAD, {**PRODUCTION, **changes})
    assert result.returncode != 0
    assert message in result.stderr.splitlines()[-1]


def test_the_demo_refuses_any_database_but_sqlite():
    result = _run(
        LOAD,
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.demo",
            "DATABASE_URL": "postgres://accord@127.0.0.1:5432/accord",
        },
    )
    assert result.returncode != 0
    assert "The demo runs on SQLite only" in result.stderr
