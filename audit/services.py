from typing import Any
from uuid import UUID

from django.db import transaction

from audit.models import AuditRecord
from core.logging import current_request_id


def record(
    *,
    actor,
    action: str,
    target_type: str,
    target_id: UUID,
    target_label: str,
    reason: str,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Write the audit record of a staff action. Called by the service that does the action,
    inside its transaction: the record commits with the action or not at all. The request id
    is the one the logging middleware bound for this request, so a record leads to its logs."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("An audit record is written inside the action's transaction.")
    return AuditRecord.objects.create(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=str(target_label)[:200],
        reason=reason,
        details=details or {},
        request_id=current_request_id(),
    )
