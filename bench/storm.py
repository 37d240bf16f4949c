"""The alert storm against a real `firebreak serve`, side by side with a no-op endpoint.

One server process (FIREBREAK_BENCH_NOOP=1 mounts POST /bench/noop on it), the Slack stand-in
in this process, and the load generator (bench/load.py) in a process of its own:

1. the storm against /bench/noop: the ceiling of this server setup on this machine;
2. the storm against /webhooks/alertmanager, while this process sends a signed `/incident list`
   command every half second and times its ack;
3. once the bot has finished its Slack work: incidents and channels are counted, every alert
   occurrence sent is looked for in GET /api/incidents/{id}, and each group's announcement is
   timed from the moment its first notification was sent;
4. a paced run (`--rate` notifications/s over new groups): webhook latency at that rate.

Run: .venv/bin/python -m bench.storm [--notifications 20000 --groups 200] [--postgres]
[--profile out.txt]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.alert_to_announcement import first_posts
from bench.server import Bot, one_database, profiled, running_bot, workspace
from bench.stats import Progress, percentiles
from bench.storm_plan import Plan, plan
from bot.evidence.adapters.drawing import IDLE_S
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from tests.prometheus import prometheus_stub

ROOT = Path(__file__).parent.parent
SETTLE_S = 180.0
COMMAND_EVERY_S = 0.5
SETTLE_DRAWING_S = IDLE_S + 30  # the longest the RSS waits for the drawing process to stop


@dataclass
class Load:
    """What bench/load.py reported."""

    sent: int
    failed: int
    errors: int
    statuses: dict[str, int]
    changed_ms: list[float]  # latencies of the notifications that changed something
    unchanged_ms: list[float]
    elapsed_s: float
    first_sent: dict[str, float]
    cpu_s: float = 0.0  # the serve process's CPU meanwhile (filled in by storm())
    sender_cpu_s: float = 0.0  # the load generator's own CPU

    @property
    def latencies_ms(self) -> list[float]:
        return self.changed_ms + self.unchanged_ms

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s else 0.0


@dataclass
class Check:
    """The storm's invariants, read back from the bot and the stand-in."""

    incidents: int = 0
    channels: int = 0
    announced: int = 0
    occurrences_sent: int = 0
    lost: int = 0  # occurrences sent but not stored, or sent resolved but stored firing
    announce_ms: list[float] = field(default_factory=list)
    cpu_at_announced: float = 0.0  # the serve process's CPU seconds once all were announced
    # Then, once no chat work is left (no background task, nothing in the Slack outbox):
    cpu_at_idle: float = 0.0
    idle_after_s: float = 0.0  # from all announced
    stale_cards: int = 0  # channel cards whose "Alerts firing" is not what the bot stored
    graphs: int = 0  # incidents whose channel got the alert's graph (a PNG)
    children_cpu_at_idle: float = 0.0  # the serve process's children's (chat, drawing)
    errors: list[str] = field(default_factory=list)  # what the bot logged at ERROR meanwhile


@dataclass
class StormResult:
    notifications: int
    groups: int
    concurrency: int
    noop: Load
    storm: Load
    check: Check
    ack_ms: list[float]
    ack_failed: int  # not acked within Slack's 3 s
    rss_idle_mb: float
    rss_after_mb: float
    settled_cpu_s: float  # the serve process's CPU from the storm's start until all announced
    idle_cpu_s: float  # … until no chat work was left
    graphs: bool  # the alerts' Prometheus answered (a stand-in in this process): graphs drawn
    drawing_cpu_s: float  # the serve process's children's CPU, from the storm to no chat work
    rss_children_mb: float  # the chat and drawing processes' after the storm
    rss_chat_mb: float  # the chat process's alone
    rss_settled_mb: float  # serve and its children, once the drawing process stopped (IDLE_S)
    rss_settled_after_s: float  # from rss_after_mb
    pss_settled_mb: float  # the same processes' PSS: what they share counted once
    paced: Load | None = None
    repeats: Load | None = None  # the same storm sent again: every notification a repeat
    paced_rate: float | None = None
    paced_check: Check | None = None


def load(
    bot: Bot,
    path: str,
    *,
    notifications: int,
    groups: int,
    prefix: str,
    concurrency: int,
    out: Path,
    rate: float | None = None,
) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "bench.load",
        bot.url,
        path,
        f"--notifications={notifications}",
        f"--groups={groups}",
        f"--prefix={prefix}",
        f"--concurrency={concurrency}",
        f"--out={out}",
    ]
    if rate:
        args.append(f"--rate={rate}")
    return subprocess.Popen(args, cwd=ROOT)


def finished(proc: subprocess.Popen[bytes], out: Path) -> Load:
    if proc.wait() != 0:
        raise RuntimeError(f"the load generator failed with exit code {proc.returncode}")
    return Load(**json.loads(out.read_text()))


def check(bot: Bot, storm: Plan, first_sent: dict[str, float], prefix: str) -> Check:
    """Wait (up to SETTLE_S) for every group's announcement, then compare with what was sent."""
    expected = {g.key: g for g in storm.groups}
    result = Check(occurrences_sent=sum(len(g.occurrences) for g in storm.groups))
    deadline = time.monotonic() + SETTLE_S
    while True:
        listed = [
            i
            for i in bot.http.get("/api/incidents", params={"limit": 1000}).json()
            if i["title"].startswith(prefix)
        ]
        channels = [i["channel_id"] for i in listed if i["channel_id"]]
        posted_at = first_posts(bot.workspace)
        announced = [c for c in channels if c in posted_at]
        if len(announced) >= len(expected) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    result.cpu_at_announced = bot.cpu_s()  # before this check's own reads below
    announced_by = time.monotonic()
    while not chat_idle(bot) and time.monotonic() < deadline:
        time.sleep(0.5)
    result.cpu_at_idle, result.idle_after_s = bot.cpu_s(), time.monotonic() - announced_by
    result.children_cpu_at_idle = bot.children_cpu_s()
    result.incidents = len(listed)
    result.announced = len(announced)
    result.channels = sum(
        1
        for call in bot.workspace.calls_to("conversations.create")
        if call.response.get("ok")
        and call.args.get("name", "").startswith("inc-")
        and prefix.lower() in call.args["name"]
    )
    graphed = {
        channel
        for f in bot.workspace.files()
        if f["name"].endswith("-alert.png")
        for channel in f["channels"]
    }
    seen: set[str] = set()
    for summary in listed:
        detail = bot.http.get(f"/api/incidents/{summary['id']}").json()
        group = expected.get(detail["group_key"])
        if group is None:
            continue
        seen.add(group.key)
        stored = {
            (o["fingerprint"], datetime.fromisoformat(o["starts_at"])): o["status"] == "resolved"
            for o in detail["occurrences"]
        }
        for key, resolved in group.occurrences.items():
            if key not in stored or (resolved and not stored[key]):
                result.lost += 1
        result.graphs += detail["channel_id"] in graphed
        posted = posted_at.get(detail["channel_id"] or "")
        if posted is not None and group.key in first_sent:
            result.announce_ms.append((posted - first_sent[group.key]) * 1000)
        firing = sum(o["status"] == "firing" for o in detail["occurrences"])
        result.stale_cards += card_firing(bot.workspace, detail["channel_id"] or "") != firing
    result.lost += sum(len(g.occurrences) for g in storm.groups if g.key not in seen)
    result.errors = bot.errors_logged()
    for line in result.errors[:5]:  # for whoever runs it: a late announcement may say why here
        print(f"bench: the bot logged: {line}", file=sys.stderr)
    return result


def chat_idle(bot: Bot) -> bool:
    """No chat work left in the bot: no background task, in the serving process or the chat
    process, and no Slack call stored and unsent."""
    ready = bot.http.get("/readyz").json()
    away = ready.get("chat_process", {"pending": 0})["pending"]
    return bool(ready["background_tasks"] == 0 == away and ready["slack_outbox"]["pending"] == 0)


def card_firing(space: Workspace, channel_id: str) -> int | None:
    """The "Alerts firing" the channel's announcement shows now (0 when it shows none)."""
    first = next(
        (
            c.response["ts"]
            for c in space.calls_to("chat.postMessage")
            if c.response.get("channel") == channel_id
        ),
        None,
    )
    for message in space.messages(channel_id):
        if message.get("ts") == first:
            for block in message.get("blocks", []):
                for f in block.get("fields", []):
                    label, _, value = f.get("text", "").partition("\n")
                    if label == "*Alerts firing*":
                        return int(value)
            return 0
    return None


def storm(
    tmp: Path,
    slack: LocalSlackServer,
    *,
    database_url: str,
    notifications: int,
    groups: int,
    concurrency: int = 32,
    paced_rate: float | None = 500.0,
    paced_notifications: int = 2500,
    profile: Path | None = None,
    graphs: bool = True,
    settle_s: float = SETTLE_DRAWING_S,
    one_process: bool = False,
) -> StormResult:
    """`one_process`: the chat follow-ups in the serve process (FIREBREAK_CHAT_PROCESS=false)."""
    where = " in one process" if one_process else ""
    progress = Progress(f"storm on {database_url.partition(':')[0]}{where}")
    with (
        graph_source(tmp, graphs=graphs) as env,
        running_bot(
            tmp,
            slack,
            database_url=database_url,
            env={**env, "FIREBREAK_CHAT_PROCESS": "false"} if one_process else env,
            log_name="storm.log",
        ) as bot,
    ):
        time.sleep(1.5)  # start-up work (the chat set-up sweep) is over
        rss_idle = bot.rss_mb()
        progress("server started")
        sizes = {"notifications": notifications, "groups": groups, "concurrency": concurrency}
        out = tmp / "noop.json"
        cpu = bot.cpu_s()
        noop = finished(load(bot, "/bench/noop", prefix="Storm", out=out, **sizes), out)
        noop.cpu_s, cpu = bot.cpu_s() - cpu, bot.cpu_s()
        progress("no-op baseline")

        out = tmp / "storm.json"
        children_cpu = bot.children_cpu_s()
        with profiled(bot.proc.pid, profile) if profile else contextlib.nullcontext():
            running = load(bot, "/webhooks/alertmanager", prefix="Storm", out=out, **sizes)
            ack_ms: list[float] = []
            ack_failed = 0
            while running.poll() is None:
                started = time.monotonic()
                elapsed, status = bot.command("list")
                ack_ms.append(elapsed)
                ack_failed += status != 200
                # Two a second: responders at work, not a load of its own on the bot.
                time.sleep(max(0.0, COMMAND_EVERY_S - (time.monotonic() - started)))
            stormed = finished(running, out)
        stormed.cpu_s = bot.cpu_s() - cpu
        progress("storm")
        sent = plan(notifications=notifications, groups=groups, prefix="Storm")
        checked = check(bot, sent, stormed.first_sent, "Storm")
        settled_cpu = checked.cpu_at_announced - cpu
        idle_cpu = checked.cpu_at_idle - cpu
        rss_after, rss_children = bot.rss_mb(), bot.children_rss_mb()
        rss_chat = bot.chat_rss_mb()
        waited = time.monotonic()
        while bot.drawing() and time.monotonic() - waited < settle_s:
            time.sleep(0.5)
        rss_settled = bot.rss_mb() + bot.children_rss_mb()
        pss_settled = bot.tree_pss_mb()
        waited = time.monotonic() - waited
        progress("storm settled and checked")
        result = StormResult(
            notifications=notifications,
            groups=groups,
            concurrency=concurrency,
            noop=noop,
            storm=stormed,
            check=checked,
            ack_ms=ack_ms,
            ack_failed=ack_failed,
            rss_idle_mb=rss_idle,
            rss_after_mb=rss_after,
            settled_cpu_s=settled_cpu,
            idle_cpu_s=idle_cpu,
            graphs=graphs,
            drawing_cpu_s=checked.children_cpu_at_idle - children_cpu,
            rss_children_mb=rss_children,
            rss_chat_mb=rss_chat,
            rss_settled_mb=rss_settled,
            rss_settled_after_s=waited,
            pss_settled_mb=pss_settled,
        )
        # The same storm again: each occurrence is stored with its last status, so every
        # notification is a repeat, mostly answered from memory; its cost beside the no-op's is
        # intake's own, without the writes and the chat work of what changes.
        out = tmp / "repeats.json"
        cpu = bot.cpu_s()
        result.repeats = finished(
            load(bot, "/webhooks/alertmanager", prefix="Storm", out=out, **sizes), out
        )
        result.repeats.cpu_s = bot.cpu_s() - cpu
        progress("the storm again, all repeats")
        if paced_rate:
            paced_groups = min(groups, paced_notifications)
            out = tmp / "paced.json"
            proc = load(
                bot,
                "/webhooks/alertmanager",
                notifications=paced_notifications,
                groups=paced_groups,
                prefix="Paced",
                concurrency=concurrency,
                rate=paced_rate,
                out=out,
            )
            result.paced, result.paced_rate = finished(proc, out), paced_rate
            result.paced_check = check(
                bot,
                plan(notifications=paced_notifications, groups=paced_groups, prefix="Paced"),
                result.paced.first_sent,
                "Paced",
            )
            progress("paced run, settled and checked")
    progress("server stopped")
    return result


@contextlib.contextmanager
def graph_source(tmp: Path, *, graphs: bool) -> Iterator[dict[str, str]]:
    """The serve process's environment; with `graphs`, its config points the alerts' graphs at
    a Prometheus stand-in answering every range query at once with three series, so that each
    incident's graph is drawn as against a real one (the alerts' own generatorURL host,
    prometheus.example, does not resolve: no graph would be drawn)."""
    env = {"FIREBREAK_BENCH_NOOP": "1"}
    if not graphs:
        yield env
        return
    with prometheus_stub(series=3) as (url, _):
        config = tmp / "firebreak.yaml"
        config.write_text(f"alerts:\n  prometheus_url: {url}\n", encoding="utf-8")
        yield {**env, "FIREBREAK_CONFIG": str(config)}


def tables(result: StormResult) -> dict[str, Any]:
    """Markdown tables of one storm: throughput and invariants, and latencies."""
    s, n, c = result.storm, result.noop, result.check
    ratio = s.rate / n.rate if n.rate else 0.0
    per = 1000 / result.notifications  # CPU seconds → ms per notification
    throughput = [
        "| endpoint | notifications/s | p50 ms | p99 ms | max ms | errors | failed "
        "| server CPU ms each | load generator CPU ms each |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| POST /webhooks/alertmanager | {s.rate:.0f} | {percentiles(s.latencies_ms)} | "
        f"{s.errors} | {s.failed} | {s.cpu_s * per:.2f} ({result.settled_cpu_s * per:.2f} "
        f"until all announced, {result.idle_cpu_s * per:.2f} with all its chat work) | "
        f"{s.sender_cpu_s * per:.2f} |",
        f"| baseline: POST /bench/noop | {n.rate:.0f} | {percentiles(n.latencies_ms)} | "
        f"{n.errors} | {n.failed} | {n.cpu_s * per:.2f} | {n.sender_cpu_s * per:.2f} |",
        f"| ratio (webhook / no-op) | {ratio:.2f} | | | | | | | |",
    ]
    if result.repeats is not None:
        r = result.repeats
        throughput += [
            f"| the same storm sent again: every notification a repeat | {r.rate:.0f} | "
            f"{percentiles(r.latencies_ms)} | {r.errors} | {r.failed} | {r.cpu_s * per:.2f} | "
            f"{r.sender_cpu_s * per:.2f} |",
            f"| ratio (repeats / no-op) | {r.rate / n.rate if n.rate else 0.0:.2f} | | | | | | | |",
        ]
    invariants = [
        "| check | value | expected |",
        "|---|---|---|",
        f"| incidents created | {c.incidents} | {result.groups} |",
        f"| channels created at the stand-in | {c.channels} | {result.groups} |",
        f"| incidents announced | {c.announced} | {result.groups} |",
        f"| alert occurrences sent | {c.occurrences_sent} | |",
        f"| alerts lost | {c.lost} | 0 |",
        f"| channel cards not showing the stored alerts firing, once the chat work was done "
        f"({c.idle_after_s:.1f} s after all announced) | {c.stale_cards} | 0 |",
        f"| incidents whose channel got the alert's graph | {c.graphs} | "
        f"{result.groups if result.graphs else 0} |",
        f"| lines the bot logged at ERROR or above, by the end of this check | {len(c.errors)} "
        "| 0 |",
    ]
    if result.repeats is not None:
        invariants.append(
            "| notifications of the storm sent again that changed something | "
            f"{len(result.repeats.changed_ms)} | 0 |"
        )
    latency = [
        "| measurement | samples | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
        f"| first notification sent → announcement, during the storm | {len(c.announce_ms)} | "
        f"{percentiles(c.announce_ms)} |",
        f"| signed `/incident list` → ack, during the storm ({result.ack_failed} not acked "
        f"in 3 s) | {len(result.ack_ms)} | {percentiles(result.ack_ms)} |",
        # Where the webhook's p99 is: a notification that changes something waits for a write.
        f"| webhook during the storm, a notification that changed something (an incident "
        f"opened, alerts new or resolved: recorded in a write) | {len(s.changed_ms)} | "
        f"{percentiles(s.changed_ms)} |",
        f"| webhook during the storm, a notification that changed nothing (a repeat) | "
        f"{len(s.unchanged_ms)} | {percentiles(s.unchanged_ms)} |",
    ]
    if result.paced is not None:
        p = result.paced
        latency.append(
            f"| webhook at {result.paced_rate:.0f} notifications/s offered "
            f"({p.rate:.0f}/s achieved, {p.errors} errors) | {len(p.latencies_ms)} | "
            f"{percentiles(p.latencies_ms)} |"
        )
    memory = [
        "| serve process RSS | MB |",
        "|---|---|",
        f"| idle, after start | {result.rss_idle_mb:.0f} |",
        f"| after the storm | {result.rss_after_mb:.0f} |",
        f"| after the storm, its children: the chat process and the graphs' drawing process "
        f"({result.drawing_cpu_s:.0f} s of their CPU from the storm to no chat work) | "
        f"{result.rss_children_mb:.0f} |",
        f"| of which the chat process | {result.rss_chat_mb:.0f} |",
        f"| serve and its children once the drawing process stopped, idle "
        f"({result.rss_settled_after_s:.0f} s later) | {result.rss_settled_mb:.0f} |",
        "| the same processes' proportional set size (PSS: a page they share, such as the "
        f"libraries' code, counted once over all) | {result.pss_settled_mb:.0f} |",
    ]
    return {
        "throughput": "\n".join(throughput),
        "invariants": "\n".join(invariants),
        "latency": "\n".join(latency),
        "memory": "\n".join(memory),
        "ratio": ratio,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=20_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=500.0, help="of the paced run; 0: none")
    parser.add_argument("--paced", type=int, default=2500, help="notifications of the paced run")
    parser.add_argument(
        "--profile", type=Path, help="py-spy's samples of the bot during the storm (.txt: raw)"
    )
    parser.add_argument(
        "--settle-s",
        type=float,
        default=SETTLE_DRAWING_S,
        help="the longest the RSS waits for the drawing process to stop (0: at once)",
    )
    parser.add_argument(
        "--no-graphs",
        action="store_true",
        help="alerts whose Prometheus does not resolve: no graph drawn (the bench before)",
    )
    parser.add_argument(
        "--postgres", action="store_true", help="on a throwaway PostgreSQL server, not SQLite"
    )
    parser.add_argument(
        "--one-process",
        action="store_true",
        help="the chat follow-ups in the serve process (FIREBREAK_CHAT_PROCESS=false)",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        slack = stack.enter_context(LocalSlackServer(workspace()))
        url = stack.enter_context(one_database(Path(tmp), postgres=args.postgres))
        result = storm(
            Path(tmp),
            slack,
            database_url=url,
            notifications=args.notifications,
            groups=args.groups,
            concurrency=args.concurrency,
            paced_rate=args.rate or None,
            paced_notifications=args.paced,
            profile=args.profile.resolve() if args.profile else None,
            graphs=not args.no_graphs,
            settle_s=args.settle_s,
            one_process=args.one_process,
        )
    shown = tables(result)
    for name in ("throughput", "invariants", "latency", "memory"):
        print(shown[name], end="\n\n")


if __name__ == "__main__":
    main()
