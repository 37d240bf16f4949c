"""Slack-shaped identifiers and message timestamps."""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable, Container

_ID_ALPHABET = string.ascii_uppercase + string.digits
_BLOCK_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, taken: Container[str] = ()) -> str:
    """Return `prefix` + 10 uppercase alphanumerics (C0123ABCDE), unused in `taken`."""
    while True:
        candidate = prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))
        if candidate not in taken:
            return candidate


def new_block_id() -> str:
    """A block_id like the ones Slack fills in for blocks sent without one ("2WGp9")."""
    return "".join(secrets.choice(_BLOCK_ID_ALPHABET) for _ in range(5))


def new_view_hash(now: float) -> str:
    """A view hash in Slack's shape ("1569262015.55b5e41b"): changes on every update."""
    return f"{int(now)}.{secrets.token_hex(4)}"


class TsClock:
    """Hands out message timestamps ("1764201600.000100") that strictly increase.

    Slack uses a message's ts as its id within a channel, so two messages posted in the same
    microsecond must still get distinct, ordered values.
    """

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._last_us = 0

    def next(self) -> str:
        micros = int(self._now() * 1_000_000)
        if micros <= self._last_us:
            micros = self._last_us + 1
        self._last_us = micros
        return format_ts(micros)


def format_ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def ts_key(ts: str) -> tuple[int, int]:
    """Sort key for a ts string; comparing floats would lose microseconds."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int(fraction.ljust(6, "0")[:6] or "0")


def new_trigger_id(now: float) -> str:
    """A trigger_id in Slack's shape ("1561519463.724458813392.3b4c…"): unique per interaction."""
    return f"{int(now)}.{secrets.randbelow(10**12):012d}.{secrets.token_hex(16)}"
