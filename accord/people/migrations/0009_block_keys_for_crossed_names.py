"""The candidate index's keys for the two blocking rules on transposed names (given
name on one side, family name on the other, with the same date of birth or the same
postcode), added for the identities that exist, from their stored match features.

Each identity is stored under its given name and under its family name, each with the
date (or postcode), as `BlockingRule.keys` stores a crossed rule. The keys are spelt out
here, not read from the rules, so that this migration does what it did when written
whatever the rules become.
"""

from django.db import migrations

from accord.people.index.candidates import key_hash

CROSSED = (("crossed_dob", "dob"), ("crossed_postcode", "postcode"))
CHUNK = 2000


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
