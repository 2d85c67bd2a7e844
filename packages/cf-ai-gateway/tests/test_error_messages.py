"""Errors as the gateway means them: classified by surface, code and status together, and every
message says what to do, from what the request carried (its ``ErrorContext``)."""

from __future__ import annotations

import json
import pickle
from typing import Any

import httpx
import pytest
from _cf_core_helpers import ACCOUNT, CHAT_BODY, GATEWAY_ID, PROVIDER_KEY, Api, Recorder
from cf_ai_gateway import (
    NO_RETRY,
    ByokCredentialError,
    EdgeBlockedError,
    Gateway,
    GatewayAuthenticationError,
    GatewayError,
    GatewayNotFoundError,
    ProviderAuthenticationError,
    RateLimitError,
    RetryPolicy,
    SpendLimitError,
    UniversalStep,
)
from cf_ai_gateway.errors import ErrorContext, error_from_response, gateway_error_body


def gateway_body(code: int, message: str, status: int) -> bytes:
    return json.dumps(gateway_error_body(code, message, status)).encode()


def openai_401() -> bytes:
    return json.dumps(
        {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
    ).encode()


CTX = ErrorContext(
    "compat", ACCOUNT, GATEWAY_ID, gateway_auth_sent=False, provider="openai", caller_key=True
)


# --- classification --------------------------------------------------------------------------


def test_2009_on_the_rest_api_is_the_providers_credential() -> None:
    rest = error_from_response(
        401,
        {},
        gateway_body(2009, "Unauthorized", 401),
        context=ErrorContext("rest", ACCOUNT, GATEWAY_ID, provider=None, caller_key=False),
    )
    assert type(rest) is ProviderAuthenticationError
    assert "no provider key was sent" in str(rest)
    gateway = error_from_response(401, {}, gateway_body(2009, "Unauthorized", 401), context=CTX)
    assert type(gateway) is GatewayAuthenticationError


def test_a_bad_token_on_the_rest_api_names_the_api_token() -> None:
    body = json.dumps(
        {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]}
    ).encode()
    err = error_from_response(401, {}, body, context=ErrorContext("rest", ACCOUNT))
    assert type(err) is GatewayAuthenticationError
    assert "Cloudflare API token (Authorization)" in str(err)


def test_a_spend_limit_is_not_retried_and_says_when_the_window_ends() -> None:
    err = error_from_response(
        429,
        {"retry-after": "1800"},
        gateway_body(2041, "Spend limit exceeded", 429),
        context=CTX,
    )
    assert type(err) is SpendLimitError
    assert isinstance(err, RateLimitError)  # `except RateLimitError` still catches it
    assert err.retryable is False
    assert err.retry_after == 1800
    assert "the window ends in 1800 s" in str(err)
    assert f"gateway {GATEWAY_ID!r}" in str(err)
    assert err.window_ends_at is not None
    assert RetryPolicy().delay_for(1, err) is None


def test_a_rate_limit_states_retry_after() -> None:
    err = error_from_response(429, {"retry-after": "3"}, gateway_body(2003, "Rate limited", 429))
    assert type(err) is RateLimitError
    assert "Retry after 3 s" in str(err)
    bare = error_from_response(429, {}, gateway_body(2003, "Rate limited", 429))
    assert "no Retry-After" in str(bare)


@pytest.mark.parametrize(("status", "edge"), [(403, 1010), (403, 1020), (400, 1012)])
def test_the_edge_block_names_its_cause(status: int, edge: int) -> None:
    err = error_from_response(
        status, {"content-type": "text/plain"}, f"error code: {edge}".encode()
    )
    assert type(err) is EdgeBlockedError
    assert err.edge_code == edge
    assert err.cause
    assert f"error code {edge}" in str(err)
    assert "edge" in str(err)
    assert err.retryable is False
    assert pickle.loads(pickle.dumps(err)).edge_code == edge


def test_1010_says_user_agent() -> None:
    err = error_from_response(403, {}, b"error code: 1010")
    assert "User-Agent" in str(err)


def test_an_edge_429_stays_a_rate_limit() -> None:
    assert type(error_from_response(429, {}, b"error code: 1015")) is RateLimitError


# --- what to do, named --------------------------------------------------------------------


def test_2009_says_whether_a_token_was_sent_and_names_the_gateway() -> None:
    unsent = error_from_response(401, {}, gateway_body(2009, "Unauthorized", 401), context=CTX)
    assert f"Gateway {GATEWAY_ID!r} of account {ACCOUNT!r}" in str(unsent)
    assert "no cf-aig-authorization header was sent" in str(unsent)
    sent = error_from_response(
        401,
        {},
        gateway_body(2009, "Unauthorized", 401),
        context=ErrorContext("compat", ACCOUNT, GATEWAY_ID, gateway_auth_sent=True),
    )
    assert "cf-aig-authorization token sent to" in str(sent)
    assert "was refused" in str(sent)


def test_2001_names_the_account_and_gateway() -> None:
    err = error_from_response(400, {}, gateway_body(2001, "not found", 400), context=CTX)
    assert type(err) is GatewayNotFoundError
    assert f"Account {ACCOUNT!r} has no gateway {GATEWAY_ID!r}" in str(err)


@pytest.mark.parametrize(
    ("caller_key", "expected"),
    [(True, "the key sent by the caller"), (False, "BYOK alias 'team-a'")],
)
def test_a_provider_401_names_the_provider_and_the_keys_origin(
    caller_key: bool, expected: str
) -> None:
    ctx = ErrorContext(
        "provider", ACCOUNT, GATEWAY_ID, True, "anthropic", caller_key, byok_alias="team-a"
    )
    err = error_from_response(401, {}, openai_401(), context=ctx)
    assert type(err) is ProviderAuthenticationError
    assert "Anthropic refused" in str(err)
    assert expected in str(err)


def test_2040_names_the_provider_and_the_alias() -> None:
    ctx = ErrorContext("compat", ACCOUNT, GATEWAY_ID, True, "openai", False, "nope")
    err = error_from_response(400, {}, gateway_body(2040, "No key for alias", 400), context=ctx)
    assert type(err) is ByokCredentialError
    assert "OpenAI under BYOK alias 'nope'" in str(err)


def test_the_step_that_answered_names_its_provider() -> None:
    ctx = ErrorContext(
        "universal", ACCOUNT, GATEWAY_ID, True, steps=(("openai", True), ("groq", False))
    )
    err = error_from_response(401, {"cf-aig-step": "1"}, openai_401(), context=ctx)
    assert "Groq refused the key the gateway used" in str(err)


def test_every_error_class_says_what_to_do() -> None:
    import cf_ai_gateway.errors as errors

    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, GatewayError) and cls is not GatewayError:
            assert cls.default_hint, f"{cls.__name__} has no default hint"
            assert cls("x").hint == cls.default_hint


# --- the clients fill the context in ---------------------------------------------------------


async def test_the_client_tells_the_gateway_no_token_was_sent(
    make_api: Any, recorder: Recorder
) -> None:
    recorder.add(httpx.Response(401, content=gateway_body(2009, "Unauthorized", 401)))
    api: Api = make_api(gateway=Gateway(account_id=ACCOUNT, gateway_id=GATEWAY_ID), retry=NO_RETRY)
    with pytest.raises(GatewayAuthenticationError) as info:
        await api("chat_completions", CHAT_BODY)
    assert "no cf-aig-authorization header was sent" in str(info.value)
    assert f"Gateway {GATEWAY_ID!r} of account {ACCOUNT!r}" in str(info.value)


@pytest.mark.parametrize(("api_key", "expected"), [(PROVIDER_KEY, "caller"), (None, "BYOK")])
async def test_the_client_says_where_the_provider_key_came_from(
    make_api: Any, recorder: Recorder, api_key: str | None, expected: str
) -> None:
    recorder.add(httpx.Response(401, content=openai_401()))
    api: Api = make_api(api_key=api_key, retry=NO_RETRY, surface="provider")
    with pytest.raises(ProviderAuthenticationError) as info:
        await api("chat_completions", {**CHAT_BODY, "model": "groq/llama-3.1-8b-instant"})
    assert "Groq refused" in str(info.value)
    assert expected in str(info.value)
    assert PROVIDER_KEY not in str(info.value)


async def test_universal_errors_name_the_failing_steps_provider(
    make_api: Any, recorder: Recorder
) -> None:
    recorder.add(httpx.Response(401, content=openai_401(), headers={"cf-aig-step": "1"}))
    api: Api = make_api(retry=NO_RETRY)
    steps = [
        UniversalStep.chat("openai/gpt-4o-mini", CHAT_BODY, api_key=PROVIDER_KEY),
        UniversalStep.chat("groq/llama-3.1-8b-instant", CHAT_BODY),
    ]
    with pytest.raises(ProviderAuthenticationError) as info:
        await api("universal", steps)
    assert "Groq refused the key the gateway used" in str(info.value)
