"""3. Async concurrency: 1, 16 and 128 calls in flight through one client.

Each contender is one async client (one event loop, one connection pool, httpx's default
limits for every client built on httpx) against the ``instant`` server. A batch keeps
``concurrency`` calls in flight until it has made its calls; throughput is calls per second of
wall time over the batch, latency the time of each call (p50, p99 pooled over the rounds).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _contenders import Contender, async_calls
from _harness import Budget, Samples, Table, interleaved, percentile, ratio, server

RAW = "raw httpx AsyncClient"
CORE = "core AsyncGatewayClient"


async def _batch(
    call: Callable[[], Awaitable[Any]], concurrency: int, total: int
) -> tuple[float, list[float]]:
    """(calls/s, each call's seconds) of ``total`` calls, ``concurrency`` at a time."""
    latencies: list[float] = []
    left = total

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started), latencies


async def _measure(
    root: str, levels: tuple[int, ...], rounds: int, total: Callable[[int], int]
) -> tuple[dict[str, Contender], dict[int, Samples], dict[int, dict[str, list[float]]]]:
    contenders = {c.name: c for c in async_calls(root)}
    rates = {level: Samples() for level in levels}
    latencies: dict[int, dict[str, list[float]]] = {level: {} for level in levels}
    for level in levels:
        for c in contenders.values():  # open the connections this level needs
            await _batch(c.run, level, level)
        for _, name in interleaved(list(contenders), rounds):
            rate, times = await _batch(contenders[name].run, level, total(level))
            rates[level].add(name, rate)
            latencies[level].setdefault(name, []).extend(times)
    return contenders, rates, latencies


def run(budget: Budget) -> list[Table]:
    levels = (1, 16, 128) if not budget.smoke else (1, 4)
    rounds = budget.n(3, 1)
    with server("instant") as port:
        contenders, rates, latencies = asyncio.run(
            _measure(
                f"http://127.0.0.1:{port}/v1/acc/gw",
                levels,
                rounds,
                lambda level: budget.n(max(100, 2 * level), 2 * level),
            )
        )
    table = Table(
        "Async concurrency",
        f"Calls in flight through one async client: calls/s (median of {rounds} interleaved "
        "batches, p25-p75), and each call's latency in milliseconds (p50 and p99 over every "
        "batch).",
        ["contender", "role", "in flight", "calls/s", "vs raw httpx", "p50 ms", "p99 ms"],
    )
    for level in levels:
        base = rates[level].spread(RAW).median
        for name, c in contenders.items():
            times = latencies[level].get(name, [])
            table.row(
                name,
                c.role,
                level,
                rates[level].spread(name).show(),
                ratio(rates[level].spread(name).median, base),
                f"{percentile(times, 0.5) * 1e3:.2f}",
                f"{percentile(times, 0.99) * 1e3:.2f}",
            )
    top = levels[-1]
    base, core = rates[top].spread(RAW).median, rates[top].spread(CORE).median
    table.target(
        f"core at {top} in flight >= 0.8x raw httpx AsyncClient calls/s",
        ratio(core, base),
        core >= 0.8 * base,
    )
    return [table]
