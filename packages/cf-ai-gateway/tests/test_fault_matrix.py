"""The fault matrix: what the server does (a scripted raw HTTP server on 127.0.0.1, real
connection pools) x sync/async x a call/a stream. Every case asserts the error type (nothing
but ``GatewayError``), the requests the server saw (the retries), an elapsed-time bound, and
that the client's pool holds no active connection afterwards (no leak)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from _cf_core_helpers import COMPLETION, delta
from cf_ai_gateway import (
    AsyncGatewayClient,
    Gateway,
    GatewayClient,
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    InvalidResponseError,
    ProviderError,
    RateLimitError,
    ResponseTooLargeError,
    RetryPolicy,
    StreamInterruptedError,
)
from cf_ai_gateway.testing import active_connections
from cf_ai_gateway_emulator.rawserver import (
    ENDED_BY,
    FAULTS,
    Close,
    Hang,
    RawServer,
    Reply,
    Send,
    chunk,
    drip,
    fault,
    head,
    outcome,
    reply,
    sse_reply,
)
from pytest_socket import enable_socket

pytestmark = pytest.mark.local_sockets

BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
POLICY = RetryPolicy(max_retries=2, initial_delay=0.02, max_delay=0.02, jitter=0)
FINISHED = {**delta("lo"), "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
CHUNKS: list[Any] = [delta("Hel"), delta("lo"), FINISHED]
SSE_HEAD = head(200, {"content-type": "text/event-stream", "transfer-encoding": "chunked"})
ODD_HEADERS = {
    "cf-aig-step": "²",  # str.isdigit() says yes, int() says no
    "cf-aig-dlp": "[" * 5000 + "]" * 5000,
    "retry-after": "1e400",
    "cf-aig-log-id": "é" * 50,
}
PADDED = json.dumps({"choices": [], "pad": "x" * 60_000}).encode()
FIRST_EVENT = chunk(f"data: {json.dumps(delta('Hel'))}\n\n".encode())


@pytest.fixture(scope="module")
def server() -> Iterator[RawServer]:
    enable_socket()
    with RawServer(hang_limit=10) as raw:
        yield raw


def ok(stream: bool) -> Reply:
    return sse_reply(CHUNKS) if stream else reply(200, COMPLETION)


@dataclass(frozen=True)
class Case:
    id: str
    replies: Callable[[bool], list[Reply]]
    error: type[GatewayError] | None
    requests: int
    seconds: float
    kinds: tuple[str, ...] = ("call", "stream")
    client: dict[str, Any] = field(default_factory=dict)


def _same(*replies: Reply) -> Callable[[bool], list[Reply]]:
    return lambda stream: list(replies)


CASES = [
    Case("ok", lambda s: [ok(s)], None, 1, 1.0),
    Case("503 then ok", lambda s: [reply(503, {"error": "busy"}), ok(s)], None, 2, 1.0),
    Case("503 every time", _same(reply(503, {"error": "busy"})), ProviderError, 3, 1.0),
    Case(
        "429 asking 5 s with a 1 s deadline: not waited",
        _same(reply(429, {"error": "slow down"}, {"retry-after": "5"})),
        RateLimitError,
        1,
        0.8,
        client={"deadline": 1.0},
    ),
    Case(
        "error body cut mid-way",
        _same(Reply((Send(head(500, {"content-length": "1000"}) + b'{"error": {"mes'), Close()))),
        ProviderError,
        3,
        1.0,
    ),
    Case(
        "100 MB error page: read up to an excerpt",
        _same(
            Reply(
                (
                    Send(head(500, {"content-type": "text/html", "content-length": "104857600"})),
                    Send(b"<html>" + b"x" * (2 * 1024 * 1024)),
                    Hang(),
                )
            )
        ),
        ProviderError,
        3,
        3.0,
    ),
    Case(
        "224 KB page of <title> (was quadratic: 46 s per attempt)",
        _same(reply(502, b"<title>" * 32_000, content_type="text/html")),
        ProviderError,
        3,
        1.5,
    ),
    Case("closed without an answer", _same(Reply((Close(),))), GatewayConnectionError, 3, 1.0),
    Case("reset (RST)", _same(Reply((Close(reset=True),))), GatewayConnectionError, 3, 1.0),
    Case(
        "no answer at all: timeout per attempt",
        _same(Reply((Hang(),))),
        GatewayTimeoutError,
        2,
        2.0,
        client={"timeout": 0.3, "retry": RetryPolicy(max_retries=1, initial_delay=0.02)},
    ),
    Case(
        "headers the client cannot parse",
        lambda s: [
            sse_reply(CHUNKS, headers=ODD_HEADERS) if s else reply(200, COMPLETION, ODD_HEADERS)
        ],
        None,
        1,
        1.0,
    ),
    Case(
        "2xx body that is not JSON",
        _same(reply(200, b"<html>a proxy</html>", content_type="text/html")),
        InvalidResponseError,
        1,
        1.0,
    ),
    Case(
        "2xx body nested 100,000 levels deep",
        lambda s: [
            sse_reply(["[" * 100_000 + "]" * 100_000])
            if s
            else reply(200, "[" * 100_000 + "]" * 100_000)
        ],
        InvalidResponseError,
        1,
        1.0,
    ),
    Case(
        "a 200 MB answer (declared)",
        _same(Reply((Send(head(200, {"content-length": str(200 * 1024 * 1024)})), Hang()))),
        ResponseTooLargeError,
        1,
        1.0,
        kinds=("call",),
    ),
    Case(
        "an answer over max_response_bytes (chunked, undeclared)",
        lambda s: [
            Reply(
                (
                    Send(
                        head(
                            200,
                            {
                                "content-type": "text/event-stream" if s else "application/json",
                                "transfer-encoding": "chunked",
                            },
                        )
                    ),
                    *(Send(chunk(b"data: " + PADDED + b"\n\n")) for _ in range(40)),
                    Hang(),
                )
            )
        ],
        ResponseTooLargeError,
        1,
        1.5,
        client={"max_response_bytes": 1024 * 1024, "max_event_bytes": 100_000},
    ),
    Case(
        "one SSE line over max_event_bytes",
        _same(Reply((Send(SSE_HEAD), Send(chunk(b"data: " + b"x" * 300_000)), Hang()))),
        ResponseTooLargeError,
        1,
        1.0,
        kinds=("stream",),
        client={"max_event_bytes": 64 * 1024},
    ),
    Case(
        "stream ends without [DONE] or finish_reason",
        _same(sse_reply([delta("Hel")], done=False)),
        StreamInterruptedError,
        1,
        1.0,
        kinds=("stream",),
    ),
    Case(
        "an event that is not a JSON object",
        _same(sse_reply(["42"])),
        InvalidResponseError,
        1,
        1.0,
        kinds=("stream",),
    ),
    Case(
        "connection cut mid-stream",
        _same(Reply((Send(SSE_HEAD + FIRST_EVENT), Close()))),
        StreamInterruptedError,
        1,
        1.0,
        kinds=("stream",),
    ),
    Case(
        "2xx body cut mid-way (retried: nothing was shown)",
        _same(Reply((Send(head(200, {"content-length": "1000"}) + b'{"id": "x'), Close()))),
        GatewayConnectionError,
        3,
        1.0,
        kinds=("call",),
    ),
    Case(
        "stream stalls after a chunk",
        _same(Reply((Send(SSE_HEAD + FIRST_EVENT), Hang()))),
        GatewayTimeoutError,
        1,
        1.5,
        kinds=("stream",),
        client={"timeout": 0.3},
    ),
    Case(
        "body dripped (a byte, an event every 50 ms), deadline 0.6 s",
        lambda s: [
            sse_reply([delta("x")] * 200, every=0.05)
            if s
            else Reply((Send(head(200, {"content-length": "400"})), *drip(b"x" * 400, 0.05).steps))
        ],
        GatewayTimeoutError,
        1,
        1.2,
        client={"deadline": 0.6},
    ),
    Case(
        "headers dripped a byte every 50 ms, deadline 0.6 s",
        lambda s: [drip(SSE_HEAD if s else head(200, {"content-length": "2"}) + b"{}", 0.05)],
        GatewayTimeoutError,
        1,
        1.2,
        client={"deadline": 0.6},
    ),
]


async def run_case(
    server: RawServer, case: Case, mode: str, kind: str
) -> tuple[Any, GatewayError | None, float, int]:
    server.script(*case.replies(kind == "stream"))
    gateway = Gateway.from_url(f"{server.url}/v1/acc/gw")
    kwargs: dict[str, Any] = {"retry": POLICY, "timeout": 5.0, **case.client}
    result: Any = None
    error: GatewayError | None = None
    started = time.monotonic()
    if mode == "sync":
        client = GatewayClient(gateway, api_key="sk-test-key-0001", **kwargs)
        try:
            if kind == "call":
                result = client.chat_completions(BODY)
            else:
                result = list(client.stream_chat_completions(BODY))
        except GatewayError as exc:
            error = exc
        elapsed = time.monotonic() - started
        active = active_connections(client)
        client.close()
    else:
        aclient = AsyncGatewayClient(gateway, api_key="sk-test-key-0001", **kwargs)
        try:
            if kind == "call":
                result = await aclient.chat_completions(BODY)
            else:
                result = [c async for c in await aclient.stream_chat_completions(BODY)]
        except GatewayError as exc:
            error = exc
        elapsed = time.monotonic() - started
        active = active_connections(aclient)
        await aclient.aclose()
    return result, error, elapsed, active


MATRIX = [
    pytest.param(case, mode, kind, id=f"{case.id} [{mode}, {kind}]")
    for case in CASES
    for mode in ("sync", "async")
    for kind in case.kinds
]


@pytest.mark.parametrize(("case", "mode", "kind"), MATRIX)
async def test_fault_matrix(server: RawServer, case: Case, mode: str, kind: str) -> None:
    result, error, elapsed, active = await run_case(server, case, mode, kind)
    if case.error is None:
        assert error is None, f"unexpected {error!r}"
        assert result
    else:
        assert isinstance(error, case.error), f"expected {case.error.__name__}, got {error!r}"
    assert server.requests == case.requests
    assert elapsed < case.seconds, f"took {elapsed:.2f} s"
    assert active == 0, "a connection was left open"


def test_every_case_runs_on_both_clients() -> None:
    ids = {p.id for p in MATRIX}
    for case in CASES:
        for kind in case.kinds:
            assert f"{case.id} [sync, {kind}]" in ids
            assert f"{case.id} [async, {kind}]" in ids


ONE_RETRY = RetryPolicy(max_retries=1, initial_delay=0.02, max_delay=0.02, jitter=0)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", ["call", "stream"])
@pytest.mark.parametrize("name", list(FAULTS))
async def test_every_named_fault_has_its_outcome(
    server: RawServer, name: str, kind: str, mode: str
) -> None:
    """``rawserver.outcome``, which the adapters' matrices check their frameworks against, is
    what the core's clients do."""
    expected = outcome(name, stream=kind == "stream")
    case = Case(
        name,
        lambda s: [fault(name, stream=s)],
        expected.error,
        expected.requests,
        3.0,
        client={"retry": ONE_RETRY, **ENDED_BY.get(name, {})},
    )
    result, error, elapsed, active = await run_case(server, case, mode, kind)
    if expected.error is None:
        assert error is None, f"unexpected {error!r}"
        assert result
    else:
        assert type(error) is expected.error, f"expected {expected.error.__name__}, got {error!r}"
    assert server.requests == expected.requests
    assert elapsed < case.seconds, f"took {elapsed:.2f} s"
    assert active == 0, "a connection was left open"


# --- beyond the matrix ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_failure_after_the_headers_still_closes_the_stream(
    server: RawServer, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anything that fails between the headers and the stream object (here: reading the
    headers, made to raise) closes the response: the issue's leak, a pool timeout for every
    call once as many streams as the pool has connections had failed."""
    import cf_ai_gateway.client

    def broken(response: Any) -> Any:
        raise RuntimeError("a header reader bug")

    monkeypatch.setattr(cf_ai_gateway.client, "_stream_info", broken)
    server.script(ok(True))
    gateway = Gateway.from_url(f"{server.url}/v1/acc/gw")
    if mode == "sync":
        client = GatewayClient(gateway, retry=POLICY)
        for _ in range(3):
            with pytest.raises(RuntimeError):
                client.stream_chat_completions(BODY)
        assert active_connections(client) == 0
        client.close()
    else:
        aclient = AsyncGatewayClient(gateway, retry=POLICY)
        for _ in range(3):
            with pytest.raises(RuntimeError):
                await aclient.stream_chat_completions(BODY)
        assert active_connections(aclient) == 0
        await aclient.aclose()


STREAM_FAILURES = [case for case in CASES if "stream" in case.kinds and case.error is not None]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_pool_outlives_more_failures_than_it_has_connections(
    server: RawServer, mode: str
) -> None:
    """Two connections, every failing stream case twice, then a normal call: it answers at
    once (a leaked connection per failure would leave it waiting for a free one)."""
    import httpx

    gateway = Gateway.from_url(f"{server.url}/v1/acc/gw")
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    timeout = httpx.Timeout(2.0, pool=1.0)
    sequence = [r for case in STREAM_FAILURES if not case.client for r in case.replies(True)]
    replies = [r for r in sequence for _ in range(2)]
    if mode == "sync":
        client = GatewayClient(
            gateway,
            retry=RetryPolicy(max_retries=0),
            http_client=httpx.Client(limits=limits, timeout=timeout),
            timeout=timeout,
        )
        for scripted in replies:
            server.script(scripted)
            with pytest.raises(GatewayError):
                list(client.stream_chat_completions(BODY))
        server.script(ok(False))
        started = time.monotonic()
        assert client.chat_completions(BODY).data == COMPLETION
        assert time.monotonic() - started < 0.5
        client._http.close()
    else:
        aclient = AsyncGatewayClient(
            gateway,
            retry=RetryPolicy(max_retries=0),
            http_client=httpx.AsyncClient(limits=limits, timeout=timeout),
            timeout=timeout,
        )
        for scripted in replies:
            server.script(scripted)
            with pytest.raises(GatewayError):
                [c async for c in await aclient.stream_chat_completions(BODY)]
        server.script(ok(False))
        started = time.monotonic()
        assert (await aclient.chat_completions(BODY)).data == COMPLETION
        assert time.monotonic() - started < 0.5
        await aclient._http.aclose()


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_kept_alive_connection_the_server_dropped_is_retried(
    server: RawServer, mode: str
) -> None:
    """The keep-alive race: the server closes a pooled connection just as the client reuses
    it (nothing reached the server's application): a connection error, retried on a new
    connection by the default policy."""
    server.script(reply(200, COMPLETION), Reply((Close(),)), reply(200, COMPLETION))
    gateway = Gateway.from_url(f"{server.url}/v1/acc/gw")
    if mode == "sync":
        with GatewayClient(gateway, retry=POLICY) as client:
            client.chat_completions(BODY)
            result = client.chat_completions(BODY)
    else:
        async with AsyncGatewayClient(gateway, retry=POLICY) as aclient:
            await aclient.chat_completions(BODY)
            result = await aclient.chat_completions(BODY)
    assert result.info.attempts == 2
    assert server.requests == 3
    assert server.connections >= 2


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_leaving_a_stream_early_releases_its_connection(server: RawServer, mode: str) -> None:
    server.script(sse_reply([delta("x")] * 50, every=0.01))
    gateway = Gateway.from_url(f"{server.url}/v1/acc/gw")
    if mode == "sync":
        with GatewayClient(gateway, retry=POLICY) as client:
            for _ in client.stream_chat_completions(BODY):
                break
            assert active_connections(client) == 0
            with client.stream_chat_completions(BODY):
                pass
            assert active_connections(client) == 0
    else:
        async with AsyncGatewayClient(gateway, retry=POLICY) as aclient:
            async with await aclient.stream_chat_completions(BODY) as stream:
                async for _ in stream:
                    break
            assert active_connections(aclient) == 0
