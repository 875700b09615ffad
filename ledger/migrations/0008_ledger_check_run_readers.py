"""Who sees the record of `ledger_check` runs: the auditor (every view permission of the
bank) and back office, who act on a failed one. Idempotent."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

READERS = ["back office", "auditor"]


def forward(apps, schema_editor):
    alias = schema_editor.connection.alias
    app_config = apps.get_app_config("ledger")
    app_config.models_module = True  # create_permissions skips an app without one
    create_permissions(app_config, verbosity=0, using=alias, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.using(alias).get(
        content_type__app_label="ledger", codename="view_ledgercheckrun"
    )
    for group in Group.objects.using(alias).filter(name__in=READERS):
        group.permissions.add(view)


def backward(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    alias = schema_editor.connection.alias
    view = Permission.objects.using(alias).filter(codename="view_ledgercheckrun").first()
    if view is not None:
        for group in Group.objects.using(alias).filter(name__in=READERS):
            group.permissions.remove(view)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_approval_decisions_and_ledger_check_runs")]

    operations = [migrations.RunPython(forward, backward)]
