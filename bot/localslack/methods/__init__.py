"""The Web API methods the stand-in knows, by Slack's method name.

Each handler reads its arguments, raises `SlackError` for any refusal before it changes
anything, and returns the success body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.localslack.args import Args
from bot.localslack.methods import chat, conversations, files, items, users, views
from bot.localslack.store import Store

Handler = Callable[[Store, Args], dict[str, Any]]

# The only method Slack answers without a token.
NO_AUTH = frozenset({"api.test"})

# Methods that take an app-level token (xapp-) and no other. They act on the app's
# connections rather than on the Store, so the Workspace answers them itself.
APP_METHODS = frozenset({"apps.connections.open"})

METHODS: dict[str, Handler] = {
    "api.test": users.api_test,
    "auth.test": users.auth_test,
    "chat.getPermalink": chat.get_permalink,
    "chat.postEphemeral": chat.post_ephemeral,
    "chat.postMessage": chat.post_message,
    "chat.update": chat.update,
    "conversations.archive": conversations.archive,
    "conversations.create": conversations.create,
    "conversations.history": conversations.history,
    "conversations.info": conversations.info,
    "conversations.invite": conversations.invite,
    "conversations.join": conversations.join,
    "conversations.leave": conversations.leave,
    "conversations.list": conversations.list_,
    "conversations.members": conversations.members,
    "conversations.open": conversations.open_,
    "conversations.replies": conversations.replies,
    "conversations.setPurpose": conversations.set_purpose,
    "conversations.setTopic": conversations.set_topic,
    "files.completeUploadExternal": files.complete_upload_external,
    "files.getUploadURLExternal": files.get_upload_url_external,
    "files.info": files.info,
    "pins.add": items.pins_add,
    "pins.list": items.pins_list,
    "pins.remove": items.pins_remove,
    "reactions.add": items.reactions_add,
    "users.info": users.info,
    "users.list": users.list_,
    "users.lookupByEmail": users.lookup_by_email,
    "views.open": views.open_,
    "views.push": views.push,
    "views.update": views.update,
}
