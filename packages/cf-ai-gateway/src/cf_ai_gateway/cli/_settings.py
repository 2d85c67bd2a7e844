"""Where the CLI's configuration comes from: flags first, then the environment, exactly as
``Gateway.from_env()`` and ``ManagementClient.from_env()`` read it. Remembers the source of
each value (``--url``, ``CF_AIG_URL``, ``CF_AIG_TOKEN``...) so messages can name it, never the
value of a secret."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..config import (
    ENV_ACCOUNT_ID,
    ENV_API_BASE_URL,
    ENV_GATEWAY_ID,
    ENV_GATEWAY_URL,
    ENV_PROVIDER_API_KEY,
    ENV_TOKEN,
    Gateway,
    GatewayConfigError,
)
from ..management import ENV_API_TOKEN, ManagementClient
from ..retry import NO_RETRY

__all__ = ["Settings", "add_connection_options", "resolve"]


def add_connection_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """The options every command takes (``suppress``: for a nested subcommand, so it does not
    reset what its parent command already parsed)."""
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("connection (flags win over the environment)")
    group.add_argument(
        "--url",
        default=default,
        help=f"a gateway URL of any shape (default: ${ENV_GATEWAY_URL[0]})",
    )
    group.add_argument(
        "--account-id", default=default, help=f"Cloudflare account id (${ENV_ACCOUNT_ID[0]})"
    )
    group.add_argument(
        "--gateway-id", "--gateway", default=default, help=f"gateway id (${ENV_GATEWAY_ID[0]})"
    )
    group.add_argument(
        "--token",
        default=default,
        help=f"Cloudflare API token (prefer ${ENV_TOKEN[0]}: flags show in the process list)",
    )
    group.add_argument(
        "--api-base-url",
        default=default,
        help=f"management API host, for a proxy (${ENV_API_BASE_URL[0]})",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=argparse.SUPPRESS if suppress else 30.0,
        help="seconds per request (default 30)",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="print JSON instead of text (exit status is the same)",
    )
    out.add_argument(
        "--plain",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="plain aligned text even when rich is installed",
    )


def _first(names: tuple[str, ...], environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value, name
    return None, None


@dataclass
class Settings:
    """The resolved configuration, with where each part came from."""

    environ: Mapping[str, str]
    gateway: Gateway | None
    gateway_problem: str | None
    gateway_source: str | None
    url: str | None
    gateway_token_source: str | None
    api_token: str | None
    api_token_source: str | None
    provider_key: str | None
    provider_key_source: str | None
    account_id: str | None
    gateway_id: str | None
    api_base_url: str | None
    timeout: float

    def require_gateway(self) -> Gateway:
        if self.gateway is None:
            raise GatewayConfigError(self.gateway_problem or "no gateway configured")
        return self.gateway

    def management(self, http: httpx.Client | None = None) -> ManagementClient:
        """A management client for this account and gateway (no retries: a CLI answers now)."""
        if not self.account_id:
            raise GatewayConfigError(
                f"the management API needs the account id: set {ENV_ACCOUNT_ID[0]} or "
                f"{ENV_GATEWAY_URL[0]}, or pass --account-id or --url"
            )
        if not self.api_token:
            raise GatewayConfigError(
                "the management API needs an account API token: set "
                f"{' or '.join(ENV_API_TOKEN)}, or pass --token"
            )
        kwargs: dict[str, Any] = {
            "gateway_id": self.gateway_id,
            "timeout": self.timeout,
            "retry": NO_RETRY,
            "http_client": http,
        }
        if self.api_base_url:
            kwargs["api_base_url"] = self.api_base_url
        return ManagementClient(self.account_id, self.api_token, **kwargs)


def resolve(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """Resolve the configuration; never raises (problems are recorded for the commands)."""
    env = dict(environ)
    url: str | None = getattr(args, "url", None)
    token: str | None = getattr(args, "token", None)
    account_flag: str | None = getattr(args, "account_id", None)
    gateway_flag: str | None = getattr(args, "gateway_id", None)
    api_flag: str | None = getattr(args, "api_base_url", None)
    if url:
        # A URL on the command line wins over every gateway setting in the environment.
        for name in (*ENV_GATEWAY_URL, *ENV_ACCOUNT_ID, *ENV_GATEWAY_ID):
            env.pop(name, None)
        env[ENV_GATEWAY_URL[0]] = url
        source = "--url"
    else:
        url, env_name = _first(ENV_GATEWAY_URL, env)
        account_name = _first(ENV_ACCOUNT_ID, env)[1]
        gateway_name = _first(ENV_GATEWAY_ID, env)[1]
        if env_name:
            source = env_name
        elif account_name or gateway_name:
            source = " + ".join(n for n in (account_name, gateway_name) if n)
        else:
            source = "flags"
    if account_flag or gateway_flag:
        source = f"{source} and flags" if source != "flags" else source

    gateway: Gateway | None = None
    problem: str | None = None
    try:
        gateway = Gateway.from_env(
            env,
            account_id=account_flag,
            gateway_id=gateway_flag,
            token=token,
            api_base_url=api_flag,
        )
    except GatewayConfigError as exc:
        problem = str(exc)

    gateway_token_source = "--token" if token else _first(ENV_TOKEN, env)[1]
    api_token, api_token_source = (token, "--token") if token else _first(ENV_API_TOKEN, env)
    provider_key, provider_source = _first((ENV_PROVIDER_API_KEY,), env)
    account = account_flag or (gateway.account_id if gateway else None)
    if not account:
        account = _first(ENV_ACCOUNT_ID, env)[0]
    gateway_id = gateway_flag or (gateway.gateway_id if gateway else None)
    if not gateway_id:
        gateway_id = _first(ENV_GATEWAY_ID, env)[0]
    api_base = api_flag or (gateway.api_base_url if gateway else _first(ENV_API_BASE_URL, env)[0])
    return Settings(
        environ=env,
        gateway=gateway,
        gateway_problem=problem,
        gateway_source=source,
        url=url,
        gateway_token_source=gateway_token_source,
        api_token=api_token,
        api_token_source=api_token_source,
        provider_key=provider_key,
        provider_key_source=provider_source,
        account_id=account,
        gateway_id=gateway_id,
        api_base_url=api_base,
        timeout=float(getattr(args, "timeout", 30.0) or 30.0),
    )
