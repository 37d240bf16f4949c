"""Domain events: a flow announces what happened and returns; whoever cares subscribes.

The composition root (bot/app.py) registers the handlers, as cosmicpython's bootstrap does, so
no flow calls up the stack: resolving an incident does not know that a postmortem is written
or a drill report posted, and intake does not know that Slack follows up. Each package
declares its own events (bot.incidents.events, bot.changes.events, bot.playbooks.events).

Handlers run in the order registered, awaited by the publisher; one that fails is logged and
the others still run (the fact happened either way). Work that must not hold up the publisher
(chat after a webhook) is subscribed through a handler that starts a background task. What
must survive a crash is stored before the event is published: the rows the event names, and
chat calls through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Something that happened, named in the past tense, carrying ids rather than rows."""


E = TypeVar("E", bound=Event)
Handler = Callable[[E], Awaitable[None]]


class Publisher(Protocol):
    async def publish(self, event: Event) -> None: ...


class Bus:
    """A dict of handlers by event type."""

    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler[Any]]] = {}

    def subscribe(self, kind: type[E], handler: Handler[E]) -> None:
        self._handlers.setdefault(kind, []).append(handler)

    async def publish(self, event: Event) -> None:
        for handler in self._handlers.get(type(event), ()):
            try:
                await handler(event)
            except Exception:
                log.exception("handler %s of %s failed", _name(handler), type(event).__name__)


def _name(handler: Handler[Any]) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
