"""``cf-ai-gateway-emulator``: ``serve`` the emulator, or print the default ``config``."""

from __future__ import annotations

import argparse
import signal
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import DEFAULT_CONFIG_TOML, DEFAULT_TOKEN, ConfigError
from .listening import KEEP_ALIVE_S, listening_socket

if TYPE_CHECKING:
    from .state import EmulatorState

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cf-ai-gateway-emulator",
        description="A local, offline emulator of Cloudflare AI Gateway with a mock LLM.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the emulator (HTTP on 127.0.0.1 by default)")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; only change it on purpose)",
    )
    serve.add_argument(
        "--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)"
    )
    serve.add_argument("--config", metavar="FILE", help="TOML config (default: built-in)")
    serve.add_argument(
        "--db",
        default=":memory:",
        metavar="PATH|:memory:",
        help="SQLite database for logs and cache (default :memory:)",
    )
    serve.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--quiet",
        action="store_true",
        help="no line per request on stderr (method, path, gateway, status, cache, time, log id)",
    )
    sub.add_parser("config", help="print the built-in default configuration (TOML)")
    return parser


def _shown_token(token: str) -> str:
    """The built-in token is public (it is in the docs); a configured one is a secret."""
    return token if token == DEFAULT_TOKEN else "<the first of your api_tokens>"


def _banner(base: str, state: EmulatorState) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, soft_wrap=True)
    account = state.config.default_account
    token = _shown_token(state.accounts[account].api_tokens[0])
    table = Table(title=f"cf-ai-gateway-emulator {__version__} on {base}", show_header=True)
    table.add_column("gateway")
    table.add_column("settings")
    for gw in state.accounts[account].gateways.values():
        bits = []
        if gw.authentication:
            bits.append("auth")
        if gw.cache_ttl:
            bits.append(f"cache {gw.cache_ttl}s")
        if gw.rate_limited:
            bits.append(
                f"rate {gw.rate_limiting_limit}/{gw.rate_limiting_interval}s "
                f"{gw.rate_limiting_technique}"
            )
        if gw.retry_max_attempts > 1:
            bits.append(f"retries {gw.retry_max_attempts}")
        if gw.routes:
            bits.append("routes: " + ", ".join(gw.routes))
        table.add_row(gw.id, ", ".join(bits) or "open")
    console.print(table)
    console.print(f"Gateway URL:  {base}/v1/{account}/{{gateway}}")
    console.print(f"OpenAI SDK:   base_url={base}/v1/{account}/demo/compat")
    console.print("Environment for cf_ai_gateway.Gateway.from_env():")
    console.print(f"  export CF_AIG_URL={base}/v1/{account}/demo")
    console.print(f"  export CF_AIG_TOKEN={token}")
    console.print("Press Ctrl+C to stop.")


def _fail(message: str) -> int:
    sys.stderr.write(f"cf-ai-gateway-emulator: {message}\n")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "config":
        sys.stdout.write(DEFAULT_CONFIG_TOML)
        return 0
    import uvicorn

    from .app import create_app
    from .state import EmulatorState

    if not 0 <= args.port <= 65535:
        return _fail(f"invalid --port: --port={args.port!r} must be 0..65535 (0 = a free port)")
    try:
        # A Path, so that a file name not ending in .toml is still read as a file.
        state = EmulatorState(Path(args.config) if args.config else None, db=args.db)
    except ConfigError as exc:
        return _fail(f"invalid configuration: {exc}")
    except (sqlite3.Error, OSError) as exc:
        return _fail(f"invalid --db: --db={args.db!r} cannot be opened ({exc})")
    # Bind before printing anything, so ``--port 0`` prints the port the OS picked.
    try:
        sock = listening_socket(args.host, args.port)
    except OSError as exc:
        state.storage.close()
        return _fail(f"cannot listen on --host={args.host!r} --port={args.port!r} ({exc})")
    port = sock.getsockname()[1]
    shown_host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(args.host, args.host)
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    base = f"http://{shown_host}:{port}"
    # One plain, machine-readable line on stdout (scripts and tests read it), the rest on stderr.
    sys.stdout.write(f"cf-ai-gateway-emulator listening on {base}\n")
    sys.stdout.flush()
    _banner(base, state)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(state=state, log_requests=not args.quiet),
            log_level=args.log_level,
            access_log=False,  # our own line per request replaces uvicorn's
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_S,
        )
    )
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal with the
    # previous handler: make that a quiet exit 0 instead of a KeyboardInterrupt traceback or a
    # death by signal.
    previous = signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
        state.storage.close()
    return 0


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    raise SystemExit(main())
