"""A call's total deadline (``deadline=`` on the clients), shared by the sync and async I/O.

``timeout=`` is httpx's: it bounds each network operation (connecting, each write, each read
of the answer, waiting for a pooled connection), so a server that keeps sending a byte every
so often holds a call for as long as it likes. A :class:`Deadline` bounds the whole call:
every attempt, the backoff between them, and reading the answer (for a stream, until its last
chunk). How it is enforced:

- before each attempt and each backoff (a backoff that would end past the deadline is not
  waited: the last error is raised), and after every chunk read;
- every httpx timeout of an attempt is capped to the time left, and the read timeout again
  when the body starts;
- async: each network wait runs under ``asyncio.wait_for`` with the time left, so the call
  ends at its deadline;
- sync, on the ``httpx.Client`` the core creates itself (:func:`owned_sync_client`): every
  socket read, write and connect is capped to the time left (a thin wrapper around httpcore's
  network backend reads the call's deadline from a context variable), so the call ends at its
  deadline even while a server drips its headers a byte at a time;
- sync, on an ``httpx.Client`` you pass (``http_client=``, never changed by us): a blocking
  read cannot be interrupted, so the call ends at the first of: a chunk arriving after the
  deadline, or a read timeout capped to the time left when its phase (headers, body) began.

A passed deadline raises :class:`~cf_ai_gateway.GatewayTimeoutError` with
``retryable=False`` (the caller's budget is spent).
"""

from __future__ import annotations

import contextlib
import math
import ssl
import time
from collections.abc import Awaitable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, TypeVar

import httpx

from .errors import GatewayTimeoutError
from .response_info import GatewayResponseInfo

__all__ = [
    "NO_DEADLINE",
    "Deadline",
    "check_deadline_seconds",
    "check_timeout",
    "owned_sync_client",
]

T = TypeVar("T")

_TIMEOUT_KEYS = ("connect", "read", "write", "pool")


def check_deadline_seconds(value: object, name: str = "deadline") -> float | None:
    """``value`` as seconds (``None``: no deadline); ``ValueError`` unless a finite number
    greater than zero."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name}={value!r} must be a number of seconds > 0, or None")
    return float(value)


_TIMEOUT_PARTS = ("connect", "read", "write", "pool")


def check_timeout(value: object, name: str = "timeout") -> float | httpx.Timeout | None:
    """``value`` as httpx takes it: seconds (a float), an ``httpx.Timeout`` or ``None``; the
    mapping ``httpx.Timeout.as_dict()`` gives (all four parts) becomes the ``httpx.Timeout``
    again (a serialized model's settings round-trip). ``ValueError`` for anything else, a
    number that is not finite and greater than zero included (``0`` would make every socket
    fail at once), and for a part of an ``httpx.Timeout`` that is (a part may be ``None``: no
    limit on that operation)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        if set(value) != set(_TIMEOUT_PARTS):
            raise ValueError(
                f"{name} as a mapping must have exactly the keys {', '.join(_TIMEOUT_PARTS)} "
                f"(as httpx.Timeout.as_dict() gives them), not {sorted(map(str, value))}"
            )
        value = httpx.Timeout(**{part: value[part] for part in _TIMEOUT_PARTS})
    if isinstance(value, httpx.Timeout):
        for part in _TIMEOUT_PARTS:
            check_deadline_seconds(getattr(value, part), f"{name}.{part}")
        return value
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(
            f"{name}={value!r} must be a number of seconds > 0, an httpx.Timeout, or None"
        )
    return float(value)


class Deadline:
    """The end of one call on the monotonic clock (``seconds=None``: no deadline)."""

    __slots__ = ("end", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = check_deadline_seconds(seconds)
        self.end = None if self.seconds is None else time.monotonic() + self.seconds

    def __repr__(self) -> str:
        return f"Deadline({self.seconds!r})"

    def remaining(self) -> float | None:
        """Seconds left (may be negative), ``None`` without a deadline."""
        return None if self.end is None else self.end - time.monotonic()

    def expired(self) -> bool:
        return self.end is not None and time.monotonic() >= self.end

    def error(
        self, info: GatewayResponseInfo | None = None, *, attempts: int | None = None
    ) -> GatewayTimeoutError:
        """The error of a call whose deadline passed (not retryable)."""
        if attempts is not None:
            info = replace(info if info is not None else GatewayResponseInfo(), attempts=attempts)
        return GatewayTimeoutError(
            f"the call's deadline of {self.seconds:g} s passed",
            status_code=info.status_code if info is not None else None,
            info=info,
            retryable=False,
            hint="Raise deadline= (the whole call, retries and streaming included), or "
            "lower max_tokens so the answer arrives sooner.",
        )

    def _capped(self, value: float | None, left: float) -> float:
        return left if value is None else min(value, left)

    def cap(self, request: httpx.Request) -> None:
        """Cap every httpx timeout of ``request`` to the time left."""
        left = self.remaining()
        if left is None:
            return
        left = max(left, 0.001)
        timeouts = dict(request.extensions.get("timeout") or {})
        request.extensions["timeout"] = {
            key: self._capped(timeouts.get(key), left) for key in _TIMEOUT_KEYS
        }

    def cap_read(self, response: httpx.Response) -> None:
        """Cap the read timeout of the body about to be read (httpcore reads it when the
        body starts)."""
        left = self.remaining()
        if left is None:
            return
        timeouts = dict(response.request.extensions.get("timeout") or {})
        timeouts["read"] = self._capped(timeouts.get("read"), max(left, 0.001))
        response.request.extensions["timeout"] = timeouts

    def active(self) -> contextlib.AbstractContextManager[None]:
        """Within the block, sync socket operations of an :func:`owned_sync_client` are
        capped to the time left. (No deadline: one shared no-op context, nothing set.)"""
        if self.end is None:
            return _NOTHING_ACTIVE
        return _Active(self.end)

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """``await awaitable``, cancelled when the deadline passes (raises
        :class:`DeadlineExceeded`)."""
        left = self.remaining()
        if left is None:
            return await awaitable
        import asyncio  # here: a sync-only program never loads asyncio (awaiting, it has)

        if left <= 0:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise DeadlineExceeded
        try:
            return await asyncio.wait_for(awaitable, left)
        except asyncio.TimeoutError as exc:
            raise DeadlineExceeded(f"no answer within the {left:.3g} s left") from exc


class DeadlineExceeded(Exception):
    """Internal: an awaited network operation was cancelled at the deadline."""


NO_DEADLINE = Deadline(None)


# --- sync: every socket operation capped to the call's deadline ---------------------------

_CALL_END: ContextVar[float | None] = ContextVar("cf_ai_gateway_call_end", default=None)
"""The monotonic end of the sync call running in this context (``Deadline.active``)."""


class _Active:
    """``Deadline.active`` with a deadline: the call's end set in :data:`_CALL_END` for the
    block (a plain class: cheaper than a generator-based context manager)."""

    __slots__ = ("_end", "_token")

    def __init__(self, end: float) -> None:
        self._end = end

    def __enter__(self) -> None:
        self._token = _CALL_END.set(self._end)

    def __exit__(self, *exc: object) -> None:
        _CALL_END.reset(self._token)


_NOTHING_ACTIVE: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
"""``Deadline.active`` without a deadline (``nullcontext`` is reusable and reentrant)."""


def _capped(timeout: float | None) -> float | None:
    end = _CALL_END.get()
    if end is None:
        return timeout
    left = max(end - time.monotonic(), 0.001)  # > 0: a timeout, never a non-blocking socket
    return left if timeout is None else min(timeout, left)


class _DeadlineStream:
    """An httpcore network stream whose every operation waits at most the time left."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _capped(timeout))  # type: ignore[no-any-return]

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _capped(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> _DeadlineStream:
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, _capped(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend:
    """httpcore's sync network backend, its streams wrapped in :class:`_DeadlineStream`."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _DeadlineStream:
        stream = self._backend.connect_tcp(
            host, port, _capped(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _DeadlineStream:
        return _DeadlineStream(
            self._backend.connect_unix_socket(path, _capped(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def owned_sync_client() -> httpx.Client:
    """The ``httpx.Client`` a sync gateway client creates for itself: httpx's defaults, with
    socket operations capped to the running call's deadline. Where httpx's transport does not
    have the expected shape (another httpx or httpcore version), a plain client: the deadline
    is then enforced between reads only."""
    transport = httpx.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is not None and hasattr(backend, "connect_tcp"):
        pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
    return httpx.Client(transport=transport)
