"""The Chat port on Slack's Web API (through slack_sdk's AsyncWebClient)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.ports import ChannelNameTaken, ChannelRef, ChatError, IncidentCard, MessageRef
from bot.slack.blocks.announcement import announcement


class SlackChat:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def create_channel(self, *, name: str) -> ChannelRef:
        response = await self._call("conversations_create", name=name, is_private=False)
        channel = response["channel"]
        return ChannelRef(id=channel["id"], name=channel["name"])

    async def invite(self, *, channel_id: str, user_ids: Sequence[str]) -> None:
        await self._call("conversations_invite", channel=channel_id, users=",".join(user_ids))

    async def announce(self, *, channel: str, card: IncidentCard) -> MessageRef:
        text, blocks = announcement(card)
        return await self._post(channel=channel, text=text, blocks=blocks)

    async def say(self, *, channel: str, text: str) -> MessageRef:
        return await self._post(channel=channel, text=text)

    async def _post(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> MessageRef:
        response = await self._call("chat_postMessage", channel=channel, text=text, blocks=blocks)
        return MessageRef(channel_id=response["channel"], ts=response["ts"])

    async def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return await getattr(self._client, method)(**kwargs)
        except SlackApiError as exc:
            code = str(exc.response.get("error") or f"http_{exc.response.status_code}")
            if method == "conversations_create" and code == "name_taken":
                raise ChannelNameTaken(kwargs["name"]) from exc
            raise ChatError(code, method.replace("_", ".", 1)) from exc
