"""Chat through the provider: registration, where a call goes (``register()``, the
environment, LiteLLM's ``api_base`` / ``api_key``), what it sends, and what comes back."""

from __future__ import annotations

from typing import Any

import cf_ai_gateway_litellm
import httpx
import litellm
import pytest
from cf_ai_gateway import GatewayOptions, GatewayResponseInfo
from cf_ai_gateway_litellm import response_info

from .double import ACCOUNT, GATEWAY, PROVIDER_KEY, TOKEN, GatewayDouble, gateway

MODEL = "cloudflare-ai-gateway/openai/gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Say hello"}]
GW_URL = f"https://gateway.ai.cloudflare.com/v1/{ACCOUNT}/{GATEWAY}"


def complete(**kw: Any) -> Any:
    return litellm.completion(model=kw.pop("model", MODEL), messages=MESSAGES, **kw)


# --- registration --------------------------------------------------------------------------


def test_register_replaces_our_entry_and_keeps_other_providers(double: GatewayDouble) -> None:
    other = {"provider": "someone-else", "custom_handler": object()}
    litellm.custom_provider_map = [other]
    first = cf_ai_gateway_litellm.register(gateway(), **double.clients())
    second = cf_ai_gateway_litellm.register(gateway(), **double.clients())
    ours = [e for e in litellm.custom_provider_map if e["provider"] == "cloudflare-ai-gateway"]
    assert ours == [{"provider": "cloudflare-ai-gateway", "custom_handler": second}]
    assert other in litellm.custom_provider_map
    assert first is not second
    assert "cloudflare-ai-gateway" in litellm.provider_list
    assert "cloudflare-ai-gateway" in litellm._custom_providers


def test_a_router_can_be_built_right_after_register(provider: Any) -> None:
    # LiteLLM 1.80's Router resolves providers without running custom_llm_setup() itself
    router = litellm.Router(model_list=[{"model_name": "m", "litellm_params": {"model": MODEL}}])
    assert router.completion(model="m", messages=MESSAGES).choices[0].message.content


def test_the_builtin_cloudflare_route_is_untouched(provider: Any) -> None:
    _, name, _, _ = litellm.get_llm_provider("cloudflare/@cf/meta/llama-3.1-8b-instruct")
    assert name == "cloudflare"


# --- where a call goes ----------------------------------------------------------------------


def test_a_call_goes_to_the_unified_endpoint_with_the_gateway_token(
    provider: Any, double: GatewayDouble
) -> None:
    complete()
    seen = double.last
    assert seen.url == f"{GW_URL}/compat/chat/completions"
    assert seen.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert seen.body["model"] == "openai/gpt-4o-mini"
    assert "authorization" not in seen.headers  # no provider key: BYOK / Unified Billing


def test_model_strings(provider: Any, double: GatewayDouble) -> None:
    for model, sent in (
        ("cloudflare-ai-gateway/dynamic/support", "dynamic/support"),
        (
            "cloudflare-ai-gateway/workers-ai/@cf/meta/llama-3.1-8b-instruct",
            "workers-ai/@cf/meta/llama-3.1-8b-instruct",
        ),
        ("cloudflare-ai-gateway/custom-acme/my-model", "custom-acme/my-model"),
    ):
        complete(model=model)
        assert double.last.body["model"] == sent


def test_openai_api_key_is_never_read(
    monkeypatch: pytest.MonkeyPatch, provider: Any, double: GatewayDouble
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment-0000")
    complete()
    assert "authorization" not in double.last.headers


def test_provider_key_layers(monkeypatch: pytest.MonkeyPatch, double: GatewayDouble) -> None:
    monkeypatch.setenv("CF_AIG_PROVIDER_API_KEY", "sk-env-key-000000")
    cf_ai_gateway_litellm.register(gateway(), **double.clients())
    complete()
    assert double.last.headers["authorization"] == "Bearer sk-env-key-000000"
    cf_ai_gateway_litellm.register(gateway(), api_key=PROVIDER_KEY, **double.clients())
    complete()
    assert double.last.headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    complete(api_key="sk-per-call-000000")
    assert double.last.headers["authorization"] == "Bearer sk-per-call-000000"


def test_gateway_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, double: GatewayDouble
) -> None:
    monkeypatch.setenv("CF_AIG_URL", GW_URL)
    monkeypatch.setenv("CF_AIG_TOKEN", TOKEN)
    cf_ai_gateway_litellm.register(**double.clients())
    complete()
    assert double.last.url == f"{GW_URL}/compat/chat/completions"
    assert double.last.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("api_base", "model", "url", "sent"),
    [
        (GW_URL, MODEL, f"{GW_URL}/compat/chat/completions", "openai/gpt-4o-mini"),
        (f"{GW_URL}/compat", MODEL, f"{GW_URL}/compat/chat/completions", "openai/gpt-4o-mini"),
        # a URL naming a provider: the provider segment may be left out of model names
        # (not for OpenAI's model names: LiteLLM sends a bare one to its own openai route)
        (
            f"{GW_URL}/groq",
            "cloudflare-ai-gateway/llama-3.1-8b-instant",
            f"{GW_URL}/compat/chat/completions",
            "groq/llama-3.1-8b-instant",
        ),
        (f"{GW_URL}/openai/v1", MODEL, f"{GW_URL}/compat/chat/completions", "openai/gpt-4o-mini"),
    ],
)
def test_api_base_takes_a_pasted_gateway_url(
    double: GatewayDouble, api_base: str, model: str, url: str, sent: str
) -> None:
    cf_ai_gateway_litellm.register(token=TOKEN, **double.clients())
    complete(model=model, api_base=api_base)
    assert double.last.url == url
    assert double.last.body["model"] == sent
    assert double.last.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"


def test_api_base_that_is_not_a_gateway_is_refused(provider: Any, double: GatewayDouble) -> None:
    with pytest.raises(litellm.BadRequestError, match="bypass the gateway"):
        complete(api_base="https://api.openai.com/v1")
    assert double.seen == []


def test_no_gateway_configured_is_a_bad_request(double: GatewayDouble) -> None:
    cf_ai_gateway_litellm.register(**double.clients())
    with pytest.raises(litellm.BadRequestError, match="CF_AIG_URL"):
        complete()


# --- what a call sends ------------------------------------------------------------------------

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def test_openai_parameters_pass_through(provider: Any, double: GatewayDouble) -> None:
    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "Person",
            "schema": {"type": "object", "properties": {"name": {"type": "string"}}},
            "strict": True,
        },
    }
    complete(
        temperature=0.2,
        top_p=0.9,
        max_completion_tokens=30,
        stop=["\n\n"],
        seed=7,
        tools=TOOLS,
        tool_choice="auto",
        parallel_tool_calls=False,
        response_format=schema,
        user="end-user-1",
        extra_body={"service_tier": "auto"},
    )
    body = double.last.body
    assert body["temperature"] == 0.2
    assert body["top_p"] == 0.9
    assert body["max_tokens"] == 30  # LiteLLM's own rename for OpenAI-compatible providers
    assert body["stop"] == ["\n\n"]
    assert body["seed"] == 7
    assert body["tools"] == TOOLS
    assert body["tool_choice"] == "auto"
    assert body["parallel_tool_calls"] is False
    assert body["response_format"] == schema
    assert body["user"] == "end-user-1"
    assert body["service_tier"] == "auto"
    assert "stream" not in body
    assert "max_retries" not in body


def test_json_object_response_format(provider: Any, double: GatewayDouble) -> None:
    reply = complete(response_format={"type": "json_object"})
    assert double.last.body["response_format"] == {"type": "json_object"}
    assert reply.choices[0].message.content.startswith("{")


def test_tool_calls_come_back(provider: Any) -> None:
    reply = complete(tools=TOOLS, tool_choice="required")
    call = reply.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert reply.choices[0].finish_reason == "tool_calls"


def test_drop_params_behaves_as_for_builtin_providers(provider: Any, double: GatewayDouble) -> None:
    with pytest.raises(litellm.UnsupportedParamsError):
        complete(reasoning_effort="low")
    complete(reasoning_effort="low", drop_params=True)
    assert "reasoning_effort" not in double.last.body
    complete(reasoning_effort="low", allowed_openai_params=["reasoning_effort"])
    assert double.last.body["reasoning_effort"] == "low"


def test_gateway_options_per_call_over_register_defaults(double: GatewayDouble) -> None:
    cf_ai_gateway_litellm.register(
        gateway(),
        gateway_options=GatewayOptions(cache_ttl=600, metadata={"app": "unit"}),
        **double.clients(),
    )
    complete(gateway_options=GatewayOptions(metadata={"user": "u-1"}, event_id="ev-1"))
    headers = double.last.headers
    assert headers["cf-aig-cache-ttl"] == "600"
    assert headers["cf-aig-metadata"] == '{"app":"unit","user":"u-1"}'
    assert headers["cf-aig-event-id"] == "ev-1"
    assert "gateway_options" not in double.last.body
    complete(gateway_options={"skip_cache": True})
    assert double.last.headers["cf-aig-skip-cache"] == "true"


def test_cf_aig_extra_headers_are_validated_options(provider: Any, double: GatewayDouble) -> None:
    complete(
        extra_headers={"cf-aig-cache-ttl": "120", "cf-aig-metadata": '{"a": 1}', "x-trace": "t"},
        gateway_options={"metadata": {"b": 2}},
    )
    headers = double.last.headers
    assert headers["cf-aig-cache-ttl"] == "120"
    assert headers["cf-aig-metadata"] == '{"a":1,"b":2}'
    assert headers["x-trace"] == "t"
    with pytest.raises(litellm.BadRequestError, match="cache_ttl=5 is invalid"):
        complete(extra_headers={"cf-aig-cache-ttl": "5"})
    with pytest.raises(litellm.BadRequestError, match="not a gateway request header"):
        complete(extra_headers={"cf-aig-cache-tll": "60"})


def test_bad_gateway_options_are_a_bad_request(provider: Any, double: GatewayDouble) -> None:
    with pytest.raises(litellm.BadRequestError, match="max_attempts=9"):
        complete(gateway_options={"max_attempts": 9})
    with pytest.raises(litellm.BadRequestError, match="unknown key"):
        complete(gateway_options={"cache_tll": 60})
    assert double.seen == []


def test_credentials_in_extra_headers_are_routed_to_their_headers(
    double: GatewayDouble,
) -> None:
    cf_ai_gateway_litellm.register(gateway(token=None), **double.clients())
    complete(
        extra_headers={
            "cf-aig-authorization": "Bearer gw-from-header-000",
            "Authorization": f"Bearer {PROVIDER_KEY}",
        }
    )
    headers = double.last.headers
    assert headers["cf-aig-authorization"] == "Bearer gw-from-header-000"
    assert headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert "gw-from-header" not in str(double.last.body)


@pytest.mark.parametrize("name", ["openai_api_key", "access_token", "cf_aig_token"])
def test_a_credential_shaped_keyword_is_refused_and_never_sent(
    provider: Any, double: GatewayDouble, name: str
) -> None:
    with pytest.raises(litellm.BadRequestError, match="looks like a credential") as info:
        complete(**{name: "secret-value-000000"})
    assert "secret-value" not in str(info.value)
    with pytest.raises(litellm.BadRequestError, match="looks like a credential"):
        complete(extra_body={name: "secret-value-000000"})
    assert double.seen == []


def test_a_credential_shaped_header_is_refused(provider: Any, double: GatewayDouble) -> None:
    with pytest.raises(litellm.BadRequestError, match="looks like a credential"):
        complete(extra_headers={"x-goog-api-key": "secret-value-000000"})
    assert double.seen == []


def test_router_max_retries_reach_the_client_not_the_body(
    provider: Any, double: GatewayDouble
) -> None:
    answers = iter([httpx.Response(503, json={"error": {"message": "busy"}})] * 5)
    double.respond = lambda request: next(answers, None)
    with pytest.raises(litellm.ServiceUnavailableError):
        complete(max_retries=0)
    assert len(double.seen) == 1
    assert "max_retries" not in double.seen[0].body


def test_timeout_is_honoured(provider: Any, double: GatewayDouble) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        assert request.extensions["timeout"]["read"] == 12.0
        return httpx.Response(200, json={"choices": []})

    double.respond = slow
    complete(timeout=12)


def test_an_httpx_timeout_bounds_every_operation(provider: Any, double: GatewayDouble) -> None:
    # LiteLLM hands a custom provider the read part of an httpx.Timeout only (it keeps whole
    # ones for its openai, azure and bedrock routes); that one bounds every operation
    timeouts: list[Any] = []
    double.respond = lambda request: timeouts.append(request.extensions["timeout"])
    complete(timeout=httpx.Timeout(30.0, connect=2.0))
    assert set(timeouts[-1].values()) == {30.0}


def test_a_bad_timeout_is_a_bad_request_before_any_request(
    provider: Any, double: GatewayDouble
) -> None:
    with pytest.raises(litellm.BadRequestError, match="timeout=-1"):
        complete(timeout=-1)
    assert double.seen == []


# --- what comes back ----------------------------------------------------------------------------


def test_response_model_usage_and_info(provider: Any) -> None:
    reply = complete()
    assert reply.choices[0].message.content
    assert reply.model == "openai/gpt-4o-mini"
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    info = reply._hidden_params["cf_aig"]
    assert isinstance(info, GatewayResponseInfo)
    assert response_info(reply) is info
    assert info.log_id == "01ab-log-unit"
    assert info.cache_status == "MISS"
    assert reply._hidden_params["additional_headers"]["llm_provider-cf-aig-log-id"] == info.log_id


def test_response_cost_for_a_priced_model(provider: Any) -> None:
    reply = complete()
    cost = reply._hidden_params["response_cost"]
    priced = litellm.model_cost["gpt-4o-mini"]
    usage = reply.usage
    assert cost == pytest.approx(
        usage.prompt_tokens * priced["input_cost_per_token"]
        + usage.completion_tokens * priced["output_cost_per_token"]
    )


def test_a_gateway_cache_hit_costs_nothing(provider: Any, double: GatewayDouble) -> None:
    double.cache_hit = True
    reply = complete()
    assert response_info(reply).cache_status == "HIT"
    assert reply._hidden_params["response_cost"] == 0.0


def test_prices_you_set_are_kept(provider: Any) -> None:
    litellm.register_model(
        {
            "cloudflare-ai-gateway/openai/gpt-4o-mini": {
                "input_cost_per_token": 1.0,
                "output_cost_per_token": 1.0,
                "litellm_provider": "cloudflare-ai-gateway",
                "mode": "chat",
            }
        }
    )
    reply = complete()
    assert reply._hidden_params["response_cost"] == reply.usage.total_tokens


def test_unpriced_models_have_no_cost(provider: Any) -> None:
    reply = complete(model="cloudflare-ai-gateway/custom-acme/my-model")
    assert not reply._hidden_params.get("response_cost")


def test_fallback_models_use_the_universal_endpoint(provider: Any, double: GatewayDouble) -> None:
    reply = complete(
        model="cloudflare-ai-gateway/openai/gpt-fail",
        fallback_models=["workers-ai/@cf/meta/llama-3.1-8b-instruct"],
    )
    assert double.last.url == GW_URL
    assert [step["provider"] for step in double.last.body] == ["openai", "workers-ai"]
    assert response_info(reply).step == 1
    assert reply.model == "workers-ai/@cf/meta/llama-3.1-8b-instruct"


def test_default_fallbacks_from_register(double: GatewayDouble) -> None:
    cf_ai_gateway_litellm.register(
        gateway(), fallback_models=["openai/gpt-4o-mini"], **double.clients()
    )
    reply = complete(model="cloudflare-ai-gateway/openai/gpt-fail")
    assert response_info(reply).step == 1
    assert reply.model == "openai/gpt-4o-mini"
    # priced as the model that answered
    assert reply._hidden_params["response_cost"] > 0


async def test_acompletion(provider: Any, double: GatewayDouble) -> None:
    reply = await litellm.acompletion(
        model=MODEL, messages=MESSAGES, gateway_options={"cache_ttl": 60}
    )
    assert reply.choices[0].message.content
    assert response_info(reply).log_id
    assert double.last.headers["cf-aig-cache-ttl"] == "60"


def test_repr_shows_no_credentials(double: GatewayDouble) -> None:
    handler = cf_ai_gateway_litellm.register(gateway(), api_key=PROVIDER_KEY, **double.clients())
    text = repr(handler)
    assert PROVIDER_KEY not in text
    assert TOKEN not in text
    assert "***" in text


def test_a_router_built_before_the_first_call_still_prices(provider: Any) -> None:
    # the Router inserts a price-less entry for the deployment's model (zero-priced on 1.80)
    deployment = {"model_name": "m", "litellm_params": {"model": MODEL}}
    router = litellm.Router(model_list=[deployment, {**deployment, "model_name": "n"}])
    reply = router.completion(model="m", messages=MESSAGES)
    assert reply._hidden_params["response_cost"] > 0


def test_the_provider_surface_keeps_the_openai_route_path(double: GatewayDouble) -> None:
    # what users of the built-in openai/ route + api_base=.../openai called until now
    cf_ai_gateway_litellm.register(gateway(), surface="provider", **double.clients())
    complete()
    assert double.last.url == f"{GW_URL}/openai/chat/completions"
    assert double.last.body["model"] == "gpt-4o-mini"


def test_a_rest_api_base_uses_the_rest_surface(double: GatewayDouble) -> None:
    cf_ai_gateway_litellm.register(token=TOKEN, **double.clients())
    rest = f"https://api.cloudflare.com/client/v4/accounts/{ACCOUNT}/ai/v1"
    complete(api_base=rest)
    assert double.last.url == f"{rest}/chat/completions"
    assert double.last.headers["authorization"] == f"Bearer {TOKEN}"
