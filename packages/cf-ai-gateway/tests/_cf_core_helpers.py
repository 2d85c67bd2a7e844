"""Shared constants, the MockTransport recorder and the sync/async twin driver (``Api``) of
the core unit tests."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from cf_ai_gateway import (
    AsyncChatCompletionStream,
    AsyncGatewayClient,
    ChatCompletionStream,
    GatewayClient,
)
from hypothesis import HealthCheck, settings

CORE_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
"""Applied to every property test here (not a global profile: other packages keep theirs)."""

ACCOUNT = "0123456789abcdef0123456789abcdef"
GATEWAY_ID = "my-gw"
TOKEN = "cf-token-s3cret-123456"
PROVIDER_KEY = "sk-provider-key-abcdefghij"


@dataclass
class Recorder:
    """A MockTransport handler that records requests and replays queued responses."""

    responses: list[httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]] = field(
        default_factory=list
    )
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.responses:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        item = self.responses.pop(0)
        if isinstance(item, Exception):
            raise item
        if callable(item) and not isinstance(item, httpx.Response):
            return item(request)
        return item

    def add(self, *items: httpx.Response | Exception) -> Recorder:
        self.responses.extend(items)
        return self

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def json(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def ok_json(data: Any, headers: dict[str, str] | None = None, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=data, headers=headers)


CHAT_BODY: dict[str, Any] = {
    "model": "openai/gpt-4o-mini",
    "messages": [{"role": "user", "content": "Hi"}],
}
COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello!"},
            "finish_reason": "stop",
        }
    ],
}


class Api:
    """Calls the sync or the async client with one (awaitable) interface."""

    def __init__(self, client: GatewayClient | AsyncGatewayClient, sleeps: list[float]) -> None:
        self.client = client
        self.sleeps = sleeps

    async def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def collect(
        self,
        stream: ChatCompletionStream | AsyncChatCompletionStream,
        into: list[Any] | None = None,
    ) -> list[Any]:
        """Iterate a stream; chunks land in ``into`` as they arrive (kept if it raises)."""
        seen = [] if into is None else into
        if isinstance(stream, AsyncChatCompletionStream):
            async for chunk in stream:
                seen.append(chunk)
        else:
            seen.extend(stream)
        return seen


def sse(*events: Any, done: bool = True, headers: dict[str, str] | None = None) -> httpx.Response:
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    if done:
        lines.append("data: [DONE]\n\n")
        lines.append('data: {"after": "done"}\n\n')  # must never be read
    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream", **(headers or {})},
        content="".join(lines).encode(),
    )


def delta(text: str) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}}],
    }


class CutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that delivers some bytes and then fails (connection lost by default)."""

    def __init__(self, *parts: bytes, error: Exception | None = None) -> None:
        self.parts = parts
        self.error = error or httpx.ReadError("connection reset by peer")

    def __iter__(self) -> Iterator[bytes]:
        yield from self.parts
        raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            yield part
        raise self.error
