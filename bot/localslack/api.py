"""The Web API over HTTP: `POST|GET /{method}`, answered by `Workspace.dispatch`.

Embedded in the bot it is mounted at `API_PREFIX`, so slack_sdk's base_url becomes
`http://host:port/localslack/api/`; standalone it also works at the root.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.localslack.forms import InvalidJSON, parse_body
from bot.localslack.state import Workspace

API_PREFIX = "/localslack/api"
JSON_TYPE = "application/json; charset=utf-8"


def build_api(workspace: Workspace) -> Starlette:
    async def call(request: Request) -> Response:
        method = request.path_params["method"]
        args: dict[str, Any] = dict(request.query_params)
        unreadable: str | None = None
        try:
            args.update(parse_body(request.headers.get("content-type", ""), await request.body()))
        except InvalidJSON as exc:
            # Slack answers a body it cannot read with 200 and an error, like any other.
            unreadable = exc.error
        token = _bearer(request) or _token_arg(args.pop("token", None))
        answer = workspace.dispatch(method, args, token, unreadable=unreadable)
        return _json(*answer)

    async def respond(request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except (UnicodeDecodeError, json.JSONDecodeError):
            return PlainTextResponse("invalid_payload", status_code=400)
        if not isinstance(payload, dict):
            return PlainTextResponse("invalid_payload", status_code=400)
        status, text = workspace.respond(request.path_params["token"], payload)
        return PlainTextResponse(text, status_code=status)

    return Starlette(
        routes=[
            Route("/respond/{token}", respond, methods=["POST"]),
            Route("/{method}", call, methods=["GET", "POST"]),
        ]
    )


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def _token_arg(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _json(status: int, headers: dict[str, str], body: dict[str, Any]) -> Response:
    return Response(
        content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        status_code=status,
        headers=headers,
        media_type=JSON_TYPE,
    )
