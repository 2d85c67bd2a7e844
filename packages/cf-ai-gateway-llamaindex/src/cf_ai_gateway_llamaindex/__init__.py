"""LlamaIndex integration for Cloudflare AI Gateway.

``CloudflareAIGatewayLLM`` (a ``FunctionCallingLLM``: a drop-in for ``OpenAI`` /
``OpenAILike`` in query engines, agents and workflows) and ``CloudflareAIGatewayEmbedding``,
built on the ``cf_ai_gateway`` core: every provider behind the gateway, typed gateway options
per call, ``additional_kwargs["cf_aig"]`` on every response, and the core's typed errors.

>>> from cf_ai_gateway_llamaindex import CloudflareAIGatewayLLM
>>> llm = CloudflareAIGatewayLLM(model="openai/gpt-4o-mini")  # doctest: +SKIP
"""

from __future__ import annotations

try:
    import llama_index.core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        'cf_ai_gateway_llamaindex needs llama-index-core: install "cf-ai-gateway[llamaindex]"'
    ) from exc

from .embeddings import CloudflareAIGatewayEmbedding
from .llms import CloudflareAIGatewayLLM
from .responses import GatewayRawResponse

__version__ = "0.1.0"

__all__ = [
    "CloudflareAIGatewayEmbedding",
    "CloudflareAIGatewayLLM",
    "GatewayRawResponse",
    "__version__",
]
