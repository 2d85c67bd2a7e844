"""Retries you can see and budget: each retry is an INFO line on the ``cf_ai_gateway`` logger
(the attempt, the reason, the delay and where it came from, the log id; never a secret), and
the attempts made are on the response info and on the final error."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from _cf_core_helpers import COMPLETION, PROVIDER_KEY, TOKEN, Api, Recorder, ok_json
from cf_ai_gateway import (
    BadRequestError,
    GatewayOptions,
    ProviderError,
    RateLimitError,
    RetryPolicy,
)

BODY: dict[str, Any] = {
    "model": "openai/gpt-4o-mini",
    "messages": [{"role": "user", "content": "Hi"}],
}


def failure(status: int, log_id: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"error": {"message": f"busy {PROVIDER_KEY}", "type": "server_error"}},
        headers={"cf-aig-log-id": log_id, **headers},
    )


def retry_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "cf_ai_gateway" and r.levelno == logging.INFO and hasattr(r, "cf_aig_delay")
    ]


async def test_each_retry_is_an_info_line_with_attempt_reason_delay_and_log_id(
    make_api: Any, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cf_ai_gateway")
    recorder.add(
        failure(503, "log-a"),
        failure(429, "log-b", **{"retry-after": "2"}),
        ok_json(COMPLETION, {"cf-aig-log-id": "log-c"}),
    )
    api: Api = make_api(api_key=PROVIDER_KEY)
    result = await api("chat_completions", BODY)
    assert result.info.attempts == 3
    assert api.sleeps == [0.5, 2.0]
    first, second = retry_records(caplog)
    assert (first.cf_aig_attempt, first.cf_aig_delay, first.cf_aig_log_id) == (1, 0.5, "log-a")  # type: ignore[attr-defined]
    assert first.cf_aig_reason == "HTTP 503 ProviderError"  # type: ignore[attr-defined]
    assert "attempt 1 of 3 failed (HTTP 503 ProviderError, log id log-a)" in first.getMessage()
    assert "retrying in 0.50 s (backoff)" in first.getMessage()
    # a retry that sleeps on Retry-After says so
    assert "retrying in 2.00 s (the server's Retry-After)" in second.getMessage()
    assert second.cf_aig_log_id == "log-b"  # type: ignore[attr-defined]
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert PROVIDER_KEY not in everything
    assert TOKEN not in everything


async def test_the_final_error_carries_the_attempts(
    make_api: Any, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cf_ai_gateway")
    recorder.add(failure(503, "l1"), failure(503, "l2"), failure(503, "l3"))
    api: Api = make_api(api_key=PROVIDER_KEY)
    with pytest.raises(ProviderError) as info:
        await api("chat_completions", BODY)
    assert info.value.attempts == 3
    assert info.value.info.attempts == 3
    assert "after 3 attempts" in str(info.value)
    assert "giving up after 3 attempts" in caplog.text
    assert PROVIDER_KEY not in caplog.text


async def test_a_single_attempt_is_one(make_api: Any, recorder: Recorder) -> None:
    recorder.add(failure(400, "l1"))
    api: Api = make_api(api_key=PROVIDER_KEY)
    with pytest.raises(BadRequestError) as info:
        await api("chat_completions", BODY)
    assert info.value.attempts == 1
    assert "attempts" not in str(info.value)


async def test_streams_report_their_attempts(make_api: Any, recorder: Recorder) -> None:
    recorder.add(
        failure(502, "l1"),
        httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=b"data: [DONE]\n\n"
        ),
    )
    api: Api = make_api(api_key=PROVIDER_KEY)
    stream = await api("stream_chat_completions", BODY)
    assert stream.info.attempts == 2
    await api.collect(stream)


async def test_the_log_line_says_the_gateway_retries_too(
    make_api: Any, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """Client retries and gateway retries multiply: the line says so when both are on."""
    caplog.set_level(logging.INFO, logger="cf_ai_gateway")
    recorder.add(failure(503, "l1"), ok_json(COMPLETION))
    api: Api = make_api(api_key=PROVIDER_KEY, retry=RetryPolicy(max_retries=1, jitter=0))
    await api("chat_completions", BODY, options=GatewayOptions(max_attempts=3))
    (record,) = retry_records(caplog)
    assert "attempt 1 of 2 failed" in record.getMessage()
    assert "up to 3 upstream attempts at the gateway (cf-aig-max-attempts)" in record.getMessage()


async def test_transport_failures_name_the_exception(
    make_api: Any, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cf_ai_gateway")
    recorder.add(httpx.ConnectError("refused"), ok_json(COMPLETION))
    api: Api = make_api(api_key=PROVIDER_KEY)
    result = await api("chat_completions", BODY)
    assert result.info.attempts == 2
    (record,) = retry_records(caplog)
    assert record.cf_aig_reason == "ConnectError"  # type: ignore[attr-defined]
    assert "log id none" in record.getMessage()


async def test_rate_limit_retry_after_beyond_the_cap_is_not_slept(
    make_api: Any, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cf_ai_gateway")
    recorder.add(failure(429, "l1", **{"retry-after": "3600"}))
    api: Api = make_api(api_key=PROVIDER_KEY)
    with pytest.raises(RateLimitError) as info:
        await api("chat_completions", BODY)
    assert api.sleeps == []
    assert "Retry after 3600 s" in str(info.value)
    assert retry_records(caplog) == []
