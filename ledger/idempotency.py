"""Idempotency keys for money-moving requests (API.md, "Idempotency-Key").

`claim()` runs first inside the posting's database transaction: it inserts the key with
INSERT ... ON CONFLICT DO NOTHING (a transfer sends that INSERT with its lock, in one round
trip: `claim_write()` and `claimed()`). A concurrent request with the same key waits on the
unique index until the first commits (PostgreSQL) or cannot begin its write transaction at
all until then (SQLite, IMMEDIATE), then finds the finished row and replays it. `completion()`
stores the response in the same transaction, so a crash leaves either both the posting and
its answer, or neither. A refused request rolls back its claim: a retry runs again.

`Idempotency.from_request()` is the one way a view makes a claim: the API's views from the
`Idempotency-Key` header and the request body, the portal's confirmation step from the key
in its hidden field and the transfer it confirms. Both refuse a bad key by `is_valid_key`.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.errors import Replay, ValidationFailed
from ledger import posting_sql
from ledger.errors import IdempotencyConflictError
from ledger.models import IdempotencyKey, Transaction
from ledger.posting_sql import Write

KEY_HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
KEY_RULE = f"Must be 1 to {KEY_MAX_LENGTH} printable characters."


def is_valid_key(key: str) -> bool:
    # Printable only: a control character (NUL above all) cannot be stored in PostgreSQL text.
    return isinstance(key, str) and 1 <= len(key) <= KEY_MAX_LENGTH and key.isprintable()


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
    respond: Callable[[Any], tuple[int, Any]]  # the response to store and replay
    _row_id: int | None = None
    _claimed_at: datetime | None = None
    response: tuple[int, Any] | None = None  # what complete() stored, for the first answer

    @classmethod
    def from_request(
        cls,
        request,
        *,
        respond,
        key: str | None = None,
        body: Any = None,
        scope: str | None = None,
    ) -> "Idempotency | None":
        """The claim a request makes, scoped to its user (or `scope`, e.g. "card:<uuid>" where
        the card is the credential); None when it sent no key.

        The API passes only `respond`: the key is the `Idempotency-Key` header and the body
        is `request.data`. A page passes the key it carried in its form (a missing one as "")
        and the body that identifies what it asks for. A key that breaks the rule is a
        ValidationFailed on `Idempotency-Key`: the API's 400 `validation_error`."""
        if key is None:
            key = request.headers.get(KEY_HEADER)
            if key is None:
                return None
        if not is_valid_key(key):
            raise ValidationFailed({KEY_HEADER: [KEY_RULE]})
        return cls(
            scope=scope or f"user:{request.user.pk}",
            key=key,
            fingerprint=fingerprint(
                method=request.method,
                path=request.path,
                body=request.data if body is None else body,
            ),
            respond=respond,
        )

    def claim(self) -> None:
        """Take the key, or raise Replay / IdempotencyConflictError."""
        self.claimed(posting_sql.insert_key(self.claim_write()))

    def claim_write(self) -> Write:
        """The claim's INSERT, for a caller that sends it with its own next query (the
        transfer's lock: `posting_sql.lock_transfer_parties`) and hands its answer to
        `claimed` before it goes on."""
        self._claimed_at = timezone.now()
        return posting_sql.claim_key(
            scope=self.scope, key=self.key, fingerprint=self.fingerprint, now=self._claimed_at
        )

    def claimed(self, row_id: int | None) -> None:
        """The claim's answer: the row taken (`row_id`), or, when the key was already there,
        a fresh claim if that row has expired, else Replay / IdempotencyConflictError."""
        self._row_id = row_id
        if row_id is not None:
            return
        existing = IdempotencyKey.objects.get(scope=self.scope, key=self.key)
        if existing.created_at < self._claimed_at - settings.IDEMPOTENCY_KEY_TTL:
            existing.delete()  # expired: the key may be used afresh
            self._row_id = posting_sql.insert_key(self.claim_write())
            if self._row_id is not None:
                return
            existing = IdempotencyKey.objects.get(scope=self.scope, key=self.key)
        if existing.fingerprint != self.fingerprint:
            raise IdempotencyConflictError()
        raise Replay(existing.response_status, existing.response_body)

    def completion(self, result: Any) -> Write:
        """The UPDATE that stores the response, for the caller to send with the posting's own
        writes (`ledger.posting_sql.send`), in the posting's database transaction. `result` is
        the Transaction posted, or what was made instead (an approval request)."""
        self.response = status_code, body = self.respond(result)
        txn = result if isinstance(result, Transaction) else None
        return posting_sql.complete_key(row_id=self._row_id, status=status_code, body=body, txn=txn)
