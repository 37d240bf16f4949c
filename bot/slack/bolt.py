"""Build the Bolt AsyncApp: request verification, the deps middleware, and the listeners."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import listeners
from bot.slack.deps import CONTEXT_KEY, Deps


def build_bolt(*, client: AsyncWebClient, signing_secret: str, deps: Deps) -> AsyncApp:
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        # Signature verification stays on: every request to /slack/events is signed.
        request_verification_enabled=True,
    )

    async def inject_deps(context: Any, next: Callable[[], Awaitable[None]]) -> None:
        context[CONTEXT_KEY] = deps
        # Bolt made a plain client for this request; ours has the same token and API URL and
        # counts its calls (bot/slack/metered.py).
        context["client"] = client
        await next()

    app.use(inject_deps)
    listeners.register(app)
    return app
