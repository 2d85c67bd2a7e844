"""Which provider credential a step uses, and the money checks before it is sent (Cloudflare's
BYOK, Unified Billing and Spend limits pages).

1. **The caller's key**: a provider credential header on the request (any of
   ``wire.SECRET_HEADERS`` but the gateway's own ``cf-aig-authorization``) is used as sent.
2. **BYOK**: else the key the gateway stores for the provider under ``cf-aig-byok-alias``
   (``default`` without the header) goes into the provider's credential header. An alias sent
   that has no key answers 400, code 2040.
3. **Unified Billing**: else the gateway pays. ``cf-aig-no-wholesale: true`` refuses that
   (400, code 2040: no credential; Cloudflare documents the 400 but no code, 2040 is our
   choice); exhausted credits answer 402, code 2005 (Cloudflare's observed insufficient
   balance: its 2021 is the guardrails scanner's credits).
4. **Spend limits** (BYOK and Unified Billing requests): a rule at or over its limit answers
   429, code 2041 (our choice: Cloudflare documents no code), with ``Retry-After`` = seconds
   until its window ends.

The refusals are answers of the step (so a universal request moves on to its next step), and
the step's log says where the credential came from (``credential_source``: ``caller``,
``byok`` or ``unified_billing``; ``byok_alias``: the alias used): two fields the emulator
adds, Cloudflare's logs document none. A stored key is never logged, echoed or cached under.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cf_ai_gateway import wire
from cf_ai_gateway.errors import gateway_error_body
from cf_ai_gateway.providers import auth_headers, get_provider

from ..config import SpendLimit
from ..exchange import UpstreamResponse
from .context import RequestContext
from .request_headers import bool_header

__all__ = ["Credential", "charge", "resolve_credential", "spend_refusal"]

CredentialSource = Literal["caller", "byok", "unified_billing"]

_NOT_PROVIDER_KEYS = (wire.H_AUTHORIZATION, "proxy-authorization")


@dataclass(frozen=True)
class Credential:
    """Where a step's provider credential comes from, and the headers the gateway adds."""

    source: CredentialSource
    alias: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


def _refusal(code: int, message: str, status: int, **headers: str) -> UpstreamResponse:
    body = json.dumps(gateway_error_body(code, message, status)).encode()
    return UpstreamResponse(status, {"content-type": "application/json", **headers}, body)


def resolve_credential(
    ctx: RequestContext, provider: str, headers: Mapping[str, str]
) -> Credential | UpstreamResponse:
    """The credential of a step to ``provider``, or the gateway's refusal (see above)."""
    if any(headers.get(name) for name in wire.SECRET_HEADERS if name not in _NOT_PROVIDER_KEYS):
        return Credential("caller")
    gateway = ctx.gateway
    asked = headers.get(wire.H_BYOK_ALIAS, "").strip()
    alias = asked or "default"
    stored = gateway.provider_keys.get(provider, {}).get(alias)
    if stored is not None:
        try:
            found = get_provider(provider)
        except ValueError:
            added = {"authorization": f"Bearer {stored}"}
        else:
            added = {} if found.auth_style == "sigv4" else auth_headers(found, stored)
        return Credential("byok", alias, added)
    if asked:
        return _refusal(
            wire.CODE_BYOK_MISSING_KEY,
            f"No stored key for provider {provider!r} under BYOK alias {alias!r} on gateway "
            f"{gateway.id!r}",
            400,
        )
    if bool_header(headers, wire.H_NO_WHOLESALE):
        return _refusal(
            wire.CODE_BYOK_MISSING_KEY,
            f"{wire.H_NO_WHOLESALE} is set and no key is stored for provider {provider!r} "
            f"(alias 'default') on gateway {gateway.id!r}, nor sent with the request",
            400,
        )
    if gateway.credits is not None:
        balance = ctx.state.billing.balance((ctx.account, gateway.id), gateway.credits)
        if balance <= 0:
            return _refusal(
                wire.CODE_UNIFIED_BILLING_CREDITS,
                f"Insufficient Unified Billing credits (balance ${balance:.6f}): top up, or "
                "send or store a provider key",
                402,
            )
    return Credential("unified_billing")


def _applies(rule: SpendLimit, provider: str, model: str) -> bool:
    if rule.provider is not None and rule.provider != provider:
        return False
    return rule.model is None or rule.model in (model, f"{provider}/{model}")


def _bucket(
    ctx: RequestContext, index: int, rule: SpendLimit, provider: str, model: str
) -> tuple[object, ...]:
    values: list[object] = []
    for dimension in rule.split_by:
        if dimension == "provider":
            values.append(provider)
        elif dimension == "model":
            values.append(f"{provider}/{model}")
        else:
            values.append(str(ctx.metadata.get(dimension.removeprefix("metadata."), "")))
    return (ctx.account, ctx.gateway.id, index, *values)


def spend_refusal(
    ctx: RequestContext, credential: Credential, provider: str, model: str
) -> UpstreamResponse | None:
    """The 429 of the first spend limit at or over its limit for this step, else ``None``."""
    if credential.source == "caller":
        return None
    now = ctx.state.now()
    for index, rule in enumerate(ctx.gateway.spend_limits):
        if not _applies(rule, provider, model):
            continue
        over = ctx.state.billing.over_limit(_bucket(ctx, index, rule, provider, model), rule, now)
        if over is not None:
            return _refusal(
                wire.CODE_SPEND_LIMIT,
                f"Spend limit exceeded: ${over.spent:.6f} of ${rule.limit:.6f} per "
                f"{rule.window} s ({rule.technique}); the window ends in {over.resets_in} s",
                429,
                **{wire.H_RETRY_AFTER: str(over.resets_in)},
            )
    return None


def charge(
    ctx: RequestContext, credential: Credential | None, provider: str, model: str, amount: float
) -> None:
    """Charge an answered step's cost to the Unified Billing balance and to the spend limits it
    falls under (a caller's own key is the caller's bill)."""
    if credential is None or credential.source == "caller" or amount <= 0:
        return
    gateway = ctx.gateway
    if credential.source == "unified_billing" and gateway.credits is not None:
        ctx.state.billing.charge_credits((ctx.account, gateway.id), amount)
    now = ctx.state.now()
    for index, rule in enumerate(gateway.spend_limits):
        if _applies(rule, provider, model):
            bucket = _bucket(ctx, index, rule, provider, model)
            ctx.state.billing.charge(bucket, rule, now, amount)
