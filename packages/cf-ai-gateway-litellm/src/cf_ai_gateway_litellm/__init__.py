"""LiteLLM provider for Cloudflare AI Gateway: ``cloudflare-ai-gateway/...`` models for the
SDK, the Router and the proxy, built on the ``cf_ai_gateway`` core.

>>> import cf_ai_gateway_litellm
>>> cf_ai_gateway_litellm.PROVIDER
'cloudflare-ai-gateway'

``register()`` (one line) makes ``litellm.completion("cloudflare-ai-gateway/openai/gpt-4o-mini",
...)`` go through your gateway; ``response_info(response)`` reads the gateway's typed
:class:`~cf_ai_gateway.GatewayResponseInfo` back from any response, stream, chunk or error.

Importing this package does not import LiteLLM (which takes seconds): :func:`register` and
:class:`CloudflareAIGatewayLLM` load it on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cf_ai_gateway import GatewayOptions

from ._config import ProviderOptions
from ._info import HIDDEN_PARAMS_KEY, response_info
from ._params import FALLBACKS_PARAM, OPTIONS_PARAM

if TYPE_CHECKING:
    from .provider import CloudflareAIGatewayLLM, register

__version__ = "0.1.0"

PROVIDER = "cloudflare-ai-gateway"
"""The provider name: models are ``cloudflare-ai-gateway/{provider}/{model}``."""

__all__ = [
    "FALLBACKS_PARAM",
    "HIDDEN_PARAMS_KEY",
    "OPTIONS_PARAM",
    "PROVIDER",
    "CloudflareAIGatewayLLM",
    "GatewayOptions",
    "ProviderOptions",
    "__version__",
    "register",
    "response_info",
]

_LAZY = {"CloudflareAIGatewayLLM", "register"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        from . import provider
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] == "litellm":
            raise ImportError(
                'cf_ai_gateway_litellm needs litellm: install "cf-ai-gateway[litellm]"'
            ) from exc
        raise
    return getattr(provider, name)
