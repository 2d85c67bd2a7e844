"""The gateway pipeline shared by every surface: authentication, rate limiting, caching,
upstream retries and timeouts, response headers and logging.

Behaviours Cloudflare does not document, and what the emulator does (see docs/emulator.md):

- **429 body**: ``gateway_error_body(CODE_RATE_LIMITED, ..., 429)`` plus ``Retry-After`` in
  whole seconds until a slot frees. Rate limiting is checked after authentication and before
  the cache, so cache hits count too; rejected requests do not count and are logged.
- **Request timeout**: ``cf-aig-request-timeout`` bounds the wait for the first byte; expiry
  answers ``gateway_error_body(CODE_REQUEST_TIMEOUT, ..., 504)``. With gateway retries
  (``max attempts > 1``) every attempt but the last is bounded and the last is not (spec 6).
- **Retries**: upstream 429 and 5xx answers, timeouts and connection errors are retried; 4xx
  are not. Delay before retry ``n``: ``constant`` d, ``linear`` d*n, ``exponential`` d*2^(n-1).
- **Universal fallback**: any non-2xx step answer (or a timeout) moves to the next step. When
  every step fails the answer is the last step's error response (status and body) with
  ``cf-aig-step`` = that step's index; ``gateway_error_body(CODE_FALLBACK_EXHAUSTED, ...,
  502)`` only when no step produced any response (connection errors only).
- **Cache**: key = gateway + provider + path + canonical JSON body (metadata and other headers
  are not part of it) or, with ``cf-aig-cache-key``, that key alone. Only 2xx non-streamed
  answers are stored. ``cf-aig-skip-cache`` skips both lookup and store. A TTL header outside
  60..2592000 (and not 0) is clamped into that range; ``cf-aig-cache-status`` is sent on every
  proxied answer (``MISS`` whenever it is not a hit). Cache hits are logged with cost 0.
- **Metadata**: reserved ``cf.`` keys and non-scalar values are dropped first, then the first
  five entries are kept; malformed JSON is a 400 (``CODE_BAD_REQUEST``).
- **Logs**: one per attempted step (same request id); authentication and unknown-gateway
  failures are not logged; a stream's log is written before its final chunk is sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.errors import gateway_error_body
from starlette.responses import Response, StreamingResponse

from .config import GatewaySettings
from .errors import Rejection as GatewayRejection
from .errors import gateway_error
from .ids import uuid7
from .mock.schemas import Schema, fallback_schema
from .state import EmulatorState, iso_time
from .upstream import UpstreamError, UpstreamRequest, UpstreamResponse, call_upstream

__all__ = [
    "GatewayRejection",
    "RequestContext",
    "StepResult",
    "gateway_error",
    "open_request",
    "respond",
    "run_step",
]

LOG_BODY_MAX = 1_000_000


def _bool_header(headers: Mapping[str, str], name: str) -> bool | None:
    value = headers.get(name)
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise GatewayRejection(
        gateway_error(wire.CODE_BAD_REQUEST, f"{name} must be true or false", 400)
    )


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None or not value.strip():
        return None
    try:
        return int(float(value))
    except ValueError:
        raise GatewayRejection(
            gateway_error(wire.CODE_BAD_REQUEST, f"{name} must be a number", 400)
        ) from None


def parse_metadata(value: str | None) -> dict[str, Any]:
    if not value:
        return {}
    try:
        data = json.loads(value)
    except ValueError:
        raise GatewayRejection(
            gateway_error(wire.CODE_BAD_REQUEST, f"{wire.H_METADATA} must be a JSON object", 400)
        ) from None
    if not isinstance(data, dict):
        raise GatewayRejection(
            gateway_error(wire.CODE_BAD_REQUEST, f"{wire.H_METADATA} must be a JSON object", 400)
        )
    kept = {
        k: v
        for k, v in data.items()
        if not str(k).startswith(wire.METADATA_RESERVED_PREFIX)
        and isinstance(v, (str, int, float, bool))
    }
    return dict(list(kept.items())[: wire.METADATA_MAX_ENTRIES])


def parse_custom_cost(value: str | None) -> dict[str, float] | None:
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in data.values()
    ):
        raise GatewayRejection(
            gateway_error(
                wire.CODE_BAD_REQUEST, f"{wire.H_CUSTOM_COST} must be a JSON object of numbers", 400
            )
        )
    return {k: float(v) for k, v in data.items()}


@dataclass
class RequestContext:
    """One incoming request to a gateway."""

    state: EmulatorState
    account: str
    gateway: GatewaySettings
    headers: dict[str, str]
    surface: str
    request_id: str = field(default_factory=uuid7)
    event_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    collect_log: bool = True
    collect_payload: bool = True
    custom_cost: dict[str, float] | None = None
    started: float = field(default_factory=time.perf_counter)
    created_at: float = 0.0
    log_ids: list[str] = field(default_factory=list)

    def new_log_id(self) -> str:
        log_id = self.request_id if not self.log_ids else uuid7()
        self.log_ids.append(log_id)
        return log_id


def authorize(
    state: EmulatorState,
    account_id: str,
    gateway_id: str,
    token: str | None,
) -> GatewaySettings:
    """The gateway for this request, or a ``GatewayRejection`` (2001 / 2009)."""
    account = state.account(account_id)
    if account is None:
        raise GatewayRejection(
            gateway_error(
                wire.CODE_GATEWAY_NOT_FOUND,
                f"account {account_id!r} is not configured in the emulator",
                400,
            )
        )
    gateway = state.get_gateway(account_id, gateway_id)
    if gateway is None and gateway_id == wire.DEFAULT_GATEWAY_ID:
        if not state.token_ok(account_id, token):
            raise GatewayRejection(gateway_error(wire.CODE_UNAUTHORIZED, "Unauthorized", 401))
        gateway = state.ensure_default_gateway(account_id)
    if gateway is None:
        raise GatewayRejection(
            gateway_error(
                wire.CODE_GATEWAY_NOT_FOUND,
                f"gateway {gateway_id!r} does not exist (configure it, create it through the "
                "management API, or use 'default')",
                400,
            )
        )
    if gateway.authentication and not state.token_ok(account_id, token, gateway):
        raise GatewayRejection(gateway_error(wire.CODE_UNAUTHORIZED, "Unauthorized", 401))
    return gateway


def bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def open_request(
    state: EmulatorState,
    account_id: str,
    gateway_id: str,
    headers: Mapping[str, str],
    *,
    surface: str,
    token: str | None = None,
) -> RequestContext:
    """Authenticate, read the request-level headers and apply the gateway rate limit."""
    headers = {k.lower(): v for k, v in headers.items()}
    if token is None:
        token = bearer(headers.get(wire.H_AUTHORIZATION))
    gateway = authorize(state, account_id, gateway_id, token)
    ctx = RequestContext(state, account_id, gateway, headers, surface, created_at=state.now())
    ctx.event_id = headers.get(wire.H_EVENT_ID) or ctx.request_id
    ctx.metadata = parse_metadata(headers.get(wire.H_METADATA))
    collect = _bool_header(headers, wire.H_COLLECT_LOG)
    ctx.collect_log = gateway.collect_logs if collect is None else collect
    payload = _bool_header(headers, wire.H_COLLECT_LOG_PAYLOAD)
    ctx.collect_payload = payload is not False
    ctx.custom_cost = parse_custom_cost(headers.get(wire.H_CUSTOM_COST))
    if gateway.rate_limited:
        decision = state.limiter.check(
            (account_id, gateway.id),
            int(gateway.rate_limiting_limit or 0),
            float(gateway.rate_limiting_interval or 0),
            gateway.rate_limiting_technique,
            state.now(),
        )
        if not decision.allowed:
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
            add_ids(response, ctx, log_id)
            raise GatewayRejection(response)
    return ctx


def add_ids(response: Response, ctx: RequestContext, log_id: str) -> None:
    response.headers[wire.H_LOG_ID] = log_id
    response.headers[wire.H_REQUEST_ID] = ctx.request_id
    response.headers[wire.H_EVENT_ID] = ctx.event_id


# --- one step: cache, retries, timeout -------------------------------------------------------


@dataclass
class StepResult:
    provider: str
    path: str
    schema: Schema[Any, Any] | None
    model: str
    request_body: Any
    response: UpstreamResponse | None
    cached: bool = False
    cache_active: bool = False

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.ok

    @property
    def kind(self) -> str:
        """The log's ``model_type``: the schema's kind, ``other`` without one."""
        return self.schema.kind if self.schema is not None else "other"


@dataclass
class StepSettings:
    """Per-step controls after header precedence (step config > headers > gateway)."""

    cache_ttl: int
    cache_key: str | None
    skip_cache: bool
    timeout_ms: int | None
    max_attempts: int
    retry_delay_ms: int
    backoff: str


def step_settings(
    gateway: GatewaySettings, headers: Mapping[str, str], config: Mapping[str, Any] | None = None
) -> StepSettings:
    config = config or {}
    ttl_header = _int_header(headers, wire.H_CACHE_TTL)
    if ttl_header is None:
        ttl_header = _int_header(headers, wire.H_CACHE_TTL_LEGACY)
    skip = _bool_header(headers, wire.H_SKIP_CACHE)
    if skip is None:
        skip = _bool_header(headers, wire.H_SKIP_CACHE_LEGACY)
    key = headers.get(wire.H_CACHE_KEY) or None
    if ttl_header is None:
        ttl = gateway.cache_ttl
        if ttl == 0 and key:
            ttl = wire.CUSTOM_KEY_DEFAULT_TTL_S
    elif ttl_header <= 0:
        ttl = 0
    else:
        ttl = min(max(ttl_header, wire.CACHE_TTL_MIN_S), wire.CACHE_TTL_MAX_S)
    timeout = config.get("requestTimeout")
    if timeout is None:
        timeout = _int_header(headers, wire.H_REQUEST_TIMEOUT)
    attempts = config.get("maxAttempts")
    if attempts is None:
        attempts = _int_header(headers, wire.H_MAX_ATTEMPTS) or gateway.retry_max_attempts
    delay = config.get("retryDelay")
    if delay is None:
        delay = _int_header(headers, wire.H_RETRY_DELAY)
    if delay is None:
        delay = gateway.retry_delay
    backoff = config.get("backoff") or headers.get(wire.H_BACKOFF) or gateway.retry_backoff
    if backoff not in wire.BACKOFF_VALUES:
        raise GatewayRejection(
            gateway_error(
                wire.CODE_BAD_REQUEST,
                f"{wire.H_BACKOFF} must be one of {', '.join(wire.BACKOFF_VALUES)}",
                400,
            )
        )
    return StepSettings(
        cache_ttl=ttl,
        cache_key=key,
        skip_cache=bool(skip),
        timeout_ms=int(timeout) if timeout else None,
        max_attempts=min(max(int(attempts), wire.MAX_ATTEMPTS_MIN), wire.MAX_ATTEMPTS_MAX),
        retry_delay_ms=min(max(int(delay), 0), wire.RETRY_DELAY_MAX_MS),
        backoff=str(backoff),
    )


def retry_delay_s(settings: StepSettings, retry_number: int) -> float:
    base = settings.retry_delay_ms / 1000
    if settings.backoff == "linear":
        return base * retry_number
    if settings.backoff == "exponential":
        return base * float(2 ** (retry_number - 1))
    return base


def _cache_key(ctx: RequestContext, provider: str, path: str, body: Any, custom: str | None) -> str:
    if custom:
        material = json.dumps(["custom", custom])
    else:
        material = json.dumps(
            [provider, path.strip("/"), body], sort_keys=True, separators=(",", ":"), default=str
        )
    return hashlib.sha256(material.encode()).hexdigest()


def _timeout_response(timeout_ms: int) -> UpstreamResponse:
    body = gateway_error_body(
        wire.CODE_REQUEST_TIMEOUT, f"Request timed out: no response within {timeout_ms} ms", 504
    )
    return UpstreamResponse(
        504,
        {"content-type": "application/json"},
        json.dumps(body).encode(),
    )


async def run_step(
    ctx: RequestContext,
    *,
    provider: str,
    path: str,
    schema: Schema[Any, Any] | None,
    body: Any,
    headers: Mapping[str, str],
    config: Mapping[str, Any] | None = None,
    query: str = "",
) -> StepResult:
    """Answer one provider request through the cache and the gateway's retries."""
    model = str(body.get("model") or "") if isinstance(body, Mapping) else ""
    settings = step_settings(ctx.gateway, headers, config)
    result = StepResult(provider, path, schema, model, body, None)
    streaming = isinstance(body, Mapping) and bool(body.get("stream"))
    cacheable = settings.cache_ttl > 0 and not streaming and not settings.skip_cache
    key = _cache_key(ctx, provider, path, body, settings.cache_key) if cacheable else ""
    result.cache_active = cacheable
    state = ctx.state
    if cacheable:
        hit = state.storage.cache_get(ctx.account, ctx.gateway.id, key, state.now())
        if hit is not None:
            status, cached_headers, content = hit
            result.response = UpstreamResponse(status, cached_headers, content)
            result.cached = True
            return result
    last: UpstreamResponse | None = None
    for attempt in range(1, settings.max_attempts + 1):
        final = attempt == settings.max_attempts
        bound = (
            settings.timeout_ms
            if settings.timeout_ms and (settings.max_attempts == 1 or not final)
            else None
        )
        request = UpstreamRequest(provider, path, schema, body, headers, attempt, query)
        try:
            coro = call_upstream(request, state.config, int(state.now()))
            response = await (asyncio.wait_for(coro, bound / 1000) if bound else coro)
        except asyncio.TimeoutError:
            response = _timeout_response(bound or 0)
        except UpstreamError:
            response = None
        if response is not None and (
            response.ok or (response.status < 500 and response.status != 429)
        ):
            last = response
            break
        if last is not None:
            await last.aclose()
        last = response
        if not final:
            await state.clock.sleep(retry_delay_s(settings, attempt))
    result.response = last
    if cacheable and last is not None and last.ok and last.stream is None:
        state.storage.cache_put(
            ctx.account,
            ctx.gateway.id,
            key,
            (last.status, last.headers, last.body),
            state.now() + settings.cache_ttl,
        )
    return result


# --- responses and logs ----------------------------------------------------------------------


def usage_of(result: StepResult, response: UpstreamResponse, content: bytes) -> tuple[int, int]:
    """(tokens_in, tokens_out): as the answerer reported them, else read with the schema."""
    if response.tokens_in:
        return response.tokens_in, response.tokens_out
    schema = result.schema or fallback_schema(result.provider)
    return schema.read_usage(content, streamed=response.stream is not None)


def _cost(ctx: RequestContext, tokens: tuple[int, int], priced: bool) -> float:
    if not priced:
        return 0.0
    custom = ctx.custom_cost
    if custom is not None:
        if "total_cost" in custom:
            return float(custom["total_cost"])
        return tokens[0] * custom.get("per_token_in", 0.0) + tokens[1] * custom.get(
            "per_token_out", 0.0
        )
    mock = ctx.state.config.mock
    return (tokens[0] * mock.price_in_per_mtok + tokens[1] * mock.price_out_per_mtok) / 1e6


def write_log(
    ctx: RequestContext,
    log_id: str,
    *,
    provider: str,
    model: str,
    path: str,
    kind: str,
    status: int,
    cached: bool,
    tokens: tuple[int, int],
    step: int | None,
    request_body: str | None,
    response_body: str | None,
    priced: bool = True,
    success: bool | None = None,
) -> None:
    if not ctx.collect_log:
        return
    log = {
        "id": log_id,
        "created_at": iso_time(ctx.created_at),
        "provider": provider,
        "model": model,
        "model_type": kind,
        "path": path,
        "success": (200 <= status < 300) if success is None else success,
        "status_code": status,
        "cached": cached,
        "duration": int((time.perf_counter() - ctx.started) * 1000),
        "tokens_in": tokens[0],
        "tokens_out": tokens[1],
        "cost": round(_cost(ctx, tokens, priced and not cached), 12),
        "custom_cost": ctx.custom_cost is not None,
        "metadata": json.dumps(ctx.metadata) if ctx.metadata else None,
        "step": step,
        "event_id": ctx.event_id,
        "request_id": ctx.request_id,
        "request_type": ctx.surface,
        "feedback": None,
        "score": None,
    }
    keep = ctx.collect_payload
    gw = ctx.gateway
    ctx.state.storage.insert_log(
        ctx.account,
        gw.id,
        log,
        request_body if keep else None,
        (response_body[:LOG_BODY_MAX] if response_body else response_body) if keep else None,
        limit=gw.log_management,
        strategy=gw.log_management_strategy,
    )


def _dumps(body: Any) -> str | None:
    if body is None:
        return None
    return json.dumps(body, ensure_ascii=False)


def log_failed_step(ctx: RequestContext, result: StepResult, step: int | None) -> None:
    """Log a universal step that did not answer (its body was read in full)."""
    response = result.response
    write_log(
        ctx,
        ctx.new_log_id(),
        provider=result.provider,
        model=result.model,
        path=result.path,
        kind=result.kind,
        status=response.status if response else 502,
        cached=False,
        tokens=(0, 0),
        step=step,
        request_body=_dumps(result.request_body),
        response_body=response.body.decode("utf-8", "replace") if response else None,
        priced=False,
    )


async def drain(result: StepResult) -> None:
    """Read a failed step's streamed body (if any) so it can be logged and discarded."""
    response = result.response
    if response is not None and response.stream is not None:
        chunks = []
        try:
            async for chunk in response.stream:
                chunks.append(chunk)
        except Exception:
            pass
        response.body = b"".join(chunks)
        response.stream = None


def respond(
    ctx: RequestContext,
    result: StepResult,
    *,
    step: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Response:
    """The client response for the answering step, with ``cf-aig-*`` headers and its log."""
    response = result.response
    log_id = ctx.new_log_id()
    if response is None:
        out: Response = gateway_error(
            wire.CODE_FALLBACK_EXHAUSTED, "No step produced a response (upstream unreachable)", 502
        )
        write_log(
            ctx,
            log_id,
            provider=result.provider,
            model=result.model,
            path=result.path,
            kind=result.kind,
            status=502,
            cached=False,
            tokens=(0, 0),
            step=step,
            request_body=_dumps(result.request_body),
            response_body=bytes(out.body).decode(),
            priced=False,
        )
        add_ids(out, ctx, log_id)
        return out
    headers = {
        k: v
        for k, v in response.headers.items()
        if k.lower() not in ("content-length", "transfer-encoding", "connection")
    }
    headers[wire.H_CACHE_STATUS] = wire.CACHE_HIT if result.cached else wire.CACHE_MISS
    headers[wire.H_LOG_ID] = log_id
    headers[wire.H_REQUEST_ID] = ctx.request_id
    headers[wire.H_EVENT_ID] = ctx.event_id
    if step is not None:
        headers[wire.H_STEP] = str(step)
    headers.update(extra_headers or {})
    log_args: dict[str, Any] = {
        "provider": result.provider,
        "model": result.model,
        "path": result.path,
        "kind": result.kind,
        "status": response.status,
        "cached": result.cached,
        "step": step,
        "request_body": _dumps(result.request_body),
    }
    if response.stream is None:
        tokens = usage_of(result, response, response.body)
        write_log(
            ctx,
            log_id,
            tokens=tokens,
            response_body=response.body.decode("utf-8", "replace"),
            **log_args,
        )
        return Response(response.body, status_code=response.status, headers=headers)
    return StreamingResponse(
        _logged_stream(ctx, log_id, result, response, log_args),
        status_code=response.status,
        headers=headers,
    )


async def _logged_stream(
    ctx: RequestContext,
    log_id: str,
    result: StepResult,
    response: UpstreamResponse,
    log_args: dict[str, Any],
) -> AsyncIterator[bytes]:
    """Pass the stream through, holding one chunk back so the log is stored before the
    client sees the end of the stream."""
    assert response.stream is not None
    buffer = bytearray()
    held: bytes | None = None
    logged = False

    def log(success: bool) -> None:
        nonlocal logged
        if logged:
            return
        logged = True
        tokens = usage_of(result, response, bytes(buffer))
        write_log(
            ctx,
            log_id,
            tokens=tokens,
            success=success,
            response_body=buffer.decode("utf-8", "replace"),
            **log_args,
        )

    completed = False
    try:
        async for chunk in response.stream:
            if len(buffer) < LOG_BODY_MAX:
                buffer.extend(chunk)
            if held is not None:
                yield held
            held = chunk
        completed = True
    finally:
        log(completed)
    if held is not None:
        yield held
