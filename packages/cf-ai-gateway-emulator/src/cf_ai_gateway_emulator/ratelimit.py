"""Rate limiting: ``fixed`` (clock-aligned buckets) and ``sliding`` (at most N in the last
interval), as the gateway and dynamic-route rate-limit nodes do it.

Spec example (10 per 10 minutes; 10 requests at 12:09, 10 at 12:11): with ``fixed`` all pass
(12:00-12:10 and 12:10-12:20 are different buckets); with ``sliding`` the second ten fail.
Rejected requests do not count.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["Decision", "RateLimiter"]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0
    """Whole seconds until a slot frees (0 when allowed)."""
    remaining: int = 0


class RateLimiter:
    """Counts requests per key; ``check`` admits one request or says when to retry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fixed: dict[tuple[object, ...], tuple[int, float]] = {}
        self._sliding: dict[tuple[object, ...], deque[float]] = {}

    def check(
        self,
        key: tuple[object, ...],
        limit: int,
        interval: float,
        technique: str,
        now: float,
        weight: float = 1.0,
    ) -> Decision:
        if limit <= 0 or interval <= 0:
            return Decision(False, max(1, math.ceil(interval)))
        with self._lock:
            if technique == "sliding":
                window = self._sliding.setdefault((*key, limit, interval), deque())
                while window and window[0] <= now - interval:
                    window.popleft()
                if len(window) + weight > limit:
                    wait = window[0] + interval - now if window else interval
                    return Decision(False, max(1, math.ceil(wait)))
                for _ in range(max(1, int(weight))):
                    window.append(now)
                return Decision(True, 0, int(limit - len(window)))
            bucket = math.floor(now / interval)
            fkey = (*key, limit, interval)
            current, used = self._fixed.get(fkey, (bucket, 0.0))
            if current != bucket:
                current, used = bucket, 0.0
            if used + weight > limit:
                wait = (bucket + 1) * interval - now
                return Decision(False, max(1, math.ceil(wait)))
            self._fixed[fkey] = (current, used + weight)
            return Decision(True, 0, int(limit - used - weight))

    def reset(self, prefix: tuple[object, ...] | None = None) -> None:
        with self._lock:
            if prefix is None:
                self._fixed.clear()
                self._sliding.clear()
                return
            for table in (self._fixed, self._sliding):
                for key in [k for k in table if k[: len(prefix)] == prefix]:
                    del table[key]
