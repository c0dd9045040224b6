"""The two staff roles (README, "Staff"), as groups with their permissions.

Superusers need no group. The permissions are created here first: Django
otherwise creates them only after the whole `migrate` run, too late for this
migration on a fresh database.
"""

from django.db import migrations

from incidents.reference import GROUPS
from incidents.reference import create_groups as create


def create_groups(apps, schema_editor):
    create(apps, schema_editor.connection.alias)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0003_cache_table"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="incident",
            options={
                "ordering": ["-date", "-id"],
                "permissions": [
                    ("review_incident", "Can set the verification of incidents"),
                    ("retract_incident", "Can retract and restore incidents"),
                ],
            },
        ),
        migrations.RunPython(create_groups, remove_groups),
    ]
