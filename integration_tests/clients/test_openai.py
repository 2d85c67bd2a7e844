"""The official ``openai`` SDK, unchanged, on every base URL a user may give it: the unified
``/compat``, provider-native ``/openai`` and ``/openai/v1``, and the REST API's ``/ai/v1``.
Chat, streaming, embeddings and ``responses.create`` (JSON and stream), a scripted agent loop,
and the SDK's own errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cf_ai_gateway import wire
from cf_ai_gateway_emulator.testing import script_header

openai = pytest.importorskip("openai")

MESSAGES = [{"role": "user", "content": "Hello from the OpenAI SDK"}]
NATIVE = ["openai", "openai/v1"]


def native(emulator: Any, gateway_id: str, suffix: str) -> Any:
    base = f"{emulator.gateway_url(gateway_id)}/{suffix}"
    return openai.OpenAI(base_url=base, api_key="sk-test", max_retries=0)


@pytest.mark.parametrize("suffix", NATIVE)
def test_chat_stream_and_embeddings_on_the_provider_path(
    emulator: Any, gateway_id: str, suffix: str
) -> None:
    sdk = native(emulator, gateway_id, suffix)
    completion = sdk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    text = completion.choices[0].message.content
    assert text.startswith("H")
    stream = sdk.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    assert chunks[-1].usage.total_tokens == completion.usage.total_tokens
    vectors = sdk.embeddings.create(model="text-embedding-3-small", input=["a", "b"], dimensions=8)
    assert [len(item.embedding) for item in vectors.data] == [8, 8]
    paths = [log["path"] for log in emulator.logs(gateway_id)]
    v1 = "v1/" if suffix.endswith("v1") else ""
    assert paths == [f"{v1}chat/completions"] * 2 + [f"{v1}embeddings"]


@pytest.mark.parametrize("suffix", NATIVE)
def test_responses_create_and_stream(emulator: Any, gateway_id: str, suffix: str) -> None:
    sdk = native(emulator, gateway_id, suffix)
    response = sdk.responses.create(model="gpt-4o-mini", input="Hello responses")
    assert response.status == "completed"
    assert response.output_text.startswith("H")
    assert response.usage.output_tokens > 0
    with sdk.responses.stream(model="gpt-4o-mini", input="Hello responses") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == response.output_text
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "Get the weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    called = sdk.responses.create(model="gpt-4o-mini", input="Weather in Paris?", tools=[tool])
    (call,) = called.output
    assert (call.type, call.name, json.loads(call.arguments)) == (
        "function_call",
        "get_weather",
        {"city": "Paris"},
    )
    (log, *_) = emulator.logs(gateway_id)
    assert (log["tokens_in"], log["tokens_out"]) == (
        response.usage.input_tokens,
        response.usage.output_tokens,
    )


def test_compat_chat_and_stream_for_any_provider(emulator: Any, gateway_id: str) -> None:
    sdk = openai.OpenAI(
        base_url=emulator.compat_base_url(gateway_id), api_key="sk-test", max_retries=0
    )
    for model in ("openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "google-ai-studio/g"):
        completion = sdk.chat.completions.create(model=model, messages=MESSAGES)
        assert completion.choices[0].message.content.startswith("H")
    stream = sdk.chat.completions.create(model="groq/llama", messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    with pytest.raises(openai.NotFoundError):  # the unified endpoint is chat completions only
        sdk.embeddings.create(model="openai/text-embedding-3-small", input="a")
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="nobody/model", messages=MESSAGES)


def test_rest_api_chat_responses_and_routes(emulator: Any, gateway_id: str) -> None:
    sdk = openai.OpenAI(
        base_url=emulator.rest_base_url,
        api_key=emulator.token,
        default_headers={wire.H_GATEWAY_ID: "demo"},
        max_retries=0,
    )
    completion = sdk.chat.completions.create(model="openai/gpt-4.1", messages=MESSAGES)
    assert completion.choices[0].message.content
    routed = sdk.chat.completions.with_raw_response.create(
        model="dynamic/support",
        messages=MESSAGES,
        extra_headers={wire.H_METADATA: '{"plan":"free"}'},
    )
    assert routed.headers[wire.H_PROVIDER] == "groq"
    assert sdk.responses.create(model="anthropic/claude-sonnet-4", input="Hi").output_text
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="dynamic/no-such-route", messages=MESSAGES)


def test_a_scripted_agent_loop(emulator: Any, gateway_id: str) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Look an order up",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        },
    }
    sdk = openai.OpenAI(
        base_url=f"{emulator.gateway_url(gateway_id)}/openai/v1",
        api_key="sk-test",
        max_retries=0,
        default_headers=script_header(
            {"tool_call": {"name": "lookup_order", "arguments": {"order_id": "A-42"}}},
            "Order A-42 ships tomorrow.",
        ),
    )
    messages: list[Any] = [{"role": "user", "content": "Where is my order?"}]
    for _ in range(3):
        reply = sdk.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[tool])
        message = reply.choices[0].message
        if not message.tool_calls:
            break
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            args = json.loads(call.function.arguments)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": str(args)})
    assert message.content == "Order A-42 ships tomorrow."
    assert len(emulator.logs(gateway_id)) == 2


def test_errors_are_the_sdks_own(emulator: Any, gateway_id: str) -> None:
    sdk = native(emulator, gateway_id, "openai/v1")
    with pytest.raises(openai.NotFoundError) as not_found:
        sdk.chat.completions.create(model="does-not-exist", messages=MESSAGES)
    assert not_found.value.code == "model_not_found"
    with pytest.raises(openai.RateLimitError):
        sdk.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, extra_headers={"x-emulator-fault": "fail=429"}
        )
    retrying = sdk.with_options(max_retries=2)
    completion = retrying.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        extra_headers=script_header({"fault": "fail=503"}, "after a retry", name="retry"),
    )
    assert completion.choices[0].message.content == "after a retry"  # the SDK's own retry
