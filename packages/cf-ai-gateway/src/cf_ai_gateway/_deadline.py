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
- sync: a blocking read cannot be interrupted, so a call ends at the first of: a chunk
  arriving after the deadline, or a read timeout capped to the time left when its phase
  (headers, body) began: at most that much past the deadline, never more than twice it.

A passed deadline raises :class:`~cf_ai_gateway.GatewayTimeoutError` with
``retryable=False`` (the caller's budget is spent).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable
from dataclasses import replace
from typing import TypeVar

import httpx

from .errors import GatewayTimeoutError
from .response_info import GatewayResponseInfo

__all__ = ["NO_DEADLINE", "Deadline", "check_deadline_seconds"]

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

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """``await awaitable``, cancelled when the deadline passes (raises
        :class:`DeadlineExceeded`)."""
        left = self.remaining()
        if left is None:
            return await awaitable
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
