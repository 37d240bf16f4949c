"""The FastAPI app: the Deployment API, ranking predictions and Prometheus metrics."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from . import metrics
from .idempotency import IdempotencyStore, fingerprint
from .ranking import is_bad, rank
from .schemas import DeployRequest, FreezeRequest, ModeRequest, RankRequest, RollbackRequest
from .state import ApiError, Clock, Registry, Service, utc_now

DEFAULT_SERVICES: dict[str, list[str]] = {
    "search-ranker": ["v41", "v42"],
    "checkout-fraud": ["v7"],
}

IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
]


def build_app(
    *,
    services: dict[str, list[str]] | None = None,
    token: str | None = None,
    bad_error_every: int = 0,
    clock: Clock = utc_now,
) -> FastAPI:
    """`services` maps a name to its versions in deploy order (the last is active).

    `bad_error_every=n` makes a `-bad` model fail every n-th ranking request with a 500, for
    demos of an error-rate alert; 0 (the default) never fails.
    """
    registry = Registry(DEFAULT_SERVICES if services is None else services, clock=clock)
    store = IdempotencyStore(clock=clock)
    # The served surface is exactly docs/deployment-api.yaml: no generated docs next to it.
    app = FastAPI(title="Example model service", docs_url=None, redoc_url=None, openapi_url=None)
    _add_error_handlers(app)

    router = APIRouter(prefix="/v1/services/{service}", dependencies=[Depends(_bearer(token))])

    @router.get("")
    async def get_state(service: str) -> dict[str, Any]:
        return registry.get(service).to_json()

    @router.post("/rollback")
    async def rollback(
        service: str,
        request: Request,
        key: IdempotencyKey = None,
        body: RollbackRequest | None = None,
    ) -> JSONResponse:
        to_version = body.to_version if body else None  # an absent body means "the previous one"
        change = partial(registry.rollback, service, to_version)
        return _idempotent(store, request, key, {"to_version": to_version}, change)

    @router.post("/mode")
    async def set_mode(
        service: str, request: Request, body: ModeRequest, key: IdempotencyKey = None
    ) -> JSONResponse:
        change = partial(registry.set_mode, service, body.mode)
        return _idempotent(store, request, key, body.model_dump(), change)

    @router.post("/freeze")
    async def freeze(
        service: str, request: Request, body: FreezeRequest, key: IdempotencyKey = None
    ) -> JSONResponse:
        change = partial(registry.freeze, service, body.reason)
        return _idempotent(store, request, key, body.model_dump(), change)

    @router.post("/unfreeze")
    async def unfreeze(service: str, request: Request, key: IdempotencyKey = None) -> JSONResponse:
        return _idempotent(store, request, key, None, partial(registry.unfreeze, service))

    @router.post("/deploy")
    async def deploy(
        service: str, request: Request, body: DeployRequest, key: IdempotencyKey = None
    ) -> JSONResponse:
        change = partial(registry.deploy, service, body.version)
        return _idempotent(store, request, key, body.model_dump(), change)

    @router.post("/rank")
    async def rank_items(service: str, body: RankRequest) -> dict[str, Any]:
        svc = registry.get(service)
        version, mode = svc.active_version, svc.mode
        svc.requests[version, mode] = svc.requests.get((version, mode), 0) + 1
        if mode == "model" and is_bad(version) and bad_error_every > 0:
            svc.served_by_bad += 1
            if svc.served_by_bad % bad_error_every == 0:
                svc.errors += 1
                raise ApiError(500, "model_error", f"{version} failed to score the items")
        ranking = rank(version, mode, body.query, body.items)
        return {"version": version, "mode": mode, "ranking": ranking}

    app.include_router(router)

    @app.get("/metrics")
    async def get_metrics() -> PlainTextResponse:
        text = metrics.render(registry.services.values())
        return PlainTextResponse(text, media_type=metrics.CONTENT_TYPE)

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    return app


def _idempotent(
    store: IdempotencyStore,
    request: Request,
    key: str | None,
    body: Any,
    change: Callable[[], Service],
) -> JSONResponse:
    """Apply `change` once per key; replay the stored response (refusals too) on repeats.

    No await between the lookup and the store, so two concurrent repeats cannot both act.
    """
    this = fingerprint(request.method, request.url.path, body)
    if key is not None and (stored := store.get(key)) is not None:
        if stored.fingerprint != this:
            raise ApiError(
                422,
                "idempotency_key_reused",
                f"Idempotency-Key {key!r} was first used with a different request",
            )
        return JSONResponse(stored.body, stored.status, headers={"Idempotent-Replayed": "true"})
    try:
        status, payload = 200, change().to_json()
    except ApiError as refused:
        status, payload = refused.status, refused.body()
    if key is not None:
        store.put(key, fingerprint=this, status=status, body=payload)
    return JSONResponse(payload, status)


def _bearer(token: str | None) -> Callable[..., None]:
    expected = f"Bearer {token}".encode()

    def check(authorization: Annotated[str | None, Header()] = None) -> None:
        if token is None:
            return
        # compare_digest: the time taken must not reveal how much of the token was right.
        if authorization is None or not hmac.compare_digest(authorization.encode(), expected):
            raise ApiError(401, "unauthorized", "a valid bearer token is required")

    return check


def _add_error_handlers(app: FastAPI) -> None:
    """Every error, FastAPI's own included, is `{"error": code, "message": text}`."""

    async def api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.body(), exc.status, headers=headers)

    async def invalid(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"] if part != "body")
            problems.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
        body = {"error": "invalid_request", "message": "; ".join(problems)}
        return JSONResponse(body, 422)

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "message": str(exc.detail)}, exc.status_code)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
