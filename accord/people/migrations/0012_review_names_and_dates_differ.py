"""ReviewItem.names_and_dates_differ, set for the items there are from the comparison
each item stored when it was last queued."""

from django.db import migrations, models

# As the matcher labelled them when this was written (a migration does what it did).
DIFFERENT = ("given_name_and_birth", "Different given name and date of birth")
IDENTIFIERS = ("nhs_number", "police_id")


def _differ(contributions):
    levels = {c.get("comparison"): c.get("label") for c in contributions}
    return levels.get(DIFFERENT[0]) == DIFFERENT[1] and not any(
        levels.get(name) == "Exact match" for name in IDENTIFIERS
    )


def backfill(apps, schema_editor):
    ReviewItem = apps.get_model("people", "ReviewItem")
    found = [
        pk
        for pk, contributions in ReviewItem.objects.values_list("pk", "contributions").iterator()
        if _differ(contributions or [])
    ]
    for start in range(0, len(found), 2000):
        ReviewItem.objects.filter(pk__in=found[start : start + 2000]).update(
            names_and_dates_differ=True
        )


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0011_review_not_linked_vague"),
    ]

    operations = [
        migrations.AddField(
            model_name="reviewitem",
            name="names_and_dates_differ",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
