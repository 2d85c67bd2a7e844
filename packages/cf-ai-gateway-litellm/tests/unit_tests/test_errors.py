"""Every failure comes back as the LiteLLM exception class a built-in provider would raise
for it, carrying the gateway code, the log id, the response info and the core error."""

from __future__ import annotations

from typing import Any

import httpx
import litellm
import pytest
from cf_ai_gateway import errors as core
from cf_ai_gateway_litellm import response_info
from litellm import exceptions as lx

from .double import LOG_ID, GatewayDouble, gateway_error, provider_error
from .test_provider import MESSAGES, MODEL

CASES = [
    # (answer, LiteLLM class, its status, core class, gateway code)
    (
        lambda: gateway_error(401, 2009, "Unauthorized"),
        lx.AuthenticationError,
        401,
        core.GatewayAuthenticationError,
        2009,
    ),
    (
        lambda: gateway_error(400, 2009, "Unauthorized"),
        lx.AuthenticationError,
        401,
        core.GatewayAuthenticationError,
        2009,
    ),
    (
        lambda: provider_error(401, "Incorrect API key provided"),
        lx.AuthenticationError,
        401,
        core.ProviderAuthenticationError,
        None,
    ),
    (
        lambda: provider_error(403, "not allowed"),
        lx.PermissionDeniedError,
        403,
        core.ProviderAuthenticationError,
        None,
    ),
    (
        lambda: gateway_error(400, 2040, "no stored key"),
        lx.AuthenticationError,
        401,
        core.ByokCredentialError,
        2040,
    ),
    (
        lambda: gateway_error(400, 2001, "gateway not found"),
        lx.NotFoundError,
        404,
        core.GatewayNotFoundError,
        2001,
    ),
    (
        lambda: provider_error(404, "model not found", "model_not_found"),
        lx.NotFoundError,
        404,
        core.ModelNotFoundError,
        None,
    ),
    (
        lambda: gateway_error(429, 2041, "spend limit", **{"retry-after": "30"}),
        lx.RateLimitError,
        429,
        core.SpendLimitError,
        2041,
    ),
    (
        lambda: httpx.Response(403, text="error code: 1010"),
        lx.PermissionDeniedError,
        403,
        core.EdgeBlockedError,
        None,
    ),
    (
        lambda: provider_error(400, "bad temperature"),
        lx.BadRequestError,
        400,
        core.BadRequestError,
        None,
    ),
    (
        lambda: provider_error(400, "too long", "context_length_exceeded"),
        lx.ContextWindowExceededError,
        400,
        core.BadRequestError,
        None,
    ),
    (
        lambda: gateway_error(429, 2003, "rate limited", **{"retry-after": "7"}),
        lx.RateLimitError,
        429,
        core.RateLimitError,
        2003,
    ),
    (
        lambda: gateway_error(424, 2016, "prompt blocked"),
        lx.ContentPolicyViolationError,
        400,
        core.GuardrailsBlockedError,
        2016,
    ),
    (
        lambda: gateway_error(400, 2029, "DLP block"),
        lx.ContentPolicyViolationError,
        400,
        core.DLPBlockedError,
        2029,
    ),
    (
        lambda: gateway_error(504, 2007, "request timeout"),
        lx.Timeout,
        504,
        core.GatewayTimeoutError,
        2007,
    ),
    (
        lambda: gateway_error(503, 7013, "scanner unavailable"),
        lx.ServiceUnavailableError,
        503,
        core.GuardrailsUnavailableError,
        7013,
    ),
    (
        lambda: provider_error(503, "overloaded"),
        lx.ServiceUnavailableError,
        503,
        core.ProviderError,
        None,
    ),
    (lambda: provider_error(500, "boom"), lx.InternalServerError, 500, core.ProviderError, None),
    (lambda: provider_error(502, "bad gateway"), lx.BadGatewayError, 502, core.ProviderError, None),
    (
        lambda: gateway_error(402, 2005, "insufficient balance"),
        lx.APIError,
        402,
        core.InsufficientBalanceError,
        2005,
    ),
    (
        lambda: httpx.Response(200, text="<html>not json</html>"),
        lx.InternalServerError,
        500,
        core.InvalidResponseError,
        None,
    ),
]


@pytest.mark.parametrize(
    ("answer", "expected", "status", "core_class", "code"),
    CASES,
    ids=[f"{c[3].__name__}-{c[4] or c[2]}-{i}" for i, c in enumerate(CASES)],
)
def test_core_errors_become_litellm_classes(
    provider: Any,
    double: GatewayDouble,
    answer: Any,
    expected: type[Exception],
    status: int,
    core_class: type[Exception],
    code: int | None,
) -> None:
    double.respond = lambda request: answer()
    with pytest.raises(expected) as info:
        litellm.completion(model=MODEL, messages=MESSAGES, max_retries=0)
    err = info.value
    assert type(err) is expected
    assert err.status_code == status
    assert err.gateway_code == code
    assert err.log_id == LOG_ID
    assert isinstance(err.__cause__, core_class)
    assert response_info(err).log_id == LOG_ID
    assert err.llm_provider == "cloudflare-ai-gateway"
    message = str(err)
    assert core_class.__name__ in message
    assert LOG_ID in message
    if code is not None:
        assert f"code {code}" in message


def test_a_rate_limit_carries_retry_after_for_the_router(
    provider: Any, double: GatewayDouble
) -> None:
    double.respond = lambda request: gateway_error(429, 2003, "slow", **{"retry-after": "7"})
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model=MODEL, messages=MESSAGES, max_retries=0)
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.response.headers["cf-aig-log-id"] == LOG_ID


def test_a_connection_failure_is_an_api_connection_error(
    provider: Any, double: GatewayDouble
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    double.respond = refuse
    with pytest.raises(litellm.APIConnectionError) as info:
        litellm.completion(model=MODEL, messages=MESSAGES, max_retries=0)
    assert isinstance(info.value.__cause__, core.GatewayConnectionError)
    assert info.value.gateway_code is None


def test_a_client_timeout_is_a_litellm_timeout(provider: Any, double: GatewayDouble) -> None:
    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    double.respond = stall
    with pytest.raises(litellm.Timeout) as info:
        litellm.completion(model=MODEL, messages=MESSAGES, max_retries=0, timeout=1)
    assert isinstance(info.value.__cause__, core.GatewayTimeoutError)
    assert info.value.status_code == 408


async def test_async_paths_map_errors_too(provider: Any, double: GatewayDouble) -> None:
    double.respond = lambda request: gateway_error(401, 2009, "Unauthorized")
    with pytest.raises(litellm.AuthenticationError) as info:
        await litellm.acompletion(model=MODEL, messages=MESSAGES)
    assert info.value.gateway_code == 2009
    with pytest.raises(litellm.AuthenticationError):
        await litellm.acompletion(model=MODEL, messages=MESSAGES, stream=True)
    with pytest.raises(litellm.AuthenticationError):
        await litellm.aembedding(
            model="cloudflare-ai-gateway/openai/text-embedding-3-small", input=["a"]
        )


def test_an_error_inside_a_stream_is_mapped(provider: Any, double: GatewayDouble) -> None:
    text = 'data: {"error": {"message": "upstream broke", "type": "server_error"}}\n\n'
    double.respond = lambda request: httpx.Response(
        200, text=text, headers={"content-type": "text/event-stream"}
    )
    stream = litellm.completion(model=MODEL, messages=MESSAGES, stream=True)
    with pytest.raises(Exception) as info:  # noqa: PT011 (LiteLLM may wrap it, see below)
        list(stream)
    err = info.value
    # LiteLLM re-raises a stream's 5xx as it is (1.80) or inside MidStreamFallbackError (later)
    original = getattr(err, "original_exception", None) or err
    assert isinstance(original, litellm.exceptions.APIError | litellm.InternalServerError)
    assert response_info(err).log_id == LOG_ID
