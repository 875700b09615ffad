"""Issued statements, read-only for the staff whose role may view them (back office, auditor):
a statement is never edited; a correction is a reversal that a later month shows."""

from django.contrib import admin

from statements.models import Statement


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ["account", "period", "opening_balance", "closing_balance", "entry_count"]
    list_filter = ["period", "currency"]
    search_fields = ["account__number", "period", "sha256"]
    list_select_related = ["account"]
    exclude = ["content"]  # the canonical JSON: long; its figures are the columns
    readonly_fields = [f.name for f in Statement._meta.fields if f.name != "content"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
