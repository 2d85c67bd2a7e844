"""The one retry flow: the generator on its own, the contract both clients' drivers keep with it,
each server retry signal through both clients, and the cause chain of translated errors."""

from __future__ import annotations

import json
import traceback
from collections.abc import Generator, Sequence
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import cf_ai_gateway
import cf_ai_gateway._retry_flow
import httpx
import pytest
from _cf_core_helpers import (
    CHAT_BODY,
    COMPLETION,
    PROVIDER_KEY,
    TOKEN,
    Api,
    CutStream,
    Recorder,
    delta,
    ok_json,
    sse,
)
from cf_ai_gateway import (
    BadRequestError,
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    InvalidResponseError,
    ProviderError,
    RateLimitError,
    RetryPolicy,
    StreamInterruptedError,
)
from cf_ai_gateway._requests import PreparedRequest
from cf_ai_gateway._retry_flow import SEND, Outcome, Send, Sleep, retry_flow

REQ = PreparedRequest(
    "POST",
    "https://gateway.ai.cloudflare.com/v1/acc/gw/compat/chat/completions",
    {"cf-aig-authorization": f"Bearer {TOKEN}", "authorization": f"Bearer {PROVIDER_KEY}"},
    CHAT_BODY,
    (TOKEN, PROVIDER_KEY),
)
POLICY = RetryPolicy(max_retries=2, jitter=0)


def http_date(seconds_from_now: float) -> str:
    return format_datetime(
        datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now), usegmt=True
    )


def failed(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": f"HTTP {status}"}}, headers=headers)


def run(
    outcomes: Sequence[Outcome], policy: RetryPolicy = POLICY
) -> tuple[list[Send | Sleep], GatewayError | None]:
    """A test driver: answers each SEND with the next outcome; when they run out the last
    attempt succeeded (a 2xx never reaches the flow). Returns the steps and the raised error."""
    flow = retry_flow(REQ, policy)
    pending = list(outcomes)
    steps: list[Send | Sleep] = []
    answer: Outcome | None = None
    try:
        while True:
            step = flow.send(answer)
            steps.append(step)
            if isinstance(step, Sleep):
                answer = None
            elif pending:
                answer = pending.pop(0)
            else:
                return steps, None
    except GatewayError as err:
        return steps, err


# --- the flow on its own ---------------------------------------------------------------------


def test_backoff_then_give_up_with_the_last_error() -> None:
    steps, err = run([failed(500), failed(502), failed(503)])
    assert steps == [SEND, Sleep(0.5), SEND, Sleep(1.0), SEND]
    assert type(err) is ProviderError
    assert err.status_code == 503


def test_success_ends_the_flow_at_the_driver() -> None:
    steps, err = run([failed(503)])
    assert steps == [SEND, Sleep(0.5), SEND]
    assert err is None


def test_first_step_is_send_and_a_non_retryable_error_is_raised_at_once() -> None:
    steps, err = run([failed(400)])
    assert steps == [SEND]
    assert type(err) is BadRequestError


@pytest.mark.parametrize(
    ("status", "headers", "delay"),
    [
        (503, {"retry-after-ms": "1500"}, 1.5),
        (503, {"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        (502, {"Retry-After": "2"}, 2.0),
        (500, {"retry-after": "0"}, 0.0),
        (504, {"retry-after": "3"}, 3.0),
        (408, {"retry-after-ms": "100"}, 0.1),
        (409, {"retry-after": "1.5"}, 1.5),
        (529, {"retry-after": "4"}, 4.0),
        (429, {"retry-after-ms": "250"}, 0.25),
        (503, {"retry-after": "60"}, 60.0),  # the default cap itself is waited
    ],
)
def test_server_delay_for_every_retryable_status(
    status: int, headers: dict[str, str], delay: float
) -> None:
    steps, err = run([failed(status, headers)])
    assert steps == [SEND, Sleep(delay), SEND]
    assert err is None


def test_retry_after_http_date_on_503() -> None:
    steps, _ = run([failed(503, {"retry-after": http_date(30)})])
    assert isinstance(steps[1], Sleep)
    assert 25 <= steps[1].seconds <= 31


@pytest.mark.parametrize(
    "headers",
    [{"retry-after": "61"}, {"retry-after-ms": "60001"}, {"retry-after": http_date(600)}],
)
def test_a_delay_over_the_cap_is_not_waited_for(headers: dict[str, str]) -> None:
    steps, err = run([failed(503, headers)], RetryPolicy())  # max_retry_after=60
    assert steps == [SEND]
    assert err is not None
    assert err.retryable is True
    assert err.retry_after is not None
    assert err.retry_after > 60


def test_x_should_retry_false_on_503_stops() -> None:
    steps, err = run([failed(503, {"x-should-retry": "false"})])
    assert steps == [SEND]
    assert type(err) is ProviderError
    assert err.retryable is False


def test_x_should_retry_true_on_400_retries() -> None:
    steps, err = run([failed(400, {"x-should-retry": "true"})])
    assert steps == [SEND, Sleep(0.5), SEND]
    assert err is None


def test_x_should_retry_true_still_counts_retries_and_honours_the_cap() -> None:
    steps, err = run([failed(400, {"x-should-retry": "true"})] * 3)
    assert steps == [SEND, Sleep(0.5), SEND, Sleep(1.0), SEND]
    assert type(err) is BadRequestError
    steps, err = run([failed(400, {"x-should-retry": "true", "retry-after": "600"})])
    assert steps == [SEND]
    assert type(err) is BadRequestError


def test_x_should_retry_true_with_its_own_delay() -> None:
    steps, _ = run([failed(401, {"x-should-retry": "true", "retry-after-ms": "20"})])
    assert steps == [SEND, Sleep(0.02), SEND]


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx.ConnectError("connection refused"), GatewayConnectionError),
        (httpx.RemoteProtocolError("peer closed connection"), GatewayConnectionError),
        (httpx.ReadTimeout("timed out"), GatewayTimeoutError),
        (httpx.PoolTimeout("no connection"), GatewayTimeoutError),
    ],
)
def test_transport_errors_keep_their_cause(exc: httpx.HTTPError, cls: type[GatewayError]) -> None:
    steps, err = run([exc, exc, exc])
    assert steps == [SEND, Sleep(0.5), SEND, Sleep(1.0), SEND]
    assert type(err) is cls
    # a copy of the httpx exception, detached from its request (whose headers hold credentials)
    assert type(err.__cause__) is type(exc)
    assert str(err.__cause__) == str(exc)
    assert err.__cause__.__traceback__ is exc.__traceback__


def test_answering_none_after_send_is_a_driver_bug() -> None:
    flow = retry_flow(REQ, POLICY)
    assert next(flow) == SEND
    with pytest.raises(RuntimeError, match="driver bug"):
        flow.send(None)


# --- one flow, two drivers -------------------------------------------------------------------


async def test_both_clients_do_only_what_the_flow_says(
    make_api: Any, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[Outcome | None] = []

    def scripted(
        req: PreparedRequest, policy: RetryPolicy, deadline: Any
    ) -> Generator[Send | Sleep, Outcome | None, None]:
        assert policy.max_retries == 0  # the client's policy is handed over, not applied
        for step in (Sleep(0.25), SEND, Sleep(0.5), SEND, SEND):
            answers.append((yield step))
        raise AssertionError("the third attempt succeeded: the driver must not come back")

    monkeypatch.setattr(cf_ai_gateway._retry_flow, "retry_flow", scripted)
    api = make_api(api_key=PROVIDER_KEY, retry=RetryPolicy(max_retries=0))
    recorder.add(
        httpx.Response(503, text="busy"), httpx.ConnectError("refused"), ok_json(COMPLETION)
    )
    result = await api("chat_completions", CHAT_BODY)
    assert result.data == COMPLETION
    assert api.sleeps == [0.25, 0.5]
    assert len(recorder.requests) == 3
    assert answers[0] is None  # after a sleep
    failure = answers[1]
    assert isinstance(failure, httpx.Response)
    assert (failure.status_code, failure.content, failure.is_closed) == (503, b"busy", True)
    assert answers[2] is None
    assert isinstance(answers[3], httpx.ConnectError)
    assert len(answers) == 4


async def test_the_flows_error_propagates_unchanged(
    make_api: Any, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    sentinel = RateLimitError("from the flow", retry_after=1)

    def scripted(
        req: PreparedRequest, policy: RetryPolicy, deadline: Any
    ) -> Generator[Send | Sleep, Outcome | None, None]:
        yield SEND
        raise sentinel

    monkeypatch.setattr(cf_ai_gateway._retry_flow, "retry_flow", scripted)
    api = make_api(api_key=PROVIDER_KEY)
    recorder.add(httpx.Response(500))
    with pytest.raises(RateLimitError) as exc_info:
        await api("chat_completions", CHAT_BODY)
    assert exc_info.value is sentinel


def test_the_retry_loop_exists_once() -> None:
    """One sync and one async driver run the flow; the clients only call them, and no client
    computes a delay itself."""
    package = Path(cf_ai_gateway.__file__).parent
    drivers = (package / "_retry_flow.py").read_text()
    assert drivers.count("retry_flow(req, policy, deadline)") == 2
    for name in ("client.py", "management.py"):
        source = (package / name).read_text()
        assert "retry_flow(" not in source, name
        assert "delay_for" not in source, name
        assert source.count("send_with_retries(") == 2, name  # the sync and the async driver


# --- each server signal, through both clients ------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "sleep"),
    [
        (503, {"retry-after-ms": "1500"}, 1.5),
        (502, {"Retry-After": "2"}, 2.0),
        (500, {"retry-after": "0"}, 0.0),
        (504, {"retry-after-ms": "250"}, 0.25),
        (429, {"retry-after-ms": "100", "retry-after": "7"}, 0.1),
        (503, {}, 0.5),  # no signal: the policy's backoff
    ],
)
async def test_server_delay_through_the_clients(
    api: Api, recorder: Recorder, status: int, headers: dict[str, str], sleep: float
) -> None:
    recorder.add(failed(status, headers), ok_json(COMPLETION))
    assert (await api("chat_completions", CHAT_BODY)).data == COMPLETION
    assert api.sleeps == [sleep]
    assert len(recorder.requests) == 2


async def test_retry_after_date_through_the_clients(api: Api, recorder: Recorder) -> None:
    recorder.add(failed(503, {"retry-after": http_date(20)}), ok_json(COMPLETION))
    await api("chat_completions", CHAT_BODY)
    assert len(api.sleeps) == 1
    assert 15 <= api.sleeps[0] <= 21


async def test_x_should_retry_false_on_503_stops_both_clients(api: Api, recorder: Recorder) -> None:
    recorder.add(failed(503, {"x-should-retry": "false", "retry-after": "1"}))
    with pytest.raises(ProviderError) as exc_info:
        await api("chat_completions", CHAT_BODY)
    assert exc_info.value.retryable is False
    assert exc_info.value.retry_after == 1.0
    assert len(recorder.requests) == 1
    assert api.sleeps == []


async def test_x_should_retry_true_on_400_retries_both_clients(
    api: Api, recorder: Recorder
) -> None:
    recorder.add(failed(400, {"x-should-retry": "true"}), ok_json(COMPLETION))
    assert (await api("chat_completions", CHAT_BODY)).data == COMPLETION
    assert len(recorder.requests) == 2
    assert api.sleeps == [0.5]


async def test_the_cap_raises_at_once_on_any_status(make_api: Any, recorder: Recorder) -> None:
    api = make_api(api_key=PROVIDER_KEY, retry=RetryPolicy(max_retry_after=10))
    recorder.add(failed(503, {"retry-after-ms": "10001"}))
    with pytest.raises(ProviderError) as exc_info:
        await api("chat_completions", CHAT_BODY)
    assert exc_info.value.retry_after == 10.001
    assert api.sleeps == []
    assert len(recorder.requests) == 1


async def test_stream_honours_the_signal_before_it_starts(api: Api, recorder: Recorder) -> None:
    recorder.add(failed(503, {"retry-after-ms": "300"}), sse(delta("ok")))
    stream = await api("stream_chat_completions", CHAT_BODY)
    assert [c["choices"][0]["delta"]["content"] for c in await api.collect(stream)] == ["ok"]
    assert api.sleeps == [0.3]


@pytest.mark.parametrize("method", ["chat_completions", "stream_chat_completions"])
async def test_a_cut_error_body_is_still_the_status_error(
    api: Api, recorder: Recorder, method: str
) -> None:
    # The drivers read a failed response's body themselves (an excerpt); when the connection
    # fails on the way the status already said what happened: a typed, retried 503, never a
    # bare httpx exception.
    recorder.add(httpx.Response(503, stream=CutStream(b'{"error": ')), sse(delta("ok")))
    if method == "chat_completions":
        recorder.responses[-1] = ok_json(COMPLETION)
        assert (await api(method, CHAT_BODY)).data == COMPLETION
    else:
        stream = await api(method, CHAT_BODY)
        assert [c["choices"][0]["delta"]["content"] for c in await api.collect(stream)] == ["ok"]
    assert api.sleeps == [0.5]
    recorder.add(*(httpx.Response(503, stream=CutStream(b"{")) for _ in range(3)))
    with pytest.raises(ProviderError) as exc_info:
        await api(method, CHAT_BODY)
    assert (exc_info.value.status_code, exc_info.value.attempts) == (503, 3)


# --- the cause chain -------------------------------------------------------------------------


def chain_text(err: BaseException) -> str:
    return "".join(traceback.format_exception(type(err), err, err.__traceback__))


async def test_transport_error_cause_chain_carries_no_secret(api: Api, recorder: Recorder) -> None:
    recorder.add(*(httpx.ConnectError("[Errno 111] Connection refused") for _ in range(3)))
    with pytest.raises(GatewayConnectionError) as exc_info:
        await api("chat_completions", CHAT_BODY)
    err = exc_info.value
    cause = err.__cause__
    assert isinstance(cause, httpx.ConnectError)
    assert "Connection refused" in str(err)
    # httpx attaches the request (credentials in its headers): the cause is a detached copy
    with pytest.raises(RuntimeError, match="request"):
        _ = cause.request
    assert cause.__cause__ is None
    assert cause.__context__ is None
    assert err.__context__ is None
    text = chain_text(err)
    assert "The above exception was the direct cause" in text
    for secret in (TOKEN, PROVIDER_KEY):
        assert secret not in text
        assert secret not in str(cause)


async def test_timeout_keeps_its_cause(make_api: Any, recorder: Recorder) -> None:
    api = make_api(api_key=PROVIDER_KEY, retry=RetryPolicy(max_retries=0))
    timeout = httpx.ReadTimeout("timed out")
    recorder.add(timeout)
    with pytest.raises(GatewayTimeoutError) as exc_info:
        await api("chat_completions", CHAT_BODY)
    cause = exc_info.value.__cause__
    assert type(cause) is httpx.ReadTimeout
    assert str(cause) == "timed out"


async def test_json_decode_error_is_the_cause(api: Api, recorder: Recorder) -> None:
    recorder.add(httpx.Response(200, text=f"<html>key {PROVIDER_KEY}</html>"))
    with pytest.raises(InvalidResponseError) as exc_info:
        await api("chat_completions", CHAT_BODY)
    assert isinstance(exc_info.value.__cause__, json.JSONDecodeError)
    assert PROVIDER_KEY not in chain_text(exc_info.value)


async def test_stream_errors_keep_their_cause(api: Api, recorder: Recorder) -> None:
    cut = httpx.ReadError("connection reset by peer")
    first = f"data: {json.dumps(delta('Hel'))}\n\n".encode()
    recorder.add(
        httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=CutStream(first, error=cut)
        ),
        sse("not json"),
    )
    stream = await api("stream_chat_completions", CHAT_BODY)
    with pytest.raises(StreamInterruptedError) as interrupted:
        await api.collect(stream)
    cause = interrupted.value.__cause__
    assert type(cause) is httpx.ReadError
    assert str(cause) == str(cut)
    assert interrupted.value.__context__ is None
    stream = await api("stream_chat_completions", CHAT_BODY)
    with pytest.raises(InvalidResponseError) as invalid:
        await api.collect(stream)
    assert isinstance(invalid.value.__cause__, json.JSONDecodeError)


def test_no_translation_drops_its_cause() -> None:
    source = Path(cf_ai_gateway.__file__).parent
    offenders = [p.name for p in source.glob("*.py") if "from None" in p.read_text()]
    assert offenders == []
