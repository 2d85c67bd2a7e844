"""The shared gateway scenarios through LiteLLM's SDK: completion, streams (sync and async),
tools, structured output, embeddings, a cache MISS then HIT, metadata in the logs, the
fallback step, and each LiteLLM error class the gateway can be made to answer with; then a
Router that falls back when a gateway rate-limits. Recorded from the emulator into
``cassettes/litellm/test_scenarios/`` and replayed on every LiteLLM line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import litellm
import pytest
from cf_ai_gateway import Gateway, GatewayOptions, ManagementClient
from cf_ai_gateway import errors as core
from cf_ai_gateway_litellm import response_info
from litellm import exceptions as lx

from .conftest import Register

pytestmark = pytest.mark.vcr

MODEL = "cloudflare-ai-gateway/openai/gpt-4o-mini"
EMBED = "cloudflare-ai-gateway/openai/text-embedding-3-small"


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "the city"}},
            "required": ["city"],
        },
    },
}


def test_completion(register: Register) -> None:
    register()
    reply = litellm.completion(model=MODEL, messages=ask("Say hello to LiteLLM."), max_tokens=40)
    assert reply.choices[0].message.content
    assert reply.model == "openai/gpt-4o-mini"
    assert reply.usage.total_tokens > 0
    assert reply._hidden_params["response_cost"] > 0
    info = response_info(reply)
    assert info is not None
    assert info.log_id
    assert info.cache_status == "MISS"


def test_streaming(register: Register) -> None:
    register()
    stream = litellm.completion(
        model=MODEL,
        messages=ask("Write one line about streams."),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert len(chunks) > 3
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert response_info(chunks[0]).log_id == response_info(stream).log_id
    assert chunks[-1].usage.total_tokens > 0


async def test_streaming_async(register: Register) -> None:
    register()
    stream = await litellm.acompletion(
        model=MODEL,
        messages=ask("Write one line about async streams."),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert response_info(chunks[0]).log_id
    assert chunks[-1].usage.total_tokens > 0


def test_tool_calling_round_trip(register: Register) -> None:
    register()
    messages = ask("What is the weather in 'Lisbon'?")
    first = litellm.completion(model=MODEL, messages=messages, tools=[WEATHER])
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Lisbon"}
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "It is sunny in Lisbon."},
    ]
    final = litellm.completion(model=MODEL, messages=messages, tools=[WEATHER])
    assert final.choices[0].message.content
    assert not final.choices[0].message.tool_calls


def test_structured_output(register: Register) -> None:
    register()
    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "Person",
            "schema": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                "required": ["name", "age"],
                "additionalProperties": False,
            },
            "strict": True,
        },
    }
    reply = litellm.completion(
        model=MODEL, messages=ask("'Ada' is 36 years old."), response_format=schema
    )
    person = json.loads(reply.choices[0].message.content)
    assert set(person) == {"name", "age"}
    assert isinstance(person["age"], int)
    loose = litellm.completion(
        model=MODEL,
        messages=ask('Reply in JSON with the keys "city" and "country" for Lisbon.'),
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(loose.choices[0].message.content), dict)


async def test_embeddings(register: Register) -> None:
    register()
    result = litellm.embedding(model=EMBED, input=["alpha", "beta"], extra_body={"dimensions": 8})
    assert [len(item["embedding"]) for item in result.data] == [8, 8]
    assert response_info(result).log_id
    again = await litellm.aembedding(model=EMBED, input=["alpha"], extra_body={"dimensions": 8})
    assert again.data[0]["embedding"] == result.data[0]["embedding"]


def test_cache_miss_then_hit(register: Register) -> None:
    register(gateway_options=GatewayOptions(cache_ttl=3600))
    first = litellm.completion(model=MODEL, messages=ask("What is a cache?"))
    second = litellm.completion(model=MODEL, messages=ask("What is a cache?"))
    assert response_info(first).cache_status == "MISS"
    assert response_info(second).cache_status == "HIT"
    assert second.choices[0].message.content == first.choices[0].message.content
    assert first._hidden_params["response_cost"] > 0
    assert second._hidden_params["response_cost"] == 0.0  # the provider was not called
    fresh = litellm.completion(
        model=MODEL, messages=ask("What is a cache?"), gateway_options={"skip_cache": True}
    )
    assert response_info(fresh).cache_status != "HIT"


def test_metadata_in_logs(register: Register, gateway_factory: Callable[..., Gateway]) -> None:
    gateway = gateway_factory()
    register(gateway, gateway_options=GatewayOptions(metadata={"app": "litellm-tests"}))
    reply = litellm.completion(
        model=MODEL,
        messages=ask("Log me."),
        gateway_options=GatewayOptions(metadata={"user": "u-42"}, event_id="litellm-scenario-1"),
        extra_headers={"cf-aig-metadata": '{"team": "a"}'},  # the openai/ route's way: honoured
    )
    info = response_info(reply)
    assert info.event_id == "litellm-scenario-1"
    with ManagementClient.from_gateway(gateway) as logs:
        entry = logs.get_log(info.log_id)
    assert entry.metadata == {"app": "litellm-tests", "team": "a", "user": "u-42"}


@pytest.mark.emulator_only  # the mock LLM fails every model whose name contains "fail"
def test_fallback_step(register: Register) -> None:
    register()
    reply = litellm.completion(
        model="cloudflare-ai-gateway/openai/gpt-fail",
        messages=ask("Who answers?"),
        fallback_models=["openai/gpt-4o-mini"],
    )
    assert response_info(reply).step == 1
    assert reply.model == "openai/gpt-4o-mini"
    assert reply._hidden_params["response_cost"] > 0  # priced as the model that answered


# --- errors: LiteLLM's own classes, with the gateway's code, log id and the core error ---


def _fails(expected: type[Exception], cause: type[Exception], **call: Any) -> Any:
    call.setdefault("model", MODEL)
    call.setdefault("messages", ask("Fail, please."))
    with pytest.raises(expected) as info:
        litellm.completion(max_retries=0, **call)
    err = info.value
    assert type(err) is expected
    assert isinstance(err.__cause__, cause)
    assert err.log_id == err.__cause__.log_id
    assert err.gateway_code == err.__cause__.code
    return err


@pytest.mark.emulator_only
def test_authentication_error(register: Register, gateway_factory: Callable[..., Gateway]) -> None:
    locked = gateway_factory(authentication=True)
    register(locked, token="not-the-gateway-token")
    err = _fails(lx.AuthenticationError, core.GatewayAuthenticationError)
    assert err.gateway_code == 2009
    assert err.status_code == 401


@pytest.mark.emulator_only
def test_permission_denied(register: Register) -> None:
    register()
    err = _fails(
        lx.PermissionDeniedError,
        core.ProviderAuthenticationError,
        extra_headers={"x-emulator-fault": "fail=403"},
    )
    assert err.log_id


def test_unknown_gateway_is_not_found(
    register: Register, gateway_factory: Callable[..., Gateway]
) -> None:
    register(gateway_factory(create=False))
    err = _fails(lx.NotFoundError, core.GatewayNotFoundError)
    assert err.gateway_code == 2001


@pytest.mark.emulator_only
def test_unknown_model_is_not_found(register: Register) -> None:
    register()
    err = _fails(lx.NotFoundError, core.BadRequestError, model=f"{MODEL}-does-not-exist")
    assert err.log_id


@pytest.mark.emulator_only
def test_bad_request(register: Register) -> None:
    register()
    _fails(lx.BadRequestError, core.BadRequestError, extra_headers={"x-emulator-fault": "fail=400"})


@pytest.mark.emulator_only
def test_rate_limit(register: Register, gateway_factory: Callable[..., Gateway]) -> None:
    register(gateway_factory(rate_limiting_limit=1, rate_limiting_interval=60))
    litellm.completion(model=MODEL, messages=ask("The one request allowed."))
    err = _fails(lx.RateLimitError, core.RateLimitError)
    assert err.gateway_code == 2003
    assert float(err.response.headers["retry-after"]) > 0


@pytest.mark.emulator_only
def test_timeout(register: Register) -> None:
    register()
    err = _fails(
        lx.Timeout,
        core.GatewayTimeoutError,
        model="cloudflare-ai-gateway/openai/slow-400",
        gateway_options={"request_timeout_ms": 50},
    )
    assert err.gateway_code == 2007


@pytest.mark.emulator_only
def test_service_unavailable(register: Register) -> None:
    register()
    _fails(
        lx.ServiceUnavailableError,
        core.ProviderError,
        extra_headers={"x-emulator-fault": "fail=503"},
    )


@pytest.mark.emulator_only
def test_internal_server_error(register: Register) -> None:
    register()
    _fails(
        lx.InternalServerError, core.ProviderError, model="cloudflare-ai-gateway/openai/gpt-fail"
    )


# --- the Router ----------------------------------------------------------------------------


@pytest.mark.emulator_only
@pytest.mark.usefixtures("no_router_sleeps")
def test_router_falls_back_when_a_gateway_rate_limits(
    register: Register, gateway_factory: Callable[..., Gateway]
) -> None:
    register()
    limited = gateway_factory(rate_limiting_limit=1, rate_limiting_interval=60)
    open_ = gateway_factory()
    litellm.completion(model=MODEL, messages=ask("Use up the limit."), api_base=limited.root_url)
    router = litellm.Router(
        model_list=[
            {
                "model_name": "primary",
                "litellm_params": {"model": MODEL, "api_base": limited.root_url},
            },
            {
                "model_name": "backup",
                "litellm_params": {"model": MODEL, "api_base": open_.root_url},
            },
        ],
        fallbacks=[{"primary": ["backup"]}],
        num_retries=2,
        retry_after=0,
    )
    reply = router.completion(model="primary", messages=ask("Who answers?"))
    assert reply.choices[0].message.content
    info = response_info(reply)
    assert info.log_id
    assert open_.gateway_id in reply._hidden_params["api_base"]
