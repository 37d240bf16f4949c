"""The JSON error every route answers with, and the handlers that turn exceptions into it."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
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


def install_error_handlers(api: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(
            Problem(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))
        )

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        detail = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return problem_response(Problem(422, "invalid_request", "the request is not valid", detail))

    async def on_database(_: Request, exc: Exception) -> JSONResponse:
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

    api.add_exception_handler(Problem, on_problem)
    api.add_exception_handler(OperationalError, on_database)
    api.add_exception_handler(StarletteHTTPException, on_http)
    api.add_exception_handler(RequestValidationError, on_validation)
