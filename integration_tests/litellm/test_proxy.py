"""The real LiteLLM proxy, as its own process on 127.0.0.1, routing model names to our
provider with the ``config.yaml`` and handler file of docs/litellm.md; the official ``openai``
SDK calls it, and the emulator answers: proxy -> our provider -> emulator.

One proxy per session (it takes 20-40 s to start on two shared cores), killed at the end.
Skipped where ``litellm[proxy]`` is not installed (the proxy's nox leg installs it)."""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cf_ai_gateway_emulator.testing import EmulatorHandle

from integration_tests.docs_samples import ROOT

DOC = ROOT / "docs" / "litellm.md"
READY_TIMEOUT_S = 150
GATEWAY_ID = "proxy-tests"

pytestmark = [
    pytest.mark.emulator_only,
    pytest.mark.skipif(
        importlib.util.find_spec("fastapi") is None
        or importlib.util.find_spec("apscheduler") is None,
        reason='the LiteLLM proxy needs "litellm[proxy]"',
    ),
]


def _doc_block(marker: str) -> str:
    """The fenced block that follows ``<!-- proxy-test: {marker} -->`` in the docs page, so
    the test runs exactly what the page shows."""
    text = DOC.read_text(encoding="utf-8")
    after = text.split(f"<!-- proxy-test: {marker} -->", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Proxy:
    base_url: str
    key: str
    log: Path


def _litellm_command() -> list[str]:
    script = Path(sys.executable).parent / "litellm"
    if script.exists():
        return [str(script)]
    found = shutil.which("litellm")
    return [found] if found else [sys.executable, "-m", "litellm.proxy.proxy_cli"]


@pytest.fixture(scope="session")
def proxy(emulator: EmulatorHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    workdir = tmp_path_factory.mktemp("litellm-proxy")
    (workdir / "config.yaml").write_text(_doc_block("config.yaml"), encoding="utf-8")
    (workdir / "cf_aig_handler.py").write_text(_doc_block("cf_aig_handler.py"), encoding="utf-8")
    emulator.create_gateway(GATEWAY_ID)
    key = f"sk-{secrets.token_hex(24)}"
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "CF_", "CLOUDFLARE_", "OPENAI_"))
    }
    env.update(
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_MASTER_KEY=key,
        CF_AIG_URL=emulator.gateway_url(GATEWAY_ID),
        CF_AIG_TOKEN=emulator.token,
    )
    log = workdir / "proxy.log"
    command = [*_litellm_command(), "--config", "config.yaml", "--host", "127.0.0.1"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)], cwd=workdir, env=env, stdout=out, stderr=out
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the proxy exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base_url}/health/liveliness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the proxy was not ready in {READY_TIMEOUT_S} s:\n{log.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield Proxy(f"{base_url}/v1", key, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _logged_ids(emulator: EmulatorHandle) -> set[str]:
    return {str(entry["id"]) for entry in emulator.logs(GATEWAY_ID)}


def test_chat_stream_and_embeddings_through_the_proxy(
    proxy: Proxy, emulator: EmulatorHandle
) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=proxy.base_url, api_key=proxy.key, max_retries=0)
    messages = [{"role": "user", "content": "Hello through the proxy"}]

    raw = client.chat.completions.with_raw_response.create(model="gw-chat", messages=messages)
    reply = raw.parse()
    assert reply.choices[0].message.content
    assert reply.usage is not None
    assert reply.usage.total_tokens > 0
    chat_log = raw.headers["llm_provider-cf-aig-log-id"]
    assert chat_log in _logged_ids(emulator)
    assert float(raw.headers["x-litellm-response-cost"]) > 0

    stream = client.chat.completions.create(
        model="gw-chat", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0
    cf_aig = (chunks[0].model_extra or {}).get("cf_aig")
    assert cf_aig, chunks[0]
    assert cf_aig["log_id"] in _logged_ids(emulator)

    raw_embed = client.embeddings.with_raw_response.create(model="gw-embed", input=["a", "b"])
    vectors = raw_embed.parse().data
    assert len(vectors) == 2
    assert len(vectors[0].embedding) > 0
    assert raw_embed.headers["llm_provider-cf-aig-log-id"] in _logged_ids(emulator)

    logged = emulator.logs(GATEWAY_ID)
    assert {entry["path"].rsplit("/", 1)[-1] for entry in logged} >= {"completions", "embeddings"}
    chat_entry = next(entry for entry in logged if str(entry["id"]) == chat_log)
    assert "litellm-proxy" in str(chat_entry["metadata"])  # the model's gateway_options
    assert proxy.key not in proxy.log.read_text(errors="replace")
