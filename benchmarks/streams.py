"""2. Streaming: how soon the caller holds the first chunk, and chunks/s over a long stream.

First chunk: the ``instant`` server sends the headers, waits, then writes one chunk whose text
is the server's clock (``time.monotonic_ns()``, the same clock in every process of the
machine) at that write, then pauses before the rest. The caller's latency is its own clock when
it holds that chunk minus the stamp: the time from the server's first byte to the caller. A
caller that holds the chunk only after the pause buffers (it waits for more before handing
over what it has): "held before the pause" says whether every sample was under the pause.

Throughput: a stream of 2,000 content chunks, sent as fast as the caller reads; chunks/s is
wall time from the call to the last chunk, and the client's CPU per chunk. The frameworks'
no-I/O floors stream the same number of pieces from their fake models.
"""

from __future__ import annotations

import time

from _contenders import Contender, missing_frameworks, streams
from _harness import Budget, Samples, Table, interleaved, ratio, server

RAW = "raw httpx + httpx-sse"
CORE = "core GatewayClient.stream_chat_completions"


def _first_chunk(contender: Contender) -> float:
    """Seconds from the server's write of the first chunk to the caller holding it."""
    latency = float("nan")
    for text in contender.run():
        if latency != latency and text.startswith("t="):
            latency = (time.monotonic_ns() - int(text[2:])) / 1e9
    return latency


def _long_stream(contender: Contender) -> tuple[int, float, float]:
    """(chunks, wall seconds, CPU seconds) of one whole stream."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    count = sum(1 for _ in contender.run())
    return count, time.perf_counter() - wall0, time.process_time() - cpu0


def run(budget: Budget) -> list[Table]:
    pause_ms = budget.n(100, 20)
    chunks = budget.n(2000, 50)
    rounds = budget.n(9, 1)
    latency = Samples()
    rate, cpu = Samples(), Samples()
    with server("instant") as port:
        base = f"http://127.0.0.1:{port}/v1/acc"
        first = {
            c.name: c for c in streams(f"{base}/first-{pause_ms}", chunks) if c.role != "floor"
        }
        for c in first.values():  # warm up
            _first_chunk(c)
        for _, name in interleaved(list(first), rounds):
            latency.add(name, _first_chunk(first[name]))
        long = {c.name: c for c in streams(f"{base}/long-{chunks}", chunks)}
        for c in long.values():
            _long_stream(c)
        for _, name in interleaved(list(long), budget.n(4, 1)):
            count, wall, spent = _long_stream(long[name])
            rate.add(name, count / wall)
            cpu.add(name, spent / count)
    return [_latency_table(first, latency, pause_ms, rounds), _rate_table(long, rate, cpu, chunks)]


def _latency_table(
    contenders: dict[str, Contender], latency: Samples, pause_ms: int, rounds: int
) -> Table:
    raw, core = latency.spread(RAW).median, latency.spread(CORE).median
    table = Table(
        "Streaming: first chunk",
        f"Time from the server's write of the first chunk to the caller holding it, in "
        f"microseconds: median of {rounds} streams per contender (p25-p75), interleaved. The "
        f"server pauses {pause_ms} ms after that chunk: 'held before the pause' is yes when "
        "every sample held it before the pause ended (no buffering).",
        ["contender", "role", "first chunk us", "added vs raw us", "held before the pause"],
    )
    held: dict[str, bool] = {}
    for name, c in contenders.items():
        values = latency.values.get(name, [])
        held[name] = bool(values) and all(v < pause_ms / 1000 for v in values)
        m = latency.spread(name).median
        table.row(
            name,
            c.role,
            latency.spread(name).show(1e6),
            f"{(m - raw) * 1e6:+,.0f}",
            "yes" if held[name] else "NO",
        )
    table.target(
        "first-chunk latency added by the core < 1 ms",
        f"{(core - raw) * 1e3:+.2f} ms",
        core - raw < 1e-3 and held[CORE],
    )
    for c in contenders.values():
        if c.role == "adapter":
            m = latency.spread(c.name).median
            table.target(
                f"{c.name} keeps the core's first-chunk latency (within 1 ms, no buffering)",
                f"{(m - core) * 1e3:+.2f} ms vs core, held before the pause: "
                f"{'yes' if held[c.name] else 'no'}",
                m - core < 1e-3 and held[c.name],
            )
    for framework in missing_frameworks():
        table.target(f"{framework} adapter streaming", "framework not installed", None)
    return table


def _rate_table(
    contenders: dict[str, Contender], rate: Samples, cpu: Samples, chunks: int
) -> Table:
    raw = rate.spread(RAW).median
    table = Table(
        "Streaming: throughput",
        f"A {chunks:,}-chunk stream read to its end: chunks/s (wall, from the call to the last "
        "chunk) and the client's CPU per chunk in microseconds, medians of interleaved rounds "
        "(p25-p75). Floors: the framework's fake model streaming as many pieces, no I/O.",
        ["contender", "role", "chunks/s", "vs raw httpx + httpx-sse", "CPU/chunk us"],
    )
    for name, c in contenders.items():
        table.row(
            name,
            c.role,
            rate.spread(name).show(),
            ratio(rate.spread(name).median, raw),
            cpu.spread(name).show(1e6, 1),
        )
    core = rate.spread(CORE).median
    table.target(
        "core streaming >= 0.8x raw httpx + httpx-sse chunks/s", ratio(core, raw), core >= 0.8 * raw
    )
    return table
