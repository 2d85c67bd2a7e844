"""One step: a provider request answered through the cache, the upstream, retries and the
request timeout.

- **Request timeout**: ``cf-aig-request-timeout`` bounds the wait for the first byte; expiry
  answers ``gateway_error_body(CODE_REQUEST_TIMEOUT, ..., 504)``. With gateway retries
  (max attempts > 1) every attempt but the last is bounded and the last is not (spec 6).
- **Retries**: upstream 429 and 5xx answers, timeouts and connection errors are retried; 4xx
  are not. The backoff waits on the emulator's clock.
- **Cache**: ``cf-aig-skip-cache`` skips lookup and store; streamed requests are never cached.
- **Credentials and money** (after a cache miss, before the upstream): the caller's key, a
  stored BYOK key or Unified Billing, and the spend limits (``credentials``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.errors import gateway_error_body

from ..exchange import UpstreamError, UpstreamRequest, UpstreamResponse
from ..mock.schemas import Schema, Target, body_target
from ..upstream import call_upstream
from .cache import cache_key, cached_answer, credential_digest, store_answer
from .context import RequestContext
from .credentials import Credential, resolve_credential, spend_refusal
from .step_settings import retry_delay_s, step_settings

__all__ = ["StepResult", "run_step"]


@dataclass
class StepResult:
    """What one step produced: the answer (``None`` when the upstream was unreachable) and
    what the log needs about the request."""

    provider: str
    path: str
    schema: Schema[Any, Any] | None
    model: str
    request_body: Any
    response: UpstreamResponse | None
    cached: bool = False
    cache_active: bool = False
    credential: Credential | None = None
    """Where the provider credential came from (``None``: a cache hit, or refused before)."""

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.ok

    @property
    def kind(self) -> str:
        """The log's ``model_type``: the schema's kind, ``other`` without one."""
        return self.schema.kind if self.schema is not None else "other"

    async def drain(self) -> None:
        """Read a failed step's streamed body (if any), so it can be logged and discarded."""
        response = self.response
        if response is not None and response.stream is not None:
            chunks = []
            try:
                async for chunk in response.stream:
                    chunks.append(chunk)
            except Exception:
                pass
            response.body = b"".join(chunks)
            response.stream = None


def _requested(schema: Schema[Any, Any] | None, path: str, body: Any) -> Target:
    """The model a request names and whether it asks for a stream: read by its schema (from
    the body, or the path where the wire puts them); without a schema, the body's common
    ``model`` and ``stream`` fields. A body that is not an object names neither."""
    if not isinstance(body, Mapping):
        return Target("", False)
    return schema.target(path, body) if schema is not None else body_target(body)


def _timeout_response(timeout_ms: int) -> UpstreamResponse:
    """The gateway's 504 in place of an upstream answer (so it is retried, logged and sent
    like one)."""
    body = gateway_error_body(
        wire.CODE_REQUEST_TIMEOUT, f"Request timed out: no response within {timeout_ms} ms", 504
    )
    return UpstreamResponse(504, {"content-type": "application/json"}, json.dumps(body).encode())


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
    """Answer one provider request through the cache and the gateway's retries.

    ``schema`` is the wire schema of ``path`` (``None``: one the mock does not know);
    ``config``: a universal step's ``config`` or a dynamic route node's timeout/retries.
    """
    target = _requested(schema, path, body)
    model, streaming = target.model, target.stream
    settings = step_settings(ctx.gateway, headers, config)
    result = StepResult(provider, path, schema, model, body, None)
    cacheable = settings.cache_ttl > 0 and not streaming and not settings.skip_cache
    key = ""
    if cacheable:
        digest = credential_digest(provider, headers, query)
        key = cache_key(provider, path, model, digest, body, settings.cache_key)
    result.cache_active = cacheable
    state = ctx.state
    if cacheable:
        hit = cached_answer(ctx, key)
        if hit is not None:
            result.response = hit
            result.cached = True
            return result
    credential = resolve_credential(ctx, provider, headers)
    if isinstance(credential, UpstreamResponse):
        result.response = credential
        return result
    result.credential = credential
    refused = spend_refusal(ctx, credential, provider, model)
    if refused is not None:
        result.response = refused
        return result
    headers = {**headers, **credential.headers}
    last: UpstreamResponse | None = None
    for attempt in range(1, settings.max_attempts + 1):
        final = attempt == settings.max_attempts
        bound = (
            settings.timeout_ms
            if settings.timeout_ms and (settings.max_attempts == 1 or not final)
            else None
        )
        request = UpstreamRequest(
            provider, path, schema, body, headers, attempt, query, f"{ctx.account}/{ctx.gateway.id}"
        )
        try:
            coro = call_upstream(request, state.config, int(state.now()), state.scripts)
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
        store_answer(ctx, key, last, settings.cache_ttl)
    return result
