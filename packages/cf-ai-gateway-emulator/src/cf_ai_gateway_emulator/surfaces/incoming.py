"""Reading an incoming client request: forwarded headers, the JSON body, provider names.

A body is read only up to ``[emulator] max_request_bytes`` (a larger ``Content-Length`` is
refused before reading, a body that grows past it while being read too): 413 with the
gateway's error body. JSON is parsed bounded (``cf_ai_gateway.jsonsafe``): nesting deeper
than 128 levels is a 400, like any other body that is not JSON.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.jsonsafe import parse_json
from cf_ai_gateway.providers import Provider, get_provider
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from ..errors import Rejection
from ..mock.neutral import MockFailure
from ..mock.schemas import Schema
from ..state import EmulatorState

__all__ = [
    "disconnected",
    "forwarded",
    "forwarded_headers",
    "json_body",
    "model_not_found",
    "read_body",
    "provider_named",
    "schema_rejection",
    "split_unified_model",
]

_HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}


def forwarded_headers(request: Request) -> dict[str, str]:
    """The request's headers, lower-cased, without hop-by-hop ones."""
    return {k.lower(): v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}


def forwarded(headers: Mapping[str, str]) -> dict[str, str]:
    """``forwarded_headers`` from headers already lower-cased (a ``RequestContext``'s): the
    request's headers are not decoded and lower-cased a second time."""
    return {k: v for k, v in headers.items() if k not in _HOP_HEADERS}


def disconnected(request: Request) -> Callable[[], Awaitable[bool]]:
    """Whether the client has gone, as ``request.is_disconnected`` tells, without its anyio
    cancel scope (entering it, cancelling the task and delivering the cancellation cost more
    than the rest of a cache hit): the ASGI ``receive`` is stepped once; a message it has at
    once is taken (``http.disconnect``: gone), one it would wait for means the client is still
    there (the coroutine is closed where it waits, as the cancellation would have)."""
    gone = False

    async def poll() -> bool:
        nonlocal gone
        if gone:
            return True
        waiting = request.receive()
        if not inspect.iscoroutine(waiting):  # some other awaitable: Starlette's way
            gone = await request.is_disconnected()
            return gone
        try:
            waiting.send(None)
        except StopIteration as done:
            message = done.value
            gone = isinstance(message, dict) and message.get("type") == "http.disconnect"
        else:
            waiting.close()
        return gone

    return poll


def _too_large(limit: int, api: bool) -> Rejection:
    message = f"the request body is larger than {limit} bytes (max_request_bytes)"
    if api:
        return Rejection.api(wire.CODE_API_INVALID_REQUEST, message, 413)
    return Rejection.gateway(wire.CODE_BAD_REQUEST, message, 413)


async def read_body(request: Request, *, api: bool = False) -> bytes:
    """The request body, at most ``max_request_bytes`` (else a 413: the gateway's error body,
    or the v4 envelope when ``api``). Cached like ``request.body()``."""
    cached = getattr(request, "_body", None)
    if isinstance(cached, bytes):
        return cached
    limit = EmulatorState.of(request).config.max_request_bytes
    declared = request.headers.get("content-length", "").strip()
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, api)
    if request._stream_consumed:  # read by someone else: Starlette says how
        return await request.body()
    # ``request.stream()`` without its async generator (one per request, registered with the
    # event loop and finalized): the same messages taken from ``receive`` directly
    body = bytearray()
    receive = request.receive
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            body += message.get("body", b"")
            if len(body) > limit:
                raise _too_large(limit, api)
            if not message.get("more_body", False):
                break
        elif kind == "http.disconnect":
            request._is_disconnected = True
            raise ClientDisconnect()
    request._stream_consumed = True
    request._body = bytes(body)
    return request._body


async def json_body(request: Request) -> Any:
    """The parsed JSON body (``None`` when empty); invalid or too deeply nested JSON is a 400,
    too large a body a 413."""
    raw = await read_body(request)
    if not raw.strip():
        return None
    try:
        return parse_json(raw)
    except ValueError:
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST, "the request body is not valid JSON (or nested too deeply)", 400
        ) from None


def provider_named(segment: str, *, unified: bool) -> Provider:
    """The provider a path segment (or, ``unified``, a model prefix) names, spelled as the
    gateway spells it there (``perplexity-ai`` in paths, ``perplexity/`` in models)."""
    try:
        provider = get_provider(segment)
    except ValueError as exc:
        raise Rejection.gateway(wire.CODE_BAD_REQUEST, str(exc), 400) from None
    expected = provider.unified_prefix if unified else provider.slug
    if segment != expected:
        where = "a unified model prefix" if unified else "a provider path segment"
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST, f"{segment!r} is not {where}; use {expected!r}", 400
        )
    return provider


def split_unified_model(model: object) -> tuple[str, str]:
    """``"{provider}/{model}"`` (or ``dynamic/{route}``) as its two parts; else a 400."""
    if not isinstance(model, str) or "/" not in model:
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST,
            f"model {model!r} must be '{{provider}}/{{model}}' or 'dynamic/{{route}}'",
            400,
        )
    prefix, _, name = model.partition("/")
    return prefix, name


def schema_rejection(schema: Schema[Any, Any], failure: MockFailure) -> Rejection:
    """Reject with ``failure`` in the endpoint's own schema (what the unified and REST
    endpoints answer for a request they cannot route)."""
    body = schema.render_error(failure)
    return Rejection(JSONResponse(body, status_code=failure.status))


def model_not_found(schema: Schema[Any, Any], model: object, detail: str = "") -> Rejection:
    """The gateway's answer to an unknown model (or route, or alias): HTTP 404 in the
    endpoint's schema, ``Model not found: {model}`` (OpenAI's schema: code
    ``model_not_found``; Anthropic's: ``not_found_error``), as observed on the REST API."""
    message = f"Model not found: {model}" + (f" ({detail})" if detail else "")
    return schema_rejection(
        schema, MockFailure(404, message, "not_found", wire.MODEL_NOT_FOUND_CODE)
    )
