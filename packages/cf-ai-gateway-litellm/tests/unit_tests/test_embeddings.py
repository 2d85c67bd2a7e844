"""Embeddings through the provider-native path, with gateway options, usage and cost."""

from __future__ import annotations

from typing import Any

import litellm
import pytest
from cf_ai_gateway import GatewayOptions
from cf_ai_gateway_litellm import response_info

from .double import ACCOUNT, GATEWAY, PROVIDER_KEY, GatewayDouble

EMBED = "cloudflare-ai-gateway/openai/text-embedding-3-small"


def test_embedding(provider: Any, double: GatewayDouble) -> None:
    result = litellm.embedding(
        model=EMBED,
        input=["alpha", "beta"],
        api_key=PROVIDER_KEY,
        gateway_options=GatewayOptions(cache_ttl=60),
        extra_body={"dimensions": 4},
    )
    seen = double.last
    assert seen.url == (
        f"https://gateway.ai.cloudflare.com/v1/{ACCOUNT}/{GATEWAY}/openai/embeddings"
    )
    assert seen.body == {
        "model": "text-embedding-3-small",
        "input": ["alpha", "beta"],
        "dimensions": 4,
    }
    assert seen.headers["cf-aig-cache-ttl"] == "60"
    assert seen.headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert [len(item["embedding"]) for item in result.data] == [4, 4]
    assert result.model == "openai/text-embedding-3-small"
    assert result.usage.prompt_tokens > 0
    assert response_info(result).log_id == "01ab-log-unit"
    assert result._hidden_params["response_cost"] > 0


async def test_aembedding(provider: Any, double: GatewayDouble) -> None:
    result = await litellm.aembedding(model=EMBED, input="alpha")
    assert len(result.data) == 1
    assert double.last.body["input"] == "alpha"
    assert "authorization" not in double.last.headers
    assert response_info(result).log_id


def test_openai_only_parameters_follow_drop_params(provider: Any, double: GatewayDouble) -> None:
    # LiteLLM refuses dimensions / encoding_format / user for every custom provider's
    # embeddings, and drops them with drop_params; extra_body carries what you need
    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.embedding(model=EMBED, input=["a"], encoding_format="base64")
    litellm.embedding(model=EMBED, input=["a"], encoding_format="base64", drop_params=True)
    assert "encoding_format" not in double.last.body
