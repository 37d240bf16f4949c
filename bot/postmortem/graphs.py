"""The alert's graph kept beside the postmortem: the last one posted in the incident's channel
(bot.evidence) is saved in the postmortems folder as INC-7-<slug>-alert.png, and the draft
links it. Prometheus keeps its samples for weeks only; the postmortem keeps the picture."""

from __future__ import annotations

from pathlib import Path

from bot.incidents.naming import slugify

SUFFIX = "-alert.png"


def alert_graph_name(*, ref: str, title: str) -> str:
    """INC-7-<slug>-alert.png, next to the draft INC-7-<slug>.md."""
    slug = slugify(title)
    return f"{ref}-{slug}{SUFFIX}" if slug else f"{ref}{SUFFIX}"


def saved_alert_graph(folder: Path, *, ref: str, title: str) -> str | None:
    """The name of the incident's saved graph in `folder`: the one named for its title, else
    (its title changed since) the newest saved for its ref; None when there is none."""
    named = alert_graph_name(ref=ref, title=title)
    if (folder / named).is_file():
        return named
    try:
        # "INC-7-…" only: INC-70's files start "INC-70".
        saved = [
            p
            for p in folder.glob(f"{ref}*{SUFFIX}")
            if p.is_file() and (p.name == f"{ref}{SUFFIX}" or p.name.startswith(f"{ref}-"))
        ]
    except OSError:
        return None
    if not saved:
        return None
    return max(saved, key=lambda p: p.stat().st_mtime).name
