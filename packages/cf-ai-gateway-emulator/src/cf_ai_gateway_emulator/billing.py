"""The money side of a gateway: Unified Billing balances and spend per spend-limit window.

- **Balance**: a gateway with ``credits`` starts with that many USD; every Unified Billing
  request is charged its cost once it has answered (as Cloudflare records a request's cost after
  completion). A balance at or below zero refuses the next Unified Billing request.
- **Spend limits**: every BYOK or Unified Billing request is charged to each rule (and split
  bucket) it falls under. Before a request is sent, every rule is checked at once: one at or
  over its limit refuses it until its window ends. ``fixed`` windows are aligned to multiples
  of ``window`` since the Unix epoch; ``sliding`` counts the last ``window`` seconds. As on
  Cloudflare ("eventually consistent"), the request that crosses a limit still completes.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass

from .config import SpendLimit

__all__ = ["Ledger", "SpendCheck"]

Key = tuple[object, ...]


@dataclass(frozen=True)
class SpendCheck:
    """A rule over its limit: which, what was spent, and whole seconds until its window ends."""

    rule: SpendLimit
    spent: float
    resets_in: int


class Ledger:
    """Balances per gateway and spend per rule bucket; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spent_credits: dict[Key, float] = defaultdict(float)
        self._spend: dict[Key, list[tuple[float, float]]] = defaultdict(list)

    def balance(self, gateway: Key, credits: float) -> float:
        """What is left of ``credits`` for ``gateway`` (account, gateway id)."""
        with self._lock:
            return credits - self._spent_credits[gateway]

    def charge_credits(self, gateway: Key, amount: float) -> None:
        with self._lock:
            self._spent_credits[gateway] += amount

    def over_limit(self, bucket: Key, rule: SpendLimit, now: float) -> SpendCheck | None:
        """The rule's state for ``bucket`` when it is at or over its limit, else ``None``."""
        with self._lock:
            entries = self._current(bucket, rule, now)
            spent = sum(amount for _, amount in entries)
            if spent < rule.limit:
                return None
            if rule.technique == "sliding":
                # the window ends for this budget once enough of the oldest spend has aged out
                left = spent
                ends = now + rule.window
                for at, amount in entries:
                    left -= amount
                    if left < rule.limit:
                        ends = at + rule.window
                        break
            else:
                ends = (math.floor(now / rule.window) + 1) * rule.window
            return SpendCheck(rule, spent, max(1, math.ceil(ends - now)))

    def charge(self, bucket: Key, rule: SpendLimit, now: float, amount: float) -> None:
        with self._lock:
            entries = self._current(bucket, rule, now)
            entries.append((now, amount))

    def _current(self, bucket: Key, rule: SpendLimit, now: float) -> list[tuple[float, float]]:
        """The bucket's spend within the current window (older entries dropped)."""
        entries = self._spend[bucket]
        if rule.technique == "sliding":
            start = now - rule.window
            entries[:] = [(at, amount) for at, amount in entries if at > start]
        else:
            window = math.floor(now / rule.window)
            entries[:] = [(at, a) for at, a in entries if math.floor(at / rule.window) == window]
        return entries

    def reset(self, prefix: Key) -> None:
        """Forget balances and spend of ``prefix`` (a gateway replaced or deleted)."""
        with self._lock:
            for table in (self._spent_credits, self._spend):
                for key in [k for k in table if k[: len(prefix)] == prefix]:
                    del table[key]
