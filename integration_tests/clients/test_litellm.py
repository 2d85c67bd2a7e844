"""LiteLLM, unchanged, through its ``openai/``, ``anthropic/`` and ``gemini/`` routes with
``api_base`` pointing at the gateway's provider paths (as Cloudflare's LiteLLM notes show):
completion, streaming, tools, embeddings, and usage in the gateway's logs."""

from __future__ import annotations

import json
from typing import Any

import pytest

litellm = pytest.importorskip("litellm")

MESSAGES = [{"role": "user", "content": "Hello LiteLLM"}]
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
ROUTES = {
    "openai": ("openai/gpt-4o-mini", "openai", "sk-test", "chat/completions"),
    "anthropic": ("anthropic/claude-sonnet-4-5", "anthropic", "sk-ant-test", "v1/messages"),
    "gemini": (
        "gemini/gemini-2.5-flash",
        "google-ai-studio/v1beta",
        "AIza-test",
        "v1beta/models/gemini-2.5-flash:generateContent",
    ),
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_completion_stream_and_tools(route: str, emulator: Any, gateway_id: str) -> None:
    model, suffix, key, path = ROUTES[route]
    base = f"{emulator.gateway_url(gateway_id)}/{suffix}"
    response = litellm.completion(model=model, messages=MESSAGES, api_base=base, api_key=key)
    text = response.choices[0].message.content
    assert text.startswith("H")
    stream = litellm.completion(
        model=model, messages=MESSAGES, api_base=base, api_key=key, stream=True
    )
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream) == text
    asked = [{"role": "user", "content": "What is the weather in Paris?"}]
    called = litellm.completion(
        model=model, messages=asked, tools=[TOOL], api_base=base, api_key=key
    )
    (call,) = called.choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "get_weather",
        {"city": "Paris"},
    )
    (first, *_) = emulator.logs(gateway_id)
    assert first["path"] == path
    assert (first["tokens_in"], first["tokens_out"]) == (
        response.usage.prompt_tokens,
        response.usage.completion_tokens,
    )


def test_embeddings_on_the_openai_route(emulator: Any, gateway_id: str) -> None:
    result = litellm.embedding(
        model="openai/text-embedding-3-small",
        input=["a b", "c"],
        api_base=f"{emulator.gateway_url(gateway_id)}/openai",
        api_key="sk-test",
    )
    assert [len(item["embedding"]) for item in result.data] == [64, 64]
