"""Message conversion: LangChain messages (v0, v1, OpenAI and Anthropic content shapes) to
Chat Completions dicts, and responses back."""

from __future__ import annotations

import pytest
from cf_ai_gateway import ChatCall, GatewayResponseInfo, Usage
from cf_ai_gateway.chat import StreamAccumulator
from cf_ai_gateway_langchain._convert import (
    ai_chunk_from_delta,
    ai_message_from_dict,
    message_to_dict,
    usage_metadata,
)
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

PNG = "iVBORw0KGgo="
DATA_URL = f"data:image/png;base64,{PNG}"


def test_plain_roles() -> None:
    assert message_to_dict(SystemMessage("be brief")) == {"role": "system", "content": "be brief"}
    assert message_to_dict(HumanMessage("hi", name="ann")) == {
        "role": "user",
        "content": "hi",
        "name": "ann",
    }
    assert message_to_dict(AIMessage("yo")) == {"role": "assistant", "content": "yo"}
    assert message_to_dict(ChatMessage(role="developer", content="x")) == {
        "role": "developer",
        "content": "x",
    }


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image_url", "image_url": {"url": DATA_URL}},
        {"type": "image_url", "image_url": DATA_URL},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},  # v1
        {"type": "image", "source_type": "base64", "data": PNG, "mime_type": "image/png"},  # v0
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
    ],
)
def test_image_blocks_become_image_url_parts(block: dict) -> None:
    msg = HumanMessage(content=[{"type": "text", "text": "what is it?"}, block])
    assert message_to_dict(msg)["content"] == [
        {"type": "text", "text": "what is it?"},
        {"type": "image_url", "image_url": {"url": DATA_URL}},
    ]


def test_image_url_blocks_keep_url_and_detail() -> None:
    msg = HumanMessage(
        content=[
            {"type": "image", "url": "https://x.test/a.png", "extras": {"detail": "low"}},
            {"type": "image", "source_type": "url", "url": "https://x.test/b.png"},
        ]
    )
    assert message_to_dict(msg)["content"] == [
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://x.test/b.png"}},
    ]


def test_file_and_audio_blocks() -> None:
    msg = HumanMessage(
        content=[
            {"type": "file", "base64": "JVBE", "mime_type": "application/pdf", "filename": "a.pdf"},
            {"type": "audio", "base64": "UklG", "mime_type": "audio/wav"},
            {"type": "input_audio", "input_audio": {"data": "UklG", "format": "mp3"}},
        ]
    )
    assert message_to_dict(msg)["content"] == [
        {
            "type": "file",
            "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "a.pdf"},
        },
        {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
        {"type": "input_audio", "input_audio": {"data": "UklG", "format": "mp3"}},
    ]


def test_text_block_extras_are_stripped() -> None:
    msg = HumanMessage(content=[{"type": "text", "text": "hi", "cache_control": {"t": 1}}])
    assert message_to_dict(msg)["content"] == [{"type": "text", "text": "hi"}]


def test_ai_message_with_tool_calls_and_anthropic_blocks() -> None:
    msg = AIMessage(
        content=[
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "text", "text": "let me check"},
            {"type": "tool_use", "id": "t1", "name": "add", "input": {"a": 1}},
        ],
        tool_calls=[
            {"name": "add", "args": {"a": 1, "name": "你好"}, "id": "t1", "type": "tool_call"}
        ],
    )
    assert message_to_dict(msg) == {
        "role": "assistant",
        "content": "let me check",
        "tool_calls": [
            {
                "id": "t1",
                "type": "function",
                "function": {"name": "add", "arguments": '{"a": 1, "name": "你好"}'},
            }
        ],
    }


def test_ai_message_v1_blocks_and_empty_content() -> None:
    msg = AIMessage(
        content=[{"type": "tool_call", "id": "t1", "name": "f", "args": {}}],
        tool_calls=[{"name": "f", "args": {}, "id": "t1", "type": "tool_call"}],
    )
    assert message_to_dict(msg)["content"] is None


def test_tool_message() -> None:
    msg = ToolMessage("3", tool_call_id="t1", name="add", status="error")
    assert message_to_dict(msg) == {"role": "tool", "tool_call_id": "t1", "content": "3"}
    image = ToolMessage(
        content=[{"type": "image", "base64": PNG, "mime_type": "image/png"}], tool_call_id="t2"
    )
    assert message_to_dict(image)["content"] == [
        {"type": "image_url", "image_url": {"url": DATA_URL}}
    ]


def test_response_message_with_tool_calls() -> None:
    msg = ai_message_from_dict(
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "thought",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"x": 1}'},
                },
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{bad"}},
            ],
        }
    )
    assert msg.content == ""
    assert msg.tool_calls == [{"name": "f", "args": {"x": 1}, "id": "c1", "type": "tool_call"}]
    assert msg.invalid_tool_calls[0]["id"] == "c2"
    assert msg.additional_kwargs == {"reasoning_content": "thought"}


def test_streamed_tool_call_chunks_assemble() -> None:
    deltas = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "index": 0,
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "magic", "arguments": ""},
                }
            ],
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"inp'}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": 'ut": 3}'}}]},
    ]
    acc = StreamAccumulator(
        ChatCall("openai/m", {"messages": [{"role": "user", "content": "x"}]}),
        GatewayResponseInfo(),
    )
    folded = [acc.add({"choices": [{"index": 0, "delta": d}]}) for d in deltas]
    chunks = [ai_chunk_from_delta(d) for d in folded if d is not None]
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert full.tool_calls == [
        {"name": "magic", "args": {"input": 3}, "id": "c1", "type": "tool_call"}
    ]


def test_usage_metadata_details() -> None:
    usage = usage_metadata(
        Usage.from_openai(
            {
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 15,
                "prompt_tokens_details": {"cached_tokens": 6},
                "completion_tokens_details": {"reasoning_tokens": 2},
            }
        )
    )
    assert usage == {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 6},
        "output_token_details": {"reasoning": 2},
    }
    assert usage_metadata(None) is None
    assert usage_metadata(Usage.from_openai({"prompt_tokens": 1}))["total_tokens"] == 1  # type: ignore[index]
