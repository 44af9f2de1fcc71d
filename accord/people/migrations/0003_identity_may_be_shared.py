"""The access policy's hint on identities (see `Identity.may_be_shared`), computed for
the identities that exist: true where a grant other than a named one ever covered the
agency's contact details about the person."""

from django.db import migrations, models
from django.db.models import Exists, OuterRef


def compute(apps, schema_editor):
    Identity = apps.get_model("people", "Identity")
    AccessGrant = apps.get_model("sharing", "AccessGrant")
    covering = AccessGrant.objects.filter(
        person_id=OuterRef("person_id"),
        holder_agency_id=OuterRef("agency_id"),
        category="contact_details",
    ).exclude(basis="named")
    Identity.objects.filter(Exists(covering)).update(may_be_shared=True)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0002_search_indexes"),
        ("sharing", "0004_decision_recipient_case"),
    ]

    operations = [
        migrations.AddField(
            model_name="identity",
            name="may_be_shared",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(compute, migrations.RunPython.noop),
    ]
