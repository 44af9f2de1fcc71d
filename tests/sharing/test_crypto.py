"""Sensitive free text is encrypted at rest with AES-GCM, and decryption fails closed."""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.test import override_settings

from accord.cases.models import AgencyRecord
from accord.core.crypto import DecryptionError, decrypt, encrypt
from config.env import KeyRing

OTHER = KeyRing(current_id="other", keys={"other": b"o" * 32})


def _raw(record_id, column="body"):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM cases_agencyrecord WHERE id = %s", [record_id])
        return bytes(cursor.fetchone()[0])


def test_the_body_is_not_in_the_database_in_plain_text(cast, world):
    raw = _raw(world.r1.id)
    assert b"Officers attended" not in raw
    assert raw.startswith(b"A1test:")
    assert AgencyRecord.objects.get(pk=world.r1.pk).body.startswith("Officers attended")


def test_a_wrong_key_is_an_error_never_plaintext(cast, world):
    wrong = KeyRing("test", {"test": b"w" * 32})
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=wrong),
        pytest.raises(DecryptionError, match="does not decrypt"),
    ):
        AgencyRecord.objects.get(pk=world.r1.pk)


def test_a_missing_key_is_an_error_that_names_the_key(cast, world):
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=OTHER),
        pytest.raises(DecryptionError, match="key 'test'"),
    ):
        AgencyRecord.objects.get(pk=world.r1.pk)


def test_a_changed_byte_is_an_error(cast, world):
    raw = bytearray(_raw(world.r1.id))
    raw[-1] ^= 1
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_agencyrecord SET body = %s WHERE id = %s", [bytes(raw), world.r1.id]
        )
    with pytest.raises(DecryptionError):
        AgencyRecord.objects.get(pk=world.r1.pk)


def test_a_value_moved_to_another_column_does_not_decrypt(cast, world):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_agencyrecord SET summary = body WHERE id = %s", [world.r1.id])
    with pytest.raises(DecryptionError):
        AgencyRecord.objects.get(pk=world.r1.pk)


def test_plain_text_in_an_encrypted_column_is_refused(cast, world):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_agencyrecord SET body = %s WHERE id = %s", [b"plain words", world.r1.id]
        )
    with pytest.raises(DecryptionError, match="not an encrypted value"):
        AgencyRecord.objects.get(pk=world.r1.pk)


def test_a_retired_key_still_decrypts_and_new_values_use_the_current_key(cast, world):
    old = KeyRing(
        "test", {"test": base64.b64decode("dGVzdC1vbmx5LWtleS1ub3Qtc2VjcmV0LTMyYnl0ZXM=")}
    )
    rotated = KeyRing("new", {"new": b"n" * 32, **old.keys})
    with override_settings(FIELD_ENCRYPTION_KEYS=rotated):
        assert AgencyRecord.objects.get(pk=world.r1.pk).body.startswith("Officers attended")
        sealed = encrypt("fictional", context="t.c")
        assert sealed.startswith(b"A1new:")
        assert decrypt(sealed, context="t.c") == "fictional"


def test_each_encryption_uses_a_fresh_nonce():
    assert encrypt("same", context="t.c") != encrypt("same", context="t.c")


def test_fields_reencrypt_moves_every_value_to_the_current_key(cast, world):
    from io import StringIO

    from django.core.management import call_command

    old = KeyRing(
        "test", {"test": base64.b64decode("dGVzdC1vbmx5LWtleS1ub3Qtc2VjcmV0LTMyYnl0ZXM=")}
    )
    rotated = KeyRing("new", {"new": b"n" * 32, **old.keys})
    with override_settings(FIELD_ENCRYPTION_KEYS=rotated):
        out = StringIO()
        call_command("fields_reencrypt", "--check", stdout=out)
        assert "cases.AgencyRecord: test" in out.getvalue()
        call_command("fields_reencrypt", stdout=StringIO())
        out = StringIO()
        call_command("fields_reencrypt", "--check", stdout=out)
        assert ": test:" not in out.getvalue() and "cases.AgencyRecord: new" in out.getvalue()
    only_new = KeyRing("new", {"new": b"n" * 32})
    with override_settings(FIELD_ENCRYPTION_KEYS=only_new):
        assert AgencyRecord.objects.get(pk=world.r1.pk).body.startswith("Officers attended")
        assert _raw(world.r1.id).startswith(b"A1new:")
