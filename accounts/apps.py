from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customers"

    def ready(self) -> None:
        from core.authentication import connect_signals

        connect_signals()  # a saved or deleted user is not served from the JWT user cache

        from accounts import signals

        signals.connect()  # a password change or a deactivation ends every session
