"""Integration tests: recorded against the local emulator, replayed from ``cassettes/langchain``.

Modes (pytest-recording's own options decide; nothing here pins ``record_mode``):

- replay (default, ``--record-mode=none``; ``CF_AIG_RECORD_MODE`` works too): no network, no
  emulator; every HTTP exchange comes from the cassettes, which hold no credentials and no
  account ids.
- record (``--record-mode=rewrite`` / ``once`` / ``new_episodes``): an in-process emulator is
  started on ``127.0.0.1`` and the exchanges are written to ``cassettes/langchain/``.
- live (``--disable-recording``): straight against the emulator, nothing read or written.

The same cassettes replay on langchain-core 0.3 and 1.x: 1.x runs some standard tests twice
(``[model0]``/``[model1]`` = ``output_version`` None/"v1"), and those send identical requests,
so the ``[modelN]`` suffix is dropped from cassette names.
"""

from __future__ import annotations

import base64
import json
import os
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import langchain_core
import pytest
from cf_ai_gateway import Gateway
from cf_ai_gateway.testing import configure_vcr
from cf_ai_gateway.testing import vcr_config as cf_vcr_config

ROOT = Path(__file__).resolve().parents[4]
CASSETTES = ROOT / "cassettes" / "langchain"
REPLAY_BASE = "http://127.0.0.1:9"  # never contacted: replay answers every request
ACCOUNT_PLACEHOLDER = "ACCOUNT_ID"

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _normalise(value: Any, seen: dict[str, str]) -> Any:
    """Random uuids (LangChain's few-shot tool-call ids) become stable placeholders."""
    if isinstance(value, dict):
        return {k: _normalise(v, seen) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, seen) for v in value]
    if isinstance(value, str):
        return _UUID.sub(lambda m: seen.setdefault(m.group(0), f"uuid-{len(seen)}"), value)
    return value


def _json_body(request: Any) -> Any:
    body = request.body
    if body is None or body == b"" or body == "":
        return None
    text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
    try:
        return _normalise(json.loads(text), {})
    except ValueError:
        return text


def json_body_matcher(r1: Any, r2: Any) -> None:
    b1, b2 = _json_body(r1), _json_body(r2)
    if b1 != b2:
        raise AssertionError(
            f"request bodies differ:\n{json.dumps(b1, sort_keys=True)[:3000]}"
            f"\n{json.dumps(b2, sort_keys=True)[:3000]}"
        )


def recording(config: pytest.Config) -> bool:
    """True when requests must really be sent (record or live), False when replaying."""
    if config.getoption("--disable-recording", default=False):
        return True
    mode = config.getoption("--record-mode", default=None) or os.environ.get("CF_AIG_RECORD_MODE")
    return (mode or "none") != "none"


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    configure_vcr(vcr)
    vcr.register_matcher("cf_json_body", json_body_matcher)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    from vcr import VCR

    return cf_vcr_config(
        match_on=("method", "scheme", "path", "query", "cf_json_body"),
        extra={"allow_playback_repeats": True, "path_transformer": VCR.ensure_suffix(".yaml")},
    )


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    return str(CASSETTES / module)


LANGCHAIN_CORE_MAJOR = int(langchain_core.__version__.split(".")[0])

# Standard tests whose *inputs* differ between langchain-tests 0.3 and 1.x (other prompts,
# tool docstrings, image formats): on langchain-core 0.3 they use their own cassettes.
LC03_OWN_CASSETTES = frozenset({"test_agent_loop", "test_anthropic_inputs", "test_image_inputs"})


@pytest.fixture
def default_cassette_name(request: pytest.FixtureRequest) -> str:
    name = re.sub(r"\[model\d\]$", "", request.node.name)
    if LANGCHAIN_CORE_MAJOR == 0 and name in LC03_OWN_CASSETTES:
        name += ".lc03"
    if request.cls is not None:
        return f"{request.cls.__name__}.{name}"
    return name


@pytest.fixture(scope="session")
def lc_emulator(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The emulator when recording or live; ``None`` when replaying."""
    if not recording(request.config):
        yield None
        return
    from cf_ai_gateway_emulator.testing import run_emulator

    with run_emulator() as handle:
        yield handle


def gateway_for(emulator: Any, gateway_id: str, **settings: Any) -> Gateway:
    """A fixed-id gateway (cassette paths must not change between runs)."""
    if emulator is None:
        return Gateway.from_url(f"{REPLAY_BASE}/v1/{ACCOUNT_PLACEHOLDER}/{gateway_id}")
    emulator.create_gateway(gateway_id, **settings)
    return emulator.gateway(gateway_id)


# --- the standard suite downloads images/PDFs/audio from the internet: serve tiny local ones


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


LOCAL_DOWNLOADS = {
    ".png": _png(),
    ".jpg": _png(),
    ".pdf": b"%PDF-1.1\n%%EOF\n",
    ".wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
}


@pytest.fixture(autouse=True)
def _local_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_get(url: Any, *args: Any, **kwargs: Any) -> httpx.Response:
        suffix = Path(str(url).split("?")[0]).suffix.lower()
        content = LOCAL_DOWNLOADS.get(suffix, _png())
        return httpx.Response(200, content=content, request=httpx.Request("GET", str(url)))

    monkeypatch.setattr(httpx, "get", fake_get)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
