"""The mock upstream: injected faults first, then schema -> engine (or a script) -> schema.

``mock_response`` returns once the first byte is ready (after the mock's latency and any
``slow`` fault), so the gateway can bound it with ``cf-aig-request-timeout``; a stream
follows through ``UpstreamResponse.stream``, paced by ``stream_chunk_delay_ms``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.errors import gateway_error_body

from ..config import EmulatorConfig, MockSettings
from ..exchange import UpstreamRequest, UpstreamResponse
from . import engine
from .faults import (
    FAULT_HEADER,
    FaultError,
    Faults,
    StreamCutFault,
    faults_from_model,
    merged_faults,
    parse_faults,
)
from .neutral import BrokenBody, ChatRequest, MockFailure
from .schemas import RenderedStream, Schema, Target, body_target, fallback_schema
from .scripts import SCRIPT_HEADER, ScriptBook, ScriptedAnswer, ScriptError

__all__ = ["mock_response"]

_SSE_HEADERS = {"content-type": "text/event-stream", "cache-control": "no-cache"}
_BODY_JSON = json.JSONEncoder(ensure_ascii=False)
"""``json.dumps(..., ensure_ascii=False)`` without building an encoder per answer."""


def _json_response(status: int, payload: Any, tokens: tuple[int, int] = (0, 0)) -> UpstreamResponse:
    return UpstreamResponse(
        status,
        {"content-type": "application/json"},
        _BODY_JSON.encode(payload).encode(),
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
    req: UpstreamRequest,
    config: EmulatorConfig,
    created: int,
    scripts: ScriptBook | None = None,
) -> UpstreamResponse:
    """The mock's answer to one attempt (``created``: Unix seconds for the answer's body):
    a script's answer when one applies (``mock.scripts``), else the engine's."""
    mock = config.mock
    provider_cfg = config.provider(req.provider)
    body: Mapping[str, Any] = req.body if isinstance(req.body, Mapping) else {}
    target = req.schema.target(req.path, body) if req.schema is not None else body_target(body)
    try:
        faults = merged_faults(
            (mock.faults, provider_cfg.faults), target.model, req.headers.get(FAULT_HEADER)
        )
    except FaultError as exc:  # only the request header can be malformed: the config is checked
        body = gateway_error_body(wire.CODE_BAD_REQUEST, f"{FAULT_HEADER}: {exc}", 400)
        return _json_response(400, body)
    if faults_from_model(target.model).any:  # the model name was a fault directive list
        target = Target(engine.DEFAULT_CHAT_MODEL, target.stream)
    try:
        scripted = _scripted(req, body, target, scripts)
    except ScriptError as exc:
        errors = req.schema or fallback_schema(req.provider)
        failure = MockFailure(400, f"{SCRIPT_HEADER}: {exc}", "invalid_request", "invalid_script")
        return _json_response(400, errors.render_error(failure))
    if scripted is not None and scripted.fault:
        faults = faults.merge(parse_faults(scripted.fault))
        scripted = None
    latency = provider_cfg.latency_ms if provider_cfg.latency_ms is not None else mock.latency_ms
    delay = (latency + faults.delay_ms) / 1000
    if delay:
        await asyncio.sleep(delay)
    refusal = _refusal(req, faults)
    if refusal is not None:
        return refusal
    assert req.schema is not None  # no schema is a refusal
    return _answer(req.schema, body, target, faults, mock, created, scripted)


def _scripted(
    req: UpstreamRequest,
    body: Mapping[str, Any],
    target: Target,
    scripts: ScriptBook | None,
) -> ScriptedAnswer | None:
    """The scripted answer for a chat request, if a script applies (it counts the call)."""
    header = req.headers.get(SCRIPT_HEADER)
    schema = req.schema
    if scripts is None or schema is None or schema.kind != "chat" or not scripts.wanted(header):
        return None
    try:
        request = schema.parse_request(body, target=_answering(schema, target))
    except MockFailure:
        return None  # the engine answers with the schema's error
    prompt = engine.last_user_text(request) if isinstance(request, ChatRequest) else ""
    return scripts.next_answer(
        scope=req.scope, header=header, provider=req.provider, model=target.model, prompt=prompt
    )


def _answering(schema: Schema[Any, Any], target: Target) -> Target:
    """``target`` with the model that answers (the mock's default when it names none)."""
    if target.model:
        return target
    embeddings = schema.kind == "embeddings"
    model = engine.DEFAULT_EMBEDDINGS_MODEL if embeddings else engine.DEFAULT_CHAT_MODEL
    return Target(model, target.stream)


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
    target: Target,
    faults: Faults,
    settings: MockSettings,
    created: int,
    scripted: ScriptedAnswer | None = None,
) -> UpstreamResponse:
    """Parse with the schema, answer with the engine (or the script), render with the schema."""
    target = _answering(schema, target)
    try:
        engine.check_model(target.model)
        request = schema.parse_request(body, target=target)
        if scripted is not None and isinstance(request, ChatRequest):
            answer: Any = engine.scripted_answer(request, scripted)
        else:
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
