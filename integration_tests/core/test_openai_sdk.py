"""The official ``openai`` SDK pointed at the emulator: unified ``/compat`` base URL for chat
(with ``default_headers`` carrying gateway options), provider-native ``/openai`` for
embeddings. Runs against the in-process emulator in every mode except ``--live`` (no cassette:
it is fast and offline; the SDK's own HTTP stack is not what the cassettes test)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cf_ai_gateway import wire

openai = pytest.importorskip("openai")

pytestmark = pytest.mark.emulator_only

MESSAGES = [{"role": "user", "content": "Hello from the OpenAI SDK"}]


@pytest.fixture
def gateway_id(emulator: Any) -> str:
    return emulator.create_gateway()  # type: ignore[no-any-return]


def _headers(event_id: str) -> dict[str, str]:
    return {wire.H_METADATA: json.dumps({"sdk": "openai"}), wire.H_EVENT_ID: event_id}


def test_chat_and_streaming_via_compat(emulator: Any, gateway_id: str) -> None:
    sdk = openai.OpenAI(
        base_url=emulator.compat_base_url(gateway_id),
        api_key="sk-test",
        default_headers=_headers("sdk-1"),
        max_retries=0,
    )
    completion = sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert completion.choices[0].message.content
    assert completion.usage is not None
    assert completion.usage.total_tokens > 0
    stream = sdk.chat.completions.create(
        model="groq/llama-3.1-8b-instant",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == completion.choices[0].message.content or text.startswith("H")
    assert chunks[-1].usage is not None
    logs = emulator.logs(gateway_id)
    assert [log["event_id"] for log in logs] == ["sdk-1", "sdk-1"]
    assert json.loads(logs[0]["metadata"]) == {"sdk": "openai"}


def test_tool_call_via_compat(emulator: Any, gateway_id: str) -> None:
    sdk = openai.OpenAI(
        base_url=emulator.compat_base_url(gateway_id), api_key="sk-test", max_retries=0
    )
    tool = {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two integers",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            },
        },
    }
    completion = sdk.chat.completions.create(
        model="openai/gpt-4o-mini",
        tools=[tool],
        tool_choice="required",
        messages=[{"role": "user", "content": "What is 2 + 5?"}],
    )
    call = completion.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"a": 2, "b": 5}


def test_embeddings_via_provider_path(emulator: Any, gateway_id: str) -> None:
    # The unified /compat endpoint is chat/completions only (as on Cloudflare): embeddings go
    # through the provider-native path, with the same default_headers for gateway options.
    sdk = openai.OpenAI(
        base_url=emulator.provider_base_url("openai", gateway_id),
        api_key="sk-test",
        default_headers=_headers("sdk-emb"),
        max_retries=0,
    )
    result = sdk.embeddings.create(model="text-embedding-3-small", input=["a", "b"], dimensions=16)
    assert [len(item.embedding) for item in result.data] == [16, 16]
    assert abs(sum(x * x for x in result.data[0].embedding) - 1) < 1e-4
    (log,) = emulator.logs(gateway_id)
    assert (log["event_id"], log["model_type"]) == ("sdk-emb", "embeddings")
    assert json.loads(log["metadata"]) == {"sdk": "openai"}


def test_errors_surface_as_sdk_errors(emulator: Any, gateway_id: str) -> None:
    sdk = openai.OpenAI(
        base_url=emulator.compat_base_url(gateway_id), api_key="sk-test", max_retries=0
    )
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="openai/does-not-exist", messages=MESSAGES)
    secure = openai.OpenAI(
        base_url=emulator.compat_base_url("secure"), api_key="sk-test", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError):
        secure.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
