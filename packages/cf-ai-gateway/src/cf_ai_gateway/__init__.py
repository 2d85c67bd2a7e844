"""cf-ai-gateway: typed Python access to Cloudflare AI Gateway.

The core: gateway configuration and URLs for every surface, typed per-request options rendered
as validated ``cf-aig-*`` headers, typed response info, one error hierarchy, and sync/async
clients for chat completions (streaming too), embeddings and universal fallback requests.
Framework adapters (LangChain, LlamaIndex, LiteLLM) and the local emulator are extras:
``pip install "cf-ai-gateway[langchain]"``.
"""

from ._requests import Surface
from ._responses import GatewayResult
from ._version import __version__
from .client import (
    AsyncChatCompletionStream,
    AsyncGatewayClient,
    ChatCompletionStream,
    GatewayClient,
)
from .config import Gateway, GatewayConfigError
from .errors import (
    BadRequestError,
    ByokCredentialError,
    ContentBlockedError,
    DLPBlockedError,
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
    StreamInterruptedError,
)
from .options import CustomCost, GatewayOptions, InvalidOptionError
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
from .universal import UniversalStep
from .urls import ParsedGatewayURL, parse_gateway_url

__all__ = [
    "DYNAMIC_PREFIX",
    "NO_RETRY",
    "PROVIDERS",
    "AsyncChatCompletionStream",
    "AsyncGatewayClient",
    "BadRequestError",
    "ByokCredentialError",
    "CacheStatus",
    "ChatCompletionStream",
    "ContentBlockedError",
    "CustomCost",
    "DLPBlockedError",
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
    "GatewayTimeoutError",
    "GuardrailsBlockedError",
    "GuardrailsUnavailableError",
    "InsufficientBalanceError",
    "InvalidOptionError",
    "InvalidResponseError",
    "ModelNotFoundError",
    "ParsedGatewayURL",
    "Provider",
    "ProviderAuthenticationError",
    "ProviderError",
    "RateLimitError",
    "RetryPolicy",
    "StreamInterruptedError",
    "Surface",
    "UniversalStep",
    "__version__",
    "check_chat_model",
    "check_step_model",
    "get_provider",
    "parse_gateway_url",
    "split_model",
]
