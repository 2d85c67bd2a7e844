"""Reading the gateway's request headers; a malformed value rejects the request with 400
(``CODE_BAD_REQUEST``).

Metadata: reserved ``cf.`` keys and non-scalar values are dropped first, then the first five
entries are kept (the gateway drops the rest silently); malformed JSON is a 400.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cf_ai_gateway import wire

from ..errors import Rejection

__all__ = ["bearer", "bool_header", "int_header", "parse_custom_cost", "parse_metadata"]


def _bad(message: str) -> Rejection:
    return Rejection.gateway(wire.CODE_BAD_REQUEST, message, 400)


def bool_header(headers: Mapping[str, str], name: str) -> bool | None:
    """``true``/``1``/``yes`` or ``false``/``0``/``no`` (any case); ``None`` when absent."""
    value = headers.get(name)
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise _bad(f"{name} must be true or false")


def int_header(headers: Mapping[str, str], name: str) -> int | None:
    """A number (decimals truncated); ``None`` when absent or blank."""
    value = headers.get(name)
    if value is None or not value.strip():
        return None
    try:
        return int(float(value))
    except ValueError:
        raise _bad(f"{name} must be a number") from None


def parse_metadata(value: str | None) -> dict[str, Any]:
    """``cf-aig-metadata``: the entries the gateway keeps (see the module docstring)."""
    if not value:
        return {}
    try:
        data = json.loads(value)
    except ValueError:
        raise _bad(f"{wire.H_METADATA} must be a JSON object") from None
    if not isinstance(data, dict):
        raise _bad(f"{wire.H_METADATA} must be a JSON object")
    kept = {
        k: v
        for k, v in data.items()
        if not str(k).startswith(wire.METADATA_RESERVED_PREFIX)
        and isinstance(v, (str, int, float, bool))
    }
    return dict(list(kept.items())[: wire.METADATA_MAX_ENTRIES])


def parse_custom_cost(value: str | None) -> dict[str, float] | None:
    """``cf-aig-custom-cost``: a JSON object of numbers (``per_token_in``, ``total_cost``...)."""
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in data.values()
    ):
        raise _bad(f"{wire.H_CUSTOM_COST} must be a JSON object of numbers")
    return {k: float(v) for k, v in data.items()}


def bearer(value: str | None) -> str | None:
    """The token of a ``Bearer <token>`` header value (``None`` for anything else)."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
