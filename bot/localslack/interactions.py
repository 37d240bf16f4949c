"""What a person does from the page, done as Slack does it: post a message, run a slash
command, click a button, submit or cancel a modal. Each returns an `Outcome` for the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.localslack import payloads
from bot.localslack.client import AppClient, Reply
from bot.localslack.installed import InstalledApp
from bot.localslack.payloads import Origin
from bot.localslack.state import Workspace

NO_APP = (
    "Slash commands need an installed app: start the bot with the embedded Slack, or call "
    "Workspace.install_app(request_url=…, signing_secret=…)."
)


@dataclass
class Outcome:
    """What the page should tell the person: a banner, field errors, the text to keep."""

    notice: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # block_id -> message
    draft: str | None = None  # a composer text that was not sent


class Interactions:
    """`api_url` is where build_api is served; response_urls point there."""

    def __init__(self, workspace: Workspace, client: AppClient, *, api_url: str) -> None:
        self._ws = workspace
        self._client = client
        self._api_url = api_url

    def _origin(self, app: InstalledApp) -> Origin:
        return Origin(
            team_id=self._ws.team_id,
            team_domain=payloads.team_domain(self._ws.team_name),
            api_app_id=self._ws.app_id,
            token=app.verification_token,
        )

    def _user(self, user_id: str) -> dict[str, Any]:
        user = next((u for u in self._ws.users() if u["id"] == user_id), None)
        if user is None or user["is_bot"]:
            raise ValueError(f"no person {user_id!r} in this workspace")
        return user

    def _channel(self, channel_id: str) -> dict[str, Any]:
        found = (c for c in [*self._ws.channels(), *self._ws.ims()] if c["id"] == channel_id)
        channel = next(found, None)
        if channel is None:
            raise ValueError(f"no conversation {channel_id!r} in this workspace")
        return channel

    # the composer

    async def compose(
        self, *, user_id: str, channel_id: str, text: str, thread_ts: str | None = None
    ) -> Outcome:
        """Text starting with '/' runs a slash command; anything else (a leading space
        included, Slack's way to post "/tmp is full") is a message, in the thread of the
        message `thread_ts` if given. Slash commands carry no thread: they run as if typed in
        the channel, as Slack sends them."""
        is_command = text.startswith("/")
        text = text.strip()
        if not text:
            return Outcome()
        user, channel = self._user(user_id), self._channel(channel_id)
        if not is_command:
            if thread_ts is not None:
                parent = self._ws.find_message(channel_id, thread_ts)
                if parent is None or parent[1]:  # gone, or only ever shown to one person
                    return Outcome(notice="That thread's message is gone.", draft=text)
            escaped = self._typed(text, labelled=False)
            self._ws.add_message(channel_id, user["id"], escaped, thread_ts=thread_ts)
            return Outcome()
        app = self._ws.installed_app
        if app is None:
            return Outcome(notice=NO_APP, draft=text)
        command, *rest = text.split(maxsplit=1)
        fields = payloads.slash_command(
            self._origin(app),
            user=user,
            channel=payloads.channel_ref(channel),
            command=command,
            text=self._typed(rest[0] if rest else "", labelled=True),
            response_url=self._ws.response_url(
                base_url=self._api_url, channel_id=channel_id, user_id=user_id
            ),
            trigger_id=self._ws.new_trigger(user_id),
        )
        reply = await self._client.slash_command(app, fields, command)
        if not reply.ok:
            return Outcome(notice=reply.problem, draft=text)
        self._show_ack(reply, user_id=user_id, channel_id=channel_id, typed=text)
        return Outcome()

    def _typed(self, text: str, *, labelled: bool) -> str:
        """What Slack sends of text a person typed: escaped, "@name" of a member a mention."""
        return payloads.with_mentions(
            payloads.slack_escape(text), self._ws.users(), labelled=labelled
        )

    def _show_ack(self, reply: Reply, *, user_id: str, channel_id: str, typed: str) -> None:
        shown: dict[str, Any] | None = None
        if reply.body is not None and (reply.body.get("text") or reply.body.get("blocks")):
            shown = reply.body
        elif reply.body is None and reply.text.strip():
            shown = {"text": reply.text}  # a plain-text ack is an ephemeral message
        if shown is None:
            return
        if shown.get("response_type") == "in_channel":
            # Slack shares the command as typed along with an in_channel answer.
            self._ws.add_message(channel_id, user_id, self._typed(typed, labelled=False))
        self._ws.show_reply(channel_id, user_id, shown)

    # messages' buttons and selects

    async def click(
        self,
        *,
        user_id: str,
        channel_id: str,
        ts: str,
        block_index: int,
        element: str,
        option: int | None = None,
    ) -> Outcome:
        """`element` is "accessory" or the element's index in an actions block; `option` is
        the chosen option's index for a select."""
        app = self._ws.installed_app
        if app is None:
            return Outcome(notice="Buttons need an installed app to send their clicks to.")
        user, channel = self._user(user_id), self._channel(channel_id)
        found = self._ws.find_message(channel_id, ts)
        if found is None:
            return Outcome(notice="That message is gone (deleted or replaced).")
        message, is_ephemeral = found
        block, clicked = _element(message, block_index, element)
        if clicked is None or block is None:
            return Outcome(notice="That button is no longer in the message.")
        if clicked.get("type") == "static_select":
            options = payloads.options_of(clicked)
            if option is None or not 0 <= option < len(options):
                return Outcome()  # the empty placeholder choice: Slack sends nothing
            clicked = {**clicked, "selected_option": options[option]}
        action = payloads.message_action(block, block_index, clicked, ts=ts)
        if action is None:
            return Outcome(notice=f"The page cannot send {clicked.get('type')} elements yet.")
        payload = payloads.block_actions(
            self._origin(app),
            user=user,
            channel=payloads.channel_ref(channel),
            message=message,
            is_ephemeral=is_ephemeral,
            action=action,
            response_url=self._ws.response_url(
                base_url=self._api_url, channel_id=channel_id, user_id=user_id, message_ts=ts
            ),
            trigger_id=self._ws.new_trigger(user_id),
        )
        reply = await self._client.interaction(app, payload, f"the {action['action_id']} click")
        return Outcome(notice=reply.problem)

    # modals

    async def submit_view(self, *, user_id: str, view_id: str, form: dict[str, str]) -> Outcome:
        view = self._ws.modal_for(user_id)
        if view is None or view["id"] != view_id:
            return Outcome(notice="That form is closed already.")
        values, errors = payloads.state_values(view, form)
        self._ws.set_view_state(view_id, values)  # typed answers survive a re-render
        if errors:
            return Outcome(errors=errors)
        app = self._ws.installed_app
        if app is None:
            return Outcome(notice="No app is installed to send this form to.")
        view["state"] = {"values": values}
        payload = payloads.view_submission(
            self._origin(app),
            user=self._user(user_id),
            view=view,
            trigger_id=self._ws.new_trigger(user_id),
        )
        title = (view.get("title") or {}).get("text", "form")
        reply = await self._client.interaction(app, payload, f"the “{title}” form")
        if not reply.ok:
            return Outcome(notice=reply.problem)
        return self._after_submission(user_id, view_id, reply.body or {})

    def _after_submission(self, user_id: str, view_id: str, ack: dict[str, Any]) -> Outcome:
        action = ack.get("response_action")
        if action == "errors":
            return Outcome(errors=_errors(ack.get("errors")))
        if action in ("update", "push"):
            new_view = ack.get("view")
            if not isinstance(new_view, dict):
                return Outcome(notice=f"The app answered response_action {action} without a view.")
            if action == "update":
                refused = self._ws.replace_view(view_id, new_view)
            else:
                refused = self._ws.push_view(user_id, new_view)
            return Outcome(
                notice=f"Slack refused the app's new view: {refused}" if refused else None
            )
        self._ws.close_view(view_id, whole_stack=action == "clear")
        return Outcome()

    async def close_view(self, *, user_id: str, view_id: str) -> Outcome:
        view = self._ws.modal_for(user_id)
        if view is None or view["id"] != view_id:
            return Outcome()
        self._ws.close_view(view_id)
        app = self._ws.installed_app
        if app is None or not view.get("notify_on_close"):
            return Outcome()
        payload = payloads.view_closed(self._origin(app), user=self._user(user_id), view=view)
        reply = await self._client.interaction(app, payload, "closing the form")
        return Outcome(notice=reply.problem)


def _element(
    message: dict[str, Any], block_index: int, element: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    blocks = message.get("blocks") or []
    if not 0 <= block_index < len(blocks) or not isinstance(blocks[block_index], dict):
        return None, None
    block: dict[str, Any] = blocks[block_index]
    if element == "accessory":
        found = block.get("accessory")
    elif element.isdigit() and int(element) < len(block.get("elements") or []):
        found = block["elements"][int(element)]
    else:
        found = None
    return block, found if isinstance(found, dict) else None


def _errors(raw: Any) -> dict[str, str]:
    """response_action errors: {block_id: message} (a list of {name, error} tolerated)."""
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return {str(e.get("name")): str(e.get("error")) for e in raw if isinstance(e, dict)}
    return {}
