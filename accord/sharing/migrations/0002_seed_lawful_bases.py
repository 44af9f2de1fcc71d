"""Give partnerships created before lawful bases existed the default list."""

from django.db import migrations


def seed(apps, schema_editor):
    from accord.sharing.bases import DEFAULT_BASES

    Partnership = apps.get_model("partnership", "Partnership")
    LawfulBasis = apps.get_model("sharing", "LawfulBasis")
    for partnership in Partnership.objects.all():
        have = set(
            LawfulBasis.objects.filter(partnership=partnership).values_list("code", flat=True)
        )
        for basis in DEFAULT_BASES:
            if basis.code not in have:
                LawfulBasis.objects.create(
                    partnership=partnership,
                    code=basis.code,
                    label=basis.label,
                    explanation=basis.explanation,
                    requires_approval=basis.requires_approval,
                )


class Migration(migrations.Migration):
    dependencies = [("sharing", "0001_initial"), ("partnership", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
