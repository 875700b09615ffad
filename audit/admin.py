from django.contrib import admin

from audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the database refuses changes anyway.
    Seen by whoever holds `audit.view_auditrecord` (auditors, back office)."""

    list_display = ["created_at", "actor", "action", "target_type", "target_label", "reason"]
    list_filter = ["action", "target_type", "created_at"]
    search_fields = ["=target_id", "target_label", "actor__email", "reason", "=request_id"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "created_at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "target_label",
        "reason",
        "details",
        "request_id",
    ]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
