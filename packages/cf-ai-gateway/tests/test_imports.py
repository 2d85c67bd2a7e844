from __future__ import annotations

import ast
import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import cf_ai_gateway
import pytest
from pytest_socket import SocketBlockedError

EXPECTED_ALL = [
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


def test_adapter_names_are_public_and_the_same_objects() -> None:
    import cf_ai_gateway.client
    import cf_ai_gateway.config

    assert cf_ai_gateway.DEFAULT_TIMEOUT is cf_ai_gateway.client.DEFAULT_TIMEOUT
    assert cf_ai_gateway.ENV_TOKEN is cf_ai_gateway.config.ENV_TOKEN
    assert cf_ai_gateway.ENV_TOKEN[0] == "CF_AIG_TOKEN"


def test_surfaces_are_defined_once() -> None:
    from typing import get_args

    from cf_ai_gateway import wire

    assert get_args(cf_ai_gateway.Surface) == ("compat", "provider", "rest")
    assert get_args(cf_ai_gateway.Surface) == wire.SURFACES
    assert set(get_args(cf_ai_gateway.URLSurface)) == {*wire.SURFACES, "universal"}
    package = Path(cf_ai_gateway.__file__).parent
    defined = [
        p.name
        for p in package.glob("*.py")
        if re.search(r"^(Surface|URLSurface)\s*=", p.read_text(), re.MULTILINE)
    ]
    assert defined == ["wire.py"]


def test_no_private_names_imported_across_core_modules() -> None:
    package = Path(cf_ai_gateway.__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                names = [a.name for a in node.names if a.name.startswith("_")]
                offenders += [f"{path.name}: {n}" for n in names if n != "__version__"]
    assert offenders == []


def test_version() -> None:
    assert cf_ai_gateway.__version__ == "0.1.0"


def test_management_cli_and_cache_key_load_on_first_use() -> None:
    """``import cf_ai_gateway`` stays as cheap as before: the management client, the cache-key
    helper and the CLI are imported only when a name from them is first used."""
    code = (
        "import json, sys\n"
        "import cf_ai_gateway\n"
        "before = sorted(m for m in sys.modules if m.startswith('cf_ai_gateway'))\n"
        "cf_ai_gateway.ManagementClient, cf_ai_gateway.cache_key_for\n"
        "after = sorted(m for m in sys.modules if m.startswith('cf_ai_gateway'))\n"
        "print(json.dumps([before, after]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    before, after = json.loads(out.stdout)
    lazy = {"cf_ai_gateway.management", "cf_ai_gateway.cache_key", "cf_ai_gateway.cli"}
    assert not lazy & set(before)
    assert {"cf_ai_gateway.management", "cf_ai_gateway.cache_key"} <= set(after)
    assert "cf_ai_gateway.cli" not in after


def test_import_loads_only_what_a_call_needs() -> None:
    """``import cf_ai_gateway`` (after httpx) loads neither asyncio nor the parts a plain call
    does not use: the adapter kit, the streams and their SSE parser, universal steps, the
    capabilities table, the shared clients. Each loads with the first name used from it."""
    code = (
        "import json, sys\n"
        "import httpx\n"
        "before = set(sys.modules)\n"
        "import cf_ai_gateway\n"
        "added = sorted(set(sys.modules) - before)\n"
        "cf_ai_gateway.ChatCall, cf_ai_gateway.ChatCompletionStream\n"
        "cf_ai_gateway.UniversalStep, cf_ai_gateway.ModelCapabilities, cf_ai_gateway.ClientPair\n"
        "print(json.dumps([added, sorted(sys.modules)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    added, after = json.loads(out.stdout)
    lazy = {
        "asyncio",
        "httpx_sse",
        "importlib.resources",
        "cf_ai_gateway.chat",
        "cf_ai_gateway._streams",
        "cf_ai_gateway.universal",
        "cf_ai_gateway.capabilities",
        "cf_ai_gateway.client_pool",
    }
    assert not lazy & set(added)
    assert {m for m in lazy if m.startswith("cf_ai_gateway")} <= set(after)
    assert "cf_ai_gateway.client" in added


def test_every_public_name_is_listed_and_resolves_in_a_fresh_interpreter() -> None:
    """Lazy or not, each name of ``__all__`` is in ``dir()`` and imports with ``from``."""
    code = (
        "import cf_ai_gateway\n"
        "missing = [n for n in cf_ai_gateway.__all__ if n not in dir(cf_ai_gateway)]\n"
        "assert not missing, missing\n"
        "for name in cf_ai_gateway.__all__:\n"
        "    exec(f'from cf_ai_gateway import {name}')\n"
        "from cf_ai_gateway.client import AsyncChatCompletionStream, ChatCompletionStream\n"
        "from cf_ai_gateway._streams import ChatCompletionStream as S\n"
        "assert ChatCompletionStream is S is cf_ai_gateway.ChatCompletionStream\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_lazy_names_are_the_module_objects() -> None:
    import cf_ai_gateway.cache_key
    import cf_ai_gateway.management
    import cf_ai_gateway.management_models

    assert cf_ai_gateway.ManagementClient is cf_ai_gateway.management.ManagementClient
    assert cf_ai_gateway.LogEntry is cf_ai_gateway.management_models.LogEntry
    assert cf_ai_gateway.cache_key_for is cf_ai_gateway.cache_key.cache_key_for
    assert "ManagementClient" in dir(cf_ai_gateway)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        cf_ai_gateway.Nope  # noqa: B018


def test_rich_is_imported_only_where_it_is_used() -> None:
    """rich is an optional extra (``cf-ai-gateway[cli]``): no core module imports it at module
    level, so the core and the CLI work without it. (httpx imports rich by itself when click,
    rich and pygments are all installed, so ``sys.modules`` cannot tell.)"""
    package = Path(cf_ai_gateway.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "rich"]
    assert offenders == []


def test_import_pulls_in_no_framework() -> None:
    code = (
        "import json, sys\n"
        "import cf_ai_gateway\n"
        "from cf_ai_gateway import GatewayClient, AsyncGatewayClient, ManagementClient\n"
        "import cf_ai_gateway.cli\n"
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
