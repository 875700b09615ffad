"""The staff roles as Django groups with their permissions. Idempotent: running it again (or
after a permission was added by hand) leaves each role with exactly these permissions.

The permissions are created here first: Django creates them after `migrate` (post_migrate),
too late for a data migration on a fresh database. A later app's models (cards, statements)
give the auditor their view permissions in their own migration, as this one does."""

from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.db import migrations

BANK_APPS = ["accounts", "audit", "ledger"]
LEDGER_READS = ["ledger.view_account", "ledger.view_transaction", "ledger.view_entry"]
ROLES = {
    "teller": ["ledger.deposit", "ledger.withdraw", *LEDGER_READS],
    "back office": [
        "ledger.change_status",
        "ledger.reverse",
        *LEDGER_READS,
        "ledger.view_accountstatuschange",
        "audit.view_auditrecord",
    ],
    "approver": ["ledger.approve", *LEDGER_READS],
}
AUDITOR = "auditor"  # every view_* permission of the bank's models, nothing else


def forward(apps, schema_editor):
    alias = schema_editor.connection.alias
    for label in BANK_APPS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # create_* skip an app without one; state apps have none
        create_contenttypes(app_config, verbosity=0, using=alias, apps=apps)
        create_permissions(app_config, verbosity=0, using=alias, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(names):
        wanted = [name.split(".") for name in names]
        found = [
            Permission.objects.using(alias).get(
                content_type__app_label=app_label, codename=codename
            )
            for app_label, codename in wanted
        ]
        return found

    for name, names in ROLES.items():
        group, _ = Group.objects.using(alias).get_or_create(name=name)
        group.permissions.set(permissions(names))
    auditor, _ = Group.objects.using(alias).get_or_create(name=AUDITOR)
    auditor.permissions.set(
        Permission.objects.using(alias).filter(
            content_type__app_label__in=BANK_APPS, codename__startswith="view_"
        )
    )


def backward(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=[*ROLES, AUDITOR]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_staff_permissions"),
        ("audit", "0002_append_only_triggers"),
        ("accounts", "0002_sessions_that_end"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forward, backward)]
