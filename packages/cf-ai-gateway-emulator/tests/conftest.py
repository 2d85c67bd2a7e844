"""Fixtures for the emulator tests: an in-process ASGI client (fast, no sockets)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from cf_ai_gateway_emulator.app import create_app
from cf_ai_gateway_emulator.clock import ManualClock
from cf_ai_gateway_emulator.state import EmulatorState
from emulator_helpers import Emu


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock.at("2025-01-01T12:00:00Z")


@pytest.fixture
def make_emu(clock: ManualClock) -> Callable[..., Any]:
    def make(config: Any = None, **mock: Any) -> Emu:
        state = EmulatorState(config, clock=clock)
        if mock:
            state.config = replace(state.config, mock=replace(state.config.mock, **mock))
        app = create_app(state=state)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://emu.test"
        )
        return Emu(state, client)

    return make


@pytest.fixture
def emu(make_emu: Callable[..., Emu]) -> Emu:
    return make_emu()
