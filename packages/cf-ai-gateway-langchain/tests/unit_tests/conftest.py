"""Unit tests never touch the network: sockets are disabled (unix sockets stay allowed for the
asyncio event loop), and HTTP goes through ``httpx.MockTransport``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()  # other suites in the same run (recording) may need the network


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway configuration of the developer's shell must not leak into unit tests."""
    for name in (
        "CF_ACCOUNT_ID",
        "CLOUDFLARE_ACCOUNT_ID",
        "CF_GATEWAY_ID",
        "GATEWAY_ID",
        "CLOUDFLARE_GATEWAY_ID",
        "CF_AIG_TOKEN",
        "CF_API_TOKEN",
        "CLOUDFLARE_API_TOKEN",
        "CF_AIG_BASE_URL",
        "CF_AIG_API_BASE_URL",
        "CF_AIG_URL",
        "CF_AIG_PROVIDER_API_KEY",
        "LC_OUTPUT_VERSION",
    ):
        monkeypatch.delenv(name, raising=False)
