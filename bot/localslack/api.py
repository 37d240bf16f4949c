"""The Web API over HTTP: `POST|GET /{method}`, answered by `Workspace.dispatch`, and
Socket Mode's WebSocket at `/socket` (the URL apps.connections.open hands out), the upload
URLs files.getUploadURLExternal hands out (`POST /upload/{file_id}`) and files' url_private
(`GET /files-pri/{team}-{file_id}/…`, bot token required).

Embedded in the bot it is mounted at `API_PREFIX`, so slack_sdk's base_url becomes
`http://host:port/localslack/api/`; standalone it also works at the root.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.status import WS_1008_POLICY_VIOLATION
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.localslack.forms import InvalidJSON, parse_body, upload_bytes
from bot.localslack.socketmode import ClientGone
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
        bearer = _bearer(request)
        token = bearer or _token_arg(args.pop("token", None))
        answer = workspace.dispatch(
            method,
            args,
            token,
            unreadable=unreadable,
            token_in_args=bearer is None and token is not None,
            socket_url=_socket_url(request, method),
            api_base=_api_base(request, method),
            peer=f"{request.client.host}:{request.client.port}" if request.client else None,
        )
        return _json(*answer)

    async def upload(request: Request) -> Response:
        # The upload URL files.getUploadURLExternal hands out (files.slack.com/upload/v1/…
        # on Slack): slack_sdk POSTs the raw bytes; curl -F filename=@x sends a form.
        data = upload_bytes(request.headers.get("content-type", ""), await request.body())
        status, text = workspace.receive_upload(request.path_params["file_id"], data)
        return PlainTextResponse(text, status_code=status)

    async def private_file(request: Request) -> Response:
        # url_private / url_private_download: the bytes, for a bot token only, as on Slack.
        if not workspace.may_read_files(_bearer(request)):
            return PlainTextResponse("not_authed", status_code=403)
        team, _, file_id = request.path_params["key"].partition("-")
        shared = workspace.shared_file(file_id) if team == workspace.team_id else None
        if shared is None:
            return PlainTextResponse("file_not_found", status_code=404)
        info, content = shared
        return Response(
            content,
            media_type=info["mimetype"],
            headers={
                "Content-Disposition": attachment(info["name"]),
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def respond(request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except (UnicodeDecodeError, json.JSONDecodeError):
            return PlainTextResponse("invalid_payload", status_code=400)
        if not isinstance(payload, dict):
            return PlainTextResponse("invalid_payload", status_code=400)
        status, text = workspace.respond(request.path_params["token"], payload)
        return PlainTextResponse(text, status_code=status)

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        if not workspace.sockets.redeem(websocket.query_params.get("ticket")):
            # A made-up or already used ticket: close, saying why, rather than greet.
            await websocket.close(code=WS_1008_POLICY_VIOLATION, reason="invalid_ticket")
            return

        async def send(text: str) -> None:
            try:
                await websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError) as exc:  # closed under our feet
                raise ClientGone from exc

        debug = websocket.query_params.get("debug_reconnects") == "true"
        try:
            connection = await workspace.sockets.attach(send, debug_reconnects=debug)
        except ClientGone:  # left before hello
            return
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("text") is not None:
                    connection.received(message["text"])
        finally:
            workspace.sockets.detach(connection)

    return Starlette(
        routes=[
            WebSocketRoute("/socket", socket),
            Route("/respond/{token}", respond, methods=["POST"]),
            Route("/upload/{file_id}", upload, methods=["POST"]),
            Route("/files-pri/{key}/{rest:path}", private_file, methods=["GET"]),
            Route("/{method}", call, methods=["GET", "POST"]),
        ]
    )


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def _socket_url(request: Request, method: str) -> str:
    # /socket sits next to the methods, wherever build_api is mounted; the request's own URL
    # is the one address of it we know the caller can reach.
    mount = request.url.path.removesuffix(f"/{method}")
    scheme = "wss" if request.url.scheme == "https" else "ws"
    return str(request.url.replace(scheme=scheme, path=f"{mount}/socket", query=""))


def _api_base(request: Request, method: str) -> str:
    # Where build_api is mounted, as the caller reached it: upload URLs and url_private
    # links are made from it, like the Socket Mode URL.
    mount = request.url.path.removesuffix(f"/{method}")
    return str(request.url.replace(path=mount, query="", fragment="")).rstrip("/")


def attachment(filename: str, *, inline: bool = False) -> str:
    """A Content-Disposition header naming `filename` safely (RFC 6266 with RFC 5987)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _token_arg(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _json(status: int, headers: dict[str, str], body: dict[str, Any]) -> Response:
    return Response(
        content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        status_code=status,
        headers=headers,
        media_type=JSON_TYPE,
    )
