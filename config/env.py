"""The only reader of the process environment.

Every setting that comes from outside the code is read here, validated, and
returned as a typed value. A value that is missing where it is required, or
that cannot be understood, stops start-up with an error naming the variable,
never a silent default.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _environ() -> Mapping[str, str]:
    return os.environ


def raw(name: str) -> str | None:
    """The variable's value, or None when it is unset or blank."""
    value = _environ().get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def required(name: str) -> str:
    value = raw(name)
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    return value


def string(name: str, default: str) -> str:
    value = raw(name)
    return default if value is None else value


def boolean(name: str, default: bool) -> bool:
    value = raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of true/false/1/0/yes/no/on/off, not {value!r}."
    )


def integer(name: str, default: int, *, minimum: int, maximum: int) -> int:
    value = raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if not minimum <= number <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, not {number}.")
    return number


def string_list(name: str) -> list[str]:
    value = raw(name)
    if value is None:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def database(name: str = "DATABASE_URL", *, default: str | None = None) -> dict[str, object]:
    """Parse a database URL (postgres://… or sqlite:///…) into Django's form."""
    import dj_database_url

    value = raw(name) or default
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    try:
        config: dict[str, object] = dict(dj_database_url.parse(value, conn_max_age=60))
    except ValueError as error:
        raise ImproperlyConfigured(
            f"{name} is not a database URL Accord understands: {error}"
        ) from None
    engine = str(config.get("ENGINE", ""))
    if engine not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
        raise ImproperlyConfigured(f"{name} must name a PostgreSQL or SQLite database.")
    if engine.endswith("postgresql"):
        config["CONN_HEALTH_CHECKS"] = True
        if boolean("DATABASE_PREPARED_STATEMENTS", True):
            # Parameters bound on the server, and a statement run twice on a connection
            # prepared there, so the policy's reads are planned once per connection, not
            # on every request. Turn off behind a pooler that cannot keep prepared
            # statements (docs/operations.md).
            config["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 2}
    else:
        # Writers take the lock when their transaction begins, so two writers of
        # the audit chain queue instead of failing half-way.
        config["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
        config["CONN_MAX_AGE"] = 0
    return config


# The keys the demo and the tests use. They are in this repository, so anything
# sealed or encrypted with them is sealed or encrypted for everyone.
PUBLIC_KEYS = frozenset(
    {
        base64.b64decode("ZGVtby1vbmx5LWtleS1ub3Qtc2VjcmV0LTMyYnl0ZSE="),
        base64.b64decode("dGVzdC1vbmx5LWtleS1ub3Qtc2VjcmV0LTMyYnl0ZXM="),
    }
)


@dataclass(frozen=True)
class KeyRing:
    """Named secret keys: the current one signs or encrypts, older ones only verify."""

    current_id: str
    keys: dict[str, bytes]

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]


def _parse_key(name: str, entry: str) -> tuple[str, bytes]:
    key_id, sep, encoded = entry.partition(":")
    if not sep or not key_id.isalnum() or len(key_id) > 16:
        raise ImproperlyConfigured(
            f"{name} must be written KEYID:BASE64KEY, with a short letters-and-digits key id."
        )
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(
            f"{name}: the key after '{key_id}:' is not valid base64."
        ) from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name}: the key '{key_id}' must be 32 bytes, not {len(key)}.")
    return key_id, key


def key_ring(name: str, *, old_name: str, default: str | None = None) -> KeyRing:
    """Read a current key from `name` and retired keys from `old_name`."""
    entry = raw(name) or default
    if entry is None:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    current_id, current = _parse_key(name, entry)
    if raw(name) is not None and current in PUBLIC_KEYS:
        raise ImproperlyConfigured(
            f"{name} is a key published with Accord's demo or tests: generate a new one."
        )
    keys = {current_id: current}
    for old in string_list(old_name):
        key_id, key = _parse_key(old_name, old)
        if key_id in keys:
            raise ImproperlyConfigured(f"{old_name}: the key id '{key_id}' is used twice.")
        keys[key_id] = key
    return KeyRing(current_id=current_id, keys=keys)
