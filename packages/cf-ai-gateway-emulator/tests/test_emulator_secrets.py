"""Secrets: configured tokens never show up in reprs or errors, and provider credentials never
reach the logs (request/response payloads included) or the wrong upstream."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from cf_ai_gateway import wire
from cf_ai_gateway_emulator.config import ConfigError, load_config
from cf_ai_gateway_emulator.state import EmulatorState
from cf_ai_gateway_emulator.testing import run_emulator
from emulator_helpers import ACCOUNT, AUTH, CHAT, TOKEN, Emu

GW_SECRET = "gw-scoped-secret-4242"
PROVIDER_SECRET = "sk-provider-secret-9999"


def test_tokens_are_not_in_reprs() -> None:
    config = load_config(
        {
            "accounts": {
                "a": {
                    "api_tokens": ["acct-secret-1"],
                    "gateways": {"g": {"authentication": True, "tokens": [GW_SECRET]}},
                }
            }
        }
    )
    state = EmulatorState(config)
    for obj in (config, config.accounts["a"], config.accounts["a"].gateways["g"], state.accounts):
        assert "acct-secret-1" not in repr(obj)
        assert GW_SECRET not in repr(obj)


@pytest.mark.parametrize(
    "data",
    [
        {"accounts": {"a": {"api_tokens": ["acct-secret-1", ""]}}},
        {"accounts": {"a": {"api_tokens": "acct-secret-1"}}},
        {"accounts": {"a": {"api_token": ["acct-secret-1"]}}},
        {"accounts": {"a": {"gateways": {"g": {"tokens": ["acct-secret-1", 3]}}}}},
    ],
)
def test_config_errors_do_not_echo_tokens(data: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(data)
    assert "acct-secret-1" not in str(info.value)
    assert "acct-secret-1" not in repr(info.value.value)
    assert "token" in info.value.path


async def test_credentials_never_reach_the_logs(emu: Emu) -> None:
    credentials = {
        "authorization": f"Bearer {PROVIDER_SECRET}",
        "x-api-key": PROVIDER_SECRET,
        "api-key": PROVIDER_SECRET,
        "x-goog-api-key": PROVIDER_SECRET,
        "xi-api-key": PROVIDER_SECRET,
        "proxy-authorization": f"Basic {PROVIDER_SECRET}",
        wire.H_AUTHORIZATION: f"Bearer {TOKEN}",
    }
    assert set(credentials) == set(wire.SECRET_HEADERS)
    await emu.post(f"/v1/{ACCOUNT}/secure/openai/chat/completions", CHAT, **credentials)
    await emu.compat("secure", None, **credentials)
    await emu.compat("secure", {**CHAT, "stream": True}, **credentials)
    step: dict[str, Any] = {
        "provider": "openai",
        "endpoint": "chat/completions",
        "headers": {k: v for k, v in credentials.items() if k != wire.H_AUTHORIZATION},
        "query": {"model": "fail-503", "messages": CHAT["messages"]},
    }
    ok_step = {**step, "query": {**step["query"], "model": "gpt-4o-mini"}}
    await emu.post(f"/v1/{ACCOUNT}/secure", [step, ok_step], **credentials)
    await emu.post(
        f"/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions",
        CHAT,
        **AUTH,
        **{wire.H_GATEWAY_ID: "secure"},
    )
    logs = (await emu.logs("secure", per_page=50))["result"]
    assert len(logs) == 6  # 1 + 1 + 1 + 2 (universal) + 1 (REST)
    dumped = [json.dumps(logs)]
    for log in logs:
        for which in ("request", "response"):
            r = await emu.client.get(
                f"/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/secure/logs/{log['id']}/{which}",
                headers=AUTH,
            )
            assert r.status_code == 200
            dumped.append(r.text)
    rows = emu.state.storage._db.execute("SELECT * FROM logs").fetchall()
    dumped.append(repr(rows))
    everything = "\n".join(dumped)
    assert PROVIDER_SECRET not in everything
    assert TOKEN not in everything


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        _Recorder.seen.append({k.lower(): v for k, v in self.headers.items()})
        body = json.dumps(
            {
                "id": "x",
                "object": "chat.completion",
                "model": "m",
                "choices": [],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pass_through_forwards_provider_keys_only(upstream: str) -> None:
    import httpx

    config = {
        "accounts": {ACCOUNT: {"api_tokens": [TOKEN], "gateways": {"demo": {}}}},
        "providers": {"openai": {"mode": "upstream", "upstream_base_url": upstream}},
    }
    with run_emulator(config) as emu:
        native = httpx.post(
            f"{emu.provider_base_url('openai')}/chat/completions",
            json={**CHAT, "model": "gpt-4o-mini"},
            headers={
                "authorization": f"Bearer {PROVIDER_SECRET}",
                wire.H_AUTHORIZATION: f"Bearer {TOKEN}",
                wire.H_METADATA: '{"a": 1}',
            },
        )
        rest = httpx.post(
            f"{emu.base_url}/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions",
            json=CHAT,
            headers={**AUTH, wire.H_GATEWAY_ID: "demo"},
        )
    assert (native.status_code, rest.status_code) == (200, 200)
    to_native, to_rest = _Recorder.seen
    assert to_native["authorization"] == f"Bearer {PROVIDER_SECRET}"  # the provider's own key
    assert not any(k.startswith("cf-aig-") for k in to_native)  # gateway headers stay behind
    assert "authorization" not in to_rest  # the Cloudflare API token never leaves
    assert TOKEN not in json.dumps(to_rest)
