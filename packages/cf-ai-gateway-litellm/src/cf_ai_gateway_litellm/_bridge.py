"""Async streams opened before LiteLLM returns: one background event loop for them.

``litellm.acompletion(..., stream=True)`` runs the synchronous ``completion()``, and so our
``astreaming()``, in a worker thread, and wraps what it returns without awaiting anything. A
lazy async generator would only reach the gateway at the caller's first ``async for``, so a
429 or a 401 would surface while iterating: LiteLLM 1.80's Router neither retries nor falls
back then (its built-in ``openai/`` route does, because its HTTP call happens first). So the
stream is opened *before* ``astreaming()`` returns: on this module's I/O loop (a daemon
thread, started on first use and again after a fork), with the core's async client, and the
caller's loop then pulls each chunk from it as it arrives. Errors are raised at call time, as
for the built-in route, on every LiteLLM line; no chunk is buffered; the shared thread pool is
never held while waiting for a chunk.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

__all__ = ["AsyncRelay", "run_on_io_loop"]

T = TypeVar("T")

_LOCK = threading.Lock()
_LOOP: asyncio.AbstractEventLoop | None = None
_PID: int | None = None


def _io_loop() -> asyncio.AbstractEventLoop:
    global _LOOP, _PID
    with _LOCK:
        if _LOOP is None or os.getpid() != _PID or _LOOP.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="cf-ai-gateway-litellm-io", daemon=True
            )
            thread.start()
            _LOOP, _PID = loop, os.getpid()
        return _LOOP


def run_on_io_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the I/O loop and wait for it (from a thread without a running loop)."""
    return asyncio.run_coroutine_threadsafe(coro, _io_loop()).result()


_END = object()


async def _next(source: AsyncIterator[T]) -> Any:
    try:
        return await source.__anext__()
    except StopAsyncIteration:
        return _END


class AsyncRelay:
    """An async iterator on the caller's loop over ``source``, an async iterator living on the
    I/O loop; ``info`` is whatever the opened stream said before its first chunk."""

    def __init__(self, source: AsyncIterator[Any], info: Any = None) -> None:
        self.source = source
        self.info = info
        self._done = False

    def __aiter__(self) -> AsyncRelay:
        return self

    async def __anext__(self) -> Any:
        if self._done:
            raise StopAsyncIteration
        future = asyncio.run_coroutine_threadsafe(_next(self.source), _io_loop())
        try:
            item = await asyncio.wrap_future(future)
        except BaseException:
            self._done = True
            raise
        if item is _END:
            self._done = True
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        """Stop early: the stream is closed on the I/O loop (its connection released)."""
        if self._done:
            return
        self._done = True
        close = getattr(self.source, "aclose", None)
        if close is not None:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(close(), _io_loop()))
