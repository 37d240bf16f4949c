"""What a webhook path's sender is to the HTTP layer: a parser, and what a request must prove."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.alerts.schemas import Notification

# (headers, raw body, now as Unix seconds): raises errors.BadSignature.
Verify = Callable[[Mapping[str, str], bytes, float], None]


@dataclass(frozen=True)
class Receiver:
    """One webhook path's sender: how its body is read and what a request must prove."""

    # The parsed JSON body → what it is about. Raises pydantic.ValidationError or
    # errors.Unreadable naming the field at fault.
    parse: Callable[[Any], Notification]
    verify: Verify | None = field(default=None, repr=False)  # a signature over the raw body
    bearer: bool = True  # asks the webhooks' bearer token (senders that sign may not send one)
    text_bodies: bool = False  # JSON may come as text/plain (Amazon SNS sends it so)
    confirm_subscription: bool = False  # fetch an SNS SubscribeURL (else only log it)
    sample: dict[str, Any] | None = None  # a body the sender posts: the page's test alert
    # `parse` reads the body alone (no clock, no config that changes): a body seen lately need
    # not be parsed again (bot.http.webhooks). Alertmanager re-sends a group's unchanged state
    # byte for byte every repeat_interval, and each of an HA pair's copies is its own.
    pure: bool = False
