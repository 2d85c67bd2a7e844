"""Unit tests of the core: no network. Sockets are disabled for every test (unix sockets stay
allowed: asyncio's event loop uses a socketpair); HTTP goes through ``httpx.MockTransport``."""

from __future__ import annotations

import pytest
from _cf_core_helpers import ACCOUNT, GATEWAY_ID, TOKEN, Recorder
from cf_ai_gateway import Gateway
from pytest_socket import disable_socket


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    disable_socket(allow_unix_socket=True)


@pytest.fixture
def gateway() -> Gateway:
    return Gateway(account_id=ACCOUNT, gateway_id=GATEWAY_ID, token=TOKEN)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
