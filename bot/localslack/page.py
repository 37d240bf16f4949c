"""The local workspace in a browser, as a tiny Slack client: pick who you are, read a
conversation, type messages and slash commands, click the app's buttons, fill its modals.

In embedded mode the bot mounts this app at `/`, so the page is `/` and its JSON twin is
`/state.json`; the routes here are relative to wherever it is mounted. POSTs answer with a
303 back to the page (post/redirect/get), so reloading never sends anything twice.

Every request must come to an allowed Host and carry the page's key (see access.py):
`/?key=…` sets it as a cookie once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from bot.localslack import pageview
from bot.localslack.access import KEY_PARAM, PageAccess
from bot.localslack.api import API_PREFIX, attachment
from bot.localslack.client import AppClient
from bot.localslack.flash import Notes
from bot.localslack.forms import parse_body
from bot.localslack.ids import ts_key
from bot.localslack.interactions import Interactions, Outcome
from bot.localslack.mrkdwn import Formatter, emoji, safe_url
from bot.localslack.payloads import options_of
from bot.localslack.reads import Reads
from bot.localslack.state import Workspace

TEMPLATES = Path(__file__).parent / "templates"
REFRESH_SECONDS = 3  # without JavaScript: a plain meta refresh
POLL_SECONDS = 2  # with it: reload only when something changed
USER_COOKIE = "localslack_user"

Handler = Callable[[Request], Awaitable[Response]]


class SampleAlerts(Protocol):
    """The page's "Fire test alert" menu: sends the app the alert notification a monitoring
    system would send for a service, so incidents can be tried without one."""

    def services(self) -> list[str]: ...

    def sources(self) -> list[str]:
        """The senders it can imitate for any service (the first is the default)."""
        ...

    def samples(self) -> list[str]:
        """Config sources whose own sample body it can send."""
        ...

    async def fire(self, *, service: str, resolved: bool, source: str) -> tuple[bool, str]:
        """(whether the app took it, what to tell the person)."""
        ...


def build_page(
    workspace: Workspace,
    *,
    access: PageAccess,
    api_url: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    alerts: SampleAlerts | None = None,
) -> Starlette:
    """The page app. `access`: the Hosts it answers and its key. `api_url`: where build_api
    is served, for response_urls (default: this server at API_PREFIX). `transport`: how to
    reach the installed app (tests). `alerts`: what the "Fire test alert" menu fires (no menu
    without it)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined
    )
    env.globals["safe_url"] = safe_url
    env.globals["options_of"] = options_of
    env.globals["emoji"] = emoji
    template = env.get_template("workspace.html")
    notes = Notes()
    reads = Reads()
    client = AppClient(transport=transport)

    def person(request: Request) -> dict[str, Any] | None:
        humans = pageview.people(workspace.users())
        wanted = request.cookies.get(USER_COOKIE)
        return next((u for u in humans if u["id"] == wanted), humans[0] if humans else None)

    def acting(request: Request) -> Interactions:
        here = api_url or str(request.url.replace(path=API_PREFIX, query="", fragment=""))
        return Interactions(workspace, client, api_url=here)

    async def page(request: Request) -> Response:
        me = person(request)
        channels = workspace.channels()
        users = {u["id"]: u for u in workspace.users()}
        ims = [pageview.im_view(im, users) for im in workspace.ims()]
        wanted = request.query_params.get("channel")
        selected = pageview.select(channels, ims, wanted)
        fmt = Formatter(
            users={uid: pageview.shown_name(u) for uid, u in users.items()},
            channels={c["id"]: c["name"] for c in channels},
        )
        views: list[dict[str, Any]] = []
        if selected:
            shown = workspace.messages(selected["id"])
            views = [pageview.message_view(m, users) for m in shown]
            if me is not None:
                reads.mark_read(user_id=me["id"], channel_id=selected["id"], messages=shown)
                views += [
                    pageview.ephemeral_view(m, users, workspace.bot_user_id)
                    for m in workspace.ephemeral(selected["id"], me["id"])
                ]
            views.sort(key=lambda m: ts_key(m["ts"]))
            for message in views:
                message["files"] = [_file_view(request, f) for f in message["files"]]
        unread = {
            c["id"]: reads.unread(
                user_id=me["id"], channel_id=c["id"], messages=workspace.messages(c["id"])
            )
            if me
            else 0
            for c in [*channels, *ims]
        }
        modal = workspace.modal_for(me["id"]) if me else None
        app = workspace.installed_app
        html = template.render(
            team_name=workspace.team_name,
            channels=channels,
            ims=ims,
            unread=unread,
            selected=selected,
            missing=wanted if wanted and selected is None else None,
            messages=pageview.threaded(views),
            pinned=[m for m in views if m["pinned"]],
            alert_services=alerts.services() if alerts else [],
            alert_sources=alerts.sources() if alerts else [],
            alert_samples=alerts.samples() if alerts else [],
            fmt=fmt,
            me=me,
            people=pageview.people(list(users.values())),
            can_write=bool(me and selected and selected["im_user"] in (None, me["id"])),
            draft=notes.take_draft(me["id"], selected["id"]) if me and selected else "",
            notices=notes.notices(me["id"]) if me else [],
            modal=pageview.modal_view(modal, notes.errors(modal["id"], modal["hash"]))
            if modal
            else None,
            app_url=app.request_url if app else None,
            base=str(request.url_for("page")),
            version=_version(workspace),
            refresh=REFRESH_SECONDS,
            poll_ms=POLL_SECONDS * 1000,
        )
        return HTMLResponse(html, status_code=404 if wanted and selected is None else 200)

    def _file_view(request: Request, file: dict[str, Any]) -> dict[str, Any]:
        shared = workspace.shared_file(str(file.get("id", "")))
        href = str(request.url_for("file", file_id=str(file.get("id", ""))))
        return pageview.file_view(file, shared[1] if shared else None, href)

    async def download(request: Request) -> Response:
        shared = workspace.shared_file(request.path_params["file_id"])
        if shared is None:
            return PlainTextResponse("No such file.", status_code=404)
        info, content = shared
        # Never the uploader's type as is: text shows as plain text, PNG, JPEG and GIF images
        # (checked against their bytes) as themselves, the rest downloads (SVG too: a script).
        mimetype = str(info.get("mimetype", ""))
        text = pageview.is_text(mimetype)
        image = pageview.image_type(mimetype, content)
        return Response(
            content,
            media_type=image
            or ("text/plain; charset=utf-8" if text else "application/octet-stream"),
            headers={
                "Content-Disposition": attachment(str(info["name"]), inline=text or bool(image)),
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    async def state(request: Request) -> Response:
        return JSONResponse(_state(workspace))

    async def version(request: Request) -> Response:
        return JSONResponse({"version": _version(workspace)})

    async def members(request: Request) -> Response:
        # What the composer suggests after "@": the people a typed @name can mention.
        return JSONResponse({"members": pageview.members(workspace.users())})

    async def act_as(request: Request, form: dict[str, str]) -> Response:
        response = _back(request, form.get("channel"))
        humans = {u["id"] for u in pageview.people(workspace.users())}
        if form.get("user") in humans:
            response.set_cookie(USER_COOKIE, form["user"], httponly=True, samesite="lax")
        return response

    async def compose(request: Request, form: dict[str, str]) -> Response:
        channel = form.get("channel", "")
        thread_ts = form.get("thread_ts") or None
        outcome = await _as_person(
            request,
            lambda me: acting(request).compose(
                user_id=me, channel_id=channel, text=form.get("text", ""), thread_ts=thread_ts
            ),
        )
        if outcome.draft and not thread_ts and (me := person(request)):
            notes.keep_draft(me["id"], channel, outcome.draft)
        return _back(request, channel)

    async def fire_alert(request: Request, form: dict[str, str]) -> Response:
        me, service = person(request), form.get("service", "")
        if alerts is None or me is None:
            return _back(request, form.get("channel"))
        source = form.get("source") or (alerts.sources() or [""])[0]
        sample = source in alerts.samples()
        if not sample and source not in alerts.sources():
            notes.notice(me["id"], f"No source {source!r} to fire a test alert from.")
        elif not sample and service not in alerts.services():
            notes.notice(me["id"], f"No service {service!r} to fire a test alert for.")
        else:
            resolved = form.get("status") == "resolved"
            ok, told = await alerts.fire(service=service, resolved=resolved, source=source)
            notes.notice(me["id"], told, ok=ok)
            if ok and not resolved:
                return _back(request, None)  # the newest channel: the incident's, once opened
        return _back(request, form.get("channel"))

    async def click(request: Request, form: dict[str, str]) -> Response:
        option = form.get("option", "")
        await _as_person(
            request,
            lambda me: acting(request).click(
                user_id=me,
                channel_id=form.get("channel", ""),
                ts=form.get("ts", ""),
                block_index=_int(form.get("block")),
                element=form.get("element", ""),
                option=int(option) if option.isdigit() else None,
            ),
        )
        return _back(request, form.get("channel"))

    async def submit_view(request: Request, form: dict[str, str]) -> Response:
        view_id = form.get("view_id", "")
        outcome = await _as_person(
            request,
            lambda me: acting(request).submit_view(user_id=me, view_id=view_id, form=form),
        )
        me = person(request)
        shown = workspace.modal_for(me["id"]) if me else None
        if shown is not None and shown["id"] == view_id:  # still open: errors go with it
            notes.set_errors(view_id, shown["hash"], outcome.errors)
        return _back(request, form.get("channel"))

    async def close_view(request: Request, form: dict[str, str]) -> Response:
        view_id = form.get("view_id", "")
        await _as_person(
            request, lambda me: acting(request).close_view(user_id=me, view_id=view_id)
        )
        return _back(request, form.get("channel"))

    async def dismiss(request: Request, form: dict[str, str]) -> Response:
        if me := person(request):
            notes.dismiss(me["id"])
        return _back(request, form.get("channel"))

    async def _as_person(request: Request, act: Callable[[str], Awaitable[Outcome]]) -> Outcome:
        """Run `act` for the person the page acts as; any refusal becomes their banner."""
        me = person(request)
        if me is None:
            return Outcome()
        try:
            outcome = await act(me["id"])
        except ValueError as exc:  # an unknown channel or person, from a stale page
            outcome = Outcome(notice=str(exc))
        if outcome.notice:
            notes.notice(me["id"], outcome.notice)
        return outcome

    return Starlette(
        routes=[
            Route("/", _guarded(access, page, opens=True), name="page"),
            Route("/state.json", _guarded(access, state)),
            Route("/version.json", _guarded(access, version)),
            Route("/members.json", _guarded(access, members), name="members"),
            Route("/files/{file_id}", _guarded(access, download), name="file"),
            *(
                Route(f"/{name}", _guarded(access, _form_post(handler)), methods=["POST"])
                for name, handler in {
                    "as": act_as,
                    "compose": compose,
                    "reply": compose,  # a thread's reply box: the same, with thread_ts
                    "click": click,
                    "submit-view": submit_view,
                    "close-view": close_view,
                    "dismiss": dismiss,
                    "fire-alert": fire_alert,
                }.items()
            ),
        ]
    )


def _form_post(handler: Callable[[Request, dict[str, str]], Awaitable[Response]]) -> Handler:
    async def endpoint(request: Request) -> Response:
        body = parse_body(request.headers.get("content-type", ""), await request.body())
        form = {str(k): str(v) for k, v in body.items()}
        return await handler(request, form)

    return endpoint


NEEDS_KEY = (
    "This page needs the key Firebreak made when it started: open the address "
    "`firebreak serve` printed (http://127.0.0.1:8080/?key=…), or start it with "
    "FIREBREAK_PAGE_KEY set and open /?key=<that key>."
)


def _guarded(access: PageAccess, endpoint: Handler, *, opens: bool = False) -> Handler:
    """`endpoint`, for requests to an allowed Host that carry the key (its cookie), and for a
    browser's POST only from the page's own origin. `opens`: `?key=…` here sets the cookie."""

    async def guarded(request: Request) -> Response:
        # The Host a DNS-rebinding page sends is its own name, whatever address it resolved to.
        if not access.allows_host(request.headers.get("host")):
            return PlainTextResponse("this page is not served at that host", status_code=403)
        if request.method != "GET" and not access.allows_origin(request.headers.get("origin")):
            # Another site's page must not click buttons here on a visitor's behalf.
            return PlainTextResponse("cross-origin form refused", status_code=403)
        if opens and KEY_PARAM in request.query_params:
            return _open_with(access, request)
        if not access.is_key(request.cookies.get(access.cookie)):
            return PlainTextResponse(NEEDS_KEY, status_code=403)
        return await endpoint(request)

    return guarded


def _open_with(access: PageAccess, request: Request) -> Response:
    """`/?key=…`: the key becomes an HttpOnly, SameSite=Strict cookie, and the page is shown
    at its own address (the key out of the address bar)."""
    if not access.is_key(request.query_params.get(KEY_PARAM)):
        return PlainTextResponse("wrong key: " + NEEDS_KEY, status_code=403)
    response = RedirectResponse(str(request.url.remove_query_params(KEY_PARAM)), status_code=303)
    response.set_cookie(access.cookie, access.key, httponly=True, samesite="strict", path="/")
    return response


def _back(request: Request, channel: str | None) -> Response:
    url = request.url_for("page")
    if channel:
        url = url.include_query_params(channel=channel)
    return RedirectResponse(str(url), status_code=303)


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else -1


def _state(workspace: Workspace) -> dict[str, Any]:
    channels = workspace.channels()
    ims = workspace.ims()
    ids = [c["id"] for c in [*channels, *ims]]
    return {
        "channels": channels,
        "ims": ims,
        "messages": {i: workspace.messages(i) for i in ids},
        "ephemeral": {i: workspace.ephemeral(i) for i in ids},
        "views": workspace.views(),
    }


def _version(workspace: Workspace) -> str:
    """A digest of everything the page shows: the page reloads when it changes."""
    app = workspace.installed_app
    shown = {
        **_state(workspace),
        "users": workspace.users(),
        "app": app.request_url if app else None,
    }
    encoded = json.dumps(shown, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]
