from rest_framework.permissions import BasePermission


class IsStaff(BasePermission):
    """Staff-only endpoints: a customer gets 403 permission_denied, never the data."""

    staff_only = True  # read by the schema to document the 403
    message = "Only bank staff may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
