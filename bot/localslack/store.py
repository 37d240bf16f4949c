"""The workspace's data: users, conversations, messages and views, with Slack's lookup rules.

Not locked: `Workspace` holds the lock and hands a `Store` to the method handlers, which keep
every check ahead of their first mutation so a failed call leaves no trace.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from bot.localslack.args import SlackError
from bot.localslack.ids import TsClock, new_id

MAX_CHANNEL_NAME = 80
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")


def check_channel_name(name: str | None) -> str:
    """Apply conversations.create's naming rules, raising the error Slack would give."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > MAX_CHANNEL_NAME:
        raise SlackError("invalid_name_maxlength")
    if not _CHANNEL_NAME.fullmatch(name):
        raise SlackError("invalid_name_specials")
    if not name.strip("-_"):
        raise SlackError("invalid_name_punctuation")
    return name


def _blank_text_setting() -> dict[str, Any]:
    return {"value": "", "creator": "", "last_set": 0}


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    created: int
    creator: str
    members: list[str] = field(default_factory=list)
    topic: dict[str, Any] = field(default_factory=_blank_text_setting)
    purpose: dict[str, Any] = field(default_factory=_blank_text_setting)
    is_archived: bool = False
    # ts of pinned messages -> (pinned at, pinned by); pins.list needs both.
    pins: dict[str, tuple[int, str]] = field(default_factory=dict)
    # Set for a direct message (an IM): the person the bot talks to. IMs have no name.
    im_user: str | None = None

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    def to_slack(self, viewer: str) -> dict[str, Any]:
        """The conversation object as `viewer` sees it (is_member differs per caller)."""
        if self.im_user is not None:
            return self._im_to_slack(self.im_user)
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": self.created,
            "creator": self.creator,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": viewer in self.members,
            "unlinked": 0,
            "previous_names": [],
            "topic": dict(self.topic),
            "purpose": dict(self.purpose),
            "num_members": len(self.members),
        }

    def _im_to_slack(self, user: str) -> dict[str, Any]:
        # The spec's "Conversation IM Channel Object": no name, topic or is_channel.
        return {
            "id": self.id,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_im": True,
            "is_org_shared": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_open": True,
            "user": user,
            "is_user_deleted": False,
            "priority": 0,
        }


@dataclass
class StoredFile:
    """A file from the upload flow: reserved by files.getUploadURLExternal, its bytes
    POSTed to the upload URL, then finished (and shared) by files.completeUploadExternal."""

    id: str
    name: str
    length: int  # the size getUploadURLExternal announced; the bytes must match it
    user: str
    created: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None  # None until the upload URL received them
    # Set by files.completeUploadExternal: the file object Slack describes it with.
    info: dict[str, Any] | None = None

    @property
    def completed(self) -> bool:
        return self.info is not None


class Store:
    def __init__(
        self,
        *,
        team_id: str,
        team_name: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str = "A0FIREBOT",
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.clock = TsClock()
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}  # insertion order = creation order
        self.messages: dict[str, list[dict[str, Any]]] = {}  # oldest first
        # Ephemeral messages never reach history; kept per conversation, oldest first.
        self.ephemeral: dict[str, list[dict[str, Any]]] = {}
        self.views: dict[str, dict[str, Any]] = {}  # open views, oldest first
        self.used_triggers: set[str] = set()
        self.expired_triggers: set[str] = set()
        # Triggers the page handed out (trigger -> user), and the view each one opened: the
        # page shows a modal only to the person whose click or command opened it.
        self.trigger_users: dict[str, str] = {}
        self.trigger_views: dict[str, str] = {}
        self.files: dict[str, StoredFile] = {}  # by id, oldest first
        # Where the HTTP layer serves build_api (no trailing slash), for the URLs that
        # files.* hand out; set per call by the Workspace.
        self.api_base = "http://localslack.invalid/api"
        self.add_user(bot_user_id, "firebreak", real_name="Firebreak", is_bot=True)

    # users

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        email: str | None = None,
        real_name: str | None = None,
        display_name: str = "",
        is_bot: bool = False,
    ) -> dict[str, Any]:
        # As Slack's: the display name is empty until the person chooses one (Slack then shows
        # the full name).
        profile: dict[str, Any] = {"real_name": real_name or name, "display_name": display_name}
        if email is not None:
            profile["email"] = email
        if is_bot:
            profile["bot_id"] = self.bot_id
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real_name or name,
            "is_bot": is_bot,
            "deleted": False,
            "profile": profile,
        }
        self.users[user_id] = user
        return user

    # channels

    def create_channel(self, name: str, *, is_private: bool, creator: str) -> Channel:
        channel = Channel(
            id=new_id("C", self.channels),
            name=name,
            is_private=is_private,
            created=int(time.time()),
            creator=creator,
            members=[creator],
        )
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    def channel_named(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    # direct messages

    def im_with(self, user_id: str) -> Channel | None:
        """The bot's IM with `user_id`, if it was ever opened."""
        return next((c for c in self.channels.values() if c.im_user == user_id), None)

    def open_im(self, user_id: str) -> tuple[Channel, bool]:
        """The bot's IM with a known user, opened if needed; True if it was already open."""
        existing = self.im_with(user_id)
        if existing is not None:
            return existing, True
        im = Channel(
            id=new_id("D", self.channels),
            name="",
            is_private=True,
            created=int(time.time()),
            creator=self.bot_user_id,
            members=[self.bot_user_id, user_id],
            im_user=user_id,
        )
        self.channels[im.id] = im
        self.messages[im.id] = []
        return im, False

    def dm_user(self, ref: str | None) -> str | None:
        """`ref` if it names a person the bot can DM by user ID (chat.postMessage does so)."""
        if ref and ref[0] in "UW" and ref in self.users and ref != self.bot_user_id:
            return ref
        return None

    def channel(self, ref: str | None, *, by_name: bool = False) -> Channel:
        """Find a channel the bot may see, by ID (or by name, with or without '#').

        Private channels the bot is not in do not exist as far as it can tell, which is how
        Slack answers too.
        """
        found: Channel | None = None
        if ref:
            found = self.channels.get(ref)
            if found is None and by_name:
                found = self.channel_named(ref.removeprefix("#"))
        if found is None or (found.is_private and self.bot_user_id not in found.members):
            raise SlackError("channel_not_found")
        return found

    # messages

    def append_message(self, channel_id: str, message: dict[str, Any]) -> None:
        thread_ts = message.get("thread_ts")
        if thread_ts is not None:
            self._note_reply(channel_id, thread_ts, message)
        self.messages[channel_id].append(message)

    def _note_reply(self, channel_id: str, thread_ts: str, reply: dict[str, Any]) -> None:
        # Slack keeps thread counters on the parent; a reply to an unknown ts is still accepted.
        parent = next((m for m in self.messages[channel_id] if m["ts"] == thread_ts), None)
        if parent is None:
            return
        parent["thread_ts"] = thread_ts
        parent["reply_count"] = parent.get("reply_count", 0) + 1
        parent["latest_reply"] = reply["ts"]
        users = parent.setdefault("reply_users", [])
        if reply["user"] not in users:
            users.append(reply["user"])
        parent["reply_users_count"] = len(users)

    def message(self, channel: Channel, ts: str | None) -> dict[str, Any]:
        for message in self.messages[channel.id]:
            if message["ts"] == ts:
                return message
        raise SlackError("message_not_found")
