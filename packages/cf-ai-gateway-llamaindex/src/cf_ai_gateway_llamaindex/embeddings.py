"""``CloudflareAIGatewayEmbedding``, a LlamaIndex ``BaseEmbedding`` whose requests go to the
gateway's provider-native embeddings path (``{root}/openai/embeddings``,
``{root}/workers-ai/v1/embeddings``, ...). There is no embeddings endpoint on ``/compat``, so
``surface`` does not apply here. Usage::

    emb = CloudflareAIGatewayEmbedding(model_name="openai/text-embedding-3-small")
    vector = emb.get_query_embedding("hello")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cf_ai_gateway import GatewayResult, InvalidResponseError, get_provider, split_model
from cf_ai_gateway.chat import looks_like_credential
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import Field

from ._gateway import GatewayFields

__all__ = ["CloudflareAIGatewayEmbedding"]


def _ordered_vectors(result: GatewayResult, sent: int) -> list[list[float]]:
    """The vectors of an OpenAI ``embeddings`` answer in input order (``data[i].index``), one
    per text sent; anything else is an ``InvalidResponseError`` carrying the gateway info."""
    data = result.data.get("data") if isinstance(result.data, Mapping) else None
    count = len(data) if isinstance(data, list) else 0
    if not isinstance(data, list) or count != sent:
        raise InvalidResponseError(
            f"the gateway answered {count} embedding(s) for {sent} text(s)",
            status_code=result.info.status_code,
            info=result.info,
        )
    by_index = {int(item.get("index", position)): item for position, item in enumerate(data)}
    try:
        return [[float(x) for x in by_index[i]["embedding"]] for i in range(sent)]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidResponseError(
            "the embeddings answer is not a list of float vectors indexed 0..n-1",
            status_code=result.info.status_code,
            info=result.info,
        ) from exc


class CloudflareAIGatewayEmbedding(BaseEmbedding, GatewayFields):
    """Embeddings for Cloudflare AI Gateway (query, text and batch; sync and async).

    - ``model_name`` (or ``model``): ``"{provider}/{model}"`` for a provider with an
      OpenAI-compatible embeddings path (``openai``, ``workers-ai``, ``mistral``,
      ``custom-*``, ...).
    - ``dimensions``: output size, for models that support it (``text-embedding-3-*``).
    - ``embed_batch_size``: texts per request (LlamaIndex batches for us; default 10).
    - gateway configuration, ``api_key``, ``gateway_options``, ``timeout`` and
      ``max_retries`` as on :class:`~cf_ai_gateway_llamaindex.CloudflareAIGatewayLLM`.

    Example::

        emb = CloudflareAIGatewayEmbedding(model_name="openai/text-embedding-3-small",
                                           dimensions=256)
        vectors = emb.get_text_embedding_batch(["first text", "second text"])
    """

    dimensions: int | None = Field(default=None, gt=0, description="Output vector size.")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra embeddings body fields (user, ...)."
    )

    def __init__(self, **kwargs: Any) -> None:
        if "model" in kwargs:
            if "model_name" in kwargs:
                raise ValueError("pass model_name= or model=, not both")
            kwargs["model_name"] = kwargs.pop("model")
        kwargs = self._coerce_gateway_kwargs(kwargs)
        for key in kwargs.get("additional_kwargs") or {}:
            if looks_like_credential(str(key)):
                raise ValueError(
                    f"additional_kwargs[{key!r}] looks like a credential: pass the provider "
                    "key as api_key="
                )
        super().__init__(**kwargs)
        provider = get_provider(split_model(self.model_name)[0])
        if provider.embeddings_path is None:
            raise ValueError(
                f"provider {provider.slug!r} has no OpenAI-compatible embeddings path on the "
                "gateway (and the unified /compat endpoint has no embeddings)"
            )
        self._resolve_gateway()

    @classmethod
    def class_name(cls) -> str:
        return "CloudflareAIGatewayEmbedding"

    def _request(self, texts: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_name,
            "input": texts,
            "encoding_format": "float",
            **self.additional_kwargs,
        }
        if self.dimensions is not None:
            body["dimensions"] = self.dimensions
        return body

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        """One request for a batch (LlamaIndex cuts batches of ``embed_batch_size``)."""
        result = self._sync_client("provider").embeddings(
            self._request(texts), options=self.gateway_options
        )
        return _ordered_vectors(result, len(texts))

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        result = await self._async_client("provider").embeddings(
            self._request(texts), options=self.gateway_options
        )
        return _ordered_vectors(result, len(texts))

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return (await self._aget_text_embeddings([text]))[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embeddings([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return (await self._aget_text_embeddings([query]))[0]
