"""Alert webhooks answered ahead of FastAPI's routing.

In an alert storm nearly every request is an alert webhook, and the framework's own work for
each one (matching the path against every route, the route's request and response wrappers,
its dependency solver and exit stack) was a third of what a repeat cost the serve process:
0.17 ms of CPU with it, 0.11 ms without, about what the bench's no-op route costs (a storm on
one server, then the same storm again, all repeats). `DirectPosts` is an app middleware:
it sits inside the app's outermost error handler, so a bug still answers 500 and is logged as
before. A `POST <prefix><name>` (one path segment, not in `skip`) goes straight to its handler,
with `name` as the path parameter the route would have given it; what the handler raises is
answered as the app's exception handlers answer it (bot.http.errors.answer_for). Anything else
(other paths and methods, a trailing slash) goes on to the routes, where the handler's route
stays registered: the API docs list it, and an app without this middleware answers the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.http.errors import answer_for

Handler = Callable[[Request], Awaitable[Response]]


class DirectPosts:
    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        handler: Handler,
        skip: Collection[str] = (),
        param: str = "source",
    ) -> None:
        """`param`: the name of the path parameter the handler reads (the route's `{source}`)."""
        self.app, self._prefix, self._handler = app, prefix, handler
        self._skip, self._param = frozenset(skip), param

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = self._name(scope)
        if name is None:
            await self.app(scope, receive, send)
            return
        scope["path_params"] = {self._param: name}
        request = Request(scope, receive, send)
        try:
            response = await self._handler(request)
        except Exception as exc:
            answer = await answer_for(request, exc)
            if answer is None:
                raise  # to the app's outer handler: logged, and answered 500
            response = answer
        await response(scope, receive, send)

    def _name(self, scope: Scope) -> str | None:
        """The one path segment after the prefix, for a POST this lane takes; else None."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]  # as the routes match it (behind a proxy's prefix)
        if not path.startswith(self._prefix):
            return None
        name = path[len(self._prefix) :]
        if not name or "/" in name or name in self._skip:
            return None
        return name
