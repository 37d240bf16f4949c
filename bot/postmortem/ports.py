"""What writing a postmortem asks of the chat platform besides the incident's ports: sharing the
draft as a file in the channel, and (when the chat can) naming the people in it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.context import Context
from bot.incidents.ports import IncidentChat


@dataclass(frozen=True)
class Upload:
    """A file to share in a channel."""

    filename: str
    title: str
    content: bytes


class Files(Protocol):
    async def share_files(
        self, *, channel: str, files: Sequence[Upload], comment: str
    ) -> str | None:
        """Upload files into the channel in one message with a comment (mrkdwn, outside values
        escaped); the first file's permalink, when known."""
        ...


@runtime_checkable
class Directory(Protocol):
    """Who people are: their display names, by chat user ID.

    Optional: a chat that does not serve it leaves people shown as @U123. Checked at run time
    (isinstance), so chats without it (test doubles, a chat with no user directory) still work.
    """

    async def names(self, user_ids: Iterable[str]) -> Mapping[str, str]:
        """Display names of the people it knows; an unknown person, or one whose lookup failed
        or took too long, is left out. Never raises."""
        ...


class PostmortemChat(IncidentChat, Files, Protocol):
    pass


PostmortemContext = Context[PostmortemChat]
