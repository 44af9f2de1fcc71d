import django.db.models.functions.text
from django.db import migrations, models

import accord.people.models


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="identity",
            name="identity_family_name_idx",
        ),
        migrations.AddIndex(
            model_name="identity",
            index=accord.people.models.PrefixIndex(
                django.db.models.functions.text.Upper("family_name"),
                models.F("date_of_birth"),
                name="identity_family_prefix_idx",
            ),
        ),
    ]
