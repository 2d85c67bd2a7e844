"""``CloudflareAIGatewayLLM``: construction, requests, responses, streams, errors, secrets.

Modelled on the tests LlamaIndex runs for its own OpenAI LLM (``test_openai.py``,
``test_llms_openai.py``), with ``httpx.MockTransport`` in place of the OpenAI SDK."""

from __future__ import annotations

import json
import pickle
import warnings
from typing import Any

import httpx
import pytest
from cf_ai_gateway import (
    BadRequestError,
    Gateway,
    GatewayAuthenticationError,
    GatewayConfigError,
    GatewayConnectionError,
    GatewayOptions,
    GatewayResponseInfo,
    InvalidOptionError,
    RateLimitError,
)
from cf_ai_gateway_llamaindex import CloudflareAIGatewayLLM, GatewayRawResponse
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from .gateway_double import LOG_ID, GatewayDouble, Status, Stream, completion_body, delta_chunk

GATEWAY = Gateway(account_id="acc", gateway_id="gw", token="cf-token-secret")
USER = [ChatMessage(role="user", content="Hello there")]


def make(double: GatewayDouble, **kwargs: Any) -> CloudflareAIGatewayLLM:
    kwargs.setdefault("model", "openai/gpt-4o-mini")
    kwargs.setdefault("gateway", GATEWAY)
    return CloudflareAIGatewayLLM(**kwargs, **double.clients())


# --- construction ----------------------------------------------------------------------------


def test_gateway_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_ACCOUNT_ID", "acc")
    monkeypatch.setenv("CF_GATEWAY_ID", "gw")
    monkeypatch.setenv("CF_AIG_TOKEN", "cf-token-secret")
    llm = CloudflareAIGatewayLLM(model="openai/gpt-4o-mini")
    assert (llm.account_id, llm.gateway_id) == ("acc", "gw")
    assert llm.resolved_gateway.token == "cf-token-secret"
    assert llm.api_key is None  # BYOK / Unified Billing unless a key is given


def test_gateway_from_a_pasted_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_AIG_TOKEN", "cf-token-secret")
    llm = CloudflareAIGatewayLLM(
        model="openai/gpt-4o-mini",
        gateway_url="https://gateway.ai.cloudflare.com/v1/acc/gw/compat/chat/completions",
    )
    assert (llm.account_id, llm.gateway_id) == ("acc", "gw")
    assert llm.resolved_gateway.token == "cf-token-secret"


def test_provider_key_only_from_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-never-read")
    assert CloudflareAIGatewayLLM(model="openai/gpt-4o-mini", gateway=GATEWAY).api_key is None
    monkeypatch.setenv("CF_AIG_PROVIDER_API_KEY", "sk-provider")
    llm = CloudflareAIGatewayLLM(model="openai/gpt-4o-mini", gateway=GATEWAY)
    assert llm.api_key is not None
    assert llm.api_key.get_secret_value() == "sk-provider"


def test_missing_gateway_is_the_core_config_error() -> None:
    with pytest.raises(GatewayConfigError, match="CF_ACCOUNT_ID"):
        CloudflareAIGatewayLLM(model="openai/gpt-4o-mini")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": "gpt-4o-mini"}, ValueError, "provider"),
        ({"gateway_options": {"cache_ttl": 5}}, InvalidOptionError, "cache_ttl"),
        ({"gateway_options": {"nope": 1}}, InvalidOptionError, "nope"),
        ({"additional_kwargs": {"openai_api_key": "sk-x"}}, ValueError, "credential"),
        ({"default_headers": {"Authorization": "Bearer x"}}, ValueError, "credential"),
        ({"fallback_models": ["dynamic/route"]}, ValueError, "fallback_models"),
        ({"surface": "rest", "api_key": "sk-x"}, ValueError, "surface='rest'"),
        ({"gateway_url": "https://example.com/v1/other/gw"}, ValueError, "gateway="),
        ({"timeout": 0}, ValueError, "timeout=0"),
        ({"timeout": "60"}, ValueError, "timeout='60'"),
        ({"timeout": httpx.Timeout(60, connect=-1)}, ValueError, "timeout.connect=-1"),
        ({"deadline": float("inf")}, ValueError, "deadline=inf"),
        ({"deadline": True}, ValueError, "deadline=True"),
    ],
)
def test_bad_values_fail_at_construction(kwargs: dict[str, Any], error: type, match: str) -> None:
    kwargs = {"model": "openai/gpt-4o-mini", "gateway": GATEWAY, **kwargs}
    with pytest.raises(error, match=match):
        CloudflareAIGatewayLLM(**kwargs)


def test_metadata() -> None:
    llm = CloudflareAIGatewayLLM(
        model="workers-ai/@cf/meta/llama-3.1-8b-instruct", gateway=GATEWAY, max_tokens=64
    )
    meta = llm.metadata
    assert meta.is_chat_model
    assert meta.is_function_calling_model
    assert meta.model_name == "workers-ai/@cf/meta/llama-3.1-8b-instruct"
    assert meta.num_output == 64
    assert meta.context_window == llm.context_window
    assert llm.class_name() == "CloudflareAIGatewayLLM"


def test_pickling_rebuilds_clients_quietly(
    double: GatewayDouble, caplog: pytest.LogCaptureFixture
) -> None:
    llm = CloudflareAIGatewayLLM(model="openai/gpt-4o-mini", gateway=GATEWAY)
    llm._client_pair("compat")  # a pair with a lock and a pool now exists
    clone = pickle.loads(pickle.dumps(llm))
    assert "unpickleable" not in caplog.text
    assert clone._client_pair("compat").config == llm._client_pair("compat").config


def test_no_secret_in_repr_dict_json_or_pickle(double: GatewayDouble) -> None:
    llm = make(double, api_key="sk-provider-secret", gateway_token="cf-other-secret")
    for text in (repr(llm), str(llm), json.dumps(llm.to_dict()), llm.to_json()):
        for secret in ("sk-provider-secret", "cf-token-secret", "cf-other-secret"):
            assert secret not in text
    clone = pickle.loads(pickle.dumps(make(double, api_key="sk-provider-secret")))
    assert clone.model == "openai/gpt-4o-mini"
    assert clone.resolved_gateway.gateway_id == "gw"


def test_to_dict_is_plain_and_warning_free() -> None:
    options = GatewayOptions(
        cache_ttl=60,
        metadata={"app": "a"},
        custom_cost={"per_token_in": 1e-6, "per_token_out": 2e-6},
    )
    llm = CloudflareAIGatewayLLM(
        model="openai/gpt-4o-mini", gateway=GATEWAY, gateway_options=options
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # LlamaIndex calls to_dict() on every call (< 0.14.23)
        data = llm.to_dict()
    assert data["gateway_options"] == {
        "cache_ttl": 60,
        "metadata": {"app": "a"},
        "custom_cost": {"per_token_in": 1e-6, "per_token_out": 2e-6},
    }
    assert CloudflareAIGatewayLLM.from_dict(data).gateway_options == options


def test_from_dict_rebuilds_the_same_gateway() -> None:
    llm = CloudflareAIGatewayLLM(
        model="openai/gpt-4o-mini", gateway=GATEWAY, gateway_options={"cache_ttl": 60}
    )
    data = json.loads(llm.to_json())
    again = CloudflareAIGatewayLLM.from_dict(data)
    assert (again.account_id, again.gateway_id) == ("acc", "gw")
    assert again.gateway_options == GatewayOptions(cache_ttl=60)


def test_an_httpx_timeout_sets_each_operation_and_round_trips(double: GatewayDouble) -> None:
    timeout = httpx.Timeout(60.0, connect=5.0)
    llm = make(double, timeout=timeout)
    assert llm._sync_client("compat").timeout == timeout
    data = json.loads(llm.to_json())
    assert data["timeout"] == timeout.as_dict()
    assert CloudflareAIGatewayLLM.from_dict(data).timeout == timeout


# --- requests ----------------------------------------------------------------------------------


def test_body_layers_defaults_then_additional_kwargs_then_per_call(double: GatewayDouble) -> None:
    llm = make(double, temperature=0.2, max_tokens=50, additional_kwargs={"top_p": 0.5, "seed": 1})
    llm.chat(USER, seed=7, tools=None, tool_choice=None)
    body = double.last_body
    assert body["model"] == "openai/gpt-4o-mini"
    assert body["messages"] == [{"role": "user", "content": "Hello there"}]
    assert (body["temperature"], body["max_tokens"], body["top_p"], body["seed"]) == (
        0.2,
        50,
        0.5,
        7,
    )
    assert "tools" not in body
    assert "tool_choice" not in body


def test_temperature_is_not_sent_unless_set(double: GatewayDouble) -> None:
    make(double).chat(USER)
    assert "temperature" not in double.last_body
    assert "max_tokens" not in double.last_body


def test_gateway_options_merge_default_and_per_call(double: GatewayDouble) -> None:
    llm = make(double, gateway_options=GatewayOptions(cache_ttl=3600, metadata={"app": "a"}))
    llm.chat(USER, gateway_options={"metadata": {"user": "u-1"}, "event_id": "ev-1"})
    headers = double.requests[-1].headers
    assert headers["cf-aig-cache-ttl"] == "3600"
    assert json.loads(headers["cf-aig-metadata"]) == {"app": "a", "user": "u-1"}
    assert headers["cf-aig-event-id"] == "ev-1"
    assert "gateway_options" not in double.last_body


def test_byok_sends_no_provider_credential(double: GatewayDouble) -> None:
    make(double).chat(USER)
    request = double.requests[-1]
    assert "authorization" not in request.headers
    assert request.headers["cf-aig-authorization"] == "Bearer cf-token-secret"
    make(double, api_key="sk-provider").chat(USER)
    assert double.requests[-1].headers["authorization"] == "Bearer sk-provider"


def test_fallback_models_send_one_universal_request(double: GatewayDouble) -> None:
    double.script(completion_body("from the fallback"))
    llm = make(double, model="openai/gpt-fail", fallback_models=["openai/gpt-4o-mini"])
    reply = llm.chat(USER)
    steps = double.last_body
    assert [s["query"].get("model") for s in steps] == ["gpt-fail", "gpt-4o-mini"]
    assert reply.message.content == "from the fallback"


# --- responses ---------------------------------------------------------------------------------


def test_chat_and_complete(double: GatewayDouble) -> None:
    double.script(completion_body("Paris."), completion_body("Paris."))
    llm = make(double)
    reply = llm.chat(USER)
    assert reply.message.role == MessageRole.ASSISTANT
    assert reply.message.content == "Paris."
    assert reply.additional_kwargs["total_tokens"] == 18
    assert reply.additional_kwargs["cf_aig"]["log_id"] == LOG_ID
    assert reply.additional_kwargs["model"] == "openai/gpt-4o-mini"
    assert isinstance(reply.raw, GatewayRawResponse)
    assert reply.raw["usage"]["total_tokens"] == 18
    assert isinstance(reply.raw.info, GatewayResponseInfo)
    assert reply.raw.info.cache_status == "MISS"
    assert "cf_aig" not in reply.message.additional_kwargs  # never replayed upstream
    done = llm.complete("What is the capital of France?")
    assert done.text == "Paris."
    assert done.additional_kwargs["cf_aig"]["log_id"] == LOG_ID
    assert double.last_body["messages"] == [
        {"role": "user", "content": "What is the capital of France?"}
    ]


def _text_stream() -> Stream:
    return Stream(
        [
            delta_chunk({"role": "assistant"}),
            delta_chunk({"content": "\n\n"}),
            delta_chunk({"content": "2"}),
            delta_chunk({}, "stop"),
            delta_chunk(
                None, usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
            ),
        ]
    )


def test_stream_chat_and_stream_complete(double: GatewayDouble) -> None:
    double.script(_text_stream(), _text_stream())
    llm = make(double)
    chunks = list(llm.stream_chat(USER))
    assert chunks[-1].message.blocks[-1].text == "\n\n2"  # type: ignore[union-attr]
    assert chunks[-1].message.role == MessageRole.ASSISTANT
    assert "".join(c.delta or "" for c in chunks) == "\n\n2"
    assert [c.additional_kwargs.get("total_tokens") for c in chunks][-1] == 7
    assert all(c.additional_kwargs["cf_aig"]["log_id"] == LOG_ID for c in chunks)
    assert chunks[-1].raw["usage"]["total_tokens"] == 7  # TokenCountingHandler reads this
    assert double.bodies[-1]["stream"] is True
    assert double.bodies[-1]["stream_options"] == {"include_usage": True}
    text = list(llm.stream_complete("1+1?"))
    assert text[-1].text == "\n\n2"
    assert text[-1].additional_kwargs["total_tokens"] == 7


def test_stream_merges_tool_call_deltas_by_index(double: GatewayDouble) -> None:
    def call(index: int, **fields: Any) -> dict[str, Any]:
        return {"tool_calls": [{"index": index, **fields}]}

    double.script(
        Stream(
            [
                delta_chunk({"role": "assistant", "content": None}),
                delta_chunk(call(0, id="c0", type="function", function={"name": "add"})),
                delta_chunk(call(1, id="c1", type="function", function={"name": "add"})),
                delta_chunk(call(0, function={"arguments": '{"a": 2, '})),
                delta_chunk(call(1, function={"arguments": '{"a": 10, "b": 20}'})),
                delta_chunk(call(0, function={"arguments": '"b": 3}'})),
                delta_chunk({}, "tool_calls"),
            ]
        )
    )
    llm = make(double)
    *_, last = llm.stream_chat(USER)
    selections = llm.get_tool_calls_from_response(last)
    assert [(s.tool_id, s.tool_kwargs) for s in selections] == [
        ("c0", {"a": 2, "b": 3}),
        ("c1", {"a": 10, "b": 20}),
    ]
    assert len(last.message.additional_kwargs["tool_calls"]) == 2
    assert last.message.content == ""


def test_reasoning_is_reported(double: GatewayDouble) -> None:
    double.script(completion_body("42", reasoning="thinking hard"))
    reply = make(double).chat(USER)
    assert reply.additional_kwargs["reasoning_content"] == "thinking hard"
    assert reply.message.content == "42"


async def test_async_twins(double: GatewayDouble) -> None:
    double.script(completion_body("a"), completion_body("b"), _text_stream(), _text_stream())
    llm = make(double)
    assert (await llm.achat(USER)).message.content == "a"
    assert (await llm.acomplete("x")).text == "b"
    chunks = [c async for c in await llm.astream_chat(USER)]
    assert chunks[-1].message.content == "\n\n2"
    assert chunks[-1].additional_kwargs["total_tokens"] == 7
    texts = [c async for c in await llm.astream_complete("x")]
    assert texts[-1].text == "\n\n2"


# --- errors ------------------------------------------------------------------------------------


AUTH_BODY = {"success": False, "error": [{"code": 2009, "message": "Unauthorized"}]}


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (Status(404, {"error": {"message": "no", "code": "model_not_found"}}), BadRequestError),
        (Status(401, AUTH_BODY), GatewayAuthenticationError),
        (Status(429, {"error": {"message": "slow down"}}), RateLimitError),
    ],
)
def test_errors_are_the_core_typed_errors(
    double: GatewayDouble, answer: Status, error: type[Exception]
) -> None:
    llm = make(double, max_retries=0)
    for call in (lambda: llm.chat(USER), lambda: list(llm.stream_chat(USER))):
        double.script(answer)
        with pytest.raises(error) as info:
            call()
        assert info.value.log_id == LOG_ID  # type: ignore[attr-defined]


def test_transport_failures_are_typed_never_bare_httpx(double: GatewayDouble) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    llm = CloudflareAIGatewayLLM(
        model="openai/gpt-4o-mini",
        gateway=GATEWAY,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(refuse)),
    )
    with pytest.raises(GatewayConnectionError) as info:
        llm.complete("hi")
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_retries_follow_max_retries(double: GatewayDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda _s: None)
    double.script(Status(503, {"error": {"message": "busy"}}), completion_body("ok"))
    assert make(double, max_retries=1).complete("hi").text == "ok"
    assert len(double.requests) == 2
