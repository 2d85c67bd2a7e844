"""The client's answer for the step that answered: the upstream's status and headers with the
gateway's ``cf-aig-*`` headers, its log, and streams passed through as they arrive.

``cf-aig-cache-status`` (``HIT``/``MISS``) is on every proxied answer. A stream's log is
written before its last chunk is sent, so a client that has read the whole stream finds it.
When no step produced any response (connection errors only) the answer is
``gateway_error_body(CODE_FALLBACK_EXHAUSTED, ..., 502)``.

A client that gave up before its answer was ready (it timed out, closed the connection) is not
logged as a success: the log says ``success: false`` and ``status_code: 499`` (nginx's "client
closed request"; Cloudflare documents nothing for it), with the upstream's tokens and cost,
which were spent. A stream the client left early is logged the same way.

Header values the emulator adds are made safe first (:func:`header_value`): a value with a
control character or a character outside Latin-1 would make the server fail (a 500, or h11
dropping the connection); such characters are percent-encoded instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

from cf_ai_gateway import wire
from starlette.responses import Response, StreamingResponse

from ..errors import gateway_error
from ..exchange import UpstreamResponse
from ..mock.neutral import Usage
from .context import RequestContext
from .credentials import charge
from .logs import dumps, write_log
from .step import StepResult
from .usage import cost, tokens_of

__all__ = ["CLIENT_GONE_STATUS", "header_value", "respond", "stamp_ids"]

_NOT_FORWARDED = ("content-length", "transfer-encoding", "connection")
CLIENT_GONE_STATUS = 499
"""The log's ``status_code`` for a request whose client left before its answer."""
_SAFE_HEADER_CHARS = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def header_value(value: str) -> str:
    """``value`` as it can be sent in a header: printable ASCII and Latin-1 as is, control
    characters and anything beyond Latin-1 percent-encoded (UTF-8)."""
    if value.isascii() and value.isprintable():  # the usual case, at C speed
        return value
    if all(0x20 <= ord(c) <= 0xFF and ord(c) != 0x7F for c in value):
        return value
    return quote(value, safe=_SAFE_HEADER_CHARS)


def stamp_ids(response: Response, ctx: RequestContext, log_id: str) -> None:
    """Put the log, request and event ids on a response."""
    response.headers[wire.H_LOG_ID] = log_id
    response.headers[wire.H_REQUEST_ID] = ctx.request_id
    response.headers[wire.H_EVENT_ID] = header_value(ctx.event_id)


async def respond(
    ctx: RequestContext,
    result: StepResult,
    *,
    step: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Response:
    """The client response for the answering step, with ``cf-aig-*`` headers and its log.

    ``step``: the universal step's index (``cf-aig-step``); ``extra_headers``: e.g. what
    answered a dynamic route (``cf-aig-model``, ``cf-aig-provider``). A client that has gone
    by now is logged as such (see the module docstring).
    """
    response = result.response
    log_id = ctx.new_log_id()
    log_args: dict[str, Any] = {
        "provider": result.provider,
        "model": result.model,
        "path": result.path,
        "kind": result.kind,
        "step": step,
        # only serialized when it is stored (logging or its payload can be off)
        "request_body": dumps(result.request_body)
        if ctx.collect_log and ctx.collect_payload
        else None,
        "credential": result.credential,
    }
    gone = await ctx.client_gone()
    if response is None:
        out: Response = gateway_error(
            wire.CODE_FALLBACK_EXHAUSTED, "No step produced a response (upstream unreachable)", 502
        )
        write_log(
            ctx,
            log_id,
            status=CLIENT_GONE_STATUS if gone else 502,
            cached=False,
            tokens=(0, 0),
            response_body=bytes(out.body).decode(),
            priced=False,
            **log_args,
        )
        stamp_ids(out, ctx, log_id)
        return out
    headers = {
        k: header_value(v) for k, v in response.headers.items() if k.lower() not in _NOT_FORWARDED
    }
    headers[wire.H_CACHE_STATUS] = wire.CACHE_HIT if result.cached else wire.CACHE_MISS
    headers[wire.H_LOG_ID] = log_id
    headers[wire.H_REQUEST_ID] = ctx.request_id
    headers[wire.H_EVENT_ID] = header_value(ctx.event_id)
    if step is not None:
        headers[wire.H_STEP] = str(step)
    headers.update({k: header_value(v) for k, v in (extra_headers or {}).items()})
    log_args.update(status=response.status, cached=result.cached)
    if response.stream is None or gone:
        if response.stream is not None:
            await result.drain()  # nobody will read it: for the log's tokens
        # the tokens are for the log and the charge (a cache hit is not charged)
        if ctx.collect_log or not result.cached:
            tokens = tokens_of(result, response, response.body)
        else:
            tokens = Usage(0, 0)
        _charge(ctx, result, tokens, response.ok)
        if gone:
            log_args.update(status=CLIENT_GONE_STATUS, success=False)
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
    keep = ctx.state.config.log_body_max_bytes

    def log(success: bool, gone: bool) -> None:
        nonlocal logged
        if logged:
            return
        logged = True
        tokens = tokens_of(result, response, bytes(buffer))
        _charge(ctx, result, tokens, success and response.ok)
        args = {**log_args, "status": CLIENT_GONE_STATUS} if gone else log_args
        write_log(
            ctx,
            log_id,
            tokens=tokens,
            success=success,
            response_body=buffer.decode("utf-8", "replace"),
            **args,
        )

    completed = gone = False
    try:
        async for chunk in response.stream:
            if len(buffer) < keep:
                buffer.extend(chunk[: keep - len(buffer)])
            if held is not None:
                yield held
            held = chunk
        completed = True
    except (GeneratorExit, asyncio.CancelledError):
        gone = True  # the client left while the stream was being sent
        raise
    finally:
        log(completed, gone)
    if held is not None:
        yield held
