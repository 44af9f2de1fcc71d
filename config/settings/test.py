"""Tests: a real database named by DATABASE_URL (PostgreSQL under `make test`)."""

from __future__ import annotations

from config import env
from config.settings.base import *  # noqa: F403

DEBUG = False
DEMO_MODE = False
SECOND_FACTOR_REQUIRED = True

SECRET_KEY = "test-only-" + "not-secret-" * 6
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
DATABASES = {"default": env.database("DATABASE_URL")}
_TEST_KEY = "test:" + "dGVzdC1vbmx5LWtleS1ub3Qtc2VjcmV0LTMyYnl0ZXM="
FIELD_ENCRYPTION_KEYS = env.key_ring(
    "ACCORD_FIELD_ENCRYPTION_KEY", old_name="ACCORD_FIELD_ENCRYPTION_OLD_KEYS", default=_TEST_KEY
)
AUDIT_KEYS = env.key_ring("ACCORD_AUDIT_KEY", old_name="ACCORD_AUDIT_OLD_KEYS", default=_TEST_KEY)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
# One process and no worker: seal audit events as soon as each transaction commits.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
AUDIT_SEAL_INTERVAL_SECONDS = 0.0
STATIC_ROOT = None  # served from the apps by WhiteNoise; nothing is collected
