"""The ``cf-ai-gateway-emulator`` command in a subprocess: serve on a free port, answer, stop
cleanly; bad input fails with one clear line and no traceback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

SECRET = "s3cret-account-token-0123456789"
CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}]}


def _command() -> list[str]:
    script = Path(sys.executable).with_name("cf-ai-gateway-emulator")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "cf_ai_gateway_emulator"]  # pragma: no cover


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_command(), *args], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.fixture
def server(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    extra: list[str] = getattr(request, "param", [])
    config = tmp_path / "emu.toml"
    config.write_text(
        f'[accounts.acct]\napi_tokens = ["{SECRET}"]\n'
        "[accounts.acct.gateways.demo]\n[accounts.acct.gateways.secure]\nauthentication = true\n"
    )
    proc = subprocess.Popen(
        [*_command(), "serve", "--port", "0", "--config", str(config), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the server is listening
    match = re.fullmatch(r"cf-ai-gateway-emulator listening on (http://127\.0\.0\.1:\d+)\n", line)
    if match is None:  # pragma: no cover - diagnostics
        proc.kill()
        pytest.fail(f"unexpected first line {line!r}; stderr: {proc.communicate()[1]}")
    try:
        yield proc, match[1]
    finally:
        if proc.poll() is None:  # pragma: no cover - the test stops it
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_on_a_free_port_and_stop(
    server: tuple[subprocess.Popen[str], str], stop: signal.Signals
) -> None:
    proc, base = server
    assert not base.endswith(":0")
    info = httpx.get(f"{base}/", timeout=5).json()
    assert info["gateway_url"] == f"{base}/v1/acct/{{gateway}}"
    r = httpx.post(f"{base}/v1/acct/demo/compat/chat/completions", json=CHAT, timeout=5)
    assert r.status_code == 200
    assert r.json()["object"] == "chat.completion"
    denied = httpx.post(f"{base}/v1/acct/secure/compat/chat/completions", json=CHAT, timeout=5)
    assert denied.status_code == 401
    allowed = httpx.post(
        f"{base}/v1/acct/secure/compat/chat/completions",
        json=CHAT,
        headers={"cf-aig-authorization": f"Bearer {SECRET}"},
        timeout=5,
    )
    assert allowed.status_code == 200
    proc.send_signal(stop)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert f"Gateway URL:  {base}/v1/acct/{{gateway}}" in err
    assert f"export CF_AIG_URL={base}/v1/acct/demo" in err
    assert SECRET not in out + err  # a configured token is never printed
    requests = [line for line in err.splitlines() if " POST " in line]
    assert len(requests) == 3  # one line per request
    assert "POST /v1/acct/demo/compat/chat/completions gateway=demo 200 cache=MISS" in requests[0]
    assert re.search(r"gateway=secure 401 cache=- [0-9.]+ms log=-$", requests[1])
    assert re.search(r"gateway=secure 200 cache=MISS [0-9.]+ms log=[0-9a-f-]{36}$", requests[2])


@pytest.mark.parametrize("server", [["--quiet"]], indirect=True)
def test_serve_quiet_prints_no_request_lines(server: tuple[subprocess.Popen[str], str]) -> None:
    proc, base = server
    assert httpx.post(f"{base}/v1/acct/demo/compat/chat/completions", json=CHAT).status_code == 200
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "Gateway URL:" in err
    assert " POST " not in err


def test_bad_config_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.cfg"  # not .toml: still read as a file
    path.write_text('[accounts.a.gateways.g]\nrate_limiting_technique = "burst"\n')
    result = _run("serve", "--port", "0", "--config", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "cf-ai-gateway-emulator: invalid configuration: "
        "accounts.a.gateways.g.rate_limiting_technique='burst' is invalid: "
        "must be one of fixed, sliding"
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--config", "/nonexistent/emu.toml"], "--config='/nonexistent/emu.toml'"),
        (["--config", "TOML"], "is not valid TOML"),
        (["--config", "TOKENS"], "accounts.a.api_tokens="),
        (["--db", "DIR"], "invalid --db"),
        (["--port", "70000"], "--port=70000"),
    ],
)
def test_bad_arguments_fail_without_traceback(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[accounts.a\n")
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(f'[accounts.a]\napi_tokens = ["{SECRET}", ""]\n')
    replace = {"TOML": str(bad_toml), "TOKENS": str(tokens), "DIR": str(tmp_path)}
    result = _run("serve", "--port", "0", *[replace.get(a, a) for a in args])
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert SECRET not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
