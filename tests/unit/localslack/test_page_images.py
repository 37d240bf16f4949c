"""Images shared in a channel show inline on the page, as Slack shows them, and are served with
their own type from the page's file URL; only PNG, JPEG and GIF whose bytes are what their name
says. An SVG (which can carry script) or anything else still downloads."""

from __future__ import annotations

import json
import struct
import zlib

import httpx
import pytest

from bot.localslack.api import API_PREFIX

from .conftest import KEYED, SITE, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SANDBOX = "default-src 'none'; sandbox"


def png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, one red pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = png_1x1()
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"  # noqa: E501
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)


async def shared(
    browser: httpx.AsyncClient, channel: str, name: str, data: bytes, title: str | None = None
) -> str:
    """Slack's upload flow over HTTP, as slack_sdk's files_upload_v2 makes it; the file id."""
    asked = await browser.post(
        f"{API_PREFIX}/files.getUploadURLExternal",
        data={"filename": name, "length": str(len(data))},
        headers=AUTH,
    )
    got = asked.json()
    assert got["ok"], got
    uploaded = await browser.post(got["upload_url"], content=data)
    assert uploaded.text == f"OK - {len(data)}"
    item = {"id": got["file_id"], **({"title": title} if title else {})}
    completed = await browser.post(
        f"{API_PREFIX}/files.completeUploadExternal",
        data={"files": json.dumps([item]), "channel_id": channel},
        headers=AUTH,
    )
    assert completed.json()["ok"], completed.json()
    return str(got["file_id"])


async def test_a_png_is_shown_inline_and_served_as_a_png(
    browser: httpx.AsyncClient, channel: str
) -> None:
    file_id = await shared(
        browser, channel, "INC-7-budget.png", PNG, title='INC-7 burn-down <b>"x"</b> & co'
    )

    html = (await browser.get("/", params={"channel": channel})).text

    url = f"{SITE}/files/{file_id}"
    assert (
        f'<a href="{url}" class="file-image"><img src="{url}" '
        'alt="INC-7 burn-down &lt;b&gt;&#34;x&#34;&lt;/b&gt; &amp; co" loading="lazy"></a>'
    ) in html
    assert "INC-7-budget.png</a>" in html  # its name still links to it, as for every file
    served = await browser.get(f"/files/{file_id}")
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"].startswith('inline; filename="INC-7-budget.png"')
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == SANDBOX


@pytest.mark.parametrize(
    ("name", "data", "mimetype"),
    [
        ("shot.jpg", JPEG, "image/jpeg"),
        ("shot.jpeg", JPEG, "image/jpeg"),
        ("a.gif", GIF, "image/gif"),
    ],
)
async def test_jpeg_and_gif_too(
    browser: httpx.AsyncClient, channel: str, name: str, data: bytes, mimetype: str
) -> None:
    file_id = await shared(browser, channel, name, data)

    html = (await browser.get("/", params={"channel": channel})).text

    assert f'<img src="{SITE}/files/{file_id}" alt="{name}"' in html  # no title: its name
    served = await browser.get(f"/files/{file_id}")
    assert served.headers["content-type"] == mimetype and served.content == data


async def test_an_svg_is_never_an_image_of_the_page(
    browser: httpx.AsyncClient, channel: str
) -> None:
    file_id = await shared(browser, channel, "chart.svg", SVG)

    html = (await browser.get("/", params={"channel": channel})).text
    served = await browser.get(f"/files/{file_id}")

    assert "chart.svg" in html and 'class="file-image"' not in html and "<script>alert" not in html
    assert "svg" not in served.headers["content-type"]
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == SANDBOX


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("page.png", b"<html><script>alert(1)</script></html>"),  # a PNG by its name only
        ("pixel.gif", PNG),  # a PNG by its bytes, named a GIF: the two disagree
        ("pixel.bin", PNG),  # a PNG by its bytes, not by its name
        ("page.html", b"<html><body>hello</body></html>"),
    ],
)
async def test_bytes_and_name_must_agree(
    browser: httpx.AsyncClient, channel: str, name: str, data: bytes
) -> None:
    file_id = await shared(browser, channel, name, data)

    html = (await browser.get("/", params={"channel": channel})).text
    served = await browser.get(f"/files/{file_id}")

    assert 'class="file-image"' not in html and f'<img src="{SITE}/files/' not in html
    assert not served.headers["content-type"].startswith(("image/", "text/html"))
    assert served.headers["x-content-type-options"] == "nosniff"


async def test_the_image_keeps_the_pages_access_checks(
    browser: httpx.AsyncClient, channel: str
) -> None:
    file_id = await shared(browser, channel, "INC-7-budget.png", PNG)

    transport = browser._transport
    async with httpx.AsyncClient(transport=transport, base_url=SITE) as keyless:
        refused = await keyless.get(f"/files/{file_id}")
    # A DNS-rebinding page: the key's cookie, another host.
    async with httpx.AsyncClient(
        transport=transport, base_url="http://evil.example", cookies=KEYED
    ) as rebound:
        elsewhere = await rebound.get(f"/files/{file_id}")

    assert refused.status_code == 403 and refused.content != PNG
    assert elsewhere.status_code == 403
