"""The example model service's Deployment API, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.unit.examples.service import ServiceHost, client, metrics, sample

SERVICES = {"search-ranker": ["v40", "v41", "v42"], "checkout-fraud": ["v7"]}
RANKER = "/v1/services/search-ranker"
QUERY = {"query": "red shoes", "items": ["blue hat", "red shoes", "green socks", "running shoes"]}
HEURISTIC = ["red shoes", "running shoes", "blue hat", "green socks"]  # matches first, then a-z


@pytest.fixture
def api(host: ServiceHost) -> Iterator[httpx.Client]:
    with client(host.serve(services=SERVICES)) as http:
        yield http


def state(api: httpx.Client, path: str = RANKER) -> dict[str, object]:
    response = api.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_state_lists_history_newest_first(api: httpx.Client) -> None:
    body = state(api)
    assert datetime.fromisoformat(str(body.pop("updated_at"))).tzinfo is not None
    assert body == {
        "service": "search-ranker",
        "active_version": "v42",
        "previous_versions": ["v41", "v40"],
        "mode": "model",
        "frozen": False,
        "freeze_reason": None,
    }


def test_a_bad_deploy_garbles_the_ranking_and_drops_the_ctr(api: httpx.Client) -> None:
    good = api.post(f"{RANKER}/rank", json=QUERY).json()
    assert good["version"] == "v42" and sorted(good["ranking"]) == sorted(QUERY["items"])
    assert api.post(f"{RANKER}/rank", json=QUERY).json() == good  # deterministic
    before = metrics(api)
    assert sample(before, "model_click_through_rate", service="search-ranker") == 0.12

    deployed = api.post(f"{RANKER}/deploy", json={"version": "v43-bad"})
    assert deployed.status_code == 200, deployed.text
    assert deployed.json()["active_version"] == "v43-bad"
    assert deployed.json()["previous_versions"] == ["v42", "v41", "v40"]

    bad = api.post(f"{RANKER}/rank", json=QUERY).json()
    assert bad == {"version": "v43-bad", "mode": "model", "ranking": HEURISTIC[::-1]}
    after = metrics(api)
    assert sample(after, "model_click_through_rate", service="search-ranker") == 0.02
    assert sample(after, "model_click_through_rate", service="checkout-fraud") == 0.12
    info = {"service": "search-ranker", "version": "v43-bad", "mode": "model"}
    assert sample(after, "model_active_version_info", **info) == 1
    assert sample(after, "model_requests_total", **info) == 1
    assert sample(after, "model_requests_total", **{**info, "version": "v42"}) == 2
    assert sample(after, "model_errors_total", service="search-ranker") == 0


def test_rollback_to_the_previous_then_to_an_explicit_version(api: httpx.Client) -> None:
    api.post(f"{RANKER}/deploy", json={"version": "v43-bad"})

    back = api.post(f"{RANKER}/rollback", json={"to_version": None})
    assert back.status_code == 200, back.text
    assert back.json()["active_version"] == "v42"
    # The bad version left the history: a second rollback goes further back, not forward.
    assert back.json()["previous_versions"] == ["v41", "v40"]

    explicit = api.post(f"{RANKER}/rollback", json={"to_version": "v40"})
    assert explicit.json()["active_version"] == "v40"
    assert explicit.json()["previous_versions"] == []
    assert state(api)["active_version"] == "v40"

    nothing = api.post(f"{RANKER}/rollback")  # no body at all: also "the previous one"
    assert nothing.status_code == 409
    assert nothing.json() == {
        "error": "nothing_to_roll_back",
        "message": "search-ranker has no version before v40",
    }
    again = api.post(f"{RANKER}/rollback", json={"to_version": "v40"})
    assert again.status_code == 200 and again.json()["active_version"] == "v40"


def test_rollback_to_an_unknown_version_is_404(api: httpx.Client) -> None:
    response = api.post(f"{RANKER}/rollback", json={"to_version": "v99"})
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_version"
    assert "v99" in response.json()["message"]
    assert state(api)["active_version"] == "v42"


def test_heuristic_mode_serves_the_robust_ranking(api: httpx.Client) -> None:
    api.post(f"{RANKER}/deploy", json={"version": "v43-bad"})
    switched = api.post(f"{RANKER}/mode", json={"mode": "heuristic"})
    assert switched.status_code == 200 and switched.json()["mode"] == "heuristic"

    ranked = api.post(f"{RANKER}/rank", json=QUERY).json()
    assert ranked == {"version": "v43-bad", "mode": "heuristic", "ranking": HEURISTIC}
    samples = metrics(api)
    assert sample(samples, "model_click_through_rate", service="search-ranker") == 0.08
    heuristic = {"service": "search-ranker", "version": "v43-bad", "mode": "heuristic"}
    assert sample(samples, "model_active_version_info", **heuristic) == 1

    back = api.post(f"{RANKER}/mode", json={"mode": "model"})
    assert back.json()["mode"] == "model"
    assert api.post(f"{RANKER}/rank", json=QUERY).json()["ranking"] == HEURISTIC[::-1]


def test_freeze_refuses_deploys_until_unfrozen(api: httpx.Client) -> None:
    frozen = api.post(f"{RANKER}/freeze", json={"reason": "INC-7: CTR drop"})
    assert frozen.status_code == 200
    assert frozen.json()["frozen"] is True
    assert frozen.json()["freeze_reason"] == "INC-7: CTR drop"
    assert sample(metrics(api), "model_frozen", service="search-ranker") == 1

    refused = api.post(f"{RANKER}/deploy", json={"version": "v44"})
    assert refused.status_code == 423
    assert refused.json() == {
        "error": "frozen",
        "message": "search-ranker is frozen: INC-7: CTR drop",
    }
    assert state(api)["active_version"] == "v42"
    # Mitigations still work while frozen: freezing comes before rolling back.
    assert api.post(f"{RANKER}/rollback").json()["active_version"] == "v41"

    thawed = api.post(f"{RANKER}/unfreeze")
    assert thawed.status_code == 200
    assert (thawed.json()["frozen"], thawed.json()["freeze_reason"]) == (False, None)
    assert api.post(f"{RANKER}/deploy", json={"version": "v44"}).status_code == 200
    assert state(api)["active_version"] == "v44"


def test_a_repeated_key_replays_the_first_response_and_acts_once(api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "INC-7-rollback"}
    first = api.post(f"{RANKER}/rollback", json={"to_version": None}, headers=headers)
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers

    second = api.post(f"{RANKER}/rollback", json={"to_version": None}, headers=headers)
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert state(api)["active_version"] == "v41"  # rolled back once, not twice

    other = api.post(f"{RANKER}/rollback", json={"to_version": "v40"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"
    elsewhere = api.post(f"{RANKER}/mode", json={"mode": "heuristic"}, headers=headers)
    assert elsewhere.status_code == 422
    assert state(api)["active_version"] == "v41" and state(api)["mode"] == "model"


def test_a_refusal_is_replayed_too(api: httpx.Client) -> None:
    api.post(f"{RANKER}/freeze", json={"reason": "INC-7"})
    key = {"Idempotency-Key": "deploy-v44"}
    assert api.post(f"{RANKER}/deploy", json={"version": "v44"}, headers=key).status_code == 423
    api.post(f"{RANKER}/unfreeze")

    replay = api.post(f"{RANKER}/deploy", json={"version": "v44"}, headers=key)
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (423, "true")
    assert state(api)["active_version"] == "v42"
    fresh = {"Idempotency-Key": "deploy-v44-again"}
    assert api.post(f"{RANKER}/deploy", json={"version": "v44"}, headers=fresh).status_code == 200


def test_keys_are_remembered_for_a_day(host: ServiceHost) -> None:
    now = [datetime(2026, 1, 12, 9, 0, tzinfo=UTC)]
    key = {"Idempotency-Key": "k"}
    with client(host.serve(services=SERVICES, clock=lambda: now[0])) as api:
        api.post(f"{RANKER}/rollback", headers=key)
        now[0] += timedelta(hours=24)
        replay = api.post(f"{RANKER}/rollback", headers=key)
        assert replay.headers.get("Idempotent-Replayed") == "true"
        assert state(api)["active_version"] == "v41"

        now[0] += timedelta(hours=2)  # 26 h: forgotten, so the key acts again
        again = api.post(f"{RANKER}/rollback", headers=key)
        assert "Idempotent-Replayed" not in again.headers
        assert state(api)["active_version"] == "v40"


def test_a_server_with_a_token_requires_it(host: ServiceHost) -> None:
    with client(host.serve(services=SERVICES, token="s3cret")) as api:
        missing = api.get(RANKER)
        assert missing.status_code == 401
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        assert missing.json()["error"] == "unauthorized"
        wrong = {"Authorization": "Bearer guess"}
        assert api.get(RANKER, headers=wrong).status_code == 401
        assert api.post(f"{RANKER}/rank", json=QUERY).status_code == 401

        # A refused request does not use up its idempotency key.
        key = {"Idempotency-Key": "k1"}
        assert api.post(f"{RANKER}/rollback", headers=key).status_code == 401
        right = {"Authorization": "Bearer s3cret", **key}
        done = api.post(f"{RANKER}/rollback", headers=right)
        assert done.status_code == 200 and "Idempotent-Replayed" not in done.headers
        assert done.json()["active_version"] == "v41"

        assert api.get("/metrics").status_code == 200  # Prometheus scrapes without the token
        assert api.get("/healthz").json() == {"ok": True}


def test_unknown_services_and_routes_are_404_json(api: httpx.Client) -> None:
    for response in (
        api.get("/v1/services/nope"),
        api.post("/v1/services/nope/rollback"),
        api.post("/v1/services/nope/rank", json=QUERY),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "unknown_service", "message": "no service named 'nope'"}
    route = api.get("/v2/anything")
    assert route.status_code == 404 and route.json()["error"] == "not_found"
    method = api.delete(RANKER)
    assert method.status_code == 405 and method.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("path", "body", "problem"),
    [
        ("/mode", {"mode": "fast"}, "mode: Input should be 'model' or 'heuristic'"),
        ("/freeze", {"reason": ""}, "reason: String should have at least 1 character"),
        ("/deploy", {"version": "../etc"}, "version: String should match pattern"),
        ("/rollback", {"version": "v41"}, "version: Extra inputs are not permitted"),
    ],
)
def test_invalid_bodies_are_422(
    api: httpx.Client, path: str, body: dict[str, str], problem: str
) -> None:
    response = api.post(RANKER + path, json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert response.json()["message"].startswith(problem)
    assert state(api)["active_version"] == "v42"


def test_a_bad_model_can_fail_requests_for_error_rate_demos(host: ServiceHost) -> None:
    services = {"search-ranker": ["v42", "v43-bad"]}
    with client(host.serve(services=services, bad_error_every=2)) as api:
        statuses = [api.post(f"{RANKER}/rank", json=QUERY).status_code for _ in range(4)]
        assert statuses == [200, 500, 200, 500]
        samples = metrics(api)
        assert sample(samples, "model_errors_total", service="search-ranker") == 2
        labels = {"service": "search-ranker", "version": "v43-bad", "mode": "model"}
        assert sample(samples, "model_requests_total", **labels) == 4
