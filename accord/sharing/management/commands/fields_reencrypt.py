"""`manage.py fields_reencrypt`: re-encrypt every encrypted field under the current key.

Run after rotating ACCORD_FIELD_ENCRYPTION_KEY (the old key moved to
ACCORD_FIELD_ENCRYPTION_OLD_KEYS). `--check` only counts values per key id, so an
operator can see when no value needs a retired key any more and drop it. Values are
decrypted and written back in batches, each batch in its own transaction; the
command can be stopped and run again.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accord.audit.models import AuditAction
from accord.audit.services import audit_record
from accord.core.crypto import EncryptedTextField, key_id_of

BATCH = 500


def encrypted_fields() -> list[tuple[Any, list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


class Command(BaseCommand):
    help = "Re-encrypt encrypted fields under the current key (or count them with --check)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="Only count values per key.")

    def handle(self, *args: Any, **options: Any) -> None:
        current = settings.FIELD_ENCRYPTION_KEYS.current_id
        counts: Counter[str] = Counter()
        rewritten = 0
        for model, names in encrypted_fields():
            stale = self._stale(model, names, current, counts)
            if options["check"]:
                continue
            for start in range(0, len(stale), BATCH):
                with transaction.atomic():
                    # Loading decrypts with whichever key wrote the value; saving
                    # encrypts with the current key.
                    for obj in model.objects.filter(pk__in=stale[start : start + BATCH]):
                        obj.save(update_fields=names)
                        rewritten += 1
        for entry, count in sorted(counts.items()):
            self.stdout.write(f"{entry}: {count} value(s)")
        if not options["check"]:
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                object_type="field_encryption",
                reason=f"re-encrypted {rewritten} row(s) under key {current}",
            )
            self.stdout.write(f"Re-encrypted {rewritten} row(s) under key '{current}'.")

    def _stale(self, model: Any, names: list[str], current: str, counts: Counter[str]) -> list[Any]:
        """Primary keys of rows with a value under a retired key; counts every value's key."""
        table, pk = model._meta.db_table, model._meta.pk.column
        columns = ", ".join(model._meta.get_field(n).column for n in names)
        stale = []
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk}, {columns} FROM {table}")  # noqa: S608 (names from models)
            for row in cursor.fetchall():
                keys = [key_id_of(value) for value in row[1:] if value is not None]
                counts.update(f"{model._meta.label}: {key}" for key in keys)
                if any(key != current for key in keys):
                    stale.append(row[0])
        return stale
