"""``CloudflareAIGatewayEmbedding``: the provider-native embeddings path, batches of
``embed_batch_size``, ``dimensions``, async twins, answers checked, no secret in payloads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cf_ai_gateway import Gateway, GatewayOptions, InvalidResponseError
from cf_ai_gateway_llamaindex import CloudflareAIGatewayEmbedding

from .gateway_double import GatewayDouble

GATEWAY = Gateway(account_id="acc", gateway_id="gw", token="cf-token-secret")


def make(double: GatewayDouble, **kwargs: Any) -> CloudflareAIGatewayEmbedding:
    if "model" not in kwargs:
        kwargs.setdefault("model_name", "openai/text-embedding-3-small")
    return CloudflareAIGatewayEmbedding(gateway=GATEWAY, **kwargs, **double.clients())


def test_batches_go_to_the_provider_path(double: GatewayDouble) -> None:
    emb = make(double, dimensions=4, embed_batch_size=2, api_key="sk-provider-secret")
    vectors = emb.get_text_embedding_batch(["alpha", "beta", "gamma"])
    assert [len(v) for v in vectors] == [4, 4, 4]
    assert [r.url.path for r in double.requests] == ["/v1/acc/gw/openai/embeddings"] * 2
    assert [b["input"] for b in double.bodies] == [["alpha", "beta"], ["gamma"]]
    assert double.bodies[0]["model"] == "text-embedding-3-small"
    assert double.bodies[0]["dimensions"] == 4
    assert double.requests[0].headers["authorization"] == "Bearer sk-provider-secret"
    assert emb.get_query_embedding("alpha") == vectors[0]
    assert emb.get_text_embedding("gamma") == vectors[2]


async def test_async_twins(double: GatewayDouble) -> None:
    emb = make(double, model="openai/text-embedding-3-small", dimensions=4)
    sync = emb.get_text_embedding_batch(["a", "b"])
    assert await emb.aget_text_embedding_batch(["a", "b"]) == sync
    assert await emb.aget_query_embedding("a") == sync[0]
    assert await emb.aget_text_embedding("b") == sync[1]


def test_answers_are_put_back_in_input_order(double: GatewayDouble) -> None:
    double.script({"data": [{"index": 1, "embedding": [2.0]}, {"index": 0, "embedding": [1.0]}]})
    assert make(double).get_text_embedding_batch(["x", "y"]) == [[1.0], [2.0]]


def test_a_short_answer_is_an_invalid_response(double: GatewayDouble) -> None:
    double.script({"data": [{"index": 0, "embedding": [1.0]}]})
    with pytest.raises(InvalidResponseError, match="1 embedding"):
        make(double).get_text_embedding_batch(["x", "y"])


def test_gateway_options_become_headers(double: GatewayDouble) -> None:
    make(double, gateway_options={"cache_ttl": 600}).get_query_embedding("x")
    assert double.requests[0].headers["cf-aig-cache-ttl"] == "600"
    assert make(double).gateway_options is None
    assert make(double, gateway_options=GatewayOptions(skip_cache=True)).gateway_options


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model_name": "anthropic/claude-3-5-haiku"}, "embeddings path"),
        ({"model_name": "openai/x", "model": "openai/y"}, "not both"),
        ({"additional_kwargs": {"api_key": "x"}}, "credential"),
    ],
)
def test_bad_values_fail_at_construction(kwargs: dict[str, Any], match: str) -> None:
    kwargs.setdefault("model_name", "openai/text-embedding-3-small")
    with pytest.raises(ValueError, match=match):
        CloudflareAIGatewayEmbedding(gateway=GATEWAY, **kwargs)


def test_no_secret_in_dict_or_repr(double: GatewayDouble) -> None:
    emb = make(double, api_key="sk-provider-secret")
    for text in (repr(emb), json.dumps(emb.to_dict(), default=str)):
        assert "sk-provider-secret" not in text
        assert "cf-token-secret" not in text
    assert emb.class_name() == "CloudflareAIGatewayEmbedding"
