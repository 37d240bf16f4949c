"""What writing a postmortem asks of the chat platform besides the incident's ports: sharing the
draft as a file in the channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

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


class PostmortemChat(IncidentChat, Files, Protocol):
    pass


PostmortemContext = Context[PostmortemChat]
