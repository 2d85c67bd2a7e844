"""The Auto Router (``cloudflare/auto``): a deterministic choice among the allowed models, session
affinity per turn, fallback to the next model, and the routing headers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cf_ai_gateway import wire
from cf_ai_gateway_emulator.auto_router import CATALOGUE, DEFAULT_MODELS, candidate_pool
from cf_ai_gateway_emulator.mock.scripts import parse_script
from emulator_helpers import ACCOUNT, AUTH, Emu

AUTO = wire.AUTO_MODEL
SHORT = "Say hello."
LONG = " ".join(["Refactor the module and explain every change in detail."] * 12)  # 108 words


def chat(*turns: str, **extra: Any) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for i, text in enumerate(turns):
        if i:
            messages.append({"role": "assistant", "content": "ok"})
        messages.append({"role": "user", "content": text})
    return {"model": AUTO, "messages": messages, **extra}


def routed(r: httpx.Response) -> tuple[str, str]:
    assert r.status_code == 200, r.text
    assert r.headers[wire.H_ROUTING_DECISION_ID]
    return r.headers[wire.H_ROUTED_MODEL], r.headers[wire.H_ROUTING_REASON]


async def test_a_short_task_gets_the_cheapest_default_model(emu: Emu) -> None:
    r = await emu.compat("demo", chat(SHORT))
    assert routed(r) == ("anthropic/claude-fable-5", "cost_optimal_within_pool")
    assert r.json()["model"] == "claude-fable-5"
    (log,) = [entry for entry in emu.state.logs(ACCOUNT, "demo") if entry["model"]]
    assert (log["provider"], log["model"]) == ("anthropic", "claude-fable-5")


async def test_a_longer_task_or_tools_get_a_larger_model(emu: Emu) -> None:
    r = await emu.compat("demo", chat(LONG))
    assert routed(r)[0] == "anthropic/claude-sonnet-5"
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    r = await emu.compat("demo", chat(LONG, tools=[tool]))
    assert routed(r)[0] == "anthropic/claude-opus-5"


async def test_allowed_models_replace_the_defaults(emu: Emu) -> None:
    headers = {wire.H_ALLOWED_MODELS: "openai/*,@cf/openai/gpt-oss-20b"}
    r = await emu.compat("demo", chat(SHORT), **headers)
    assert routed(r) == ("openai/gpt-5.6-luna", "cost_optimal_within_pool")
    one = {wire.H_ALLOWED_MODELS: "@cf/openai/gpt-oss-20b"}
    r = await emu.compat("demo", chat(SHORT), **one)
    assert routed(r) == ("@cf/openai/gpt-oss-20b", "forced_by_candidate_pool")
    assert r.json()["model"] == "@cf/openai/gpt-oss-20b"


async def test_allowed_providers_and_both_headers(emu: Emu) -> None:
    r = await emu.compat("demo", chat(SHORT), **{wire.H_ALLOWED_PROVIDERS: "xai"})
    assert routed(r)[0].startswith("xai/")
    both = {wire.H_ALLOWED_MODELS: "anthropic/*", wire.H_ALLOWED_PROVIDERS: "anthropic,openai"}
    r = await emu.compat("demo", chat(SHORT), **both)
    assert routed(r)[0].startswith("anthropic/")


@pytest.mark.parametrize(
    "headers",
    [
        {wire.H_ALLOWED_MODELS: "*"},  # '*' does not match '/'
        {wire.H_ALLOWED_MODELS: "nope/*"},
        {wire.H_ALLOWED_PROVIDERS: "nope"},
        {wire.H_ALLOWED_MODELS: "xai/*", wire.H_ALLOWED_PROVIDERS: "openai"},
    ],
)
async def test_a_pool_left_empty_is_a_400(emu: Emu, headers: dict[str, str]) -> None:
    r = await emu.compat("demo", chat(SHORT), **headers)
    assert r.status_code == 400
    assert r.json()["error"][0]["code"] == wire.CODE_BAD_REQUEST


async def test_a_session_keeps_its_model_for_the_turn(emu: Emu) -> None:
    session = {wire.H_SESSION_ID: "chat-1"}
    first = routed(await emu.compat("demo", chat(LONG), **session))
    assert first == ("anthropic/claude-sonnet-5", "cost_optimal_within_pool")
    # a tool round trip within the same turn (still one user message): same model, though
    # the new request alone would be a short task
    same_turn = chat(LONG)
    same_turn["messages"] += [
        {"role": "assistant", "content": None, "tool_calls": []},
        {"role": "tool", "tool_call_id": "c1", "content": "done"},
    ]
    assert routed(await emu.compat("demo", same_turn, **session)) == (
        "anthropic/claude-sonnet-5",
        "pinned_by_turn",
    )
    # the next user message starts a new turn: chosen again
    assert routed(await emu.compat("demo", chat(LONG, SHORT), **session)) == (
        "anthropic/claude-fable-5",
        "cost_optimal_within_pool",
    )
    # other sessions and other gateways are not pinned
    other = routed(await emu.compat("demo", chat(SHORT), **{wire.H_SESSION_ID: "chat-2"}))
    assert other[1] == "cost_optimal_within_pool"


async def test_turn_ids_and_no_session_affinity(emu: Emu) -> None:
    headers = {wire.H_SESSION_ID: "s", wire.H_TURN_ID: "t1"}
    assert routed(await emu.compat("demo", chat(LONG), **headers))[1] == "cost_optimal_within_pool"
    assert routed(await emu.compat("demo", chat(SHORT), **headers)) == (
        "anthropic/claude-sonnet-5",
        "pinned_by_turn",
    )
    off = {**headers, wire.H_NO_SESSION_AFFINITY: "true"}
    assert routed(await emu.compat("demo", chat(SHORT), **off)) == (
        "anthropic/claude-fable-5",
        "cost_optimal_within_pool",
    )


async def test_a_failing_model_falls_back_to_the_next(emu: Emu) -> None:
    emu.state.scripts.add(
        parse_script({"answers": [{"fault": "fail=503"}], "model": "claude-fable-5"})
    )
    headers = {wire.H_ALLOWED_MODELS: "openai/gpt-5.6-luna,anthropic/claude-fable-5"}
    r = await emu.compat("demo", chat(SHORT), **headers)
    assert routed(r) == ("openai/gpt-5.6-luna", "fallback_candidate_unavailable")
    logs = emu.state.logs(ACCOUNT, "demo")
    assert [(entry["model"], entry["status_code"]) for entry in logs] == [
        ("claude-fable-5", 503),
        ("gpt-5.6-luna", 200),
    ]


async def test_the_rest_api_and_responses_route_too(emu: Emu) -> None:
    rest = f"/client/v4/accounts/{ACCOUNT}/ai/v1"
    r = await emu.post(
        f"{rest}/chat/completions", chat(SHORT), **AUTH, **{"cf-aig-gateway-id": "demo"}
    )
    assert routed(r)[0] == "anthropic/claude-fable-5"
    r = await emu.post(f"{rest}/responses", {"model": AUTO, "input": SHORT}, **AUTH)
    assert routed(r)[0] == "anthropic/claude-fable-5"
    assert r.json()["object"] == "response"
    messages = {"model": AUTO, "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}
    r = await emu.post(f"{rest}/messages", messages, **AUTH)
    assert r.status_code == 400


async def test_no_text_to_classify(emu: Emu) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    body = {"model": AUTO, "messages": [{"role": "user", "content": [image]}]}
    assert routed(await emu.compat("demo", body)) == (
        DEFAULT_MODELS[0].name,
        "fallback_unsupported_input",
    )


def test_the_catalogue_is_cloudflares_list() -> None:
    assert len(DEFAULT_MODELS) == 7
    assert len(CATALOGUE) == 27
    assert all(1 <= m.tier <= 3 for m in CATALOGUE)
    assert candidate_pool({}) == list(DEFAULT_MODELS)
