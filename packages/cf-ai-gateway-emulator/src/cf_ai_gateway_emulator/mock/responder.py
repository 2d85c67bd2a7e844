"""The mock upstream: injected faults first, then schema -> engine -> schema.

``mock_response`` returns once the first byte is ready (after the mock's latency and any
``slow`` fault), so the gateway can bound it with ``cf-aig-request-timeout``; a stream
follows through ``UpstreamResponse.stream``, paced by ``stream_chunk_delay_ms``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ..config import EmulatorConfig, MockSettings
from ..exchange import UpstreamRequest, UpstreamResponse
from . import engine
from .faults import FAULT_HEADER, Faults, StreamCutFault, faults_from_model, merged_faults
from .neutral import BrokenBody, MockFailure
from .schemas import RenderedStream, Schema, fallback_schema

__all__ = ["mock_response"]

_SSE_HEADERS = {"content-type": "text/event-stream", "cache-control": "no-cache"}


def _json_response(status: int, payload: Any, tokens: tuple[int, int] = (0, 0)) -> UpstreamResponse:
    return UpstreamResponse(
        status,
        {"content-type": "application/json"},
        json.dumps(payload, ensure_ascii=False).encode(),
        tokens_in=tokens[0],
        tokens_out=tokens[1],
    )


async def _paced(
    stream: RenderedStream, delay_s: float, cut_after: int | None
) -> AsyncIterator[bytes]:
    for i, chunk in enumerate(stream.chunks):
        if cut_after is not None and i >= cut_after:
            raise StreamCutFault("emulator fault: stream cut")
        if delay_s and i:
            await asyncio.sleep(delay_s)
        yield chunk
    if stream.end:
        yield stream.end


async def mock_response(
    req: UpstreamRequest, config: EmulatorConfig, created: int
) -> UpstreamResponse:
    """The mock's answer to one attempt (``created``: Unix seconds for the answer's body)."""
    mock = config.mock
    provider_cfg = config.provider(req.provider)
    body: Mapping[str, Any] = req.body if isinstance(req.body, Mapping) else {}
    model = str(body.get("model") or "")
    faults = merged_faults((mock.faults, provider_cfg.faults), model, req.headers.get(FAULT_HEADER))
    latency = provider_cfg.latency_ms if provider_cfg.latency_ms is not None else mock.latency_ms
    delay = (latency + faults.delay_ms) / 1000
    if delay:
        await asyncio.sleep(delay)
    refusal = _refusal(req, faults)
    if refusal is not None:
        return refusal
    assert req.schema is not None  # no schema is a refusal
    if faults_from_model(model).any:
        model = engine.DEFAULT_CHAT_MODEL  # the model name was a fault directive list
    return _answer(req.schema, body, model, faults, mock, created)


def _refusal(req: UpstreamRequest, faults: Faults) -> UpstreamResponse | None:
    """An injected fault's answer, or the error for a path or body the mock cannot answer."""
    errors: Schema[Any, Any] = req.schema or fallback_schema(req.provider)
    faulted = engine.fault_answer(faults, req.attempt)
    if isinstance(faulted, BrokenBody):
        headers = {"content-type": faulted.content_type}
        return UpstreamResponse(faulted.status, headers, faulted.content)
    failure = faulted
    if failure is None and req.schema is None:
        message = f"the emulator's mock has no endpoint {req.provider}/{req.path}"
        failure = MockFailure(404, message, "invalid_request", "unknown_url")
    elif failure is None and not isinstance(req.body, Mapping):
        message = "the request body must be a JSON object"
        failure = MockFailure(400, message, "invalid_request", "unknown_url")
    if failure is None:
        return None
    return _json_response(failure.status, errors.render_error(failure))


def _answer(
    schema: Schema[Any, Any],
    body: Mapping[str, Any],
    model: str,
    faults: Faults,
    settings: MockSettings,
    created: int,
) -> UpstreamResponse:
    """Parse with the schema, answer with the engine, render with the schema."""
    if not model:
        chat = schema.kind == "chat"
        model = engine.DEFAULT_CHAT_MODEL if chat else engine.DEFAULT_EMBEDDINGS_MODEL
    try:
        engine.check_model(model)
        request = schema.parse_request(body, model=model)
        answer = engine.answer(request, settings)
    except MockFailure as failure:
        return _json_response(failure.status, schema.render_error(failure))
    tokens = answer.usage
    if request.stream:
        rendered = schema.render_stream(request, answer, created=created)
        stream = _paced(rendered, settings.stream_chunk_delay_ms / 1000, faults.cut_after)
        return UpstreamResponse(
            200, dict(_SSE_HEADERS), stream=stream, tokens_in=tokens[0], tokens_out=tokens[1]
        )
    payload = schema.render_answer(request, answer, created=created)
    if faults.cut_after is not None and schema.kind == "chat":  # embeddings ignore ``cut``
        text = json.dumps(payload)
        truncated = text[: len(text) // 2].encode()
        return UpstreamResponse(200, {"content-type": "application/json"}, truncated)
    return _json_response(200, payload, tokens)
