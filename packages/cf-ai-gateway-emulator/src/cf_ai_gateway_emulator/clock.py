"""Clocks: the emulator reads "now" through one of these so tests can move time by hand.

Rate limit windows, cache expiry and log timestamps read ``now()``; the gateway's retry backoff
waits with ``await clock.sleep(seconds)`` (a ``ManualClock`` records the delay and moves its time
forward instead of waiting). Mock latency, stream chunk delays and request timeouts always use
real time, because a timeout is a race between two real waits.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timezone
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (the gateway's retry backoff)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to (thread-safe).

    ``await clock.sleep(s)`` does not wait: it appends ``s`` to ``clock.sleeps`` and advances
    the clock by ``s``, so retry backoff is instant and checkable in tests.

    >>> clock = ManualClock.at("2025-01-01T12:09:00Z")
    >>> clock.advance(120); clock.isoformat()
    '2025-01-01T12:11:00+00:00'
    """

    def __init__(self, start: float = 1_735_732_800.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []
        """Every ``sleep`` so far, in seconds, in order."""

    @classmethod
    def at(cls, iso: str) -> ManualClock:
        return cls(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())

    def now(self) -> float:
        with self._lock:
            return self._now

    def set(self, when: float | str) -> None:
        value = (
            datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp()
            if isinstance(when, str)
            else float(when)
        )
        with self._lock:
            self._now = value

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    async def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += seconds

    def isoformat(self) -> str:
        return datetime.fromtimestamp(self.now(), timezone.utc).isoformat()
