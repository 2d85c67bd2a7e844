"""CloudflareAIGatewayEmbeddings over a scripted gateway."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from cf_ai_gateway import GatewayOptions
from cf_ai_gateway_langchain import CloudflareAIGatewayEmbeddings

from .fake_gateway import FakeGateway


def embeddings_reply(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    dims = body.get("dimensions", 3)
    data = [
        {"object": "embedding", "index": i, "embedding": [float(len(t))] * dims}
        for i, t in enumerate(texts)
    ]
    data.reverse()  # the order is restored from `index`
    return httpx.Response(
        200,
        json={
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        },
    )


def make(fake: FakeGateway, **kwargs: Any) -> CloudflareAIGatewayEmbeddings:
    params: dict[str, Any] = {
        "model": "openai/text-embedding-3-small",
        "account_id": "acc",
        "gateway_id": "gw",
    }
    params.update(kwargs)
    return CloudflareAIGatewayEmbeddings(**params, **fake.clients())


def test_embed_documents_batches_and_orders() -> None:
    fake = FakeGateway([embeddings_reply])
    emb = make(fake, chunk_size=2, dimensions=4, api_key="sk-test-KEY")
    vectors = emb.embed_documents(["a", "bb", "ccc"])
    assert vectors == [[1.0] * 4, [2.0] * 4, [3.0] * 4]
    assert len(fake.requests) == 2
    req = fake.requests[0]
    assert str(req.url) == "https://gateway.ai.cloudflare.com/v1/acc/gw/openai/embeddings"
    assert json.loads(req.content) == {
        "model": "text-embedding-3-small",
        "input": ["a", "bb"],
        "encoding_format": "float",
        "dimensions": 4,
    }
    assert req.headers["authorization"] == "Bearer sk-test-KEY"
    assert "sk-test-KEY" not in repr(emb)


def test_embed_query_with_options() -> None:
    fake = FakeGateway([embeddings_reply])
    emb = make(fake, gateway_options=GatewayOptions(cache_ttl=600))
    assert emb.embed_query("hey", gateway_options=GatewayOptions(metadata={"k": "v"})) == [
        3.0,
        3.0,
        3.0,
    ]
    assert fake.last.headers["cf-aig-cache-ttl"] == "600"
    assert fake.last.headers["cf-aig-metadata"] == '{"k":"v"}'
    assert "authorization" not in fake.last.headers  # BYOK


async def test_async_twins() -> None:
    fake = FakeGateway([embeddings_reply])
    emb = make(fake, model="workers-ai/@cf/baai/bge-small-en-v1.5")
    assert await emb.aembed_query("x") == [1.0, 1.0, 1.0]
    assert await emb.aembed_documents(["x", "yy"]) == [[1.0] * 3, [2.0] * 3]
    assert str(fake.last.url).endswith("/acc/gw/workers-ai/v1/embeddings")


def test_providers_without_embeddings_are_rejected() -> None:
    with pytest.raises(ValueError, match="no OpenAI-compatible embeddings"):
        CloudflareAIGatewayEmbeddings(model="anthropic/claude", account_id="a", gateway_id="g")


def test_vector_count_mismatch_is_an_error() -> None:
    fake = FakeGateway([lambda r: httpx.Response(200, json={"data": []})])
    from cf_ai_gateway import InvalidResponseError

    with pytest.raises(InvalidResponseError):
        make(fake).embed_query("x")
