"""The core's fault matrix through the LlamaIndex LLM's public API (a representative subset):
``chat``/``stream_chat`` and their async twins against a scripted raw server on 127.0.0.1.
Each case: the error type (the core's), the requests the server saw, an elapsed-time bound,
no connection left active."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from cf_ai_gateway import (
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    InvalidResponseError,
    ProviderError,
    StreamInterruptedError,
    close_shared_clients,
)
from cf_ai_gateway.testing import active_connections
from cf_ai_gateway_emulator.rawserver import RawServer, fault
from cf_ai_gateway_llamaindex import CloudflareAIGatewayLLM
from llama_index.core.llms import ChatMessage
from pytest_socket import enable_socket, socket_allow_hosts

HI = [ChatMessage(role="user", content="Hi")]


@pytest.fixture(autouse=True)
def _offline() -> Iterator[None]:
    """Overrides the package's: this module may reach 127.0.0.1 (the scripted server) only."""
    enable_socket()
    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    yield
    enable_socket()
    close_shared_clients()


@pytest.fixture(scope="module")
def server() -> Iterator[RawServer]:
    enable_socket()
    with RawServer(hang_limit=10) as raw:
        yield raw


# (fault, expected error, requests the server sees with max_retries=1, seconds, kinds, model
# settings)
CASES: list[tuple[str, type[GatewayError] | None, int, float, tuple[str, ...], dict[str, Any]]] = [
    ("ok", None, 1, 2.0, ("invoke", "stream"), {}),
    # the retried ones once per mode (a backoff each); the stream-specific ones as streams
    ("503", ProviderError, 2, 2.5, ("invoke",), {}),
    ("closed", GatewayConnectionError, 2, 2.5, ("stream",), {}),
    ("hang", GatewayTimeoutError, 2, 3.0, ("invoke",), {"timeout": 0.3}),
    ("title_page", ProviderError, 2, 2.5, ("stream",), {}),
    ("odd_headers", None, 1, 2.0, ("invoke", "stream"), {}),
    ("not_json", InvalidResponseError, 1, 2.0, ("invoke", "stream"), {}),
    ("no_done", StreamInterruptedError, 1, 2.0, ("stream",), {}),
    ("cut", StreamInterruptedError, 1, 2.0, ("stream",), {}),
    ("drip_body", GatewayTimeoutError, 1, 1.5, ("stream",), {"deadline": 0.6}),
    ("drip_headers", GatewayTimeoutError, 1, 1.5, ("invoke",), {"deadline": 0.6}),
]
MATRIX = [
    pytest.param(name, error, requests, seconds, settings, mode, kind, id=f"{name}-{mode}-{kind}")
    for name, error, requests, seconds, kinds, settings in CASES
    for mode in ("sync", "async")
    for kind in kinds
]


@pytest.mark.parametrize(
    ("name", "error", "requests", "seconds", "settings", "mode", "kind"), MATRIX
)
async def test_fault_matrix_through_llamaindex(
    server: RawServer,
    name: str,
    error: type[GatewayError] | None,
    requests: int,
    seconds: float,
    settings: dict[str, Any],
    mode: str,
    kind: str,
) -> None:
    server.script(fault(name, stream=kind == "stream"))
    llm = CloudflareAIGatewayLLM(
        model="openai/gpt-4o-mini",
        gateway_url=f"{server.url}/v1/acc/gw",
        api_key="sk-test-0001",
        max_retries=1,
        **settings,
    )
    raised: BaseException | None = None
    started = time.monotonic()
    try:
        if mode == "sync":
            if kind == "invoke":
                llm.chat(HI)
            else:
                assert list(llm.stream_chat(HI))
        elif kind == "invoke":
            await llm.achat(HI)
        else:
            assert [c async for c in await llm.astream_chat(HI)]
    except Exception as exc:
        raised = exc
    elapsed = time.monotonic() - started
    client = llm._sync_client("compat") if mode == "sync" else llm._async_client("compat")
    if error is None:
        assert raised is None, repr(raised)
    else:
        assert isinstance(raised, error), repr(raised)
    assert server.requests == requests
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert active_connections(client) == 0
