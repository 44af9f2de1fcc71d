"""Demo: one process, SQLite, a fictional partnership, a banner on every page.

The keys below are public and useless outside a laptop demo; production
settings never read them.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config import env
from config.settings.base import *  # noqa: F403

DEBUG = False
DEMO_MODE = True
SECOND_FACTOR_REQUIRED = env.boolean("ACCORD_DEMO_REQUIRE_SECOND_FACTOR", False)

SECRET_KEY = "demo-only-" + "not-secret-" * 6
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES = {
    "default": env.database(
        "DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'var' / 'demo.sqlite3'}",  # noqa: F405
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # The demo's keys and password are public: it must never point at a real database.
    raise ImproperlyConfigured("The demo runs on SQLite only; DATABASE_URL names another database.")
_DEMO_KEY = "demo:" + "ZGVtby1vbmx5LWtleS1ub3Qtc2VjcmV0LTMyYnl0ZSE="
FIELD_ENCRYPTION_KEYS = env.key_ring(
    "ACCORD_FIELD_ENCRYPTION_KEY", old_name="ACCORD_FIELD_ENCRYPTION_OLD_KEYS", default=_DEMO_KEY
)
AUDIT_KEYS = env.key_ring("ACCORD_AUDIT_KEY", old_name="ACCORD_AUDIT_OLD_KEYS", default=_DEMO_KEY)
WHITENOISE_USE_FINDERS = True
# One process and no worker: seal audit events as soon as each transaction commits.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
AUDIT_SEAL_INTERVAL_SECONDS = 0.0
STATIC_ROOT = None  # served from the apps by WhiteNoise; nothing is collected
WHITENOISE_AUTOREFRESH = True
