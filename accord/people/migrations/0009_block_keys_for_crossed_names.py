"""The candidate index's keys for the blocking rule on transposed names (given name on
one side, family name on the other, with the same date of birth), added for the
identities that exist, from their stored match features.

Each identity is stored under its given name and under its family name, each with the
date, as `BlockingRule.keys` stores a crossed rule. The keys and their
hash are spelt out here, not read from the code, so that this migration does what it
did when written whatever the code becomes.
"""

import hashlib

from django.db import migrations

CROSSED = (("crossed_dob", "dob"),)
CHUNK = 2000


def key_hash(partnership_id, key):
    """As `accord.people.index.candidates.key_hash` computed it when this was written."""
    text = "\x1f".join((str(partnership_id), *key)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)


def crossed_keys(partnership_id, values):
    names = [values.get("given"), values.get("family")]
    keys = set()
    for rule, column in CROSSED:
        other = values.get(column)
        if other is None:
            continue
        keys.update(key_hash(partnership_id, (rule, name, other)) for name in names if name)
    return keys


def add_keys(apps, schema_editor):
    MatchFeatures = apps.get_model("people", "MatchFeatures")
    BlockKey = apps.get_model("people", "BlockKey")
    rows = MatchFeatures.objects.values_list("identity_id", "partnership_id", "values")
    batch = []
    for identity_id, partnership_id, values in rows.iterator(chunk_size=CHUNK):
        batch.extend(
            BlockKey(key=key, identity_id=identity_id)
            for key in crossed_keys(partnership_id, values)
        )
        if len(batch) >= CHUNK:
            BlockKey.objects.bulk_create(batch)
            batch = []
    BlockKey.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0008_review_not_linked_because"),
    ]

    operations = [
        migrations.RunPython(add_keys, migrations.RunPython.noop),
    ]
