"""Unit tests never touch the network: sockets are disabled (unix sockets stay allowed for the
asyncio event loop) and every HTTP exchange goes through ``httpx.MockTransport`` (see
``gateway_double.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cf_ai_gateway import ENV_PROVIDER_API_KEY, ENV_TOKEN, close_shared_clients
from cf_ai_gateway.config import ENV_ACCOUNT_ID, ENV_GATEWAY_ID, ENV_GATEWAY_URL
from pytest_socket import disable_socket, enable_socket

from .gateway_double import GatewayDouble


@pytest.fixture(autouse=True)
def _offline() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()  # a later suite in the same run may record against an emulator
    close_shared_clients()


@pytest.fixture(autouse=True)
def _no_gateway_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's gateway settings must not leak into unit tests."""
    names = (*ENV_ACCOUNT_ID, *ENV_GATEWAY_ID, *ENV_TOKEN, *ENV_GATEWAY_URL)
    for name in (*names, ENV_PROVIDER_API_KEY, "CF_AIG_BASE_URL", "CF_AIG_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def double() -> GatewayDouble:
    return GatewayDouble()
