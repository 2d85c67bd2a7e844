"""``cf-ai-gateway doctor``: what is wrong between this machine and the gateway, and how to fix
it. Each check makes at most one cheap request; a failure names its cause and its fix.

=================  ==========================================================================
check              what it looks at
=================  ==========================================================================
configuration      the gateway from flags / environment, the pasted URL normalised (no request)
token              the Cloudflare token's source and shape (no request)
provider key       provider key or BYOK / Unified Billing; with ``--model``, one tiny chat call
reachability       ``GET`` the gateway root: any HTTP answer means the host is reachable
gateway            ``POST`` an empty universal request: 2001 means the gateway does not exist
authentication     2009 from that request: was a ``cf-aig-authorization`` header sent at all?
                   (one more request tells an account token from a gateway token, or whether
                   the gateway needs a token at all)
management API     ``GET`` the gateway's settings with the token (the ``logs`` commands need it)
=================  ==========================================================================

The empty universal request (``[]``) is rejected by the gateway after it has looked the gateway
up and checked its token, before any provider is called: nothing is billed or logged.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from .. import wire
from .._requests import USER_AGENT
from ..client import GatewayClient
from ..config import (
    ENV_ACCOUNT_ID,
    ENV_GATEWAY_ID,
    ENV_GATEWAY_URL,
    ENV_PROVIDER_API_KEY,
    ENV_TOKEN,
    Gateway,
)
from ..errors import (
    ByokCredentialError,
    GatewayAuthenticationError,
    GatewayError,
    GatewayNotFoundError,
    InsufficientBalanceError,
    ProviderAuthenticationError,
    RateLimitError,
    error_from_response,
    redact,
)
from ..management import ENV_API_TOKEN, ManagementClient
from ..options import GatewayOptions
from ..providers import get_provider, split_model
from ..retry import NO_RETRY
from ._settings import Settings

__all__ = ["Check", "Status", "run_doctor"]

Status = Literal["ok", "warn", "fail", "skip"]

_PROVIDER_KEY_SHAPES = (
    (re.compile(r"^sk-ant-"), "an Anthropic key (sk-ant-...)"),
    (re.compile(r"^sk-(proj-|svcacct-)?[A-Za-z0-9_-]{16,}$"), "an OpenAI-style key (sk-...)"),
    (re.compile(r"^AIza[0-9A-Za-z_-]{20,}$"), "a Google API key (AIza...)"),
    (re.compile(r"^gsk_"), "a Groq key (gsk_...)"),
    (re.compile(r"^xai-"), "an xAI key (xai-...)"),
    (re.compile(r"^r8_"), "a Replicate token (r8_...)"),
    (re.compile(r"^hf_"), "a Hugging Face token (hf_...)"),
)
_OTHER_PROVIDER_ENV = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY", "MISTRAL_API_KEY")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")


@dataclass
class Check:
    """One diagnosis: ``status`` and a one-line ``summary``; a failure (or warning) says its
    ``cause`` and the ``fix``."""

    name: str
    status: Status
    summary: str
    cause: str | None = None
    fix: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status, "summary": self.summary}
        if self.cause:
            out["cause"] = self.cause
        if self.fix:
            out["fix"] = self.fix
        if self.details:
            out["details"] = self.details
        return out


@dataclass
class _Probe:
    """The gateway's answer to the empty universal request."""

    status_code: int
    error: GatewayError | None
    gateway_like: bool
    token_sent: bool
    elapsed_ms: int


def _provider_key_shape(value: str) -> str | None:
    for pattern, what in _PROVIDER_KEY_SHAPES:
        if pattern.search(value):
            return what
    return None


def _token_problem(token: str, source: str) -> tuple[str, str] | None:
    """(cause, fix) when the token cannot be right, judged from its shape alone."""
    if token.lower().startswith("bearer "):
        return (
            f"{source} starts with 'Bearer ': the client adds that prefix itself, so the "
            "gateway receives 'Bearer Bearer ...' and rejects it (2009)",
            f"set {source} to the token alone, without 'Bearer '",
        )
    if token[:1] in "'\"" or token[-1:] in "'\"":
        return (
            f"{source} is wrapped in quotes, which become part of the token",
            f"remove the quotes around the value of {source}",
        )
    shape = _provider_key_shape(token)
    if shape:
        return (
            f"{source} holds what looks like {shape}, not a Cloudflare API token: the gateway "
            "checks cf-aig-authorization against Cloudflare tokens only (2009)",
            f"put the provider key in {ENV_PROVIDER_API_KEY} (or store it in the gateway: BYOK) "
            f"and set {source} to a Cloudflare API token",
        )
    return None


def _describe_error(err: GatewayError) -> str:
    parts = [f"HTTP {err.status_code}" if err.status_code else "no HTTP status"]
    if err.code is not None:
        parts.append(f"code {err.code}")
    return f"{err.message} ({', '.join(parts)})"


class _Doctor:
    def __init__(
        self,
        settings: Settings,
        http: httpx.Client,
        *,
        model: str | None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.settings = settings
        self.http = http
        self.model = model
        self.clock = clock
        self.checks: list[Check] = []
        gateway_token = settings.gateway.token if settings.gateway else None
        self.secrets = tuple(
            s for s in (settings.api_token, settings.provider_key, gateway_token) if s
        )

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def skip(self, *names: str, why: str) -> None:
        for name in names:
            self.add(Check(name, "skip", f"skipped: {why}"))

    # --- no requests ------------------------------------------------------------------------

    def configuration(self) -> Gateway | None:
        s = self.settings
        if s.gateway is None:
            self.add(
                Check(
                    "configuration",
                    "fail",
                    "no gateway configured",
                    cause=s.gateway_problem,
                    fix=f"set {ENV_GATEWAY_URL[0]} to your gateway URL (any shape, e.g. "
                    f"{wire.DEFAULT_BASE_URL}/ACCOUNT_ID/GATEWAY_ID), or {ENV_ACCOUNT_ID[0]} and "
                    f"{ENV_GATEWAY_ID[0]}; or pass --url",
                )
            )
            return None
        gw = s.gateway
        details: dict[str, Any] = {"gateway_url": gw.root_url, "source": s.gateway_source}
        notes = []
        if s.url:
            try:
                from ..urls import parse_gateway_url

                parsed = parse_gateway_url(s.url)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.surface != "universal":
                target = parsed.provider or parsed.surface
                notes.append(f"the URL pointed at {target!r}; its gateway root is used")
                details["url_pointed_at"] = target
        if s.url and re.search(r"/v1/+v1(/|$)", urlsplit(s.url).path):
            self.add(
                Check(
                    "configuration",
                    "warn",
                    f"gateway {gw.gateway_id!r} at {gw.root_url} (from {s.gateway_source})",
                    cause=f"the URL ({s.gateway_source}) contains a doubled /v1 ('/v1/v1'): a "
                    "client that appends paths to it will call a path that does not exist",
                    fix="use the gateway root (below) and let each SDK add its own path: run "
                    "`cf-ai-gateway url` for the base URL every SDK wants",
                    details=details,
                )
            )
            return gw
        summary = f"gateway {gw.gateway_id!r} at {gw.root_url} (from {s.gateway_source})"
        if gw.custom_domain:
            summary = f"custom-domain gateway at {gw.root_url} (from {s.gateway_source})"
        if notes:
            summary += "; " + "; ".join(notes)
        self.add(Check("configuration", "ok", summary, details=details))
        return gw

    def token(self) -> None:
        s = self.settings
        gw_token = s.gateway.token if s.gateway else None
        if not gw_token and not s.api_token:
            self.add(
                Check(
                    "token",
                    "warn",
                    "no Cloudflare API token set",
                    cause="without a token no cf-aig-authorization header is sent: fine for a "
                    "gateway without authentication; an authenticated gateway answers 2009, and "
                    "the logs and gateways commands need an account API token",
                    fix=f"set {ENV_TOKEN[0]} (gateway requests) and, for the management API, "
                    f"{ENV_API_TOKEN[0]} if it needs another token",
                )
            )
            return
        for token, source in (
            (gw_token, s.gateway_token_source),
            (s.api_token, s.api_token_source),
        ):
            if not token:
                continue
            problem = _token_problem(token, source or "the token")
            if problem:
                self.add(Check("token", "fail", "the token cannot be right", *problem))
                return
        parts = []
        if gw_token:
            parts.append(f"gateway requests use {s.gateway_token_source}")
        if s.api_token:
            parts.append(f"the management API uses {s.api_token_source}")
        self.add(Check("token", "ok", "; ".join(parts) + " (values are never shown)"))

    def provider_key_mode(self) -> tuple[str, str | None]:
        """A summary of who supplies the provider credential, and a note (no request)."""
        s = self.settings
        if s.provider_key:
            return (
                f"a provider key is in play ({s.provider_key_source}): sent as the provider's "
                "credential header, so a key stored in the gateway (BYOK) is not used",
                None,
            )
        note = None
        stray = [name for name in _OTHER_PROVIDER_ENV if s.environ.get(name)]
        if stray:
            note = (
                f"{', '.join(stray)} is set but cf-ai-gateway ignores it (it reads "
                f"{ENV_PROVIDER_API_KEY} only); an SDK pointed at the gateway would send it, and "
                "any provider credential stops the gateway from using its stored key"
            )
        return (
            "no provider key: BYOK / Unified Billing (requests carry no provider credential, so "
            "the gateway uses the key stored for the provider, or Unified Billing credits)",
            note,
        )

    # --- requests ---------------------------------------------------------------------------

    def reachability(self, gw: Gateway) -> bool:
        url = gw.root_url
        host = urlsplit(url).hostname or ""
        started = self.clock()
        try:
            response = self.http.get(url, headers={"user-agent": USER_AGENT})
        except httpx.TimeoutException as exc:
            self.add(
                Check(
                    "reachability",
                    "fail",
                    f"no answer from {host} in time",
                    cause=redact(f"{type(exc).__name__}: {exc}", self.secrets),
                    fix="check the network, a proxy (HTTPS_PROXY) or firewall; raise --timeout "
                    "if the link is slow",
                )
            )
            return False
        except httpx.HTTPError as exc:
            local = host in _LOCAL_HOSTS
            self.add(
                Check(
                    "reachability",
                    "fail",
                    f"could not connect to {host}",
                    cause=redact(f"{type(exc).__name__}: {exc}", self.secrets),
                    fix="start the emulator (`cf-ai-gateway-emulator serve`) or fix the port in "
                    f"{ENV_GATEWAY_URL[0]}"
                    if local
                    else "check the host name in the URL, DNS, a proxy (HTTPS_PROXY) and "
                    "firewall rules; a custom domain must route to the gateway",
                )
            )
            return False
        elapsed = int((self.clock() - started) * 1000)
        self.add(
            Check(
                "reachability",
                "ok",
                f"{host} answered HTTP {response.status_code} in {elapsed} ms",
                details={"status_code": response.status_code, "elapsed_ms": elapsed},
            )
        )
        return True

    def probe(self, gw: Gateway, *, with_token: bool) -> _Probe:
        headers = {"user-agent": USER_AGENT, "content-type": "application/json"}
        token_sent = bool(with_token and gw.token)
        if token_sent:
            headers[wire.H_AUTHORIZATION] = f"Bearer {gw.token}"
        started = self.clock()
        response = self.http.post(gw.universal_url(), headers=headers, content=b"[]")
        elapsed = int((self.clock() - started) * 1000)
        error = None
        if not response.is_success:
            error = error_from_response(
                response.status_code, response.headers, response.content, secrets=self.secrets
            )
        gateway_like = (error is not None and error.code is not None) or any(
            k.lower().startswith(wire.HEADER_PREFIX) for k in response.headers
        )
        return _Probe(response.status_code, error, gateway_like, token_sent, elapsed)

    def gateway_exists(self, gw: Gateway, probe: _Probe) -> bool:
        err = probe.error
        name = "gateway"
        if isinstance(err, GatewayNotFoundError):
            self.add(
                Check(
                    name,
                    "fail",
                    f"{wire.CODE_GATEWAY_NOT_FOUND}: gateway {gw.gateway_id!r} does not exist on "
                    f"account {gw.account_id!r}",
                    cause=f"the gateway answered: {_describe_error(err)}",
                    fix=f"check {ENV_GATEWAY_ID[0]} / the URL against the dashboard (AI > AI "
                    "Gateway); create the gateway there or with "
                    "ManagementClient.create_gateway(); only 'default' is created on first use",
                )
            )
            return False
        if not probe.gateway_like:
            self.add(
                Check(
                    name,
                    "fail",
                    f"{gw.root_url} does not answer like AI Gateway (HTTP {probe.status_code})",
                    cause="no gateway error code and no cf-aig-* header in the answer: the URL "
                    "reaches some other server (a wrong host or path prefix, or a proxy)",
                    fix="use the gateway URL from the dashboard: "
                    f"{wire.DEFAULT_BASE_URL}/ACCOUNT_ID/GATEWAY_ID",
                )
            )
            return False
        if isinstance(err, RateLimitError):
            self.add(
                Check(
                    name,
                    "warn",
                    f"gateway {gw.gateway_id!r} exists but is rate limiting now",
                    cause=_describe_error(err),
                    fix="wait, or raise rate_limiting_limit in the gateway's settings",
                )
            )
            return True
        how = (
            "asked for authentication"
            if isinstance(err, GatewayAuthenticationError)
            else (f"HTTP {probe.status_code} to the empty probe")
        )
        self.add(
            Check(name, "ok", f"gateway {gw.gateway_id!r} exists ({how}, {probe.elapsed_ms} ms)")
        )
        return True

    def authentication(self, gw: Gateway, probe: _Probe) -> bool | None:
        """Returns whether the gateway accepted the token (``None``: no token to judge)."""
        s = self.settings
        name = "authentication"
        if isinstance(probe.error, GatewayAuthenticationError):
            code = wire.CODE_UNAUTHORIZED
            if not probe.token_sent:
                self.add(
                    Check(
                        name,
                        "fail",
                        f"{code}: the gateway requires authentication and no "
                        f"{wire.H_AUTHORIZATION} header was sent",
                        cause="authentication is on for this gateway and no Cloudflare token "
                        "is configured",
                        fix=f"set {ENV_TOKEN[0]} to a Cloudflare API token with the AI "
                        "Gateway Run permission (the gateway's Settings > Create authentication "
                        "token), or turn Authenticated Gateway off",
                    )
                )
                return None
            cause, fix = self._rejected_token(gw)
            self.add(
                Check(
                    name,
                    "fail",
                    f"{code}: a {wire.H_AUTHORIZATION} header was sent (token from "
                    f"{s.gateway_token_source}), but the gateway rejected the token",
                    cause=cause,
                    fix=fix,
                )
            )
            return False
        if not probe.token_sent:
            self.add(Check(name, "ok", "off: the gateway takes requests without a token"))
            return None
        without = self.probe(gw, with_token=False)
        if isinstance(without.error, GatewayAuthenticationError):
            self.add(Check(name, "ok", "on, and the token is accepted"))
        else:
            self.add(
                Check(
                    name,
                    "ok",
                    "off: the gateway takes requests without a token (the token is sent but "
                    "not needed; turn Authenticated Gateway on to require it)",
                )
            )
        return True

    def _rejected_token(self, gw: Gateway) -> tuple[str, str]:
        """Tell an account API token (the management API takes it) from a bad one."""
        s = self.settings
        try:
            mgmt = ManagementClient(
                gw.account_id or "",
                gw.token or "",
                gateway_id=gw.gateway_id,
                api_base_url=gw.api_base_url,
                timeout=s.timeout,
                retry=NO_RETRY,
                http_client=self.http,
            )
            mgmt.get_gateway()
        except GatewayAuthenticationError:
            return (
                "neither the gateway nor the management API accepts this token: it is invalid, "
                "expired or revoked, or it belongs to another account",
                "create a new token (the gateway's Settings > Create authentication token, "
                f"which has the Run permission) and set it as {ENV_TOKEN[0]}",
            )
        except (GatewayError, ValueError) as exc:
            return (
                "the gateway does not accept this token ("
                + redact(str(exc), self.secrets)
                + " when asking the management API about it)",
                f"set {ENV_TOKEN[0]} to a token with the AI Gateway Run permission for this "
                "account (the gateway's Settings > Create authentication token)",
            )
        return (
            "this token is an account API token: the management API accepts it, but it lacks "
            "the AI Gateway Run permission the gateway checks in cf-aig-authorization",
            "create a gateway token (the gateway's Settings > Create authentication token, "
            f"with Run permission) and set it as {ENV_TOKEN[0]}; keep the account token "
            f"in {ENV_API_TOKEN[0]} for the management API (logs, gateways, feedback)",
        )

    def management(
        self, gw: Gateway, gateway_accepted_token: bool | None, *, gateway_missing: bool = False
    ) -> None:
        s = self.settings
        name = "management API"
        if not s.api_token:
            self.skip(name, why=f"no token ({' or '.join(ENV_API_TOKEN)})")
            return
        try:
            mgmt = s.management(self.http)
            settings = mgmt.get_gateway(gw.gateway_id)
        except GatewayAuthenticationError as err:
            cause = f"the management API rejected the token from {s.api_token_source}: " + (
                _describe_error(err)
            )
            if gateway_accepted_token and (gw.token == s.api_token):
                cause += (
                    "; the gateway accepts this token, so it is a gateway (Run) token, not an "
                    "account API token"
                )
            self.add(
                Check(
                    name,
                    "warn",
                    "the logs, gateways and feedback commands will not work with this token",
                    cause=cause,
                    fix=f"set {ENV_API_TOKEN[0]} to an account API token with AI Gateway Read "
                    "(Edit for feedback); it is used for the management API only",
                )
            )
            return
        except GatewayNotFoundError as err:
            if gateway_missing:  # already a failure above: say that the API agrees
                self.add(
                    Check(
                        name,
                        "skip",
                        f"token accepted; the API agrees: no gateway {gw.gateway_id!r}",
                    )
                )
                return
            self.add(
                Check(
                    name,
                    "fail",
                    f"the management API does not know gateway {gw.gateway_id!r}",
                    cause=_describe_error(err),
                    fix=f"check {ENV_GATEWAY_ID[0]} and {ENV_ACCOUNT_ID[0]}",
                )
            )
            return
        except GatewayError as err:
            wrong_account = err.code in (wire.CODE_API_NO_ROUTE, wire.CODE_API_COULD_NOT_ROUTE)
            self.add(
                Check(
                    name,
                    "fail" if wrong_account else "warn",
                    "the management API answered with an error",
                    cause=_describe_error(err),
                    fix=f"check {ENV_ACCOUNT_ID[0]} ({gw.account_id!r}): the API finds no such "
                    "account"
                    if wrong_account
                    else "see the cause; run the command again later if it is transient",
                )
            )
            return
        except ValueError as exc:
            self.skip(name, why=str(exc))
            return
        ttl = f"{settings.cache_ttl}s" if settings.cache_ttl else "off"
        rate = (
            f"{settings.rate_limiting_limit}/{settings.rate_limiting_interval}s "
            f"{settings.rate_limiting_technique}"
            if settings.rate_limiting_limit
            else "off"
        )
        summary = (
            f"token accepted; cache {ttl}, logs {'on' if settings.collect_logs else 'off'}, "
            f"authentication {'on' if settings.authentication else 'off'}, rate limit {rate}"
        )
        if not settings.collect_logs:
            self.add(
                Check(
                    name,
                    "warn",
                    summary,
                    cause="collect_logs is off: the gateway stores no logs, so `cf-ai-gateway "
                    "logs` shows nothing (requests can still turn it on with cf-aig-collect-log)",
                    fix="turn logging on in the gateway's settings",
                    details=settings.to_dict(),
                )
            )
            return
        self.add(Check(name, "ok", summary, details=settings.to_dict()))

    def provider(self, gw: Gateway | None, reachable: bool) -> None:
        s = self.settings
        name = "provider key"
        summary, note = self.provider_key_mode()
        if s.provider_key and s.provider_key in {
            t for t in (s.api_token, gw.token if gw else None) if t
        }:
            self.add(
                Check(
                    name,
                    "fail",
                    "the provider key is the Cloudflare token",
                    cause=f"{s.provider_key_source} holds the same value as the Cloudflare token: "
                    "the provider will reject it",
                    fix=f"set {ENV_PROVIDER_API_KEY} to the provider's own key, or unset it to "
                    "use BYOK / Unified Billing",
                )
            )
            return
        if not self.model or gw is None or not reachable:
            self.add(
                Check(
                    name,
                    "warn" if note else "ok",
                    summary,
                    cause=note,
                    fix=f"unset {', '.join(_OTHER_PROVIDER_ENV[:1])} in apps that point an SDK "
                    "at the gateway, if you mean to use BYOK"
                    if note
                    else None,
                    details={"checked_with_a_request": False},
                )
            )
            return
        try:
            split_model(self.model)
            get_provider(split_model(self.model)[0])
        except ValueError as exc:
            self.add(
                Check(
                    name,
                    "fail",
                    f"--model {self.model!r} is not usable",
                    cause=str(exc),
                    fix="name the model as provider/model, e.g. openai/gpt-4o-mini",
                )
            )
            return
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": "ping"}],
            "max_tokens": 1,
        }
        options = GatewayOptions(skip_cache=True, metadata={"source": "cf-ai-gateway doctor"})
        client = GatewayClient(
            gw, api_key=s.provider_key, retry=NO_RETRY, http_client=self.http, timeout=s.timeout
        )
        sent = f"with the key from {s.provider_key_source}" if s.provider_key else "with no key"
        try:
            result = client.chat_completions(body, options=options)
        except ProviderAuthenticationError as err:
            if s.provider_key:
                cause = f"the provider rejected the key from {s.provider_key_source}"
                fix = f"check {ENV_PROVIDER_API_KEY} (expired, revoked, or for another project)"
            else:
                cause = (
                    "no provider key was sent and the provider answered as if none was "
                    "stored: the gateway has no BYOK key for this provider and Unified Billing "
                    "did not apply"
                )
                fix = (
                    "store the provider key in the gateway (Provider Keys / BYOK), or set "
                    f"{ENV_PROVIDER_API_KEY}"
                )
            self.add(
                Check(
                    name,
                    "fail",
                    f"{self.model} refused the request {sent}",
                    cause=f"{cause}: {_describe_error(err)}",
                    fix=fix,
                )
            )
            return
        except ByokCredentialError as err:
            self.add(
                Check(
                    name,
                    "fail",
                    f"{wire.CODE_BYOK_MISSING_KEY}: no stored key for this provider (BYOK)",
                    cause=_describe_error(err),
                    fix="store the key in the gateway under the alias in use (default "
                    f"'default', or cf-aig-byok-alias), or set {ENV_PROVIDER_API_KEY}",
                )
            )
            return
        except InsufficientBalanceError as err:
            self.add(
                Check(
                    name,
                    "fail",
                    "Unified Billing has no credits for this request",
                    cause=_describe_error(err),
                    fix=f"add credits, store a BYOK key, or set {ENV_PROVIDER_API_KEY}",
                )
            )
            return
        except GatewayError as err:
            self.add(
                Check(
                    name,
                    "warn" if err.retryable else "fail",
                    f"{self.model} did not answer",
                    cause=_describe_error(err),
                    fix="see the cause"
                    + (
                        f"; log id {err.log_id}: `cf-ai-gateway logs show {err.log_id}`"
                        if err.log_id
                        else ""
                    ),
                )
            )
            return
        self.add(
            Check(
                name,
                "ok",
                f"{summary}; {self.model} answered {sent} (log id {result.info.log_id})",
                details={"checked_with_a_request": True, "log_id": result.info.log_id},
            )
        )

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> list[Check]:
        gw = self.configuration()
        self.token()
        if gw is None:
            self.provider(None, False)
            self.skip(
                "reachability",
                "gateway",
                "authentication",
                "management API",
                why="no gateway configured",
            )
            return self.checks
        reachable = self.reachability(gw)
        if not reachable:
            self.provider(gw, False)
            self.skip(
                "gateway", "authentication", "management API", why="the gateway is unreachable"
            )
            return self.checks
        try:
            probe = self.probe(gw, with_token=True)
        except httpx.HTTPError as exc:
            self.add(
                Check(
                    "gateway",
                    "fail",
                    "the gateway stopped answering",
                    cause=redact(f"{type(exc).__name__}: {exc}", self.secrets),
                    fix="run the doctor again; if it persists, check the network or the host",
                )
            )
            return self.checks
        accepted: bool | None = None
        exists = self.gateway_exists(gw, probe)
        if exists:
            accepted = self.authentication(gw, probe)
        else:
            self.skip("authentication", why="the gateway does not exist")
        self.management(gw, accepted, gateway_missing=isinstance(probe.error, GatewayNotFoundError))
        if isinstance(probe.error, GatewayAuthenticationError):
            self.skip("provider key", why="the gateway rejects requests before any provider")
        else:
            self.provider(gw, exists)
        return self.checks


_ORDER = (
    "configuration",
    "token",
    "reachability",
    "gateway",
    "authentication",
    "management API",
    "provider key",
)


def run_doctor(settings: Settings, http: httpx.Client, *, model: str | None = None) -> list[Check]:
    """Run every check (in the documented order) and return them; never raises for what it
    diagnoses."""
    checks = _Doctor(settings, http, model=model).run()
    return sorted(checks, key=lambda c: _ORDER.index(c.name) if c.name in _ORDER else 99)
