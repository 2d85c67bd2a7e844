"""The core's fault matrix through LiteLLM's public API (a representative subset):
``litellm.completion`` and ``acompletion``, streamed and not, against a scripted raw server on
127.0.0.1. Each case: the LiteLLM exception carries the core's error type as its cause, the
requests the server saw, an elapsed-time bound, no connection left active."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import cf_ai_gateway_litellm
import litellm
import pytest
from cf_ai_gateway import (
    ClientConfig,
    Gateway,
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    InvalidResponseError,
    ProviderError,
    StreamInterruptedError,
    close_shared_clients,
    shared_clients,
)
from cf_ai_gateway.testing import active_connections
from cf_ai_gateway_emulator.rawserver import RawServer, fault
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


@pytest.fixture(scope="module")
def server() -> Iterator[RawServer]:
    enable_socket()
    with RawServer(hang_limit=10) as raw:
        yield raw


# (fault, the core error behind LiteLLM's, requests seen with max_retries=1, seconds, kinds,
# completion keywords)
CASES: list[tuple[str, type[GatewayError] | None, int, float, tuple[str, ...], dict[str, Any]]] = [
    ("ok", None, 1, 3.0, ("call", "stream"), {}),
    # the retried ones once per mode (a backoff each); the stream-specific ones as streams
    ("503", ProviderError, 2, 3.0, ("call",), {}),
    ("closed", GatewayConnectionError, 2, 3.0, ("stream",), {}),
    ("hang", GatewayTimeoutError, 2, 3.5, ("call",), {"timeout": 0.3}),
    ("title_page", ProviderError, 2, 3.0, ("stream",), {}),
    ("odd_headers", None, 1, 3.0, ("call", "stream"), {}),
    ("not_json", InvalidResponseError, 1, 3.0, ("call", "stream"), {}),
    ("no_done", StreamInterruptedError, 1, 3.0, ("stream",), {}),
    ("cut", StreamInterruptedError, 1, 3.0, ("stream",), {}),
]
MATRIX = [
    pytest.param(name, error, requests, seconds, kwargs, mode, kind, id=f"{name}-{mode}-{kind}")
    for name, error, requests, seconds, kinds, kwargs in CASES
    for mode in ("sync", "async")
    for kind in kinds
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


@pytest.mark.parametrize(("name", "error", "requests", "seconds", "kwargs", "mode", "kind"), MATRIX)
async def test_fault_matrix_through_litellm(
    server: RawServer,
    name: str,
    error: type[GatewayError] | None,
    requests: int,
    seconds: float,
    kwargs: dict[str, Any],
    mode: str,
    kind: str,
) -> None:
    url = f"{server.url}/v1/acc/gw"
    cf_ai_gateway_litellm.register(url, api_key=KEY, max_retries=1)
    server.script(fault(name, stream=kind == "stream"))
    stream = kind == "stream"
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
    if error is None:
        assert raised is None, repr(raised)
    else:
        assert type(raised).__module__.startswith("litellm"), repr(raised)  # LiteLLM's classes
        core = core_error(raised)
        assert isinstance(core, error), f"{raised!r} (core {core!r})"
    assert server.requests == requests
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert active_connections(client) == 0
