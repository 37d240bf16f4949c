"""The app installed in the local workspace: where Slack sends its requests, and how it signs
them (the v0 scheme: HMAC-SHA256 of `v0:{timestamp}:{raw body}` keyed by the signing secret).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Slack-Signature value for `body` sent at `timestamp` (unix seconds)."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class InstalledApp:
    """An app's request URL (slash commands, interactivity, events) and signing secret.

    The secret and verification token stay out of repr(), so a logged or printed app never
    shows them.
    """

    request_url: str
    signing_secret: str = field(repr=False)
    # The deprecated `token` field Slack still sends in every payload.
    verification_token: str = field(default_factory=lambda: secrets.token_hex(12), repr=False)

    def headers(
        self, body: bytes, content_type: str, *, now: float | None = None
    ) -> dict[str, str]:
        """The headers Slack sends with `body`: content type, timestamp and signature."""
        timestamp = str(int(time.time() if now is None else now))
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(self.signing_secret, timestamp, body),
        }
