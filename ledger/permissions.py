"""Who may do which staff action: the one mapping from a staff action to the Django permission
it needs, read by the API's staff endpoints (`HoldsStaffPermission`) and by the admin (its
actions' `allowed_permissions` and its deposit / withdraw pages, through `may`).

Permissions come from the roles, Django groups created by `ledger/migrations/0004_roles.py`:
teller (deposit, withdraw), back office (freeze, unfreeze, close, reverse), approver (approve),
auditor (every view permission, nothing else). A superuser holds every permission (Django's
rule). A customer is never staff, whatever permissions they might hold."""

from core.permissions import IsStaff

STAFF_ACTION_PERMISSIONS: dict[str, str] = {
    "deposit": "ledger.deposit",
    "withdraw": "ledger.withdraw",
    "freeze": "ledger.change_status",
    "unfreeze": "ledger.change_status",
    "close": "ledger.change_status",
    "reverse": "ledger.reverse",
    "approve": "ledger.approve",
}


def may(user, action: str) -> bool:
    """Whether `user` may do the staff action `action` (a key of STAFF_ACTION_PERMISSIONS)."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(STAFF_ACTION_PERMISSIONS[action])
    )


class HoldsStaffPermission(IsStaff):
    """A staff endpoint: the view's `staff_actions` maps its action to a staff action, and the
    caller must hold that action's permission; anyone else gets 403 permission_denied."""

    message = "Only bank staff whose role includes this action may do this."

    def has_permission(self, request, view) -> bool:
        return may(request.user, view.staff_actions[view.action])
