"""Errors are both the core's typed errors and, where langchain-core has them (1.x), its own
provider-neutral model errors, so ``except ModelRateLimitError`` in LangChain code catches ours."""

from __future__ import annotations

import pickle
from typing import Any

import httpx
import pytest
from cf_ai_gateway import (
    BadRequestError,
    GatewayAuthenticationError,
    GatewayConnectionError,
    GatewayError,
    ModelNotFoundError,
    ProviderError,
    RateLimitError,
)
from cf_ai_gateway.errors import gateway_error_body
from cf_ai_gateway_langchain import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings
from cf_ai_gateway_langchain._errors import HAS_MODEL_ERRORS, as_langchain_error

from .fake_gateway import FakeGateway, Reply

KEY = "sk-provider-SECRET-456"

lc = pytest.importorskip("langchain_core.exceptions")
needs_model_errors = pytest.mark.skipif(
    not HAS_MODEL_ERRORS, reason="this langchain-core has no provider-neutral model errors"
)


def make(fake: FakeGateway, **kw: Any) -> ChatCloudflareAIGateway:
    return ChatCloudflareAIGateway(
        model="openai/gpt-4o-mini",
        account_id="acc",
        gateway_id="gw",
        api_key=KEY,
        max_retries=0,
        **kw,
        **fake.clients(),
    )


CASES = [
    (Reply(status=429, json={"error": {"message": "slow"}}, headers={"retry-after": "3"}),
     RateLimitError, "ModelRateLimitError"),
    (Reply(status=401, json=gateway_error_body(2009, "Unauthorized", 401)),
     GatewayAuthenticationError, "ModelAuthenticationError"),
    (Reply(status=404, json=gateway_error_body(7003, "no such model", 404)),
     ModelNotFoundError, "ModelNotFoundError"),
    (Reply(status=400, json={"error": {"message": "bad", "type": "invalid_request_error"}}),
     BadRequestError, "ModelInvalidRequestError"),
    (Reply(status=503, json={"error": {"message": "down"}}), ProviderError, "ModelAPIError"),
]  # fmt: skip


@needs_model_errors
@pytest.mark.parametrize(("reply", "core_cls", "native"), CASES)
def test_errors_are_both_core_and_langchain_types(
    reply: Reply, core_cls: type[GatewayError], native: str
) -> None:
    fake = FakeGateway([reply])
    with pytest.raises(getattr(lc, native)) as info:
        make(fake).invoke("hi")
    err = info.value
    assert isinstance(err, core_cls)
    assert type(err).__name__ == core_cls.__name__
    assert err.info.log_id == "01JLOG"
    assert err.is_retryable == err.retryable  # type: ignore[attr-defined]
    assert KEY not in str(err)
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is type(err)
    assert clone.message == err.message


@needs_model_errors
def test_rate_limit_keeps_retry_after_and_is_retryable() -> None:
    fake = FakeGateway([CASES[0][0]])
    with pytest.raises(lc.ModelRateLimitError) as info:
        make(fake).invoke("hi")
    assert info.value.retry_after == 3.0  # type: ignore[attr-defined]
    assert info.value.is_retryable


@needs_model_errors
async def test_streams_and_async_paths_translate_too() -> None:
    fake = FakeGateway([Reply(status=429, json={"error": {"message": "slow"}})])
    llm = make(fake)
    with pytest.raises(lc.ModelRateLimitError):
        list(llm.stream("hi"))
    with pytest.raises(lc.ModelRateLimitError):
        await llm.ainvoke("hi")
    with pytest.raises(lc.ModelRateLimitError):
        [c async for c in llm.astream("hi")]


@needs_model_errors
def test_a_dropped_connection_is_a_connection_error() -> None:
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(lc.ModelConnectionError) as info:
        make(FakeGateway([drop])).invoke("hi")
    assert isinstance(info.value, GatewayConnectionError)


@needs_model_errors
def test_context_overflow_is_langchains_context_overflow() -> None:
    overflow = getattr(lc, "ContextOverflowError", None)
    if overflow is None:
        pytest.skip("this langchain-core has no ContextOverflowError")
    body = {"error": {"message": "too long", "code": "context_length_exceeded"}}
    with pytest.raises(overflow) as info:
        make(FakeGateway([Reply(status=400, json=body)])).invoke("hi")
    assert isinstance(info.value, BadRequestError)


@needs_model_errors
def test_embeddings_translate_too() -> None:
    fake = FakeGateway([Reply(status=429, json={"error": {"message": "slow"}})])
    emb = CloudflareAIGatewayEmbeddings(
        model="openai/text-embedding-3-small",
        account_id="acc",
        gateway_id="gw",
        max_retries=0,
        **fake.clients(),
    )
    with pytest.raises(lc.ModelRateLimitError):
        emb.embed_query("hi")


def test_without_langchain_model_errors_the_core_error_is_raised_unchanged() -> None:
    err = RateLimitError("slow", status_code=429)
    translated = as_langchain_error(err)
    if HAS_MODEL_ERRORS:
        assert translated is not err
        assert isinstance(translated, lc.ModelRateLimitError)
    else:
        assert translated is err
    assert as_langchain_error(translated) is translated  # already translated: unchanged
