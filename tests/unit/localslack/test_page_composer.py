"""The page's composer: messages as the chosen person, slash commands to the installed app."""

from __future__ import annotations

import hashlib
import hmac

import httpx

from bot.localslack.state import Workspace

from .conftest import ALICE, BOB, KEYED, PAGE, SITE, Call
from .fakeapp import APP_URL, SECRET, FakeApp, reply
from .htmlforms import form_to

SLASH_FIELDS = [
    "token",
    "team_id",
    "team_domain",
    "channel_id",
    "channel_name",
    "user_id",
    "user_name",
    "command",
    "text",
    "api_app_id",
    "is_enterprise_install",
    "response_url",
    "trigger_id",
]


async def send(browser: httpx.AsyncClient, channel: str, text: str) -> httpx.Response:
    """Type into the composer the page draws, and send."""
    page = (await browser.get("/", params={"channel": channel})).text
    form = form_to(page, "/compose")
    assert form.fields["channel"] == channel
    return await browser.post(form.action, data={**form.fields, "text": text})


async def act_as(browser: httpx.AsyncClient, user: str) -> None:
    form = form_to((await browser.get("/")).text, "/as")
    await browser.post(form.action, data={**form.fields, "user": user})


async def test_slash_command_arrives_signed_with_slacks_fields(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str
) -> None:
    app.answer = reply({"response_type": "ephemeral", "text": "*Commands*: declare, help"})

    shown = await send(browser, channel, "/incident help")

    request, form = app.last.request, app.last.form
    assert str(request.url) == APP_URL and request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    # The v0 scheme by hand too: HMAC-SHA256 over "v0:{ts}:{raw body}".
    base = f"v0:{request.headers['X-Slack-Request-Timestamp']}:".encode() + request.content
    expected = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    assert request.headers["X-Slack-Signature"] == expected
    assert list(form) == SLASH_FIELDS
    assert form["command"] == "/incident" and form["text"] == "help"
    assert (form["user_id"], form["user_name"]) == (ALICE, "alice")
    assert (form["channel_id"], form["channel_name"]) == (channel, "inc-1-model-latency")
    assert (form["team_id"], form["team_domain"]) == (ws.team_id, "firebreak-local")
    assert form["api_app_id"] == ws.app_id and form["is_enterprise_install"] == "false"
    assert form["response_url"].startswith(f"{SITE}/localslack/api/respond/")
    assert form["trigger_id"] and form["token"]
    assert shown.status_code == 200
    assert "Only visible to you" in shown.text
    assert "<strong>Commands</strong>: declare, help" in shown.text
    assert [m["text"] for m in ws.ephemeral(channel, ALICE)] == ["*Commands*: declare, help"]
    assert ws.ephemeral(channel, BOB) == []
    assert ws.messages(channel) == []  # the command itself is not shared

    await act_as(browser, BOB)
    as_bob = (await browser.get("/", params={"channel": channel})).text
    assert "Commands" not in as_bob and "Only visible to" not in as_bob


async def test_in_channel_ack_is_shared_with_the_command(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str
) -> None:
    app.answer = reply({"response_type": "in_channel", "text": "INC-7 status: *mitigating*"})

    await send(browser, channel, "/incident status")
    await act_as(browser, BOB)
    as_bob = (await browser.get("/", params={"channel": channel})).text

    assert [(m["user"], m["text"]) for m in ws.messages(channel)] == [
        (ALICE, "/incident status"),
        (ws.bot_user_id, "INC-7 status: *mitigating*"),
    ]
    assert "INC-7 status: <strong>mitigating</strong>" in as_bob
    assert "Only visible to" not in as_bob


async def test_plain_text_and_empty_acks(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str
) -> None:
    app.answer = lambda _: httpx.Response(200, text="Working on it")
    await send(browser, channel, "/incident   declare  SEV1  Checkout <down> & out")
    app.answer = reply()
    await send(browser, channel, "/incident timeline")

    first, second = (r.form for r in app.received)
    assert first["text"] == "declare  SEV1  Checkout &lt;down&gt; &amp; out"  # Slack escapes
    assert first["trigger_id"] != second["trigger_id"]
    assert first["response_url"] != second["response_url"]
    assert [m["text"] for m in ws.ephemeral(channel, ALICE)] == ["Working on it"]
    assert ws.messages(channel) == []


async def test_a_message_posts_as_the_chosen_person_escaped(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str
) -> None:
    await act_as(browser, BOB)
    page = await send(browser, channel, "<script>alert(1)</script> & rollback?")
    await send(browser, channel, " /var is full")  # a leading space makes it a message

    message, path = ws.messages(channel)
    assert message["user"] == BOB
    assert message["text"] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; rollback?"
    assert (path["user"], path["text"]) == (BOB, "/var is full")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; rollback?" in page.text
    assert app.received == []


async def test_the_composer_keeps_a_command_the_app_refused(
    browser: httpx.AsyncClient, app: FakeApp, channel: str
) -> None:
    app.answer = reply({"error": "invalid signature"}, status=401)

    page = await send(browser, channel, "/incident declare")

    assert page.status_code == 200
    assert "The app answered 401 Unauthorized to /incident" in page.text
    assert form_to(page.text, "/compose").fields["text"] == "/incident declare"
    again = (await browser.get("/", params={"channel": channel})).text
    assert "The app answered 401" in again  # the banner outlives one reload
    assert form_to(again, "/compose").fields["text"] == ""  # the draft does not

    dismiss = form_to(again, "/dismiss")
    cleared = await browser.post(dismiss.action, data=dismiss.fields)
    assert "The app answered 401" not in cleared.text


async def test_an_unreachable_app_is_a_banner(
    ws: Workspace, browser: httpx.AsyncClient, app: FakeApp, channel: str
) -> None:
    def refuse(_: object) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed")

    app.answer = refuse
    page = await send(browser, channel, "/incident help")

    assert page.status_code == 200
    assert f"Could not reach the app at {APP_URL} for /incident" in page.text


async def test_without_an_app_messages_still_post(ws: Workspace, call: Call, channel: str) -> None:
    from bot.localslack.page import build_page

    transport = httpx.ASGITransport(app=build_page(ws, access=PAGE))
    async with httpx.AsyncClient(
        transport=transport, base_url=SITE, follow_redirects=True, cookies=KEYED
    ) as browser:
        page = (await browser.get("/", params={"channel": channel})).text
        assert "No app installed" in page and "slash commands need an installed app" in page
        await send(browser, channel, "all hands on deck")
        refused = await send(browser, channel, "/incident help")

    assert [m["text"] for m in ws.messages(channel)] == ["all hands on deck"]
    assert "Slash commands need an installed app" in refused.text
    assert form_to(refused.text, "/compose").fields["text"] == "/incident help"


async def test_the_switcher_lists_people_not_bots(
    browser: httpx.AsyncClient, ws: Workspace, channel: str
) -> None:
    page = (await browser.get("/")).text
    switcher = form_to(page, "/as")
    assert [value for value, _ in switcher.selects["user"]] == [ALICE, BOB]
    assert switcher.fields["user"] == ALICE  # the first person by default

    await act_as(browser, ws.bot_user_id)  # refused: nobody acts as the bot
    assert form_to((await browser.get("/")).text, "/as").fields["user"] == ALICE
    await act_as(browser, BOB)
    assert form_to((await browser.get("/")).text, "/as").fields["user"] == BOB


async def test_someone_elses_direct_messages_are_read_only(
    browser: httpx.AsyncClient, call: Call, channel: str
) -> None:
    im = call("chat.postMessage", channel=BOB, text="You are commander")["channel"]

    page = (await browser.get("/", params={"channel": im})).text

    assert "You are commander" in page
    assert "act as them to write here" in page
    assert 'id="composer"' not in page


async def test_a_post_from_another_site_is_refused(
    browser: httpx.AsyncClient, ws: Workspace, channel: str
) -> None:
    answer = await browser.post(
        "/compose",
        data={"channel": channel, "text": "hi"},
        headers={"Origin": "http://evil.example"},
    )
    same = await browser.post(
        "/compose", data={"channel": channel, "text": "hi"}, headers={"Origin": SITE}
    )

    assert answer.status_code == 403
    assert same.status_code == 200
    assert [m["text"] for m in ws.messages(channel)] == ["hi"]


async def test_the_signing_secret_never_reaches_the_page(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str
) -> None:
    app.answer = reply({"text": "ok"}, status=500)
    await send(browser, channel, "/incident help")
    answers = [
        await browser.get("/", params={"channel": channel}),
        await browser.get("/state.json"),
        await browser.get("/version.json"),
    ]

    assert all(SECRET not in a.text for a in answers)
    assert APP_URL in answers[0].text  # where commands go is shown; how they are signed is not
    assert SECRET not in repr(ws.installed_app)


async def test_version_changes_only_when_the_workspace_does(
    browser: httpx.AsyncClient, ws: Workspace, channel: str
) -> None:
    before = (await browser.get("/version.json")).json()["version"]
    same = (await browser.get("/version.json")).json()["version"]
    ws.add_message(channel, ALICE, "new")
    after = (await browser.get("/version.json")).json()["version"]
    page = (await browser.get("/")).text

    assert before == same != after
    assert f'data-version="{after}"' in page


async def test_a_typed_at_name_reaches_the_app_as_slack_sends_it(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, channel: str
) -> None:
    """Slack, with the app's escaping on, sends "@bob" typed in a slash command as
    <@U…|bob>, and shows it in a message as a mention; an unknown @word, an e-mail address and
    a mention typed whole (escaped, as Slack escapes it) stay as typed."""
    app.answer = reply({"response_type": "ephemeral", "text": "ok"})
    await send(browser, channel, "/incident handoff @BOB & @nobody, mail bob@example.com")
    assert app.last.form["text"] == (f"handoff <@{BOB}|bob> &amp; @nobody, mail bob@example.com")
    await send(browser, channel, f"/incident scribe <@{BOB}>")
    assert app.last.form["text"] == f"scribe &lt;@{BOB}&gt;"

    await send(browser, channel, "@bob can you take the rollback?")
    [message] = ws.messages(channel)
    assert message["text"] == f"<@{BOB}> can you take the rollback?"
    shown = (await browser.get("/", params={"channel": channel})).text
    assert '<span class="ref">@bob</span> can you take the rollback?' in shown
