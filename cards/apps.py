from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "cards"
    verbose_name = "Cards"

    def ready(self) -> None:
        from cards.selectors import pending_holds
        from cards.services import open_holds_by_account
        from ledger.checks import register_hold_source
        from ledger.selectors import register_pending_holds

        register_hold_source(open_holds_by_account)
        register_pending_holds(pending_holds)
