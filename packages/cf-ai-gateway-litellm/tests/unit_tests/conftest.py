"""Unit tests: no network (sockets disabled, unix sockets kept for the event loop), answers
from a gateway double on ``httpx.MockTransport``, LiteLLM's cost map from its wheel, and
LiteLLM's global state restored after every test."""

from __future__ import annotations

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # before LiteLLM is imported

from collections.abc import Iterator
from typing import Any

import cf_ai_gateway_litellm
import litellm
import pytest
from cf_ai_gateway import config
from pytest_socket import disable_socket, enable_socket

from .double import GatewayDouble, gateway

_ENV = (
    # everything the core reads, so the developer's shell cannot leak into a test
    *config.ENV_ACCOUNT_ID,
    *config.ENV_GATEWAY_ID,
    *config.ENV_TOKEN,
    *config.ENV_BASE_URL,
    *config.ENV_API_BASE_URL,
    *config.ENV_GATEWAY_URL,
    config.ENV_PROVIDER_API_KEY,
    "OPENAI_API_KEY",  # never read: tests set it to prove that
)


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _litellm_state() -> Iterator[None]:
    """What our tests (and LiteLLM itself) change globally, put back afterwards."""
    saved: dict[str, Any] = {
        name: list(getattr(litellm, name))
        for name in ("custom_provider_map", "_custom_providers", "provider_list", "callbacks")
    }
    drop_params = litellm.drop_params
    costs = set(litellm.model_cost)
    yield
    for name, value in saved.items():
        setattr(litellm, name, value)
    litellm.drop_params = drop_params
    for key in set(litellm.model_cost) - costs:
        del litellm.model_cost[key]


@pytest.fixture
def double() -> GatewayDouble:
    return GatewayDouble()


@pytest.fixture
def provider(double: GatewayDouble) -> Any:
    """The provider registered on the double's gateway, without a provider key (BYOK)."""
    return cf_ai_gateway_litellm.register(gateway(), **double.clients())
