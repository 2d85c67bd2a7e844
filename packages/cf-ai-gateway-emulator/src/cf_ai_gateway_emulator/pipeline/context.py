"""One incoming request to a gateway, as the pipeline carries it from controls to logs."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import GatewaySettings
from ..ids import uuid7
from ..state import EmulatorState

__all__ = ["RequestContext"]


@dataclass
class RequestContext:
    """The gateway, the request-level header values and the ids of one request.

    ``surface`` is the log's ``request_type`` (``provider``, ``compat``, ``universal``,
    ``rest``); ``created_at`` is the emulator clock's time, ``started`` a real-time mark for
    the log's ``duration``.
    """

    state: EmulatorState
    account: str
    gateway: GatewaySettings
    headers: dict[str, str]
    surface: str
    request_id: str = field(default_factory=uuid7)
    event_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    collect_log: bool = True
    collect_payload: bool = True
    custom_cost: dict[str, float] | None = None
    started: float = field(default_factory=time.perf_counter)
    created_at: float = 0.0
    log_ids: list[str] = field(default_factory=list)
    disconnected: Callable[[], Awaitable[bool]] | None = None
    """Whether the client has gone (timed out, closed the connection): its request is then
    not logged as a success (see ``response``)."""

    async def client_gone(self) -> bool:
        return self.disconnected is not None and await self.disconnected()

    def new_log_id(self) -> str:
        """The request id for the first log of the request, a fresh UUIDv7 after that."""
        log_id = self.request_id if not self.log_ids else uuid7()
        self.log_ids.append(log_id)
        return log_id
