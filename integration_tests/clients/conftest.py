"""Real clients, unchanged, against the in-process emulator (``emulator`` fixture of
``cf_ai_gateway_emulator.pytest_plugin``): each test points a client no one here wrote at the
emulator with only its base URL changed, as a user would point it at Cloudflare.

Nothing may leave 127.0.0.1: every test here runs under pytest-socket's ``allow_hosts``
(a connection anywhere else fails the test), and LiteLLM reads its bundled model cost map
instead of fetching it (``LITELLM_LOCAL_MODEL_COST_MAP``, set before LiteLLM is imported).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

HERE = Path(__file__).resolve().parent
LOCAL = ["127.0.0.1"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.allow_hosts(LOCAL))
            item.add_marker(pytest.mark.emulator_only)


@pytest.fixture
def gateway_id(emulator: Any) -> str:
    """A fresh open gateway, so each test has its own logs, cache and script positions."""
    return emulator.create_gateway()  # type: ignore[no-any-return]
