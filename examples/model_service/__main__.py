"""`python -m examples.model_service --port 9000 [--token-env NAME] [--service NAME=v1,v2]`."""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from .app import DEFAULT_SERVICES, build_app


def _services(specs: list[str]) -> dict[str, list[str]]:
    services: dict[str, list[str]] = {}
    for spec in specs:
        name, _, versions = spec.partition("=")
        listed = [v.strip() for v in versions.split(",") if v.strip()]
        if not name or not listed:
            raise SystemExit(f"--service wants NAME=v1,v2,… (oldest first), not {spec!r}")
        services[name] = listed
    return services


def _describe(services: dict[str, list[str]]) -> str:
    return " ".join(f"{name}={','.join(versions)}" for name, versions in services.items())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m examples.model_service",
        description="Example model service with Firebreak's Deployment API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument(
        "--token-env",
        metavar="NAME",
        help="environment variable holding the bearer token to require (default: no auth)",
    )
    parser.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="NAME=v1,v2",
        help="a service and its versions, oldest first; the last is active (repeatable; "
        f"default: {_describe(DEFAULT_SERVICES)})",
    )
    parser.add_argument(
        "--bad-error-every",
        type=int,
        default=0,
        metavar="N",
        help="a -bad model fails every N-th ranking request with a 500 (default 0: never)",
    )
    args = parser.parse_args(argv)

    token: str | None = None
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            sys.exit(f"--token-env {args.token_env}: that environment variable is empty or unset")
    app = build_app(
        services=_services(args.service) or None,
        token=token,
        bad_error_every=args.bad_error_every,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
