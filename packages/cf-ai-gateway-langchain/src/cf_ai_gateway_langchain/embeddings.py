"""``CloudflareAIGatewayEmbeddings``: LangChain embeddings through Cloudflare AI Gateway.

Embeddings use the provider-native, OpenAI-compatible ``embeddings`` path of the provider
(``/openai/embeddings``, ``/workers-ai/v1/embeddings``, ``/custom-{slug}/embeddings``, ...):
the unified ``/compat`` endpoint has no embeddings.

>>> from cf_ai_gateway_langchain import CloudflareAIGatewayEmbeddings
>>> emb = CloudflareAIGatewayEmbeddings(model="openai/text-embedding-3-small")  # doctest: +SKIP
>>> len(emb.embed_query("hello"))                                               # doctest: +SKIP
1536
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cf_ai_gateway import (
    GatewayOptions,
    InvalidResponseError,
    get_provider,
    merge_options,
    split_model,
)
from langchain_core.embeddings import Embeddings
from pydantic import Field, model_validator

from ._config import GatewaySettings
from ._errors import langchain_errors

__all__ = ["CloudflareAIGatewayEmbeddings"]


class CloudflareAIGatewayEmbeddings(GatewaySettings, Embeddings):
    """Embeddings for Cloudflare AI Gateway (sync and async, batched).

    - ``model``: ``"{provider}/{model}"`` for a provider with an OpenAI-compatible embeddings
      path (``openai``, ``workers-ai``, ``mistral``, ``groq``, ``openrouter``, ``custom-*``).
    - ``dimensions``: output size, for models that support it (``text-embedding-3-*``).
    - ``chunk_size``: texts per request (``embed_documents`` splits larger lists).
    - gateway configuration, ``api_key``, ``gateway_options``, ``timeout`` and ``max_retries``
      as on :class:`~cf_ai_gateway_langchain.ChatCloudflareAIGateway`.

    Example::

        emb = CloudflareAIGatewayEmbeddings(model="openai/text-embedding-3-small",
                                            dimensions=256)
        vectors = emb.embed_documents(["first text", "second text"])
    """

    model: str = Field(alias="model_name")
    dimensions: int | None = None
    chunk_size: int = 512
    """Texts per request (OpenAI accepts up to 2048; providers differ)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra embeddings body fields (``user``, ``encoding_format``...)."""

    @model_validator(mode="after")
    def _check_model(self) -> Any:
        provider = get_provider(split_model(self.model)[0])
        if provider.embeddings_path is None:
            raise ValueError(
                f"provider {provider.slug!r} has no OpenAI-compatible embeddings path on the "
                "gateway (and the unified /compat endpoint has no embeddings)"
            )
        if self.chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        if self.dimensions is not None and self.dimensions < 1:
            raise ValueError("dimensions must be at least 1")
        return self

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"cf_aig_token": "CF_AIG_TOKEN", "api_key": "CF_AIG_PROVIDER_API_KEY"}

    def _options(self, options: GatewayOptions | None) -> GatewayOptions | None:
        return merge_options(self.gateway_options, options)

    def _body(self, texts: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self.dimensions is not None:
            body["dimensions"] = self.dimensions
        body.update(self.model_kwargs)
        return body

    @staticmethod
    def _vectors(data: Any, expected: int) -> list[list[float]]:
        items = data.get("data") if isinstance(data, Mapping) else None
        if not isinstance(items, list) or len(items) != expected:
            raise InvalidResponseError(
                f"the embeddings response has {len(items) if isinstance(items, list) else 'no'} "
                f"vectors for {expected} inputs"
            )
        ordered = sorted(items, key=lambda item: item.get("index", 0))
        return [[float(x) for x in item["embedding"]] for item in ordered]

    def _batches(self, texts: list[str]) -> list[list[str]]:
        return [texts[i : i + self.chunk_size] for i in range(0, len(texts), self.chunk_size)]

    def embed_documents(
        self, texts: list[str], *, gateway_options: GatewayOptions | None = None
    ) -> list[list[float]]:
        """Embed ``texts``, ``chunk_size`` per request."""
        with langchain_errors():
            client = self._get_sync_client("provider")
            vectors: list[list[float]] = []
            for batch in self._batches(list(texts)):
                result = client.embeddings(
                    self._body(batch), options=self._options(gateway_options)
                )
                vectors.extend(self._vectors(result.data, len(batch)))
            return vectors

    def embed_query(
        self, text: str, *, gateway_options: GatewayOptions | None = None
    ) -> list[float]:
        """Embed one text."""
        return self.embed_documents([text], gateway_options=gateway_options)[0]

    async def aembed_documents(
        self, texts: list[str], *, gateway_options: GatewayOptions | None = None
    ) -> list[list[float]]:
        """Async :meth:`embed_documents`."""
        with langchain_errors():
            client = self._get_async_client("provider")
            vectors: list[list[float]] = []
            for batch in self._batches(list(texts)):
                result = await client.embeddings(
                    self._body(batch), options=self._options(gateway_options)
                )
                vectors.extend(self._vectors(result.data, len(batch)))
            return vectors

    async def aembed_query(
        self, text: str, *, gateway_options: GatewayOptions | None = None
    ) -> list[float]:
        """Async :meth:`embed_query`."""
        return (await self.aembed_documents([text], gateway_options=gateway_options))[0]
