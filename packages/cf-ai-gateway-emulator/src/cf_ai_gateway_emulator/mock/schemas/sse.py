"""Server-sent events, as the schemas write and read them."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["data_fields", "event"]


def event(data: Any, *, name: str | None = None) -> bytes:
    """One event: ``data`` as JSON (non-ASCII kept), with an ``event:`` line when ``name``."""
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def data_fields(content: bytes) -> list[str]:
    """The non-blank ``data:`` values of an SSE body, in order (not yet JSON-decoded)."""
    return [
        line[5:]
        for line in content.decode("utf-8", "replace").splitlines()
        if line.startswith("data:") and line[5:].strip()
    ]
