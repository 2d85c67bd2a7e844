"""Anthropic Messages: ``v1/messages`` (JSON and SSE) and ``v1/messages/count_tokens``.

Requests: ``model``, ``max_tokens`` (required), ``system`` (a string or text blocks),
``messages`` whose ``content`` is a string or blocks (``text``, ``image``, ``document``,
``tool_use``, ``tool_result``), ``tools`` (``name``, ``description``, ``input_schema``),
``tool_choice`` (``auto`` / ``any`` / ``tool`` / ``none``), ``stop_sequences``, ``stream``.
A ``tool_result`` block is a ``tool`` message for the engine, named after the ``tool_use`` it
answers. Ids are hashes of the request (``msg_...``, ``toolu_...``).

Answers: ``{"type": "message", "content": [text or tool_use blocks], "stop_reason":
"end_turn" | "max_tokens" | "tool_use" | "stop_sequence", "stop_sequence": the string that
ended the text or null, "usage": {"input_tokens", "output_tokens", ...}}``.
Streams: ``message_start`` (with the input tokens), ``content_block_start``, ``ping``,
``content_block_delta`` (``text_delta`` / ``input_json_delta``), ``content_block_stop``,
``message_delta`` (stop reason and output tokens), ``message_stop``. Errors:
``{"type": "error", "error": {"type": ..., "message": ...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cf_ai_gateway import wire

from .. import engine
from ..neutral import (
    ChatAnswer,
    ChatChoice,
    ChatRequest,
    CountRequest,
    FailureKind,
    Finish,
    Message,
    MockFailure,
    TokenCount,
    Tool,
    ToolChoice,
    Usage,
)
from ..text import count_tokens, digest
from . import sse
from .base import EndpointKind, RenderedStream, Schema, Target, TokenCountSchema

__all__ = [
    "ANTHROPIC_COUNT_TOKENS",
    "ANTHROPIC_MESSAGES",
    "AnthropicCountTokens",
    "AnthropicMessages",
]

_STOP: dict[Finish, str] = {"stop": "end_turn", "length": "max_tokens", "tool_call": "tool_use"}
_ERROR_TYPES: dict[FailureKind, str] = {
    "invalid_request": "invalid_request_error",
    "not_found": wire.MODEL_NOT_FOUND_TYPE,
    "rate_limit": "rate_limit_error",
    "server": "api_error",
}
_IMAGE_TOKENS = 85


def _invalid(message: str) -> MockFailure:
    return MockFailure(400, message, "invalid_request")


def render_error(failure: MockFailure) -> dict[str, Any]:
    """``{"type": "error", "error": {"type", "message"}}`` (503 is ``overloaded_error``)."""
    kind = "overloaded_error" if failure.status in (503, 529) else _ERROR_TYPES[failure.kind]
    return {"type": "error", "error": {"type": kind, "message": failure.message}}


def read_usage(content: bytes, *, streamed: bool) -> Usage:
    """Input tokens from ``usage`` (or, streamed, ``message_start``), output tokens from the
    last ``usage`` seen (streamed: ``message_delta``)."""
    try:
        events = [json.loads(d) for d in sse.data_fields(content)] if streamed else []
        body = None if streamed else json.loads(content)
    except ValueError:
        return Usage(0, 0)
    if body is not None:
        events = [{"message": body}] if isinstance(body, dict) else []
    tokens_in = tokens_out = 0
    for event in events:
        if not isinstance(event, dict):
            continue
        message = event.get("message")
        usage = message.get("usage") if isinstance(message, dict) else event.get("usage")
        if isinstance(usage, dict):
            tokens_in = int(usage.get("input_tokens") or tokens_in)
            tokens_out = int(usage.get("output_tokens") or tokens_out)
    return Usage(tokens_in, tokens_out)


class AnthropicMessages(Schema[ChatRequest, ChatAnswer]):
    """Anthropic's ``v1/messages``."""

    name = "anthropic-messages"
    kind: EndpointKind = "chat"

    def parse_request(self, body: Mapping[str, Any], *, target: Target) -> ChatRequest:
        raw_messages = _checked_messages(body)
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise _invalid("max_tokens: Field required (an integer >= 1)")
        tools = _tools(body.get("tools"))
        stops = body.get("stop_sequences")
        return ChatRequest(
            model=target.model,
            raw=body,
            stream=target.stream,
            messages=_messages(body.get("system"), raw_messages),
            tools=tools,
            tool_choice=_tool_choice(body.get("tool_choice")) if tools else ToolChoice(),
            parallel_tool_calls=not _parallel_off(body.get("tool_choice")),
            max_tokens=max_tokens,
            stop=tuple(s for s in stops if isinstance(s, str)) if isinstance(stops, list) else (),
            prompt_tokens=prompt_tokens(body, raw_messages),
        )

    def render_answer(
        self, request: ChatRequest, answer: ChatAnswer, *, created: int
    ) -> dict[str, Any]:
        choice = answer.choices[0]
        return {
            **_message_head(request),
            "content": _blocks(request, choice.text, choice.tool_calls),
            **_stop(choice),
            "usage": _usage(answer.usage),
        }

    def render_stream(
        self, request: ChatRequest, answer: ChatAnswer, *, created: int
    ) -> RenderedStream:
        choice = answer.choices[0]
        start_usage = _usage(Usage(answer.usage.input_tokens, 1))
        start = {**_message_head(request), "content": [], "stop_reason": None}
        events = [
            sse.event(
                {
                    "type": "message_start",
                    "message": {**start, "stop_sequence": None, "usage": start_usage},
                },
                name="message_start",
            ),
        ]
        index = 0
        if choice.text is not None or not choice.tool_calls:
            events.append(_block_start(index, {"type": "text", "text": ""}))
            events.append(sse.event({"type": "ping"}, name="ping"))
            for piece in engine.text_deltas(choice.text or ""):
                events.append(_block_delta(index, {"type": "text_delta", "text": piece}))
            events.append(_block_stop(index))
            index += 1
        for t, call in enumerate(choice.tool_calls):
            head = {"type": "tool_use", "id": _tool_use_id(request, t), "name": call.name}
            events.append(_block_start(index, {**head, "input": {}}))
            arguments = json.dumps(call.arguments, ensure_ascii=False)
            for piece in engine.argument_deltas(arguments):
                events.append(
                    _block_delta(index, {"type": "input_json_delta", "partial_json": piece})
                )
            events.append(_block_stop(index))
            index += 1
        delta = _stop(choice)
        events.append(
            sse.event(
                {
                    "type": "message_delta",
                    "delta": delta,
                    "usage": {"output_tokens": answer.usage.output_tokens},
                },
                name="message_delta",
            )
        )
        end = sse.event({"type": "message_stop"}, name="message_stop")
        return RenderedStream(tuple(events), end=end)

    def read_usage(self, content: bytes, *, streamed: bool) -> Usage:
        return read_usage(content, streamed=streamed)

    def render_error(self, failure: MockFailure) -> dict[str, Any]:
        return render_error(failure)


class AnthropicCountTokens(TokenCountSchema):
    """Anthropic's ``v1/messages/count_tokens``: ``{"input_tokens": n}``, counted as
    ``v1/messages`` counts a prompt."""

    name = "anthropic-count-tokens"

    def parse_request(self, body: Mapping[str, Any], *, target: Target) -> CountRequest:
        raw_messages = _checked_messages(body)
        _messages(body.get("system"), raw_messages)
        return CountRequest(
            model=target.model, raw=body, prompt_tokens=prompt_tokens(body, raw_messages)
        )

    def render_answer(
        self, request: CountRequest, answer: TokenCount, *, created: int
    ) -> dict[str, Any]:
        return {"input_tokens": answer.usage.input_tokens}

    def render_error(self, failure: MockFailure) -> dict[str, Any]:
        return render_error(failure)


def _stop(choice: ChatChoice) -> dict[str, Any]:
    """``stop_reason`` and ``stop_sequence``: ``"stop_sequence"`` and the string when one of
    the request's ``stop_sequences`` ended the text."""
    if choice.stop_sequence is not None:
        return {"stop_reason": "stop_sequence", "stop_sequence": choice.stop_sequence}
    return {"stop_reason": _STOP[choice.finish], "stop_sequence": None}


ANTHROPIC_MESSAGES = AnthropicMessages()
ANTHROPIC_COUNT_TOKENS = AnthropicCountTokens()


# --- requests --------------------------------------------------------------------------------


def _checked_messages(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _invalid("messages: at least one message is required")
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping) or m.get("role") not in ("user", "assistant"):
            raise _invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = m.get("content")
        if not isinstance(content, (str, list)):
            raise _invalid(f"messages.{i}.content: Input should be a string or a list of blocks")
    return messages


def _block_text(block: Any) -> str:
    """The text of one content block (or of a tool result's content)."""
    if isinstance(block, str):
        return block
    if not isinstance(block, Mapping):
        return ""
    if isinstance(block.get("text"), str):
        return str(block["text"])
    content = block.get("content")
    if isinstance(content, (str, list)):
        return _text(content)
    return ""


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(t for t in (_block_text(b) for b in content) if t)
    return ""


def _messages(system: Any, raw: Sequence[Mapping[str, Any]]) -> tuple[Message, ...]:
    """Neutral messages: ``system`` first; a user message's ``tool_result`` blocks become
    ``tool`` messages (named after the ``tool_use`` they answer) before its other text."""
    out: list[Message] = []
    system_text = _text(system)
    if system_text:
        out.append(Message("system", system_text))
    called: dict[str, str] = {}
    for m in raw:
        content = m["content"]
        blocks = content if isinstance(content, list) else [content]
        texts = []
        answered_tools = False
        for block in blocks:
            kind = block.get("type") if isinstance(block, Mapping) else "text"
            if kind == "tool_use" and isinstance(block, Mapping):
                called[str(block.get("id"))] = str(block.get("name") or "")
            elif kind == "tool_result" and isinstance(block, Mapping):
                name = called.get(str(block.get("tool_use_id"))) or None
                out.append(Message("tool", _block_text(block), name))
                answered_tools = True
            elif kind in ("text", None):
                texts.append(_block_text(block))
        text = " ".join(t for t in texts if t)
        if text or not answered_tools:
            out.append(Message(str(m["role"]), text))
    return tuple(out)


def _tools(raw: Any) -> tuple[Tool, ...]:
    out = []
    for tool in raw if isinstance(raw, list) else []:
        if isinstance(tool, Mapping) and isinstance(tool.get("name"), str):
            schema = tool.get("input_schema")
            out.append(Tool(tool["name"], str(tool.get("description") or ""), schema))
    return tuple(out)


def _tool_choice(choice: Any) -> ToolChoice:
    kind = choice.get("type") if isinstance(choice, Mapping) else None
    if kind == "none":
        return ToolChoice("none")
    if kind == "any":
        return ToolChoice("required")
    if kind == "tool" and isinstance(choice, Mapping):
        name = choice.get("name")
        return ToolChoice("named", name if isinstance(name, str) else None)
    return ToolChoice("auto")


def _parallel_off(choice: Any) -> bool:
    return isinstance(choice, Mapping) and choice.get("disable_parallel_tool_use") is True


def prompt_tokens(body: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]) -> int:
    """Tokens of a Messages prompt: system, every block's text, images, tool calls and tools."""
    total = count_tokens(_text(body.get("system")))
    for m in messages:
        content = m.get("content")
        total += 3 + count_tokens(_text(content))
        for block in content if isinstance(content, list) else []:
            if isinstance(block, Mapping) and block.get("type") in ("image", "document"):
                total += _IMAGE_TOKENS
            elif isinstance(block, Mapping) and block.get("type") == "tool_use":
                total += count_tokens(json.dumps(block.get("input"), ensure_ascii=False))
    if body.get("tools"):
        total += count_tokens(json.dumps(body["tools"], ensure_ascii=False))
    return total


# --- answers ---------------------------------------------------------------------------------


def _message_head(request: ChatRequest) -> dict[str, Any]:
    return {
        "id": "msg_" + digest("anthropic", request.model, request.raw)[:24],
        "type": "message",
        "role": "assistant",
        "model": request.model,
    }


def _tool_use_id(request: ChatRequest, index: int) -> str:
    return "toolu_" + digest("anthropic", request.raw, index)[:24]


def _blocks(request: ChatRequest, text: str | None, calls: Sequence[Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if text is not None or not calls:
        blocks.append({"type": "text", "text": text or ""})
    for t, call in enumerate(calls):
        blocks.append(
            {
                "type": "tool_use",
                "id": _tool_use_id(request, t),
                "name": call.name,
                "input": call.arguments,
            }
        )
    return blocks


def _usage(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _block_start(index: int, block: dict[str, Any]) -> bytes:
    return sse.event(
        {"type": "content_block_start", "index": index, "content_block": block},
        name="content_block_start",
    )


def _block_delta(index: int, delta: dict[str, Any]) -> bytes:
    return sse.event(
        {"type": "content_block_delta", "index": index, "delta": delta},
        name="content_block_delta",
    )


def _block_stop(index: int) -> bytes:
    return sse.event({"type": "content_block_stop", "index": index}, name="content_block_stop")
