"""Production: every secret from the environment, nothing defaulted, demo mode impossible."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config import env
from config.settings.base import *  # noqa: F403

if env.raw("ACCORD_DEMO_MODE") is not None:
    raise ImproperlyConfigured(
        "ACCORD_DEMO_MODE cannot be set in production: demo mode exists only in the demo settings."
    )

DEBUG = False
DEMO_MODE = False
SECOND_FACTOR_REQUIRED = True

SECRET_KEY = env.required("SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters of random text.")
ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("The environment variable ALLOWED_HOSTS must be set.")
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name Accord's hosts, not '*'.")
CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS if not host.startswith(".")]

DATABASES = {"default": env.database("DATABASE_URL")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    # SQLite has no append-only guard on the audit log and one writer at a time.
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database in production.")
FIELD_ENCRYPTION_KEYS = env.key_ring(
    "ACCORD_FIELD_ENCRYPTION_KEY", old_name="ACCORD_FIELD_ENCRYPTION_OLD_KEYS"
)
AUDIT_KEYS = env.key_ring("ACCORD_AUDIT_KEY", old_name="ACCORD_AUDIT_OLD_KEYS")
if set(AUDIT_KEYS.keys.values()) & set(FIELD_ENCRYPTION_KEYS.keys.values()):
    raise ImproperlyConfigured(
        "ACCORD_AUDIT_KEY and ACCORD_FIELD_ENCRYPTION_KEY must be different keys."
    )

SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = env.integer("ACCORD_HSTS_SECONDS", 31536000, minimum=3600, maximum=63072000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.boolean("ACCORD_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
if env.boolean("ACCORD_BEHIND_TLS_PROXY", False):
    # Only behind a proxy that strips and sets this header itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

STATIC_ROOT = env.string("ACCORD_STATIC_ROOT", str(BASE_DIR / "var" / "static"))  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
TRUST_FORWARDED_FOR = env.boolean("ACCORD_BEHIND_TLS_PROXY", False)
