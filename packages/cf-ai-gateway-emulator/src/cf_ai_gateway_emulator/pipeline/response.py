"""The client's answer for the step that answered: the upstream's status and headers with the
gateway's ``cf-aig-*`` headers, its log, and streams passed through as they arrive.

``cf-aig-cache-status`` (``HIT``/``MISS``) is on every proxied answer. A stream's log is
written before its last chunk is sent, so a client that has read the whole stream finds it.
When no step produced any response (connection errors only) the answer is
``gateway_error_body(CODE_FALLBACK_EXHAUSTED, ..., 502)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from cf_ai_gateway import wire
from starlette.responses import Response, StreamingResponse

from ..errors import gateway_error
from ..exchange import UpstreamResponse
from .context import RequestContext
from .credentials import charge
from .logs import LOG_BODY_MAX, dumps, write_log
from .step import StepResult
from .usage import cost, tokens_of

__all__ = ["respond", "stamp_ids"]

_NOT_FORWARDED = ("content-length", "transfer-encoding", "connection")


def stamp_ids(response: Response, ctx: RequestContext, log_id: str) -> None:
    """Put the log, request and event ids on a response."""
    response.headers[wire.H_LOG_ID] = log_id
    response.headers[wire.H_REQUEST_ID] = ctx.request_id
    response.headers[wire.H_EVENT_ID] = ctx.event_id


def respond(
    ctx: RequestContext,
    result: StepResult,
    *,
    step: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Response:
    """The client response for the answering step, with ``cf-aig-*`` headers and its log.

    ``step``: the universal step's index (``cf-aig-step``); ``extra_headers``: e.g. what
    answered a dynamic route (``cf-aig-model``, ``cf-aig-provider``).
    """
    response = result.response
    log_id = ctx.new_log_id()
    log_args: dict[str, Any] = {
        "provider": result.provider,
        "model": result.model,
        "path": result.path,
        "kind": result.kind,
        "step": step,
        "request_body": dumps(result.request_body),
        "credential": result.credential,
    }
    if response is None:
        out: Response = gateway_error(
            wire.CODE_FALLBACK_EXHAUSTED, "No step produced a response (upstream unreachable)", 502
        )
        write_log(
            ctx,
            log_id,
            status=502,
            cached=False,
            tokens=(0, 0),
            response_body=bytes(out.body).decode(),
            priced=False,
            **log_args,
        )
        stamp_ids(out, ctx, log_id)
        return out
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _NOT_FORWARDED}
    headers[wire.H_CACHE_STATUS] = wire.CACHE_HIT if result.cached else wire.CACHE_MISS
    headers[wire.H_LOG_ID] = log_id
    headers[wire.H_REQUEST_ID] = ctx.request_id
    headers[wire.H_EVENT_ID] = ctx.event_id
    if step is not None:
        headers[wire.H_STEP] = str(step)
    headers.update(extra_headers or {})
    log_args.update(status=response.status, cached=result.cached)
    if response.stream is None:
        tokens = tokens_of(result, response, response.body)
        _charge(ctx, result, tokens, response.ok)
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


def _charge(ctx: RequestContext, result: StepResult, tokens: tuple[int, int], ok: bool) -> None:
    """Charge an answer's cost to the balance and the spend limits (cache hits are free)."""
    if ok and not result.cached:
        charge(ctx, result.credential, result.provider, result.model, cost(ctx, tokens, True))


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
        tokens = tokens_of(result, response, bytes(buffer))
        _charge(ctx, result, tokens, success and response.ok)
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
