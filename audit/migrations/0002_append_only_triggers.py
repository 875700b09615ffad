"""Audit records cannot be updated or deleted, on either database (`audit/triggers.py`)."""

from django.db import migrations

from audit import triggers


def forward(apps, schema_editor):
    triggers.install(schema_editor)


def backward(apps, schema_editor):
    triggers.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
