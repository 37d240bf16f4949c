"""What the page remembers between a POST and the page it redirects to, per person: banners,
a modal's field errors, and composer text that could not be sent.

Banners stay for a while rather than for one view: the live refresh may reload the page
right after the redirect, and "The app answered 401" must not flash past unread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

NOTICE_TTL_S = 120.0
MAX_NOTICES = 3


@dataclass
class Notice:
    text: str
    at: float
    ok: bool = False  # news of something that worked, not a refusal


@dataclass
class Notes:
    clock: Callable[[], float] = time.time
    _notices: dict[str, list[Notice]] = field(default_factory=dict)
    _errors: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    _drafts: dict[tuple[str, str], str] = field(default_factory=dict)

    def notice(self, user_id: str, text: str, *, ok: bool = False) -> None:
        kept = self._notices.setdefault(user_id, [])
        kept.append(Notice(text, self.clock(), ok))
        del kept[:-MAX_NOTICES]

    def notices(self, user_id: str) -> list[Notice]:
        """Recent banners for `user_id`, newest first."""
        fresh = [n for n in self._notices.get(user_id, []) if self.clock() - n.at < NOTICE_TTL_S]
        self._notices[user_id] = fresh
        return list(reversed(fresh))

    def dismiss(self, user_id: str) -> None:
        self._notices.pop(user_id, None)

    def set_errors(self, view_id: str, view_hash: str, errors: dict[str, str]) -> None:
        """Field errors for one version of a view: an update by the app clears them."""
        self._errors = {k: v for k, v in self._errors.items() if k[0] != view_id}
        if errors:
            self._errors[(view_id, view_hash)] = dict(errors)

    def errors(self, view_id: str, view_hash: str) -> dict[str, str]:
        return dict(self._errors.get((view_id, view_hash), {}))

    def keep_draft(self, user_id: str, channel_id: str, text: str) -> None:
        self._drafts[(user_id, channel_id)] = text

    def take_draft(self, user_id: str, channel_id: str) -> str:
        return self._drafts.pop((user_id, channel_id), "")
