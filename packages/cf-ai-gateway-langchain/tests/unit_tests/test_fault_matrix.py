"""The core's fault matrix through the LangChain chat model's public API (a representative
subset): ``invoke``/``stream`` and their async twins against a scripted raw server on
127.0.0.1. Each case: the error type (the core's, which is also LangChain's own model error),
the requests the server saw, an elapsed-time bound, no connection left active."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from cf_ai_gateway import close_shared_clients
from cf_ai_gateway.testing import active_connections
from cf_ai_gateway_emulator.rawserver import ADAPTER_SAMPLE, ENDED_BY, RawServer, fault, outcome
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


# what the core raises and the requests the server sees (max_retries=1) are
# rawserver.outcome's, which the core's own matrix holds for every fault
MATRIX = [
    pytest.param(name, mode, stream, id=f"{name}-{mode}-{'stream' if stream else 'invoke'}")
    for name, streams in ADAPTER_SAMPLE
    for mode in ("sync", "async")
    for stream in streams
]


@pytest.mark.parametrize(("name", "mode", "stream"), MATRIX)
async def test_fault_matrix_through_langchain(
    raw_server: RawServer, name: str, mode: str, stream: bool
) -> None:
    expected = outcome(name, stream=stream)
    settings = ENDED_BY.get(name, {})
    raw_server.script(fault(name, stream=stream))
    model = ChatCloudflareAIGateway(
        model="openai/gpt-4o-mini",
        gateway_url=f"{raw_server.url}/v1/acc/gw",
        api_key="sk-test-0001",
        max_retries=1,
        **settings,
    )
    raised: BaseException | None = None
    started = time.monotonic()
    try:
        if mode == "sync":
            if stream:
                assert list(model.stream("Hi"))
            else:
                model.invoke("Hi")
        elif stream:
            assert [c async for c in model.astream("Hi")]
        else:
            await model.ainvoke("Hi")
    except Exception as exc:
        raised = exc
    elapsed = time.monotonic() - started
    client = model._get_sync_client() if mode == "sync" else model._get_async_client()
    if expected.error is None:
        assert raised is None, repr(raised)
    else:
        assert isinstance(raised, expected.error), repr(raised)
        if MODEL_ERROR is not None:
            assert isinstance(raised, MODEL_ERROR)  # LangChain's own error type too
    assert raw_server.requests == expected.requests
    assert elapsed < 2.0 + sum(settings.values()) * expected.requests, f"took {elapsed:.2f} s"
    assert active_connections(client) == 0
