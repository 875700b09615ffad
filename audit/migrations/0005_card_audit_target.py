from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_approval_decision_actions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditrecord",
            name="target_type",
            field=models.CharField(
                choices=[
                    ("account", "Account"),
                    ("transaction", "Transaction"),
                    ("user", "User"),
                    ("card", "Card"),
                ],
                max_length=16,
            ),
        ),
    ]
