"""What the gateway sends to an upstream (the mock or a real provider) and what comes back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from .mock.schemas import Schema

__all__ = ["UpstreamError", "UpstreamRequest", "UpstreamResponse"]


class UpstreamError(Exception):
    """No response at all: the upstream could not be reached (connection error)."""


@dataclass
class UpstreamRequest:
    """One attempt at one provider request; ``schema`` is the wire schema of ``path`` (``None``
    where the mock knows none; a real upstream is sent the body regardless)."""

    provider: str
    path: str
    schema: Schema[Any, Any] | None
    body: Any
    headers: Mapping[str, str]
    attempt: int = 1
    query: str = ""
    scope: str = ""
    """``{account}/{gateway}``: keeps header scripts of different gateways apart."""


@dataclass
class UpstreamResponse:
    """An answer whose first byte is ready: a whole ``body``, or a ``stream`` to pass through.
    ``tokens_in``/``tokens_out`` are set when the answerer knows them (the mock); otherwise
    they are read from the body with the schema."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    tokens_in: int = 0
    tokens_out: int = 0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    async def aclose(self) -> None:
        if self.stream is not None and hasattr(self.stream, "aclose"):
            await self.stream.aclose()
