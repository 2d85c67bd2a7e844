"""What OpenAI's chat-completions and embeddings schemas share: the error body and usage."""

from __future__ import annotations

import json
from typing import Any

from ..neutral import FailureKind, MockFailure, Usage
from . import sse

__all__ = ["read_usage", "render_error"]

_ERROR_TYPES: dict[FailureKind, str] = {
    "invalid_request": "invalid_request_error",
    "not_found": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "server": "server_error",
}


def render_error(failure: MockFailure) -> dict[str, Any]:
    """``{"error": {"message", "type", "param", "code"}}``."""
    return {
        "error": {
            "message": failure.message,
            "type": _ERROR_TYPES[failure.kind],
            "param": None,
            "code": failure.code,
        }
    }


def read_usage(content: bytes, *, streamed: bool) -> Usage:
    """The last ``usage`` object of a JSON body or an SSE stream (``[DONE]`` skipped).

    Both spellings count: ``prompt_tokens``/``completion_tokens`` and (Responses API)
    ``input_tokens``/``output_tokens``.
    """
    objects: list[Any] = []
    try:
        if streamed:
            for data in sse.data_fields(content):
                if data.strip() != "[DONE]":
                    objects.append(json.loads(data))
        else:
            objects.append(json.loads(content))
    except ValueError:
        return Usage(0, 0)
    for obj in reversed(objects):
        usage = obj.get("usage") if isinstance(obj, dict) else None
        if isinstance(usage, dict):
            tin = usage.get("prompt_tokens", usage.get("input_tokens", 0))
            tout = usage.get("completion_tokens", usage.get("output_tokens", 0))
            return Usage(int(tin or 0), int(tout or 0))
    return Usage(0, 0)
