from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo bank (`manage.py seed`): above the ledger, cards and statements it fills."""

    name = "demo"
