"""The registry watcher against a registry in memory: a baseline first, then one change per move,
none for polling the same state again, across restarts and replicas; an unreadable registry is
logged once per outage and records nothing. (tests/integration/deploy/adapters/test_mlflow.py
runs it against a real MLflow server.)"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.changes import flows, service
from bot.changes.registry import RegistryWatcher, Watched, event_id
from bot.changes.schemas import ChangeEvent
from bot.config import ChangesConfig, FirebreakConfig
from bot.context import Context
from bot.deploy.config import MlflowTargetConfig
from bot.deploy.ports import DeployError, RegisteredVersion
from tests.fakes import FakeClock
from tests.polling import eventually


class FakeRegistry:
    """One model's aliases in memory; `down` makes every read fail as an outage does."""

    def __init__(self, model: str = "ranker", **aliases: str) -> None:
        self.model = model
        self.positions = dict(aliases)
        self.down = False
        self.reads = 0

    async def aliases(self) -> dict[str, str]:
        self.reads += 1
        if self.down:
            raise DeployError(
                f"MLflow registered-models/get of model {self.model}: ConnectError", transient=True
            )
        return dict(self.positions)

    async def version(self, version: str) -> RegisteredVersion:
        return RegisteredVersion(
            model=self.model,
            version=version,
            user="alice@example.com",
            created_at=datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
            run_id="r0123",
            link=f"https://mlflow.example.com/#/models/{self.model}/versions/{version}",
        )


def watcher(
    ctx: Context, registry: FakeRegistry, *aliases: str, owner: bool = True
) -> RegistryWatcher:
    watched = Watched(service="search-ranker", registry=registry, aliases=aliases or ("champion",))
    return RegistryWatcher(
        ctx=ctx, watched=[watched], every=timedelta(seconds=30), owner=lambda: owner
    )


async def all_changes(ctx: Context) -> list[tuple[str | None, str | None]]:
    async with ctx.reading() as session:
        found = await service.since(
            session=session, services=["search-ranker"], start=datetime(2000, 1, 1, tzinfo=UTC)
        )
    return [(c.previous_version, c.version) for c in reversed(found)]


async def test_a_move_is_one_change_from_the_version_seen_before(
    ctx: Context, clock: FakeClock
) -> None:
    registry = FakeRegistry(champion="1")
    watching = watcher(ctx, registry)

    assert await watching.poll_once() == []  # the baseline: nothing announced
    assert await all_changes(ctx) == []

    registry.positions["champion"] = "2"
    clock.advance(minutes=5)
    [change] = await watching.poll_once()

    assert (change.kind, change.service) == ("model_promotion", "search-ranker")
    assert (change.previous_version, change.version) == ("1", "2")
    assert change.event_id == "mlflow:search-ranker:ranker:champion:1:1->2"
    assert change.at == clock.now  # MLflow says nobody when an alias moved: when it was seen
    assert change.author is None
    assert change.link == "https://mlflow.example.com/#/models/ranker/versions/2"
    assert change.summary == (
        "alias champion of model ranker moved from version 1 to 2; version 2 registered by "
        "alice@example.com on 2026-11-26 09:30 UTC from run r0123"
    )
    assert await watching.poll_once() == []  # the same state again is no change

    registry.positions["champion"] = "1"  # moved back
    [back] = await watching.poll_once()
    registry.positions["champion"] = "2"  # and forth again: a change of its own
    [forth] = await watching.poll_once()

    assert (back.previous_version, back.version) == ("2", "1")
    assert forth.event_id == "mlflow:search-ranker:ranker:champion:3:1->2"
    assert await all_changes(ctx) == [("1", "2"), ("2", "1"), ("1", "2")]


async def test_a_restart_and_a_second_replica_record_no_phantom_or_double_change(
    ctx: Context,
) -> None:
    registry = FakeRegistry(champion="1")
    await watcher(ctx, registry).poll_once()
    registry.positions["champion"] = "2"
    assert len(await watcher(ctx, registry).poll_once()) == 1

    assert await watcher(ctx, registry).poll_once() == []  # restarted: the baseline is stored

    registry.positions["champion"] = "3"
    first, second = watcher(ctx, registry), watcher(ctx, registry)
    both = await asyncio.gather(first.poll_once(), second.poll_once())

    assert sorted(len(recorded) for recorded in both) == [0, 1]
    assert await all_changes(ctx) == [("1", "2"), ("2", "3")]


async def test_a_move_recorded_before_a_crash_is_not_recorded_again(ctx: Context) -> None:
    """The change is stored before the baseline moves on: a crash between the two polls the
    same move again under the same event id."""
    registry = FakeRegistry(champion="1")
    await watcher(ctx, registry).poll_once()
    registry.positions["champion"] = "2"
    stored_id = event_id(
        service="search-ranker",
        model="ranker",
        alias="champion",
        moves=1,
        from_version="1",
        to_version="2",
    )
    event = ChangeEvent(
        id=stored_id,
        kind="model_promotion",
        service="search-ranker",
        version="2",
        previous_version="1",
    )
    await flows.receive(ctx, event=event)  # what the crashed poll recorded

    assert await watcher(ctx, registry).poll_once() == []
    assert await all_changes(ctx) == [("1", "2")]
    registry.positions["champion"] = "3"
    assert len(await watcher(ctx, registry).poll_once()) == 1  # the baseline moved on


async def test_each_watched_alias_has_its_own_baseline_and_unset_ones_are_passed_over(
    ctx: Context,
) -> None:
    registry = FakeRegistry(champion="4", challenger="5")
    watching = watcher(ctx, registry, "champion", "challenger", "shadow")
    await watching.poll_once()

    registry.positions.update(challenger="6", shadow="1")  # shadow appears: a baseline
    [change] = await watching.poll_once()

    assert (change.previous_version, change.version) == ("5", "6")
    assert change.event_id == "mlflow:search-ranker:ranker:challenger:1:5->6"
    async with ctx.reading() as session:
        shadow = await service.registry_alias(
            session=session, service="search-ranker", model="ranker", alias="shadow"
        )
    assert shadow is not None and (shadow.version, shadow.moves) == ("1", 0)


async def test_an_unreadable_registry_is_logged_once_per_outage_and_records_nothing(
    ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.changes.registry")
    registry = FakeRegistry(champion="1")
    watching = watcher(ctx, registry)
    await watching.poll_once()
    registry.positions["champion"] = "2"
    registry.down = True

    assert await watching.poll_once() == []
    assert await watching.poll_once() == []

    assert await all_changes(ctx) == []
    outage = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in outage] == [
        "the model registry of search-ranker (model ranker) cannot be read: MLflow "
        "registered-models/get of model ranker: ConnectError; trying again every 0:00:30, "
        "and saying so once it answers"
    ]

    registry.down = False
    [change] = await watching.poll_once()  # the move made during the outage
    assert (change.previous_version, change.version) == ("1", "2")
    assert "the model registry of search-ranker answers again" in caplog.messages
    registry.down = True
    await watching.poll_once()
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2  # a new outage


async def test_only_the_owner_polls_every_interval(ctx: Context) -> None:
    registry = FakeRegistry(champion="1")
    owner = False
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(0)

    watching = RegistryWatcher(
        ctx=ctx,
        watched=[Watched(service="search-ranker", registry=registry, aliases=("champion",))],
        every=timedelta(seconds=45),
        owner=lambda: owner,
        sleep=sleep,
    )
    watching.start()
    try:
        await eventually(lambda: len(slept) >= 3, what="three rounds as a standby")
        assert registry.reads == 0
        owner = True
        await eventually(lambda: registry.reads >= 2, what="the new owner reading")
    finally:
        await watching.stop()
    assert set(slept) == {45.0}


async def test_nothing_to_watch_or_no_interval_starts_no_loop(ctx: Context) -> None:
    registry = FakeRegistry(champion="1")
    for watched, every in (([], timedelta(seconds=30)), ([registry], None)):
        watching = RegistryWatcher(
            ctx=ctx,
            watched=[Watched("search-ranker", r, ("champion",)) for r in watched],
            every=every,
            owner=lambda: True,
        )
        watching.start()
        await asyncio.sleep(0)
        await watching.stop()
    assert registry.reads == 0


def test_long_or_spaced_names_still_make_a_valid_event_id() -> None:
    spaced = event_id(
        service="search ranker",
        model="team/ranker:v2",
        alias="champion",
        moves=2,
        from_version="1",
        to_version="2",
    )
    assert spaced == "mlflow:search%20ranker:team%2Franker%3Av2:champion:2:1->2"
    long = event_id(
        service="s", model="m" * 300, alias="a", moves=1, from_version="1", to_version="2"
    )
    assert long.startswith("mlflow:") and len(long) <= 200
    ChangeEvent(id=long, kind="model_promotion", service="s")  # the webhook's rules hold


def test_the_serving_alias_is_watched_every_30s_unless_configured_otherwise() -> None:
    target = MlflowTargetConfig.model_validate(
        {"kind": "mlflow", "url": "http://mlflow:5000", "model": "ranker", "alias": "prod"}
    )
    assert target.watched_aliases == ["prod"]
    assert target.model_copy(update={"watch": []}).watched_aliases == []
    assert FirebreakConfig().changes.registry_poll == timedelta(seconds=30)
    assert ChangesConfig.model_validate({"registry_poll": "2m"}).registry_poll == timedelta(
        minutes=2
    )
    assert ChangesConfig.model_validate({"registry_poll": None}).registry_poll is None
    with pytest.raises(ValueError, match="at least 1s"):
        ChangesConfig.model_validate({"registry_poll": "0s"})
