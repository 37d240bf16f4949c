"""Idempotency keys: a repeated request replays the first response instead of acting twice."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .state import Clock, utc_now

# The API promises at least 24 h; a little more absorbs clock skew between client and server.
DEFAULT_TTL = timedelta(hours=25)


def fingerprint(method: str, path: str, body: Any) -> str:
    """What "the same request" means: same method, path and JSON value (key order ignored)."""
    return json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status: int
    body: Any
    at: datetime


class IdempotencyStore:
    """In memory; expired keys are swept on each write, so nothing needs a background job."""

    def __init__(self, *, ttl: timedelta = DEFAULT_TTL, clock: Clock = utc_now) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, Stored] = {}

    def get(self, key: str) -> Stored | None:
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry.at > self._ttl:
            return None
        return entry

    def put(self, key: str, *, fingerprint: str, status: int, body: Any) -> None:
        now = self._clock()
        expired = [k for k, v in self._entries.items() if now - v.at > self._ttl]
        for k in expired:
            del self._entries[k]
        self._entries[key] = Stored(fingerprint, status, body, now)

    def __len__(self) -> int:
        return len(self._entries)
