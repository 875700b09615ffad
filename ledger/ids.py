"""Time-ordered UUIDs (RFC 9562 version 7) for ledger rows: ids that sort by creation keep
the primary-key index append-mostly, and give history a stable tie-break after created_at."""

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = 0


def uuid7() -> uuid.UUID:
    global _last
    with _lock:
        # 48 bits of milliseconds + 12 bits of sub-millisecond counter, strictly increasing
        # within this process even when the clock does not move.
        now = time.time_ns() // 1000 * 4096 // 1000  # milliseconds * 4096 + fraction
        _last = max(now, _last + 1)
        stamp = _last
    millis, sub = divmod(stamp, 4096)
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | sub << 64 | 0b10 << 62 | rand
    return uuid.UUID(int=value)
