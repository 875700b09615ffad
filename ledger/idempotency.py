"""Idempotency keys for money-moving requests (API.md, "Idempotency-Key").

`claim()` runs first inside the posting's database transaction: it inserts the key with
INSERT ... ON CONFLICT DO NOTHING. A concurrent request with the same key waits on the
unique index until the first commits (PostgreSQL) or cannot begin its write transaction at
all until then (SQLite, IMMEDIATE), then finds the finished row and replays it. `completion()`
stores the response in the same transaction, so a crash leaves either both the posting and
its answer, or neither. A refused request rolls back its claim: a retry runs again.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.errors import Replay
from ledger import posting_sql
from ledger.errors import IdempotencyConflictError
from ledger.models import IdempotencyKey, Transaction
from ledger.posting_sql import Write


def fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps(
        {"method": method, "path": path, "body": body}, sort_keys=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Idempotency:
    scope: str  # "user:<uuid>", or "card:<uuid>" for card payments
    key: str
    fingerprint: str
    respond: Callable[[Transaction], tuple[int, Any]]  # the response to store and replay
    _row_id: int | None = None
    response: tuple[int, Any] | None = None  # what complete() stored, for the first answer

    def claim(self) -> None:
        """Take the key, or raise Replay / IdempotencyConflictError."""
        now = timezone.now()
        self._row_id = self._insert(now)
        if self._row_id is not None:
            return
        existing = IdempotencyKey.objects.get(scope=self.scope, key=self.key)
        if existing.created_at < now - settings.IDEMPOTENCY_KEY_TTL:
            existing.delete()  # expired: the key may be used afresh
            self._row_id = self._insert(now)
            if self._row_id is not None:
                return
            existing = IdempotencyKey.objects.get(scope=self.scope, key=self.key)
        if existing.fingerprint != self.fingerprint:
            raise IdempotencyConflictError()
        raise Replay(existing.response_status, existing.response_body)

    def completion(self, txn: Transaction) -> Write:
        """The UPDATE that stores the response, for the caller to send with the posting's own
        writes (`ledger.posting_sql.send`), in the posting's database transaction."""
        self.response = status_code, body = self.respond(txn)
        return posting_sql.complete_key(row_id=self._row_id, status=status_code, body=body, txn=txn)

    def _insert(self, now) -> int | None:
        return posting_sql.insert_key(
            scope=self.scope, key=self.key, fingerprint=self.fingerprint, now=now
        )
