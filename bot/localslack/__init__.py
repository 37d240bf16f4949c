"""A local stand-in for the Slack Web API, for development and tests.

`Workspace` holds the state and answers calls; `build_api` serves it over HTTP the way
slack_sdk expects (Socket Mode's WebSocket included), `build_page` serves a small Slack
client in a browser (act as a person, type messages and slash commands, click buttons, fill
modals; requests go signed to the app set with `Workspace.install_app`), and
`LocalSlackServer` runs the API on a free port in a background thread and delivers Socket
Mode envelopes to the app under test.
"""

from bot.localslack.api import API_PREFIX, build_api
from bot.localslack.page import build_page
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import RecordedCall, Workspace

__all__ = [
    "API_PREFIX",
    "LocalSlackServer",
    "RecordedCall",
    "Workspace",
    "build_api",
    "build_page",
]
