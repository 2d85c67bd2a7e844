"""Pytest fixtures for the emulator (registered through the ``pytest11`` entry point).

- ``emulator`` (session): an :class:`~cf_ai_gateway_emulator.testing.EmulatorHandle` for
  the built-in default config, started on first use on a free ``127.0.0.1`` port.
- ``emulator_gateway`` (function): a ``cf_ai_gateway.Gateway`` on a fresh, uniquely named,
  open gateway (logs on, no cache, no rate limit), carrying the account token, so tests never
  share cache, logs or counters. Create differently configured ones with
  ``emulator.create_gateway(**settings)`` and ``emulator.gateway(gateway_id)``.
- ``raw_server`` (module): a :class:`~cf_ai_gateway_emulator.rawserver.RawServer` on a free
  ``127.0.0.1`` port, for what happens below HTTP (connections cut, bodies dripped, headers
  no parser expects); each test scripts it (``raw_server.script(fault("cut", stream=True))``)
  and :func:`~cf_ai_gateway_emulator.rawserver.outcome` says what a client does with a fault.

Nothing is imported or started unless a test uses a fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cf_ai_gateway import Gateway

    from .rawserver import RawServer
    from .testing import EmulatorHandle


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorHandle]:
    from .testing import run_emulator

    with run_emulator() as handle:
        yield handle


@pytest.fixture
def emulator_gateway(emulator: EmulatorHandle) -> Iterator[Gateway]:
    gateway_id = emulator.create_gateway()
    yield emulator.gateway(gateway_id)
    emulator.delete_gateway(gateway_id)


@pytest.fixture(scope="module")
def raw_server() -> Iterator[RawServer]:
    from .rawserver import RawServer

    with RawServer(hang_limit=10) as server:
        yield server
