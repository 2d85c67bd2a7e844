"""The public surface, and that importing the package stays cheap (LiteLLM takes seconds)."""

from __future__ import annotations

import subprocess
import sys

import cf_ai_gateway_litellm
import pytest


def test_public_names() -> None:
    assert sorted(cf_ai_gateway_litellm.__all__) == [
        "CloudflareAIGatewayLLM",
        "FALLBACKS_PARAM",
        "GatewayOptions",
        "HIDDEN_PARAMS_KEY",
        "OPTIONS_PARAM",
        "PROVIDER",
        "ProviderOptions",
        "__version__",
        "register",
        "response_info",
    ]
    assert cf_ai_gateway_litellm.PROVIDER == "cloudflare-ai-gateway"
    assert cf_ai_gateway_litellm.HIDDEN_PARAMS_KEY == "cf_aig"
    assert cf_ai_gateway_litellm.OPTIONS_PARAM == "gateway_options"
    assert cf_ai_gateway_litellm.FALLBACKS_PARAM == "fallback_models"


def test_importing_the_package_does_not_import_litellm() -> None:
    code = (
        "import sys, cf_ai_gateway_litellm as m\n"
        "m.response_info(None)\n"
        "assert 'litellm' not in sys.modules, 'litellm was imported'\n"
        "m.register\n"
        "assert 'litellm' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_unknown_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="unknown argument"):
        cf_ai_gateway_litellm.register(gateway_token="x")  # type: ignore[call-arg]


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="nope"):
        cf_ai_gateway_litellm.nope  # noqa: B018
