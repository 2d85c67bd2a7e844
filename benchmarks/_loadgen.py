"""A load generator in its own process: ``connections`` kept-alive HTTP/1.1 connections, each
sending the same request again as soon as the previous answer has fully arrived.

    python _loadgen.py '{"port": 8787, "request": "<raw HTTP request>", "connections": 64,
                         "warmup": 0.3, "duration": 1.5}'

Prints one JSON line: ``{"requests": n, "seconds": s, "latencies": [...], "errors": e}``, the
requests completed in the measuring window (after ``warmup``) and each one's seconds. It is a
bare asyncio protocol (no HTTP library), so that it costs far less CPU per request than the
servers it loads; an answer is complete at its ``content-length`` or at the end of its chunked
body.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


class _Connection(asyncio.Protocol):
    def __init__(self, run: _Run) -> None:
        self.run = run
        self.buffer = bytearray()
        self.header_end = -1
        self.length: int | None = None
        self.started = 0.0
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.send()

    def send(self) -> None:
        self.buffer.clear()
        self.header_end, self.length = -1, None
        self.started = time.perf_counter()
        self.transport.write(self.run.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.header_end < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.header_end = end + 4
            head = bytes(self.buffer[:end]).decode("latin-1").lower()
            self.ok = head.startswith("http/1.1 2")
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name == "content-length":
                    self.length = int(value)
        if self.length is not None:
            if len(self.buffer) < self.header_end + self.length:
                return
        elif not self.buffer.endswith(b"\r\n0\r\n\r\n"):
            return
        self.run.done(time.perf_counter() - self.started, self.ok)
        if self.run.running:
            self.send()
        else:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if self.run.running:
            self.run.errors += 1


class _Run:
    def __init__(self, request: bytes) -> None:
        self.request = request
        self.running = True
        self.measuring = False
        self.latencies: list[float] = []
        self.errors = 0

    def done(self, seconds: float, ok: bool) -> None:
        if not ok:
            self.errors += 1
        if self.measuring:
            self.latencies.append(seconds)


async def load(
    port: int, request: bytes, connections: int, warmup: float, duration: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    run = _Run(request)
    made = [
        await loop.create_connection(lambda: _Connection(run), "127.0.0.1", port)
        for _ in range(connections)
    ]
    await asyncio.sleep(warmup)
    run.measuring = True
    started = time.perf_counter()
    await asyncio.sleep(duration)
    run.measuring = False
    seconds = time.perf_counter() - started
    run.running = False
    await asyncio.wait([p.closed for _, p in made], timeout=10)
    return {
        "requests": len(run.latencies),
        "seconds": seconds,
        "latencies": run.latencies,
        "errors": run.errors,
    }


def main() -> None:
    spec = json.loads(sys.argv[1])
    result = asyncio.run(
        load(
            spec["port"],
            spec["request"].encode("latin-1"),
            spec["connections"],
            spec["warmup"],
            spec["duration"],
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
