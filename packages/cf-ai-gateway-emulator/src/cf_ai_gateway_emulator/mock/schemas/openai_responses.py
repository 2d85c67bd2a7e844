"""OpenAI Responses API: ``responses`` (JSON, and a stream of typed events).

Requests: ``input`` (a string, or items: messages with string or ``input_text`` /
``output_text`` / ``input_image`` parts, ``function_call`` and ``function_call_output``),
``instructions``, ``tools`` (``{"type": "function", "name", "description", "parameters"}``;
other tool types are ignored), ``tool_choice``, ``text.format`` (``json_schema`` /
``json_object``), ``max_output_tokens``, ``stream``. A ``function_call_output`` is a ``tool``
message for the engine, named after the ``function_call`` with its ``call_id``.

Answers: ``{"object": "response", "status": "completed" | "incomplete", "output": [message
or function_call items], "usage": {"input_tokens", "output_tokens", ...}}``. Streams:
``response.created``, ``response.in_progress``, per item ``response.output_item.added``,
``response.content_part.added``, ``response.output_text.delta``/``.done``,
``response.content_part.done`` (or ``response.function_call_arguments.delta``/``.done``),
``response.output_item.done``, then ``response.completed`` with the whole response; every event
has a ``sequence_number``; no ``[DONE]``. Errors are OpenAI's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .. import engine
from ..neutral import (
    ChatAnswer,
    ChatChoice,
    ChatRequest,
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
from .openai_chat import text_of

__all__ = ["OPENAI_RESPONSES", "OpenAIResponses"]

_ROLES = {"developer": "system"}


class OpenAIResponses(Schema[ChatRequest, ChatAnswer]):
    """OpenAI's ``responses``."""

    name = "openai-responses"
    kind: EndpointKind = "chat"

    def parse_request(self, body: Mapping[str, Any], *, target: Target) -> ChatRequest:
        items = _items(body.get("input"))
        instructions = body.get("instructions")
        messages = _messages(instructions if isinstance(instructions, str) else None, items)
        tools = _tools(body.get("tools"))
        limit = body.get("max_output_tokens")
        return ChatRequest(
            model=target.model,
            raw=body,
            stream=target.stream,
            messages=messages,
            tools=tools,
            tool_choice=_tool_choice(body.get("tool_choice")) if tools else ToolChoice(),
            parallel_tool_calls=body.get("parallel_tool_calls") is not False,
            response_format=_response_format(body.get("text")),
            max_tokens=limit if isinstance(limit, int) and limit > 0 else None,
            prompt_tokens=_prompt_tokens(body, messages),
        )

    def render_answer(
        self, request: ChatRequest, answer: ChatAnswer, *, created: int
    ) -> dict[str, Any]:
        choice = answer.choices[0]
        return _response(request, choice, _output(request, choice), answer.usage, created)

    def render_stream(
        self, request: ChatRequest, answer: ChatAnswer, *, created: int
    ) -> RenderedStream:
        choice = answer.choices[0]
        output = _output(request, choice)
        events: list[dict[str, Any]] = []

        def emit(kind: str, **fields: Any) -> None:
            events.append({"type": kind, "sequence_number": len(events), **fields})

        started = _response(request, choice, [], None, created, status="in_progress")
        emit("response.created", response=started)
        emit("response.in_progress", response=started)
        for index, item in enumerate(output):
            if item["type"] == "message":
                emit(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "content": []},
                )
                where = {"item_id": item["id"], "output_index": index, "content_index": 0}
                part = item["content"][0]
                emit("response.content_part.added", **where, part={**part, "text": ""})
                for piece in engine.text_deltas(part["text"]):
                    emit("response.output_text.delta", **where, delta=piece, logprobs=[])
                emit("response.output_text.done", **where, text=part["text"], logprobs=[])
                emit("response.content_part.done", **where, part=part)
            else:
                emit(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "arguments": ""},
                )
                where = {"item_id": item["id"], "output_index": index}
                for piece in engine.argument_deltas(item["arguments"]):
                    emit("response.function_call_arguments.delta", **where, delta=piece)
                emit(
                    "response.function_call_arguments.done",
                    **where,
                    name=item["name"],
                    arguments=item["arguments"],
                )
            emit("response.output_item.done", output_index=index, item=item)
        final = _response(request, choice, output, answer.usage, created)
        emit(
            "response.completed" if final["status"] == "completed" else "response.incomplete",
            response=final,
        )
        return RenderedStream(tuple(sse.event(e, name=e["type"]) for e in events))

    def read_usage(self, content: bytes, *, streamed: bool) -> Usage:
        """``usage`` of the response (streamed: of the last event's ``response``)."""
        try:
            objects = [json.loads(d) for d in sse.data_fields(content)] if streamed else []
            if not streamed:
                objects = [json.loads(content)]
        except ValueError:
            return Usage(0, 0)
        for obj in reversed(objects):
            response = obj.get("response", obj) if isinstance(obj, dict) else None
            usage = response.get("usage") if isinstance(response, dict) else None
            if isinstance(usage, dict):
                return Usage(
                    int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
                )
        return Usage(0, 0)

    def render_error(self, failure: MockFailure) -> dict[str, Any]:
        return openai_common.render_error(failure)


OPENAI_RESPONSES = OpenAIResponses()


# --- requests --------------------------------------------------------------------------------


def _invalid(message: str) -> MockFailure:
    return MockFailure(400, message, "invalid_request", "invalid_value")


def _items(raw: Any) -> list[Mapping[str, Any]]:
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    if not isinstance(raw, list) or not raw:
        raise _invalid("'input' must be a string or a non-empty array of items")
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise _invalid(f"input[{i}] must be an object")
    return raw


def _messages(instructions: str | None, items: Sequence[Mapping[str, Any]]) -> tuple[Message, ...]:
    out: list[Message] = [Message("system", instructions)] if instructions else []
    called: dict[str, str] = {}
    for item in items:
        kind = item.get("type", "message")
        if kind == "function_call":
            called[str(item.get("call_id"))] = str(item.get("name") or "")
            out.append(Message("assistant", ""))
        elif kind == "function_call_output":
            output = item.get("output")
            text = output if isinstance(output, str) else text_of(output)
            out.append(Message("tool", text, called.get(str(item.get("call_id"))) or None))
        elif kind == "message" and isinstance(item.get("role"), str):
            role = str(item["role"])
            out.append(Message(_ROLES.get(role, role), text_of(item.get("content"))))
    if not out:
        raise _invalid("'input' has no message")
    return tuple(out)


def _tools(raw: Any) -> tuple[Tool, ...]:
    return tuple(
        Tool(t["name"], str(t.get("description") or ""), t.get("parameters"))
        for t in (raw if isinstance(raw, list) else [])
        if isinstance(t, Mapping) and t.get("type") == "function" and isinstance(t.get("name"), str)
    )


def _tool_choice(choice: Any) -> ToolChoice:
    if choice == "none":
        return ToolChoice("none")
    if choice == "required":
        return ToolChoice("required")
    if isinstance(choice, Mapping) and isinstance(choice.get("name"), str):
        return ToolChoice("named", choice["name"])
    return ToolChoice()


def _response_format(text: Any) -> ResponseFormat:
    fmt = text.get("format") if isinstance(text, Mapping) else None
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        return ResponseFormat("json_schema", fmt.get("schema") or {"type": "object"})
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
        return ResponseFormat("json_object")
    return ResponseFormat()


def _prompt_tokens(body: Mapping[str, Any], messages: Sequence[Message]) -> int:
    total = sum(4 + count_tokens(m.text) for m in messages)
    if body.get("tools"):
        total += count_tokens(json.dumps(body["tools"], ensure_ascii=False))
    return total


# --- answers ---------------------------------------------------------------------------------


def _ids(request: ChatRequest, *parts: object) -> str:
    return digest("responses", request.model, request.raw, *parts)[:48]


def _output(request: ChatRequest, choice: ChatChoice) -> list[dict[str, Any]]:
    if choice.tool_calls:
        return [
            {
                "type": "function_call",
                "id": "fc_" + _ids(request, "fc", t),
                "call_id": "call_" + _ids(request, "call", t)[:24],
                "name": call.name,
                "arguments": json.dumps(call.arguments, ensure_ascii=False),
                "status": "completed",
            }
            for t, call in enumerate(choice.tool_calls)
        ]
    part = {"type": "output_text", "text": choice.text or "", "annotations": [], "logprobs": []}
    message_id = "msg_" + _ids(request, "msg")
    return [
        {
            "type": "message",
            "id": message_id,
            "status": "completed",
            "role": "assistant",
            "content": [part],
        }
    ]


def _usage(usage: Usage) -> dict[str, Any]:
    tokens_in, tokens_out = usage
    return {
        "input_tokens": tokens_in,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": tokens_out,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": tokens_in + tokens_out,
    }


def _response(
    request: ChatRequest,
    choice: ChatChoice,
    output: list[dict[str, Any]],
    usage: Usage | None,
    created: int,
    *,
    status: str | None = None,
) -> dict[str, Any]:
    raw = request.raw
    incomplete = choice.finish == "length"
    return {
        "id": "resp_" + _ids(request, "resp"),
        "object": "response",
        "created_at": created,
        "status": status or ("incomplete" if incomplete else "completed"),
        "background": False,
        "error": None,
        "incomplete_details": (
            {"reason": "max_output_tokens"} if incomplete and status is None else None
        ),
        "instructions": raw.get("instructions"),
        "max_output_tokens": raw.get("max_output_tokens"),
        "model": request.model,
        "output": output,
        "parallel_tool_calls": raw.get("parallel_tool_calls", True),
        "previous_response_id": raw.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": raw.get("store", True),
        "temperature": raw.get("temperature", 1.0),
        "text": raw.get("text") or {"format": {"type": "text"}},
        "tool_choice": raw.get("tool_choice", "auto"),
        "tools": raw.get("tools") or [],
        "top_p": raw.get("top_p", 1.0),
        "truncation": raw.get("truncation", "disabled"),
        "usage": _usage(usage) if usage is not None else None,
        "user": raw.get("user"),
        "metadata": raw.get("metadata") or {},
    }
