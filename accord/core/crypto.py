"""Encryption of sensitive free text at rest: AES-256-GCM with keys from the environment.

A stored value is `b"A1" + key id + b":" + 12-byte nonce + ciphertext-and-tag`. The
associated data binds a value to its table and column, so a ciphertext copied into
another column does not decrypt. Decryption fails closed: an unknown key id, a wrong
key or a changed byte raises `DecryptionError`; nothing ever falls back to plaintext.
New values are written with the current key; retired keys only decrypt.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import models

_PREFIX = b"A1"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value could not be decrypted with the configured keys."""


def encrypt(plaintext: str, *, context: str) -> bytes:
    """Encrypt `plaintext` with the current field key, bound to `context`."""
    ring = settings.FIELD_ENCRYPTION_KEYS
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(ring.current).encrypt(nonce, plaintext.encode(), context.encode())
    return _PREFIX + ring.current_id.encode() + b":" + nonce + sealed


def key_id_of(stored: bytes) -> str:
    """The id of the key a stored value was encrypted with (for rotation reports)."""
    return bytes(stored)[len(_PREFIX) :].partition(b":")[0].decode(errors="replace")


def decrypt(stored: bytes, *, context: str) -> str:
    """Decrypt a value written by `encrypt` for the same `context`."""
    stored = bytes(stored)
    if not stored.startswith(_PREFIX):
        raise DecryptionError(f"{context}: the stored value is not an encrypted value.")
    key_id, sep, rest = stored[len(_PREFIX) :].partition(b":")
    if not sep or len(rest) < _NONCE_BYTES + 16:
        raise DecryptionError(f"{context}: the stored value is truncated.")
    key = settings.FIELD_ENCRYPTION_KEYS.keys.get(key_id.decode(errors="replace"))
    if key is None:
        raise DecryptionError(
            f"{context}: encrypted with key '{key_id.decode(errors='replace')}', "
            "which is not configured (ACCORD_FIELD_ENCRYPTION_KEY or _OLD_KEYS)."
        )
    try:
        plain = AESGCM(key).decrypt(rest[:_NONCE_BYTES], rest[_NONCE_BYTES:], context.encode())
    except InvalidTag:
        raise DecryptionError(
            f"{context}: the key does not decrypt this value, or the value was changed."
        ) from None
    return plain.decode()


class EncryptedTextField(models.BinaryField):
    """Text that is stored encrypted and read back as `str`.

    It cannot be filtered or ordered on in the database: that is the point.
    """

    # What the type checker's Django plugin reads as the attribute's type.
    _pyi_private_set_type: str
    _pyi_private_get_type: str  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", "")
        kwargs["editable"] = True
        super().__init__(*args, **kwargs)

    def _check_str_default_value(self) -> list[Any]:
        return []  # the default is text, encrypted on the way in like any other value

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        if kwargs.get("default") == "":
            kwargs.pop("default")
        return name, path, args, kwargs

    def _context(self) -> str:
        return f"{self.model._meta.db_table}.{self.column}"

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, (bytes, memoryview)):
            raise TypeError(f"{self._context()} takes text, not bytes.")
        return encrypt(str(value), context=self._context())

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        return connection.Database.Binary(value) if value is not None else None

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return decrypt(bytes(value), context=self._context())

    def to_python(self, value: Any) -> Any:
        if isinstance(value, (bytes, memoryview)):
            return decrypt(bytes(value), context=self._context())
        return value

    def value_to_string(self, obj: Any) -> str:
        return str(self.value_from_object(obj))
