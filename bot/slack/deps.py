"""What listeners get from the composition root, through Bolt's per-request context."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.context import Context
from bot.playbooks.engine import Runner
from bot.playbooks.ports import PlaybookChat
from bot.postmortem.ports import PostmortemChat
from bot.tasks import Background

CONTEXT_KEY = "firebreak"


class AppChat(PlaybookChat, PostmortemChat, Protocol):
    """Every capability port the flows declare: what the chat adapter (SlackChat) serves."""


AppContext = Context[AppChat]


@dataclass(frozen=True)
class Deps:
    ctx: AppContext
    background: Background
    runner: Runner
    drills_dir: Path = Path("examples/drills")  # the scenarios `/incident drill` replays


def deps_of(context: Any) -> Deps:
    deps = context[CONTEXT_KEY]
    assert isinstance(deps, Deps)
    return deps
