"""HttpTarget against the example model service over real HTTP, and against failing servers."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.deploy.adapters.http import HttpTarget
from bot.deploy.config import HttpTargetConfig
from bot.deploy.ports import Action, DeployError, Prepared, Request, State
from tests.servers import free_port
from tests.unit.examples.service import ServiceHost, client

TOKEN = "s3cret-token"
SERVICES = {"search-ranker": ["v41", "v42", "v43-bad"]}


class Service:
    """The example service as these tests see it: its URL, and its state read directly."""

    def __init__(self, url: str, api: httpx.Client) -> None:
        self.url = url
        self._api = api

    def active_version(self) -> str:
        response = self._api.get("/v1/services/search-ranker")
        assert response.status_code == 200
        version: str = response.json()["active_version"]
        return version


@pytest.fixture
def server(host: ServiceHost) -> Iterator[Service]:
    url = host.serve(services=SERVICES, token=TOKEN)
    with client(url, Authorization=f"Bearer {TOKEN}") as api:
        yield Service(url, api)


def target(url: str, *, token: str | None = TOKEN, **config: Any) -> HttpTarget:
    settings = HttpTargetConfig.model_validate({"kind": "http", "url": url, **config})
    return HttpTarget(settings, service="search-ranker", token=token)


async def prepare(
    http: HttpTarget, action: Action, key: str = "INC-7-step-1", **args: Any
) -> Prepared:
    return await http.prepare(
        action=action, service="search-ranker", args=args, idempotency_key=key
    )


@pytest.mark.parametrize(
    ("action", "args", "method", "path", "body"),
    [
        (Action.ROLLBACK, {}, "POST", "/rollback", {"to_version": None}),
        (Action.ROLLBACK, {"to_version": "v41"}, "POST", "/rollback", {"to_version": "v41"}),
        (Action.SET_MODE, {"mode": "heuristic"}, "POST", "/mode", {"mode": "heuristic"}),
        (Action.FREEZE, {"reason": "INC-7"}, "POST", "/freeze", {"reason": "INC-7"}),
        (Action.UNFREEZE, {}, "POST", "/unfreeze", None),
    ],
)
async def test_prepare_shows_the_exact_request_and_changes_nothing(
    server: Service,
    action: Action,
    args: dict[str, str],
    method: str,
    path: str,
    body: dict[str, str | None] | None,
) -> None:
    prepared = await prepare(target(server.url), action, **args)

    assert prepared.action is action and prepared.service == "search-ranker"
    assert prepared.idempotency_key == "INC-7-step-1"
    assert prepared.requests == (
        Request(
            method=method,
            url=f"{server.url}/v1/services/search-ranker{path}",
            headers={
                "Accept": "application/json",
                "Idempotency-Key": "INC-7-step-1",
                "Authorization": "***",
            },
            json=body,
        ),
    )
    assert TOKEN not in repr(prepared)
    assert prepared.note
    assert server.active_version() == "v43-bad"


async def test_get_state_is_a_get_without_a_key(server: Service) -> None:
    http = target(server.url)
    prepared = await prepare(http, Action.GET_STATE)
    [request] = prepared.requests
    assert (request.method, request.json) == ("GET", None)
    assert "Idempotency-Key" not in request.headers

    result = await http.execute(prepared, timeout_s=5)
    assert result.state == State(
        service="search-ranker",
        active_version="v43-bad",
        previous_versions=("v42", "v41"),
        mode="model",
        frozen=False,
        freeze_reason=None,
    )


async def test_execute_rolls_back_and_reports_the_new_state(server: Service) -> None:
    http = target(server.url)
    result = await http.execute(await prepare(http, Action.ROLLBACK), timeout_s=5)

    [response] = result.responses
    assert response.status == 200 and response.duration_s > 0
    assert response.body["active_version"] == "v42"
    assert result.state is not None
    assert (result.state.active_version, result.state.previous_versions) == ("v42", ("v41",))
    assert server.active_version() == "v42"


async def test_a_retried_execute_does_not_roll_back_twice(server: Service) -> None:
    http = target(server.url)
    prepared = await prepare(http, Action.ROLLBACK, key="INC-7-rollback")
    first = await http.execute(prepared, timeout_s=5)
    retried = await http.execute(prepared, timeout_s=5)  # e.g. the first answer was lost

    assert first.state == retried.state
    assert retried.responses[0].body == first.responses[0].body
    assert server.active_version() == "v42"
    # The control: a new key is a new rollback.
    await http.execute(await prepare(http, Action.ROLLBACK, key="INC-7-again"), timeout_s=5)
    assert server.active_version() == "v41"


async def test_the_switches_round_trip(server: Service) -> None:
    http = target(server.url)

    async def run(action: Action, key: str, **args: str) -> State:
        result = await http.execute(await prepare(http, action, key, **args), timeout_s=5)
        assert result.state is not None
        return result.state

    assert (await run(Action.SET_MODE, "k1", mode="heuristic")).mode == "heuristic"
    frozen = await run(Action.FREEZE, "k2", reason="INC-7: CTR drop")
    assert (frozen.frozen, frozen.freeze_reason) == (True, "INC-7: CTR drop")
    assert (await run(Action.UNFREEZE, "k3")).frozen is False
    assert (await run(Action.SET_MODE, "k4", mode="model")).mode == "model"


async def test_a_4xx_is_a_permanent_error_with_the_servers_message(server: Service) -> None:
    http = target(server.url)
    with pytest.raises(DeployError) as refused:
        await http.execute(await prepare(http, Action.ROLLBACK, to_version="v99"), timeout_s=5)

    error = refused.value
    assert error.transient is False and error.status == 404
    assert "unknown_version: 'v99' is not in search-ranker's version history" in str(error)
    assert [r.status for r in error.responses] == [404]
    assert server.active_version() == "v43-bad"


async def test_a_wrong_token_is_a_permanent_error(server: Service) -> None:
    http = target(server.url, token="guess")
    with pytest.raises(DeployError) as refused:
        await http.execute(await prepare(http, Action.GET_STATE), timeout_s=5)
    assert (refused.value.transient, refused.value.status) == (False, 401)


async def test_the_token_comes_from_token_env_when_not_given(
    server: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RANKER_DEPLOY_TOKEN", TOKEN)
    http = target(server.url, token=None, token_env="RANKER_DEPLOY_TOKEN")
    prepared = await prepare(http, Action.GET_STATE)
    assert prepared.requests[0].headers["Authorization"] == "***"
    result = await http.execute(prepared, timeout_s=5)
    assert result.state is not None and result.state.active_version == "v43-bad"


async def test_the_apis_service_name_may_differ_from_ours() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"service": "ranker-prod", "active_version": "v9"})

    config = HttpTargetConfig.model_validate(
        {"kind": "http", "url": "http://deploy.internal/", "service": "ranker-prod"}
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        http = HttpTarget(config, service="search-ranker", client=client)
        result = await http.execute(await prepare(http, Action.GET_STATE), timeout_s=5)
    assert str(seen[0].url) == "http://deploy.internal/v1/services/ranker-prod"
    assert result.state is not None
    assert (result.state.service, result.state.active_version) == ("search-ranker", "v9")


async def test_a_5xx_is_transient_and_the_real_token_was_sent() -> None:
    seen: list[httpx.Request] = []

    def overloaded(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, json={"error": "unavailable", "message": "overloaded"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(overloaded)) as client:
        config = HttpTargetConfig.model_validate({"kind": "http", "url": "http://deploy.internal"})
        http = HttpTarget(config, service="search-ranker", token=TOKEN, client=client)
        prepared = await prepare(http, Action.ROLLBACK, to_version="v42")
        with pytest.raises(DeployError) as failed:
            await http.execute(prepared, timeout_s=5)

    assert (failed.value.transient, failed.value.status) == (True, 503)
    assert "overloaded" in str(failed.value)
    assert [r.body for r in failed.value.responses] == [
        {"error": "unavailable", "message": "overloaded"}
    ]
    [sent] = seen
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Idempotency-Key"] == "INC-7-step-1"
    assert json.loads(sent.content) == {"to_version": "v42"}


async def test_a_2xx_that_is_not_a_state_is_a_permanent_error() -> None:
    def proxy_page(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>Welcome to nginx</html>")

    async with httpx.AsyncClient(transport=httpx.MockTransport(proxy_page)) as client:
        config = HttpTargetConfig.model_validate({"kind": "http", "url": "http://deploy.internal"})
        http = HttpTarget(config, service="search-ranker", client=client)
        with pytest.raises(DeployError) as failed:
            await http.execute(await prepare(http, Action.GET_STATE), timeout_s=5)
    assert failed.value.transient is False and "Welcome to nginx" in str(failed.value)


async def test_a_refused_connection_is_transient() -> None:
    http = target(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with pytest.raises(DeployError) as failed:
        await http.execute(await prepare(http, Action.ROLLBACK), timeout_s=5)
    assert failed.value.transient is True
    assert failed.value.status is None and failed.value.responses == ()
    assert "ConnectError" in str(failed.value)


async def test_a_timeout_is_transient() -> None:
    # A socket that listens but never answers: the connection succeeds, the reply never comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        http = target(f"http://127.0.0.1:{silent.getsockname()[1]}")
        with pytest.raises(DeployError) as failed:
            await http.execute(await prepare(http, Action.ROLLBACK), timeout_s=0.2)
    assert failed.value.transient is True and "timed out after 0.2s" in str(failed.value)


@pytest.mark.parametrize(
    ("action", "args", "problem"),
    [
        (Action.SET_MODE, {"mode": "fast"}, "mode must be 'model' or 'heuristic'"),
        (Action.FREEZE, {"reason": " "}, "freezing needs a reason"),
        (Action.ROLLBACK, {"to_version": 41}, "to_version must be a version name"),
    ],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    action: Action, args: dict[str, Any], problem: str
) -> None:
    http = target("http://127.0.0.1:9")
    with pytest.raises(DeployError, match=problem) as refused:
        await prepare(http, action, **args)
    assert refused.value.transient is False


async def test_a_target_serves_only_its_own_service() -> None:
    http = target("http://127.0.0.1:9")
    with pytest.raises(DeployError, match="serves 'search-ranker', not 'checkout-fraud'"):
        await http.prepare(
            action=Action.ROLLBACK, service="checkout-fraud", args={}, idempotency_key="k"
        )
