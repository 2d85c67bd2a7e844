"""The core client's scenarios through the gateway: recorded against the emulator, replayed
from ``cassettes/core/test_core_scenarios/``. Run live with ``--live`` (see the conftest)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from cf_ai_gateway import (
    NO_RETRY,
    AsyncGatewayClient,
    Gateway,
    GatewayAuthenticationError,
    GatewayClient,
    GatewayNotFoundError,
    GatewayOptions,
    GatewayTimeoutError,
    ManagementClient,
    RateLimitError,
    UniversalStep,
)

pytestmark = pytest.mark.vcr

MODEL = "openai/gpt-4o-mini"
CHAT: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 40,
    "messages": [{"role": "user", "content": "Say hello to the gateway."}],
}
CACHED = GatewayOptions(cache_ttl=300)


def client(gateway: Gateway, api_key: str | None, **kw: Any) -> GatewayClient:
    return GatewayClient(gateway, api_key=api_key, retry=NO_RETRY, **kw)


def test_chat_miss_then_hit(gateway: Gateway, provider_api_key: str | None) -> None:
    with client(gateway, provider_api_key) as c:
        first = c.chat_completions(CHAT, options=CACHED)
        second = c.chat_completions(CHAT, options=CACHED)
    assert first.info.cache_status == "MISS"
    assert second.info.cache_status == "HIT"
    assert first.data["choices"][0]["message"]["content"]
    assert second.data["choices"] == first.data["choices"]
    assert first.info.log_id
    assert first.info.log_id != second.info.log_id


async def test_chat_miss_then_hit_async(gateway: Gateway, provider_api_key: str | None) -> None:
    async with AsyncGatewayClient(gateway, api_key=provider_api_key, retry=NO_RETRY) as c:
        first = await c.chat_completions(CHAT, options=CACHED)
        second = await c.chat_completions(CHAT, options=CACHED)
    assert (first.info.cache_status, second.info.cache_status) == ("MISS", "HIT")
    assert first.data["usage"]["total_tokens"] > 0


def _text(chunks: list[dict[str, Any]]) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for chunk in chunks
        for choice in chunk.get("choices") or []
    )


def test_streaming(gateway: Gateway, provider_api_key: str | None) -> None:
    body = {**CHAT, "stream_options": {"include_usage": True}}
    with client(gateway, provider_api_key) as c, c.stream_chat_completions(body) as stream:
        chunks = list(stream)
    assert len(chunks) > 3
    assert _text(chunks).strip()
    assert chunks[-1]["usage"]["completion_tokens"] > 0
    assert stream.info.log_id


async def test_streaming_async(gateway: Gateway, provider_api_key: str | None) -> None:
    async with (
        AsyncGatewayClient(gateway, api_key=provider_api_key, retry=NO_RETRY) as c,
        await c.stream_chat_completions(CHAT) as stream,
    ):
        chunks = [chunk async for chunk in stream]
    assert _text(chunks).strip()
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")


def test_embeddings(gateway: Gateway, provider_api_key: str | None) -> None:
    body = {
        "model": "openai/text-embedding-3-small",
        "input": ["gateway", "emulator"],
        "dimensions": 32,
    }
    with client(gateway, provider_api_key) as c:
        result = c.embeddings(body)
    vectors = [item["embedding"] for item in result.data["data"]]
    assert [len(v) for v in vectors] == [32, 32]
    assert vectors[0] != vectors[1]


@pytest.mark.emulator_only
def test_metadata_and_event_id_in_logs(gateway: Gateway, provider_api_key: str | None) -> None:
    options = GatewayOptions(metadata={"user": "u-42", "plan": "free"}, event_id="trace-123")
    with client(gateway, provider_api_key) as c:
        result = c.chat_completions(CHAT, options=options)
        assert result.info.event_id == "trace-123"
    with ManagementClient.from_gateway(gateway, retry=NO_RETRY) as mgmt:
        logs = list(mgmt.list_logs())
        log = mgmt.get_log(result.info.log_id or "")
    assert [entry.id for entry in logs] == [result.info.log_id]
    assert log.event_id == "trace-123"
    assert log.metadata == {"user": "u-42", "plan": "free"}
    assert json.loads(log.raw["metadata"]) == log.metadata  # a JSON string on the wire
    assert log.success is True


@pytest.mark.emulator_only
def test_universal_fallback_answers_from_step_1(
    gateway: Gateway, provider_api_key: str | None
) -> None:
    steps = [
        UniversalStep.chat("openai/fail-503", CHAT, api_key=provider_api_key),
        UniversalStep.chat("groq/llama-3.1-8b-instant", CHAT, api_key=provider_api_key),
    ]
    with client(gateway, None) as c:
        result = c.universal(steps)
    assert result.info.step == 1
    assert result.data["model"] == "llama-3.1-8b-instant"


@pytest.mark.emulator_only
async def test_universal_fallback_async(gateway: Gateway, provider_api_key: str | None) -> None:
    steps = [
        UniversalStep.chat(
            "openai/slow-500",
            CHAT,
            api_key=provider_api_key,
            options=GatewayOptions(request_timeout_ms=50),
        ),
        UniversalStep.chat(MODEL, CHAT, api_key=provider_api_key),
    ]
    async with AsyncGatewayClient(gateway, retry=NO_RETRY) as c:
        result = await c.universal(steps)
    assert result.info.step == 1


@pytest.mark.emulator_only
def test_rate_limit_raises(
    gateway_factory: Callable[..., Gateway], provider_api_key: str | None
) -> None:
    limited = gateway_factory(
        rate_limiting_limit=2, rate_limiting_interval=60, rate_limiting_technique="sliding"
    )
    with client(limited, provider_api_key) as c:
        c.chat_completions(CHAT)
        c.chat_completions(CHAT)
        with pytest.raises(RateLimitError) as info:
            c.chat_completions(CHAT)
    assert info.value.status_code == 429
    assert info.value.retry_after is not None
    assert info.value.retry_after > 0


@pytest.mark.emulator_only
def test_authentication_error(
    gateway_factory: Callable[..., Gateway], provider_api_key: str | None
) -> None:
    secured = gateway_factory(authentication=True)
    anonymous = Gateway.from_url(secured.root_url)
    with client(anonymous, provider_api_key) as c, pytest.raises(GatewayAuthenticationError):
        c.chat_completions(CHAT)
    with client(secured, provider_api_key) as c:
        assert c.chat_completions(CHAT).status_code == 200


def test_unknown_gateway(
    gateway_factory: Callable[..., Gateway], provider_api_key: str | None
) -> None:
    missing = gateway_factory(create=False)
    with client(missing, provider_api_key) as c, pytest.raises(GatewayNotFoundError) as info:
        c.chat_completions(CHAT)
    assert info.value.code == 2001


@pytest.mark.emulator_only
def test_request_timeout(gateway: Gateway, provider_api_key: str | None) -> None:
    with client(gateway, provider_api_key) as c, pytest.raises(GatewayTimeoutError):
        c.chat_completions(
            {**CHAT, "model": "openai/slow-400"}, options=GatewayOptions(request_timeout_ms=50)
        )


def test_rest_surface(gateway: Gateway) -> None:
    with client(gateway, None, surface="rest") as c:
        result = c.chat_completions(CHAT)
    assert result.data["choices"][0]["message"]["content"]
    # the provider answers with the model's own name; cf-aig-provider/-model name what answered
    # only for dynamic routes (older recordings carry them on every REST answer)
    assert result.data["model"] == "gpt-4o-mini"


def test_provider_surface(gateway: Gateway, provider_api_key: str | None) -> None:
    with client(gateway, provider_api_key, surface="provider") as c:
        result = c.chat_completions({**CHAT, "model": "groq/llama-3.1-8b-instant"})
    assert result.data["model"] == "llama-3.1-8b-instant"
    assert result.info.cache_status == "MISS"
