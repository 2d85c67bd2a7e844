"""GatewayClient and AsyncGatewayClient, run as twins over the same MockTransport recorder."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from _cf_core_helpers import (
    ACCOUNT,
    CHAT_BODY,
    COMPLETION,
    GATEWAY_ID,
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
    AsyncGatewayClient,
    BadRequestError,
    DLPBlockedError,
    Gateway,
    GatewayAuthenticationError,
    GatewayClient,
    GatewayConfigError,
    GatewayConnectionError,
    GatewayOptions,
    GatewayTimeoutError,
    InvalidResponseError,
    ProviderAuthenticationError,
    ProviderError,
    RateLimitError,
    RetryPolicy,
    StreamInterruptedError,
    UniversalStep,
)

ROOT = f"https://gateway.ai.cloudflare.com/v1/{ACCOUNT}/{GATEWAY_ID}"
API = f"https://api.cloudflare.com/client/v4/accounts/{ACCOUNT}"
CREDENTIAL_HEADERS = {"authorization", "x-api-key", "api-key", "x-goog-api-key"}


# --- compat ----------------------------------------------------------------------------------


async def test_compat_request(api: Api, recorder: Recorder) -> None:
    recorder.add(ok_json(COMPLETION, {"cf-aig-log-id": "log-1", "cf-aig-cache-status": "MISS"}))
    result = await api("chat_completions", CHAT_BODY)
    req = recorder.last
    assert req.method == "POST"
    assert str(req.url) == f"{ROOT}/compat/chat/completions"
    assert json.loads(req.content) == CHAT_BODY
    assert req.headers["content-type"] == "application/json"
    assert req.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert req.headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert req.headers["user-agent"].startswith("cf-ai-gateway-python/")
    assert not [h for h in req.headers if h.startswith("cf-aig-") and h != "cf-aig-authorization"]
    assert result.data == COMPLETION
    assert result.status_code == 200
    assert result.info.log_id == "log-1"
    assert result.info.cache_status == "MISS"
    assert result.headers["cf-aig-log-id"] == "log-1"


async def test_compat_byok_sends_no_authorization(make_api: Any, recorder: Recorder) -> None:
    api = make_api(api_key=None)
    recorder.add(ok_json(COMPLETION))
    await api("chat_completions", CHAT_BODY)
    headers = recorder.last.headers
    assert CREDENTIAL_HEADERS.isdisjoint(headers.keys())
    assert headers["cf-aig-authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("coding", [None, "gzip"])
async def test_result_headers_describe_the_answer_as_read(
    api: Api, recorder: Recorder, coding: str | None
) -> None:
    """Read in one go (declared length, no coding) or chunk by chunk (a coded body), the
    result's headers are the answer's: no wire framing or coding, its own length."""
    import gzip

    body = json.dumps(COMPLETION).encode()
    wire = gzip.compress(body) if coding else body
    headers = {"content-type": "application/json", "cf-aig-log-id": "log-1"}
    if coding:
        headers["content-encoding"] = coding
    recorder.add(httpx.Response(200, content=wire, headers=headers))
    result = await api("chat_completions", CHAT_BODY)
    assert result.data == COMPLETION
    assert result.headers == {
        "content-type": "application/json",
        "cf-aig-log-id": "log-1",
        "content-length": str(len(body)),
    }


async def test_per_call_headers_do_not_leak_into_the_next_call(
    api: Api, recorder: Recorder
) -> None:
    """The headers and secrets a client shares between calls are worked out once: what one
    call adds (its options, extra headers, key) never reaches the next call."""
    for _ in range(4):
        recorder.add(ok_json(COMPLETION))
    await api("chat_completions", CHAT_BODY)
    first = dict(recorder.last.headers)
    await api(
        "chat_completions",
        CHAT_BODY,
        extra_headers={"x-trace": "t-1"},
        api_key="sk-other-key-123456",
    )
    assert recorder.last.headers["x-trace"] == "t-1"
    assert recorder.last.headers["authorization"] == "Bearer sk-other-key-123456"
    await api("chat_completions", CHAT_BODY, options=GatewayOptions(cache_ttl=60))
    assert recorder.last.headers["cf-aig-cache-ttl"] == "60"
    await api("chat_completions", CHAT_BODY)
    assert dict(recorder.last.headers) == first


async def test_per_call_api_key_overrides(api: Api, recorder: Recorder) -> None:
    recorder.add(ok_json(COMPLETION))
    await api("chat_completions", CHAT_BODY, api_key="sk-other-key-999999")
    assert recorder.last.headers["authorization"] == "Bearer sk-other-key-999999"


async def test_unauthenticated_gateway_sends_no_cf_aig_authorization(
    make_api: Any, recorder: Recorder
) -> None:
    api = make_api(gateway=Gateway(account_id=ACCOUNT, gateway_id=GATEWAY_ID), api_key=None)
    recorder.add(ok_json(COMPLETION))
    await api("chat_completions", CHAT_BODY)
    assert "cf-aig-authorization" not in recorder.last.headers
    assert CREDENTIAL_HEADERS.isdisjoint(recorder.last.headers.keys())


async def test_options_merged_with_gateway_defaults(make_api: Any, recorder: Recorder) -> None:
    gw = Gateway(
        account_id=ACCOUNT,
        gateway_id=GATEWAY_ID,
        token=TOKEN,
        options=GatewayOptions(cache_ttl=3600, metadata={"app": "demo"}, collect_log=True),
    )
    api = make_api(gateway=gw)
    recorder.add(ok_json(COMPLETION))
    await api(
        "chat_completions",
        CHAT_BODY,
        options=GatewayOptions(metadata={"user": "u-1"}, skip_cache=True, collect_log=False),
        extra_headers={"x-trace": "t-1"},
    )
    headers = recorder.last.headers
    cf = {k: v for k, v in headers.items() if k.startswith("cf-aig-")}
    assert cf == {
        "cf-aig-authorization": f"Bearer {TOKEN}",
        "cf-aig-cache-ttl": "3600",
        "cf-aig-skip-cache": "true",
        "cf-aig-collect-log": "false",
        "cf-aig-metadata": '{"app":"demo","user":"u-1"}',
    }
    assert headers["x-trace"] == "t-1"


async def test_default_headers(make_api: Any, recorder: Recorder) -> None:
    api = make_api(default_headers={"x-app": "demo"})
    recorder.add(ok_json(COMPLETION))
    await api("chat_completions", CHAT_BODY)
    assert recorder.last.headers["x-app"] == "demo"


@pytest.mark.parametrize("name", ["Authorization", "cf-aig-authorization", "x-api-key"])
def test_default_headers_reject_credentials(name: str) -> None:
    with pytest.raises(ValueError, match="credential header"):
        GatewayClient(Gateway(account_id="a", gateway_id="g"), default_headers={name: "x"})


# --- provider surface ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "url", "sent_model"),
    [
        ("openai/gpt-4o-mini", f"{ROOT}/openai/chat/completions", "gpt-4o-mini"),
        (
            "workers-ai/@cf/meta/llama-3.1-8b-instruct",
            f"{ROOT}/workers-ai/v1/chat/completions",
            "@cf/meta/llama-3.1-8b-instruct",
        ),
        ("perplexity/sonar", f"{ROOT}/perplexity-ai/chat/completions", "sonar"),
        ("grok/grok-3", f"{ROOT}/grok/v1/chat/completions", "grok-3"),
    ],
)
async def test_provider_surface(
    make_api: Any, recorder: Recorder, model: str, url: str, sent_model: str
) -> None:
    api = make_api(api_key=PROVIDER_KEY, surface="provider")
    recorder.add(ok_json(COMPLETION))
    await api("chat_completions", {**CHAT_BODY, "model": model})
    req = recorder.last
    assert str(req.url) == url
    assert json.loads(req.content)["model"] == sent_model
    assert req.headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert req.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"


async def test_provider_surface_without_chat_path_rejected(
    make_api: Any, recorder: Recorder
) -> None:
    api = make_api(api_key=PROVIDER_KEY)
    with pytest.raises(ValueError, match="'anthropic' has no OpenAI-compatible chat path"):
        await api(
            "chat_completions", {**CHAT_BODY, "model": "anthropic/claude"}, surface="provider"
        )
    assert recorder.requests == []


# --- REST surface ----------------------------------------------------------------------------


async def test_rest_surface(make_api: Any, recorder: Recorder) -> None:
    api = make_api(api_key=None, surface="rest")
    recorder.add(ok_json(COMPLETION, {"cf-aig-model": "gpt-4o-mini"}))
    result = await api("chat_completions", CHAT_BODY)
    req = recorder.last
    assert str(req.url) == f"{API}/ai/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {TOKEN}"
    assert req.headers["cf-aig-gateway-id"] == GATEWAY_ID
    assert "cf-aig-authorization" not in req.headers
    assert json.loads(req.content)["model"] == "openai/gpt-4o-mini"
    assert result.info.model == "gpt-4o-mini"


async def test_rest_surface_rejects_api_key_before_any_request(
    make_api: Any, recorder: Recorder
) -> None:
    api = make_api(api_key=PROVIDER_KEY, surface="rest")
    with pytest.raises(GatewayConfigError, match="Unified Billing and BYOK only"):
        await api("chat_completions", CHAT_BODY)
    api2 = make_api(api_key=None)
    with pytest.raises(GatewayConfigError):
        await api2("chat_completions", CHAT_BODY, surface="rest", api_key=PROVIDER_KEY)
    assert recorder.requests == []


async def test_rest_surface_needs_token(make_api: Any, recorder: Recorder) -> None:
    api = make_api(gateway=Gateway(account_id=ACCOUNT), surface="rest")
    with pytest.raises(GatewayConfigError, match="Cloudflare API token"):
        await api("chat_completions", CHAT_BODY)
    assert recorder.requests == []


# --- responses -------------------------------------------------------------------------------


async def test_non_json_200_is_invalid_response(api: Api, recorder: Recorder) -> None:
    recorder.add(httpx.Response(200, text=f"<html>ok {PROVIDER_KEY}</html>"))
    with pytest.raises(InvalidResponseError) as exc_info:
        await api("chat_completions", CHAT_BODY)
    err = exc_info.value
    assert err.status_code == 200
    assert err.body is not None
    assert err.body.startswith("<html>ok")
    assert PROVIDER_KEY not in err.body
    assert len(recorder.requests) == 1


async def test_error_response_is_typed_and_redacted(api: Api, recorder: Recorder) -> None:
    data = {
        "error": {
            "message": f"Incorrect API key provided: {PROVIDER_KEY}",
            "code": "invalid_api_key",
        }
    }
    recorder.add(ok_json(data, {"cf-aig-log-id": "L9"}, status=401))
    with pytest.raises(ProviderAuthenticationError) as exc_info:
        await api("chat_completions", CHAT_BODY)
    err = exc_info.value
    assert type(err) is ProviderAuthenticationError
    assert PROVIDER_KEY not in str(err)
    assert PROVIDER_KEY not in repr(err)
    assert PROVIDER_KEY not in (err.body or "")
    assert "log id L9" in str(err)


# --- validation happens before any request ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "exc", "match"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, ValueError, "non-empty string 'model'"),
        ({"model": "", "messages": [{"role": "user", "content": "x"}]}, ValueError, "'model'"),
        ({"model": "openai/gpt-4o"}, ValueError, "'messages'"),
        ({"model": "openai/gpt-4o", "messages": []}, ValueError, "'messages'"),
        ({**CHAT_BODY, "stream": True}, ValueError, "stream_chat_completions"),
        ({**CHAT_BODY, "model": "gpt-4o"}, ValueError, "'{provider}/{model}'"),
        ([("model", "x")], TypeError, "must be a mapping"),
    ],
)
async def test_chat_validation_before_request(
    api: Api, recorder: Recorder, body: Any, exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        await api("chat_completions", body)
    assert recorder.requests == []


async def test_bad_surface_before_request(api: Api, recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="surface='universal'"):
        await api("chat_completions", CHAT_BODY, surface="universal")
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"surface": "bogus"}, "surface="),
        ({"api_key": ""}, "api_key"),
        ({"api_key": " "}, "api_key"),
        ({"timeout": 0}, "timeout=0 must be a number of seconds > 0"),
        ({"timeout": -5}, "timeout=-5"),
        ({"timeout": float("nan")}, "timeout=nan"),
        ({"timeout": "30"}, "timeout='30'"),
        ({"timeout": True}, "timeout=True"),
        ({"timeout": (5, 30)}, r"an httpx\.Timeout"),
        ({"timeout": httpx.Timeout(30, connect=0)}, "timeout.connect=0"),
        ({"timeout": {"read": 30}}, "exactly the keys connect, read, write, pool"),
        ({"deadline": 0}, "deadline=0"),
    ],
)
def test_client_constructor_validation(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        GatewayClient(Gateway(account_id="a", gateway_id="g"), **kwargs)
    with pytest.raises(ValueError, match=match):
        AsyncGatewayClient(Gateway(account_id="a", gateway_id="g"), **kwargs)


def test_client_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_ACCOUNT_ID", "acc-env")
    monkeypatch.setenv("CF_GATEWAY_ID", "gw-env")
    with GatewayClient() as client:
        assert client.gateway.account_id == "acc-env"
        assert client.surface == "compat"


async def test_timeouts(make_api: Any, recorder: Recorder) -> None:
    api = make_api(timeout=7.0)
    recorder.add(ok_json(COMPLETION), ok_json(COMPLETION), ok_json(COMPLETION))
    await api("chat_completions", CHAT_BODY)
    assert recorder.last.extensions["timeout"]["read"] == 7.0
    await api("chat_completions", CHAT_BODY, timeout=2.5)
    assert recorder.last.extensions["timeout"] == {
        "connect": 2.5,
        "read": 2.5,
        "write": 2.5,
        "pool": 2.5,
    }
    await api("chat_completions", CHAT_BODY, timeout=httpx.Timeout(60, connect=3))
    assert recorder.last.extensions["timeout"] == {
        "connect": 3,
        "read": 60,
        "write": 60,
        "pool": 60,
    }


async def test_an_httpx_timeout_sets_each_operation(make_api: Any, recorder: Recorder) -> None:
    api = make_api(timeout=httpx.Timeout(60, connect=3, pool=None))
    recorder.add(ok_json(COMPLETION))
    await api("chat_completions", CHAT_BODY)
    assert recorder.last.extensions["timeout"] == {
        "connect": 3,
        "read": 60,
        "write": 60,
        "pool": None,
    }


@pytest.mark.parametrize("timeout", [0, -1, "5", httpx.Timeout(5, read=-1)])
async def test_a_bad_per_call_timeout_is_refused_before_any_request(
    api: Api, recorder: Recorder, timeout: Any
) -> None:
    with pytest.raises(ValueError, match="timeout"):
        await api("chat_completions", CHAT_BODY, timeout=timeout)
    with pytest.raises(ValueError, match="timeout"):
        await api("stream_chat_completions", CHAT_BODY, timeout=timeout)
    assert recorder.requests == []


# --- streaming -------------------------------------------------------------------------------


async def test_stream_info_before_iterating_and_chunks(api: Api, recorder: Recorder) -> None:
    recorder.add(sse(delta("Hel"), "", delta("lo"), headers={"cf-aig-log-id": "log-s"}))
    stream = await api("stream_chat_completions", CHAT_BODY)
    assert stream.info.log_id == "log-s"
    assert stream.info.status_code == 200
    assert json.loads(recorder.last.content) == {**CHAT_BODY, "stream": True}
    chunks = await api.collect(stream)
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["Hel", "lo"]
    assert stream.response.is_closed


async def test_stream_error_event_raises_provider_error(api: Api, recorder: Recorder) -> None:
    error = {"error": {"message": "upstream died", "type": "server_error", "code": "boom"}}
    recorder.add(sse(delta("Hi"), error, delta("never")))
    stream = await api("stream_chat_completions", CHAT_BODY)
    seen: list[Any] = []
    with pytest.raises(ProviderError) as exc_info:
        await api.collect(stream, seen)
    assert len(seen) == 1
    err = exc_info.value
    assert err.message == "upstream died"
    assert err.error_type == "server_error"
    assert err.provider_code == "boom"
    assert err.retryable is False
    assert len(recorder.requests) == 1


async def test_stream_gateway_coded_error_keeps_its_type(api: Api, recorder: Recorder) -> None:
    event = {"success": False, "error": [{"code": 2030, "message": "Response blocked by DLP"}]}
    recorder.add(sse(delta("Hi"), event))
    stream = await api("stream_chat_completions", CHAT_BODY)
    with pytest.raises(DLPBlockedError) as exc_info:
        await api.collect(stream)
    assert exc_info.value.retryable is False
    assert exc_info.value.code == 2030


async def test_stream_non_json_event(api: Api, recorder: Recorder) -> None:
    recorder.add(sse("not json"))
    stream = await api("stream_chat_completions", CHAT_BODY)
    with pytest.raises(InvalidResponseError, match="not JSON"):
        await api.collect(stream)


async def test_stream_cut_raises_stream_interrupted_and_is_not_retried(
    api: Api, recorder: Recorder
) -> None:
    first = f"data: {json.dumps(delta('Hel'))}\n\n".encode()
    recorder.add(
        httpx.Response(
            200,
            headers={"content-type": "text/event-stream", "cf-aig-log-id": "L-cut"},
            stream=CutStream(first, b'data: {"id":'),
        )
    )
    stream = await api("stream_chat_completions", CHAT_BODY)
    seen: list[Any] = []
    with pytest.raises(StreamInterruptedError) as exc_info:
        await api.collect(stream, seen)
    assert [c["choices"][0]["delta"]["content"] for c in seen] == ["Hel"]
    err = exc_info.value
    assert err.retryable is False
    assert err.info.log_id == "L-cut"
    assert "connection reset by peer" in str(err)
    assert len(recorder.requests) == 1
    assert api.sleeps == []


@pytest.mark.parametrize("content", [b"[1, 2]", b'"text"'])
async def test_destreamed_body_that_is_no_object_is_invalid(
    api: Api, recorder: Recorder, content: bytes
) -> None:
    recorder.add(httpx.Response(200, content=content, headers={"content-type": "application/json"}))
    stream = await api("stream_chat_completions", CHAT_BODY)
    with pytest.raises(InvalidResponseError, match="not a chat completion object"):
        await api.collect(stream)


async def test_universal_step_mapping_error_keeps_its_cause(api: Api) -> None:
    with pytest.raises(ValueError, match="not a valid step") as exc_info:
        await api("universal", [{"provider": "openai", "endpoint": "x", "nope": 1}])
    assert isinstance(exc_info.value.__cause__, TypeError)


async def test_destreamed_json_yields_one_chunk(api: Api, recorder: Recorder) -> None:
    recorder.add(ok_json(COMPLETION, {"cf-aig-log-id": "L-d"}))
    stream = await api("stream_chat_completions", CHAT_BODY)
    chunks = await api.collect(stream)
    assert chunks == [
        {
            "id": "chatcmpl-1",
            "model": "gpt-4o-mini",
            "object": "chat.completion.chunk",
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": "Hello!"},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
        }
    ]


async def test_stream_non_2xx_raises_typed_error_before_stream(
    api: Api, recorder: Recorder
) -> None:
    body = {
        "success": False,
        "result": [],
        "messages": [],
        "error": [{"code": 2009, "message": "Unauthorized"}],
    }
    recorder.add(ok_json(body, status=401))
    with pytest.raises(GatewayAuthenticationError):
        await api("stream_chat_completions", CHAT_BODY)
    assert len(recorder.requests) == 1


async def test_stream_retried_until_headers(api: Api, recorder: Recorder) -> None:
    recorder.add(httpx.Response(503, text=""), sse(delta("ok")))
    stream = await api("stream_chat_completions", CHAT_BODY)
    assert [c["choices"][0]["delta"]["content"] for c in await api.collect(stream)] == ["ok"]
    assert len(recorder.requests) == 2
    assert api.sleeps == [0.5]


def test_sync_stream_context_manager_closes(gateway: Gateway, recorder: Recorder) -> None:
    recorder.add(sse(delta("a"), delta("b")))
    client = GatewayClient(
        gateway, http_client=httpx.Client(transport=httpx.MockTransport(recorder))
    )
    with client.stream_chat_completions(CHAT_BODY) as stream:
        assert next(iter(stream))["choices"][0]["delta"]["content"] == "a"
    assert stream.response.is_closed


async def test_async_stream_context_manager_closes(gateway: Gateway, recorder: Recorder) -> None:
    recorder.add(sse(delta("a"), delta("b")))
    async with AsyncGatewayClient(
        gateway, http_client=httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    ) as client:
        async with await client.stream_chat_completions(CHAT_BODY) as stream:
            assert stream.info.status_code == 200
        assert stream.response.is_closed


# --- retries ---------------------------------------------------------------------------------


async def test_retry_429_honours_retry_after(api: Api, recorder: Recorder) -> None:
    recorder.add(
        ok_json({"error": {"message": "slow down"}}, {"retry-after": "3"}, status=429),
        ok_json(COMPLETION),
    )
    result = await api("chat_completions", CHAT_BODY)
    assert result.data == COMPLETION
    assert api.sleeps == [3.0]
    assert len(recorder.requests) == 2


async def test_retry_after_too_long_is_not_waited(make_api: Any, recorder: Recorder) -> None:
    api = make_api(retry=RetryPolicy(max_retries=2, max_retry_after=10))
    recorder.add(ok_json({}, {"retry-after": "600"}, status=429))
    with pytest.raises(RateLimitError) as exc_info:
        await api("chat_completions", CHAT_BODY)
    assert exc_info.value.retry_after == 600.0
    assert api.sleeps == []


async def test_retry_503_twice_then_ok(api: Api, recorder: Recorder) -> None:
    recorder.add(httpx.Response(503), httpx.Response(503), ok_json(COMPLETION))
    result = await api("chat_completions", CHAT_BODY)
    assert result.status_code == 200
    assert len(recorder.requests) == 3
    assert api.sleeps == [0.5, 1.0]
    # every attempt is the same request
    assert len({r.content for r in recorder.requests}) == 1


async def test_retry_gives_up_after_max_retries(api: Api, recorder: Recorder) -> None:
    recorder.add(httpx.Response(500), httpx.Response(502), httpx.Response(503))
    with pytest.raises(ProviderError) as exc_info:
        await api("chat_completions", CHAT_BODY)
    assert exc_info.value.status_code == 503
    assert len(recorder.requests) == 3


async def test_400_never_retried(api: Api, recorder: Recorder) -> None:
    recorder.add(ok_json({"error": {"message": "bad"}}, status=400))
    with pytest.raises(BadRequestError):
        await api("chat_completions", CHAT_BODY)
    assert len(recorder.requests) == 1
    assert api.sleeps == []


async def test_connection_error_retried_then_raised(api: Api, recorder: Recorder) -> None:
    recorder.add(*(httpx.ConnectError(f"refused {TOKEN}") for _ in range(3)))
    with pytest.raises(GatewayConnectionError) as exc_info:
        await api("chat_completions", CHAT_BODY)
    assert type(exc_info.value) is GatewayConnectionError
    assert TOKEN not in str(exc_info.value)
    assert len(recorder.requests) == 3
    assert api.sleeps == [0.5, 1.0]
    assert not isinstance(exc_info.value, httpx.HTTPError)


async def test_connection_error_then_success(api: Api, recorder: Recorder) -> None:
    recorder.add(httpx.ConnectError("refused"), ok_json(COMPLETION))
    assert (await api("chat_completions", CHAT_BODY)).data == COMPLETION
    assert len(recorder.requests) == 2


async def test_timeout_maps_to_gateway_timeout(make_api: Any, recorder: Recorder) -> None:
    api = make_api(retry=RetryPolicy(max_retries=0))
    recorder.add(httpx.ReadTimeout("timed out"))
    with pytest.raises(GatewayTimeoutError):
        await api("chat_completions", CHAT_BODY)


# --- universal -------------------------------------------------------------------------------


async def test_universal_request(api: Api, recorder: Recorder) -> None:
    messages = [{"role": "user", "content": "Hi"}]
    steps = [
        UniversalStep.chat(
            "openai/gpt-4o-mini",
            {"messages": messages},
            api_key=PROVIDER_KEY,
            options=GatewayOptions(
                request_timeout_ms=5000,
                max_attempts=2,
                retry_delay_ms=100,
                backoff="linear",
                cache_ttl=0,
                metadata={"step": 0},
            ),
        ),
        UniversalStep.chat("workers-ai/@cf/meta/llama-3.1-8b-instruct", {"messages": messages}),
    ]
    recorder.add(ok_json(COMPLETION, {"cf-aig-step": "1", "cf-aig-log-id": "L-u"}))
    result = await api("universal", steps, options=GatewayOptions(event_id="evt-u"))
    req = recorder.last
    assert str(req.url) == ROOT
    assert req.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert req.headers["cf-aig-event-id"] == "evt-u"
    assert CREDENTIAL_HEADERS.isdisjoint(req.headers.keys())
    assert json.loads(req.content) == [
        {
            "provider": "openai",
            "endpoint": "chat/completions",
            "headers": {
                "authorization": f"Bearer {PROVIDER_KEY}",
                "cf-aig-cache-ttl": "0",
                "cf-aig-metadata": '{"step":0}',
            },
            "query": {"messages": messages, "model": "gpt-4o-mini"},
            "config": {
                "requestTimeout": 5000,
                "maxAttempts": 2,
                "retryDelay": 100,
                "backoff": "linear",
            },
        },
        {
            "provider": "workers-ai",
            "endpoint": "v1/chat/completions",
            "headers": {},
            "query": {"messages": messages, "model": "@cf/meta/llama-3.1-8b-instruct"},
        },
    ]
    assert result.info.step == 1
    assert result.info.log_id == "L-u"


async def test_universal_accepts_mappings_and_redacts_step_keys(
    api: Api, recorder: Recorder
) -> None:
    step = {
        "provider": "perplexity",
        "endpoint": "chat/completions",
        "headers": {"authorization": "Bearer pplx-step-secret-42"},
        "query": {"model": "sonar", "messages": []},
    }
    recorder.add(ok_json({"error": {"message": "bad key pplx-step-secret-42"}}, status=400))
    with pytest.raises(BadRequestError) as exc_info:
        await api("universal", [step])
    assert json.loads(recorder.last.content)[0]["provider"] == "perplexity-ai"
    assert "pplx-step-secret-42" not in str(exc_info.value)
    assert "pplx-step-secret-42" not in (exc_info.value.body or "")


@pytest.mark.parametrize(
    ("steps", "exc"),
    [
        ([], ValueError),
        ({"provider": "openai"}, ValueError),
        ("openai", ValueError),
        ([{"provider": "openai"}], ValueError),
        ([{"provider": "nope", "endpoint": "x", "query": {}}], ValueError),
        ([42], TypeError),
    ],
)
async def test_universal_validation_before_request(
    api: Api, recorder: Recorder, steps: Any, exc: type[Exception]
) -> None:
    with pytest.raises(exc):
        await api("universal", steps)
    assert recorder.requests == []


# --- embeddings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "url", "sent"),
    [
        ("openai/text-embedding-3-small", f"{ROOT}/openai/embeddings", "text-embedding-3-small"),
        ("workers-ai/@cf/baai/bge-m3", f"{ROOT}/workers-ai/v1/embeddings", "@cf/baai/bge-m3"),
    ],
)
async def test_embeddings_via_provider_path(
    api: Api, recorder: Recorder, model: str, url: str, sent: str
) -> None:
    recorder.add(ok_json({"data": [{"embedding": [0.1, 0.2]}]}))
    result = await api("embeddings", {"model": model, "input": ["a"]})
    req = recorder.last
    assert str(req.url) == url
    assert json.loads(req.content) == {"model": sent, "input": ["a"]}
    assert req.headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert result.data["data"][0]["embedding"] == [0.1, 0.2]


async def test_embeddings_provider_without_path(api: Api, recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="'anthropic' has no OpenAI-compatible embeddings path"):
        await api("embeddings", {"model": "anthropic/claude", "input": "x"})
    with pytest.raises(ValueError, match="needs 'input'"):
        await api("embeddings", {"model": "openai/text-embedding-3-small"})
    assert recorder.requests == []


async def test_stream_stall_raises_timeout_not_retried(api: Api, recorder: Recorder) -> None:
    first = f"data: {json.dumps(delta('Hel'))}\n\n".encode()
    recorder.add(
        httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=CutStream(first, error=httpx.ReadTimeout("read timed out")),
        )
    )
    stream = await api("stream_chat_completions", CHAT_BODY)
    seen: list[Any] = []
    with pytest.raises(GatewayTimeoutError) as exc_info:
        await api.collect(stream, seen)
    assert len(seen) == 1
    assert exc_info.value.retryable is False
    assert len(recorder.requests) == 1
