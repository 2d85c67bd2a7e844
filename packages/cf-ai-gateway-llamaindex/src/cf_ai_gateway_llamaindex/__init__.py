"""LlamaIndex integration for Cloudflare AI Gateway, on the ``cf_ai_gateway`` core.

- :class:`CloudflareAIGatewayLLM`: a ``FunctionCallingLLM``, a drop-in for ``OpenAI`` /
  ``OpenAILike`` in query engines, agents and workflows;
- :class:`CloudflareAIGatewayEmbedding`: a ``BaseEmbedding``;
- :class:`GatewayRawResponse`: ``ChatResponse.raw`` of both, a ``dict`` with the typed
  gateway info in ``.info``.

Every provider behind the gateway, typed gateway options per call,
``additional_kwargs["cf_aig"]`` on every response, and the core's typed errors.
"""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("llama_index.core") is None:  # pragma: no cover - without the extra
    raise ImportError(
        'cf_ai_gateway_llamaindex needs llama-index-core: install "cf-ai-gateway[llamaindex]"'
    )

from .embeddings import CloudflareAIGatewayEmbedding
from .llms import CloudflareAIGatewayLLM
from .responses import GatewayRawResponse

__all__ = [
    "CloudflareAIGatewayEmbedding",
    "CloudflareAIGatewayLLM",
    "GatewayRawResponse",
    "__version__",
]
__version__ = "0.1.0"
