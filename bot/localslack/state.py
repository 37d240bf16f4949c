"""The local workspace: Slack's state in memory, and one entry point for every Web API call."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.localslack import modals
from bot.localslack.args import Args, SlackError
from bot.localslack.ids import new_trigger_id
from bot.localslack.installed import InstalledApp
from bot.localslack.methods import APP_METHODS, METHODS, NO_AUTH
from bot.localslack.methods import files as file_methods
from bot.localslack.methods import views as view_methods
from bot.localslack.responses import ResponseTarget, answer, new_token
from bot.localslack.socketmode import SocketHub
from bot.localslack.store import Store, check_channel_name


@dataclass
class RecordedCall:
    method: str
    args: dict[str, Any]
    token: str | None
    status: int
    response: dict[str, Any]
    at: float
    peer: str | None = None  # the caller's address and port: one per connection it opened


@dataclass
class _Failure:
    method: str  # "*" matches any method
    status: int
    retry_after: int | None
    error: str | None
    remaining: int

    def answer(self) -> tuple[int, dict[str, str], dict[str, Any]]:
        if self.status == 429:
            headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
            return 429, headers, {"ok": False, "error": self.error or "ratelimited"}
        return self.status, {}, {"ok": False, "error": self.error or "internal_error"}


Answer = tuple[int, dict[str, str], dict[str, Any]]

# Where apps.connections.open points when no HTTP layer says where the socket is served.
UNSERVED_SOCKET_URL = "ws://localslack.invalid/socket"
# Where files.* point (upload URLs, url_private) when no HTTP layer says where build_api is.
UNSERVED_API_BASE = "http://localslack.invalid/api"


class Workspace:
    """One Slack workspace with a bot in it.

    Every accessor returns copies taken under the lock: the HTTP server mutates the state on
    its own thread while tests read it from theirs.

    `tokens` are bot tokens (xoxb-), good for every Web API method but apps.connections.open;
    `app_tokens` are app-level tokens (xapp-), good for apps.connections.open only.
    """

    def __init__(
        self,
        *,
        tokens: Iterable[str] = (),
        app_tokens: Iterable[str] = (),
        team_id: str = "T0LOCAL01",
        team_name: str = "Firebreak local",
        bot_user_id: str = "U0FIREBOT",
        bot_id: str = "B0FIREBOT",
        app_id: str = "A0FIREBOT",
    ) -> None:
        self._lock = threading.RLock()
        self._tokens = frozenset(tokens)
        self._app_tokens = frozenset(app_tokens)
        self._store = Store(
            team_id=team_id,
            team_name=team_name,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
        )
        self._failures: list[_Failure] = []
        self._calls: list[RecordedCall] = []
        self._responses: dict[str, ResponseTarget] = {}
        self._sockets = SocketHub(app_id=app_id)
        self._app: InstalledApp | None = None

    @property
    def team_id(self) -> str:
        return self._store.team_id

    @property
    def team_name(self) -> str:
        return self._store.team_name

    @property
    def bot_user_id(self) -> str:
        return self._store.bot_user_id

    @property
    def bot_id(self) -> str:
        return self._store.bot_id

    @property
    def app_id(self) -> str:
        return self._store.app_id

    @property
    def sockets(self) -> SocketHub:
        """Socket Mode: tickets, connected clients and envelope delivery (thread-safe)."""
        return self._sockets

    # seeding

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        email: str | None = None,
        real_name: str | None = None,
        display_name: str = "",
    ) -> dict[str, Any]:
        """Add (or replace) a human user; returns its Slack user object."""
        with self._lock:
            user = self._store.add_user(
                user_id, name, email=email, real_name=real_name, display_name=display_name
            )
            return copy.deepcopy(user)

    def ensure_channel(self, name: str, *, members: Iterable[str] = ()) -> dict[str, Any]:
        """The public channel called `name` (leading '#' allowed), created if missing.

        The bot is always a member; `members` are added if they are not in yet. Raises
        ValueError for a name Slack would refuse or an unknown member, so a misconfigured
        broadcast channel fails at start-up rather than on the first incident.
        """
        with self._lock:
            try:
                name = check_channel_name(name.removeprefix("#"))
            except SlackError as exc:
                raise ValueError(f"invalid channel name {name!r}: {exc.error}") from None
            wanted = list(members)
            unknown = [u for u in wanted if u not in self._store.users]
            if unknown:
                raise ValueError(f"unknown users: {', '.join(unknown)}")
            channel = self._store.channel_named(name)
            if channel is None:
                bot = self._store.bot_user_id
                channel = self._store.create_channel(name, is_private=False, creator=bot)
            channel.members.extend(u for u in dict.fromkeys(wanted) if u not in channel.members)
            return channel.to_slack(self._store.bot_user_id)

    def add_message(
        self, channel_id: str, user_id: str, text: str, *, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """Post as a person (the Web API only ever posts as the bot); returns the message."""
        with self._lock:
            channel = self._store.channels.get(channel_id)
            if channel is None or user_id not in self._store.users:
                raise ValueError(f"unknown channel {channel_id!r} or user {user_id!r}")
            message: dict[str, Any] = {
                "type": "message",
                "ts": self._store.clock.next(),
                "user": user_id,
                "text": text,
                "team": self._store.team_id,
            }
            if thread_ts is not None:
                message["thread_ts"] = thread_ts
            self._store.append_message(channel_id, message)
            return copy.deepcopy(message)

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` ("*" = any) fail with HTTP `status`."""
        if status < 400 or times < 1:
            raise ValueError("fail() needs an error status (>= 400) and times >= 1")
        with self._lock:
            self._failures.append(_Failure(method, status, retry_after, error, times))

    def recover(self) -> None:
        """Answer normally again: drop every failure fail() set up that is still to come."""
        with self._lock:
            self._failures.clear()

    def expire_trigger(self, trigger_id: str) -> None:
        """Make views.open/push with this trigger_id fail with expired_trigger_id, as a
        trigger used more than 3 seconds after its interaction does on Slack."""
        with self._lock:
            self._store.expired_triggers.add(trigger_id)

    # reading

    @property
    def calls(self) -> list[RecordedCall]:
        """Every Web API call so far, oldest first, failed and refused ones included."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def channels(self) -> list[dict[str, Any]]:
        """Public and private channels, oldest first; direct messages are in `ims`."""
        with self._lock:
            bot = self._store.bot_user_id
            return [c.to_slack(bot) for c in self._store.channels.values() if not c.is_im]

    def ims(self) -> list[dict[str, Any]]:
        """The bot's direct-message conversations (IM objects), oldest first."""
        with self._lock:
            bot = self._store.bot_user_id
            return [c.to_slack(bot) for c in self._store.channels.values() if c.is_im]

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            channel = self._store.channel_named(name.removeprefix("#"))
            return None if channel is None else channel.to_slack(self._store.bot_user_id)

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's messages, thread replies included, oldest first."""
        with self._lock:
            return copy.deepcopy(self._store.messages.get(channel_id, []))

    def direct_messages(self, user_id: str) -> list[dict[str, Any]]:
        """The messages of the bot's IM with `user_id`, oldest first; [] if it never opened."""
        with self._lock:
            im = self._store.im_with(user_id)
            return [] if im is None else copy.deepcopy(self._store.messages[im.id])

    def ephemeral(self, channel_id: str, user_id: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages posted in the conversation (to `user_id` only, if given),
        oldest first. Each has the recipient as `user`, and `text`, `blocks` and `ts`."""
        with self._lock:
            shown = self._store.ephemeral.get(channel_id, [])
            return copy.deepcopy([m for m in shown if user_id in (None, m["user"])])

    def views(self) -> list[dict[str, Any]]:
        """Open views (modals) as views.open/push/update last answered them, newest last."""
        with self._lock:
            return copy.deepcopy(list(self._store.views.values()))

    def users(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._store.users.values()))

    def socket_connections(self) -> int:
        """Socket Mode clients that get envelopes: greeted with hello, not told to disconnect."""
        return self._sockets.count()

    # the installed app, and what the page does on a person's behalf

    def install_app(self, *, request_url: str, signing_secret: str) -> None:
        """Send slash commands, interactivity and events to `request_url`, signed with
        `signing_secret` (Slack's v0 scheme), as configuring a Slack app's request URL does.
        Replaces the app installed before, if any."""
        if not request_url.startswith(("http://", "https://")):
            raise ValueError("request_url must be an http:// or https:// URL")
        if not signing_secret:
            raise ValueError("signing_secret must not be empty")
        with self._lock:
            self._app = InstalledApp(request_url=request_url, signing_secret=signing_secret)

    @property
    def installed_app(self) -> InstalledApp | None:
        with self._lock:
            return self._app

    def new_trigger(self, user_id: str) -> str:
        """A trigger_id for an interaction by `user_id`; a modal views.open opens with it is
        shown to that person (see `modal_for`)."""
        trigger = new_trigger_id(time.time())
        with self._lock:
            self._store.trigger_users[trigger] = user_id
        return trigger

    def modal_for(self, user_id: str) -> dict[str, Any] | None:
        """The modal on `user_id`'s screen: the top of the newest view stack the app opened
        with one of their triggers, or None."""
        with self._lock:
            return copy.deepcopy(modals.modal_for(self._store, user_id))

    def set_view_state(self, view_id: str, values: dict[str, Any]) -> None:
        with self._lock:
            modals.set_state(self._store, view_id, copy.deepcopy(values))

    def close_view(self, view_id: str, *, whole_stack: bool = False) -> None:
        """Close a modal (or, with `whole_stack`, every view stacked with it)."""
        with self._lock:
            if whole_stack:
                modals.clear(self._store, view_id)
            else:
                modals.close(self._store, view_id)

    def replace_view(self, view_id: str, view: dict[str, Any]) -> str | None:
        """A view_submission answered `response_action: update`; Slack's error, or None."""
        with self._lock:
            try:
                view_methods.update(self._store, Args({"view_id": view_id, "view": view}))
            except SlackError as exc:
                return exc.error
            return None

    def push_view(self, user_id: str, view: dict[str, Any]) -> str | None:
        """A view_submission answered `response_action: push`; Slack's error, or None."""
        trigger = self.new_trigger(user_id)
        with self._lock:
            try:
                view_methods.push(self._store, Args({"trigger_id": trigger, "view": view}))
            except SlackError as exc:
                return exc.error
            return None

    def show_reply(self, channel_id: str, user_id: str, payload: dict[str, Any]) -> None:
        """Show an app's answer to `user_id`'s command as Slack does: in the channel from the
        bot for `response_type: in_channel`, otherwise only to them. Needs text or blocks."""
        target = ResponseTarget(
            channel_id=channel_id, user_id=user_id, message_ts=None, created=time.time()
        )
        with self._lock:
            answer(self._store, target, payload)

    def find_message(self, channel_id: str, ts: str) -> tuple[dict[str, Any], bool] | None:
        """(the message, whether it is ephemeral) for `ts` in the conversation, or None."""
        with self._lock:
            for ephemeral, kept in (
                (False, self._store.messages.get(channel_id, [])),
                (True, self._store.ephemeral.get(channel_id, [])),
            ):
                for message in kept:
                    if message["ts"] == ts:
                        return copy.deepcopy(message), ephemeral
            return None

    # response_url

    def response_url(
        self, *, base_url: str, channel_id: str, user_id: str, message_ts: str | None = None
    ) -> str:
        """A response_url for a command or a click by `user_id` in `channel_id`, served by
        build_api at `{base_url}respond/<token>` (base_url: where build_api is mounted)."""
        token = new_token()
        with self._lock:
            self._responses[token] = ResponseTarget(
                channel_id=channel_id, user_id=user_id, message_ts=message_ts, created=time.time()
            )
        return f"{base_url.rstrip('/')}/respond/{token}"

    def respond(self, token: str, payload: dict[str, Any]) -> tuple[int, str]:
        with self._lock:
            target = self._responses.get(token)
            if target is None:
                return 404, "no_such_url"
            return answer(self._store, target, payload)

    # the Web API

    def dispatch(
        self,
        method: str,
        args: dict[str, Any],
        token: str | None,
        *,
        unreadable: str | None = None,
        token_in_args: bool = False,
        socket_url: str = UNSERVED_SOCKET_URL,
        api_base: str = UNSERVED_API_BASE,
        peer: str | None = None,
    ) -> Answer:
        """Answer one Web API call: (HTTP status, extra headers, JSON body).

        `unreadable` is the error for a request body that could not be decoded (invalid_json);
        passing it through here keeps such calls in the call log too. `token_in_args` says the
        token came as an argument rather than an Authorization header. `socket_url` is where
        the HTTP layer serves Socket Mode (the URL apps.connections.open hands out, without
        its ticket). `api_base` is where it serves build_api (no trailing slash): the base of
        the upload URLs and url_private links files.* hand out.
        """
        with self._lock:
            if unreadable is not None and (method in METHODS or method in APP_METHODS):
                answer: Answer = (200, {}, {"ok": False, "error": unreadable})
            else:
                self._store.api_base = api_base.rstrip("/")
                answer = self._answer(method, args, token, token_in_args, socket_url)
            status, headers, body = answer
            # A deep copy, so neither the caller nor the call log shares state with the store.
            body = copy.deepcopy(body)
            self._calls.append(
                RecordedCall(
                    method=method,
                    args=copy.deepcopy(args),
                    token=token,
                    status=status,
                    response=copy.deepcopy(body),
                    at=time.time(),
                    peer=peer,
                )
            )
            return status, headers, body

    def _answer(
        self,
        method: str,
        args: dict[str, Any],
        token: str | None,
        token_in_args: bool,
        socket_url: str,
    ) -> Answer:
        handler = METHODS.get(method)
        if handler is None and method not in APP_METHODS:
            return 404, {}, {"ok": False, "error": "unknown_method", "req_method": method}
        failure = self._take_failure(method)
        if failure is not None:
            return failure.answer()
        if method not in NO_AUTH:
            refusal = self._refusal(method, token, token_in_args)
            if refusal is not None:
                return 200, {}, {"ok": False, "error": refusal}
        if handler is None:  # apps.connections.open, the one app-level method
            return 200, {}, {"ok": True, "url": self._sockets.open_url(socket_url)}
        try:
            return 200, {}, handler(self._store, Args(args))
        except SlackError as exc:
            return 200, {}, exc.body()

    # files: the upload URL, and what tests and the page read

    def receive_upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        """A POST of a file's bytes to its upload URL: (HTTP status, text/plain body);
        200 "OK - <length>" as Slack answers, once the bytes match the announced length."""
        with self._lock:
            return file_methods.receive_upload(self._store, file_id, data)

    def files(self) -> list[dict[str, Any]]:
        """Completed uploads (files.completeUploadExternal), as file objects, oldest first."""
        with self._lock:
            return [copy.deepcopy(f.info) for f in self._store.files.values() if f.info]

    def file_content(self, file_id: str) -> bytes:
        """The bytes uploaded for `file_id`; KeyError if none were."""
        with self._lock:
            stored = self._store.files.get(file_id)
            if stored is None or stored.content is None:
                raise KeyError(file_id)
            return stored.content

    def shared_file(self, file_id: str) -> tuple[dict[str, Any], bytes] | None:
        """(file object, bytes) of a file shared in some conversation, else None."""
        with self._lock:
            stored = self._store.files.get(file_id)
            if stored is None or stored.info is None or stored.content is None:
                return None
            if not (stored.info["channels"] or stored.info["groups"] or stored.info["ims"]):
                return None
            return copy.deepcopy(stored.info), stored.content

    def may_read_files(self, token: str | None) -> bool:
        """Whether `token` may fetch url_private (a bot token, as on Slack)."""
        return token is not None and token in self._tokens

    def _refusal(self, method: str, token: str | None, token_in_args: bool) -> str | None:
        """The auth error Slack gives this token for this method, or None if it may call."""
        if not token:
            return "not_authed"
        if method in APP_METHODS:
            if token in self._tokens:
                return "not_allowed_token_type"
            # Slack reads the app-level token from the Authorization header only.
            return None if token in self._app_tokens and not token_in_args else "invalid_auth"
        if token in self._app_tokens:
            return "not_allowed_token_type"
        return None if token in self._tokens else "invalid_auth"

    def _take_failure(self, method: str) -> _Failure | None:
        for failure in self._failures:
            if failure.method in (method, "*"):
                failure.remaining -= 1
                if failure.remaining == 0:
                    self._failures.remove(failure)
                return failure
        return None
