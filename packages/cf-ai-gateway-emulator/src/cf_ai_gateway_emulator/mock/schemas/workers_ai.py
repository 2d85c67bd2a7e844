"""Workers AI's own schema: ``@cf/{author}/{model}`` on the gateway (``workers-ai/@cf/...``)
and on the REST API (``/ai/run/@cf/...``), the model in the path.

Text generation: ``{"prompt": ...}`` or ``{"messages": [...]}`` (OpenAI-style messages),
``tools`` (OpenAI-style or flat ``{"name", "description", "parameters"}``), ``max_tokens``,
``response_format``, ``seed``, ``stream``. The answer is Cloudflare's envelope,
``{"result": {"response": ..., "tool_calls": [...], "usage": {...}}, "success": true,
"errors": [], "messages": []}``; a stream is ``data: {"response": "<piece>"}`` events, one with
the usage, then ``data: [DONE]``. Embedding models (``@cf/baai/bge-*``): ``{"text": str |
[str]}`` gives ``{"result": {"shape": [n, dims], "data": [[...]], "pooling": "mean"}, ...}``.
Errors: ``{"result": null, "success": false, "errors": [{"code", "message"}], "messages": []}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .. import engine
from ..neutral import (
    ChatAnswer,
    ChatRequest,
    EmbeddingsAnswer,
    EmbeddingsRequest,
    FailureKind,
    Message,
    MockFailure,
    ResponseFormat,
    Tool,
    ToolChoice,
    Usage,
)
from ..text import count_tokens
from . import sse
from .base import EndpointKind, RenderedStream, Schema, Target
from .openai_chat import messages_of, prompt_tokens, tool_choice_of, tools_of

__all__ = ["WORKERS_AI_EMBEDDINGS", "WORKERS_AI_TEXT", "WorkersAIEmbeddings", "WorkersAIText"]

_CODES: dict[FailureKind, int] = {
    "invalid_request": 5006,
    "not_found": 5007,
    "rate_limit": 3040,
    "server": 3001,
}
"""Workers AI's own error codes (its errors page): invalid input, no such model, out of
capacity, internal server error."""
_DIMENSIONS = {"bge-small": 384, "bge-base": 768, "bge-large": 1024, "bge-m3": 1024}
"""The real vector length of the common embedding models (others: the mock's default)."""
_DONE = b"data: [DONE]\n\n"


def _envelope(result: Any) -> dict[str, Any]:
    return {"result": result, "success": True, "errors": [], "messages": []}


def render_error(failure: MockFailure) -> dict[str, Any]:
    return {
        "result": None,
        "success": False,
        "errors": [{"code": _CODES[failure.kind], "message": failure.message}],
        "messages": [],
    }


def read_usage(content: bytes, *, streamed: bool) -> Usage:
    """``result.usage`` of a body, or the last ``usage`` of a stream."""
    try:
        if streamed:
            objects = [json.loads(d) for d in sse.data_fields(content) if d.strip() != "[DONE]"]
        else:
            body = json.loads(content)
            objects = [body.get("result")] if isinstance(body, dict) else []
    except ValueError:
        return Usage(0, 0)
    for obj in reversed(objects):
        usage = obj.get("usage") if isinstance(obj, dict) else None
        if isinstance(usage, dict):
            return Usage(
                int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
            )
    return Usage(0, 0)


def _model_target(path: str, body: Mapping[str, Any]) -> Target:
    return Target(path.strip("/"), bool(body.get("stream")))


class WorkersAIText(Schema[ChatRequest, ChatAnswer]):
    """Text generation on ``@cf/{author}/{model}``."""

    name = "workers-ai-text"
    kind: EndpointKind = "chat"

    def target(self, path: str, body: Mapping[str, Any]) -> Target:
        return _model_target(path, body)

    def parse_request(self, body: Mapping[str, Any], *, target: Target) -> ChatRequest:
        prompt, raw_messages = body.get("prompt"), body.get("messages")
        if isinstance(prompt, str):
            messages: tuple[Message, ...] = (Message("user", prompt),)
            tokens = count_tokens(prompt) + 3
        elif (
            isinstance(raw_messages, list)
            and raw_messages
            and all(isinstance(m, Mapping) and isinstance(m.get("role"), str) for m in raw_messages)
        ):
            messages = messages_of(raw_messages)
            tokens = prompt_tokens(body, raw_messages)
        else:
            raise MockFailure(
                400,
                "Type mismatch: the input needs 'prompt' (a string) or 'messages' (an array)",
                "invalid_request",
            )
        tools = _tools(body.get("tools"))
        limit = body.get("max_tokens")
        seed = body.get("seed")
        return ChatRequest(
            model=target.model,
            raw=body,
            stream=target.stream,
            messages=messages,
            tools=tools,
            tool_choice=tool_choice_of(body.get("tool_choice")) if tools else ToolChoice(),
            response_format=_response_format(body.get("response_format")),
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            max_tokens=limit if isinstance(limit, int) and limit > 0 else None,
            prompt_tokens=tokens,
        )

    def render_answer(
        self, request: ChatRequest, answer: ChatAnswer, *, created: int
    ) -> dict[str, Any]:
        choice = answer.choices[0]
        result: dict[str, Any] = {"response": choice.text}
        if choice.tool_calls:
            result["tool_calls"] = _calls(choice.tool_calls)
        result["usage"] = _usage(answer.usage)
        return _envelope(result)

    def render_stream(
        self, request: ChatRequest, answer: ChatAnswer, *, created: int
    ) -> RenderedStream:
        choice = answer.choices[0]
        events: list[dict[str, Any]] = []
        if choice.tool_calls:
            events.append({"response": "", "tool_calls": _calls(choice.tool_calls)})
        else:
            events += [{"response": piece} for piece in engine.text_deltas(choice.text or "")]
        events.append({"response": "", "usage": _usage(answer.usage)})
        return RenderedStream(tuple(sse.event(e) for e in events), end=_DONE)

    def read_usage(self, content: bytes, *, streamed: bool) -> Usage:
        return read_usage(content, streamed=streamed)

    def render_error(self, failure: MockFailure) -> dict[str, Any]:
        return render_error(failure)


class WorkersAIEmbeddings(Schema[EmbeddingsRequest, EmbeddingsAnswer]):
    """Text embeddings on ``@cf/baai/bge-*`` (and other embedding models)."""

    name = "workers-ai-embeddings"
    kind: EndpointKind = "embeddings"

    def target(self, path: str, body: Mapping[str, Any]) -> Target:
        return _model_target(path, body)

    def parse_request(self, body: Mapping[str, Any], *, target: Target) -> EmbeddingsRequest:
        text = body.get("text")
        inputs = [text] if isinstance(text, str) else text
        if (
            not isinstance(inputs, list)
            or not inputs
            or not all(isinstance(t, str) for t in inputs)
        ):
            raise MockFailure(
                400,
                "Type mismatch: 'text' must be a string or an array of strings",
                "invalid_request",
            )
        dims = next((d for name, d in _DIMENSIONS.items() if name in target.model), None)
        return EmbeddingsRequest(
            model=target.model, raw=body, inputs=tuple(inputs), dimensions=dims
        )

    def render_answer(
        self, request: EmbeddingsRequest, answer: EmbeddingsAnswer, *, created: int
    ) -> dict[str, Any]:
        vectors = [list(v) for v in answer.vectors]
        width = len(vectors[0]) if vectors else 0
        return _envelope({"shape": [len(vectors), width], "data": vectors, "pooling": "mean"})

    def render_stream(
        self, request: EmbeddingsRequest, answer: EmbeddingsAnswer, *, created: int
    ) -> RenderedStream:
        raise TypeError("embeddings are never streamed")

    def read_usage(self, content: bytes, *, streamed: bool) -> Usage:
        return Usage(0, 0)  # the envelope carries no usage for embeddings

    def render_error(self, failure: MockFailure) -> dict[str, Any]:
        return render_error(failure)


WORKERS_AI_TEXT = WorkersAIText()
WORKERS_AI_EMBEDDINGS = WorkersAIEmbeddings()


def _tools(raw: Any) -> tuple[Tool, ...]:
    """OpenAI-style tools, or Workers AI's flat ``{"name", "description", "parameters"}``."""
    if not isinstance(raw, list):
        return ()
    flat = [
        Tool(t["name"], str(t.get("description") or ""), t.get("parameters"))
        for t in raw
        if isinstance(t, Mapping) and isinstance(t.get("name"), str) and "function" not in t
    ]
    return tools_of(raw) + tuple(flat)


def _response_format(fmt: Any) -> ResponseFormat:
    """``{"type": "json_schema", "json_schema": <a JSON Schema, or OpenAI's wrapper>}``."""
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema", spec) if isinstance(spec, Mapping) else None
        return ResponseFormat("json_schema", schema or {"type": "object"})
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
        return ResponseFormat("json_object")
    return ResponseFormat()


def _calls(calls: Any) -> list[dict[str, Any]]:
    return [{"name": c.name, "arguments": c.arguments} for c in calls]


def _usage(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }
