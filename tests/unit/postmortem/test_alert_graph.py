"""The alert's graph beside the postmortem: the copy bot.evidence keeps in the postmortems
folder is linked from the draft, found by its ref when the title changed since."""

from __future__ import annotations

import os
from pathlib import Path

from bot.config import FirebreakConfig
from bot.context import Context
from bot.postmortem import flows
from bot.postmortem.graphs import alert_graph_name, saved_alert_graph
from tests.domain import incident_with_channel

LINK = "![The alert's graph, from an hour before it fired, with changes to the service]"


async def test_the_draft_links_the_kept_graph(ctx: Context, config: FirebreakConfig) -> None:
    incident = await incident_with_channel(ctx)
    assert LINK not in await flows.draft(ctx, incident_id=incident.id)

    folder = config.postmortem.folder
    folder.mkdir(parents=True)
    name = alert_graph_name(ref=incident.ref, title=incident.title)
    assert name == "INC-1-rankerndcgdrop-on-search-ranker-alert.png"
    (folder / name).write_bytes(b"\x89PNG\r\n\x1a\n")

    markdown = await flows.draft(ctx, incident_id=incident.id)
    assert f"{LINK}(INC-1-rankerndcgdrop-on-search-ranker-alert.png)" in markdown
    path = await flows.write(ctx, incident_id=incident.id)
    assert (path.parent / name).is_file()  # beside the draft, where the link points


def test_a_renamed_incident_finds_its_newest_graph_by_ref(tmp_path: Path) -> None:
    assert saved_alert_graph(tmp_path / "none-yet", ref="INC-7", title="x") is None
    for i, name in enumerate(
        ["INC-7-old-title-alert.png", "INC-7-older-alert.png", "INC-70-other-alert.png"]
    ):
        (tmp_path / name).write_bytes(b"png")
        os.utime(tmp_path / name, (1_000_000 + i, 1_000_000 + (10 if i == 0 else i)))
    assert saved_alert_graph(tmp_path, ref="INC-7", title="New title") == (
        "INC-7-old-title-alert.png"
    )
    assert saved_alert_graph(tmp_path, ref="INC-8", title="x") is None
    assert alert_graph_name(ref="INC-9", title="!!!") == "INC-9-alert.png"
