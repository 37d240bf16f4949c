"""How listeners answer: refusals and Slack errors go back to the person who asked, privately."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.incidents.errors import Refused
from bot.incidents.ports import ChatError
from bot.mrkdwn import escape

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]


def slack_refused(exc: ChatError) -> str:
    return (
        f":warning: Slack refused `{escape(exc)}`. What could be saved is saved; try again, or "
        "tell whoever runs Firebreak."
    )


@asynccontextmanager
async def reporting(respond: Respond, *, what: str) -> AsyncIterator[None]:
    """For work after the ack (buttons, modals): tell the user why it was refused, or what
    Slack refused, through the response_url; log Slack's refusals."""
    try:
        yield
    except Refused as exc:
        await respond(response_type="ephemeral", replace_original=False, text=str(exc))
    except ChatError as exc:
        log.warning("Slack refused a call while %s: %s", what, exc.code)
        await respond(response_type="ephemeral", replace_original=False, text=slack_refused(exc))
