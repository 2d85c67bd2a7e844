"""Message conversion both ways and tool-call parsing: the contract LlamaIndex's own OpenAI LLM
tests pin (``test_openai_utils.py``), for our converter."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest
from cf_ai_gateway import ToolCall
from cf_ai_gateway_llamaindex._convert import (
    HAS_THINKING_BLOCK,
    HAS_TOOL_CALL_BLOCK,
    message_from_openai,
    message_to_openai,
    tool_selections,
    trim_to_one_tool_call,
)
from llama_index.core.base.llms import types as li_types
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, MessageRole, TextBlock

CALL = {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}


def test_basic_messages_as_enum_and_string_roles() -> None:
    for role in (MessageRole.USER, "user"):
        assert message_to_openai(ChatMessage(role=role, content="hi")) == {
            "role": "user",
            "content": "hi",
        }
    assert message_to_openai(ChatMessage(role="system", content="be brief")) == {
        "role": "system",
        "content": "be brief",
    }


def test_empty_assistant_content_without_tool_calls_stays_empty_string() -> None:
    out = message_to_openai(ChatMessage(role="assistant", content=""))
    assert out == {"role": "assistant", "content": ""}


def test_assistant_tool_calls_replayed_with_null_content() -> None:
    message = ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [CALL]})
    assert message_to_openai(message) == {
        "role": "assistant",
        "content": None,
        "tool_calls": [CALL],
    }


def test_tool_calls_in_sdk_object_shape_are_accepted() -> None:
    sdk = SimpleNamespace(
        id="call_1", type="function", function=SimpleNamespace(name="add", arguments='{"a": 1}')
    )
    message = ChatMessage(role="assistant", content=None, additional_kwargs={"tool_calls": [sdk]})
    assert message_to_openai(message)["tool_calls"] == [CALL]


def test_tool_message_carries_its_call_id_and_no_name() -> None:
    message = ChatMessage(
        role="tool", content="3", additional_kwargs={"tool_call_id": "call_1", "name": "add"}
    )
    assert message_to_openai(message) == {"role": "tool", "content": "3", "tool_call_id": "call_1"}


def test_our_answers_round_trip_without_duplicated_tool_calls() -> None:
    answer = message_from_openai("", [ToolCall("call_1", "add", '{"a": 1}')])
    assert answer.additional_kwargs["tool_calls"] == [CALL]
    assert message_to_openai(answer) == {"role": "assistant", "content": None, "tool_calls": [CALL]}


def test_user_text_and_image_become_parts_with_detail() -> None:
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="what is this?"),
            ImageBlock(url="https://example.com/cat.png", detail="high"),
        ],
    )
    assert message_to_openai(message)["content"] == [
        {"type": "text", "text": "what is this?"},
        {
            "type": "image_url",
            "image_url": {"url": "https://example.com/cat.png", "detail": "high"},
        },
    ]


def test_inline_image_becomes_a_data_url() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
    message = ChatMessage(role="user", blocks=[ImageBlock(image=png, image_mimetype="image/png")])
    part = message_to_openai(message)["content"][0]
    prefix = "data:image/png;base64,"
    assert part["image_url"]["url"].startswith(prefix)
    assert base64.b64decode(part["image_url"]["url"][len(prefix) :]) == png


def test_assistant_text_with_image_sends_the_text_only() -> None:
    message = ChatMessage(
        role="assistant",
        blocks=[TextBlock(text="test question"), ImageBlock(url="https://example.com/a.png")],
    )
    assert message_to_openai(message) == {"role": "assistant", "content": "test question"}


def test_text_blocks_join_like_chat_message_content() -> None:
    message = ChatMessage(role="user", blocks=[TextBlock(text="a"), TextBlock(text="b")])
    assert message_to_openai(message)["content"] == message.content == "a\nb"


def test_answer_without_tool_calls_has_one_text_block() -> None:
    message = message_from_openai("hello", [])
    assert message.role == MessageRole.ASSISTANT
    assert message.content == "hello"
    assert message.additional_kwargs == {}
    assert message_from_openai("", []).content == ""


@pytest.mark.skipif(not HAS_TOOL_CALL_BLOCK, reason="ToolCallBlock exists from core 0.14.5")
def test_answer_with_tool_calls_has_tool_call_blocks_too() -> None:
    message = message_from_openai("", [ToolCall("call_1", "add", '{"a": 1}')])
    blocks = [b for b in message.blocks if isinstance(b, li_types.ToolCallBlock)]  # type: ignore[attr-defined,unused-ignore]
    assert [(b.tool_call_id, b.tool_name) for b in blocks] == [("call_1", "add")]
    assert not [b for b in message.blocks if isinstance(b, TextBlock)]


@pytest.mark.skipif(not HAS_TOOL_CALL_BLOCK, reason="ToolCallBlock exists from core 0.14.5")
@pytest.mark.parametrize(
    ("kwargs", "sent"), [({"a": 1}, '{"a": 1}'), ('{"a": 1}', '{"a": 1}'), ("raw", "raw")]
)
def test_tool_call_block_arguments_are_sent_as_a_json_string(kwargs: Any, sent: str) -> None:
    block = li_types.ToolCallBlock(tool_call_id="c", tool_name="add", tool_kwargs=kwargs)  # type: ignore[attr-defined,unused-ignore]
    out = message_to_openai(ChatMessage(role="assistant", blocks=[block]))
    assert out["tool_calls"][0]["function"]["arguments"] == sent


@pytest.mark.skipif(not HAS_THINKING_BLOCK, reason="ThinkingBlock exists from core 0.14.5")
def test_reasoning_becomes_a_thinking_block_that_is_never_sent_back() -> None:
    message = message_from_openai("42", [], reasoning="let me think")
    assert [type(b).__name__ for b in message.blocks] == ["ThinkingBlock", "TextBlock"]
    assert message_to_openai(message) == {"role": "assistant", "content": "42"}


@pytest.mark.parametrize(
    ("arguments", "parsed"),
    [
        ("INVALID JSON", {}),
        ("null", {}),
        ("[1, 2]", {}),
        ("", {}),
        ('{"x": 1', {"x": 1}),
        ('{"city": "Lisbon"}', {"city": "Lisbon"}),
    ],
)
def test_tool_selections_parse_arguments_leniently(arguments: str, parsed: Any) -> None:
    message = message_from_openai("", [ToolCall("c1", "lookup", arguments)])
    [selection] = tool_selections(message)
    assert (selection.tool_id, selection.tool_name, selection.tool_kwargs) == (
        "c1",
        "lookup",
        parsed,
    )


def test_trim_to_one_tool_call_trims_blocks_and_kwargs() -> None:
    calls = [ToolCall("c1", "a", "{}"), ToolCall("c2", "b", "{}")]
    message = message_from_openai("", calls)
    trim_to_one_tool_call(message)
    assert [c["id"] for c in message.additional_kwargs["tool_calls"]] == ["c1"]
    assert [s.tool_id for s in tool_selections(message)] == ["c1"]


def test_unsupported_blocks_are_refused_by_name() -> None:
    video = getattr(li_types, "VideoBlock", None)
    if video is None:
        pytest.skip("no VideoBlock on this line")
    message = ChatMessage(role="user", blocks=[video(url="https://example.com/v.mp4")])
    with pytest.raises(ValueError, match="VideoBlock"):
        message_to_openai(message)


def test_name_is_forwarded_for_user_messages() -> None:
    message = ChatMessage(role="user", content="hi", additional_kwargs={"name": "ada"})
    assert json.loads(json.dumps(message_to_openai(message))) == {
        "role": "user",
        "content": "hi",
        "name": "ada",
    }
