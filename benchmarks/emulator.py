"""5. The emulator against its own stack's limit, and its log listing over 100,000 logs.

Three servers, each in its own process: the emulator as ``cf-ai-gateway-emulator serve
--quiet`` runs it (in-memory SQLite), and a bare Starlette endpoint under the same uvicorn
that parses the JSON body and answers the same JSON, or a 50-chunk stream (``_servers.py
bare``): the stack's limit. The load comes from ``_loadgen.py``, a bare asyncio client in
its own process, over 1 or 64 kept-alive connections; the configurations are interleaved
round by round.

- cache HIT: ``cf-aig-cache-ttl`` on a request the cache already holds;
- cache MISS: the mock provider answers every request;
- stream: a scripted 50-chunk stream (``x-emulator-script``) from the mock provider;
- logs on: the gateway stores a log per request (the ``demo`` gateway's setting); logs off:
  ``cf-aig-collect-log: false``.

Log listing: the emulator with 100,000 logs stored through its own storage writes, listed
through the logs API (``GET .../logs``) with filters, a search and an order, one request at a
time on a kept-alive connection.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlencode

from _harness import HERE, Budget, Samples, Table, interleaved, percentile, ratio, server
from _servers import ACCOUNT, MESSAGES, STREAM_SCRIPT

PATH = f"/v1/{ACCOUNT}/demo/compat/chat/completions"
LOG_ROWS = 100_000


def _request(port: int, body: dict[str, Any], headers: dict[str, str]) -> str:
    payload = json.dumps(body)
    lines = [
        f"POST {PATH} HTTP/1.1",
        f"host: 127.0.0.1:{port}",
        "content-type: application/json",
        f"content-length: {len(payload.encode())}",
        "authorization: Bearer sk-bench",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return "\r\n".join(lines) + "\r\n\r\n" + payload


SCENARIOS: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
    # name: (server, body extras, headers)
    "bare Starlette: JSON": ("bare", {}, {}),
    "bare Starlette: 50-chunk stream": ("bare", {"stream": True}, {}),
    "emulator: cache HIT, logs on": ("emulator", {}, {"cf-aig-cache-ttl": "3600"}),
    "emulator: cache HIT, logs off": (
        "emulator",
        {},
        {"cf-aig-cache-ttl": "3600", "cf-aig-collect-log": "false"},
    ),
    "emulator: cache MISS, logs on": ("emulator", {}, {}),
    "emulator: cache MISS, logs off": ("emulator", {}, {"cf-aig-collect-log": "false"}),
    "emulator: 50-chunk stream, logs on": (
        "emulator",
        {"stream": True, "stream_options": {"include_usage": True}},
        {"x-emulator-script": STREAM_SCRIPT},
    ),
    "emulator: 50-chunk stream, logs off": (
        "emulator",
        {"stream": True, "stream_options": {"include_usage": True}},
        {"x-emulator-script": STREAM_SCRIPT, "cf-aig-collect-log": "false"},
    ),
}


def _baseline(name: str) -> str:
    return "bare Starlette: 50-chunk stream" if "stream" in name else "bare Starlette: JSON"


def _load(
    port: int, request: str, connections: int, warmup: float, duration: float
) -> dict[str, Any]:
    spec = {
        "port": port,
        "request": request,
        "connections": connections,
        "warmup": warmup,
        "duration": duration,
    }
    out = subprocess.run(
        [sys.executable, str(HERE / "_loadgen.py"), json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))


def _throughput(budget: Budget) -> Table:
    levels = (1, 64) if not budget.smoke else (1, 4)
    rounds = budget.n(3, 1)
    warmup, duration = budget.seconds(0.2, 0.05), budget.seconds(0.8, 0.1)
    rates = {level: Samples() for level in levels}
    latencies: dict[int, dict[str, list[float]]] = {level: {} for level in levels}
    errors = 0
    with (
        server("bare") as bare,
        server("-m", "cf_ai_gateway_emulator", "serve", "--port", "0", "--quiet") as emulator,
    ):
        ports = {"bare": bare, "emulator": emulator}
        requests = {
            name: _request(
                ports[kind],
                {"model": "openai/gpt-4o-mini", "messages": MESSAGES, **extra},
                headers,
            )
            for name, (kind, extra, headers) in SCENARIOS.items()
        }
        for name, (kind, _, _) in SCENARIOS.items():  # warm up; fill the cache for the HITs
            _load(ports[kind], requests[name], 1, 0.05, 0.05)
        for level in levels:
            for _, name in interleaved(list(SCENARIOS), rounds):
                result = _load(ports[SCENARIOS[name][0]], requests[name], level, warmup, duration)
                errors += result["errors"]
                rates[level].add(name, result["requests"] / result["seconds"])
                latencies[level].setdefault(name, []).extend(result["latencies"])
    table = Table(
        "The emulator against its stack's limit",
        f"Requests/s (median of {rounds} interleaved runs of {duration:.1f} s, p25-p75) and "
        "each request's latency in milliseconds (p50, p99 over the runs), over kept-alive "
        "connections from a load generator in its own process. 'vs bare' is the ratio to the "
        "bare Starlette endpoint answering the same JSON (or stream) on the same stack."
        + (f" {errors} requests failed." if errors else ""),
        ["scenario", "connections", "requests/s", "vs bare", "p50 ms", "p99 ms"],
    )
    for level in levels:
        for name in SCENARIOS:
            times = latencies[level].get(name, [])
            table.row(
                name,
                level,
                rates[level].spread(name).show(),
                ratio(
                    rates[level].spread(name).median, rates[level].spread(_baseline(name)).median
                ),
                f"{percentile(times, 0.5) * 1e3:.2f}",
                f"{percentile(times, 0.99) * 1e3:.2f}",
            )
    one, many = levels[0], levels[-1]
    bare_p50 = percentile(latencies[one]["bare Starlette: JSON"], 0.5)
    for scenario in ("emulator: cache MISS, logs on", "emulator: cache HIT, logs on"):
        p50 = percentile(latencies[one][scenario], 0.5)
        table.target(
            f"a kept-alive request ({scenario.split(': ')[1]}, 1 connection) within 2x of the "
            "bare stack's (p50)",
            ratio(p50, bare_p50),
            p50 <= 2 * bare_p50,
        )
    bare_rps = rates[many].spread("bare Starlette: JSON").median
    for logs in ("on", "off"):
        hit = rates[many].spread(f"emulator: cache HIT, logs {logs}").median
        miss = rates[many].spread(f"emulator: cache MISS, logs {logs}").median
        table.target(
            f"cache HIT, logs {logs}, {many} connections >= 0.5x the bare stack's requests/s",
            ratio(hit, bare_rps),
            hit >= 0.5 * bare_rps,
        )
        table.target(
            f"cache MISS within 1.5x of HIT (logs {logs}, {many} connections, requests/s)",
            f"HIT/MISS {ratio(hit, miss)}",
            hit <= 1.5 * miss,
        )
    return table


QUERIES: dict[str, dict[str, str]] = {
    "first page (newest first)": {},
    "model eq + success eq": {
        "filters": json.dumps(
            [
                {"key": "model", "operator": "eq", "value": ["gpt-4o-mini"]},
                {"key": "success", "operator": "eq", "value": [True]},
            ]
        )
    },
    "cost gt, by cost ascending": {
        "filters": json.dumps([{"key": "cost", "operator": "gt", "value": [5e-6]}]),
        "order_by": "cost",
        "order_by_direction": "asc",
    },
    "metadata.value eq": {
        "filters": json.dumps([{"key": "metadata.value", "operator": "eq", "value": ["u-42"]}])
    },
    "search": {"search": "llama"},
}


def _log_listing(budget: Budget) -> Table:
    import httpx

    rows = budget.n(LOG_ROWS, 500)
    started = time.perf_counter()
    samples = Samples()
    counts: dict[str, int] = {}
    with server("emulator-logs", str(rows)) as port:
        filled = time.perf_counter() - started
        url = f"http://127.0.0.1:{port}/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/demo/logs"
        with httpx.Client(headers={"authorization": "Bearer emu-token"}, timeout=120) as http:

            def fetch(name: str) -> float:
                t0 = time.perf_counter()
                response = http.get(f"{url}?{urlencode({'per_page': '20', **QUERIES[name]})}")
                elapsed = time.perf_counter() - t0
                response.raise_for_status()
                counts[name] = response.json()["result_info"]["total_count"]
                return elapsed

            first = fetch("first page (newest first)")  # indexes the stored logs
            for name in QUERIES:  # warm up
                fetch(name)
            rounds = budget.n(11, 1)
            for _, name in interleaved(list(QUERIES), rounds):
                samples.add(name, fetch(name))
    table = Table(
        f"Log listing over {rows:,} logs",
        f"GET .../logs?per_page=20 with filters, through the logs API on a kept-alive "
        f"connection: milliseconds per request, median of {rounds} interleaved (p25-p75). "
        f"Storing the {rows:,} logs through the emulator's storage writes (and starting it) "
        f"took {filled:.1f} s; the first listing after that indexed them (the columns a "
        f"listing reads are written by the listing after a log is stored, not by the request "
        f"that stores it) and took {first:.1f} s.",
        ["query", "matching logs", "ms per request"],
    )
    for name in QUERIES:
        table.row(name, f"{counts[name]:,}", samples.spread(name).show(1e3, 1))
    worst = max(samples.spread(name).median for name in QUERIES)
    table.target(
        f"listing {rows:,} logs with filters under 50 ms (each query's median; the slowest)",
        f"{worst * 1e3:.1f} ms",
        worst < 0.050,
    )
    return table


def run(budget: Budget) -> list[Table]:
    return [_throughput(budget), _log_listing(budget)]
