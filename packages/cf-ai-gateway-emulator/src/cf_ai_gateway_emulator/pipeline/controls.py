"""The gateway's controls before any step: authentication, the request-level headers and the
gateway rate limit.

- **Authentication**: an unknown account or gateway is 400 (2001); ``default`` is created on
  the first authenticated request; an authenticated gateway without a valid token is 401
  (2009). These failures are not logged.
- **Rate limit**: checked after authentication and before the cache, so cache hits count
  too. Over the limit: ``gateway_error_body(CODE_RATE_LIMITED, ..., 429)`` plus
  ``Retry-After`` in whole seconds until a slot frees; rejected requests do not count and are
  logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from cf_ai_gateway import wire

from ..config import GatewaySettings
from ..errors import Rejection, gateway_error
from ..state import EmulatorState
from .context import RequestContext
from .logs import write_log
from .request_headers import bearer, bool_header, parse_custom_cost, parse_metadata
from .response import stamp_ids

__all__ = ["authorize", "open_request"]


def authorize(
    state: EmulatorState,
    account_id: str,
    gateway_id: str,
    token: str | None,
) -> GatewaySettings:
    """The gateway for this request, or a ``Rejection`` (2001 / 2009)."""
    account = state.account(account_id)
    if account is None:
        raise Rejection.gateway(
            wire.CODE_GATEWAY_NOT_FOUND,
            f"account {account_id!r} is not configured in the emulator",
            400,
        )
    gateway = state.get_gateway(account_id, gateway_id)
    if gateway is None and gateway_id == wire.DEFAULT_GATEWAY_ID:
        if not state.token_ok(account_id, token):
            raise Rejection.gateway(wire.CODE_UNAUTHORIZED, "Unauthorized", 401)
        gateway = state.ensure_default_gateway(account_id)
    if gateway is None:
        raise Rejection.gateway(
            wire.CODE_GATEWAY_NOT_FOUND,
            f"gateway {gateway_id!r} does not exist (configure it, create it through the "
            "management API, or use 'default')",
            400,
        )
    if gateway.authentication and not state.token_ok(account_id, token, gateway):
        raise Rejection.gateway(wire.CODE_UNAUTHORIZED, "Unauthorized", 401)
    return gateway


def open_request(
    state: EmulatorState,
    account_id: str,
    gateway_id: str,
    headers: Mapping[str, str],
    *,
    surface: str,
    token: str | None = None,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
) -> RequestContext:
    """Authenticate, read the request-level headers and apply the gateway rate limit.

    ``token`` replaces the ``cf-aig-authorization`` token (the REST surface authenticates
    with ``Authorization``); ``disconnected``: how to tell that the client has gone
    (``request.is_disconnected``).
    """
    headers = {k.lower(): v for k, v in headers.items()}
    if token is None:
        token = bearer(headers.get(wire.H_AUTHORIZATION))
    gateway = authorize(state, account_id, gateway_id, token)
    ctx = RequestContext(
        state,
        account_id,
        gateway,
        headers,
        surface,
        created_at=state.now(),
        disconnected=disconnected,
    )
    ctx.event_id = headers.get(wire.H_EVENT_ID) or ctx.request_id
    ctx.metadata = parse_metadata(headers.get(wire.H_METADATA))
    collect = bool_header(headers, wire.H_COLLECT_LOG)
    ctx.collect_log = gateway.collect_logs if collect is None else collect
    payload = bool_header(headers, wire.H_COLLECT_LOG_PAYLOAD)
    ctx.collect_payload = payload is not False
    ctx.custom_cost = parse_custom_cost(headers.get(wire.H_CUSTOM_COST))
    if gateway.rate_limited:
        _apply_rate_limit(ctx)
    return ctx


def _apply_rate_limit(ctx: RequestContext) -> None:
    state, gateway = ctx.state, ctx.gateway
    decision = state.limiter.check(
        (ctx.account, gateway.id),
        int(gateway.rate_limiting_limit or 0),
        float(gateway.rate_limiting_interval or 0),
        gateway.rate_limiting_technique,
        state.now(),
    )
    if decision.allowed:
        return
    message = (
        f"Rate limit exceeded: {gateway.rate_limiting_limit} requests per "
        f"{gateway.rate_limiting_interval}s ({gateway.rate_limiting_technique})"
    )
    response = gateway_error(
        wire.CODE_RATE_LIMITED, message, 429, {"retry-after": str(decision.retry_after)}
    )
    log_id = ctx.new_log_id()
    write_log(
        ctx,
        log_id,
        provider="",
        model="",
        path="",
        kind="other",
        status=429,
        cached=False,
        tokens=(0, 0),
        step=None,
        request_body=None,
        response_body=bytes(response.body).decode(),
        priced=False,
    )
    stamp_ids(response, ctx, log_id)
    raise Rejection(response)
