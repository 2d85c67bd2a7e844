"""Unit tests of the core: no network. Sockets are disabled for every test (unix sockets stay
allowed: asyncio's event loop uses a socketpair); HTTP goes through ``httpx.MockTransport``.
Tests marked ``local_sockets`` (the fault matrix: a real connection pool against a scripted
server) may use sockets to ``127.0.0.1`` only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from _cf_core_helpers import ACCOUNT, GATEWAY_ID, PROVIDER_KEY, TOKEN, Api, Recorder
from cf_ai_gateway import AsyncGatewayClient, Gateway, GatewayClient, RetryPolicy
from pytest_socket import disable_socket, enable_socket, socket_allow_hosts


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "local_sockets: may open sockets to 127.0.0.1 (and nothing else)"
    )


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("local_sockets"):
        # (a local server fixture, set up before this hook, enables sockets to start)
        enable_socket()
        socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    else:
        disable_socket(allow_unix_socket=True)


@pytest.fixture
def gateway() -> Gateway:
    return Gateway(account_id=ACCOUNT, gateway_id=GATEWAY_ID, token=TOKEN)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


# --- the sync and async clients as twins: one test body runs against both -------------------


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_api(mode: str, gateway: Gateway, recorder: Recorder) -> AsyncIterator[Any]:
    made: list[Api] = []

    def make(**kwargs: Any) -> Api:
        gw = kwargs.pop("gateway", gateway)
        kwargs.setdefault("retry", RetryPolicy(max_retries=2, jitter=0))
        transport = httpx.MockTransport(recorder)
        sleeps: list[float] = []
        client: GatewayClient | AsyncGatewayClient
        if mode == "sync":
            client = GatewayClient(gw, http_client=httpx.Client(transport=transport), **kwargs)
            client._sleep = sleeps.append
        else:
            client = AsyncGatewayClient(
                gw, http_client=httpx.AsyncClient(transport=transport), **kwargs
            )

            async def sleep(delay: float) -> None:
                sleeps.append(delay)

            client._sleep = sleep
        api = Api(client, sleeps)
        made.append(api)
        return api

    yield make
    for api in made:
        if isinstance(api.client, AsyncGatewayClient):
            await api.client._http.aclose()
        else:
            api.client._http.close()


@pytest.fixture
def api(make_api: Any) -> Api:
    return make_api(api_key=PROVIDER_KEY)  # type: ignore[no-any-return]
