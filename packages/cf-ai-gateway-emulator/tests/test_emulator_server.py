"""The emulator served by uvicorn on 127.0.0.1, driven by the core client: streaming over a
real socket, concurrency, the pytest fixtures, pass-through and the CLI."""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
from pathlib import Path

import httpx
import pytest
from cf_ai_gateway import (
    NO_RETRY,
    AsyncGatewayClient,
    Gateway,
    GatewayClient,
    GatewayOptions,
    ManagementClient,
    StreamInterruptedError,
)
from cf_ai_gateway_emulator.cli import main
from cf_ai_gateway_emulator.config import DEFAULT_CONFIG_TOML
from cf_ai_gateway_emulator.listening import listening_socket
from cf_ai_gateway_emulator.testing import EmulatorHandle, run_emulator

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}]}


def test_fixtures_give_isolated_gateways(
    emulator: EmulatorHandle, emulator_gateway: Gateway
) -> None:
    assert emulator.base_url.startswith("http://127.0.0.1:")
    assert emulator_gateway.gateway_id.startswith("t-")
    with GatewayClient(emulator_gateway, retry=NO_RETRY) as client:
        opts = GatewayOptions(cache_ttl=60, metadata={"user": "u-1"}, event_id="ev-1")
        first = client.chat_completions(CHAT, options=opts)
        second = client.chat_completions(CHAT, options=opts)
        assert (first.info.cache_status, second.info.cache_status) == ("MISS", "HIT")
    with ManagementClient.from_gateway(emulator_gateway) as mgmt:
        logs = list(mgmt.list_logs(direction="asc"))
        assert [log.event_id for log in logs] == ["ev-1", "ev-1"]
        assert logs[0].metadata == {"user": "u-1"}
        assert mgmt.get_log(first.info.log_id or "").cached is False


def test_streaming_over_a_socket(emulator: EmulatorHandle, emulator_gateway: Gateway) -> None:
    with GatewayClient(emulator_gateway, retry=NO_RETRY) as client:
        body = {**CHAT, "stream_options": {"include_usage": True}}
        with client.stream_chat_completions(body) as stream:
            chunks = list(stream)
        text = "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
        )
        assert text.startswith("H")
        assert chunks[-1]["usage"]["total_tokens"] > 0
        with ManagementClient.from_gateway(emulator_gateway) as mgmt:
            log = mgmt.get_log(stream.info.log_id or "")
        assert log.tokens_out == chunks[-1]["usage"]["completion_tokens"]
        with (
            pytest.raises(StreamInterruptedError),
            client.stream_chat_completions(
                CHAT, extra_headers={"x-emulator-fault": "cut=2"}
            ) as cut,
        ):
            list(cut)
    logs = emulator.logs(emulator_gateway.gateway_id)
    assert [log["success"] for log in logs] == [True, False]


def test_listening_socket_turns_nagle_off() -> None:
    sock = listening_socket("127.0.0.1", 0)
    with sock:
        assert sock.proto == socket.IPPROTO_TCP  # so asyncio sets TCP_NODELAY on each accept
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_kept_alive_requests_are_not_delayed(emulator: EmulatorHandle, stream: bool) -> None:
    # With Nagle on, every request after the first on a kept-alive connection waited for a
    # delayed ACK: at least 40 ms each. Without it, a mock answer takes a few ms.
    url = f"{emulator.compat_base_url()}/chat/completions"
    durations = []
    with httpx.Client() as http:
        for _ in range(15):
            started = time.perf_counter()
            r = http.post(url, json={**CHAT, "stream": stream})
            assert r.status_code == 200
            durations.append(time.perf_counter() - started)
    assert statistics.median(durations[1:]) < 0.03, durations


async def test_concurrent_requests_never_lose_a_log(emulator: EmulatorHandle) -> None:
    await _concurrent_requests_never_lose_a_log(emulator)


async def test_concurrent_requests_never_lose_a_log_in_a_file_db(tmp_path: Path) -> None:
    with run_emulator(db=tmp_path / "emu.sqlite3") as emulator:
        assert emulator.state.storage.journal_mode == "wal"
        await _concurrent_requests_never_lose_a_log(emulator)


async def _concurrent_requests_never_lose_a_log(emulator: EmulatorHandle) -> None:
    gateway_id = emulator.create_gateway()
    async with AsyncGatewayClient(emulator.gateway(gateway_id), retry=NO_RETRY) as client:

        async def one(i: int) -> str:
            body = {**CHAT, "messages": [{"role": "user", "content": f"question {i}"}]}
            if i % 3 == 0:
                async with await client.stream_chat_completions(body) as stream:
                    async for _ in stream:
                        pass
                    return stream.info.log_id or ""
            result = await client.chat_completions(body)
            return result.info.log_id or ""

        ids = await asyncio.gather(*(one(i) for i in range(60)))
    assert len(set(ids)) == 60
    assert {log["id"] for log in emulator.logs(gateway_id)} == set(ids)


def test_pass_through_to_an_upstream(emulator: EmulatorHandle) -> None:
    upstream = emulator.provider_base_url("openai", "demo")
    config = (
        DEFAULT_CONFIG_TOML + f'\n[providers.openai]\nmode = "upstream"\n'
        f'upstream_base_url = "{upstream}"\n'
    )
    before = len(emulator.logs("demo"))
    with (
        run_emulator(config) as proxy,
        GatewayClient(proxy.gateway("demo"), retry=NO_RETRY) as client,
    ):
        result = client.chat_completions(CHAT)
        assert result.data["object"] == "chat.completion"
        with client.stream_chat_completions(CHAT) as stream:
            assert len(list(stream)) > 2
    assert len(emulator.logs("demo")) == before + 2  # both went through the upstream


def test_file_database_persists(tmp_path: pytest.TempPathFactory) -> None:
    db = tmp_path / "emu.sqlite3"  # type: ignore[operator]
    with run_emulator(db=db) as emu, GatewayClient(emu.gateway("demo")) as client:
        client.chat_completions(CHAT)
    with run_emulator(db=db) as emu:
        assert len(emu.logs("demo")) == 1


def test_cli_prints_the_default_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config"]) == 0
    assert capsys.readouterr().out == DEFAULT_CONFIG_TOML


def test_cli_rejects_a_bad_config(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"  # type: ignore[operator]
    path.write_text("[accounts.a.gateways.g]\ncache_ttl = -1\n")
    assert main(["serve", "--config", str(path)]) == 2
    assert "accounts.a.gateways.g.cache_ttl" in capsys.readouterr().err


def test_info_endpoint(emulator: EmulatorHandle) -> None:
    info = httpx.get(emulator.base_url + "/").json()
    assert info["gateway_url"] == f"{emulator.base_url}/v1/emu-account/{{gateway}}"
    assert "demo" in info["accounts"]["emu-account"]
