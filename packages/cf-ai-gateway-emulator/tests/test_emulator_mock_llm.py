from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

import pytest
from cf_ai_gateway_emulator import mock_llm
from cf_ai_gateway_emulator.mock.faults import FaultError, Faults, faults_from_model, parse_faults

MAGIC = {
    "type": "function",
    "function": {
        "name": "magic_function",
        "description": "Apply a magic function to an input.",
        "parameters": {
            "type": "object",
            "properties": {"input": {"type": "integer"}},
            "required": ["input"],
        },
    },
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather for a location.",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
}


def chat(body: dict[str, Any]) -> dict[str, Any]:
    return mock_llm.chat_completion(body, model="m", created=0)


def user(text: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], **extra}


def test_text_answer_is_deterministic_and_has_usage() -> None:
    a, b = chat(user("Hello")), chat(user("Hello"))
    assert a == b
    message = a["choices"][0]["message"]
    assert message["content"].startswith("H")
    assert "you" in message["content"]
    usage = a["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0


def test_stop_and_max_tokens() -> None:
    stopped = chat(user("Hello", stop=["you"]))["choices"][0]
    assert "you" not in stopped["message"]["content"]
    assert stopped["finish_reason"] == "stop"
    cut = chat(user("Hello", max_tokens=3))
    assert len(cut["choices"][0]["message"]["content"].split()) == 3
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] == 3
    assert chat(user("Hi", max_completion_tokens=2))["choices"][0]["finish_reason"] == "length"


def test_n_choices() -> None:
    choices = chat(user("Hello", n=3))["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2]


def test_tool_call_from_prompt_and_result() -> None:
    body = user("What is the value of magic_function(3)? Use the tool.", tools=[MAGIC, WEATHER])
    choice = chat(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "magic_function"
    assert json.loads(call["function"]["arguments"]) == {"input": 3}
    history = body["messages"] + [
        choice["message"],
        {"role": "tool", "tool_call_id": call["id"], "content": "5"},
    ]
    answer = chat({"messages": history, "tools": [MAGIC]})["choices"][0]
    assert answer["finish_reason"] == "stop"
    assert "magic_function" in answer["message"]["content"]
    assert "5" in answer["message"]["content"]


def test_tool_choice_modes() -> None:
    named = {"type": "function", "function": {"name": "get_weather"}}
    forced = chat(user("hi", tools=[MAGIC, WEATHER], tool_choice=named))["choices"][0]
    assert forced["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert (
        chat(user("hi", tools=[MAGIC], tool_choice="required"))["choices"][0]["finish_reason"]
        == "tool_calls"
    )
    assert (
        chat(user("magic_function(2)", tools=[MAGIC], tool_choice="none"))["choices"][0][
            "finish_reason"
        ]
        == "stop"
    )
    assert chat(user("Tell me a story", tools=[MAGIC]))["choices"][0]["finish_reason"] == "stop"
    place = chat(user("What's the weather in Paris?", tools=[WEATHER]))["choices"][0]
    assert json.loads(place["message"]["tool_calls"][0]["function"]["arguments"]) == {
        "location": "Paris"
    }
    unicode = chat(user("Call get_weather with '你好啊集团'", tools=[WEATHER]))["choices"][0]
    assert "你好啊集团" in unicode["message"]["tool_calls"][0]["function"]["arguments"]


def test_json_schema_and_json_object() -> None:
    schema = {
        "type": "object",
        "properties": {
            "setup": {"type": "string"},
            "punchline": {"type": "string"},
            "rating": {"anyOf": [{"type": "integer", "maximum": 10}, {"type": "null"}]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "kind": {"$ref": "#/$defs/Kind"},
        },
        "$defs": {"Kind": {"enum": ["pun", "knock"]}},
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "Joke", "schema": schema}}
    data = json.loads(
        chat(user("Tell me a joke about cats, rate it 7", response_format=fmt))["choices"][0][
            "message"
        ]["content"]
    )
    assert set(data) == {"setup", "punchline", "rating", "tags", "kind"}
    assert data["rating"] == 7
    assert data["kind"] == "pun"
    assert data["tags"] == []
    obj = chat(
        user(
            "Answer in JSON with keys 'setup' and 'punchline'",
            response_format={"type": "json_object"},
        )
    )
    assert set(json.loads(obj["choices"][0]["message"]["content"])) == {"setup", "punchline"}


def test_images_and_list_content_are_accepted() -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {"type": "mystery"},
                ],
            }
        ]
    }
    result = chat(body)
    assert "Describe" in result["choices"][0]["message"]["content"]
    assert result["usage"]["prompt_tokens"] > 85


def test_stream_chunks_with_usage() -> None:
    chunks = mock_llm.chat_chunks(
        user("Hello", stream=True, stream_options={"include_usage": True}), model="m", created=0
    )
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == chat(user("Hello"))["choices"][0]["message"]["content"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] > 0
    no_usage = mock_llm.chat_chunks(user("Hello", stream=True), model="m", created=0)
    assert all("usage" not in c for c in no_usage)


def test_streamed_tool_call_pieces_rebuild_the_arguments() -> None:
    chunks = mock_llm.chat_chunks(
        user("magic_function(4)", tools=[MAGIC], stream=True), model="m", created=0
    )
    args = "".join(
        c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
        for c in chunks
        if c["choices"][0]["delta"].get("tool_calls")
    )
    assert json.loads(args) == {"input": 4}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_magic_model_names() -> None:
    with pytest.raises(mock_llm.MockError) as info:
        mock_llm.chat_completion(user("x"), model="does-not-exist", created=0)
    assert info.value.status == 404
    assert info.value.body["error"]["code"] == "model_not_found"
    with pytest.raises(mock_llm.MockError) as info:
        mock_llm.chat_completion(user("x"), model="gpt-fail", created=0)
    assert info.value.status == 500


def test_embeddings_are_unit_vectors() -> None:
    out = mock_llm.embeddings(
        {"input": ["a", "b", "a"], "dimensions": 16}, model="e", default_dimensions=64
    )
    vectors = [d["embedding"] for d in out["data"]]
    assert [d["index"] for d in out["data"]] == [0, 1, 2]
    assert all(len(v) == 16 for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert math.isclose(sum(x * x for x in vectors[0]), 1.0, rel_tol=1e-6)
    encoded = mock_llm.embeddings(
        {"input": "a", "encoding_format": "base64"}, model="e", default_dimensions=8
    )["data"][0]["embedding"]
    decoded = struct.unpack("<8f", base64.b64decode(encoded))
    plain = mock_llm.embeddings({"input": "a"}, model="e", default_dimensions=8)
    assert decoded == pytest.approx(plain["data"][0]["embedding"], rel=1e-6)


def test_fault_parsing() -> None:
    assert parse_faults("fail=503, slow=200") == Faults(status=503, delay_ms=200)
    assert parse_faults("cut-2+malformed") == Faults(cut_after=2, malformed=True)
    assert parse_faults("flaky=2:500") == Faults(flaky_attempts=2, flaky_status=500)
    assert parse_faults("html") == Faults(html_status=502)
    assert faults_from_model("slow-1500") == Faults(delay_ms=1500)
    assert faults_from_model("gpt-4o-mini") == Faults()
    with pytest.raises(FaultError, match="explode"):
        parse_faults("explode")
    with pytest.raises(FaultError):
        parse_faults("fail=999")
