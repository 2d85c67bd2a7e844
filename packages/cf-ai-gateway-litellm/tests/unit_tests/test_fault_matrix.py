"""The core's fault matrix through LiteLLM's public API (a representative subset):
``litellm.completion`` and ``acompletion``, streamed and not, against a scripted raw server on
127.0.0.1. Each case: the LiteLLM exception carries the core's error type as its cause, the
requests the server saw, an elapsed-time bound, no connection left active."""

from __future__ import annotations

import time
from collections.abc import Iterator

import cf_ai_gateway_litellm
import litellm
import pytest
from cf_ai_gateway import (
    ClientConfig,
    Gateway,
    GatewayError,
    close_shared_clients,
    shared_clients,
)
from cf_ai_gateway.testing import active_connections
from cf_ai_gateway_emulator.rawserver import ADAPTER_SAMPLE, ENDED_BY, RawServer, fault, outcome
from pytest_socket import enable_socket, socket_allow_hosts

MODEL = "cloudflare-ai-gateway/openai/gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Hi"}]
KEY = "sk-test-0001"


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    """Overrides the package's: this module may reach 127.0.0.1 (the scripted server) only."""
    enable_socket()
    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    yield
    enable_socket()
    close_shared_clients()


# the core error behind LiteLLM's and the requests the server sees (max_retries=1) are
# rawserver.outcome's, which the core's own matrix holds for every fault. Faults that only a
# deadline ends are left out: the provider takes LiteLLM's own `timeout` and adds no deadline.
MATRIX = [
    pytest.param(name, mode, stream, id=f"{name}-{mode}-{'stream' if stream else 'call'}")
    for name, streams in ADAPTER_SAMPLE
    if "deadline" not in ENDED_BY.get(name, {})
    for mode in ("sync", "async")
    for stream in streams
]


def core_error(exc: BaseException | None) -> GatewayError | None:
    """The core error behind a LiteLLM exception: its cause, or (a stream's error, which
    LiteLLM wraps again mid-stream) its ``original_exception``'s, however deep."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        if isinstance(exc, GatewayError):
            return exc
        seen.append(exc)
        exc = exc.__cause__ or getattr(exc, "original_exception", None) or exc.__context__
    return None


@pytest.mark.parametrize(("name", "mode", "stream"), MATRIX)
async def test_fault_matrix_through_litellm(
    raw_server: RawServer, name: str, mode: str, stream: bool
) -> None:
    expected = outcome(name, stream=stream)
    kwargs = ENDED_BY.get(name, {})
    url = f"{raw_server.url}/v1/acc/gw"
    cf_ai_gateway_litellm.register(url, api_key=KEY, max_retries=1)
    raw_server.script(fault(name, stream=stream))
    raised: BaseException | None = None
    started = time.monotonic()
    try:
        if mode == "sync":
            answer = litellm.completion(model=MODEL, messages=MESSAGES, stream=stream, **kwargs)
            if stream:
                assert list(answer)
        else:
            answer = await litellm.acompletion(
                model=MODEL, messages=MESSAGES, stream=stream, **kwargs
            )
            if stream:
                assert [chunk async for chunk in answer]
    except Exception as exc:
        raised = exc
    elapsed = time.monotonic() - started
    pair = shared_clients(ClientConfig(Gateway.from_url(url), api_key=KEY, max_retries=1))
    client = pair.sync() if mode == "sync" else pair.async_client()
    if expected.error is None:
        assert raised is None, repr(raised)
    else:
        assert type(raised).__module__.startswith("litellm"), repr(raised)  # LiteLLM's classes
        core = core_error(raised)
        assert isinstance(core, expected.error), f"{raised!r} (core {core!r})"
    assert raw_server.requests == expected.requests
    assert elapsed < 3.0 + sum(kwargs.values()) * expected.requests, f"took {elapsed:.2f} s"
    assert active_connections(client) == 0
