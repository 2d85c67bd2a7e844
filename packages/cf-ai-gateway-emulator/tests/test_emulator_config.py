from __future__ import annotations

import pytest
from cf_ai_gateway_emulator.config import (
    DEFAULT_CONFIG_TOML,
    ConfigError,
    GatewaySettings,
    load_config,
)
from cf_ai_gateway_emulator.dynamic_routes import evaluate_condition, parse_route


def test_default_config_has_the_demo_gateways() -> None:
    config = load_config()
    account = config.accounts["emu-account"]
    assert set(account.gateways) == {"demo", "secure", "cached", "limited", "sliding", "retrying"}
    assert account.gateways["secure"].authentication is True
    assert account.gateways["limited"].rate_limiting_limit == 3
    assert "support" in account.gateways["demo"].routes
    assert load_config(DEFAULT_CONFIG_TOML) == config


@pytest.mark.parametrize(
    ("toml", "path"),
    [
        (
            '[accounts.a.gateways.g]\nrate_limiting_technique = "burst"',
            "accounts.a.gateways.g.rate_limiting_technique",
        ),
        (
            "[accounts.a.gateways.g]\nretry_max_attempts = 9",
            "accounts.a.gateways.g.retry_max_attempts",
        ),
        ("[accounts.a.gateways.g]\ncache_tl = 60", "accounts.a.gateways.g.cache_tl"),
        ('[accounts.a]\napi_tokens = "x"', "accounts.a.api_tokens"),
        ("[accounts.a]\n[mock]\nembedding_dimensions = 0", "mock.embedding_dimensions"),
        ('[accounts.a]\n[mock]\nfaults = "explode"', "mock.faults"),
        ('[accounts.a]\n[providers.nope]\nmode = "mock"', "providers.nope"),
        (
            '[accounts.a]\n[providers.openai]\nmode = "upstream"',
            "providers.openai.upstream_base_url",
        ),
    ],
)
def test_invalid_config_names_the_key(toml: str, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(toml)
    assert info.value.path == path
    assert path in str(info.value)


def test_route_accepts_docs_and_api_spellings() -> None:
    docs = parse_route(
        {
            "name": "r",
            "elements": [
                {"id": "s", "type": "start", "outputs": {"next": {"elementId": "rl"}}},
                {
                    "id": "rl",
                    "type": "rate_limit",
                    "properties": {
                        "limitType": "count",
                        "key": "metadata.user",
                        "limit": 2,
                        "interval": 60,
                    },
                    "outputs": {"success": {"elementId": "e"}},
                },
                {"id": "e", "type": "end"},
            ],
        },
        "r",
    )
    api = parse_route(
        '{"name": "r", "elements": [{"id": "s", "type": "start", "outputs": '
        '{"next": "rl"}}, {"id": "rl", "type": "rate", "properties": {"limit_type":'
        ' "count", "key": "metadata.user", "limit": 2, "window": 60}, "outputs": '
        '{"success": {"elementId": "e"}}}, {"id": "e", "type": "end"}]}',
        "r",
    )
    assert docs == api
    assert docs["elements"]["rl"]["properties"]["interval"] == 60


def test_route_rejects_dangling_outputs() -> None:
    with pytest.raises(ConfigError, match="unknown element"):
        parse_route(
            {
                "name": "r",
                "elements": [
                    {"id": "s", "type": "start", "outputs": {"next": {"elementId": "missing"}}}
                ],
            },
            "r",
        )


def test_conditions() -> None:
    doc = {"metadata": {"plan": "free", "n": 3}}
    assert evaluate_condition({"metadata.plan": {"$eq": "free"}}, doc)
    assert evaluate_condition({"metadata.plan": "free"}, doc)
    assert not evaluate_condition({"metadata.plan": {"$ne": "free"}}, doc)
    assert evaluate_condition(
        {"$or": [{"metadata.n": {"$gt": 5}}, {"metadata.n": {"$lte": 3}}]}, doc
    )
    assert evaluate_condition({"metadata.missing": {"$exists": False}}, doc)
    assert not evaluate_condition({"metadata.missing": {"$gt": 1}}, doc)


def test_gateway_settings_round_trip_to_api() -> None:
    gw = GatewaySettings.from_mapping(
        "g", {"cache_ttl": 60, "rate_limiting_limit": 5, "rate_limiting_interval": 10}, "g"
    )
    api = gw.to_api()
    assert api["cache_ttl"] == 60
    assert api["rate_limiting_technique"] == "fixed"
    assert "routes" not in api
    assert "tokens" not in api
    with pytest.raises(ConfigError, match="go together"):
        GatewaySettings.from_mapping("g", {"rate_limiting_limit": 5}, "g")
