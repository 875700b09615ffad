"""Who sees card authorisations in the admin: back office and the auditor (every view
permission of the bank). Idempotent."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

READS = {
    "back office": ["view_cardauthorization"],
    "auditor": ["view_cardauthorization"],
}


def forward(apps, schema_editor):
    alias = schema_editor.connection.alias
    app_config = apps.get_app_config("cards")
    app_config.models_module = True  # create_permissions skips an app without one
    create_permissions(app_config, verbosity=0, using=alias, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in READS.items():
        group = Group.objects.using(alias).filter(name=name).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.using(alias).filter(
                    content_type__app_label="cards", codename__in=codenames
                )
            )


def backward(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.using(schema_editor.connection.alias).filter(
        content_type__app_label="cards", content_type__model="cardauthorization"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("cards", "0003_card_authorizations"), ("ledger", "0004_roles")]

    operations = [migrations.RunPython(forward, backward)]
