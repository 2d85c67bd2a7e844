"""LangChain messages <-> OpenAI Chat Completions dicts (the schema of every gateway surface we
use: ``/compat``, the OpenAI-compatible provider paths, the REST API and universal steps).

Shared by the sync and async paths and by streaming and non-streaming calls. Pure functions,
no I/O. Input content in every LangChain shape is accepted: plain strings, OpenAI parts
(``text``, ``image_url``, ``input_audio``, ``file``), LangChain v0 data blocks
(``{"type": "image", "source_type": "base64", ...}``), v1 standard blocks
(``{"type": "image", "base64": ..., "mime_type": ...}``) and Anthropic-style blocks
(``{"type": "image", "source": {...}}``, ``tool_use``, ``thinking``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from cf_ai_gateway import ChatDelta, Usage
from cf_ai_gateway.chat import reasoning_of, text_of
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.output_parsers.openai_tools import make_invalid_tool_call, parse_tool_call

__all__ = [
    "ai_chunk_from_delta",
    "ai_message_from_dict",
    "message_to_dict",
    "messages_to_dicts",
    "usage_metadata",
]

# Blocks that describe model output or provider-private state; they are never sent back as
# message content (tool calls travel in ``tool_calls``; reasoning is not replayable).
_DROPPED_BLOCK_TYPES = frozenset(
    {
        "tool_use",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "thinking",
        "redacted_thinking",
        "reasoning",
        "reasoning_content",
        "function_call",
    }
)


# --- LangChain -> OpenAI ------------------------------------------------------------------


def _data_url(mime_type: str | None, data: str) -> str:
    return f"data:{mime_type or 'application/octet-stream'};base64,{data}"


def _image_part(block: Mapping[str, Any]) -> dict[str, Any] | None:
    """An OpenAI ``image_url`` part from any LangChain/Anthropic image block shape."""
    url: str | None = None
    source = block.get("source")
    if isinstance(source, Mapping):  # Anthropic
        if source.get("type") == "base64" and source.get("data"):
            url = _data_url(source.get("media_type"), str(source["data"]))
        elif source.get("type") == "url" and source.get("url"):
            url = str(source["url"])
    elif block.get("source_type") == "base64" or "base64" in block:  # v0 / v1 base64
        data = block.get("data") if "source_type" in block else block.get("base64")
        if data:
            url = _data_url(block.get("mime_type"), str(data))
    elif block.get("url"):  # v0 / v1 URL
        url = str(block["url"])
    if url is None:
        return None
    image_url: dict[str, Any] = {"url": url}
    detail = block.get("detail") or (block.get("extras") or {}).get("detail")
    if detail is None and isinstance(block.get("metadata"), Mapping):
        detail = block["metadata"].get("detail")
    if detail:
        image_url["detail"] = detail
    return {"type": "image_url", "image_url": image_url}


def _file_part(block: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(block.get("file"), Mapping):  # already an OpenAI file part
        return {"type": "file", "file": dict(block["file"])}
    if block.get("source_type") == "base64" or "base64" in block:
        data = block.get("data") if "source_type" in block else block.get("base64")
        file: dict[str, Any] = {"file_data": _data_url(block.get("mime_type"), str(data))}
        extras = block.get("extras") or block.get("metadata") or {}
        filename = block.get("filename") or extras.get("filename")
        if filename:
            file["filename"] = filename
        return {"type": "file", "file": file}
    if block.get("source_type") == "id" or "file_id" in block:
        return {
            "type": "file",
            "file": {"file_id": block.get("id") if "source_type" in block else block["file_id"]},
        }
    raise ValueError(
        "file content blocks need base64 data or a file_id: Chat Completions has no file URLs"
    )


def _audio_part(block: Mapping[str, Any]) -> dict[str, Any]:
    data = block.get("data") if "source_type" in block else block.get("base64")
    if not data:
        raise ValueError("audio content blocks need base64 data")
    mime = str(block.get("mime_type") or "audio/wav")
    return {"type": "input_audio", "input_audio": {"data": data, "format": mime.split("/")[-1]}}


def _format_block(block: Any) -> dict[str, Any] | None:
    """One content part in OpenAI form, or ``None`` to drop it."""
    if isinstance(block, str):
        return {"type": "text", "text": block}
    if not isinstance(block, Mapping):
        raise TypeError(f"content blocks must be strings or dicts, not {type(block).__name__}")
    kind = block.get("type")
    if kind == "non_standard" and isinstance(block.get("value"), Mapping):
        return _format_block(block["value"])
    if kind in _DROPPED_BLOCK_TYPES:
        return None
    if kind == "text":
        if "source_type" in block:  # v0 plain-text data block
            return {"type": "text", "text": str(block.get("text", ""))}
        return {"type": "text", "text": str(block.get("text", ""))}
    if kind == "text-plain":
        return {"type": "text", "text": str(block.get("text", ""))}
    if kind == "image_url":
        image_url = block.get("image_url")
        if isinstance(image_url, str):
            image_url = {"url": image_url}
        return {"type": "image_url", "image_url": dict(image_url or {})}
    if kind == "image":
        part = _image_part(block)
        if part is None:
            raise ValueError("image content blocks need base64 data or a url")
        return part
    if kind == "file":
        return _file_part(block)
    if kind == "audio":
        return _audio_part(block)
    return dict(block)  # input_audio, refusal, ... pass through unchanged


def _format_content(content: str | list[Any]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    parts = [p for p in (_format_block(b) for b in content) if p is not None]
    return parts


def _tool_call_to_openai(tool_call: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": tool_call.get("id"),
        "type": "function",
        "function": {
            "name": tool_call["name"],
            # ensure_ascii=False keeps non-ASCII arguments readable and byte-identical to
            # what the model sent (and what cassettes recorded)
            "arguments": json.dumps(tool_call.get("args") or {}, ensure_ascii=False),
        },
    }


def _invalid_tool_call_to_openai(tool_call: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": tool_call.get("id"),
        "type": "function",
        "function": {"name": tool_call.get("name"), "arguments": tool_call.get("args") or ""},
    }


def message_to_dict(message: BaseMessage) -> dict[str, Any]:
    """One LangChain message as an OpenAI Chat Completions message dict."""
    out: dict[str, Any] = {}
    if isinstance(message, AIMessage):
        out["role"] = "assistant"
        content = _format_content(message.content)
        # All-text list content is sent as one string: every provider behind the gateway
        # accepts that for assistant turns, not all accept assistant content parts.
        if isinstance(content, list) and all(p.get("type") == "text" for p in content):
            content = "".join(p["text"] for p in content)
        tool_calls = [_tool_call_to_openai(tc) for tc in message.tool_calls]
        tool_calls += [_invalid_tool_call_to_openai(tc) for tc in message.invalid_tool_calls]
        if not tool_calls and isinstance(message.additional_kwargs.get("tool_calls"), list):
            tool_calls = [
                {k: v for k, v in tc.items() if k in ("id", "type", "function")}
                for tc in message.additional_kwargs["tool_calls"]
            ]
        if tool_calls:
            out["content"] = content or None
            out["tool_calls"] = tool_calls
        else:
            out["content"] = content
            if "function_call" in message.additional_kwargs:
                out["function_call"] = message.additional_kwargs["function_call"]
                out["content"] = content or None
    elif isinstance(message, HumanMessage):
        out["role"] = "user"
        out["content"] = _format_content(message.content)
    elif isinstance(message, SystemMessage):
        out["role"] = message.additional_kwargs.get("__openai_role__", "system")
        out["content"] = _format_content(message.content)
    elif isinstance(message, ToolMessage):
        out["role"] = "tool"
        out["tool_call_id"] = message.tool_call_id
        content = _format_content(message.content)
        if isinstance(content, list) and all(p.get("type") == "text" for p in content):
            content = "".join(p["text"] for p in content)
        out["content"] = content
        return out  # OpenAI rejects `name` on tool messages
    elif isinstance(message, FunctionMessage):
        out["role"] = "function"
        out["content"] = _format_content(message.content)
    elif isinstance(message, ChatMessage):
        out["role"] = message.role
        out["content"] = _format_content(message.content)
    else:
        raise TypeError(f"cannot send a {type(message).__name__} to a chat model")
    name = message.name or message.additional_kwargs.get("name")
    if name is not None:
        out["name"] = name
    return out


def messages_to_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    return [message_to_dict(m) for m in messages]


# --- OpenAI -> LangChain ------------------------------------------------------------------


def _extra_kwargs(message: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for key in ("refusal", "reasoning_content", "function_call", "audio"):
        if message.get(key):
            extra[key] = message[key]
    # Some OpenAI-compatible upstreams (Workers AI, OpenRouter) call it "reasoning".
    reasoning = reasoning_of(message)
    if reasoning:
        extra["reasoning_content"] = reasoning
    return extra


def ai_message_from_dict(message: Mapping[str, Any]) -> AIMessage:
    """The assistant message of a Chat Completions choice as an ``AIMessage``."""
    tool_calls = []
    invalid_tool_calls = []
    for raw in message.get("tool_calls") or []:
        try:
            tool_calls.append(parse_tool_call(dict(raw), return_id=True))
        except Exception as exc:  # a malformed call is kept, as LangChain does
            invalid_tool_calls.append(make_invalid_tool_call(dict(raw), str(exc)))
    return AIMessage(
        content=text_of(message.get("content")),
        additional_kwargs=_extra_kwargs(message),
        tool_calls=[tc for tc in tool_calls if tc is not None],
        invalid_tool_calls=invalid_tool_calls,
    )


def ai_chunk_from_delta(delta: ChatDelta) -> AIMessageChunk:
    """A streamed :class:`~cf_ai_gateway.ChatDelta` as an ``AIMessageChunk`` (tool-call pieces
    become tool-call chunks, merged by index when LangChain adds chunks)."""
    return AIMessageChunk(
        content=delta.content,
        additional_kwargs=_extra_kwargs(delta.message_delta),
        tool_call_chunks=[
            tool_call_chunk(name=tc.name, args=tc.arguments, id=tc.id, index=tc.index)
            for tc in delta.tool_calls
        ],
    )


def usage_metadata(usage: Usage | None) -> UsageMetadata | None:
    """The core's normalised :class:`~cf_ai_gateway.Usage` as LangChain ``UsageMetadata``
    (cache reads, reasoning and audio tokens where the upstream reported them)."""
    if usage is None:
        return None
    result: dict[str, Any] = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }
    input_details = {
        k: v
        for k, v in (("cache_read", usage.cached_input_tokens), ("audio", usage.input_audio_tokens))
        if v is not None
    }
    if input_details:
        result["input_token_details"] = cast(InputTokenDetails, input_details)
    output_details = {
        k: v
        for k, v in (("reasoning", usage.reasoning_tokens), ("audio", usage.output_audio_tokens))
        if v is not None
    }
    if output_details:
        result["output_token_details"] = cast(OutputTokenDetails, output_details)
    return cast(UsageMetadata, result)
