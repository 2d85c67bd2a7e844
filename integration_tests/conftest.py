"""Shared infrastructure for the scenario tests of every adapter (``integration_tests/<adapter>/``).

Modes
-----
- **replay** (default): pytest-recording replays ``cassettes/<adapter>/<test module>/<test>.yaml``
  with record mode ``none``; no emulator and no network are needed. A test fails when its
  cassette holds interactions it never played (stale cassettes rot silently otherwise).
- **record**: ``--record-mode=rewrite`` (or ``all``/``once``/``new_episodes``; or the env var
  ``CF_AIG_RECORD_MODE``) starts the local emulator in-process (the ``emulator`` fixture of
  ``cf_ai_gateway_emulator.pytest_plugin``) and writes scrubbed cassettes plus
  ``cassettes/<adapter>/PROVENANCE.md`` (what they were recorded against, when, versions).
- **live**: ``--live`` (or ``CF_AIG_INTEGRATION_MODE=live``) with ``CF_ACCOUNT_ID``,
  ``CF_GATEWAY_ID`` and ``CF_AIG_TOKEN`` set (plus ``OPENAI_API_KEY`` unless the gateway uses
  BYOK/Unified Billing) runs against Cloudflare without cassettes. Without those variables the
  tests skip, naming what is missing. Tests marked ``emulator_only`` (fault injection, gateway
  settings) skip in live mode.

Fixtures (adapter-agnostic; an adapter's tests just use them)
-------------------------------------------------------------
- ``integration_mode`` -> ``"replay" | "record" | "live"``
- ``gateway_factory(**settings, create=True) -> cf_ai_gateway.Gateway``: a gateway with a
  deterministic id derived from the test (so cassettes match across runs). While recording it is
  created on the emulator with those management-API settings (``cache_ttl=...``,
  ``rate_limiting_limit=...``, ``authentication=True``...); replaying it points at
  ``REPLAY_BASE_URL`` (never contacted); live it is ``Gateway.from_env()`` (and a test asking
  for settings is skipped). ``create=False`` gives a gateway id that does not exist.
- ``gateway`` -> ``gateway_factory()``: an open gateway, logs on, no cache, no rate limit.
- ``provider_api_key`` -> the provider key to send (a fake one for the emulator, scrubbed
  from cassettes; ``OPENAI_API_KEY`` or ``None`` (BYOK) live).
- ``vcr_config`` / ``vcr_cassette_dir``: the core's scrubbing config
  (``cf_ai_gateway.testing.vcr_config``) and the ``cassettes/<adapter>/<module>`` layout.

Mark a test (or module, ``pytestmark = pytest.mark.vcr``) with ``vcr`` to record/replay it.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from cf_ai_gateway import Gateway
from cf_ai_gateway.testing import CassetteSerializer, configure_vcr
from cf_ai_gateway.testing import vcr_config as cf_vcr_config

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
REPLAY_BASE_URL = "http://127.0.0.1:8787"
"""Where replayed gateways point; never contacted (matching ignores host and port)."""
REPLAY_ACCOUNT_ID = "emu-account"
REPLAY_TOKEN = "replay-token"
EMULATOR_PROVIDER_KEY = "sk-emulator-not-a-real-key"
EMULATOR_BYOK_KEY = "sk-byok-stored-in-the-emulator-0001"
"""A provider key scenarios store in an emulator gateway (BYOK, ``provider_keys``): it stays in
the emulator and must never reach a cassette (``test_cassettes.py`` looks for it)."""
LIVE_ENV = ("CF_ACCOUNT_ID", "CF_GATEWAY_ID", "CF_AIG_TOKEN")
_RECORDED = pytest.StashKey[set[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--live",
        action="store_true",
        default=False,
        help="run the integration tests against Cloudflare (needs "
        f"{', '.join(LIVE_ENV)}); no cassettes",
    )


def _live_requested(config: pytest.Config) -> bool:
    return (
        bool(config.getoption("--live"))
        or os.environ.get("CF_AIG_INTEGRATION_MODE", "").lower() == "live"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "emulator_only: needs emulator features (fault injection, gateway "
        "settings); skipped in live mode",
    )
    config.stash[_RECORDED] = set()
    if _live_requested(config):
        config.option.disable_recording = True


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    configure_vcr(vcr)
    # The readable serializer under the name "yaml" too, so cassettes are ``<test>.yaml``
    # (pytest-recording derives the file suffix from the serializer name).
    vcr.register_serializer("yaml", CassetteSerializer())


def _mode(config: pytest.Config) -> str:
    if _live_requested(config):
        return "live"
    record = (
        config.getoption("--record-mode", default=None)
        or os.environ.get("CF_AIG_RECORD_MODE")
        or "none"
    )
    return "replay" if record == "none" else "record"


@pytest.fixture(scope="session")
def record_mode(request: pytest.FixtureRequest) -> str:
    """pytest-recording's record mode, also settable with ``CF_AIG_RECORD_MODE``."""
    return str(
        request.config.getoption("--record-mode", default=None)
        or os.environ.get("CF_AIG_RECORD_MODE")
        or "none"
    )


@pytest.fixture(scope="session")
def integration_mode(request: pytest.FixtureRequest) -> str:
    return _mode(request.config)


@pytest.fixture(autouse=True)
def _live_guard(request: pytest.FixtureRequest, integration_mode: str) -> None:
    if integration_mode != "live":
        return
    if request.node.get_closest_marker("emulator_only"):
        pytest.skip("emulator_only: needs emulator fault injection or gateway settings")
    missing = [name for name in LIVE_ENV if not os.environ.get(name)]
    if missing:
        pytest.skip(f"live mode needs {', '.join(missing)} in the environment")


def _adapter(path: Path) -> str:
    parts = path.resolve().relative_to(Path(__file__).resolve().parent).parts
    return parts[0] if len(parts) > 1 else "shared"


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    path = Path(str(request.node.fspath))
    return str(CASSETTES / _adapter(path) / path.stem)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    accounts = [REPLAY_ACCOUNT_ID, os.environ.get("CF_ACCOUNT_ID", "")]
    secrets = [
        EMULATOR_PROVIDER_KEY,
        EMULATOR_BYOK_KEY,
        REPLAY_TOKEN,
        "emu-token",
        os.environ.get("CF_AIG_TOKEN", ""),
        os.environ.get("OPENAI_API_KEY", ""),
    ]
    return cf_vcr_config(account_ids=accounts, secrets=secrets, serializer="yaml")


@pytest.fixture(autouse=True)
def _cassette_fully_played(
    request: pytest.FixtureRequest,
    vcr: Any,
    integration_mode: str,
) -> Iterator[None]:
    """Replaying, every recorded interaction must be used: a stale cassette is a failure."""
    yield
    if vcr is None:
        return
    if integration_mode == "record":
        request.config.stash[_RECORDED].add(_adapter(Path(str(request.node.fspath))))
        return
    if integration_mode == "replay" and not vcr.all_played:
        unplayed = sum(1 for i in range(len(vcr.data)) if not vcr.play_counts[i])
        pytest.fail(
            f"{unplayed} interaction(s) in {vcr._path} were never played: the test "
            "sends fewer requests than were recorded (re-record it with "
            "--record-mode=rewrite)"
        )


def _gateway_id(node: pytest.Item, index: int) -> str:
    digest = hashlib.sha1(node.nodeid.encode()).hexdigest()[:8]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", node.name).strip("-").lower()[:40]
    return f"it-{slug}-{digest}" + (f"-{index}" if index else "")


@pytest.fixture
def gateway_factory(
    request: pytest.FixtureRequest,
    integration_mode: str,
) -> Callable[..., Gateway]:
    calls = [0]

    def make(*, create: bool = True, **settings: Any) -> Gateway:
        index = calls[0]
        calls[0] += 1
        gateway_id = _gateway_id(request.node, index)
        if integration_mode == "live":
            if settings or not create:
                pytest.skip("needs gateway settings that only the emulator can apply")
            return Gateway.from_env()
        if integration_mode == "replay":
            return Gateway.from_url(
                f"{REPLAY_BASE_URL}/v1/{REPLAY_ACCOUNT_ID}/{gateway_id}", token=REPLAY_TOKEN
            )
        emulator = request.getfixturevalue("emulator")
        if create:
            emulator.create_gateway(gateway_id, **settings)
        else:
            emulator.delete_gateway(gateway_id)
        return emulator.gateway(gateway_id)  # type: ignore[no-any-return]

    return make


@pytest.fixture
def gateway(gateway_factory: Callable[..., Gateway]) -> Gateway:
    return gateway_factory()


@pytest.fixture
def provider_api_key(integration_mode: str) -> str | None:
    if integration_mode == "live":
        return os.environ.get("OPENAI_API_KEY") or None
    return EMULATOR_PROVIDER_KEY


@pytest.fixture(scope="session")
def docs_env() -> Iterator[dict[str, str]]:
    """An emulator for docs samples, and the environment the docs tell readers to set (see
    ``integration_tests/docs_samples.py``). Skipped when the emulator is not installed."""
    pytest.importorskip("cf_ai_gateway_emulator.testing")
    from integration_tests.docs_samples import docs_environment

    with docs_environment() as env:
        yield env


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    recorded = session.config.stash.get(_RECORDED, set())
    for adapter in sorted(recorded):
        target = CASSETTES / adapter / "PROVENANCE.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        versions = ", ".join(
            f"{d} {_version(d)}"
            for d in (
                "cf-ai-gateway",
                "cf-ai-gateway-emulator",
                f"cf-ai-gateway-{adapter}",
                "langchain-core",
                "langchain-tests",
                "llama-index-core",
                "litellm",
                "httpx",
                "vcrpy",
                "pytest-recording",
            )
            if _version(d) != "not installed"
        )
        target.write_text(
            f"# Cassette provenance: {adapter}\n\n"
            "- Recorded against: the local cf-ai-gateway-emulator (in-process, 127.0.0.1), "
            "not Cloudflare. Answers come from its deterministic mock LLM.\n"
            f"- Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}\n"
            f"- Python {platform.python_version()}; {versions}\n"
            "- Re-record everything with `nox -s record` (one command); this folder alone with "
            f"`pytest integration_tests/{adapter} "
            f"--record-mode={session.config.getoption('--record-mode') or 'rewrite'}`\n"
            "- Scrubbed: credential headers (REDACTED), account ids in URLs (ACCOUNT_ID), "
            "volatile response headers; checked by integration_tests/test_cassettes.py.\n",
            encoding="utf-8",
        )
