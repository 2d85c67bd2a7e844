from __future__ import annotations

import pytest
from cf_ai_gateway import (
    NO_RETRY,
    BadRequestError,
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    GuardrailsUnavailableError,
    ProviderError,
    RateLimitError,
    RetryPolicy,
    StreamInterruptedError,
)


def test_exponential_delays_without_jitter() -> None:
    policy = RetryPolicy(max_retries=4, initial_delay=0.5, max_delay=1.5, jitter=0)
    err = ProviderError("x", retryable=True)
    assert [policy.delay_for(n, err) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 1.5, 1.5, None]


def test_jitter_only_shortens() -> None:
    policy = RetryPolicy(initial_delay=1.0, jitter=0.25)
    delays = [policy.delay_for(1, GatewayConnectionError("x")) for _ in range(200)]
    assert all(d is not None and 0.75 <= d <= 1.0 for d in delays)


def test_not_retryable_gives_up() -> None:
    policy = RetryPolicy()
    assert policy.delay_for(1, BadRequestError("x")) is None
    assert policy.delay_for(1, StreamInterruptedError("x")) is None
    assert NO_RETRY.delay_for(1, GatewayConnectionError("x")) is None


def test_retry_after() -> None:
    policy = RetryPolicy(max_retry_after=10)
    assert policy.delay_for(1, RateLimitError("x", retry_after=4)) == 4.0
    assert policy.delay_for(1, RateLimitError("x", retry_after=11)) is None
    assert policy.delay_for(1, RateLimitError("x", retry_after=0)) == 0.0


@pytest.mark.parametrize(
    "error",
    [
        ProviderError("x", status_code=503, retryable=True, retry_after=4),
        GatewayTimeoutError("x", status_code=504, retry_after=4),
        GuardrailsUnavailableError("x", status_code=503, retry_after=4),
    ],
)
def test_retry_after_of_any_retryable_error(error: GatewayError) -> None:
    policy = RetryPolicy(max_retry_after=10, jitter=0)
    assert policy.delay_for(1, error) == 4.0
    error.retry_after = 10.5
    assert policy.delay_for(1, error) is None  # over the cap: not waited for
    error.retry_after = 10
    assert policy.delay_for(1, error) == 10.0  # the cap itself is waited


def test_retry_after_does_not_make_an_error_retryable() -> None:
    policy = RetryPolicy()
    assert policy.delay_for(1, BadRequestError("x", retry_after=1)) is None
    assert policy.delay_for(3, ProviderError("x", retryable=True, retry_after=1)) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"initial_delay": -0.1},
        {"max_delay": "1"},
        {"max_retry_after": -1},
        {"jitter": 1.5},
        {"jitter": -0.1},
    ],
)
def test_policy_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
