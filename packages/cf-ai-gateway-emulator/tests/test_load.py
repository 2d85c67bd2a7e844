"""The emulator under load, about a minute: 64 core clients against the CLI server (its own
process, a file database), a mix of calls, streams, injected upstream failures and a
rate-limited gateway. Afterwards: exactly one log row per request, exactly the rate limit's
number of successes, no connection reset or unexpected error, and the server's resident
memory bounded.

Runs when ``CF_AIG_LOAD_TEST=1`` (``nox -s load`` sets it; a plain ``pytest`` run skips it);
``CF_AIG_LOAD_SECONDS`` sets how long the traffic lasts (default 45).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cf_ai_gateway import (
    NO_RETRY,
    AsyncGatewayClient,
    Gateway,
    GatewayConnectionError,
    GatewayError,
    ProviderError,
    RateLimitError,
)

pytestmark = pytest.mark.skipif(
    os.environ.get("CF_AIG_LOAD_TEST") != "1", reason="the load test runs with CF_AIG_LOAD_TEST=1"
)

CLIENTS = 64
SECONDS = float(os.environ.get("CF_AIG_LOAD_SECONDS", "45"))
RATE_LIMIT = 100
RSS_GROWTH_MAX_MB = 64
ACCOUNT, TOKEN = "load-account", "load-token"
CONFIG = f"""
[emulator]
default_account = "{ACCOUNT}"

[accounts.{ACCOUNT}]
api_tokens = ["{TOKEN}"]

[accounts.{ACCOUNT}.gateways.open]
collect_logs = true

[accounts.{ACCOUNT}.gateways.limited]
collect_logs = true
rate_limiting_limit = {RATE_LIMIT}
rate_limiting_interval = 3600
rate_limiting_technique = "sliding"
"""


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    psutil = pytest.importorskip("psutil")
    return float(psutil.Process(pid).memory_info().rss) / 2**20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    folder = tmp_path_factory.mktemp("load")
    (folder / "load.toml").write_text(CONFIG)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cf_ai_gateway_emulator",
            "serve",
            "--port",
            "0",
            "--quiet",
            "--config",
            str(folder / "load.toml"),
            "--db",
            str(folder / "load.sqlite3"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on" in line, line
        yield line.rsplit(" ", 1)[1].strip(), process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def chat(client_id: int, n: int, stream: bool = False) -> dict[str, object]:
    return {
        "model": "openai/gpt-4o-mini",
        "max_tokens": 24,
        "stream": stream,
        "messages": [{"role": "user", "content": f"client {client_id} request {n}"}],
    }


async def test_64_clients_for_a_minute(server: tuple[str, int]) -> None:
    base, pid = server
    sent: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    unexpected: list[str] = []
    log_ids: set[str] = set()
    rss: list[float] = []
    started = time.monotonic()
    end = started + SECONDS

    async def client(i: int) -> None:
        gateways = {
            name: Gateway.from_url(f"{base}/v1/{ACCOUNT}/{name}", token=TOKEN)
            for name in ("open", "limited")
        }
        open_client = AsyncGatewayClient(gateways["open"], api_key="sk-load", retry=NO_RETRY)
        limited = AsyncGatewayClient(gateways["limited"], api_key="sk-load", retry=NO_RETRY)
        n = 0
        try:
            while time.monotonic() < end:
                n += 1
                kind = (n + i) % 8  # a quarter limited, a quarter streams, an eighth failing
                target = "limited" if kind in (1, 5) else "open"
                sent[target] += 1
                try:
                    if target == "limited":
                        result = await limited.chat_completions(chat(i, n))
                        log_ids.add(result.info.log_id or "")
                    elif kind in (3, 6):
                        body = chat(i, n)
                        del body["stream"]
                        stream = await open_client.stream_chat_completions(body)
                        async with stream:
                            pieces = [c async for c in stream]
                        assert pieces
                        log_ids.add(stream.info.log_id or "")
                    elif kind == 7:
                        await open_client.chat_completions(
                            chat(i, n), extra_headers={"x-emulator-fault": "fail=503"}
                        )
                        unexpected.append("an injected 503 answered 2xx")
                    else:
                        result = await open_client.chat_completions(chat(i, n))
                        log_ids.add(result.info.log_id or "")
                    outcomes["ok"] += 1
                except RateLimitError as exc:
                    outcomes["429"] += 1
                    log_ids.add(exc.log_id or "")
                except ProviderError as exc:
                    outcomes["503" if exc.status_code == 503 else "other"] += 1
                    log_ids.add(exc.log_id or "")
                except GatewayConnectionError as exc:  # a reset: the keep-alive race
                    unexpected.append(f"{type(exc).__name__}: {exc}")
                except GatewayError as exc:
                    unexpected.append(f"{type(exc).__name__}: {exc}")
        finally:
            await open_client.aclose()
            await limited.aclose()

    async def sample_memory() -> None:
        while time.monotonic() < end:
            rss.append(rss_mb(pid))
            await asyncio.sleep(1.0)

    await asyncio.gather(*(client(i) for i in range(CLIENTS)), sample_memory())
    elapsed = time.monotonic() - started
    total = sum(sent.values())
    print(
        f"\n{total} requests from {CLIENTS} clients in {elapsed:.0f} s "
        f"({total / elapsed:.0f}/s): {dict(outcomes)}; server RSS {rss[0]:.0f} -> "
        f"{max(rss):.0f} MB"
    )

    assert unexpected == []
    assert outcomes["429"] == sent["limited"] - min(RATE_LIMIT, sent["limited"])
    assert sent["limited"] > RATE_LIMIT  # the limit was reached
    assert "" not in log_ids
    assert len(log_ids) == total  # every request got its own log id
    async with httpx.AsyncClient(base_url=f"{base}/client/v4") as api:
        for name in ("open", "limited"):
            page = await api.get(
                f"/accounts/{ACCOUNT}/ai-gateway/gateways/{name}/logs",
                params={"per_page": 1},
                headers={"authorization": f"Bearer {TOKEN}"},
            )
            assert page.json()["result_info"]["total_count"] == sent[name], name
        successes = await api.get(
            f"/accounts/{ACCOUNT}/ai-gateway/gateways/limited/logs",
            params={
                "per_page": 1,
                "filters": '[{"key": "success", "operator": "eq", "value": [true]}]',
            },
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert successes.json()["result_info"]["total_count"] == RATE_LIMIT
    warm = rss[min(5, len(rss) - 1)]
    assert max(rss) - warm < RSS_GROWTH_MAX_MB, f"RSS grew from {warm:.0f} to {max(rss):.0f} MB"
