"""The management client's scenarios: recorded against the emulator, replayed from
``cassettes/core/test_management_scenarios/``; ``--live`` runs them against Cloudflare (the
account token from ``CF_API_TOKEN``, else ``CF_AIG_TOKEN``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cf_ai_gateway import (
    NO_RETRY,
    AsyncManagementClient,
    Gateway,
    GatewayClient,
    GatewayNotFoundError,
    GatewayOptions,
    ManagementClient,
    cache_key_for,
)

pytestmark = pytest.mark.vcr

MODEL = "openai/gpt-4o-mini"
CHAT: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 40,
    "messages": [{"role": "user", "content": "Say hello to the gateway."}],
}


def management(gateway: Gateway, integration_mode: str) -> ManagementClient:
    if integration_mode == "live":
        return ManagementClient.from_env(gateway_id=gateway.gateway_id, retry=NO_RETRY)
    return ManagementClient.from_gateway(gateway, retry=NO_RETRY)


def test_from_a_response_to_its_log(
    gateway: Gateway, provider_api_key: str | None, integration_mode: str
) -> None:
    options = GatewayOptions(metadata={"user": "u-42"}, event_id="mgmt-trace-1")
    with GatewayClient(gateway, api_key=provider_api_key, retry=NO_RETRY) as client:
        info = client.chat_completions(CHAT, options=options).info
    assert info.log_id
    with management(gateway, integration_mode) as mgmt:
        entry = mgmt.get_log(info.log_id)
        assert entry.id == info.log_id
        assert entry.metadata == {"user": "u-42"}
        assert entry.event_id == "mgmt-trace-1"
        assert entry.success is True
        assert entry.cache_status == "MISS"
        assert (entry.tokens_in or 0) > 0
        assert entry.provider == "openai"
        request = mgmt.get_log_request(info.log_id)
        assert request["messages"] == CHAT["messages"]
        response = mgmt.get_log_response(info.log_id)
        assert response["choices"][0]["message"]["content"]
        mgmt.feedback(info.log_id, +1)
        mgmt.score(info.log_id, 90)
        after = mgmt.get_log(info.log_id)
    assert (after.feedback, after.score) == (1, 90)


def test_logs_list_filters_and_pages(
    gateway: Gateway, provider_api_key: str | None, integration_mode: str
) -> None:
    with GatewayClient(gateway, api_key=provider_api_key, retry=NO_RETRY) as client:
        ids = [
            client.chat_completions(
                {**CHAT, "messages": [{"role": "user", "content": f"Question {i}"}]},
                options=GatewayOptions(cache_ttl=60),
            ).info.log_id
            for i in range(3)
        ]
        hit = client.chat_completions(
            {**CHAT, "messages": [{"role": "user", "content": "Question 0"}]},
            options=GatewayOptions(cache_ttl=60),
        ).info
    assert hit.cache_status == "HIT"
    with management(gateway, integration_mode) as mgmt:
        newest_first = [e.id for e in mgmt.list_logs(per_page=2)]
        assert newest_first == [hit.log_id, *reversed(ids)]
        assert [e.id for e in mgmt.list_logs(cached=True)] == [hit.log_id]
        assert [e.id for e in mgmt.list_logs(direction="asc", limit=2)] == ids[:2]
        assert [e.id for e in mgmt.list_logs(provider="openai", model="gpt-4o-mini", limit=1)] == [
            hit.log_id
        ]


@pytest.mark.emulator_only
def test_gateway_settings_round_trip(
    gateway_factory: Callable[..., Gateway], integration_mode: str
) -> None:
    gateway = gateway_factory(cache_ttl=60, rate_limiting_limit=100, rate_limiting_interval=60)
    with management(gateway, integration_mode) as mgmt:
        settings = mgmt.get_gateway()
        assert settings.id == gateway.gateway_id
        assert (settings.cache_ttl, settings.rate_limiting_limit) == (60, 100)
        updated = mgmt.update_gateway(settings.replace(cache_ttl=600, authentication=True))
        assert (updated.cache_ttl, updated.authentication) == (600, True)
        assert updated.rate_limiting_limit == 100  # a full replace kept what we sent back
        found = list(mgmt.list_gateways(search=gateway.gateway_id))
        assert [g.id for g in found] == [gateway.gateway_id]
        assert found[0].cache_ttl == 600


def test_unknown_gateway_is_typed(
    gateway_factory: Callable[..., Gateway], integration_mode: str
) -> None:
    missing = gateway_factory(create=False)
    with management(missing, integration_mode) as mgmt, pytest.raises(GatewayNotFoundError):
        mgmt.get_gateway()


async def test_async_logs(
    gateway: Gateway, provider_api_key: str | None, integration_mode: str
) -> None:
    with GatewayClient(gateway, api_key=provider_api_key, retry=NO_RETRY) as client:
        log_id = client.chat_completions(CHAT).info.log_id
    if integration_mode == "live":
        mgmt = AsyncManagementClient.from_env(gateway_id=gateway.gateway_id, retry=NO_RETRY)
    else:
        mgmt = AsyncManagementClient.from_gateway(gateway, retry=NO_RETRY)
    async with mgmt:
        entries = [e async for e in mgmt.list_logs(limit=5)]
        assert [e.id for e in entries] == [log_id]
        await mgmt.feedback(log_id or "", -1)
        assert (await mgmt.get_log(log_id or "")).feedback == -1


def test_cache_key_for_shares_one_entry(gateway: Gateway, provider_api_key: str | None) -> None:
    """Two prompts that differ only in spacing: one cache entry, thanks to the custom key."""
    spaced = [{"role": "user", "content": "What  is an\nAI gateway? "}]
    tidy = [{"role": "user", "content": "What is an AI gateway?"}]
    with GatewayClient(gateway, api_key=provider_api_key, retry=NO_RETRY) as client:
        infos = [
            client.chat_completions(
                {**CHAT, "messages": messages},
                options=GatewayOptions(
                    cache_key=cache_key_for(messages, model=MODEL, params={"max_tokens": 40}),
                    cache_ttl=300,
                ),
            ).info
            for messages in (spaced, tidy)
        ]
    assert [i.cache_status for i in infos] == ["MISS", "HIT"]
