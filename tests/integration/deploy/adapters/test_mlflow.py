"""Everything against a real MLflow tracking server (`mlflow_url`, shared by the whole run), in
one module so a run starts the server once (it takes 15-30 s): MlflowTarget, MlflowRegistry (the
change feed's reading of a model's aliases), and the registry watcher in a running bot (alias
moves become changes, once each, shown under "What changed"; "Roll back this change" points the
alias back through the MLflow target).

Each test registers a model of its own, so the tests share the server but not its state. What
the registry holds is checked through MLflow's own REST API, not through the adapter.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.changes import service
from bot.changes.registry import RegistryWatcher, Watched
from bot.config import FirebreakConfig
from bot.context import Context
from bot.deploy.adapters.mlflow import InMemoryAliasHistory, MlflowRegistry, MlflowTarget
from bot.deploy.config import MlflowTargetConfig
from bot.deploy.ports import Action, DeployError, Prepared
from bot.slack.blocks import actions
from tests.payloads import am_alert, am_notification
from tests.scenario import Bot, clean_env, running_bot
from tests.servers import free_port
from tests.unit.test_changes import ANA, BEN, announcement, approve_latest_run, buttons

_models = itertools.count(1)


@pytest.fixture
async def registry(mlflow_url: str) -> AsyncIterator[Registry]:
    async with httpx.AsyncClient(base_url=f"{mlflow_url}/api/2.0/mlflow", timeout=10) as client:
        yield Registry(client, f"ranker-{next(_models)}")


class Registry:
    """One model in the real registry, driven through MLflow's REST API."""

    def __init__(self, client: httpx.AsyncClient, model: str) -> None:
        self.client = client
        self.model = model

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, **kwargs)
        assert response.is_success, response.text
        return response.json()

    async def register(self, versions: int = 3) -> None:
        await self.call("POST", "/registered-models/create", json={"name": self.model})
        for n in range(1, versions + 1):
            # A file:// source is refused without a run_id; an s3:// one is only recorded.
            source = {"name": self.model, "source": f"s3://models/{self.model}/{n}"}
            created = await self.call("POST", "/model-versions/create", json=source)
            assert created["model_version"]["version"] == str(n)

    async def set_alias(self, version: str, alias: str = "champion") -> None:
        body = {"name": self.model, "alias": alias, "version": version}
        await self.call("POST", "/registered-models/alias", json=body)

    async def alias(self, alias: str = "champion") -> str:
        params = {"name": self.model, "alias": alias}
        found = await self.call("GET", "/registered-models/alias", params=params)
        return str(found["model_version"]["version"])


def target(
    url: str, model: str, history: InMemoryAliasHistory | None = None, **config: Any
) -> MlflowTarget:
    settings = MlflowTargetConfig.model_validate(
        {"kind": "mlflow", "url": url, "model": model, **config}
    )
    return MlflowTarget(settings, service="search-ranker", history=history, token=None)


async def prepare(mlflow: MlflowTarget, action: Action, **args: Any) -> Prepared:
    return await mlflow.prepare(
        action=action, service="search-ranker", args=args, idempotency_key="INC-7-step-1"
    )


async def observe(mlflow: MlflowTarget) -> str | None:
    result = await mlflow.execute(await prepare(mlflow, Action.GET_STATE), timeout_s=10)
    assert result.state is not None
    return result.state.active_version


async def test_rollback_moves_the_alias_back_to_the_version_before(
    mlflow_url: str, registry: Registry
) -> None:
    await registry.register()
    history = InMemoryAliasHistory()
    mlflow = target(mlflow_url, registry.model, history)
    for version in ("1", "2", "3"):  # Firebreak sees each release through get_state
        await registry.set_alias(version)
        assert await observe(mlflow) == version

    prepared = await prepare(mlflow, Action.ROLLBACK)

    assert await registry.alias() == "3", "preparing changes nothing"
    (request,) = prepared.requests
    assert (request.method, request.url) == (
        "POST",
        f"{mlflow_url}/api/2.0/mlflow/registered-models/alias",
    )
    assert request.json == {"name": registry.model, "alias": "champion", "version": "2"}
    assert "from the alias history" in prepared.note

    result = await mlflow.execute(prepared, timeout_s=10)

    assert await registry.alias() == "2"
    assert [r.status for r in result.responses] == [200]
    assert result.state is not None
    assert result.state.active_version == "2"
    assert result.state.previous_versions == ("3", "1")
    assert await history.seen(model=registry.model, alias="champion") == ["2", "3", "2", "1"]


async def test_rollback_to_an_explicit_version(mlflow_url: str, registry: Registry) -> None:
    await registry.register()
    await registry.set_alias("3")
    mlflow = target(mlflow_url, registry.model)

    prepared = await prepare(mlflow, Action.ROLLBACK, to_version="1")
    await mlflow.execute(prepared, timeout_s=10)

    assert await registry.alias() == "1"
    assert prepared.note == "alias champion from version 3 to 1, as asked"


async def test_without_history_rollback_takes_the_next_lower_version(
    mlflow_url: str, registry: Registry
) -> None:
    await registry.register()
    await registry.set_alias("3")  # moved before Firebreak ever looked
    mlflow = target(mlflow_url, registry.model)

    prepared = await prepare(mlflow, Action.ROLLBACK)
    await mlflow.execute(prepared, timeout_s=10)

    assert await registry.alias() == "2"
    assert "history knows no earlier version" in prepared.note


async def test_an_unknown_version_is_refused_for_good(mlflow_url: str, registry: Registry) -> None:
    await registry.register()
    await registry.set_alias("3")

    with pytest.raises(DeployError, match="has no version 9") as raised:
        await prepare(target(mlflow_url, registry.model), Action.ROLLBACK, to_version="9")

    assert raised.value.transient is False
    assert await registry.alias() == "3"


async def test_the_registry_refusing_a_version_is_not_transient(
    mlflow_url: str, registry: Registry
) -> None:
    """Should the version go between prepare and execute, MLflow's own 404 comes through."""
    await registry.register()
    await registry.set_alias("3")
    mlflow = target(mlflow_url, registry.model)
    prepared = await prepare(mlflow, Action.ROLLBACK, to_version="1")
    await registry.call(
        "DELETE", "/model-versions/delete", json={"name": registry.model} | {"version": "1"}
    )

    with pytest.raises(DeployError) as raised:
        await mlflow.execute(prepared, timeout_s=10)

    assert (raised.value.transient, raised.value.status) == (False, 404)
    assert "RESOURCE_DOES_NOT_EXIST" in str(raised.value)
    assert await registry.alias() == "3"


async def test_an_unset_alias_is_refused(mlflow_url: str, registry: Registry) -> None:
    await registry.register()

    with pytest.raises(DeployError, match="not found") as raised:
        await prepare(target(mlflow_url, registry.model, alias="shadow"), Action.ROLLBACK)

    assert raised.value.transient is False


async def test_the_first_version_has_nothing_to_roll_back_to(
    mlflow_url: str, registry: Registry
) -> None:
    await registry.register(versions=1)
    await registry.set_alias("1")

    with pytest.raises(DeployError, match="no version before 1") as raised:
        await prepare(target(mlflow_url, registry.model), Action.ROLLBACK)

    assert raised.value.transient is False


@pytest.mark.parametrize(
    ("action", "args", "words"),
    [
        (Action.SET_MODE, {"mode": "heuristic"}, "no heuristic mode"),
        (Action.FREEZE, {"reason": "INC-7"}, "cannot freeze"),
        (Action.UNFREEZE, {}, "no freeze"),
    ],
)
async def test_what_a_registry_cannot_do_is_refused_for_good(
    mlflow_url: str, registry: Registry, action: Action, args: dict[str, str], words: str
) -> None:
    with pytest.raises(DeployError, match=words) as raised:
        await prepare(target(mlflow_url, registry.model), action, **args)

    assert raised.value.transient is False


async def test_the_token_is_shown_masked_and_sent_as_bearer(mlflow_url: str) -> None:
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request.headers.get("Authorization", ""))

    settings = MlflowTargetConfig.model_validate(
        {"kind": "mlflow", "url": mlflow_url, "model": "ranker-token"}
    )
    async with httpx.AsyncClient(event_hooks={"request": [record]}) as client:
        mlflow = MlflowTarget(settings, service="search-ranker", token="s3cret", client=client)
        prepared = await prepare(mlflow, Action.GET_STATE)
        with pytest.raises(DeployError):  # no such model: the answer does not matter here
            await mlflow.execute(prepared, timeout_s=10)

    assert prepared.requests[0].headers["Authorization"] == "***"
    assert seen == ["Bearer s3cret"]


async def test_an_unreachable_registry_is_transient() -> None:
    mlflow = target(f"http://127.0.0.1:{free_port()}", "ranker")

    with pytest.raises(DeployError) as raised:
        await mlflow.execute(await prepare(mlflow, Action.GET_STATE), timeout_s=2)

    assert raised.value.transient is True


# --- MlflowRegistry: the change feed's reading of aliases -------------------------------


def mlflow_config(url: str, model: str) -> MlflowTargetConfig:
    return MlflowTargetConfig.model_validate({"kind": "mlflow", "url": url, "model": model})


def reader(url: str, model: str) -> MlflowRegistry:
    return MlflowRegistry(mlflow_config(url, model), token=None)


async def test_aliases_answer_where_each_alias_points(mlflow_url: str, registry: Registry) -> None:
    await registry.register()
    mlflow = reader(mlflow_url, registry.model)
    assert await mlflow.aliases() == {}

    await registry.set_alias("1")
    await registry.set_alias("3", alias="challenger")

    assert await mlflow.aliases() == {"champion": "1", "challenger": "3"}


async def test_a_version_is_described_as_the_registry_knows_it(
    mlflow_url: str, registry: Registry
) -> None:
    await registry.register(versions=2)

    described = await reader(mlflow_url, registry.model).version("2")

    assert (described.model, described.version) == (registry.model, "2")
    assert described.created_at is not None
    assert abs(described.created_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert described.user is None and described.run_id is None  # no auth, no run: not said
    assert described.link == f"{mlflow_url}/#/models/{registry.model}/versions/2"


async def test_an_unknown_model_is_a_refusal_naming_no_url(mlflow_url: str) -> None:
    with pytest.raises(DeployError) as raised:
        await reader(mlflow_url, "no-such-ranker").aliases()

    assert (raised.value.status, raised.value.transient) == (404, False)
    assert "RESOURCE_DOES_NOT_EXIST" in str(raised.value)
    assert mlflow_url not in str(raised.value)


async def test_an_unreachable_registry_is_transient_and_names_no_url() -> None:
    url = f"http://user:s3cret@127.0.0.1:{free_port()}"

    with pytest.raises(DeployError) as raised:
        await reader(url, "ranker").aliases()

    assert raised.value.transient is True
    assert "s3cret" not in str(raised.value) and "127.0.0.1" not in str(raised.value)


# --- The registry watcher, alone and in a running bot ------------------------------------


def watcher(ctx: Context, url: str, model: str) -> RegistryWatcher:
    watched = Watched(service="search-ranker", registry=reader(url, model), aliases=("champion",))
    return RegistryWatcher(
        ctx=ctx, watched=[watched], every=timedelta(seconds=30), owner=lambda: True
    )


async def test_each_alias_move_is_recorded_once(
    ctx: Context, mlflow_url: str, registry: Registry
) -> None:
    await registry.register()
    await registry.set_alias("1")
    watching = watcher(ctx, mlflow_url, registry.model)

    assert await watching.poll_once() == []  # the baseline

    await registry.set_alias("2")
    [promoted] = await watching.poll_once()

    assert (promoted.kind, promoted.service) == ("model_promotion", "search-ranker")
    assert (promoted.previous_version, promoted.version) == ("1", "2")
    assert promoted.link == f"{mlflow_url}/#/models/{registry.model}/versions/2"
    assert promoted.summary is not None
    assert promoted.summary.startswith(
        f"alias champion of model {registry.model} moved from version 1 to 2; "
    )  # when version 2 was registered; MLflow without auth knows no user
    assert await watching.poll_once() == []

    await registry.set_alias("1")
    [back] = await watching.poll_once()

    assert (back.previous_version, back.version) == ("2", "1")
    assert back.event_id != promoted.event_id
    async with ctx.reading() as session:
        recorded = await service.since(
            session=session, services=["search-ranker"], start=datetime(2000, 1, 1, tzinfo=UTC)
        )
    assert [c.id for c in recorded] == [back.id, promoted.id]


async def test_an_unreachable_registry_records_nothing_and_raises_nothing(ctx: Context) -> None:
    watching = watcher(ctx, f"http://127.0.0.1:{free_port()}", "ranker")

    assert await watching.poll_once() == []
    assert await watching.poll_once() == []


@pytest.fixture
def bot(
    tmp_path: Path,
    config: FirebreakConfig,
    mlflow_url: str,
    registry_model: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Bot]:
    clean_env(monkeypatch)
    config.services["search-ranker"].deploy = mlflow_config(mlflow_url, registry_model)
    config.changes.registry_poll = timedelta(hours=1)  # the test polls itself
    with running_bot(tmp_path, config) as running:
        yield running


@pytest.fixture
def registry_model(mlflow_url: str) -> str:
    """A model with versions 1 to 3 whose champion is version 1, before the bot starts."""
    model = f"promoted-ranker-{next(_models)}"
    with httpx.Client(base_url=f"{mlflow_url}/api/2.0/mlflow", timeout=10) as client:
        client.post("/registered-models/create", json={"name": model}).raise_for_status()
        for n in (1, 2, 3):
            source = {"name": model, "source": f"s3://models/{model}/{n}"}
            client.post("/model-versions/create", json=source).raise_for_status()
        set_alias(client, model, "1")
    return model


def set_alias(client: httpx.Client, model: str, version: str) -> None:
    body = {"name": model, "alias": "champion", "version": version}
    client.post("/registered-models/alias", json=body).raise_for_status()


def champion(client: httpx.Client, model: str) -> str:
    found = client.get("/registered-models/alias", params={"name": model, "alias": "champion"})
    return str(found.raise_for_status().json()["model_version"]["version"])


def test_roll_back_this_change_moves_the_alias_back(
    bot: Bot, mlflow_url: str, registry_model: str
) -> None:
    watcher = bot.runtime.registry_watcher
    assert watcher is not None and [w.service for w in watcher.watched] == ["search-ranker"]
    with httpx.Client(base_url=f"{mlflow_url}/api/2.0/mlflow", timeout=10) as mlflow:
        bot.server.run(watcher.poll_once)  # the baseline: version 1
        set_alias(mlflow, registry_model, "2")  # promoted outside Firebreak, no CI wiring
        bot.server.run(watcher.poll_once)

        assert bot.webhook("alertmanager", am_notification()).status_code == 200
        channel = str(bot.announced("INC-1")["channel_id"])
        bot.command("commander me", user=ANA, channel=channel)
        message = announcement(bot, channel)
        listed = [
            b["text"]["text"]
            for b in message["blocks"]
            if b["type"] == "section" and b.get("text", {}).get("text", "").startswith("`")
        ]
        assert len(listed) == 1 and listed[0].startswith("`model_promotion` *search-ranker* 1 → 2")
        [rollback] = buttons(message, actions.CHANGE_ROLLBACK)

        # The alert resolves, so the playbook's last wait ends at once.
        resolved = am_notification(am_alert(status="resolved", ends_at="2026-11-27T03:30:00Z"))
        bot.webhook("alertmanager", resolved)
        bot.click(
            actions.CHANGE_ROLLBACK,
            rollback["value"],
            user=BEN,
            channel=channel,
            message_ts=message["ts"],
        )
        assert champion(mlflow, registry_model) == "2"  # nothing before approval
        approve_latest_run(bot, channel, "rollback")

        assert champion(mlflow, registry_model) == "1"
        steps = [
            t["text"] for t in bot.incident("INC-1")["timeline"] if t["kind"] == "playbook.step"
        ]
        assert any('"version": "1"' in s and "registered-models/alias" in s for s in steps), steps

        # The rollback is itself an alias move: the next poll records it.
        [undone] = bot.server.run(watcher.poll_once)
        assert (undone.previous_version, undone.version) == ("2", "1")
