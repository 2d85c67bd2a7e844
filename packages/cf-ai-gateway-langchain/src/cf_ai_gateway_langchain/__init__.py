"""LangChain integration for Cloudflare AI Gateway.

``ChatCloudflareAIGateway`` (a drop-in for ``ChatOpenAI``) and ``CloudflareAIGatewayEmbeddings``,
built on the ``cf_ai_gateway`` core: every provider behind the gateway, typed gateway options
per call, ``response_metadata["cf_aig"]`` on every answer, and the core's typed errors.

>>> from cf_ai_gateway_langchain import ChatCloudflareAIGateway
>>> llm = ChatCloudflareAIGateway(model="openai/gpt-4o-mini")  # doctest: +SKIP
"""

from __future__ import annotations

try:
    import langchain_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        'cf_ai_gateway_langchain needs langchain-core: install "cf-ai-gateway[langchain]"'
    ) from exc

from .chat_models import ChatCloudflareAIGateway
from .embeddings import CloudflareAIGatewayEmbeddings

__version__ = "0.1.0"

__all__ = [
    "ChatCloudflareAIGateway",
    "CloudflareAIGatewayEmbeddings",
    "__version__",
]
