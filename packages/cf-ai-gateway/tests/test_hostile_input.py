"""Every parser of untrusted input, fuzzed: error bodies, response headers, SSE streams (alone
and through both clients), URLs, option values and credentials. Each property asserts that
only the documented exception types come out (what a server sends: nothing or a
``GatewayError``; what a caller passes: nothing or a ``ValueError`` subclass), and each parser
is shown linear on adversarial input: the time at 8x the size is compared with the time at 1x
(a ratio, never an absolute threshold; linear is 8, quadratic 64)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _cf_core_helpers import CHAT_BODY, CORE_SETTINGS, PROVIDER_KEY, Recorder
from cf_ai_gateway import (
    AsyncGatewayClient,
    ChatCall,
    CustomCost,
    Gateway,
    GatewayClient,
    GatewayError,
    GatewayOptions,
    GatewayResponseInfo,
    InvalidOptionError,
    RetryPolicy,
    parse_base_url,
    parse_gateway_url,
)
from cf_ai_gateway._credentials import check_credential, check_headers
from cf_ai_gateway._streams import ChunkParser, SSEReader
from cf_ai_gateway.chat import StreamAccumulator
from cf_ai_gateway.errors import (
    _html_title,
    error_from_response,
    parse_retry_after,
    redact,
)
from cf_ai_gateway.jsonsafe import JSONDepthError, json_depth, parse_json
from cf_ai_gateway.urls import display_url
from hypothesis import given, settings
from hypothesis import strategies as st

FUZZ = settings(CORE_SETTINGS, max_examples=150)
"""Bounded: every property here is a pure parser call or one call on a mock transport."""

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "error",
                    "message",
                    "code",
                    "type",
                    "choices",
                    "delta",
                    "content",
                    "errors",
                    "success",
                    "internalCode",
                    "finish_reason",
                    "usage",
                    "tool_calls",
                    "index",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)
header_names = st.sampled_from(
    [
        "cf-aig-step",
        "cf-aig-dlp",
        "cf-aig-cache-status",
        "cf-aig-log-id",
        "retry-after",
        "retry-after-ms",
        "x-should-retry",
        "content-type",
        "cf-aig-model",
        "cf-aig-event-id",
    ]
) | st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)
header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60
) | st.sampled_from(["²", "1e400", "inf", "nan", "-1", "99999999999999999999", "[[[[", "Sat, 99"])
headers = st.dictionaries(header_names, header_values, max_size=6)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.builds(lambda n: b"[" * n + b"]" * n, st.integers(0, 3000))
    | st.builds(lambda t: f"<html><title>{t}</title>".encode(), st.text(max_size=50))
)


# --- error bodies and response headers ---------------------------------------------------------


@FUZZ
@given(status=st.integers(100, 999), headers=headers, content=bodies)
def test_any_error_response_gives_a_gateway_error(
    status: int, headers: dict[str, str], content: bytes
) -> None:
    err = error_from_response(status, headers, content, secrets=(PROVIDER_KEY,))
    assert isinstance(err, GatewayError)
    str(err), repr(err)
    assert err.retry_after is None or 0 <= err.retry_after < float("inf")


@FUZZ
@given(headers=headers, status=st.none() | st.integers(100, 599))
def test_any_response_headers_give_an_info(headers: dict[str, str], status: int | None) -> None:
    info = GatewayResponseInfo.from_headers(headers, status_code=status)
    assert info.step is None or info.step >= 0
    info.to_dict()


@FUZZ
@given(value=st.none() | header_values | st.text(max_size=40))
def test_any_retry_after_is_absent_or_a_finite_wait(value: str | None) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or 0 <= seconds < float("inf")


# --- SSE streams --------------------------------------------------------------------------------

sse_lines = st.lists(
    st.sampled_from(
        ["data: ", "data:", "event: x", ": keep-alive", "id: 1", "retry: 9", ""]
    ).flatmap(lambda prefix: st.just(prefix) | json_values.map(lambda v: prefix + json.dumps(v)))
    | st.just("data: [DONE]")
    | st.text(max_size=40),
    max_size=12,
)


def split_points(data: bytes) -> st.SearchStrategy[list[bytes]]:
    return st.lists(st.integers(0, len(data)), max_size=5).map(
        lambda cuts: [
            data[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(data)], strict=True)
        ]
    )


@FUZZ
@given(
    lines=sse_lines,
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    data=st.data(),
    limit=st.sampled_from([16, 4096]),
)
def test_any_event_stream_gives_chunks_or_a_gateway_error(
    lines: list[str], newline: str, data: st.DataObject, limit: int
) -> None:
    raw = newline.join(lines).encode()
    pieces = data.draw(split_points(raw))
    info = GatewayResponseInfo(status_code=200)
    reader = SSEReader(info, max_event_bytes=limit, max_response_bytes=10 * limit)
    parser = ChunkParser(info, secrets=(PROVIDER_KEY,))
    accumulator = StreamAccumulator(ChatCall("openai/gpt-4o-mini", CHAT_BODY), info)
    try:
        events = [e for piece in pieces for e in reader.feed(piece)] + reader.close()
        for event in events:
            chunk = parser.event(event.data)
            if parser.done:
                break
            if chunk is not None:
                assert isinstance(chunk, dict)
                accumulator.add(chunk)
        parser.end()
    except GatewayError:
        pass
    accumulator.reply()


def reference_events(raw: bytes) -> list[tuple[str, str]]:
    """The events of a whole body, read as the SSE spec reads them (any of CRLF, CR, LF ends a
    line; an unterminated last line counts; a pending event is dispatched at the end)."""
    events: list[tuple[str, str]] = []
    event, data = "", []
    lines = re.split(rb"\r\n|\r|\n", raw)
    for line in [*lines[:-1], *([lines[-1]] if lines[-1] else []), b""]:
        text = line.decode("utf-8", "replace")
        if not text:
            if data or event:
                events.append((event or "message", "\n".join(data)))
            event, data = "", []
        elif not text.startswith(":"):
            name, _, value = text.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
    return events


@FUZZ
@given(
    lines=sse_lines,
    newlines=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1, max_size=3),
    data=st.data(),
)
def test_events_do_not_depend_on_how_the_body_is_cut(
    lines: list[str], newlines: list[str], data: st.DataObject
) -> None:
    # line ends mixed or not, LF-only pieces (the fast path) next to pieces with a CR in them
    raw = "".join(line + newlines[i % len(newlines)] for i, line in enumerate(lines)).encode()
    pieces = data.draw(split_points(raw))
    reader = SSEReader(GatewayResponseInfo(), max_event_bytes=10**9, max_response_bytes=10**9)
    events = [e for piece in pieces for e in reader.feed(piece)] + reader.close()
    assert [(e.event, e.data) for e in events] == reference_events(raw)


@pytest.mark.parametrize(
    "pieces",
    [
        [b"data: a\r", b"", b"\ndata: b\n\n"],  # an empty read between the CR and its LF
        [b"data: a\r", b"\n", b"\ndata: b\n\n"],
        [b"data: a\r", b"\r\n", b"data: b\n\n"],
    ],
)
def test_a_crlf_split_across_reads_is_one_line_end(pieces: list[bytes]) -> None:
    reader = SSEReader(GatewayResponseInfo())
    events = [e for piece in pieces for e in reader.feed(piece)] + reader.close()
    assert [(e.event, e.data) for e in events] == reference_events(b"".join(pieces))


CALL = ChatCall("openai/gpt-4o-mini", CHAT_BODY)
streamed_bodies = bodies | sse_lines.map(lambda lines: "\n\n".join(lines).encode())


def call_through(mode: str, method: str, responses: list[httpx.Response]) -> list[Any]:
    """``method`` on a fresh sync or async client whose transport answers ``responses``;
    what a stream yielded, or the result; a ``GatewayError`` propagates."""
    recorder = Recorder().add(*responses)
    gateway = Gateway(account_id="acc", gateway_id="gw")
    policy = RetryPolicy(max_retries=len(responses) - 1, jitter=0, initial_delay=0)
    if mode == "sync":
        with GatewayClient(
            gateway,
            api_key=PROVIDER_KEY,
            retry=policy,
            http_client=httpx.Client(transport=httpx.MockTransport(recorder)),
        ) as client:
            if method == "stream":
                return list(client.stream_chat_completions(CHAT_BODY))
            if method == "chat":  # the adapter kit: ChatReply over the answer
                return [client.chat(CALL).content]
            if method == "stream_chat":  # the adapter kit: ChatDelta objects, then the reply
                with client.stream_chat(CALL) as stream:
                    return [*stream, stream.reply()]
            return [client.chat_completions(CHAT_BODY)]

    async def run() -> list[Any]:
        async with AsyncGatewayClient(
            gateway,
            api_key=PROVIDER_KEY,
            retry=policy,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(recorder)),
        ) as client:
            if method == "stream":
                return [c async for c in await client.stream_chat_completions(CHAT_BODY)]
            if method == "chat":
                return [(await client.chat(CALL)).content]
            if method == "stream_chat":
                async with await client.stream_chat(CALL) as stream:
                    return [*[d async for d in stream], stream.reply()]
            return [await client.chat_completions(CHAT_BODY)]

    return asyncio.run(run())


@FUZZ
@given(
    body=streamed_bodies,
    event_stream=st.booleans(),
    mode=st.sampled_from(["sync", "async"]),
    method=st.sampled_from(["stream", "stream_chat"]),
)
def test_any_streamed_answer_through_the_clients(
    body: bytes, event_stream: bool, mode: str, method: str
) -> None:
    """Through both clients, raw chunks or the adapter kit's deltas: a result, or a
    GatewayError."""
    content_type = "text/event-stream" if event_stream else "application/json"
    response = httpx.Response(200, content=body, headers={"content-type": content_type})
    try:
        chunks = call_through(mode, method, [response])
    except GatewayError:
        return
    if method == "stream":
        assert all(isinstance(chunk, dict) for chunk in chunks)


@FUZZ
@given(
    body=bodies,
    status=st.sampled_from([200, 201, 400, 404, 429, 500, 503]),
    hdrs=headers,
    mode=st.sampled_from(["sync", "async"]),
    method=st.sampled_from(["call", "chat"]),
)
def test_any_answer_through_the_clients(
    body: bytes, status: int, hdrs: dict[str, str], mode: str, method: str
) -> None:
    raw = [
        (k.encode(), v.encode("latin-1"))  # as a server sends them: bytes, Latin-1 decoded
        for k, v in hdrs.items()
        if k not in ("retry-after", "retry-after-ms")
    ]
    responses = [httpx.Response(status, content=body, headers=raw) for _ in range(3)]
    shown = ""
    try:
        call_through(mode, method, responses)
    except GatewayError as exc:
        shown = f"{exc} {exc!r} {exc.body}"
    assert PROVIDER_KEY not in shown


# --- URLs, options, credentials (what a caller passes: ValueError or nothing) ---------------------

PASSWORD = "pw-DISTINCT-77"
HOSTS = ["gateway.ai.cloudflare.com", "127.0.0.1", "[::1]", "[::1", "exa mple", "hé.com"]
SEGMENTS = ["v1", "acc", "gw", "openai", "compat", "client", "v4", "accounts", "ai", "", "%2F"]
url_text = st.text(max_size=60) | st.builds(
    lambda scheme, auth, host, port, path: f"{scheme}://{auth}{host}{port}{path}",
    st.sampled_from(["http", "https", "ftp", "HTTP", ""]),
    st.sampled_from(["", f"user:{PASSWORD}@", f"a@{PASSWORD}@", ":@"]),
    st.sampled_from(HOSTS),
    st.sampled_from(["", ":8787", ":99999", ":-1", ":x"]),
    st.lists(st.sampled_from([*SEGMENTS, "?q=1", "#f"]), max_size=7).map(
        lambda parts: "/" + "/".join(parts)
    ),
)


@FUZZ
@given(url=url_text)
def test_any_url_is_parsed_or_refused_with_a_value_error(url: str) -> None:
    for parse in (parse_gateway_url, parse_base_url, Gateway.from_url, Gateway.from_base_url):
        shown = ""
        try:
            shown = repr(parse(url))
        except ValueError as exc:
            shown = str(exc)
        if "://" in url and f"{PASSWORD}@" in url:  # a password in the user info
            assert PASSWORD not in shown  # is never echoed
    with contextlib.suppress(ValueError):
        Gateway(base_url=url, custom_domain=True)
    if "://" in url and f"{PASSWORD}@" in url:
        assert PASSWORD not in display_url(url)


option_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(),
    st.text(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(
        st.text(max_size=5), st.integers() | st.text(max_size=5) | st.floats(), max_size=7
    ),
)
OPTION_FIELDS = list(GatewayOptions.__dataclass_fields__)


@FUZZ
@given(
    values=st.dictionaries(
        st.sampled_from(OPTION_FIELDS) | st.text(max_size=8), option_values, max_size=4
    )
)
def test_any_option_values_are_accepted_or_refused_with_invalid_option_error(
    values: dict[str, Any],
) -> None:
    try:
        options = GatewayOptions.from_mapping(values)
    except InvalidOptionError:
        return
    for value in options.to_headers().values():
        assert value.isascii()
        assert "\n" not in value
        assert "\r" not in value


PRICE_KEYS = ["per_token_in", "per_token_out", "total_cost", "x"]


@FUZZ
@given(prices=st.dictionaries(st.sampled_from(PRICE_KEYS), option_values, max_size=3))
def test_any_custom_cost_is_accepted_or_refused(prices: dict[str, Any]) -> None:
    with contextlib.suppress(InvalidOptionError):
        CustomCost.from_value(prices)


SECRET = "zz-DISTINCT-credential-9f3"


@FUZZ
@given(noise=st.text(max_size=10), where=st.integers(0, 3))
def test_a_refused_credential_is_never_echoed(noise: str, where: int) -> None:
    value = [SECRET + noise, noise + SECRET, SECRET + "\n", SECRET + "é" + noise][where]
    for check in (
        lambda: check_credential(value, "api_key"),
        lambda: check_headers({"x-api-key": value}, "extra_headers"),
        lambda: Gateway(account_id="a", gateway_id="g", token=value),
    ):
        shown = ""
        try:
            check()
        except ValueError as exc:
            shown = f"{exc} {exc!r}"
        assert SECRET not in shown


# --- linear time -----------------------------------------------------------------------------


def per_call(fn: Callable[[Any], object], arg: Any) -> float:
    """Seconds per call: the best of 5 rounds of at least 20 ms each (noise-resistant)."""
    best = float("inf")
    for _ in range(5):
        calls, started = 0, time.perf_counter()
        while True:
            fn(arg)
            calls += 1
            elapsed = time.perf_counter() - started
            if elapsed >= 0.02:
                break
        best = min(best, elapsed / calls)
    return best


def swallow(fn: Callable[[Any], object]) -> Callable[[Any], object]:
    def call(arg: Any) -> object:
        try:
            return fn(arg)
        except (GatewayError, ValueError):
            return None

    return call


def sse_all(data: bytes) -> object:
    reader = SSEReader(GatewayResponseInfo(), max_event_bytes=10**9, max_response_bytes=10**9)
    return [reader.feed(data[i : i + 4096]) for i in range(0, len(data), 4096)] + [reader.close()]


def fold(chunks: list[dict[str, Any]]) -> object:
    accumulator = StreamAccumulator(CALL, GatewayResponseInfo())
    for chunk in chunks:
        accumulator.add(chunk)
    return accumulator.reply()


def text_chunks(n: int) -> list[dict[str, Any]]:
    """n/4 chunks of 256 characters each (a long answer streamed in small pieces)."""
    return [{"choices": [{"index": 0, "delta": {"content": "x" * 256}}]}] * (n // 4)


def argument_chunks(n: int) -> list[dict[str, Any]]:
    """n/4 pieces of 256 characters of one tool call's arguments."""
    piece = {"index": 0, "function": {"arguments": "x" * 256}}
    return [{"choices": [{"index": 0, "delta": {"tool_calls": [piece]}}]}] * (n // 4)


# (name, parser, adversarial input of size n); n and 8n stay under the parsers' own caps, so
# what is measured is the algorithm, not the cap
ADVERSARIAL: list[tuple[str, Callable[[Any], object], Callable[[int], Any]]] = [
    ("html title of many <title>", _html_title, lambda n: "<title>" * (n // 7)),
    ("html title, one never closed", _html_title, lambda n: "<title>" + "x" * n),
    (
        "error body: a page of <title>",
        lambda b: error_from_response(502, {}, b),
        lambda n: b"<title>" * (n // 7),
    ),
    (
        "error body: JSON nested to the limit, repeated",
        lambda b: error_from_response(500, {}, b),
        lambda n: (b"[" * 100 + b"]" * 100) * (n // 200),
    ),
    (
        "redact: bearer then blanks",
        lambda t: redact(t, (PROVIDER_KEY,)),
        lambda n: "Bearer" + " " * n + "!",
    ),
    ("redact: many sk- prefixes", lambda t: redact(t, ()), lambda n: "sk-abc " * (n // 7)),
    ("json depth of many brackets", swallow(parse_json), lambda n: "[" * (n // 2) + "]" * (n // 2)),
    ("json of escaped quotes", swallow(parse_json), lambda n: '"' + '\\"' * (n // 2) + '"'),
    ("json depth of strings", json_depth, lambda n: '["' + "[" * n + '"]'),
    ("sse: one long line", sse_all, lambda n: b"data: " + b"x" * n),
    ("sse: carriage returns", sse_all, lambda n: b"\r" * n),
    ("sse: comments", sse_all, lambda n: b": ping\n" * (n // 7)),
    ("sse: data lines of one event", sse_all, lambda n: b"data: x\r\n" * (n // 9)),
    ("stream accumulator: answer text", fold, text_chunks),
    ("stream accumulator: tool-call arguments", fold, argument_chunks),
    (
        "response info: deep cf-aig-dlp",
        lambda v: GatewayResponseInfo.from_headers({"cf-aig-dlp": v, "cf-aig-step": "9" * 50}),
        lambda n: "[" * (n // 2) + "]" * (n // 2),
    ),
    ("retry-after digits", parse_retry_after, lambda n: "9" * n),
    ("display url: many @", display_url, lambda n: "http://" + "a@" * (n // 2) + "h/"),
    ("url: many slashes", swallow(parse_gateway_url), lambda n: "https://h" + "/v1" * (n // 3)),
    (
        "option text with a control character at the end",
        swallow(lambda t: GatewayOptions(cache_key=t)),
        lambda n: "k" * n + "\x00",
    ),
    (
        "credential with a newline at the end",
        swallow(lambda t: check_credential(t, "api_key")),
        lambda n: "k" * n + "\n",
    ),
]


@pytest.mark.parametrize(
    ("parser", "make"), [pytest.param(p, m, id=name) for name, p, m in ADVERSARIAL]
)
def test_parsers_are_linear(parser: Callable[[Any], object], make: Callable[[int], Any]) -> None:
    small, large = make(4_000), make(32_000)
    ratio = per_call(parser, large) / per_call(parser, small)
    # linear: ~8 (less when a fixed cost dominates); quadratic: ~64
    assert ratio < 24, f"8x the input took {ratio:.1f}x the time"


def test_the_ratio_test_catches_a_quadratic_parser() -> None:
    """The yardstick itself: the old title regex (a lazy ``.*?`` rescanning the page from
    every ``<title>``) fails it."""
    import re

    def old_title(text: str) -> object:
        return re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)

    ratio = per_call(old_title, "<title>" * 2_400) / per_call(old_title, "<title>" * 300)
    assert ratio > 24


def test_a_224_kb_title_page_is_parsed_in_milliseconds() -> None:
    page = b"<title>" * 32_000  # 224 KB; the lazy regex took ~46 s of CPU on it
    started = time.perf_counter()
    err = error_from_response(502, {"content-type": "text/html"}, page)
    assert time.perf_counter() - started < 0.5
    assert isinstance(err, GatewayError)


def test_json_deeper_than_the_limit_is_one_value_error() -> None:
    with pytest.raises(JSONDepthError):
        parse_json("[" * 129 + "]" * 129)
    with pytest.raises(JSONDepthError):
        parse_json("[" * 100_000)  # json.loads alone raises RecursionError
    assert parse_json("[" * 128 + "]" * 128)
