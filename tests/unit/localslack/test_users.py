"""api.test, auth.test and users.* as answered by Workspace.dispatch."""

from __future__ import annotations

from bot.localslack.state import Workspace

from .conftest import Call

ALICE = "U0ALICE001"


def test_api_test_echoes_and_fails_on_request(ws: Workspace) -> None:
    assert ws.dispatch("api.test", {"foo": "bar"}, None)[2] == {"ok": True, "args": {"foo": "bar"}}
    assert ws.dispatch("api.test", {"error": "my_error"}, None)[2] == {
        "ok": False,
        "error": "my_error",
        "args": {"error": "my_error"},
    }


def test_auth_test_describes_the_bot(call: Call) -> None:
    assert call("auth.test") == {
        "ok": True,
        "url": "http://localslack.invalid/",
        "team": "Firebreak local",
        "user": "firebreak",
        "team_id": "T0LOCAL01",
        "user_id": "U0FIREBOT",
        "bot_id": "B0FIREBOT",
        "is_enterprise_install": False,
    }


def test_auth_test_uses_the_workspace_identity() -> None:
    ws = Workspace(tokens=["t"], team_id="T0OTHER001", bot_user_id="U0B", bot_id="B0B")
    body = ws.dispatch("auth.test", {}, "t")[2]
    assert (body["team_id"], body["user_id"], body["bot_id"]) == ("T0OTHER001", "U0B", "B0B")


def test_users_info(call: Call) -> None:
    user = call("users.info", user=ALICE)["user"]
    assert (user["id"], user["name"], user["real_name"]) == (ALICE, "alice", "Alice Liddell")
    assert user["profile"]["email"] == "alice@example.com"
    assert call("users.info", user="U0NOBODY01") == {"ok": False, "error": "user_not_found"}
    assert call("users.info") == {"ok": False, "error": "user_not_found"}


def test_users_list_paginates(call: Call) -> None:
    first = call("users.list", limit=2)
    assert [u["name"] for u in first["members"]] == ["firebreak", "alice"]
    cursor = first["response_metadata"]["next_cursor"]
    rest = call("users.list", limit=2, cursor=cursor)
    assert [u["name"] for u in rest["members"]] == ["bob"]
    assert rest["response_metadata"]["next_cursor"] == ""


def test_lookup_by_email(call: Call) -> None:
    assert call("users.lookupByEmail", email="Alice@Example.com")["user"]["id"] == ALICE
    assert call("users.lookupByEmail", email="nobody@example.com") == {
        "ok": False,
        "error": "users_not_found",
    }
    assert call("users.lookupByEmail")["error"] == "users_not_found"
