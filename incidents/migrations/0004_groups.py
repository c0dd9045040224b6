"""The two staff roles of SPEC.md, as groups with their permissions.

Superusers need no group. The permissions are created here first: Django
otherwise creates them only after the whole `migrate` run, too late for this
migration on a fresh database.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    # create and edit incidents and courthouses, see staff-only fields, import
    "Court administrators": [
        ("incident", "add_incident"),
        ("incident", "change_incident"),
        ("incident", "view_incident"),
        ("courthouse", "add_courthouse"),
        ("courthouse", "change_courthouse"),
        ("courthouse", "view_courthouse"),
    ],
    # set verification, retract and restore
    "Reviewers": [
        ("incident", "review_incident"),
        ("incident", "retract_incident"),
    ],
}


def create_groups(apps, schema_editor):
    app_config = apps.get_app_config("incidents")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for model, codename in perms:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label="incidents", content_type__model=model, codename=codename
                )
            )


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
