"""What the command line works with (postmortems, reports, the audit): a Context on the
database alone, naming people through Slack when a bot token is set."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import subscribe_flows
from bot.config import FirebreakConfig, Settings, reveal
from bot.context import Context, Reminders, utcnow
from bot.db.engine import make_engine, make_sessions
from bot.events import Bus
from bot.incidents.ports import ChatError
from bot.metrics import Metrics
from bot.slack.deps import AppChat, AppContext
from bot.slack.directory import SlackDirectory
from bot.wiring import slack_client


def slack_directory(
    settings: Settings, *, clock: Callable[[], datetime] = utcnow
) -> SlackDirectory | None:
    """People's names from the configured Slack, for the command line; None without a bot
    token (the embedded stand-in lives only inside `serve`)."""
    token = reveal(settings.slack_bot_token)
    if not token:
        return None
    client = slack_client(token=token, base_url=settings.slack_api_url, metrics=Metrics())
    return SlackDirectory(client, clock=clock)


class _Offline:
    """Chat and reminders for command-line work that needs neither (postmortems, reports); it
    names people through `directory` when Slack is configured."""

    def __init__(self, directory: SlackDirectory | None = None) -> None:
        self._directory = directory

    async def names(self, user_ids: Iterable[str]) -> Mapping[str, str]:
        return {} if self._directory is None else await self._directory.names(user_ids)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        async def refuse(*_: object, **__: object) -> None:
            raise ChatError("offline", f"{name} is not available from the command line")

        return refuse


def offline_context(
    settings: Settings, config: FirebreakConfig, *, clock: Callable[[], datetime] = utcnow
) -> tuple[AppContext, AsyncEngine]:
    """A Context on the database alone; the caller disposes of the engine."""
    engine = make_engine(settings.database_url)
    offline = _Offline(slack_directory(settings, clock=clock))
    bus = Bus()
    ctx: AppContext = Context(
        sessions=make_sessions(engine),
        config=config,
        chat=cast(AppChat, offline),
        reminders=cast(Reminders, offline),
        events=bus,
        clock=clock,
    )
    subscribe_flows(bus, ctx)
    return ctx, engine
