"""Where each person last read each conversation, for the sidebar's unread counts.

As in Slack: a conversation is read up to its newest message when the person opens it; what
others post after that is unread; their own messages and thread replies never are.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from bot.localslack.ids import ts_key
from bot.localslack.pageview import is_reply


class Reads:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read_up_to: dict[tuple[str, str], tuple[int, int]] = {}

    def mark_read(self, *, user_id: str, channel_id: str, messages: list[dict[str, Any]]) -> None:
        newest = max((ts_key(m["ts"]) for m in messages), default=None)
        if newest is None:
            return
        with self._lock:
            key = (user_id, channel_id)
            self._read_up_to[key] = max(newest, self._read_up_to.get(key, newest))

    def unread(self, *, user_id: str, channel_id: str, messages: Iterable[dict[str, Any]]) -> int:
        with self._lock:
            read = self._read_up_to.get((user_id, channel_id))
        return sum(
            1
            for m in messages
            if m.get("user") != user_id
            and not is_reply(m)
            and (read is None or ts_key(m["ts"]) > read)
        )
