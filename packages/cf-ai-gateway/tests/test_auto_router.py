"""Auto Router (``cloudflare/auto``) in the core: the request options, the response info, and
the model an adapter reports (the routed one)."""

from __future__ import annotations

from typing import Any

import pytest
from cf_ai_gateway import (
    ChatCall,
    GatewayOptions,
    GatewayResponseInfo,
    InvalidOptionError,
    UniversalStep,
    wire,
)
from cf_ai_gateway.chat import qualified_model_name

HELLO: dict[str, Any] = {"messages": [{"role": "user", "content": "Hi"}]}


def test_routing_options_become_their_headers() -> None:
    options = GatewayOptions(
        allowed_models=["anthropic/*", "openai/gpt-5-mini"],
        allowed_providers=("openai", "anthropic"),
        session_id="chat-42",
        turn_id="turn-3",
        no_session_affinity=True,
    )
    assert options.to_headers() == {
        "cf-aig-allowed-models": "anthropic/*,openai/gpt-5-mini",
        "cf-aig-allowed-providers": "openai,anthropic",
        "cf-aig-session-id": "chat-42",
        "cf-aig-turn-id": "turn-3",
        "cf-aig-no-session-affinity": "true",
    }
    assert options.allowed_models == ("anthropic/*", "openai/gpt-5-mini")  # stored as a tuple
    assert hash(options) == hash(GatewayOptions.from_mapping(dict(options.__dict__)))


def test_per_call_lists_replace_the_defaults() -> None:
    defaults = GatewayOptions(allowed_providers=["openai"], session_id="s")
    merged = defaults.merge(GatewayOptions(allowed_providers=["anthropic"]))
    assert merged.allowed_providers == ("anthropic",)
    assert merged.session_id == "s"


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("allowed_models", "anthropic/*", "not a single string"),
        ("allowed_models", [], "at least one"),
        ("allowed_models", ["*"], "anthropic/*"),
        ("allowed_models", ["openai/a,openai/b"], "comma"),
        ("allowed_models", ["openai/a b"], "whitespace"),
        ("allowed_models", ["openai/x", "openai/x"], "repeat"),
        ("allowed_models", [""], "non-empty"),
        ("allowed_providers", ["openai/gpt-5"], "allowed_models"),
        ("allowed_providers", [3], "non-empty string"),
        ("session_id", "", "non-empty"),
        ("turn_id", "t\n1", "control"),
        ("no_session_affinity", "yes", "True or False"),
    ],
)
def test_routing_options_are_validated(field: str, value: object, rule: str) -> None:
    with pytest.raises(InvalidOptionError, match=rule) as info:
        GatewayOptions(**{field: value})  # type: ignore[arg-type]
    assert info.value.field == field


def test_the_response_info_reads_the_routing_headers() -> None:
    info = GatewayResponseInfo.from_headers(
        {
            "CF-AIG-Routed-Model": "anthropic/claude-sonnet-5",
            "cf-aig-routing-reason": "pinned_by_turn",
            "cf-aig-routing-decision-id": "91e0b970-33f0-4921-b8dc-127412e7b103",
        },
        status_code=200,
        attempts=2,
    )
    assert info.routed_model == "anthropic/claude-sonnet-5"
    assert info.routing_reason == "pinned_by_turn"
    assert info.routing_reason in wire.ROUTING_REASONS
    assert info.routing_decision_id == "91e0b970-33f0-4921-b8dc-127412e7b103"
    assert info.attempts == 2
    assert info.to_dict()["routed_model"] == "anthropic/claude-sonnet-5"
    assert info.to_dict()["attempts"] == 2
    assert GatewayResponseInfo.from_headers({}).routed_model is None


@pytest.mark.parametrize(
    ("routed", "expected"),
    [
        ("openai/gpt-5.6-luna", "openai/gpt-5.6-luna"),
        ("@cf/openai/gpt-oss-20b", "workers-ai/@cf/openai/gpt-oss-20b"),
    ],
)
def test_adapters_report_the_routed_model(routed: str, expected: str) -> None:
    call = ChatCall(wire.AUTO_MODEL, HELLO)
    info = GatewayResponseInfo(routed_model=routed)
    assert call.answered_model(info) == expected
    assert qualified_model_name(call.answered_model(info), "gpt-5.6-luna", info) == expected


def test_without_a_routing_header_the_upstream_model_is_reported() -> None:
    assert qualified_model_name(wire.AUTO_MODEL, "gpt-x", GatewayResponseInfo()) == "gpt-x"
    assert qualified_model_name(wire.AUTO_MODEL, None, None) == wire.AUTO_MODEL


def test_the_auto_router_is_no_fallback_step() -> None:
    with pytest.raises(ValueError, match="Auto Router"):
        ChatCall(wire.AUTO_MODEL, HELLO, fallback_models=("openai/gpt-4o-mini",))
    with pytest.raises(ValueError, match="Auto Router"):
        UniversalStep.chat(wire.AUTO_MODEL, HELLO)
