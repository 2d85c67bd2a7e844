"""cf-ai-gateway: typed Python access to Cloudflare AI Gateway.

The core: gateway configuration and URLs for every surface, typed per-request options rendered
as validated ``cf-aig-*`` headers, typed response info, one error hierarchy, and sync/async
clients for chat completions (streaming too), embeddings and universal fallback requests; the
management API client (gateways, logs, feedback, dynamic routes), ``cache_key_for``, and the
``cf-ai-gateway`` command line (``doctor``, ``url``, ``logs``, ``gateways``, ``feedback``).
Framework adapters (LangChain, LlamaIndex, LiteLLM) and the local emulator are extras:
``pip install "cf-ai-gateway[langchain]"``.
"""

from typing import TYPE_CHECKING, Any

from ._responses import GatewayResult
from ._version import __version__
from .client import (
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    AsyncGatewayClient,
    GatewayClient,
)
from .config import (
    ENV_PROVIDER_API_KEY,
    ENV_TOKEN,
    Gateway,
    GatewayConfigError,
    model_for_base_url,
    parse_base_url,
    provider_api_key_from_env,
    resolve_gateway,
    token_from_env,
)
from .errors import (
    BadRequestError,
    ByokCredentialError,
    ContentBlockedError,
    DLPBlockedError,
    EdgeBlockedError,
    GatewayAuthenticationError,
    GatewayConnectionError,
    GatewayError,
    GatewayNotFoundError,
    GatewayTimeoutError,
    GuardrailsBlockedError,
    GuardrailsUnavailableError,
    InsufficientBalanceError,
    InvalidResponseError,
    ModelNotFoundError,
    ProviderAuthenticationError,
    ProviderError,
    RateLimitError,
    ResponseTooLargeError,
    SpendLimitError,
    StreamInterruptedError,
)
from .options import (
    CustomCost,
    GatewayOptions,
    InvalidOptionError,
    merge_options,
    options_from_value,
)
from .providers import (
    DYNAMIC_PREFIX,
    PROVIDERS,
    Provider,
    check_chat_model,
    check_step_model,
    get_provider,
    split_model,
)
from .response_info import CacheStatus, GatewayResponseInfo
from .retry import NO_RETRY, RetryPolicy
from .urls import ParsedGatewayURL, parse_gateway_url
from .wire import Surface, URLSurface

if TYPE_CHECKING:
    from ._streams import AsyncChatCompletionStream, ChatCompletionStream
    from .cache_key import cache_key_for
    from .capabilities import ModelCapabilities, model_capabilities
    from .chat import (
        AsyncChatStream,
        ChatCall,
        ChatDelta,
        ChatReply,
        ChatStream,
        ToolCall,
        Usage,
    )
    from .client_pool import (
        ClientConfig,
        ClientPair,
        clients_for,
        close_shared_clients,
        shared_clients,
    )
    from .management import AsyncManagementClient, ManagementClient
    from .management_models import GatewaySettings, LogEntry, LogFilter
    from .universal import UniversalStep

# Imported on first use, so ``import cf_ai_gateway`` loads only what a call needs (PEP 562):
# the management API, the cache-key helper, the capabilities table, the shared clients and
# the adapter kit (``ChatCall`` and its replies, streams and deltas) and the streams.
_LAZY = {
    "AsyncChatCompletionStream": "_streams",
    "ChatCompletionStream": "_streams",
    "AsyncChatStream": "chat",
    "ChatCall": "chat",
    "ChatDelta": "chat",
    "ChatReply": "chat",
    "ChatStream": "chat",
    "ToolCall": "chat",
    "Usage": "chat",
    "AsyncManagementClient": "management",
    "ManagementClient": "management",
    "GatewaySettings": "management_models",
    "LogEntry": "management_models",
    "LogFilter": "management_models",
    "cache_key_for": "cache_key",
    "ModelCapabilities": "capabilities",
    "model_capabilities": "capabilities",
    "ClientConfig": "client_pool",
    "ClientPair": "client_pool",
    "clients_for": "client_pool",
    "close_shared_clients": "client_pool",
    "shared_clients": "client_pool",
    "UniversalStep": "universal",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "DYNAMIC_PREFIX",
    "ENV_PROVIDER_API_KEY",
    "ENV_TOKEN",
    "NO_RETRY",
    "PROVIDERS",
    "AsyncChatCompletionStream",
    "AsyncChatStream",
    "AsyncGatewayClient",
    "AsyncManagementClient",
    "BadRequestError",
    "ByokCredentialError",
    "CacheStatus",
    "ChatCall",
    "ChatCompletionStream",
    "ChatDelta",
    "ChatReply",
    "ChatStream",
    "ClientConfig",
    "ClientPair",
    "ContentBlockedError",
    "CustomCost",
    "DLPBlockedError",
    "EdgeBlockedError",
    "Gateway",
    "GatewayAuthenticationError",
    "GatewayClient",
    "GatewayConfigError",
    "GatewayConnectionError",
    "GatewayError",
    "GatewayNotFoundError",
    "GatewayOptions",
    "GatewayResponseInfo",
    "GatewayResult",
    "GatewaySettings",
    "GatewayTimeoutError",
    "GuardrailsBlockedError",
    "GuardrailsUnavailableError",
    "InsufficientBalanceError",
    "InvalidOptionError",
    "InvalidResponseError",
    "LogEntry",
    "LogFilter",
    "ManagementClient",
    "ModelCapabilities",
    "ModelNotFoundError",
    "ParsedGatewayURL",
    "Provider",
    "ProviderAuthenticationError",
    "ProviderError",
    "RateLimitError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "SpendLimitError",
    "StreamInterruptedError",
    "Surface",
    "ToolCall",
    "URLSurface",
    "UniversalStep",
    "Usage",
    "__version__",
    "cache_key_for",
    "check_chat_model",
    "check_step_model",
    "clients_for",
    "close_shared_clients",
    "get_provider",
    "merge_options",
    "model_capabilities",
    "model_for_base_url",
    "options_from_value",
    "parse_base_url",
    "parse_gateway_url",
    "provider_api_key_from_env",
    "resolve_gateway",
    "shared_clients",
    "split_model",
    "token_from_env",
]
