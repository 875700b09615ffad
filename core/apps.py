from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel every app may import and that imports no app: errors and the one exception
    handler, pagination, permissions, middleware, logging, health, schema and form helpers."""

    name = "core"
