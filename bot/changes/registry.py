"""The model registry as a change feed: a watched alias that moves is a change of its service.

For each service deployed through a model registry (firebreak.yaml `deploy: {kind: mlflow}`)
the watcher reads where the watched aliases point (`deploy.watch`, default the serving alias)
every `changes.registry_poll`, and a move becomes a `model_promotion` change from the version
before to the new one: recorded and announced as a webhook's change is, so "What changed" and
"Roll back this change" work without any CI posting to /webhooks/changes.

- Baseline. Where each alias was last seen is kept in `registry_aliases`, per service, model
  and alias. The first sighting is only noted: no change is announced for an alias Firebreak
  never saw move. A restart reads the same rows, so it finds no phantom move.
- Event ids. A move's id is `mlflow:<service>:<model>:<alias>:<n>:<from>-><to>`, n counting the
  moves seen since the baseline. MLflow records neither when nor by whom an alias moved (its
  timestamps do not change), so the count is what makes moving back and forth again a new
  change. The change is recorded before the baseline moves on (compare-and-set): a crash in
  between polls the same move again under the same id, which the change feed deduplicates.
- One poller. Every replica runs the loop, but only the one holding the reminder scheduler's
  lock (`owner`) reads the registries; should two ever read at once, the ids above make them
  record one change.
- Outages. A registry that cannot be read is logged once when it goes and once when it comes
  back, and read again next interval; nothing is recorded meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256
from typing import Protocol
from urllib.parse import quote

from sqlalchemy.exc import IntegrityError

from bot.changes import flows, service
from bot.changes.models import Change
from bot.changes.schemas import ChangeEvent, ChangeKind
from bot.context import Context
from bot.deploy.ports import DeployError, RegisteredVersion

log = logging.getLogger(__name__)

# One service's reading of its registry, every request together (each also has its target's
# timeout_s): a hung registry must not hold up the others' for long.
READ_TIMEOUT_S = 30.0


class ModelRegistry(Protocol):
    """One registered model in a model registry (bot.deploy.adapters.mlflow.MlflowRegistry)."""

    model: str

    async def aliases(self) -> dict[str, str]:
        """Every alias of the model → the version it points at. Raises when unreadable."""
        ...

    async def version(self, version: str) -> RegisteredVersion:
        """What the registry says of one version (who registered it, when, from which run)."""
        ...


@dataclass(frozen=True)
class Watched:
    """A service whose changes are its model's alias moves."""

    service: str
    registry: ModelRegistry
    aliases: tuple[str, ...]


def event_id(
    *, service: str, model: str, alias: str, moves: int, from_version: str, to_version: str
) -> str:
    """The change event id of the `moves`-th move of the alias (see the module's docstring)."""
    names = ":".join(quote(part, safe="") for part in (service, model, alias))
    versions = f"{quote(from_version, safe='')}->{quote(to_version, safe='')}"
    raw = f"mlflow:{names}:{moves}:{versions}"
    return raw if len(raw) <= 200 else f"mlflow:{sha256(raw.encode()).hexdigest()}"


class RegistryWatcher:
    """Reads the watched registries every `every` while `owner()` says this process polls.

    `poll_once` reads once, whoever owns the polling: the loop calls it, and so may a test.
    """

    def __init__(
        self,
        *,
        ctx: Context[object],
        watched: Sequence[Watched],
        every: timedelta | None,
        owner: Callable[[], bool],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._ctx = ctx
        self._watched = list(watched)
        self._every = every
        self._owner = owner
        self._sleep = sleep
        self._polling = asyncio.Lock()
        self._down: set[str] = set()  # services whose registry could not be read last time
        self._loop: asyncio.Task[None] | None = None

    @property
    def watched(self) -> list[Watched]:
        return list(self._watched)

    def start(self) -> None:
        """Start polling, unless there is nothing to watch or `changes.registry_poll` is null."""
        if self._every is None or not self._watched or self._loop is not None:
            return
        self._loop = asyncio.create_task(self._run(), name="registry-watch")

    async def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._loop
        self._loop = None

    async def _run(self) -> None:
        assert self._every is not None
        while True:
            if self._owner():
                try:
                    await self.poll_once()
                except Exception:  # the database may be restarting: the next round tries again
                    log.exception("the model registries were not read; trying again shortly")
            await self._sleep(self._every.total_seconds())

    async def poll_once(self) -> list[Change]:
        """Read every watched registry once; the changes this recorded (none for a baseline,
        a move already recorded, or a registry that could not be read)."""
        recorded: list[Change] = []
        async with self._polling:
            for watched in self._watched:
                positions = await self._read(watched)
                if positions is None:
                    continue
                for alias in watched.aliases:
                    version = positions.get(alias)
                    if version is None:  # unset (or deleted): nothing to measure from or to
                        continue
                    change = await self._observe(watched, alias, version)
                    if change is not None:
                        recorded.append(change)
        return recorded

    async def _read(self, watched: Watched) -> dict[str, str] | None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                positions = await watched.registry.aliases()
        except Exception as exc:
            if watched.service not in self._down:
                self._down.add(watched.service)
                log.warning(
                    "the model registry of %s (model %s) cannot be read: %s; trying again "
                    "every %s, and saying so once it answers",
                    watched.service,
                    watched.registry.model,
                    _reason(exc),
                    self._every,
                )
            return None
        if watched.service in self._down:
            self._down.discard(watched.service)
            log.info("the model registry of %s answers again", watched.service)
        return positions

    async def _observe(self, watched: Watched, alias: str, version: str) -> Change | None:
        model = watched.registry.model
        async with self._ctx.reading() as session:
            seen = await service.registry_alias(
                session=session, service=watched.service, model=model, alias=alias
            )
        if seen is None:
            await self._baseline(watched, alias, version)
            return None
        if seen.version == version:
            return None
        moves = seen.moves + 1
        details = await self._details(watched, version)
        event = ChangeEvent(
            id=event_id(
                service=watched.service,
                model=model,
                alias=alias,
                moves=moves,
                from_version=seen.version,
                to_version=version,
            ),
            kind=ChangeKind.MODEL_PROMOTION,
            service=watched.service,
            version=version[:200],
            previous_version=seen.version[:200],
            # MLflow records no author of an alias move; the version's registrant is not it.
            author=None,
            link=details.link if details and details.link else None,
            summary=_summary(model, alias, seen.version, version, details),
        )
        received = await flows.receive(self._ctx, event=event)
        async with self._ctx.sessions.begin() as session:
            await service.move_registry_alias(
                session=session, seen=seen, version=version, now=self._ctx.clock()
            )
        if received.created:
            log.info("change recorded: %s", flows.describe(received.change))
            return received.change
        return None

    async def _baseline(self, watched: Watched, alias: str, version: str) -> None:
        try:
            async with self._ctx.sessions.begin() as session:
                service.add_registry_alias(
                    session=session,
                    service=watched.service,
                    model=watched.registry.model,
                    alias=alias,
                    version=version,
                    now=self._ctx.clock(),
                )
        except IntegrityError:  # another poller noted it first: theirs is the baseline
            return
        log.info(
            "%s: alias %s of model %s is at version %s; its moves are changes from now on",
            watched.service,
            alias,
            watched.registry.model,
            version,
        )

    async def _details(self, watched: Watched, version: str) -> RegisteredVersion | None:
        """The new version's details, when the registry gives them; the move is recorded
        without them otherwise."""
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                return await watched.registry.version(version)
        except Exception as exc:
            log.warning(
                "%s: version %s of model %s not described: %s",
                watched.service,
                version,
                watched.registry.model,
                _reason(exc),
            )
            return None


def _summary(
    model: str, alias: str, before: str, after: str, details: RegisteredVersion | None
) -> str:
    said = f"alias {alias} of model {model} moved from version {before} to {after}"
    known = [
        f"by {details.user}" if details and details.user else "",
        f"on {details.created_at:%Y-%m-%d %H:%M} UTC" if details and details.created_at else "",
        f"from run {details.run_id}" if details and details.run_id else "",
    ]
    if any(known):
        said += f"; version {after} registered " + " ".join(k for k in known if k)
    return said[:500]


def _reason(exc: BaseException) -> str:
    """What went wrong, in words that name no URL or secret: the adapters' DeployError
    messages are written so; anything else is named by its type."""
    if isinstance(exc, DeployError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return f"no answer in {READ_TIMEOUT_S:g}s"
    return type(exc).__name__
