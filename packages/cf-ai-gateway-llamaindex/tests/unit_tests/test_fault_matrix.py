"""The core's fault matrix through the LlamaIndex LLM's public API (a representative subset):
``chat``/``stream_chat`` and their async twins against a scripted raw server on 127.0.0.1.
Each case: the error type (the core's), the requests the server saw, an elapsed-time bound,
no connection left active."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from cf_ai_gateway import close_shared_clients
from cf_ai_gateway.testing import active_connections
from cf_ai_gateway_emulator.rawserver import ADAPTER_SAMPLE, ENDED_BY, RawServer, fault, outcome
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


# what the core raises and the requests the server sees (max_retries=1) are
# rawserver.outcome's, which the core's own matrix holds for every fault
MATRIX = [
    pytest.param(name, mode, stream, id=f"{name}-{mode}-{'stream' if stream else 'invoke'}")
    for name, streams in ADAPTER_SAMPLE
    for mode in ("sync", "async")
    for stream in streams
]


@pytest.mark.parametrize(("name", "mode", "stream"), MATRIX)
async def test_fault_matrix_through_llamaindex(
    raw_server: RawServer, name: str, mode: str, stream: bool
) -> None:
    expected = outcome(name, stream=stream)
    settings = ENDED_BY.get(name, {})
    raw_server.script(fault(name, stream=stream))
    llm = CloudflareAIGatewayLLM(
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
                assert list(llm.stream_chat(HI))
            else:
                llm.chat(HI)
        elif stream:
            assert [c async for c in await llm.astream_chat(HI)]
        else:
            await llm.achat(HI)
    except Exception as exc:
        raised = exc
    elapsed = time.monotonic() - started
    client = llm._sync_client("compat") if mode == "sync" else llm._async_client("compat")
    if expected.error is None:
        assert raised is None, repr(raised)
    else:
        assert isinstance(raised, expected.error), repr(raised)
    assert raw_server.requests == expected.requests
    assert elapsed < 2.0 + sum(settings.values()) * expected.requests, f"took {elapsed:.2f} s"
    assert active_connections(client) == 0
