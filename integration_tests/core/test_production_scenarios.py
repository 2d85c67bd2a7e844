"""What users meet in production, through the core client: the Auto Router and its routing
headers, BYOK and Unified Billing refusals (``ByokCredentialError``, ``InsufficientBalanceError``,
``SpendLimitError``), errors that say what to do, and retries you can see. Recorded against the
emulator, replayed from ``cassettes/core/test_production_scenarios/``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from cf_ai_gateway import (
    NO_RETRY,
    ByokCredentialError,
    Gateway,
    GatewayAuthenticationError,
    GatewayClient,
    GatewayOptions,
    InsufficientBalanceError,
    ManagementClient,
    ProviderAuthenticationError,
    RateLimitError,
    RetryPolicy,
    SpendLimitError,
    wire,
)

from integration_tests.conftest import EMULATOR_BYOK_KEY as BYOK_KEY

pytestmark = pytest.mark.vcr

HELLO = [{"role": "user", "content": "Say hello to the gateway."}]
CHAT: dict[str, Any] = {"model": "openai/gpt-4o-mini", "max_tokens": 40, "messages": HELLO}
AUTO: dict[str, Any] = {"model": wire.AUTO_MODEL, "max_tokens": 40, "messages": HELLO}


def client(gateway: Gateway, api_key: str | None = None, **kw: Any) -> GatewayClient:
    kw.setdefault("retry", NO_RETRY)
    return GatewayClient(gateway, api_key=api_key, **kw)


# --- Auto Router -----------------------------------------------------------------------------


def test_auto_router_names_what_it_routed_to(gateway: Gateway) -> None:
    """Live too: any gateway answers ``cloudflare/auto`` with the routing headers."""
    with client(gateway) as c:
        result = c.chat_completions(AUTO)
    assert result.info.routed_model
    assert result.info.routing_reason in wire.ROUTING_REASONS
    assert result.info.routing_decision_id


@pytest.mark.emulator_only
def test_auto_router_keeps_the_model_for_the_turn(gateway: Gateway) -> None:
    options = GatewayOptions(allowed_models=["openai/gpt-5.6-*"], session_id="chat-7")
    long_task = " ".join(["Explain the trade-offs of caching LLM answers in detail."] * 10)
    first_turn = [{"role": "user", "content": long_task}]
    tool_round = [
        *first_turn,
        {"role": "assistant", "content": "Looking it up."},
        {"role": "tool", "tool_call_id": "c1", "content": "cache docs"},
    ]
    with client(gateway) as c:
        first = c.chat_completions({**AUTO, "messages": first_turn}, options=options)
        same_turn = c.chat_completions({**AUTO, "messages": tool_round}, options=options)
        rest = client(gateway, surface="rest")
        with rest:
            other = rest.chat_completions(AUTO, options=GatewayOptions(allowed_providers=["xai"]))
    assert (first.info.routed_model, first.info.routing_reason) == (
        "openai/gpt-5.6-terra",
        "cost_optimal_within_pool",
    )
    assert (same_turn.info.routed_model, same_turn.info.routing_reason) == (
        "openai/gpt-5.6-terra",
        "pinned_by_turn",
    )
    assert first.data["model"] == "gpt-5.6-terra"
    assert other.info.routed_model == "xai/grok-4.5"


# --- BYOK and Unified Billing --------------------------------------------------------------


@pytest.mark.emulator_only
def test_byok_stored_key_answers_and_the_log_says_so(
    gateway_factory: Callable[..., Gateway],
) -> None:
    byok = gateway_factory(provider_keys={"openai": {"default": BYOK_KEY, "team-a": BYOK_KEY}})
    with client(byok) as c:  # no api_key: no provider credential header at all
        default = c.chat_completions(CHAT)
        team = c.chat_completions(CHAT, options=GatewayOptions(byok_alias="team-a"))
    with ManagementClient.from_gateway(byok, retry=NO_RETRY) as mgmt:
        logs = {log.id: log for log in mgmt.list_logs()}
    assert logs[default.info.log_id or ""].raw["credential_source"] == "byok"
    assert logs[team.info.log_id or ""].raw["byok_alias"] == "team-a"


@pytest.mark.emulator_only
def test_an_unknown_byok_alias_raises_byok_credential_error(
    gateway_factory: Callable[..., Gateway],
) -> None:
    byok = gateway_factory(provider_keys={"openai": BYOK_KEY})
    with client(byok) as c, pytest.raises(ByokCredentialError) as info:
        c.chat_completions(CHAT, options=GatewayOptions(byok_alias="nope"))
    err = info.value
    assert (err.status_code, err.code) == (400, wire.CODE_BYOK_MISSING_KEY)
    assert "No key stored for OpenAI under BYOK alias 'nope'" in str(err)
    assert err.log_id


@pytest.mark.emulator_only
def test_no_wholesale_without_a_credential_raises_byok_credential_error(
    gateway_factory: Callable[..., Gateway],
) -> None:
    empty = gateway_factory()
    with client(empty) as c, pytest.raises(ByokCredentialError) as info:
        c.chat_completions(CHAT, options=GatewayOptions(no_wholesale=True))
    assert info.value.status_code == 400
    assert wire.H_NO_WHOLESALE in info.value.message


@pytest.mark.emulator_only
def test_exhausted_credits_raise_insufficient_balance(
    gateway_factory: Callable[..., Gateway],
) -> None:
    billing = gateway_factory(credits=0.000005)
    with client(billing) as c:
        c.chat_completions(CHAT)  # answered: its cost crosses the balance
        with pytest.raises(InsufficientBalanceError) as info:
            c.chat_completions(CHAT)
    assert (info.value.status_code, info.value.code) == (402, wire.CODE_UNIFIED_BILLING_CREDITS)
    assert info.value.retryable is False
    assert "top up" in str(info.value).lower()


@pytest.mark.emulator_only
def test_a_spend_limit_raises_spend_limit_error_and_is_not_retried(
    gateway_factory: Callable[..., Gateway],
) -> None:
    """The default retry policy (2 retries) does not wait out a budget window: the cassette
    holds exactly two exchanges."""
    limited = gateway_factory(spend_limits=[{"limit": 0.000001, "window": 86400}])
    with client(limited, retry=RetryPolicy()) as c:
        c.chat_completions(CHAT)
        with pytest.raises(SpendLimitError) as info:
            c.chat_completions(CHAT)
    err = info.value
    assert isinstance(err, RateLimitError)
    assert (err.status_code, err.code, err.attempts) == (429, wire.CODE_SPEND_LIMIT, 1)
    assert err.retry_after is not None
    assert 0 < err.retry_after <= 86400
    assert "the window ends in" in str(err)


# --- errors that say what to do ----------------------------------------------------------


@pytest.mark.emulator_only
def test_an_authenticated_gateway_says_no_token_was_sent(
    gateway_factory: Callable[..., Gateway],
) -> None:
    secured = gateway_factory(authentication=True)
    anonymous = Gateway.from_url(secured.root_url)
    with client(anonymous) as c, pytest.raises(GatewayAuthenticationError) as info:
        c.chat_completions(CHAT)
    assert "no cf-aig-authorization header was sent" in str(info.value)
    assert f"{secured.gateway_id!r}" in str(info.value)


@pytest.mark.emulator_only
def test_rest_2009_is_the_provider_refusing_the_stored_key(
    gateway_factory: Callable[..., Gateway],
) -> None:
    byok = gateway_factory(provider_keys={"openai": BYOK_KEY})
    with client(byok, surface="rest") as c, pytest.raises(ProviderAuthenticationError) as info:
        c.chat_completions(CHAT, extra_headers={"x-emulator-fault": "fail=401"})
    assert info.value.code == wire.CODE_UNAUTHORIZED
    assert "no provider key was sent" in str(info.value)


# --- retries you can see ---------------------------------------------------------------------


@pytest.mark.emulator_only
def test_a_retry_is_logged_and_counted(gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="cf_ai_gateway")
    policy = RetryPolicy(max_retries=2, initial_delay=0.01, jitter=0)
    with client(gateway, retry=policy) as c:
        # one scripted 503, then an answer: the client's own retry (not the gateway's)
        script = {"x-emulator-script": '{"answers": [{"fault": "fail=503"}, "Hello!"]}'}
        result = c.chat_completions(CHAT, extra_headers=script)
    assert result.info.attempts == 2
    (line,) = [r for r in caplog.records if getattr(r, "cf_aig_attempt", None) == 1]
    assert "attempt 1 of 3 failed (HTTP 503" in line.getMessage()
    assert getattr(line, "cf_aig_log_id", None)
    assert BYOK_KEY not in caplog.text
