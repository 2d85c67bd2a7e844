"""BYOK and Unified Billing, emulated: stored provider keys with aliases, credits, spend limits,
and the REST API's answers for a refused token and a refused provider key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cf_ai_gateway import wire
from cf_ai_gateway_emulator.clock import ManualClock
from cf_ai_gateway_emulator.config import ConfigError, load_config
from emulator_helpers import ACCOUNT, AUTH, CHAT, Emu

STORED = "sk-stored-byok-key-0001"
TEAM = "sk-stored-team-key-0002"
CALLER = {"authorization": "Bearer sk-caller-key-0003"}
REST = f"/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions"


def last_log(emu: Emu, gateway: str) -> dict[str, Any]:
    return emu.state.logs(ACCOUNT, gateway)[-1]


def code_of(body: dict[str, Any]) -> int:
    return int(body["error"][0]["code"])


async def test_no_key_uses_the_stored_key_and_the_log_says_so(emu: Emu) -> None:
    emu.add_gateway("byok", provider_keys={"openai": {"default": STORED, "team-a": TEAM}})
    r = await emu.compat("byok")
    assert r.status_code == 200
    log = last_log(emu, "byok")
    assert (log["credential_source"], log["byok_alias"]) == ("byok", "default")
    r = await emu.compat("byok", None, **{wire.H_BYOK_ALIAS: "team-a"})
    assert r.status_code == 200
    assert last_log(emu, "byok")["byok_alias"] == "team-a"
    r = await emu.compat("byok", None, **CALLER)
    assert last_log(emu, "byok")["credential_source"] == "caller"
    # a provider without a stored key falls to Unified Billing
    r = await emu.compat("byok", {**CHAT, "model": "groq/llama-3.1-8b-instant"})
    assert last_log(emu, "byok")["credential_source"] == "unified_billing"
    everything = json.dumps(emu.state.logs(ACCOUNT, "byok"))
    assert STORED not in everything
    assert TEAM not in everything


async def test_the_stored_key_reaches_a_pass_through_upstream_header(emu: Emu) -> None:
    """Injected into the provider's own credential header (x-api-key for Anthropic)."""
    from cf_ai_gateway_emulator.pipeline.context import RequestContext
    from cf_ai_gateway_emulator.pipeline.credentials import Credential, resolve_credential

    emu.add_gateway("byok", provider_keys={"anthropic": STORED, "elevenlabs": STORED})
    gateway = emu.state.get_gateway(ACCOUNT, "byok")
    assert gateway is not None
    ctx = RequestContext(emu.state, ACCOUNT, gateway, {}, "provider")
    anthropic = resolve_credential(ctx, "anthropic", {})
    assert isinstance(anthropic, Credential)
    assert anthropic.headers["x-api-key"] == STORED
    eleven = resolve_credential(ctx, "elevenlabs", {})
    assert isinstance(eleven, Credential)
    assert eleven.headers == {"xi-api-key": STORED}
    assert STORED not in repr(anthropic)


async def test_an_unknown_alias_is_400_code_2040(emu: Emu) -> None:
    emu.add_gateway("byok", provider_keys={"openai": STORED})
    r = await emu.compat("byok", None, **{wire.H_BYOK_ALIAS: "nope"})
    assert r.status_code == 400
    assert code_of(r.json()) == wire.CODE_BYOK_MISSING_KEY
    assert "'nope'" in r.json()["error"][0]["message"]
    assert last_log(emu, "byok")["status_code"] == 400


async def test_no_wholesale_without_a_credential_is_400(emu: Emu) -> None:
    emu.add_gateway("byok", provider_keys={"openai": STORED})
    no_wholesale = {wire.H_NO_WHOLESALE: "true"}
    assert (await emu.compat("byok", None, **no_wholesale)).status_code == 200  # stored key
    r = await emu.compat("byok", {**CHAT, "model": "groq/llama-3.1-8b-instant"}, **no_wholesale)
    assert r.status_code == 400
    assert wire.H_NO_WHOLESALE in r.json()["error"][0]["message"]
    caller = await emu.compat("byok", {**CHAT, "model": "groq/x"}, **no_wholesale, **CALLER)
    assert caller.status_code == 200


async def test_exhausted_credits_answer_402(emu: Emu) -> None:
    emu.add_gateway("billing", credits=0.000005)
    assert (await emu.compat("billing")).status_code == 200  # crosses the balance
    r = await emu.compat("billing")
    assert r.status_code == 402
    assert code_of(r.json()) == wire.CODE_UNIFIED_BILLING_CREDITS == 2005
    assert (await emu.compat("billing", None, **CALLER)).status_code == 200  # own key: own bill
    emu.add_gateway("empty", credits=0)
    assert (await emu.compat("empty")).status_code == 402


async def test_a_spend_limit_answers_429_with_its_window(emu: Emu, clock: ManualClock) -> None:
    emu.add_gateway(
        "limited", provider_keys={"openai": STORED}, spend_limits=[{"limit": 1e-6, "window": 3600}]
    )
    assert (await emu.compat("limited")).status_code == 200
    r = await emu.compat("limited")
    assert r.status_code == 429
    assert code_of(r.json()) == wire.CODE_SPEND_LIMIT == 2041
    assert r.headers["retry-after"] == "3600"  # 12:00:00, fixed hourly window
    assert "the window ends in 3600 s" in r.json()["error"][0]["message"]
    clock.advance(1800)
    assert (await emu.compat("limited")).headers["retry-after"] == "1800"
    assert (await emu.compat("limited", None, **CALLER)).status_code == 200  # the caller's key
    clock.advance(1800)
    assert (await emu.compat("limited")).status_code == 200  # a new window


async def test_spend_limits_filter_and_split(emu: Emu) -> None:
    rule = {
        "limit": 1e-6,
        "window": 60,
        "model": "openai/gpt-4o-mini",
        "split_by": ["metadata.user"],
    }
    emu.add_gateway("split", spend_limits=[rule])

    async def ask(user: str, model: str = "openai/gpt-4o-mini") -> int:
        meta = {wire.H_METADATA: json.dumps({"user": user})}
        return (await emu.compat("split", {**CHAT, "model": model}, **meta)).status_code

    assert [await ask("a"), await ask("a"), await ask("b")] == [200, 429, 200]
    assert await ask("a", "groq/llama-3.1-8b-instant") == 200  # another model: no rule


async def test_sliding_spend_windows(emu: Emu, clock: ManualClock) -> None:
    rule = {"limit": 1e-6, "window": 60, "technique": "sliding"}
    emu.add_gateway("sliding", spend_limits=[rule])
    assert (await emu.compat("sliding")).status_code == 200
    clock.advance(30)
    r = await emu.compat("sliding")
    assert r.status_code == 429
    assert r.headers["retry-after"] == "30"


async def test_rest_refused_token_is_the_v4_authentication_error(emu: Emu) -> None:
    r = await emu.post(REST, CHAT, authorization="Bearer wrong")
    assert r.status_code == 401
    assert r.json()["errors"][0]["code"] == wire.CODE_API_AUTHENTICATION


async def test_rest_provider_refusing_the_stored_key_is_2009(emu: Emu) -> None:
    emu.add_gateway("byok", provider_keys={"openai": STORED})
    r = await emu.post(
        REST, CHAT, **AUTH, **{wire.H_GATEWAY_ID: "byok", "x-emulator-fault": "fail=401"}
    )
    assert r.status_code == 401
    assert code_of(r.json()) == wire.CODE_UNAUTHORIZED
    assert "refused the credential" in r.json()["error"][0]["message"]


@pytest.mark.parametrize(
    ("settings", "path"),
    [
        ({"provider_keys": {"nope": "k"}}, "provider_keys.nope"),
        ({"provider_keys": {"openai": {"default": ""}}}, "provider_keys.openai.default"),
        ({"credits": "lots"}, "credits"),
        ({"spend_limits": [{"limit": -1, "window": 60}]}, "spend_limits[0].limit"),
        ({"spend_limits": [{"limit": 1, "window": 0}]}, "spend_limits[0].window"),
        ({"spend_limits": [{"limit": 1, "window": 9, "split_by": ["user"]}]}, "split_by"),
        ({"spend_limits": [{"limit": 1, "window": 9, "per": "day"}]}, "spend_limits[0].per"),
    ],
)
def test_config_errors_name_the_key(settings: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"accounts": {"a": {"gateways": {"g": settings}}}})
    assert path in info.value.path


def test_stored_keys_are_never_shown() -> None:
    config = load_config(
        {"accounts": {"a": {"gateways": {"g": {"provider_keys": {"openai": STORED}}}}}}
    )
    gateway = config.accounts["a"].gateways["g"]
    assert STORED not in repr(gateway)
    assert STORED not in json.dumps(gateway.to_api())
    with pytest.raises(ConfigError) as info:
        load_config(
            {"accounts": {"a": {"gateways": {"g": {"provider_keys": {"openai": [STORED]}}}}}}
        )
    assert STORED not in str(info.value)
