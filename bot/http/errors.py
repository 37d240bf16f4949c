"""The JSON error every route answers with, and the handlers that turn exceptions into it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class Problem(Exception):
    """An HTTP error answered as JSON: {"error": code, "message": text, "detail": [...]}."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        detail: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.detail = status, error, message, detail
        self.headers = headers


def problem_response(exc: Problem) -> JSONResponse:
    body: dict[str, Any] = {"error": exc.error, "message": exc.message}
    if exc.detail is not None:
        body["detail"] = exc.detail
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


async def _on_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc)


async def _on_http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return problem_response(
        Problem(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))
    )


async def _on_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
    return problem_response(Problem(422, "invalid_request", "the request is not valid", detail))


async def _on_database(_: Request, exc: Exception) -> JSONResponse:
    # 503, not 500: Alertmanager retries 5xx, so the notification is delivered again later.
    log.error("database unavailable: %s", type(exc).__name__)
    return problem_response(
        Problem(
            503,
            "unavailable",
            "the incident store is unavailable; retry later",
            headers={"Retry-After": "5"},
        )
    )


def is_outage(exc: DBAPIError) -> bool:
    """The store unavailable, rather than a bug: it could not be reached (OperationalError),
    or it dropped the connection under a statement (PostgreSQL restarted or failed over within
    the moment a pooled connection is used untried, bot.db.engine.IDLE_PING_S), which asyncpg
    says with an InterfaceError, or an InternalClientError if it read the server's goodbye
    before the close, and SQLAlchemy then invalidates the connection. (asyncpg also drops a
    connection on any error of its own protocol handling, which is then counted the same.)"""
    return isinstance(exc, OperationalError) or exc.connection_invalidated


async def _on_lost_connection(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if not is_outage(exc):
        raise exc  # a bug: the app's outer handler logs it, answers 500
    return await _on_database(request, exc)


Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]
HANDLERS: dict[type[Exception], Handler] = {
    Problem: _on_problem,
    OperationalError: _on_database,
    DBAPIError: _on_lost_connection,
    StarletteHTTPException: _on_http,
    RequestValidationError: _on_validation,
}


def install_error_handlers(api: FastAPI) -> None:
    for kind, handler in HANDLERS.items():
        api.add_exception_handler(kind, handler)


async def answer_for(request: Request, exc: Exception) -> JSONResponse | None:
    """The app's answer to `exc`, as its exception handlers give it (the handler of the nearest
    class in its MRO, as Starlette looks them up); None for an exception none handles."""
    for kind in type(exc).__mro__:
        handler = HANDLERS.get(kind)
        if handler is not None:
            return await handler(request, exc)
    return None
