"""The auditor reads every view permission of the bank: the internal balance shards too.
Idempotent."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

READERS = ["auditor"]
CODENAME = "view_internalbalance"


def forward(apps, schema_editor):
    alias = schema_editor.connection.alias
    app_config = apps.get_app_config("ledger")
    app_config.models_module = True  # create_permissions skips an app without one
    create_permissions(app_config, verbosity=0, using=alias, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.using(alias).get(content_type__app_label="ledger", codename=CODENAME)
    for group in Group.objects.using(alias).filter(name__in=READERS):
        group.permissions.add(view)


def backward(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    alias = schema_editor.connection.alias
    view = Permission.objects.using(alias).filter(codename=CODENAME).first()
    if view is not None:
        for group in Group.objects.using(alias).filter(name__in=READERS):
            group.permissions.remove(view)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_internal_balance_shards"), ("ledger", "0004_roles")]

    operations = [migrations.RunPython(forward, backward)]
