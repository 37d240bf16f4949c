"""The Chat port on Slack's Web API (through slack_sdk's AsyncWebClient).

Texts the domain hands over are mrkdwn it made safe (bot.mrkdwn); cards are rendered by the
block builders, which escape them. A message read back is unescaped to what its author typed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.ledger import ServiceBudget
from bot.incidents.ports import (
    ChannelNameTaken,
    ChannelRef,
    ChatError,
    ChatMessage,
    HandoffOffer,
    IncidentCard,
    MessageRef,
    Reminder,
    StatusUpdate,
)
from bot.mrkdwn import escape, unescape
from bot.playbooks.ports import RunView
from bot.postmortem.ports import Upload
from bot.slack.blocks import actions, messages
from bot.slack.blocks.actions import button
from bot.slack.blocks.announcement import announcement
from bot.slack.blocks.budget import budget_text
from bot.slack.blocks.runs import run_message
from bot.slack.metered import error_code
from bot.slack.outbox import Outbox

Blocks = list[dict[str, Any]]


class SlackChat:
    """Reads go straight to Slack; writes go through the persisted outbox (`_write`)."""

    def __init__(self, client: AsyncWebClient, outbox: Outbox) -> None:
        self._client = client
        self._outbox = outbox

    async def create_channel(self, *, name: str) -> ChannelRef:
        queue = f"create:{name}"
        try:
            response = await self._write(
                "conversations_create", queue=queue, wait=True, name=name, is_private=False
            )
        except ChannelNameTaken:
            # Our own earlier call may have made it, its caller gone (a restart): take that one.
            response = await self._outbox.answered(queue=queue, method="conversations_create")
            if response is None:
                raise
        channel = response["channel"]
        return ChannelRef(id=channel["id"], name=channel["name"])

    async def invite(self, *, channel_id: str, user_ids: Sequence[str]) -> None:
        await self._write(
            "conversations_invite",
            queue=channel_id,
            wait=True,  # the caller retries one by one when one invitee is refused
            channel=channel_id,
            users=",".join(user_ids),
        )

    async def members(self, *, channel_id: str) -> set[str]:
        members: set[str] = set()
        cursor: str | None = None
        while True:
            page = await self._call(
                "conversations_members", channel=channel_id, limit=1000, cursor=cursor
            )
            members.update(page["members"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    async def set_topic(self, *, channel_id: str, topic: str) -> None:
        await self._write(
            "conversations_setTopic",
            queue=channel_id,
            wait=False,
            replaces="topic",
            channel=channel_id,
            topic=topic,
        )

    async def announce(self, *, channel: str, card: IncidentCard) -> MessageRef:
        text, blocks = announcement(card)
        return await self._post(channel=channel, text=text, blocks=blocks)

    async def refresh_announcement(self, *, message: MessageRef, card: IncidentCard) -> None:
        text, blocks = announcement(card)
        await self._update(message, text=text, blocks=blocks)

    async def say(self, *, channel: str, text: str) -> None:
        await self._tell(channel=channel, text=text)

    async def whisper(self, *, channel: str, user: str, text: str) -> None:
        await self._write(
            "chat_postEphemeral", queue=channel, wait=False, channel=channel, user=user, text=text
        )

    async def direct_message(self, *, user: str, text: str) -> None:
        # A bot token may post to a user ID: Slack delivers it in the app's DM with them.
        await self._tell(channel=user, text=text)

    async def offer_handoff(self, *, channel: str, offer: HandoffOffer) -> None:
        text, blocks = messages.handoff_offer(offer)
        await self._tell(channel=channel, text=text, blocks=blocks)

    async def post_update(self, *, channel: str, update: StatusUpdate) -> None:
        text, blocks = messages.status_update(update)
        await self._tell(channel=channel, text=text, blocks=blocks)

    async def remind(self, *, channel: str, reminder: Reminder) -> None:
        text, blocks = messages.reminder(reminder)
        await self._tell(channel=channel, text=text, blocks=blocks)

    async def offer_playbook(
        self, *, channel: str, incident_id: int, playbook: str, text: str
    ) -> None:
        value = f"{incident_id}:{playbook}"
        blocks = [
            messages.section(text),
            {
                "type": "actions",
                "block_id": "offer",
                "elements": [
                    button(f"Run {playbook}", actions.PLAYBOOK_START, value, "danger"),
                    button("Dry run", actions.PLAYBOOK_DRY_RUN, value),
                ],
            },
        ]
        await self._tell(channel=channel, text=text, blocks=blocks)

    async def share_files(
        self, *, channel: str, files: Sequence[Upload], comment: str
    ) -> str | None:
        # files.getUploadURLExternal → upload (per file) → one files.completeUploadExternal
        # (files.upload is retired); slack_sdk's files_upload_v2 makes the calls.
        response = await self._call(
            "files_upload_v2",
            channel=channel,
            file_uploads=[
                {"filename": f.filename, "title": f.title, "content": f.content} for f in files
            ],
            initial_comment=comment,
        )
        shared = response.get("file") or (response.get("files") or [{}])[0]
        return shared.get("permalink")

    async def show_budget(
        self, *, channel: str, ref: str, budget: ServiceBudget, message: MessageRef | None
    ) -> MessageRef:
        summary = budget_text(budget, incident_ref=ref)
        text = f":hourglass_flowing_sand: *Error budget* ({escape(ref)})\n{summary}"
        if message is not None:
            await self._update(message, text=text)
            return message
        posted = await self._post(channel=channel, text=text)
        try:
            await self._write(
                "pins_add",
                queue=posted.channel_id,
                wait=True,
                channel=posted.channel_id,
                timestamp=posted.ts,
            )
        except ChatError as exc:
            if exc.code != "already_pinned":
                raise
        return posted

    async def post_run(self, *, channel: str, run: RunView) -> MessageRef:
        text, blocks = run_message(run)
        return await self._post(channel=channel, text=text, blocks=blocks)

    async def update_run(self, *, message: MessageRef, run: RunView) -> None:
        text, blocks = run_message(run)
        await self._update(message, text=text, blocks=blocks)

    async def message(self, *, channel_id: str, ts: str) -> ChatMessage | None:
        found = await self._call(
            "conversations_history",
            channel=channel_id,
            latest=ts,
            oldest=ts,
            inclusive=True,
            limit=1,
        )
        hits = [m for m in found.get("messages", []) if m.get("ts") == ts]
        if not hits:
            # A reply in a thread is not in the channel's history; ask for it as a thread.
            try:
                found = await self._call(
                    "conversations_replies", channel=channel_id, ts=ts, limit=1, inclusive=True
                )
            except ChatError as exc:
                if exc.code == "thread_not_found":
                    return None
                raise
            hits = [m for m in found.get("messages", []) if m.get("ts") == ts]
        if not hits:
            return None
        link = await self._call("chat_getPermalink", channel=channel_id, message_ts=ts)
        return ChatMessage(
            channel_id=channel_id,
            ts=ts,
            at=datetime.fromtimestamp(float(ts), UTC),
            author=hits[0].get("user") or hits[0].get("bot_id"),
            text=unescape(hits[0].get("text", "")),  # Slack's text is escaped mrkdwn
            permalink=link.get("permalink"),
        )

    async def _post(self, *, channel: str, text: str, blocks: Blocks | None = None) -> MessageRef:
        """A message whose ts the caller keeps (to update it later): waits for delivery."""
        response = await self._write(
            "chat_postMessage", queue=channel, wait=True, **_message(channel, text, blocks)
        )
        return MessageRef(channel_id=response["channel"], ts=response["ts"])

    async def _tell(self, *, channel: str, text: str, blocks: Blocks | None = None) -> None:
        """A message nobody refers to again: stored, and delivered in the channel's order."""
        await self._write(
            "chat_postMessage", queue=channel, wait=False, **_message(channel, text, blocks)
        )

    async def _update(
        self, message: MessageRef, *, text: str, blocks: Blocks | None = None
    ) -> None:
        await self._write(
            "chat_update",
            queue=message.channel_id,
            wait=False,
            replaces=f"update:{message.ts}",
            ts=message.ts,
            **_message(message.channel_id, text, blocks),
        )

    async def _write(
        self, method: str, *, queue: str, wait: bool, replaces: str | None = None, **kwargs: Any
    ) -> Any:
        try:
            return await self._outbox.send(
                method, queue=queue, args=kwargs, wait=wait, replaces=replaces
            )
        except ChatError as exc:
            if method == "conversations_create" and exc.code == "name_taken":
                raise ChannelNameTaken(kwargs["name"]) from exc
            raise

    async def _call(self, method: str, **kwargs: Any) -> Any:
        """A read (or a file upload) straight to Slack, with the SDK's own retries."""
        try:
            return await getattr(self._client, method)(**kwargs)
        except SlackApiError as exc:
            code = error_code(exc)
            raise ChatError(code, method.replace("_", ".", 1)) from exc


def _message(channel: str, text: str, blocks: Blocks | None) -> dict[str, Any]:
    args: dict[str, Any] = {"channel": channel, "text": text}
    if blocks is not None:
        args["blocks"] = blocks
    return args
