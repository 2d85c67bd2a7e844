"""Google AI Studio (Gemini API): ``{v1,v1beta}/models/{model}:generateContent``,
``:streamGenerateContent`` (server-sent events, as with ``?alt=sse``), ``:countTokens``,
``:embedContent`` and ``:batchEmbedContents``.

The model and streaming live in the URL, not in the body (``target``). Request fields are
accepted in both JSON spellings the API takes (``systemInstruction`` and
``system_instruction``...): ``contents`` with ``parts`` (``text``, ``inlineData``,
``functionCall``, ``functionResponse``), ``systemInstruction``, ``tools[].functionDeclarations``
(``parameters`` in the API's schema dialect, types like ``OBJECT``, or
``parametersJsonSchema``), ``toolConfig.functionCallingConfig`` (``AUTO`` / ``ANY`` / ``NONE``,
``allowedFunctionNames``), ``generationConfig`` (``maxOutputTokens``, ``stopSequences``,
``candidateCount``, ``seed``, ``responseMimeType: application/json`` with ``responseSchema`` or
``responseJsonSchema``). A ``functionResponse`` part is a ``tool`` message for the engine.

Answers: ``candidates[].content.parts`` (``text`` or ``functionCall``), ``finishReason``
(``STOP`` / ``MAX_TOKENS``) and ``usageMetadata``; streams send the same shape in pieces, the
last one with the finish reason and the whole usage (no terminator). Embeddings:
``{"embedding": {"values": [...]}}`` or ``{"embeddings": [...]}``. Token counts:
``{"totalTokens": n, "promptTokensDetails": [...]}`` for ``contents`` or a whole
``generateContentRequest``, counted as ``:generateContent`` counts its prompt. Errors:
``{"error": {"code", "message", "status"}}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .. import engine
from ..neutral import (
    ChatAnswer,
    ChatRequest,
    CountRequest,
    EmbeddingsAnswer,
    EmbeddingsRequest,
    FailureKind,
    Finish,
    Message,
    MockFailure,
    ResponseFormat,
    TokenCount,
    Tool,
    ToolChoice,
    Usage,
)
from ..text import count_tokens, digest
from . import sse
from .base import EndpointKind, RenderedStream, Schema, Target, TokenCountSchema

__all__ = [
    "GOOGLE_COUNT_TOKENS",
    "GOOGLE_EMBEDDINGS",
    "GOOGLE_GENERATE",
    "GoogleCountTokens",
    "GoogleEmbeddings",
    "GoogleGenerateContent",
]

_MODEL_IN_PATH = re.compile(r"(?:^|/)models/(?P<model>[^/:]+):(?P<verb>\w+)$")
_FINISH: dict[Finish, str] = {"stop": "STOP", "length": "MAX_TOKENS", "tool_call": "STOP"}
_STATUS: dict[FailureKind, str] = {
    "invalid_request": "INVALID_ARGUMENT",
    "not_found": "NOT_FOUND",
    "rate_limit": "RESOURCE_EXHAUSTED",
    "server": "INTERNAL",
}
_IMAGE_TOKENS = 258


def _field(data: Mapping[str, Any], camel: str) -> Any:
    """``data[camel]``, or its snake_case spelling (the API accepts both)."""
    if camel in data:
        return data[camel]
    return data.get(re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower())


def _path_target(path: str, body: Mapping[str, Any]) -> Target:
    match = _MODEL_IN_PATH.search(path.strip("/"))
    if match is None:
        return Target(str(body.get("model") or "").removeprefix("models/"), False)
    return Target(match["model"], match["verb"] == "streamGenerateContent")


def render_error(failure: MockFailure) -> dict[str, Any]:
    """``{"error": {"code": <HTTP status>, "message", "status"}}``."""
    status = "UNAVAILABLE" if failure.status == 503 else _STATUS[failure.kind]
    return {"error": {"code": failure.status, "message": failure.message, "status": status}}


def read_usage(content: bytes, *, streamed: bool) -> Usage:
    """The last ``usageMetadata`` of a body or stream (embeddings carry none)."""
    try:
        objects = [json.loads(d) for d in sse.data_fields(content)] if streamed else []
        if not streamed:
            objects = [json.loads(content)]
    except ValueError:
        return Usage(0, 0)
    for obj in reversed(objects):
        usage = _field(obj, "usageMetadata") if isinstance(obj, dict) else None
        if isinstance(usage, dict):
            prompt = _field(usage, "promptTokenCount") or 0
            output = _field(usage, "candidatesTokenCount") or 0
            return Usage(int(prompt), int(output))
    return Usage(0, 0)


class GoogleGenerateContent(Schema[ChatRequest, ChatAnswer]):
    """``models/{model}:generateContent`` and ``:streamGenerateContent``."""

    name = "google-generate-content"
    kind: EndpointKind = "chat"

    def target(self, path: str, body: Mapping[str, Any]) -> Target:
        return _path_target(path, body)

    def parse_request(self, body: Mapping[str, Any], *, target: Target) -> ChatRequest:
        contents = _checked_contents(body)
        config = _field(body, "generationConfig")
        config = config if isinstance(config, Mapping) else {}
        count = _field(config, "candidateCount") or 1
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 8:
            raise _invalid("candidateCount must be an integer from 1 to 8")
        limit = _field(config, "maxOutputTokens")
        stops = _field(config, "stopSequences")
        seed = _field(config, "seed")
        tools = _tools(_field(body, "tools"))
        return ChatRequest(
            model=target.model,
            raw=body,
            stream=target.stream,
            messages=_messages(_field(body, "systemInstruction"), contents),
            tools=tools,
            tool_choice=_tool_choice(_field(body, "toolConfig")) if tools else ToolChoice(),
            response_format=_response_format(config),
            choice_count=count,
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            max_tokens=limit if isinstance(limit, int) and limit > 0 else None,
            stop=tuple(s for s in stops if isinstance(s, str)) if isinstance(stops, list) else (),
            prompt_tokens=_prompt_tokens(body, contents),
        )

    def render_answer(
        self, request: ChatRequest, answer: ChatAnswer, *, created: int
    ) -> dict[str, Any]:
        candidates = [
            {
                "content": {"parts": _parts(choice.text, choice.tool_calls), "role": "model"},
                "finishReason": _FINISH[choice.finish],
                "index": i,
            }
            for i, choice in enumerate(answer.choices)
        ]
        return {"candidates": candidates, **_tail(request, answer.usage)}

    def render_stream(
        self, request: ChatRequest, answer: ChatAnswer, *, created: int
    ) -> RenderedStream:
        prompt_only = Usage(answer.usage.input_tokens, 0)
        events: list[dict[str, Any]] = []
        for i, choice in enumerate(answer.choices):
            if choice.tool_calls:
                pieces = [_parts(None, choice.tool_calls)]
            else:
                pieces = [[{"text": piece}] for piece in engine.text_deltas(choice.text or "")]
            for n, parts in enumerate(pieces):
                candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
                last = i == len(answer.choices) - 1 and n == len(pieces) - 1
                if n == len(pieces) - 1:
                    candidate["finishReason"] = _FINISH[choice.finish]
                candidate["index"] = i
                usage = answer.usage if last else prompt_only
                events.append({"candidates": [candidate], **_tail(request, usage)})
        return RenderedStream(tuple(sse.event(e) for e in events))

    def read_usage(self, content: bytes, *, streamed: bool) -> Usage:
        return read_usage(content, streamed=streamed)

    def render_error(self, failure: MockFailure) -> dict[str, Any]:
        return render_error(failure)


class GoogleEmbeddings(Schema[EmbeddingsRequest, EmbeddingsAnswer]):
    """``models/{model}:embedContent`` (one ``content``) and ``:batchEmbedContents``
    (``requests``, each with its ``content``); ``outputDimensionality`` sets the length."""

    name = "google-embeddings"
    kind: EndpointKind = "embeddings"

    def target(self, path: str, body: Mapping[str, Any]) -> Target:
        return _path_target(path, body)

    def parse_request(self, body: Mapping[str, Any], *, target: Target) -> EmbeddingsRequest:
        requests = body.get("requests")
        items = requests if isinstance(requests, list) else [body]
        inputs = []
        for item in items:
            content = item.get("content") if isinstance(item, Mapping) else None
            if not isinstance(content, Mapping) or not isinstance(content.get("parts"), list):
                raise _invalid("each request needs 'content' with 'parts'")
            inputs.append(_parts_text(content["parts"]))
        if not inputs:
            raise _invalid("'requests' must not be empty")
        first = items[0] if isinstance(items[0], Mapping) else {}
        dims = _field(first, "outputDimensionality")
        return EmbeddingsRequest(
            model=target.model,
            raw=body,
            inputs=tuple(inputs),
            dimensions=dims if isinstance(dims, int) and not isinstance(dims, bool) else None,
        )

    def render_answer(
        self, request: EmbeddingsRequest, answer: EmbeddingsAnswer, *, created: int
    ) -> dict[str, Any]:
        vectors = [{"values": list(v)} for v in answer.vectors]
        if isinstance(request.raw.get("requests"), list):
            return {"embeddings": vectors}
        return {"embedding": vectors[0]}

    def render_stream(
        self, request: EmbeddingsRequest, answer: EmbeddingsAnswer, *, created: int
    ) -> RenderedStream:
        raise TypeError("embeddings are never streamed")

    def read_usage(self, content: bytes, *, streamed: bool) -> Usage:
        return read_usage(content, streamed=streamed)

    def render_error(self, failure: MockFailure) -> dict[str, Any]:
        return render_error(failure)


class GoogleCountTokens(TokenCountSchema):
    """``models/{model}:countTokens``: ``contents``, or a whole ``generateContentRequest``
    (system instruction and tools counted too), counted as ``:generateContent`` counts its
    prompt."""

    name = "google-count-tokens"

    def target(self, path: str, body: Mapping[str, Any]) -> Target:
        return _path_target(path, body)

    def parse_request(self, body: Mapping[str, Any], *, target: Target) -> CountRequest:
        inner = _field(body, "generateContentRequest")
        source = inner if isinstance(inner, Mapping) else body
        contents = _checked_contents(source)
        _messages(_field(source, "systemInstruction"), contents)  # refuses what generate would
        return CountRequest(
            model=target.model, raw=body, prompt_tokens=_prompt_tokens(source, contents)
        )

    def render_answer(
        self, request: CountRequest, answer: TokenCount, *, created: int
    ) -> dict[str, Any]:
        total = answer.usage.input_tokens
        return {
            "totalTokens": total,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}],
        }

    def render_error(self, failure: MockFailure) -> dict[str, Any]:
        return render_error(failure)


GOOGLE_GENERATE = GoogleGenerateContent()
GOOGLE_EMBEDDINGS = GoogleEmbeddings()
GOOGLE_COUNT_TOKENS = GoogleCountTokens()


# --- requests --------------------------------------------------------------------------------


def _invalid(message: str) -> MockFailure:
    return MockFailure(400, message, "invalid_request")


def _checked_contents(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    contents = body.get("contents")
    if isinstance(contents, Mapping):
        contents = [contents]
    if not isinstance(contents, list) or not contents:
        raise _invalid("* GenerateContentRequest.contents: contents is not specified")
    for i, content in enumerate(contents):
        if not isinstance(content, Mapping) or not isinstance(content.get("parts"), list):
            raise _invalid(f"* GenerateContentRequest.contents[{i}].parts: must be a list")
    return contents


def _parts_text(parts: Sequence[Any]) -> str:
    texts = [str(p["text"]) for p in parts if isinstance(p, Mapping) and "text" in p]
    return " ".join(t for t in texts if t)


def _messages(system: Any, contents: Sequence[Mapping[str, Any]]) -> tuple[Message, ...]:
    out: list[Message] = []
    if isinstance(system, str):
        out.append(Message("system", system))
    elif isinstance(system, Mapping) and isinstance(system.get("parts"), list):
        out.append(Message("system", _parts_text(system["parts"])))
    for content in contents:
        parts = content["parts"]
        answered_tools = False
        for part in parts:
            response = _field(part, "functionResponse") if isinstance(part, Mapping) else None
            if isinstance(response, Mapping):
                result = response.get("response")
                text = result if isinstance(result, str) else json.dumps(result)
                name = response.get("name")
                out.append(Message("tool", text, str(name) if name else None))
                answered_tools = True
        text = _parts_text(parts)
        role = "assistant" if content.get("role") == "model" else "user"
        if text or not answered_tools:
            out.append(Message(role, text))
    return tuple(out)


def _json_schema(schema: Any) -> Any:
    """The API's schema dialect (``type: "OBJECT"``...) as JSON Schema (lower-case types)."""
    if isinstance(schema, list):
        return [_json_schema(s) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out = {k: _json_schema(v) for k, v in schema.items()}
    if isinstance(out.get("type"), str):
        out["type"] = out["type"].lower()
    return out


def _tools(raw: Any) -> tuple[Tool, ...]:
    out = []
    for tool in raw if isinstance(raw, list) else []:
        declarations = _field(tool, "functionDeclarations") if isinstance(tool, Mapping) else None
        for fn in declarations if isinstance(declarations, list) else []:
            if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
                params = _field(fn, "parametersJsonSchema") or fn.get("parameters")
                description = str(fn.get("description") or "")
                out.append(Tool(fn["name"], description, _json_schema(params)))
    return tuple(out)


def _tool_choice(config: Any) -> ToolChoice:
    calling = _field(config, "functionCallingConfig") if isinstance(config, Mapping) else None
    if not isinstance(calling, Mapping):
        return ToolChoice()
    mode = str(calling.get("mode") or "AUTO").upper()
    if mode == "NONE":
        return ToolChoice("none")
    if mode in ("ANY", "VALIDATED"):
        allowed = _field(calling, "allowedFunctionNames")
        if isinstance(allowed, list) and len(allowed) == 1 and isinstance(allowed[0], str):
            return ToolChoice("named", allowed[0])
        return ToolChoice("required")
    return ToolChoice()


def _response_format(config: Mapping[str, Any]) -> ResponseFormat:
    if _field(config, "responseMimeType") != "application/json":
        return ResponseFormat()
    schema = _field(config, "responseJsonSchema") or _field(config, "responseSchema")
    if isinstance(schema, Mapping):
        return ResponseFormat("json_schema", _json_schema(schema))
    return ResponseFormat("json_object")


def _prompt_tokens(body: Mapping[str, Any], contents: Sequence[Mapping[str, Any]]) -> int:
    total = 0
    system = _field(body, "systemInstruction")
    if isinstance(system, Mapping) and isinstance(system.get("parts"), list):
        total += count_tokens(_parts_text(system["parts"]))
    for content in contents:
        for part in content["parts"]:
            if not isinstance(part, Mapping):
                continue
            if "text" in part:
                total += count_tokens(str(part["text"]))
            elif _field(part, "inlineData") or _field(part, "fileData"):
                total += _IMAGE_TOKENS
            else:
                total += count_tokens(json.dumps(part, ensure_ascii=False))
    tools = _field(body, "tools")
    if tools:
        total += count_tokens(json.dumps(tools, ensure_ascii=False))
    return total


# --- answers ---------------------------------------------------------------------------------


def _parts(text: str | None, calls: Sequence[Any]) -> list[dict[str, Any]]:
    if calls:
        return [{"functionCall": {"name": c.name, "args": c.arguments}} for c in calls]
    return [{"text": text or ""}]


def _usage(usage: Usage) -> dict[str, Any]:
    prompt, output = usage
    return {
        "promptTokenCount": prompt,
        "candidatesTokenCount": output,
        "totalTokenCount": prompt + output,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }


def _tail(request: ChatRequest, usage: Usage) -> dict[str, Any]:
    return {
        "usageMetadata": _usage(usage),
        "modelVersion": request.model,
        "responseId": digest("google", request.model, request.raw)[:22],
    }
