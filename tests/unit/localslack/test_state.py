"""Workspace: authentication, injected failures, the call log and seeding."""

from __future__ import annotations

import threading

import pytest

from bot.localslack.state import Workspace

TOKEN = "xoxb-local-test"
ALICE = "U0ALICE001"


def test_no_token_is_not_authed(ws: Workspace) -> None:
    assert ws.dispatch("auth.test", {}, None) == (
        200,
        {},
        {"ok": False, "error": "not_authed"},
    )


def test_unknown_token_is_invalid_auth_with_http_200(ws: Workspace) -> None:
    status, _, body = ws.dispatch("conversations.create", {"name": "x"}, "xoxb-wrong")
    assert (status, body) == (200, {"ok": False, "error": "invalid_auth"})
    assert ws.channels() == []


def test_api_test_needs_no_token(ws: Workspace) -> None:
    assert ws.dispatch("api.test", {}, None) == (200, {}, {"ok": True})


def test_unknown_method_is_http_404(ws: Workspace) -> None:
    status, _, body = ws.dispatch("chat.postMessages", {}, TOKEN)
    assert status == 404
    assert body == {"ok": False, "error": "unknown_method", "req_method": "chat.postMessages"}


def test_fail_answers_429_with_retry_after_and_changes_nothing(ws: Workspace) -> None:
    ws.fail("conversations.create", retry_after=7)

    status, headers, body = ws.dispatch("conversations.create", {"name": "inc-1"}, TOKEN)

    assert (status, headers, body) == (
        429,
        {"Retry-After": "7"},
        {"ok": False, "error": "ratelimited"},
    )
    assert ws.channels() == []
    assert [(c.method, c.status) for c in ws.calls] == [("conversations.create", 429)]
    # Only the next call fails: the retry goes through.
    status, _, body = ws.dispatch("conversations.create", {"name": "inc-1"}, TOKEN)
    assert (status, body["ok"]) == (200, True)
    assert [c["name"] for c in ws.channels()] == ["inc-1"]


def test_fail_other_status_uses_the_given_error(ws: Workspace) -> None:
    ws.fail("*", status=503, error="service_unavailable", times=2)
    answers = [ws.dispatch(m, {}, TOKEN) for m in ("auth.test", "users.list", "auth.test")]
    assert answers[0] == (503, {}, {"ok": False, "error": "service_unavailable"})
    assert answers[1][0] == 503
    assert answers[2][0] == 200


def test_fail_only_hits_the_named_method(ws: Workspace) -> None:
    ws.fail("chat.postMessage")
    assert ws.dispatch("auth.test", {}, TOKEN)[0] == 200
    assert ws.dispatch("chat.postMessage", {}, TOKEN)[0] == 429


def test_fail_rejects_a_success_status(ws: Workspace) -> None:
    with pytest.raises(ValueError):
        ws.fail("auth.test", status=200)


def test_calls_record_every_call_with_its_answer(ws: Workspace) -> None:
    ws.dispatch("auth.test", {}, TOKEN)
    ws.dispatch("auth.test", {}, "xoxb-wrong")
    ws.dispatch("nope.nope", {"a": "1"}, None)

    assert [(c.method, c.status, c.token) for c in ws.calls] == [
        ("auth.test", 200, TOKEN),
        ("auth.test", 200, "xoxb-wrong"),
        ("nope.nope", 404, None),
    ]
    assert ws.calls[1].response == {"ok": False, "error": "invalid_auth"}
    assert ws.calls[2].args == {"a": "1"}
    assert [c.token for c in ws.calls_to("auth.test")] == [TOKEN, "xoxb-wrong"]
    assert ws.calls[0].at <= ws.calls[2].at


def test_answers_and_reads_are_copies(ws: Workspace, channel: str) -> None:
    _, _, body = ws.dispatch("chat.postMessage", {"channel": channel, "text": "hi"}, TOKEN)
    body["message"]["text"] = "tampered"
    ws.messages(channel)[0]["text"] = "tampered too"
    assert ws.messages(channel)[0]["text"] == "hi"
    assert ws.calls_to("chat.postMessage")[0].response["message"]["text"] == "hi"


def test_bot_user_always_exists(ws: Workspace) -> None:
    bot = next(u for u in ws.users() if u["id"] == "U0FIREBOT")
    assert (bot["name"], bot["is_bot"], bot["deleted"]) == ("firebreak", True, False)


def test_add_user_returns_a_slack_user_object(ws: Workspace) -> None:
    user = ws.add_user("U0CAROL001", "carol", email="carol@example.com", real_name="Carol D")
    assert user == {
        "id": "U0CAROL001",
        "team_id": "T0LOCAL01",
        "name": "carol",
        "real_name": "Carol D",
        "is_bot": False,
        "deleted": False,
        "profile": {"real_name": "Carol D", "display_name": "", "email": "carol@example.com"},
    }


def test_ensure_channel_creates_once_and_adds_members(ws: Workspace) -> None:
    first = ws.ensure_channel("#incidents")
    again = ws.ensure_channel("incidents", members=[ALICE])

    assert first["id"] == again["id"]
    assert (again["name"], again["is_private"], again["is_member"]) == ("incidents", False, True)
    assert again["num_members"] == 2
    assert ws.channel_by_name("incidents") == again
    assert len(ws.channels()) == 1


@pytest.mark.parametrize("name", ["Incidents", "", "a" * 81, "--"])
def test_ensure_channel_refuses_names_slack_refuses(ws: Workspace, name: str) -> None:
    with pytest.raises(ValueError):
        ws.ensure_channel(name)
    assert ws.channels() == []


def test_ensure_channel_refuses_unknown_members(ws: Workspace) -> None:
    with pytest.raises(ValueError, match="U0NOBODY"):
        ws.ensure_channel("incidents", members=["U0NOBODY"])


def test_add_message_posts_as_a_person(ws: Workspace, channel: str) -> None:
    message = ws.add_message(channel, ALICE, "on it")
    assert (message["user"], message["text"], "bot_id" in message) == (ALICE, "on it", False)
    assert ws.messages(channel) == [message]
    with pytest.raises(ValueError):
        ws.add_message("C0NOTHERE0", ALICE, "x")


def test_concurrent_posts_get_distinct_increasing_ts(ws: Workspace, channel: str) -> None:
    def post() -> None:
        for _ in range(25):
            ws.dispatch("chat.postMessage", {"channel": channel, "text": "x"}, TOKEN)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stamps = [m["ts"] for m in ws.messages(channel)]
    assert len(stamps) == 100
    assert len(set(stamps)) == 100
    assert stamps == sorted(stamps, key=lambda ts: tuple(map(int, ts.split("."))))


def test_direct_messages_and_ims(ws: Workspace, channel: str) -> None:
    assert ws.direct_messages(ALICE) == []
    _, _, body = ws.dispatch("chat.postMessage", {"channel": ALICE, "text": "hi"}, TOKEN)
    im = body["channel"]
    reply = ws.add_message(im, ALICE, "hello bot")

    assert [m["text"] for m in ws.direct_messages(ALICE)] == ["hi", "hello bot"]
    assert ws.direct_messages(ALICE)[1] == reply
    assert [(i["id"], i["user"]) for i in ws.ims()] == [(im, ALICE)]
    assert [c["id"] for c in ws.channels()] == [channel]  # IMs are not channels


def test_ephemeral_and_views_reads_are_copies(ws: Workspace, channel: str) -> None:
    ws.dispatch("conversations.invite", {"channel": channel, "users": ALICE}, TOKEN)
    ws.dispatch("chat.postEphemeral", {"channel": channel, "user": ALICE, "text": "x"}, TOKEN)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    ws.dispatch("views.open", {"trigger_id": "t", "view": view}, TOKEN)

    ws.ephemeral(channel)[0]["text"] = "tampered"
    ws.views()[0]["title"]["text"] = "tampered"

    assert ws.ephemeral(channel)[0]["text"] == "x"
    assert ws.views()[0]["title"]["text"] == "T"
    assert ws.ephemeral("C0NOTHERE0") == []


def test_app_id_is_configurable(ws: Workspace) -> None:
    assert ws.app_id == "A0FIREBOT"
    other = Workspace(tokens=[TOKEN], app_id="A0OTHER001")
    other.dispatch(
        "views.open",
        {
            "trigger_id": "t",
            "view": {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []},
        },
        TOKEN,
    )
    assert other.views()[0]["app_id"] == "A0OTHER001"
