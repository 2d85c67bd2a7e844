"""Adapters share one pooled client per configuration and never touch a client you pass in:
1,000 LangChain models built with one configuration hold the sockets of one pool (counted
against the in-process emulator), and an ``httpx.Client`` given to a model comes out as it went
in. Needs the emulator in this process (no cassettes)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import httpx
import pytest
from cf_ai_gateway import Gateway, close_shared_clients

pytest.importorskip("cf_ai_gateway_emulator.testing")

from cf_ai_gateway_emulator.testing import EmulatorHandle
from cf_ai_gateway_langchain import ChatCloudflareAIGateway

pytestmark = pytest.mark.emulator_only

MODEL = "openai/gpt-4o-mini"
KEY = "sk-emulator-not-a-real-key"


def open_sockets() -> int:
    """Sockets this process holds (client and, with the in-process emulator, server ends)."""
    try:
        import psutil  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        if not sys.platform.startswith("linux"):
            pytest.skip("counting sockets needs psutil or /proc")
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):  # the directory's own fd is gone by now
                count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        return count
    return len(psutil.Process().net_connections(kind="inet"))


@pytest.fixture
def gateway(emulator: EmulatorHandle) -> Iterator[Gateway]:
    gateway_id = emulator.create_gateway()
    close_shared_clients()
    yield emulator.gateway(gateway_id)
    close_shared_clients()
    emulator.delete_gateway(gateway_id)


def test_a_thousand_models_hold_one_pool(gateway: Gateway) -> None:
    ChatCloudflareAIGateway(model=MODEL, gateway=gateway, api_key=KEY).invoke("Warm up.")
    before = open_sockets()
    for i in range(1000):
        llm = ChatCloudflareAIGateway(model=MODEL, gateway=gateway, api_key=KEY)
        if i % 100 == 0:  # every hundredth model talks to the gateway
            assert llm.invoke("Hi.").content
    after = open_sockets()
    assert after - before <= 2, f"{after - before} sockets opened by 1,000 models"


async def test_a_thousand_models_hold_one_pool_async(gateway: Gateway) -> None:
    await ChatCloudflareAIGateway(model=MODEL, gateway=gateway, api_key=KEY).ainvoke("Warm up.")
    before = open_sockets()
    for i in range(1000):
        llm = ChatCloudflareAIGateway(model=MODEL, gateway=gateway, api_key=KEY)
        if i % 100 == 0:
            assert (await llm.ainvoke("Hi.")).content
    assert open_sockets() - before <= 2


def test_a_client_you_pass_is_used_as_is(gateway: Gateway) -> None:
    http = httpx.Client(headers={"x-mine": "1"}, timeout=7.0)
    before = (dict(http.headers), http.timeout, str(http.base_url), http.event_hooks)
    llm = ChatCloudflareAIGateway(model=MODEL, gateway=gateway, api_key=KEY, http_client=http)
    assert llm.invoke("Hi.").content
    copy = llm.model_copy(update={"temperature": 0.1})
    assert copy.invoke("Hi.").content
    close_shared_clients()
    del llm, copy
    assert (dict(http.headers), http.timeout, str(http.base_url), http.event_hooks) == before
    assert not http.is_closed  # yours to close
    http.close()
