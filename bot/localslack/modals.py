"""Which modal a person sees, and closing it: the client's side of views (not locked; the
Workspace holds the lock).

Views opened with a trigger the page handed to a person are that person's; a stack shares
its root's owner, and the newest view in it is the one on top.
"""

from __future__ import annotations

from typing import Any

from bot.localslack.store import Store


def modal_for(store: Store, user_id: str) -> dict[str, Any] | None:
    """The top view of the newest stack `user_id` opened, or None."""
    opened = {
        view_id
        for trigger, view_id in store.trigger_views.items()
        if store.trigger_users.get(trigger) == user_id
    }
    roots = {v["root_view_id"] for v in store.views.values() if v["id"] in opened}
    mine = [v for v in store.views.values() if v["root_view_id"] in roots]
    return mine[-1] if mine else None


def close(store: Store, view_id: str) -> None:
    """Close one view (a submission acked empty, or Cancel): the one under it shows again."""
    store.views.pop(view_id, None)


def clear(store: Store, view_id: str) -> None:
    """Close the whole stack `view_id` is in (response_action: clear)."""
    view = store.views.get(view_id)
    if view is None:
        return
    root = view["root_view_id"]
    for other in [v["id"] for v in store.views.values() if v["root_view_id"] == root]:
        del store.views[other]


def set_state(store: Store, view_id: str, values: dict[str, Any]) -> None:
    """Record what the person typed, as Slack keeps it in the view's state."""
    view = store.views.get(view_id)
    if view is not None:
        view["state"] = {"values": values}
