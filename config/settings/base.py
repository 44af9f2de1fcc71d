"""Settings shared by every mode. Values from outside come through config.env only."""

from __future__ import annotations

from pathlib import Path

from config import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = False
DEMO_MODE = False

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "django_tasks",
    "django_tasks_db",
    "accord.audit",
    "accord.partnership",
    "accord.people",
    "accord.cases",
    "accord.marac",
    "accord.sharing",
    "accord.api",
    "accord.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accord.web.middleware.SignInStepsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "accord.web.context.accord",
            ],
        },
    },
]

AUTH_USER_MODEL = "partnership.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accord.partnership.backends.AccordModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:sign-in"
LOGIN_REDIRECT_URL = "web:home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT: Path | str | None = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions end after a period of inactivity: every request renews the cookie.
SESSION_IDLE_MINUTES = env.integer("ACCORD_SESSION_IDLE_MINUTES", 30, minimum=5, maximum=720)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "accord_session"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_NAME = "accord_csrf"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "manifest-src": ["'self'"],
    }
}

# Sign-in lockout: per username *and* per address, so one attacker cannot lock
# every account and one account cannot be sprayed from many addresses unnoticed.
AXES_FAILURE_LIMIT = env.integer("ACCORD_SIGNIN_FAILURE_LIMIT", 5, minimum=3, maximum=20)
AXES_COOLOFF_TIME = env.integer("ACCORD_SIGNIN_LOCKOUT_MINUTES", 15, minimum=1, maximum=1440) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A successful sign-in must not wipe failures: one colleague's own sign-in would
# otherwise reset the count against everyone else's name from the same address.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "accord.web.signin.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accord.web.signin.lockout_username"
AXES_CLIENT_IP_CALLABLE = "accord.web.signin.client_ip"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Sign-ins are in the audit log already; axes need not keep a second record of every
# success with the person's address and browser.
AXES_DISABLE_ACCESS_LOG = True
# Only behind Accord's own TLS proxy (production: ACCORD_BEHIND_TLS_PROXY).
TRUST_FORWARDED_FOR = False

OTP_TOTP_ISSUER = "Accord"
OTP_TOTP_THROTTLE_FACTOR = 1

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accord.api.authentication.ApiKeyAuthentication",
        "accord.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accord.api.permissions.DeclaredActionPermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "accord.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Accord API",
    "DESCRIPTION": (
        "The REST API of Accord, the multi-agency case coordination platform for domestic "
        "abuse partnerships. Agency systems authenticate with an agency API key "
        "(`Authorization: Api-Key <key>`); browsers use their signed-in session."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # One name for each vocabulary, wherever a field uses it.
    "ENUM_NAME_OVERRIDES": {
        "SectorEnum": "accord.partnership.vocabulary.Sector",
        "InformationCategoryEnum": "accord.sharing.vocabulary.InformationCategory",
        "PurposeEnum": "accord.sharing.vocabulary.Purpose",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "accord.api.errors.add_error_responses",
    ],
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Audit events are sealed into their chain by the background worker shortly after
# commit; each process asks for sealing at most this often.
AUDIT_SEAL_INTERVAL_SECONDS = 1.0
# audit_verify fails when an event has waited longer than this to be sealed.
AUDIT_SEAL_MAX_LAG_SECONDS = env.integer(
    "ACCORD_AUDIT_SEAL_MAX_LAG_SECONDS", 300, minimum=10, maximum=86400
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"axes": {"level": "ERROR"}},
}
CSRF_FAILURE_VIEW = "accord.web.errors.csrf_failure"
