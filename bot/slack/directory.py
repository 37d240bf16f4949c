"""People's display names from Slack's users.info (the postmortem's Directory port), cached in
the process so a postmortem or an audit table asks Slack about each person once an hour at
most, and time-boxed so a slow Slack costs a few seconds, not the document."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.mrkdwn import is_user_id
from bot.postmortem.ports import Directory
from bot.slack.metered import error_code
from bot.slack.notifier import SlackChat
from bot.slack.outbox import Outbox

log = logging.getLogger(__name__)

TTL = timedelta(hours=1)  # people rarely rename themselves; an hour-old name is good enough
AT_ONCE = 4  # users.info is Tier 4 (100+ a minute): a few at a time stays well inside it
TIME_BOX_S = 3.0  # for every lookup of one call together; then the rest are shown by ID
# Answers that say who the person is not: kept (as "no name") for the TTL, not asked again.
NOBODY = frozenset({"user_not_found", "user_not_visible"})


def display_name(user: object) -> str | None:
    """The name Slack itself shows for a users.info `user` object: the display name the person
    chose, else their full name, else the username; on one line. None when it has none."""
    if not isinstance(user, Mapping):
        return None
    profile = user.get("profile")
    profile = profile if isinstance(profile, Mapping) else {}
    for candidate in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return " ".join(candidate.split())  # a name never breaks a heading or a table row
    return None


@dataclass(frozen=True, slots=True)
class _Known:
    name: str | None  # None: Slack says there is no such person (to us)
    at: datetime


class SlackDirectory:
    """users.info through the bot's Web API client, with a cache.

    A name older than `ttl` is asked for again; if that fails, the old name is still shown
    (better than an ID). Failures are logged, never raised. The cache lives as long as the
    process and holds one small entry per person met, which a workspace bounds.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        clock: Callable[[], datetime],
        ttl: timedelta = TTL,
        at_once: int = AT_ONCE,
        time_box_s: float = TIME_BOX_S,
    ) -> None:
        self._client = client
        self._clock = clock
        self._ttl = ttl
        self._turns = asyncio.Semaphore(at_once)  # across concurrent callers, too
        self._time_box_s = time_box_s
        self._known: dict[str, _Known] = {}

    async def names(self, user_ids: Iterable[str]) -> Mapping[str, str]:
        wanted = [u for u in dict.fromkeys(user_ids) if is_user_id(u)]
        now = self._clock()
        stale = [u for u in wanted if u not in self._known or now - self._known[u].at >= self._ttl]
        if stale:
            await self._look_up(stale)
        return {u: known.name for u in wanted if (known := self._known.get(u)) and known.name}

    async def _look_up(self, user_ids: Sequence[str]) -> None:
        failed: dict[str, str] = {}  # user ID → why, said once for the lot below
        answered: set[str] = set()
        try:
            async with asyncio.timeout(self._time_box_s), asyncio.TaskGroup() as lookups:
                for user_id in user_ids:
                    lookups.create_task(self._look_up_one(user_id, answered, failed))
        except TimeoutError:
            # The lookups still running are cancelled; what came back is kept.
            late = f"no answer within {self._time_box_s:g}s"
            failed.update((u, late) for u in user_ids if u not in answered and u not in failed)
        if failed:
            log.warning(
                "users.info failed for %d of %d people (%s): shown by user ID or last known name",
                len(failed),
                len(user_ids),
                ", ".join(sorted(set(failed.values()))),
            )

    async def _look_up_one(self, user_id: str, answered: set[str], failed: dict[str, str]) -> None:
        try:
            async with self._turns:
                response = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            code = error_code(exc)
            if code in NOBODY:
                self._known[user_id] = _Known(name=None, at=self._clock())
                answered.add(user_id)
            else:  # missing_scope (users:read), ratelimited, invalid_auth …: asked again later
                failed[user_id] = code
            return
        except Exception as exc:  # network, timeouts: a name is a nicety, never a failure
            failed[user_id] = exc.__class__.__name__
            return
        self._known[user_id] = _Known(name=display_name(response.get("user")), at=self._clock())
        answered.add(user_id)


class NamingSlackChat(SlackChat):
    """SlackChat that also serves the Directory port, through `directory`."""

    def __init__(self, client: AsyncWebClient, outbox: Outbox, *, directory: Directory) -> None:
        super().__init__(client, outbox)
        self._directory = directory

    async def names(self, user_ids: Iterable[str]) -> Mapping[str, str]:
        return await self._directory.names(user_ids)
