"""``cf-ai-gateway``: diagnose a gateway setup, turn any gateway URL into each SDK's base URL,
and read the gateway's logs, from the terminal.

::

    cf-ai-gateway doctor [--model openai/gpt-4o-mini]
    cf-ai-gateway url [GATEWAY_URL] [--provider P]
    cf-ai-gateway logs [--provider P] [--model M] [--success|--failed] [--cached|--uncached]
                       [--metadata KEY=VALUE ...] [--since 15m] [--search TEXT] [-n 20] [--follow]
    cf-ai-gateway logs show LOG_ID [--no-bodies]
    cf-ai-gateway gateways list|get [ID]
    cf-ai-gateway feedback LOG_ID +1|-1

Every command takes ``--json`` (machine-readable output) and the connection flags (``--url``,
``--account-id``, ``--gateway-id``, ``--token``); without them it reads ``CF_AIG_URL``,
``CF_ACCOUNT_ID``, ``CF_GATEWAY_ID``, ``CF_AIG_TOKEN`` / ``CF_API_TOKEN`` and
``CF_AIG_PROVIDER_API_KEY``. Exit status: 0 pass, 1 fail (a failed check or API error), 2 usage
or configuration error. Plain aligned text needs nothing beyond the core; with ``rich``
installed (``pip install "cf-ai-gateway[cli]"``) a terminal gets colour and tables.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

import httpx

from .._version import __version__
from ..config import GatewayConfigError
from ..errors import GatewayAuthenticationError, GatewayError, GatewayNotFoundError, redact
from ..options import InvalidOptionError
from ._commands import cmd_doctor, cmd_feedback, cmd_gateways, cmd_logs, cmd_logs_show, cmd_url
from ._output import Output
from ._settings import add_connection_options, resolve

__all__ = ["build_parser", "main"]

PROG = "cf-ai-gateway"


def _bool_pair(
    parser: argparse.ArgumentParser, dest: str, yes: tuple[str, str], no: tuple[str, str]
) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(f"--{yes[0]}", dest=dest, action="store_const", const=True, help=yes[1])
    group.add_argument(f"--{no[0]}", dest=dest, action="store_const", const=False, help=no[1])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Diagnose, inspect and use a Cloudflare AI Gateway (or the local emulator).",
        epilog="Exit status: 0 pass, 1 fail, 2 usage or configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    doctor = commands.add_parser(
        "doctor",
        help="check configuration, reachability, gateway, authentication, credentials",
        description="Check the setup step by step; every failure says its cause and its fix.",
    )
    doctor.add_argument(
        "--model",
        help="also send one tiny chat request (max_tokens=1) to this provider/model, to check "
        "the provider key or BYOK end to end",
    )
    add_connection_options(doctor)

    url = commands.add_parser(
        "url",
        help="the base URL each SDK wants, from any gateway URL",
        description="Paste any gateway URL (or configure one); get the base URL for the OpenAI "
        "and Anthropic SDKs, LangChain, LlamaIndex and LiteLLM, never with a doubled /v1.",
    )
    url.add_argument("gateway_url", nargs="?", metavar="GATEWAY_URL", help="any gateway URL")
    url.add_argument("--provider", help="the provider for native base URLs (default: openai)")
    add_connection_options(url)

    logs = commands.add_parser(
        "logs",
        help="list or follow the gateway's logs; `logs show ID` for one, with bodies",
        description="List the gateway's logs (newest first), or follow new ones with --follow.",
    )
    logs.add_argument("--provider", help="only this provider (path segment or alias)")
    logs.add_argument("--model", help="only this model (provider/model narrows the provider too)")
    _bool_pair(logs, "success", ("success", "successful requests only"), ("failed", "failed only"))
    _bool_pair(logs, "cached", ("cached", "cache hits only"), ("uncached", "cache misses only"))
    logs.add_argument(
        "--metadata",
        action="append",
        metavar="KEY=VALUE",
        help="only logs with this metadata entry (repeat for more)",
    )
    logs.add_argument("--since", help="only newer than this: 15m, 2h, 1d or an ISO time")
    logs.add_argument("--search", help="the API's free-text search")
    logs.add_argument(
        "-n", "--limit", type=int, default=20, help="how many (default 20; follow: the first)"
    )
    logs.add_argument("--order", choices=("desc", "asc"), default="desc", help="time order")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new logs")
    logs.add_argument("--interval", type=float, default=2.0, help="follow: seconds between polls")
    logs.add_argument("--polls", type=int, help="follow: stop after this many polls")
    add_connection_options(logs)
    logs_sub = logs.add_subparsers(dest="logs_command", metavar="show")
    show = logs_sub.add_parser("show", help="one log, with its request and response bodies")
    show.add_argument("log_id", metavar="LOG_ID")
    show.add_argument("--no-bodies", action="store_true", help="skip the stored bodies")
    add_connection_options(show, suppress=True)

    gateways = commands.add_parser("gateways", help="list the account's gateways, or get one")
    gateways_sub = gateways.add_subparsers(
        dest="gateways_command", metavar="list|get", required=True
    )
    listing = gateways_sub.add_parser("list", help="every gateway of the account")
    listing.add_argument("--search", help="only ids containing this")
    add_connection_options(listing)
    get = gateways_sub.add_parser("get", help="one gateway's settings")
    get.add_argument("id", nargs="?", metavar="ID", help="gateway id (default: the configured)")
    add_connection_options(get)

    feedback = commands.add_parser("feedback", help="thumbs up (+1) or down (-1) on a log")
    feedback.add_argument("log_id", metavar="LOG_ID")
    feedback.add_argument("value", metavar="+1|-1")
    add_connection_options(feedback)
    return parser


def _hint(err: GatewayError) -> str | None:
    if isinstance(err, GatewayAuthenticationError):
        return "run `cf-ai-gateway doctor` to see which token is sent and what it is allowed"
    if isinstance(err, GatewayNotFoundError):
        return "check CF_GATEWAY_ID / --gateway-id; `cf-ai-gateway gateways list` shows them"
    return None


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    http_client: httpx.Client | None = None,
) -> int:
    """Run the CLI; returns the exit status. ``environ`` replaces ``os.environ`` and
    ``http_client`` the HTTP client (tests, embedding)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    env = os.environ if environ is None else environ
    out = Output(json_mode=args.json, rich=False if args.plain else None)
    settings = resolve(args, env)
    secrets = [t for t in (settings.api_token, settings.provider_key) if t]
    if settings.gateway is not None and settings.gateway.token:
        secrets.append(settings.gateway.token)
    http = http_client or httpx.Client(timeout=settings.timeout)
    try:
        if args.command == "doctor":
            return cmd_doctor(args, settings, out, http)
        if args.command == "url":
            return cmd_url(args, settings, out, http)
        if args.command == "logs":
            if args.logs_command == "show":
                return cmd_logs_show(args, settings, out, http)
            return cmd_logs(args, settings, out, http)
        if args.command == "gateways":
            return cmd_gateways(args, settings, out, http)
        return cmd_feedback(args, settings, out, http)
    except (GatewayConfigError, InvalidOptionError, ValueError) as exc:
        return _fail(out, 2, "usage", redact(str(exc), secrets), None)
    except GatewayError as exc:
        return _fail(out, 1, type(exc).__name__, redact(str(exc), secrets), _hint(exc))
    finally:
        if http_client is None:
            http.close()


def _fail(out: Output, status: int, kind: str, message: str, hint: str | None) -> int:
    if out.json_mode:
        error: dict[str, str] = {"type": kind, "message": message}
        if hint:
            error["hint"] = hint
        out.json({"error": error})
    sys.stderr.write(f"{PROG}: error: {message}\n")
    if hint:
        sys.stderr.write(f"{PROG}: hint: {hint}\n")
    return status
