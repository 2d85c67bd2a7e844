from __future__ import annotations

import json
import socket
import subprocess
import sys

import cf_ai_gateway
import pytest
from pytest_socket import SocketBlockedError

EXPECTED_ALL = [
    "DYNAMIC_PREFIX",
    "ENV_PROVIDER_API_KEY",
    "NO_RETRY",
    "PROVIDERS",
    "AsyncChatCompletionStream",
    "AsyncChatStream",
    "AsyncGatewayClient",
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
    "ModelCapabilities",
    "ModelNotFoundError",
    "ParsedGatewayURL",
    "Provider",
    "ProviderAuthenticationError",
    "ProviderError",
    "RateLimitError",
    "RetryPolicy",
    "StreamInterruptedError",
    "Surface",
    "ToolCall",
    "UniversalStep",
    "Usage",
    "__version__",
    "check_chat_model",
    "check_step_model",
    "close_shared_clients",
    "get_provider",
    "merge_options",
    "model_capabilities",
    "model_for_base_url",
    "options_from_value",
    "parse_base_url",
    "parse_gateway_url",
    "provider_api_key_from_env",
    "shared_clients",
    "split_model",
]

FRAMEWORKS = (
    "langchain",
    "langchain_core",
    "llama_index",
    "litellm",
    "starlette",
    "fastapi",
    "vcr",
    "yaml",
    "pydantic",
    "cf_ai_gateway_emulator",
    "cf_ai_gateway_langchain",
    "cf_ai_gateway.testing",
)


def test_all_is_pinned() -> None:
    assert cf_ai_gateway.__all__ == EXPECTED_ALL
    for name in EXPECTED_ALL:
        assert hasattr(cf_ai_gateway, name), name


def test_version() -> None:
    assert cf_ai_gateway.__version__ == "0.1.0"


def test_import_pulls_in_no_framework() -> None:
    code = (
        "import json, sys\n"
        "import cf_ai_gateway\n"
        "from cf_ai_gateway import GatewayClient, AsyncGatewayClient\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    modules = set(json.loads(out.stdout))
    assert "cf_ai_gateway" in modules
    assert "httpx" in modules
    loaded = sorted(m for m in modules if m.split(".")[0] in FRAMEWORKS or m in FRAMEWORKS)
    assert loaded == []


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_sockets_are_disabled_in_this_suite() -> None:
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
