"""``cf-ai-gateway-emulator``: ``serve`` the emulator, or print the default ``config``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .config import DEFAULT_CONFIG_TOML, ConfigError

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
    serve.add_argument("--port", type=int, default=8787, help="port (default 8787)")
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
    sub.add_parser("config", help="print the built-in default configuration (TOML)")
    return parser


def _banner(host: str, port: int, state: object) -> None:
    from rich.console import Console
    from rich.table import Table

    from .state import EmulatorState

    assert isinstance(state, EmulatorState)
    console = Console(stderr=True)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    base = f"http://{shown_host}:{port}"
    account = state.config.default_account
    token = state.accounts[account].api_tokens[0]
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "config":
        sys.stdout.write(DEFAULT_CONFIG_TOML)
        return 0
    import uvicorn

    from .app import create_app
    from .state import EmulatorState

    try:
        state = EmulatorState(args.config, db=args.db)
    except ConfigError as exc:
        sys.stderr.write(f"cf-ai-gateway-emulator: invalid configuration: {exc}\n")
        return 2
    _banner(args.host, args.port, state)
    uvicorn.run(
        create_app(state=state),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.log_level in ("info", "debug"),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
