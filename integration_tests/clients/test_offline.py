"""The client suite cannot reach the network: only 127.0.0.1 (the emulator) is allowed."""

from __future__ import annotations

import os
import socket

import pytest

pytest_socket = pytest.importorskip("pytest_socket")


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_only_the_emulator_is_reachable() -> None:
    with pytest.raises(pytest_socket.SocketConnectBlockedError):
        socket.create_connection(("93.184.216.34", 443), timeout=1)  # any public address
    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
