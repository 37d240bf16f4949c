"""The `firebreak` command: serve, migrate, check, postmortem, report, localslack, demo."""

from __future__ import annotations

import argparse
import contextlib
import gc
import ipaddress
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot import logs
from bot.config import ConfigError, FirebreakConfig, Settings, load_config, reveal
from bot.validation import describe

log = logging.getLogger("firebreak")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="firebreak", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the bot (HTTP on 127.0.0.1:8080 by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--insecure-webhooks",
        action="store_true",
        help="serve webhooks on a non-loopback address without FIREBREAK_WEBHOOK_TOKEN",
    )
    serve.add_argument(
        "--socket-mode",
        action="store_true",
        help="receive Slack's requests over a WebSocket (needs SLACK_APP_TOKEN); no public URL",
    )

    commands.add_parser("migrate", help="create or upgrade the database schema")
    commands.add_parser("check", help="validate firebreak.yaml and the environment")

    postmortem = commands.add_parser(
        "postmortem", help="write an incident's postmortem draft (as /incident postmortem)"
    )
    postmortem.add_argument("incident", help="INC-7, or 7")
    postmortem.add_argument("--stdout", action="store_true", help="print it instead of writing")

    report = commands.add_parser(
        "report", help="incidents per service, budget and times (Markdown)"
    )
    report.add_argument("--since", default="30d", help="how far back, e.g. 7d, 30d (default 30d)")

    audit = commands.add_parser(
        "audit", help="who approved, ran or was refused a playbook, and why (a table)"
    )
    audit.add_argument("--since", default="7d", help="how far back, e.g. 24h, 7d (default 7d)")
    audit.add_argument("--incident", help="only this incident, e.g. INC-7")

    local = commands.add_parser(
        "localslack", help="run only the Slack stand-in (accepts the token in SLACK_BOT_TOKEN)"
    )
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=8090)

    demo = commands.add_parser(
        "demo",
        help="the whole loop on the example model service, Prometheus and Alertmanager (< 2 min)",
    )
    demo.add_argument(
        "--output",
        type=Path,
        default=Path("demo-postmortems"),
        help="where the postmortem is kept (default: demo-postmortems)",
    )
    demo.add_argument(
        "--without-monitoring",
        action="store_true",
        help="post Alertmanager's webhook from the demo instead of running Prometheus",
    )

    args = parser.parse_args(argv)
    if args.command == "demo":  # its own servers and config: the environment's are not read
        from bot.demo.story import run_demo

        return run_demo(output=args.output, monitoring=not args.without_monitoring)
    level = getattr(args, "log_level", "info")
    try:
        settings = Settings()
    except ValidationError as exc:
        return _fail("; ".join(f"{e['field']}: {e['message']}" for e in describe(exc)))
    logs.configure(level=level, log_format=settings.log_format)
    try:
        config = load_config(settings.config_path)
    except ConfigError as exc:
        return _fail(str(exc))

    if args.command == "serve":
        return _serve(
            settings,
            config,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            socket_mode=args.socket_mode,
            insecure_webhooks=args.insecure_webhooks,
        )
    if args.command == "migrate":
        from bot.db.migrate import upgrade

        upgrade(settings.database_url)
        print("database schema is up to date")
        return 0
    if args.command == "postmortem":
        return _postmortem(settings, config, ref=args.incident, stdout=args.stdout)
    if args.command == "report":
        return _report(settings, config, since=args.since)
    if args.command == "audit":
        return _audit(settings, config, since=args.since, incident=args.incident)
    if args.command == "localslack":
        return _localslack(settings, config, host=args.host, port=args.port)
    return _check(settings, config)


def _postmortem(settings: Settings, config: FirebreakConfig, *, ref: str, stdout: bool) -> int:
    import asyncio

    from bot.app import offline_context
    from bot.incidents.errors import NotFound
    from bot.postmortem import flows
    from bot.refs import parse_ref

    number = parse_ref(ref)
    if number is None:
        return _fail(f"{ref!r} is not an incident id like INC-7")

    _current_schema(settings)

    async def run() -> str:
        ctx, engine = offline_context(settings, config)
        try:
            if stdout:
                return await flows.draft(ctx, incident_id=number)
            return f"postmortem draft written to {await flows.write(ctx, incident_id=number)}"
        finally:
            await engine.dispose()

    try:
        print(asyncio.run(run()))
    except NotFound as exc:
        return _fail(str(exc))
    return 0


def _report(settings: Settings, config: FirebreakConfig, *, since: str) -> int:
    import asyncio

    from bot.app import offline_context
    from bot.context import utcnow
    from bot.durations import parse_duration
    from bot.postmortem.report import gather, markdown

    try:
        back = parse_duration(since)
    except ValueError as exc:
        return _fail(f"--since: {exc}")

    _current_schema(settings)

    async def run() -> str:
        ctx, engine = offline_context(settings, config)
        try:
            now = utcnow()
            return markdown(await gather(ctx, since=now - back), since=now - back, now=now)
        finally:
            await engine.dispose()

    print(asyncio.run(run()))
    return 0


def _audit(settings: Settings, config: FirebreakConfig, *, since: str, incident: str | None) -> int:
    import asyncio

    from bot.app import offline_context
    from bot.audit.service import entries
    from bot.audit.table import table
    from bot.context import utcnow
    from bot.durations import parse_duration
    from bot.refs import parse_ref

    try:
        back = parse_duration(since)
    except ValueError as exc:
        return _fail(f"--since: {exc}")
    number = parse_ref(incident) if incident is not None else None
    if incident is not None and number is None:
        return _fail(f"--incident: {incident!r} is not an incident id like INC-7")

    _current_schema(settings)

    async def run() -> str:
        ctx, engine = offline_context(settings, config)
        try:
            async with ctx.reading() as session:
                found = await entries(session=session, since=utcnow() - back, incident_id=number)
            return table(found)
        finally:
            await engine.dispose()

    print(asyncio.run(run()))
    return 0


def _current_schema(settings: Settings) -> None:
    from bot.db.engine import is_sqlite
    from bot.db.migrate import upgrade

    if is_sqlite(settings.database_url):
        upgrade(settings.database_url)  # as serve does: a single file is ours to keep current


def _localslack(settings: Settings, config: FirebreakConfig, *, host: str, port: int) -> int:
    from bot.app import seeded_workspace
    from bot.localslack.server import serve_forever

    token = reveal(settings.slack_bot_token)
    if not token:
        return _fail("set SLACK_BOT_TOKEN to the token the stand-in should accept (e.g. xoxb-dev)")
    serve_forever(seeded_workspace(config, token=token), host=host, port=port)
    return 0


def _serve(
    settings: Settings,
    config: FirebreakConfig,
    *,
    host: str,
    port: int,
    log_level: str,
    socket_mode: bool,
    insecure_webhooks: bool,
) -> int:
    refused = refusal(settings, host=host, insecure_webhooks=insecure_webhooks)
    if refused:
        return _fail(refused)
    import uvicorn

    from bot.app import StartupError, build_app
    from bot.db.engine import is_sqlite
    from bot.db.migrate import current_revision, head_revision, upgrade

    if is_sqlite(settings.database_url):
        upgrade(settings.database_url)  # a single-file store: keeping it current is our job
    elif (current := current_revision(settings.database_url)) != (head := head_revision()):
        return _fail(
            f"the database schema is at {current or 'nothing'}, this Firebreak needs {head}: "
            "run `firebreak migrate` first"
        )
    self_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    try:
        app = build_app(
            settings,
            config,
            self_url=f"http://{_url_host(self_host)}:{port}",
            socket_mode=socket_mode,
        )
    except StartupError as exc:
        return _fail(str(exc))
    page = app.state.firebreak.page
    if page is not None:
        # Printed once: the page acts as anyone in the workspace, so it needs its key.
        log.info(
            "no SLACK_BOT_TOKEN: using the built-in Slack stand-in; open %s",
            page.link(f"http://{_url_host(self_host)}:{port}"),
        )
    # JSON logs: uvicorn's own loggers pass their records to ours instead of printing text.
    uvicorn_logs = uvicorn.config.LOGGING_CONFIG if settings.log_format == "text" else None
    # What is alive now (modules, the app) lives as long as the process: set apart from the
    # collector, a full collection no longer walks it. In an alert storm (bench.storm) the
    # loop's pause for one fell from up to ~150 ms to ~20 ms, and with it the slowest acks.
    gc.collect()
    gc.freeze()
    from bot.serving import server_config

    uvicorn_config = server_config(
        app,
        host=host,
        port=port,
        limit_concurrency=settings.limit_concurrency,
        header_timeout=settings.header_timeout_s,
        log_level=log_level,
        lifespan="on",
        log_config=uvicorn_logs,
    )
    server = uvicorn.Server(uvicorn_config)
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run
        server.run()
    return 0 if server.started else 3  # as uvicorn.run: 3 when it never started (port taken)


def refusal(settings: Settings, *, host: str, insecure_webhooks: bool) -> str | None:
    """Why `serve` must not start on `host` with these settings (None: it may)."""
    if settings.embedded_slack and not _loopback(host):
        return (
            f"refusing to serve on {host} without SLACK_BOT_TOKEN: the built-in Slack stand-in "
            "lets whoever reaches it act as anyone; it serves on loopback only (127.0.0.1, "
            "::1, localhost)"
        )
    if not _loopback(host) and not reveal(settings.webhook_token) and not insecure_webhooks:
        return (
            f"refusing to serve webhooks on {host} without FIREBREAK_WEBHOOK_TOKEN: anyone who "
            "reaches it could open incidents; set the token, or pass --insecure-webhooks"
        )
    return None


def _check(settings: Settings, config: FirebreakConfig) -> int:
    from bot.playbooks.loader import load_library

    print(f"config: {settings.config_path or '(none: built-in defaults)'}")
    print(f"services: {', '.join(sorted(config.services)) or '(none)'}")
    print(f"broadcast channel: {config.broadcast_channel or '(none)'}")
    slack = (
        "built-in stand-in" if settings.embedded_slack else f"Web API at {settings.slack_api_url}"
    )
    print(f"slack: {slack}")
    library = load_library(settings.playbooks_dir)
    print(
        f"playbooks in {settings.playbooks_dir}: {', '.join(sorted(library.playbooks)) or '(none)'}"
    )
    print(f"sources: {', '.join(sorted(config.sources)) or '(none)'}")
    failed = False
    for problem in [*library.problems, *_source_problems(config)]:
        print(f"firebreak: {problem}", file=sys.stderr)
        failed = True
    if not settings.embedded_slack and not reveal(settings.slack_signing_secret):
        print("firebreak: SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not", file=sys.stderr)
        failed = True
    if failed:
        return 2
    print("ok")
    return 0


def _source_problems(config: FirebreakConfig) -> list[str]:
    """Each config source built as `serve` would build it, and its sample read: what would
    fail at start-up, or answer the sender 422, is said now."""
    import os

    from bot.alerts.sources.errors import Unreadable
    from bot.alerts.sources.templated import SourceError, make_receiver
    from bot.context import utcnow

    problems: list[str] = []
    for name, spec in sorted(config.sources.items()):
        try:
            receiver = make_receiver(name, spec, clock=utcnow, environ=os.environ)
        except SourceError as exc:
            problems.append(str(exc))
            continue
        if receiver.sample is None:
            continue
        try:
            receiver.parse(receiver.sample)
        except Unreadable as exc:
            problems.append(
                f"sources.{name}.sample: {exc.field}: {exc.reason} (expression {exc.expression!r})"
            )
    return problems


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def _url_host(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def _fail(message: str) -> int:
    print(f"firebreak: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
