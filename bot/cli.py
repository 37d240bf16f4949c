"""The `firebreak` command: serve, migrate, check, postmortem, report, audit, localslack, demo."""

from __future__ import annotations

import argparse
import contextlib
import gc
import ipaddress
import logging
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot import logs
from bot.config import ConfigError, FirebreakConfig, Settings, load_config, reveal
from bot.followups.away import CHAT_PROCESS_COMMAND
from bot.validation import describe

log = logging.getLogger("firebreak")


DESCRIPTION = """\
Firebreak, the incident-response Slack bot. Every command but demo reads its
settings from the environment (below) and the team's firebreak.yaml
(FIREBREAK_CONFIG); a wrong setting stops it with exit code 2 and a message
naming the file, the place and the reason."""

ENVIRONMENT = """\
environment:
  FIREBREAK_CONFIG         path to firebreak.yaml (default: none, built-in defaults)
  FIREBREAK_DATABASE_URL   SQLAlchemy URL of the store (default: sqlite:///firebreak.db);
                           postgresql://... works too
  FIREBREAK_PLAYBOOKS      folder of playbook YAML files (default: playbooks)
  FIREBREAK_LOG_FORMAT     text or json log lines (default: text)
  SLACK_BOT_TOKEN          the Slack app's bot token; unset: the built-in Slack stand-in
  SLACK_SIGNING_SECRET     verifies Slack's requests; needed with SLACK_BOT_TOKEN
  SLACK_APP_TOKEN          app-level token, for serve --socket-mode
  FIREBREAK_SLACK_API_URL  base URL of the Slack Web API (default: https://slack.com/api/)
  FIREBREAK_WEBHOOK_TOKEN  bearer token the webhooks ask for
serve reads more (FIREBREAK_API_TOKEN, FIREBREAK_DRILLS, ...): see the README's table."""

CHECK_EPILOG = """\
exit codes:
  0  everything checked is fine ("ok" is the last line printed)
  2  a problem was found: each is printed to stderr as
     "firebreak: FILE: PLACE: REASON", e.g.
     "firebreak: playbooks/rollback.yaml: steps[2].with.text: steps['rollbak'] names
     no step of this playbook; ..."

environment:
  FIREBREAK_CONFIG         firebreak.yaml to check (default: none, built-in defaults)
  FIREBREAK_PLAYBOOKS      the playbooks folder checked when no PATH is given
                           (default: playbooks)
  SLACK_BOT_TOKEN          with it, SLACK_SIGNING_SECRET must be set too
  SLACK_SIGNING_SECRET     verifies Slack's requests
  FIREBREAK_SLACK_API_URL  the Slack Web API the bot would call
  and the variables a source's signature.secret_env names."""

STORE_EPILOG = """\
environment:
  FIREBREAK_DATABASE_URL   the store to read (default: sqlite:///firebreak.db); a SQLite
                           file is brought up to the current schema first, quietly
  FIREBREAK_CONFIG         firebreak.yaml (default: none, built-in defaults)"""

LOG_LEVELS = ["debug", "info", "warning", "error"]
YOUNG_COLLECTION = 10_000  # allocations between the collector's passes over young objects


def build_parser() -> argparse.ArgumentParser:
    """The `firebreak` command line: its commands, their options and help."""
    text = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="firebreak",
        description=DESCRIPTION,
        epilog=ENVIRONMENT + "\n\nfirebreak COMMAND --help describes a command and its options.",
        formatter_class=text,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # Every command but serve (its own, below) and demo (its own servers and logging).
    logging_options = argparse.ArgumentParser(add_help=False)
    logging_options.add_argument(
        "--log-level",
        default="info",
        choices=LOG_LEVELS,
        help="how much to log to stderr (default: info); debug also shows Alembic's "
        "migration steps",
    )

    def command(
        name: str, summary: str, description: str, *, epilog: str | None = None, logs: bool = True
    ) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=textwrap.fill(description, width=80),
            epilog=epilog,
            formatter_class=text,
            parents=[logging_options] if logs else [],
        )

    serve = command(
        "serve",
        "run the bot (HTTP on 127.0.0.1:8080 by default)",
        "Run the bot: Slack's events and commands, the alert webhooks, the JSON API and "
        "/metrics over HTTP. A SQLite store is brought up to the current schema at start; "
        "PostgreSQL must be migrated first (firebreak migrate). Exit code 2 when the settings "
        "are refused, 3 when the port cannot be taken.",
        epilog=ENVIRONMENT,
        logs=False,
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1); a non-loopback address needs "
        "SLACK_BOT_TOKEN, and FIREBREAK_WEBHOOK_TOKEN unless --insecure-webhooks",
    )
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=LOG_LEVELS,
        help="how much the bot and uvicorn log (default: info)",
    )
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

    command(
        "migrate",
        "create or upgrade the database schema",
        "Create the database schema, or upgrade it to the one this Firebreak needs, and print "
        "one line saying which. Run it before serve on PostgreSQL.",
        epilog="environment:\n  FIREBREAK_DATABASE_URL   the store to migrate "
        "(default: sqlite:///firebreak.db)",
    )

    check = command(
        "check",
        "validate firebreak.yaml, the playbooks and the environment",
        "Validate firebreak.yaml, the playbooks, each alert source (against its sample) and "
        "the Slack settings, without starting anything. A playbook is checked for its schema, "
        "its templates' syntax and what they refer to: steps['name'] or steps.name must be a "
        "step that runs before the one using it, params.name a declared parameter, "
        "incident.name a field of the incident.",
        epilog=CHECK_EPILOG,
    )
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="playbook files or folders to check instead of the playbooks folder "
        "(default: FIREBREAK_PLAYBOOKS, else playbooks); a folder's *.yaml and *.yml are read",
    )

    postmortem = command(
        "postmortem",
        "write an incident's postmortem draft (as /incident postmortem)",
        "Write the postmortem draft of an incident from the store, as /incident postmortem "
        "does, into postmortem.folder of firebreak.yaml (default: postmortems), and print "
        "where. Exit code 2 when there is no such incident.",
        epilog=STORE_EPILOG,
    )
    postmortem.add_argument("incident", help="the incident: INC-7, or 7")
    postmortem.add_argument(
        "--stdout", action="store_true", help="print the Markdown instead of writing the file"
    )

    report = command(
        "report",
        "incidents per service, budget and times (Markdown)",
        "Print a Markdown table: per service, its incidents, error budget used, and median "
        "and worst times to detect, acknowledge, mitigate and resolve.",
        epilog=STORE_EPILOG,
    )
    report.add_argument(
        "--since", default="30d", help="how far back to look, e.g. 7d, 30d (default: 30d)"
    )

    audit = command(
        "audit",
        "who approved, ran or was refused a playbook, and why (a table)",
        "Print the audit log as a Markdown table: who asked for, approved or ran a playbook, "
        "or was refused, when, on which incident, and why.",
        epilog=STORE_EPILOG,
    )
    audit.add_argument(
        "--since", default="7d", help="how far back to look, e.g. 24h, 7d (default: 7d)"
    )
    audit.add_argument("--incident", help="only this incident's decisions, e.g. INC-7")

    # Not listed: started by `serve` with its pipe (bot.followups.away), not by hand.
    commands.add_parser(CHAT_PROCESS_COMMAND, parents=[logging_options])

    local = command(
        "localslack",
        "run only the Slack stand-in (accepts the token in SLACK_BOT_TOKEN)",
        "Run only the built-in Slack stand-in, for a bot started elsewhere with "
        "FIREBREAK_SLACK_API_URL=http://HOST:PORT/localslack/api/. Prints its page's address "
        "with its key.",
        epilog="environment:\n  SLACK_BOT_TOKEN          the token the stand-in accepts "
        "(required), e.g. xoxb-dev\n  FIREBREAK_CONFIG         firebreak.yaml: the people "
        "and the broadcast channel it starts with",
    )
    local.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    local.add_argument("--port", type=int, default=8090, help="port to listen on (default: 8090)")

    demo = command(
        "demo",
        "the whole loop on the example model service, Prometheus and Alertmanager (< 2 min)",
        "Run the whole loop on the example model service with Prometheus and Alertmanager: "
        "an alert opens an incident, a playbook rolls the model back, the postmortem is "
        "written. Uses its own servers, store and configuration: the environment's "
        "FIREBREAK_* settings are not read.",
        logs=False,
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
    # Alembic logs each migration step, and each of its plugins as it is imported, at INFO:
    # held at WARNING so a command prints only its own output (`--log-level debug` shows them;
    # `migrate` says what it did in one line).
    logging.getLogger("alembic").setLevel(logging.NOTSET if level == "debug" else logging.WARNING)
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
    if args.command == CHAT_PROCESS_COMMAND:
        return _chat_process(settings, config)
    if args.command == "migrate":
        print(_migrate(settings.database_url))
        return 0
    if args.command == "postmortem":
        return _postmortem(settings, config, ref=args.incident, stdout=args.stdout)
    if args.command == "report":
        return _report(settings, config, since=args.since)
    if args.command == "audit":
        return _audit(settings, config, since=args.since, incident=args.incident)
    if args.command == "localslack":
        return _localslack(settings, config, host=args.host, port=args.port)
    from bot.check import check

    return check(settings, config, paths=args.paths)


def _chat_process(settings: Settings, config: FirebreakConfig) -> int:
    import asyncio

    from bot.chat_process import run_chat_process

    asyncio.run(run_chat_process(settings, config))
    return 0


def _postmortem(settings: Settings, config: FirebreakConfig, *, ref: str, stdout: bool) -> int:
    import asyncio

    from bot.incidents.errors import NotFound
    from bot.offline import offline_context
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

    from bot.context import utcnow
    from bot.durations import parse_duration
    from bot.offline import offline_context
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

    from bot.audit.service import entries
    from bot.audit.table import table
    from bot.context import utcnow
    from bot.durations import parse_duration
    from bot.offline import offline_context, slack_directory
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
            # With a bot token, people are named (users.info, a few seconds at most); without
            # one, or when Slack does not answer, the IDs alone are shown.
            directory = slack_directory(settings)
            names = await directory.names(e.actor for e in found) if directory else {}
            return table(found, names=names)
        finally:
            await engine.dispose()

    print(asyncio.run(run()))
    return 0


def _current_schema(settings: Settings) -> None:
    from bot.db.engine import is_sqlite
    from bot.db.migrate import upgrade

    if is_sqlite(settings.database_url):
        upgrade(settings.database_url)  # as serve does: a single file is ours to keep current


def _migrate(url: str) -> str:
    """Upgrade the schema to head; one line on what was done (Alembic's own steps are logged
    only at --log-level debug)."""
    from bot.db.migrate import current_revision, upgrade

    before = current_revision(url)
    upgrade(url)
    after = current_revision(url)
    if before == after:
        return f"database schema is up to date (revision {after})"
    if before is None:
        return f"database schema created (revision {after})"
    return f"database schema upgraded from revision {before} to {after}"


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
    from bot.db.migrate import current_revision, head_revision

    if is_sqlite(settings.database_url):
        # A single-file store: keeping it current is our job.
        log.info("%s", _migrate(settings.database_url))
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
            chat_process=settings.chat_process,
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
    # Young objects are looked at every YOUNG_COLLECTION allocations, not Python's 700: most of a
    # request's objects die by reference counting long before. Over a bench.storm run the
    # collector held the loop for 0.69 s (1,340 young passes; 7 full ones during the storm, of
    # 12-29 ms each); now 0.29 s (473; no full one after start-up).
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])
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
        # A line per request is a storm's worth of log writes on the event loop: only when
        # debugging. Requests are counted by outcome at /metrics (firebreak_webhook_requests).
        access_log=log_level == "debug",
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
