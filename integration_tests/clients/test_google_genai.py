"""The official ``google-genai`` SDK, unchanged, at ``{gateway}/google-ai-studio`` (both API
versions): generate, stream, count tokens, embed, function calling, JSON output, and its
errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

genai = pytest.importorskip("google.genai")
types = pytest.importorskip("google.genai.types")
errors = pytest.importorskip("google.genai.errors")

MODEL = "gemini-2.5-flash"


@pytest.fixture(params=["v1beta", "v1"])
def client(request: pytest.FixtureRequest, emulator: Any, gateway_id: str) -> Any:
    options = types.HttpOptions(
        base_url=emulator.provider_base_url("google-ai-studio", gateway_id),
        api_version=request.param,
    )
    return genai.Client(api_key="AIza-emulator-test", http_options=options)


def test_generate_and_stream(client: Any, emulator: Any, gateway_id: str) -> None:
    response = client.models.generate_content(model=MODEL, contents="Hello Gemini")
    assert response.text.startswith("H")
    streamed = "".join(
        c.text or ""
        for c in client.models.generate_content_stream(model=MODEL, contents="Hello Gemini")
    )
    assert streamed == response.text
    usage = response.usage_metadata
    logs = emulator.logs(gateway_id)
    assert [log["model"] for log in logs] == [MODEL, MODEL]  # the model is in the URL
    assert [(log["tokens_in"], log["tokens_out"]) for log in logs] == [
        (usage.prompt_token_count, usage.candidates_token_count)
    ] * 2


def test_count_tokens(client: Any) -> None:
    counted = client.models.count_tokens(model=MODEL, contents="Hello Gemini")
    generated = client.models.generate_content(model=MODEL, contents="Hello Gemini")
    assert counted.total_tokens == generated.usage_metadata.prompt_token_count > 0


def test_embed(client: Any) -> None:
    result = client.models.embed_content(
        model="text-embedding-004",
        contents=["Paris is the capital of France.", "Cats purr."],
        config=types.EmbedContentConfig(output_dimensionality=16),
    )
    assert [len(e.values) for e in result.embeddings] == [16, 16]


def test_function_calling_and_json(client: Any) -> None:
    def get_weather(city: str) -> str:
        """Get the weather for a city."""
        return "sunny"

    config = types.GenerateContentConfig(
        tools=[get_weather],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    response = client.models.generate_content(
        model=MODEL, contents="What is the weather in Paris?", config=config
    )
    (call,) = response.function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
    schema = {
        "type": "object",
        "properties": {"capital": {"type": "string"}},
        "required": ["capital"],
    }
    response = client.models.generate_content(
        model=MODEL,
        contents="The capital of France, as JSON",
        config=types.GenerateContentConfig(
            response_mime_type="application/json", response_json_schema=schema
        ),
    )
    assert set(json.loads(response.text)) == {"capital"}


def test_errors_are_the_sdks_own(client: Any) -> None:
    with pytest.raises(errors.ClientError) as missing:
        client.models.generate_content(model="gemini-not-found", contents="Hi")
    assert (missing.value.code, missing.value.status) == (404, "NOT_FOUND")
