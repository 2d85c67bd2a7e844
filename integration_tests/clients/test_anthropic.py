"""The official ``anthropic`` SDK, unchanged, at ``{gateway}/anthropic`` and at the REST API:
``messages.create``, ``messages.stream``, a tool-use round trip, stop sequences,
``count_tokens`` and the SDK's own errors."""

from __future__ import annotations

from typing import Any

import pytest
from cf_ai_gateway import wire

anthropic = pytest.importorskip("anthropic")

MODEL = "claude-sonnet-4-5"
MESSAGES = [{"role": "user", "content": "Hello Claude"}]
WEATHER = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "The city and state"}},
        "required": ["location"],
    },
}


@pytest.fixture
def sdk(emulator: Any, gateway_id: str) -> Any:
    base = emulator.provider_base_url("anthropic", gateway_id)
    return anthropic.Anthropic(base_url=base, api_key="sk-ant-test", max_retries=0)


def test_create_and_stream(sdk: Any, emulator: Any, gateway_id: str) -> None:
    message = sdk.messages.create(model=MODEL, max_tokens=1024, messages=MESSAGES)
    assert (message.role, message.stop_reason) == ("assistant", "end_turn")
    text = message.content[0].text
    assert text.startswith("H")
    with sdk.messages.stream(model=MODEL, max_tokens=1024, messages=MESSAGES) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed == text
    assert (final.usage.input_tokens, final.usage.output_tokens) == (
        message.usage.input_tokens,
        message.usage.output_tokens,
    )
    logs = emulator.logs(gateway_id)
    assert [(log["path"], log["tokens_in"], log["tokens_out"]) for log in logs] == [
        ("v1/messages", message.usage.input_tokens, message.usage.output_tokens)
    ] * 2  # the streamed input tokens come from message_start


def test_tool_use_round_trip(sdk: Any) -> None:
    question = [{"role": "user", "content": "What's the weather like in San Francisco?"}]
    first = sdk.messages.create(model=MODEL, max_tokens=1024, tools=[WEATHER], messages=question)
    assert first.stop_reason == "tool_use"
    (use,) = [block for block in first.content if block.type == "tool_use"]
    assert (use.name, use.input) == ("get_weather", {"location": "San Francisco"})
    result = {"type": "tool_result", "tool_use_id": use.id, "content": "15 degrees"}
    follow = [
        *question,
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [result]},
    ]
    second = sdk.messages.create(model=MODEL, max_tokens=1024, tools=[WEATHER], messages=follow)
    assert second.content[0].text == "The result of get_weather is 15 degrees."
    with sdk.messages.stream(
        model=MODEL, max_tokens=1024, tools=[WEATHER], messages=question
    ) as stream:
        streamed = stream.get_final_message()
    assert [(b.type, b.input) for b in streamed.content] == [("tool_use", use.input)]


def test_a_stop_sequence_is_reported(sdk: Any) -> None:
    ask = {"model": MODEL, "max_tokens": 1024, "messages": MESSAGES, "stop_sequences": ["You"]}
    message = sdk.messages.create(**ask)
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "You")
    assert "You" not in message.content[0].text
    with sdk.messages.stream(**ask) as stream:
        final = stream.get_final_message()
    assert (final.stop_reason, final.stop_sequence) == ("stop_sequence", "You")
    plain = sdk.messages.create(model=MODEL, max_tokens=1024, messages=MESSAGES)
    assert (plain.stop_reason, plain.stop_sequence) == ("end_turn", None)


def test_count_tokens(sdk: Any) -> None:
    counted = sdk.messages.count_tokens(model=MODEL, messages=MESSAGES)
    created = sdk.messages.create(model=MODEL, max_tokens=1024, messages=MESSAGES)
    assert counted.input_tokens == created.usage.input_tokens > 0


def test_errors_are_the_sdks_own(sdk: Any) -> None:
    with pytest.raises(anthropic.NotFoundError):
        sdk.messages.create(model="claude-does-not-exist", max_tokens=10, messages=MESSAGES)
    with pytest.raises(anthropic.InternalServerError) as overloaded:
        sdk.messages.create(
            model=MODEL,
            max_tokens=10,
            messages=MESSAGES,
            extra_headers={"x-emulator-fault": "fail=529"},
        )
    assert overloaded.value.body["error"]["type"] == "overloaded_error"


@pytest.mark.parametrize("suffix", ["", "/v1"], ids=["ai", "ai-v1"])
def test_rest_api(emulator: Any, suffix: str) -> None:
    # Cloudflare's REST page: the Anthropic SDK with the account's API token, model
    # "anthropic/...", base URL .../ai (the SDK adds /v1/messages) or, as the page shows, .../ai/v1
    base = f"{emulator.api_base_url}/accounts/{emulator.account_id}/ai{suffix}"
    sdk = anthropic.Anthropic(
        base_url=base,
        auth_token=emulator.token,
        default_headers={wire.H_GATEWAY_ID: "demo"},
        max_retries=0,
    )
    message = sdk.messages.create(
        model="anthropic/claude-sonnet-4-5", max_tokens=64, messages=MESSAGES
    )
    assert message.model == "claude-sonnet-4-5"
    assert sdk.messages.count_tokens(model="anthropic/claude", messages=MESSAGES).input_tokens
    with pytest.raises(anthropic.NotFoundError):
        sdk.messages.create(model="nobody/model", max_tokens=64, messages=MESSAGES)
