"""bot.evidence.adapters.prometheus: a range query and an image over HTTP, time-boxed as a
whole, failing with a line that names the server and never its credentials or query."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.evidence.adapters.prometheus import UNRESOLVED_FOR_S, HttpEvidence, shown
from bot.evidence.ports import EvidenceError, Series
from tests.prometheus import PNG, prometheus_stub, refused_url, silent_server
from tests.servers import ServerThread, free_port

END = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
START = END - timedelta(hours=1)


@pytest.fixture
async def evidence() -> AsyncIterator[HttpEvidence]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield HttpEvidence(client)


async def query(evidence: HttpEvidence, base_url: str, timeout: float = 5.0) -> list[Series]:  # noqa: ASYNC109
    return await evidence.query_range(
        base_url=base_url,
        expr='sum by (pod) (rate(x{a="b"}[5m])) + 1',
        start=START,
        end=END,
        step=timedelta(seconds=8),
        timeout=timeout,
    )


async def test_a_matrix_comes_back_as_series(evidence: HttpEvidence) -> None:
    with prometheus_stub(series=2) as (url, stub):
        found = await query(evidence, url + "/")
    (asked,) = stub.queries
    assert asked == {
        "query": 'sum by (pod) (rate(x{a="b"}[5m])) + 1',  # the + arrives as a +
        "start": f"{START.timestamp():.3f}",
        "end": f"{END.timestamp():.3f}",
        "step": "8s",
    }
    assert [s.labels for s in found] == [
        {"__name__": "ndcg_at_10", "service": "search-ranker", "pod": "p0"},
        {"__name__": "ndcg_at_10", "service": "search-ranker", "pod": "p1"},
    ]
    assert len(found[0].points) == 451
    assert found[0].points[0][0] == START
    assert all(isinstance(v, float) for _, v in found[0].points)


async def test_a_refused_connection_says_so(evidence: HttpEvidence) -> None:
    url = refused_url()
    with pytest.raises(EvidenceError, match=f"^Prometheus at {url} could not be reached: "):
        await query(evidence, url)


async def test_a_host_whose_name_did_not_resolve_is_not_looked_up_again_for_a_minute() -> None:
    # A stand-in for the resolver (no DNS server runs here): the transport fails as httpx does
    # when getaddrinfo does, and counts the lookups.
    lookups: list[str] = []

    def resolver_fails(request: httpx.Request) -> httpx.Response:
        lookups.append(request.url.host)
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError(f"[Errno -2] {exc.strerror}", request=request) from exc

    now = [100.0]
    async with httpx.AsyncClient(transport=httpx.MockTransport(resolver_fails)) as client:
        evidence = HttpEvidence(client, clock=lambda: now[0])
        said = re.escape("could not be reached: [Errno -2] Name or service not known")
        with pytest.raises(EvidenceError, match=f"^Prometheus at http://prom.internal {said}$"):
            await query(evidence, "http://prom.internal")
        now[0] += UNRESOLVED_FOR_S - 1
        with pytest.raises(EvidenceError, match=f"{said} \\(its name did not resolve less than"):
            await evidence.fetch_image(url="http://prom.internal/graph.png", timeout=5)
        with pytest.raises(EvidenceError, match=said):
            await query(evidence, "http://other.internal")
        assert lookups == ["prom.internal", "other.internal"]
        now[0] += 1
        with pytest.raises(EvidenceError, match=f"{said}$"):
            await query(evidence, "http://prom.internal")
        assert lookups == ["prom.internal", "other.internal", "prom.internal"]


async def test_a_refused_connection_is_tried_again_each_time(evidence: HttpEvidence) -> None:
    url = refused_url()
    for _ in range(2):
        with pytest.raises(EvidenceError, match=f"^Prometheus at {url} could not be reached: "):
            await query(evidence, url)


async def test_a_silent_prometheus_costs_the_time_box_and_no_more(evidence: HttpEvidence) -> None:
    with silent_server() as url:
        began = time.monotonic()
        with pytest.raises(EvidenceError) as failed:
            await query(evidence, url, timeout=0.3)
        took = time.monotonic() - began
    assert str(failed.value) == f"Prometheus at {url} did not answer in 0.3 s"
    assert took < 3


def answering(body: object, status: int = 200) -> Starlette:
    async def anything(_: Request) -> Response:
        return JSONResponse(body, status_code=status)

    return Starlette(routes=[Route("/api/v1/query_range", anything), Route("/x.png", anything)])


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        (
            {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"},
            400,
            "refused the query: parse error at char 3",
        ),
        ({"status": "success", "data": {"resultType": "vector", "result": []}}, 200, "a vector"),
        (["not", "an", "answer"], 200, "an unexpected body"),
        ({"status": "error"}, 503, "answered HTTP 503"),
    ],
)
async def test_what_prometheus_refuses_is_said(
    evidence: HttpEvidence, body: object, status: int, said: str
) -> None:
    with (
        ServerThread(answering(body, status), free_port()) as server,
        pytest.raises(EvidenceError, match=said),
    ):
        await query(evidence, server.url)


async def test_points_that_are_not_numbers_are_left_out(evidence: HttpEvidence) -> None:
    t = START.timestamp()
    values = [[t, "1"], [t + 8, "NaN"], [t + 16, "+Inf"], [t + 24, "x"], [t + 32, "2"]]
    # Times past the year 9999 (no datetime holds one), before 1970 (Prometheus has none), or
    # not a number.
    values += [[1e12, "3"], [-8, "4"], ["later", "5"]]
    body = {
        "status": "success",
        "data": {"resultType": "matrix", "result": [{"metric": {}, "values": values}]},
    }
    with ServerThread(answering(body), free_port()) as server:
        (series,) = await query(evidence, server.url)
    assert series.points == [(START, 1.0), (START + timedelta(seconds=32), 2.0)]
    assert series.times == [t, t + 32]
    assert series.first() == START


async def test_an_image_is_fetched_only_if_it_is_a_png(evidence: HttpEvidence) -> None:
    with prometheus_stub() as (url, stub):
        assert await evidence.fetch_image(url=f"{url}/render/alert.png", timeout=5) == PNG
    assert stub.images == 1
    with ServerThread(answering({"a": 1}), free_port()) as server:
        said = f"^the image at {server.url}/x.png is not a PNG$"  # not its signed query
        with pytest.raises(EvidenceError, match=said):
            await evidence.fetch_image(url=f"{server.url}/x.png?X-Amz-Signature=s3", timeout=5)


def test_a_failure_names_the_server_without_credentials_or_query() -> None:
    assert shown("https://admin:hunter2@prom.example:9443/p/?token=s3cret#x") == (
        "https://prom.example:9443/p"
    )
