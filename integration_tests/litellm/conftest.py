"""LiteLLM's scenarios: LiteLLM reads its cost map from its own wheel (never the network), its
Router retries without sleeping, and the provider is registered per test on that test's
gateway (the fixtures of ``integration_tests/conftest.py``)."""

from __future__ import annotations

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # before LiteLLM is imported

from collections.abc import Callable, Iterator
from typing import Any

import cf_ai_gateway_litellm
import litellm
import pytest
from cf_ai_gateway import Gateway

Register = Callable[..., Any]


@pytest.fixture(autouse=True)
def _litellm_state() -> Iterator[None]:
    saved = {
        name: list(getattr(litellm, name))
        for name in ("custom_provider_map", "_custom_providers", "provider_list", "callbacks")
    }
    yield
    for name, value in saved.items():
        setattr(litellm, name, value)


@pytest.fixture
def register(gateway_factory: Callable[..., Gateway], provider_api_key: str | None) -> Register:
    """``register(gateway=None, **kw)``: the provider on this test's gateway (or ``gateway``),
    with the provider key of the mode (fake for the emulator, scrubbed from cassettes)."""

    def make(gateway: Gateway | None = None, **kw: Any) -> Any:
        kw.setdefault("api_key", provider_api_key)
        return cf_ai_gateway_litellm.register(gateway or gateway_factory(), **kw)

    return make


@pytest.fixture
def no_router_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Router's back-off between retries, made instant (the calls and their order are
    unchanged). 1.80 computes it in ``Router._time_to_sleep_before_retry``; later lines sleep
    through ``litellm.router_python_host.PythonHost``."""
    if hasattr(litellm.Router, "_time_to_sleep_before_retry"):
        monkeypatch.setattr(litellm.Router, "_time_to_sleep_before_retry", lambda self, *a, **k: 0)
    try:
        from litellm import router_python_host
    except ImportError:
        return
    host = router_python_host.PythonHost

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(host, "sleep", lambda self, seconds: no_sleep(seconds))
    monkeypatch.setattr(host, "sleep_sync", lambda self, seconds: None)
