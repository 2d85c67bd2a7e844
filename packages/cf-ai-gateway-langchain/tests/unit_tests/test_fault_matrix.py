"""The core's fault matrix through the LangChain chat model's public API (a representative
subset): ``invoke``/``stream`` and their async twins against a scripted raw server on
127.0.0.1. Each case: the error type (the core's, which is also LangChain's own model error),
the requests the server saw, an elapsed-time bound, no connection left active."""

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
from cf_ai_gateway_langchain import ChatCloudflareAIGateway
from cf_ai_gateway_langchain._errors import HAS_MODEL_ERRORS
from langchain_core import exceptions as lc_exceptions
from pytest_socket import enable_socket, socket_allow_hosts

MODEL_ERROR: type[Exception] | None = (
    getattr(lc_exceptions, "ModelError", None) if HAS_MODEL_ERRORS else None
)


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
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
async def test_fault_matrix_through_langchain(
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
    model = ChatCloudflareAIGateway(
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
                model.invoke("Hi")
            else:
                assert list(model.stream("Hi"))
        elif kind == "invoke":
            await model.ainvoke("Hi")
        else:
            assert [c async for c in model.astream("Hi")]
    except Exception as exc:
        raised = exc
    elapsed = time.monotonic() - started
    client = model._get_sync_client() if mode == "sync" else model._get_async_client()
    if error is None:
        assert raised is None, repr(raised)
    else:
        assert isinstance(raised, error), repr(raised)
        if MODEL_ERROR is not None:
            assert isinstance(raised, MODEL_ERROR)  # LangChain's own error type too
    assert server.requests == requests
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert active_connections(client) == 0
