"""LlamaIndex chat messages <-> OpenAI Chat Completions dicts, tool specs and tool selections.

Pure functions, no I/O; shared by the sync, async, streaming and non-streaming paths. What is
not LlamaIndex-shaped (usage, stream folding, tool-call normalisation, ``tool_choice``) comes
from the core's kit (``cf_ai_gateway.chat``).

Content blocks differ by llama-index-core line: ``ToolCallBlock`` and ``ThinkingBlock`` exist
from 0.14.5 on. They are detected by import, never by version: where they exist, answers carry
them (as LlamaIndex's own OpenAI LLM does); everywhere, tool calls are also kept in
``message.additional_kwargs["tool_calls"]``, the place every line's structured-output streaming
and agents read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cf_ai_gateway import ToolCall
from cf_ai_gateway.chat import function_tool
from llama_index.core.base.llms import types as li_types
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json

__all__ = [
    "HAS_THINKING_BLOCK",
    "HAS_TOOL_CALL_BLOCK",
    "message_from_openai",
    "message_to_openai",
    "messages_to_openai",
    "tool_calls_of",
    "tool_selections",
    "tool_spec",
    "trim_to_one_tool_call",
]

# Feature detection: llama-index-core 0.14.5+ has these block types, older lines do not.
_TOOL_CALL_BLOCK: Any = getattr(li_types, "ToolCallBlock", None)
_THINKING_BLOCK: Any = getattr(li_types, "ThinkingBlock", None)
_CACHE_POINT: Any = getattr(li_types, "CachePoint", None)
HAS_TOOL_CALL_BLOCK = _TOOL_CALL_BLOCK is not None
HAS_THINKING_BLOCK = _THINKING_BLOCK is not None

# LlamaIndex roles that OpenAI's schema names differently
_ROLE_ON_THE_WIRE = {MessageRole.CHATBOT: "assistant", MessageRole.MODEL: "assistant"}


# --- LlamaIndex -> OpenAI ------------------------------------------------------------------


def _b64(stream: Any) -> str:
    data = stream.read()
    return data.decode("ascii") if isinstance(data, bytes) else str(data)


def _image_part(block: ImageBlock) -> dict[str, Any]:
    if block.url is not None and block.image is None and block.path is None:
        url = str(block.url)
    else:
        mime = block.image_mimetype or "image/png"
        url = f"data:{mime};base64,{_b64(block.resolve_image(as_base64=True))}"
    image_url: dict[str, Any] = {"url": url}
    if block.detail:
        image_url["detail"] = block.detail
    return {"type": "image_url", "image_url": image_url}


def _audio_part(block: AudioBlock) -> dict[str, Any]:
    fmt = (block.format or "wav").lower()
    return {
        "type": "input_audio",
        "input_audio": {"data": _b64(block.resolve_audio(as_base64=True)), "format": fmt},
    }


def _document_part(block: DocumentBlock) -> dict[str, Any]:
    raw = block.resolve_document().read()
    encoded = base64.b64encode(raw).decode("ascii")
    mime = block.document_mimetype or "application/pdf"
    file: dict[str, Any] = {"file_data": f"data:{mime};base64,{encoded}"}
    if block.title:
        file["filename"] = block.title
    return {"type": "file", "file": file}


def _tool_call_of_block(block: Any) -> ToolCall:
    kwargs = block.tool_kwargs
    arguments = kwargs if isinstance(kwargs, str) else json.dumps(kwargs, ensure_ascii=False)
    return ToolCall(block.tool_call_id, block.tool_name, arguments)


def tool_calls_of(message: ChatMessage) -> list[ToolCall]:
    """The tool calls an assistant message holds: its ``ToolCallBlock``s where the line has
    them, else ``additional_kwargs["tool_calls"]`` in any shape (our dicts, another LLM's SDK
    objects). Never both, so a call is never sent twice."""
    if HAS_TOOL_CALL_BLOCK:
        calls = [_tool_call_of_block(b) for b in message.blocks if isinstance(b, _TOOL_CALL_BLOCK)]
        if calls:
            return calls
    found = (ToolCall.from_openai(raw) for raw in message.additional_kwargs.get("tool_calls") or [])
    return [call for call in found if call is not None]


def message_to_openai(message: ChatMessage) -> dict[str, Any]:
    """One LlamaIndex message as an OpenAI Chat Completions message dict.

    Text-only content is sent as one string (blocks joined as ``ChatMessage.content`` joins
    them); a user message with images, audio or documents as a list of parts. Reasoning and
    cache-point blocks are not sent back.
    """
    role = _ROLE_ON_THE_WIRE.get(message.role, message.role.value)
    texts: list[str] = []
    parts: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            texts.append(block.text)
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(_image_part(block))
        elif isinstance(block, AudioBlock):
            parts.append(_audio_part(block))
        elif isinstance(block, DocumentBlock):
            parts.append(_document_part(block))
        elif (HAS_TOOL_CALL_BLOCK and isinstance(block, _TOOL_CALL_BLOCK)) or (
            (HAS_THINKING_BLOCK and isinstance(block, _THINKING_BLOCK))
            or (_CACHE_POINT is not None and isinstance(block, _CACHE_POINT))
        ):
            continue  # tool calls travel in `tool_calls`; reasoning is not replayed
        else:
            raise ValueError(
                f"{type(block).__name__} content is not supported by the Chat Completions "
                "schema the gateway speaks"
            )
    text = "\n".join(texts)
    out: dict[str, Any] = {"role": role}
    only_text = all(p["type"] == "text" for p in parts)
    out["content"] = text if only_text or role != "user" else parts
    kwargs = message.additional_kwargs
    if role == "assistant":
        calls = tool_calls_of(message)
        if calls:
            out["tool_calls"] = [call.to_openai() for call in calls]
            out["content"] = text or None
    elif role == "tool":
        out["tool_call_id"] = kwargs.get("tool_call_id")
        return out  # OpenAI rejects `name` on tool messages
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        out["name"] = name
    return out


def messages_to_openai(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    return [message_to_openai(m) for m in messages]


# --- OpenAI -> LlamaIndex ------------------------------------------------------------------


def message_from_openai(
    content: str,
    tool_calls: Sequence[ToolCall],
    reasoning: str | None = None,
    *,
    streamed: bool = False,
) -> ChatMessage:
    """The assistant message of an answer (or, ``streamed``, of a stream so far).

    Blocks: a ``ThinkingBlock`` for reasoning and one ``ToolCallBlock`` per call where the line
    has them, and a ``TextBlock`` for the content (streamed messages always have one, so
    ``.content`` is ``""`` rather than ``None`` while a stream carries only tool calls, as with
    LlamaIndex's OpenAI LLM). ``additional_kwargs["tool_calls"]`` holds the calls as plain
    OpenAI dicts on every line.
    """
    blocks: list[Any] = []
    if reasoning and HAS_THINKING_BLOCK:
        blocks.append(_THINKING_BLOCK(content=reasoning))
    if content or streamed or not tool_calls:
        blocks.append(TextBlock(text=content))
    if HAS_TOOL_CALL_BLOCK:
        blocks.extend(
            _TOOL_CALL_BLOCK(tool_call_id=c.id, tool_name=c.name, tool_kwargs=c.arguments or {})
            for c in tool_calls
        )
    kwargs: dict[str, Any] = {}
    if tool_calls:
        kwargs["tool_calls"] = [c.to_openai() for c in tool_calls]
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=kwargs)


# --- tools ---------------------------------------------------------------------------------


def tool_spec(tool: Any) -> dict[str, Any]:
    """An OpenAI function tool from a LlamaIndex tool (its metadata's name, description and
    parameter schema), built by the core so every line sends the same spec."""
    metadata = tool.metadata
    return function_tool(
        metadata.name, metadata.get_parameters_dict(), description=metadata.description or None
    )


def _arguments(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str) or not value.strip():
        return {}
    try:
        parsed = parse_partial_json(value)
    except (ValueError, TypeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def tool_selections(message: ChatMessage) -> list[ToolSelection]:
    """The message's tool calls as ``ToolSelection``s. Arguments are parsed leniently, as
    LlamaIndex's OpenAI LLM does: partial JSON (a stream in progress) gives what is complete so
    far, anything that is not a JSON object gives ``{}``."""
    return [
        ToolSelection(tool_id=c.id or "", tool_name=c.name, tool_kwargs=_arguments(c.arguments))
        for c in tool_calls_of(message)
    ]


def trim_to_one_tool_call(message: ChatMessage) -> None:
    """Keep only the first tool call, in the blocks and in ``additional_kwargs`` alike."""
    calls = message.additional_kwargs.get("tool_calls")
    if isinstance(calls, list) and len(calls) > 1:
        message.additional_kwargs["tool_calls"] = calls[:1]
    if HAS_TOOL_CALL_BLOCK:
        kept = False
        blocks = []
        for block in message.blocks:
            if isinstance(block, _TOOL_CALL_BLOCK):
                if kept:
                    continue
                kept = True
            blocks.append(block)
        message.blocks = blocks
