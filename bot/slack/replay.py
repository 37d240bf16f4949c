"""Slack's signed requests, each taken once.

Bolt checks the signature and that the timestamp is within five minutes of now, either way
(Slack's documented rule: "The request timestamp is more than five minutes from local time.
It could be a replay attack", docs.slack.dev/authentication/verifying-requests-from-slack).
Within those five minutes the same request would verify again. Here a request is checked the
same way first, and a (timestamp, signature) pair already taken is refused until its
timestamp leaves the window — for a timestamp ahead of our clock, that is later than five
minutes from now, so a request dated in the future cannot be replayed either.

Slack retries an Events API delivery it thinks failed (X-Slack-Retry-Num: 1, 2, 3; the first
at once, then after 1 and 5 minutes). Slack's documentation does not say whether a retry is
signed afresh; one sent within the same second as the first delivery would carry the same
timestamp and so the same signature. Retried Events API deliveries are therefore neither
refused nor remembered: their effects are keyed by the event itself (a pinned message joins
the timeline once however often it is delivered), so a replay of one changes nothing. The
retry header is not signed, so it exempts nothing else: a slash command or a click sent
again is refused whatever headers it carries.

The memory is this process's own: with replicas behind a load balancer, a captured request
could be taken once by each replica within its five minutes (see docs/reliability.md).
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Callable, Mapping
from enum import Enum

from slack_sdk.signature import Clock, SignatureVerifier

WINDOW_S = 300  # Slack's own: five minutes either way (slack_sdk's verifier checks it)


class Verdict(Enum):
    TAKEN = "taken"
    INVALID = "invalid"  # unsigned, badly signed, or dated more than five minutes away
    REPLAYED = "replayed"  # this very request was taken already


class SignedRequests:
    def __init__(self, signing_secret: str, *, now: Callable[[], float] = time.time) -> None:
        # Wall-clock seconds, as Slack's timestamps are (and as Bolt's own check reads them).
        self._verifier = SignatureVerifier(signing_secret, clock=_Clock(now))
        self._window = WINDOW_S
        self._now = now
        self._until: dict[tuple[int, str], int] = {}  # taken pair → when it leaves the window
        self._expiry: list[tuple[int, tuple[int, str]]] = []

    def __len__(self) -> int:
        return len(self._until)

    def check(self, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Whether the request may be handled; a valid one is remembered as taken."""
        stamp_text = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not (stamp_text.isascii() and stamp_text.isdigit() and len(stamp_text) <= 12):
            return Verdict.INVALID
        # Slack's v0 scheme and its five-minute window, as Bolt checks them after us.
        if not self._verifier.is_valid(body, stamp_text, signature):
            return Verdict.INVALID
        stamp, now = int(stamp_text), self._now()
        if _retried_event(headers, body):
            return Verdict.TAKEN
        self._forget(now)
        key = (stamp, signature)
        if key in self._until:
            return Verdict.REPLAYED
        until = stamp + self._window
        self._until[key] = until
        heapq.heappush(self._expiry, (until, key))
        return Verdict.TAKEN

    def _forget(self, now: float) -> None:
        """Pairs whose timestamp is out of the window: the time check refuses them now."""
        while self._expiry and self._expiry[0][0] < now:
            _, key = heapq.heappop(self._expiry)
            self._until.pop(key, None)


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def _retried_event(headers: Mapping[str, str], body: bytes) -> bool:
    """An Events API delivery that Slack says it is retrying."""
    if not headers.get("x-slack-retry-num"):
        return False
    if not headers.get("content-type", "").lower().startswith("application/json"):
        return False
    try:
        payload = json.loads(body)
    except ValueError:  # not JSON, or a number too long to read: not an event Slack sent
        return False
    return (
        isinstance(payload, dict)
        and payload.get("type") == "event_callback"
        and isinstance(payload.get("event_id"), str)
    )
