"""Slack's file upload flow (files.getUploadURLExternal, the upload URL,
files.completeUploadExternal), files.info, and shared files on the page."""

from __future__ import annotations

import json

import httpx
import pytest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.localslack.api import API_PREFIX
from bot.localslack.mrkdwn import emoji
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace

from .conftest import SITE, TOKEN, Call

REPORT = "# INC-7 postmortem\n\n" + "".join(f"- step {i}\n" for i in range(1, 31))
PAYLOAD = REPORT.encode()


@pytest.fixture
def slack(server: LocalSlackServer) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=server.base_url)


def _upload(ws: Workspace, call: Call, data: bytes = PAYLOAD, name: str = "INC-7.md") -> str:
    """Steps 1 and 2, without HTTP; returns the file id."""
    got = call("files.getUploadURLExternal", filename=name, length=str(len(data)))
    assert got["ok"], got
    assert ws.receive_upload(got["file_id"], data) == (200, f"OK - {len(data)}")
    return str(got["file_id"])


async def test_files_upload_v2_shares_the_file_in_the_channel(
    slack: AsyncWebClient, server: LocalSlackServer, ws: Workspace
) -> None:
    channel = (await slack.conversations_create(name="inc-7-checkout"))["channel"]["id"]

    sent = await slack.files_upload_v2(
        channel=channel,
        content=REPORT,
        filename="INC-7.md",
        title="INC-7 postmortem",
        initial_comment="Postmortem draft for INC-7",
    )

    file = sent["file"]  # the SDK copies files[0] here for a single upload
    assert file["id"].startswith("F") and sent["files"] == [file]
    assert file["name"] == "INC-7.md" and file["title"] == "INC-7 postmortem"
    assert file["size"] == len(PAYLOAD) and file["mimetype"] == "text/markdown"
    assert file["filetype"] == "markdown" and file["channels"] == [channel]
    assert file["url_private"].startswith(server.base_url + "files-pri/")
    assert file["permalink"].endswith(f"/files/{ws.bot_user_id}/{file['id']}/INC-7.md")

    # What the SDK sent: getUploadURLExternal with filename and length, then complete
    # with files as a JSON string and channel_id; no files.info.
    methods = [c.method for c in ws.calls]
    assert methods == [
        "conversations.create",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    asked = ws.calls_to("files.getUploadURLExternal")[0]
    assert asked.args["filename"] == "INC-7.md" and asked.args["length"] == str(len(PAYLOAD))
    assert asked.response["upload_url"] == f"{server.base_url}upload/{file['id']}"
    completed = ws.calls_to("files.completeUploadExternal")[0].args
    assert json.loads(completed["files"]) == [{"id": file["id"], "title": "INC-7 postmortem"}]
    assert completed["channel_id"] == channel
    assert completed["initial_comment"] == "Postmortem draft for INC-7"

    history = await slack.conversations_history(channel=channel)
    shared = history["messages"][0]
    assert shared["text"] == "Postmortem draft for INC-7" and shared["user"] == ws.bot_user_id
    assert [f["id"] for f in shared["files"]] == [file["id"]]
    assert shared["files"][0]["size"] == len(PAYLOAD)
    assert shared["files"][0]["shares"]["public"][channel][0]["ts"] == shared["ts"]

    assert ws.file_content(file["id"]) == PAYLOAD
    assert [f["id"] for f in ws.files()] == [file["id"]]
    assert (await slack.files_info(file=file["id"]))["file"]["title"] == "INC-7 postmortem"

    async with httpx.AsyncClient() as http:
        denied = await http.get(file["url_private"])
        fetched = await http.get(
            file["url_private_download"], headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert denied.status_code == 403
    assert fetched.status_code == 200 and fetched.content == PAYLOAD
    assert fetched.headers["content-disposition"].startswith("attachment;")


async def test_files_upload_v2_errors_surface_as_slack_errors(
    slack: AsyncWebClient, ws: Workspace
) -> None:
    ws.ensure_channel("elsewhere")
    outside = ws.channel_by_name("elsewhere")
    assert outside is not None
    # The bot is in every channel ensure_channel makes; leave to be outside it.
    await slack.conversations_leave(channel=outside["id"])

    with pytest.raises(SlackApiError) as refused:
        await slack.files_upload_v2(channel=outside["id"], content="x", filename="a.txt")
    assert refused.value.response["error"] == "not_in_channel"
    with pytest.raises(SlackApiError) as missing:
        await slack.files_upload_v2(channel="C0NOSUCH00", content="x", filename="a.txt")
    assert missing.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as empty:
        await slack.files_upload_v2(channel=outside["id"], content=b"", filename="a.txt")
    assert empty.value.response["error"] == "missing_argument"
    # A refused completion leaves the upload unshared, and so out of ws.files().
    assert ws.files() == []


async def test_upload_url_checks_the_file_and_its_length(
    server: LocalSlackServer, ws: Workspace, call: Call
) -> None:
    got = call("files.getUploadURLExternal", filename="notes.txt", length=5)
    url = got["upload_url"].replace("localslack.invalid/api", server.base_url[7:].rstrip("/"))

    async with httpx.AsyncClient() as http:
        short = await http.post(url, content=b"abc")
        unknown = await http.post(url.replace(got["file_id"], "F0NOSUCH00"), content=b"abcde")
        form = await http.post(url, files={"filename": ("notes.txt", b"hello")})
    assert (short.status_code, short.text) == (400, "length mismatch: expected 5 bytes, got 3")
    assert unknown.status_code == 404
    assert (form.status_code, form.text) == (200, "OK - 5")
    assert form.headers["content-type"].startswith("text/plain")
    assert ws.file_content(got["file_id"]) == b"hello"


def test_get_upload_url_errors(call: Call) -> None:
    no_name = call("files.getUploadURLExternal", length=3)
    assert no_name["error"] == "invalid_arguments"
    assert no_name["response_metadata"]["messages"] == ["[ERROR] missing required field: filename"]
    assert call("files.getUploadURLExternal", filename="a.md")["error"] == "invalid_arguments"
    assert (
        call("files.getUploadURLExternal", filename="a.md", length="x")["error"]
        == "invalid_arguments"
    )
    assert call("files.getUploadURLExternal", filename="a.md", length=0)["error"] == (
        "missing_argument"
    )
    too_long = call("files.getUploadURLExternal", filename="a.png", length=3, alt_txt="x" * 1001)
    assert too_long["error"] == "alt_txt_too_large"


def test_complete_upload_errors_change_nothing(ws: Workspace, call: Call, channel: str) -> None:
    pending = call("files.getUploadURLExternal", filename="a.md", length=3)["file_id"]
    done = _upload(ws, call)

    def complete(**args: object) -> str:
        return str(call("files.completeUploadExternal", **args).get("error"))

    assert complete() == "invalid_arguments"
    assert complete(files="not json") == "invalid_arguments"
    assert complete(files=json.dumps([{"title": "no id"}])) == "invalid_arguments"
    # Reserved but never uploaded to, or never reserved at all.
    assert complete(files=json.dumps([{"id": pending}])) == "file_not_found"
    assert complete(files=json.dumps([{"id": "F0NOSUCH00"}])) == "file_not_found"
    listed = json.dumps([{"id": done}])
    assert complete(files=listed, channel_id="C0NOSUCH00") == "channel_not_found"
    assert ws.files() == [] and ws.messages(channel) == []

    answer = call("files.completeUploadExternal", files=listed, channel_id=channel)
    assert answer["ok"] and answer["files"][0]["title"] == "INC-7.md"  # title: the name
    assert ws.messages(channel)[0]["text"] == ""
    # Completing twice: the upload ticket is spent.
    assert complete(files=listed, channel_id=channel) == "file_not_found"
    assert ws.receive_upload(done, PAYLOAD)[0] == 404


def test_complete_without_a_channel_keeps_the_file_private(ws: Workspace, call: Call) -> None:
    file_id = _upload(ws, call)
    answer = call("files.completeUploadExternal", files=[{"id": file_id, "title": "Draft"}])
    assert answer["files"][0]["channels"] == [] and answer["files"][0]["shares"] == {}
    assert call("files.info", file=file_id)["file"]["title"] == "Draft"
    assert call("files.info", file="F0NOSUCH00")["error"] == "file_not_found"
    assert ws.shared_file(file_id) is None


def test_a_file_in_a_thread(ws: Workspace, call: Call, channel: str) -> None:
    parent = call("chat.postMessage", channel=channel, text="INC-7 declared")["ts"]
    file_id = _upload(ws, call)
    call(
        "files.completeUploadExternal",
        files=json.dumps([{"id": file_id}]),
        channel_id=channel,
        thread_ts=parent,
        initial_comment="timeline",
    )
    reply = ws.messages(channel)[1]
    assert reply["thread_ts"] == parent and reply["files"][0]["id"] == file_id
    assert ws.messages(channel)[0]["reply_count"] == 1


async def test_page_shows_the_file_and_serves_it(
    browser: httpx.AsyncClient, ws: Workspace, call: Call, channel: str
) -> None:
    report = REPORT + "<script>alert(1)</script>\n"
    file_id = _upload(ws, call, report.encode(), name="INC-7 <b>.md")
    call(
        "files.completeUploadExternal",
        files=json.dumps([{"id": file_id, "title": "INC-7 postmortem"}]),
        channel_id=channel,
        initial_comment="Postmortem draft",
    )

    html = (await browser.get("/", params={"channel": channel})).text

    assert "Postmortem draft" in html
    assert "INC-7 &lt;b&gt;.md" in html and "<b>.md" not in html
    assert f'class="file-name">{emoji("page_facing_up")} INC-7 &lt;b&gt;.md</a>' in html
    assert f"{len(report.encode())} B" in html  # the size, under a kilobyte
    assert f'href="{SITE}/files/{file_id}"' in html
    assert "# INC-7 postmortem" in html and "- step 18" in html
    assert "- step 19" not in html  # 20 lines of preview: the heading, a blank, 18 steps
    assert "<script>alert(1)" not in html

    served = await browser.get(f"/files/{file_id}")
    assert served.status_code == 200 and served.content == report.encode()
    assert served.headers["content-type"] == "text/plain; charset=utf-8"
    assert served.headers["content-disposition"].startswith("inline;")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert (await browser.get("/files/F0NOSUCH00")).status_code == 404


async def test_page_downloads_binary_files(
    browser: httpx.AsyncClient, ws: Workspace, call: Call, channel: str
) -> None:
    file_id = _upload(ws, call, b"<html><script>x</script>", name="graph.html.png")
    call("files.completeUploadExternal", files=json.dumps([{"id": file_id}]), channel_id=channel)

    served = await browser.get(f"/files/{file_id}")

    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"] == (
        "attachment; filename=\"graph.html.png\"; filename*=UTF-8''graph.html.png"
    )
    html = (await browser.get("/", params={"channel": channel})).text
    assert "graph.html.png" in html and 'class="preview"' not in html


async def test_upload_urls_follow_the_mount(browser: httpx.AsyncClient, call: Call) -> None:
    got = await browser.post(
        f"{API_PREFIX}/files.getUploadURLExternal",
        data={"filename": "a.txt", "length": "2"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    url = got.json()["upload_url"]
    assert url == f"{SITE}{API_PREFIX}/upload/{got.json()['file_id']}"
    posted = await browser.post(url, content=b"hi")
    assert posted.text == "OK - 2"


async def test_sdk_refuses_to_send_nothing(slack: AsyncWebClient) -> None:
    with pytest.raises(SlackRequestError):
        await slack.files_upload_v2(channel="C1", filename="a.md")
