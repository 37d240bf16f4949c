"""Alert webhooks answered ahead of the routes (bot/http/direct.py): the POSTs it takes, the
requests it leaves to the routes, and errors answered exactly as the routes answer them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from bot.http.direct import DirectPosts, Handler
from bot.http.errors import Problem, install_error_handlers

RAISED: dict[str, Exception] = {
    "problem": Problem(401, "unauthorized", "missing token", headers={"WWW-Authenticate": "x"}),
    "database": OperationalError("SELECT 1", None, Exception("gone")),
    "http": HTTPException(404, "nothing here"),
}


def made(served_by: str) -> Handler:
    """A handler that answers which dispatcher called it, or raises what its name says."""

    async def handle(request: Request) -> JSONResponse:
        name = request.path_params["source"]
        if name in RAISED:
            raise RAISED[name]
        if name == "bug":
            raise ZeroDivisionError("a bug")
        return JSONResponse({"by": served_by, "source": name, "body": (await request.json())})

    return handle


def served(api: FastAPI, root_path: str = "") -> httpx.AsyncClient:
    # A bug's 500 is answered as a server would, not raised into the test.
    transport = httpx.ASGITransport(app=api, raise_app_exceptions=False, root_path=root_path)
    return httpx.AsyncClient(transport=transport, base_url="http://bot")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    api = FastAPI()
    install_error_handlers(api)
    api.add_api_route("/webhooks/{source}", made("route"), methods=["POST"])
    api.add_api_route("/plain/{source}", made("route"), methods=["POST"])
    api.add_middleware(DirectPosts, prefix="/webhooks/", handler=made("lane"), skip={"changes"})
    async with served(api) as http:
        yield http


async def test_a_post_of_one_segment_goes_straight_to_the_handler_with_its_path_parameter(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/webhooks/alertmanager", json={"alerts": []})
    assert response.status_code == 200
    assert response.json() == {"by": "lane", "source": "alertmanager", "body": {"alerts": []}}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/webhooks/changes", 200),  # skipped: its own route
        ("POST", "/webhooks/alertmanager/extra", 404),  # two segments: no route either
        ("GET", "/webhooks/alertmanager", 405),  # the route's method check
        ("POST", "/plain/alertmanager", 200),  # another prefix
    ],
)
async def test_what_the_lane_does_not_take_goes_on_to_the_routes(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, json={})
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["by"] == "route"


@pytest.mark.parametrize("raised", sorted(RAISED))
async def test_what_the_handler_raises_is_answered_as_the_routes_answer_it(
    client: httpx.AsyncClient, raised: str
) -> None:
    lane = await client.post(f"/webhooks/{raised}", json={})
    route = await client.post(f"/plain/{raised}", json={})
    assert lane.status_code == route.status_code >= 400
    assert lane.json() == route.json()
    assert {k: v for k, v in lane.headers.items() if k != "content-length"} == {
        k: v for k, v in route.headers.items() if k != "content-length"
    }


async def test_a_bug_in_the_handler_is_a_500_from_the_apps_outer_handler(
    client: httpx.AsyncClient,
) -> None:
    lane = await client.post("/webhooks/bug", json={})
    route = await client.post("/plain/bug", json={})
    assert lane.status_code == route.status_code == 500
    assert lane.text == route.text == "Internal Server Error"


async def test_behind_a_proxy_prefix_the_path_is_matched_as_the_routes_match_it() -> None:
    api = FastAPI()
    install_error_handlers(api)
    api.add_middleware(DirectPosts, prefix="/webhooks/", handler=made("lane"))
    async with served(api, root_path="/firebreak") as http:
        response = await http.post("/firebreak/webhooks/grafana", json={"a": 1})
    assert response.json() == {"by": "lane", "source": "grafana", "body": {"a": 1}}
