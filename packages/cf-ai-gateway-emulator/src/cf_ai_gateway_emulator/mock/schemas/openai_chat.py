"""OpenAI chat completions: ``chat.completion`` bodies and ``chat.completion.chunk`` streams.

Also what the unified (``/compat``) and REST surfaces speak for every provider. Requests:
``messages`` (string or list content; ``image_url`` parts count 85 tokens), ``tools`` and
``tool_choice``, ``response_format``, ``n``, ``seed``, ``max_completion_tokens`` /
``max_tokens``, ``stop``, ``stream`` with ``stream_options.include_usage``. Ids are hashes of
the request, so the same body always gives the same ``chatcmpl-...`` and ``call_...`` ids.
Streams: a role chunk, tool-call or content deltas, a finish chunk per choice, a usage chunk
with empty ``choices`` when asked for, then ``data: [DONE]``.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from .. import engine
from ..neutral import (
    ChatAnswer,
    ChatChoice,
    ChatRequest,
    Finish,
    Message,
    MockFailure,
    ResponseFormat,
    Tool,
    ToolChoice,
    Usage,
)
from ..text import count_tokens, digest
from . import openai_common, sse
from .base import EndpointKind, RenderedStream, Schema, Target

__all__ = [
    "OPENAI_CHAT",
    "OpenAIChat",
    "checked_messages",
    "messages_of",
    "prompt_tokens",
    "response_format_of",
    "text_of",
    "tool_choice_of",
    "tools_of",
]

_FINISH: dict[Finish, str] = {"stop": "stop", "length": "length", "tool_call": "tool_calls"}
_ROLES = {"developer": "system"}
"""OpenAI roles with another neutral name."""
_IMAGE_PARTS = ("image_url", "image", "input_image")
_IMAGE_TOKENS = 85
_DONE = b"data: [DONE]\n\n"


class OpenAIChat(Schema[ChatRequest, ChatAnswer]):
    """OpenAI's ``chat/completions``."""

    name = "openai-chat"
    kind: EndpointKind = "chat"

    def parse_request(self, body: Mapping[str, Any], *, target: Target) -> ChatRequest:
        raw_messages = checked_messages(body)
        n = body.get("n") or 1
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 16:
            raise MockFailure(
                400, "'n' must be an integer from 1 to 16", "invalid_request", "invalid_value"
            )
        seed = body.get("seed")
        tools = tools_of(body.get("tools"))
        return ChatRequest(
            model=target.model,
            raw=body,
            stream=target.stream,
            messages=messages_of(raw_messages),
            tools=tools,
            tool_choice=tool_choice_of(body.get("tool_choice")) if tools else ToolChoice(),
            parallel_tool_calls=body.get("parallel_tool_calls") is not False,
            response_format=response_format_of(body.get("response_format")),
            choice_count=n,
            seed=seed if isinstance(seed, int) else None,
            max_tokens=_limit(body),
            stop=_stops(body.get("stop")),
            prompt_tokens=prompt_tokens(body, raw_messages),
        )

    def render_answer(
        self, request: ChatRequest, answer: ChatAnswer, *, created: int
    ) -> dict[str, Any]:
        return {
            "id": _completion_id(request),
            "object": "chat.completion",
            "created": created,
            "model": request.model,
            "choices": [_choice(request, i, c) for i, c in enumerate(answer.choices)],
            "usage": _usage(answer.usage),
            "service_tier": "default",
            "system_fingerprint": "fp_emulator",
        }

    def render_stream(
        self, request: ChatRequest, answer: ChatAnswer, *, created: int
    ) -> RenderedStream:
        chunks = self.chunks(request, answer, created=created)
        return RenderedStream(tuple(sse.event(chunk) for chunk in chunks), end=_DONE)

    def chunks(
        self, request: ChatRequest, answer: ChatAnswer, *, created: int
    ) -> list[dict[str, Any]]:
        """The ``chat.completion.chunk`` objects of the streamed answer (``[DONE]`` excluded)."""
        base = {
            "id": _completion_id(request),
            "object": "chat.completion.chunk",
            "created": created,
            "model": request.model,
            "service_tier": "default",
            "system_fingerprint": "fp_emulator",
        }
        out: list[dict[str, Any]] = []

        def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> None:
            choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
            out.append({**base, "choices": [choice]})

        for i, choice in enumerate(answer.choices):
            content = None if choice.tool_calls else ""
            chunk(i, {"role": "assistant", "content": content, "refusal": None})
            for t, call in enumerate(choice.tool_calls):
                function = {"name": call.name, "arguments": ""}
                head = {"index": t, "id": _call_id(request, i, t), "type": "function"}
                chunk(i, {"tool_calls": [{**head, "function": function}]})
                for piece in engine.argument_deltas(_arguments(call.arguments)):
                    chunk(i, {"tool_calls": [{"index": t, "function": {"arguments": piece}}]})
            for piece in engine.text_deltas(choice.text or ""):
                chunk(i, {"content": piece})
            chunk(i, {}, _FINISH[choice.finish])
        options = request.raw.get("stream_options") or {}
        if options.get("include_usage"):
            out.append({**base, "choices": [], "usage": _usage(answer.usage)})
        return out

    def read_usage(self, content: bytes, *, streamed: bool) -> Usage:
        return openai_common.read_usage(content, streamed=streamed)

    def render_error(self, failure: MockFailure) -> dict[str, Any]:
        return openai_common.render_error(failure)


OPENAI_CHAT = OpenAIChat()


# --- requests --------------------------------------------------------------------------------


def checked_messages(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise MockFailure(
            400, "'messages' must be a non-empty array", "invalid_request", "invalid_messages"
        )
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping) or not isinstance(m.get("role"), str):
            raise MockFailure(
                400,
                f"messages[{i}] must be an object with a 'role'",
                "invalid_request",
                "invalid_messages",
            )
    return messages


def text_of(content: Any) -> str:
    """The text of a message ``content`` (string or list of parts; images are ignored)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping):
                if isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif isinstance(part.get("content"), str):
                    texts.append(part["content"])
        return " ".join(texts)
    return str(content)


def _images_in(content: Any) -> int:
    if not isinstance(content, list):
        return 0
    return sum(1 for p in content if isinstance(p, Mapping) and p.get("type") in _IMAGE_PARTS)


def messages_of(raw: Sequence[Mapping[str, Any]]) -> tuple[Message, ...]:
    """Neutral messages: ``developer`` is a system message; a ``tool`` message names the
    function of the call it answers (else its ``name``)."""
    called: dict[Any, Any] = {}
    for m in raw:
        for call in m.get("tool_calls") or []:
            if isinstance(call, Mapping) and isinstance(call.get("id"), Hashable):
                function = call.get("function")
                called[call.get("id")] = (
                    function.get("name") if isinstance(function, Mapping) else None
                )
    out = []
    for m in raw:
        role, tool_name = m["role"], None
        if role == "tool":
            call_id = m.get("tool_call_id")
            name = (called.get(call_id) if isinstance(call_id, Hashable) else None) or m.get("name")
            tool_name = str(name) if name else None
        out.append(Message(_ROLES.get(role, role), text_of(m.get("content")), tool_name))
    return tuple(out)


def tools_of(raw: Any) -> tuple[Tool, ...]:
    out = []
    for tool in raw if isinstance(raw, list) else []:
        if isinstance(tool, Mapping):
            fn = tool.get("function") if tool.get("type", "function") == "function" else None
            if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
                description = str(fn.get("description") or "")
                out.append(Tool(fn["name"], description, fn.get("parameters")))
    return tuple(out)


def tool_choice_of(choice: Any) -> ToolChoice:
    if choice == "none":
        return ToolChoice("none")
    if isinstance(choice, Mapping):
        wanted = (choice.get("function") or {}).get("name") or choice.get("name")
        return ToolChoice("named", wanted if isinstance(wanted, str) else None)
    if isinstance(choice, str) and choice not in ("auto", "required", "any", "none"):
        return ToolChoice("named", choice)
    if choice in ("required", "any"):
        return ToolChoice("required")
    return ToolChoice("auto")


def response_format_of(fmt: Any) -> ResponseFormat:
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        return ResponseFormat("json_schema", schema or {"type": "object"})
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
        return ResponseFormat("json_object")
    return ResponseFormat("text")


def _limit(body: Mapping[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise MockFailure(400, f"'{key}' must be >= 1", "invalid_request", "invalid_value")
            return value
    return None


def _stops(stop: Any) -> tuple[str, ...]:
    if isinstance(stop, str):
        return (stop,)
    return tuple(s for s in stop if isinstance(s, str)) if isinstance(stop, Iterable) else ()


def prompt_tokens(body: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]) -> int:
    total = 3
    for m in messages:
        content = m.get("content")
        total += 4 + count_tokens(text_of(content)) + _IMAGE_TOKENS * _images_in(content)
        for call in m.get("tool_calls") or []:
            if isinstance(call, Mapping):
                total += count_tokens(json.dumps(call.get("function", {})))
    if body.get("tools"):
        total += count_tokens(json.dumps(body["tools"]))
    return total


# --- answers ---------------------------------------------------------------------------------


def _completion_id(request: ChatRequest) -> str:
    return "chatcmpl-" + digest(request.model, request.raw)[:29]


def _call_id(request: ChatRequest, choice_index: int, call_index: int = 0) -> str:
    """``call_<hash>``: a hash of the request, the choice and (after the first) the call."""
    parts = (choice_index,) if call_index == 0 else (choice_index, call_index)
    return "call_" + digest(request.raw, *parts)[:24]


def _arguments(arguments: Any) -> str:
    return json.dumps(arguments, ensure_ascii=False)


def _choice(request: ChatRequest, index: int, choice: ChatChoice) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": choice.text, "refusal": None}
    if choice.tool_calls:
        message["tool_calls"] = [
            {
                "id": _call_id(request, index, t),
                "type": "function",
                "function": {"name": call.name, "arguments": _arguments(call.arguments)},
            }
            for t, call in enumerate(choice.tool_calls)
        ]
    return {
        "index": index,
        "message": message,
        "logprobs": None,
        "finish_reason": _FINISH[choice.finish],
    }


def _usage(usage: Usage) -> dict[str, Any]:
    prompt, completion = usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
