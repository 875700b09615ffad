"""The canonical form of a statement's content: the bytes its SHA-256 is taken of and that
an issued statement keeps. JSON with sorted keys, no spaces and UTF-8 text."""

import hashlib
import json
from typing import Any


def canonical_text(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
