"""The audit trail: who did which staff action to what, why, when and in which request.

Append-only: written by the services in the same database transaction as the action, never
updated or deleted (database triggers refuse it, `audit/triggers.py`), read-only in the admin.
The target is named by its UUID and a label rather than a foreign key, so this app sits low in
the layers (below the identity and the ledger apps that write to it) and a record outlives
any change to what it names."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditRecord(models.Model):
    class Action(models.TextChoices):
        DEPOSIT = "deposit"
        WITHDRAW = "withdraw"
        FREEZE = "freeze"
        UNFREEZE = "unfreeze"
        CLOSE = "close"
        REVERSE = "reverse"
        REQUEST_APPROVAL = "request_approval"  # above the limit: nothing posted yet
        APPROVE = "approve"
        REJECT = "reject"
        EXPIRE = "expire"  # a pending request past its lifetime, seen by a decision
        DEACTIVATE = "deactivate"  # a user who can no longer sign in

    class Target(models.TextChoices):
        ACCOUNT = "account"
        TRANSACTION = "transaction"
        USER = "user"
        CARD = "card"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+"
    )  # null: the bank's own process (a management command, the demo seed)
    action = models.CharField(max_length=16, choices=Action.choices)
    target_type = models.CharField(max_length=16, choices=Target.choices)
    target_id = models.UUIDField()
    target_label = models.CharField(max_length=200)
    reason = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)  # amount, currency, transaction id
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["target_id", "-created_at"], name="audit_by_target")]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_label}"
