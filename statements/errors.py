"""The statements' refusals. None reaches a client: the API never asks to issue the current
month (it computes it live), so this guards the service's other doors (the command, a shell)."""


class OpenPeriodError(ValueError):
    """Only a month that has ended can be issued; the current one is still open."""
