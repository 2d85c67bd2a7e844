"""The adapter kit (``cf_ai_gateway.chat``): calls, replies, stream folding, tools, and the
clients' ``chat`` / ``stream_chat`` with and without server-side fallbacks."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx
import pytest
from _cf_core_helpers import COMPLETION, PROVIDER_KEY, Recorder, ok_json
from cf_ai_gateway import (
    AsyncGatewayClient,
    ChatCall,
    ChatReply,
    Gateway,
    GatewayClient,
    GatewayOptions,
    GatewayResponseInfo,
    InvalidOptionError,
    InvalidResponseError,
    Usage,
    merge_options,
    options_from_value,
)
from cf_ai_gateway.chat import (
    StreamAccumulator,
    ToolCall,
    check_fallback_model,
    function_tool,
    json_schema_response_format,
    looks_like_credential,
    options_from_headers,
    qualified_model_name,
    reasoning_of,
    tool_choice_param,
)

MESSAGES = [{"role": "user", "content": "Hi"}]
WORKERS = "workers-ai/@cf/meta/llama-3.1-8b-instruct"


def call(**kw: Any) -> ChatCall:
    return ChatCall(kw.pop("model", "openai/gpt-4o-mini"), {"messages": MESSAGES, **kw})


# --- ChatCall ------------------------------------------------------------------------------


def test_request_body_sets_model_and_stream_options() -> None:
    c = ChatCall("openai/gpt-4o-mini", {"messages": MESSAGES, "temperature": 0.2, "stream": True})
    assert c.request_body(stream=False) == {
        "model": "openai/gpt-4o-mini",
        "messages": MESSAGES,
        "temperature": 0.2,
    }
    assert c.request_body(stream=True)["stream_options"] == {"include_usage": True}
    no_usage = ChatCall("openai/m", {"messages": MESSAGES}, include_usage=False)
    assert "stream_options" not in no_usage.request_body(stream=True)
    own = ChatCall("openai/m", {"messages": MESSAGES, "stream_options": {"x": 1}})
    assert own.request_body(stream=True)["stream_options"] == {"x": 1}
    assert "stream_options" not in own.request_body(stream=False)


@pytest.mark.parametrize(
    "key", ["api_key", "openai_api_key", "access_token", "client_secret", "password", "apiKey"]
)
def test_a_credential_shaped_body_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match=key) as info:
        call(**{key: "sk-secret-value-123"})
    assert "sk-secret-value-123" not in str(info.value)


@pytest.mark.parametrize(
    "name",
    ["max_tokens", "max_completion_tokens", "top_logprobs", "logit_bias", "author", "tokens"],
)
def test_chat_parameters_are_not_credentials(name: str) -> None:
    assert not looks_like_credential(name)


@pytest.mark.parametrize(
    ("model", "body"),
    [("", {"messages": MESSAGES}), ("openai/m", {"messages": []}), ("openai/m", {})],
)
def test_bad_calls_fail_before_sending(model: str, body: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"model|messages"):
        ChatCall(model, body)


def test_fallbacks_are_checked_and_name_the_entry() -> None:
    with pytest.raises(ValueError, match="dynamic/support"):
        ChatCall("openai/m", {"messages": MESSAGES}, fallback_models=("dynamic/support",))
    with pytest.raises(ValueError, match="anthropic"):
        check_fallback_model("anthropic/claude-3-5-haiku")
    # the primary model must be a step too once there are fallbacks
    with pytest.raises(ValueError, match="dynamic/route"):
        ChatCall("dynamic/route", {"messages": MESSAGES}, fallback_models=(WORKERS,))


def test_universal_steps_send_the_key_to_the_primary_provider_only() -> None:
    c = ChatCall(
        "openai/gpt-4o-mini",
        {"messages": MESSAGES, "stream_options": {"include_usage": True}},
        fallback_models=("openai/gpt-4o", WORKERS),
    )
    steps = [s.to_dict() for s in c.universal_steps(PROVIDER_KEY)]
    assert [s["provider"] for s in steps] == ["openai", "openai", "workers-ai"]
    assert [s["query"]["model"] for s in steps] == ["gpt-4o-mini", "gpt-4o", WORKERS[11:]]
    assert steps[0]["headers"]["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert steps[1]["headers"]["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert steps[2]["headers"] == {}
    assert all("stream_options" not in s["query"] for s in steps)


@pytest.mark.parametrize(("step", "expected"), [(None, 0), (0, 0), (1, 1), (2, 2), (9, 0)])
def test_answered_model_follows_the_step_header(step: int | None, expected: int) -> None:
    c = ChatCall("openai/a", {"messages": MESSAGES}, fallback_models=("openai/b", WORKERS))
    assert c.answered_model(GatewayResponseInfo(step=step)) == c.models[expected]
    assert call().answered_model(GatewayResponseInfo(step=1)) == "openai/gpt-4o-mini"


# --- models and usage ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "response_model", "headers", "expected"),
    [
        ("openai/gpt-4o-mini", "gpt-4o-mini-2024-07-18", {}, "openai/gpt-4o-mini-2024-07-18"),
        ("openai/gpt-4o-mini", "openai/gpt-4o-mini", {}, "openai/gpt-4o-mini"),
        ("openai/gpt-4o-mini", None, {}, "openai/gpt-4o-mini"),
        (WORKERS, "@cf/meta/llama-3.1-8b-instruct", {}, WORKERS),
        (
            "dynamic/support",
            "gpt-4o",
            {"cf-aig-provider": "openai", "cf-aig-model": "gpt-4o"},
            "openai/gpt-4o",
        ),
        ("dynamic/support", None, {}, "dynamic/support"),
        (
            "@cf/meta/llama-3.1-8b-instruct",
            "@cf/meta/llama-3.1-8b-instruct",
            {},
            "@cf/meta/llama-3.1-8b-instruct",
        ),
    ],
)
def test_qualified_model_name(
    requested: str, response_model: str | None, headers: dict[str, str], expected: str
) -> None:
    info = GatewayResponseInfo.from_headers(headers)
    assert qualified_model_name(requested, response_model, info) == expected


def test_usage_is_normalised_and_round_trips() -> None:
    raw = {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 6, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 2},
    }
    usage = Usage.from_openai(raw)
    assert usage == Usage(
        10, 5, 15, cached_input_tokens=6, reasoning_tokens=2, input_audio_tokens=0
    )
    assert Usage.from_openai(usage.to_openai()) == usage  # type: ignore[union-attr]
    assert Usage.from_openai({"prompt_tokens": 3}) == Usage(3, 0, 3)
    assert Usage.from_openai(None) is None


@pytest.mark.parametrize(
    "raw",
    [
        {"prompt_tokens": "many", "completion_tokens": None, "prompt_tokens_details": "x"},
        {"prompt_tokens": True, "completion_tokens_details": [1]},
        {"total_tokens": 1e400},
    ],
)
def test_malformed_usage_never_raises(raw: dict[str, Any]) -> None:
    usage = Usage.from_openai(raw)
    assert usage is not None
    assert usage.cached_input_tokens is None


def test_reasoning_field_spellings() -> None:
    assert reasoning_of({"reasoning_content": "a"}) == "a"
    assert reasoning_of({"reasoning": "b"}) == "b"
    assert reasoning_of({"reasoning": {"effort": "low"}}) is None


# --- replies -------------------------------------------------------------------------------


def test_reply_reads_message_tools_and_usage() -> None:
    data = {
        **COMPLETION,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "lookup", "arguments": '{"q": "x"}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2},
    }
    reply = ChatReply.from_response(call(), data, GatewayResponseInfo())
    assert reply.model == "openai/gpt-4o-mini"
    assert reply.content == ""
    assert reply.tool_calls == (ToolCall("c1", "lookup", '{"q": "x"}'),)
    assert reply.tool_calls[0].parsed_arguments() == {"q": "x"}
    assert reply.finish_reason == "tool_calls"
    assert reply.usage == Usage(4, 2, 6)
    assert reply.id == "chatcmpl-1"


@pytest.mark.parametrize("data", [{"object": "error"}, [], "text", {"choices": "x"}])
def test_a_reply_without_choices_is_an_invalid_response(data: Any) -> None:
    with pytest.raises(InvalidResponseError, match="choices"):
        ChatReply.from_response(call(), data, GatewayResponseInfo(status_code=200))


@pytest.mark.parametrize("arguments", ["{bad", "[1, 2]"])
def test_bad_tool_arguments_name_the_tool(arguments: str) -> None:
    with pytest.raises(ValueError, match="lookup"):
        ToolCall("c", "lookup", arguments).parsed_arguments()
    assert ToolCall("c", "lookup", "  ").parsed_arguments() == {}


def test_tool_call_from_any_openai_shape() -> None:
    from types import SimpleNamespace

    as_dict = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
    as_object = SimpleNamespace(
        id="c1", type="function", function=SimpleNamespace(name="f", arguments='{"x": 1}')
    )
    expected = ToolCall("c1", "f", '{"x": 1}')
    assert ToolCall.from_openai(as_dict) == expected
    assert ToolCall.from_openai(as_object) == expected
    assert ToolCall.from_openai({"function": {"name": "f", "arguments": {"x": "é"}}}) == ToolCall(
        None, "f", '{"x": "é"}'
    )
    assert ToolCall.from_openai({"id": "c", "function": {"name": "f"}}) == ToolCall("c", "f", "")
    assert ToolCall.from_openai({"type": "custom", "custom": {}}) is None
    assert ToolCall.from_openai(SimpleNamespace(id="c", type="function", function=None)) is None
    assert ToolCall.from_openai(ToolCall.from_openai(as_dict).to_openai()) == expected  # type: ignore[union-attr]


# --- the stream accumulator ----------------------------------------------------------------


def chunk(delta: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, **kw}]
    return {"id": "chatcmpl-9", "model": "gpt-4o-mini-2024", "choices": choices}


def test_accumulator_merges_tool_calls_by_index_and_keeps_the_last_usage() -> None:
    acc = StreamAccumulator(call(), GatewayResponseInfo())
    deltas = [
        acc.add(chunk({"role": "assistant", "content": "Let me "})),
        acc.add(chunk({"content": "check.", "reasoning": "think"})),
        acc.add(
            chunk(
                {
                    "tool_calls": [
                        {"index": 1, "id": "b", "function": {"name": "two", "arguments": "{"}},
                        {"index": 0, "id": "a", "function": {"name": "one", "arguments": ""}},
                    ]
                }
            )
        ),
        acc.add(chunk({"tool_calls": [{"index": 1, "function": {"arguments": '"k": 1}'}}]})),
        acc.add(chunk({}, finish_reason="tool_calls")),
        acc.add({**chunk(), "usage": {"prompt_tokens": 1, "completion_tokens": 1}}),
        acc.add({**chunk(), "usage": {"prompt_tokens": 5, "completion_tokens": 3}}),
        acc.add(chunk()),
    ]
    assert deltas[-1] is None  # nothing in it
    assert [d.first for d in deltas if d] == [True] + [False] * 6
    assert acc.content == "Let me check."
    assert acc.reasoning == "think"
    assert acc.tool_calls == (ToolCall("a", "one", ""), ToolCall("b", "two", '{"k": 1}'))
    assert acc.finish_reason == "tool_calls"
    assert acc.usage == Usage(5, 3, 8)
    reply = acc.reply()
    assert reply.model == "openai/gpt-4o-mini-2024"
    assert reply.message["tool_calls"][1]["function"]["arguments"] == '{"k": 1}'
    assert reply.data["usage"]["total_tokens"] == 8


def test_a_non_object_event_is_an_invalid_response() -> None:
    acc = StreamAccumulator(call(), GatewayResponseInfo())
    with pytest.raises(InvalidResponseError, match="not a JSON object"):
        acc.add([1, 2])  # type: ignore[arg-type]


# --- tools and structured output -----------------------------------------------------------


def test_tool_choice_vocabulary() -> None:
    tools = [function_tool("a"), function_tool("b", {"type": "object"}, description="B")]
    assert tool_choice_param("any", tools) == "required"
    assert tool_choice_param(True, tools) == "required"
    assert tool_choice_param(True, tools[:1]) == {"type": "function", "function": {"name": "a"}}
    assert tool_choice_param("b", tools) == {"type": "function", "function": {"name": "b"}}
    assert tool_choice_param("auto", tools) == "auto"
    assert tool_choice_param(None, tools) is None
    assert tool_choice_param(False, tools) is None
    with pytest.raises(ValueError, match="'c' is not one of the bound tools"):
        tool_choice_param("c", tools)
    with pytest.raises(ValueError, match="tool name"):
        function_tool("has space")


def test_json_schema_response_format() -> None:
    fmt = json_schema_response_format(
        {"type": "object", "properties": {}}, name="P", description="d", strict=True
    )
    assert fmt == {
        "type": "json_schema",
        "json_schema": {
            "name": "P",
            "schema": {"type": "object", "properties": {}},
            "description": "d",
            "strict": True,
        },
    }


def test_option_layers() -> None:
    assert options_from_value(None) is None
    assert options_from_value({"cache_ttl": 60}) == GatewayOptions(cache_ttl=60)
    merged = merge_options(
        GatewayOptions(metadata={"a": 1}, cache_ttl=60),
        None,
        GatewayOptions(metadata={"b": 2}),
    )
    assert merged == GatewayOptions(cache_ttl=60, metadata={"a": 1, "b": 2})
    assert merge_options(None, None) is None
    assert repr(GatewayOptions(cache_ttl=60)) == "GatewayOptions(cache_ttl=60)"


def test_options_from_headers_round_trip_every_option() -> None:
    every = GatewayOptions(
        cache_ttl=3600,
        skip_cache=True,
        cache_key="k-1",
        collect_log=False,
        collect_log_payload=False,
        metadata={"user": "u-1", "n": 2, "ok": True},
        event_id="ev-1",
        request_timeout_ms=1500,
        max_attempts=3,
        retry_delay_ms=200,
        backoff="linear",
        custom_cost={"per_token_in": 1e-06, "per_token_out": 2e-06},
        byok_alias="prod",
        zdr=True,
        no_wholesale=False,
        allowed_models=["anthropic/*", "openai/gpt-4o-mini"],
        allowed_providers=["openai", "anthropic"],
        session_id="s-1",
        turn_id="t-1",
        no_session_affinity=True,
    )
    unset = [f.name for f in dataclasses.fields(GatewayOptions) if getattr(every, f.name) is None]
    assert unset == []  # a new option joins this test (and options_from_headers' table)
    options, rest = options_from_headers(every.to_headers())
    assert options == every
    assert rest == {}


def test_options_from_headers_keeps_other_headers_and_reads_names_in_any_case() -> None:
    options, rest = options_from_headers(
        {
            "CF-AIG-Cache-TTL": " 60 ",
            "cf-skip-cache": "TRUE",
            "cf-aig-authorization": "Bearer gw",
            "cf-aig-gateway-id": "gw",
            "X-Trace": "t-1",
        }
    )
    assert options == GatewayOptions(cache_ttl=60, skip_cache=True)
    assert rest == {
        "cf-aig-authorization": "Bearer gw",
        "cf-aig-gateway-id": "gw",
        "X-Trace": "t-1",
    }
    assert options_from_headers(None) == (None, {})
    assert options_from_headers({"x-other": "1"}) == (None, {"x-other": "1"})


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({"cf-aig-cache-ttl": "soon"}, "must be an integer"),
        ({"cf-aig-cache-ttl": "30"}, "cache_ttl=30 is invalid"),
        ({"cf-aig-skip-cache": "yes"}, "true or false"),
        ({"cf-aig-metadata": "[1]"}, "JSON object"),
        ({"cf-aig-metadata": '{"a": {"b": 1}}'}, "must be a string, finite number or boolean"),
        ({"cf-aig-max-attempts": "9"}, "from 1 to 5"),
        ({"cf-aig-cache-tll": "60"}, "not a gateway request header"),
        ({"cf-aig-cache-ttl": "60", "cf-cache-ttl": "120"}, "contradicts"),
    ],
)
def test_options_from_headers_refuses_what_the_gateway_would_ignore_or_reject(
    headers: dict[str, str], match: str
) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        options_from_headers(headers)


def test_the_same_option_twice_with_one_value_is_fine() -> None:
    options, _ = options_from_headers({"cf-aig-cache-ttl": "60", "cf-cache-ttl": "60"})
    assert options == GatewayOptions(cache_ttl=60)


# --- client.chat / stream_chat -------------------------------------------------------------


def sse(*events: dict[str, Any]) -> httpx.Response:
    text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return httpx.Response(200, text=text, headers={"content-type": "text/event-stream"})


def test_chat_uses_the_unified_endpoint(gateway: Gateway, recorder: Recorder) -> None:
    recorder.add(ok_json(COMPLETION, {"cf-aig-log-id": "L1"}))
    client = GatewayClient(
        gateway,
        api_key=PROVIDER_KEY,
        http_client=httpx.Client(transport=httpx.MockTransport(recorder)),
    )
    reply = client.chat(call(temperature=0))
    assert recorder.last.url.path.endswith("/compat/chat/completions")
    assert recorder.json() == {
        "model": "openai/gpt-4o-mini",
        "messages": MESSAGES,
        "temperature": 0,
    }
    assert reply.content == "Hello!"
    assert reply.info.log_id == "L1"


def test_fallback_calls_go_universal_and_stream_as_one_delta(
    gateway: Gateway, recorder: Recorder
) -> None:
    answer = {**COMPLETION, "model": WORKERS.split("/", 1)[1]}
    recorder.add(ok_json(answer, {"cf-aig-step": "1"}), ok_json(answer, {"cf-aig-step": "1"}))
    client = GatewayClient(
        gateway,
        api_key=PROVIDER_KEY,
        http_client=httpx.Client(transport=httpx.MockTransport(recorder)),
    )
    c = ChatCall("openai/gpt-4o-mini", {"messages": MESSAGES}, fallback_models=(WORKERS,))
    reply = client.chat(c)
    assert recorder.last.url.path.endswith("/my-gw")
    assert [s["provider"] for s in recorder.json()] == ["openai", "workers-ai"]
    assert reply.model == WORKERS
    with client.stream_chat(c) as stream:
        deltas = list(stream)
    assert len(deltas) == 1
    assert deltas[0].first
    assert deltas[0].content == "Hello!"
    assert deltas[0].finish_reason == "stop"
    assert stream.reply().model == WORKERS
    assert stream.info.step == 1


async def test_async_stream_chat_folds_deltas(gateway: Gateway, recorder: Recorder) -> None:
    recorder.add(
        sse(
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Hel"}),
            chunk({"content": "lo"}, finish_reason="stop"),
            {**chunk(), "usage": {"prompt_tokens": 2, "completion_tokens": 1}},
        )
    )
    client = AsyncGatewayClient(
        gateway, http_client=httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    )
    stream = await client.stream_chat(call())
    async with stream:
        texts = [d.content async for d in stream]
    assert texts == ["", "Hel", "lo", ""]
    assert recorder.json()["stream"] is True
    assert recorder.json()["stream_options"] == {"include_usage": True}
    reply = stream.reply()
    assert reply.content == "Hello"
    assert reply.usage == Usage(2, 1, 3)
    assert reply.finish_reason == "stop"
