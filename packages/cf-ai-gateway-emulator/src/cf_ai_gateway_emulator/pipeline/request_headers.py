"""Reading the gateway's request headers; a malformed value rejects the request with 400
(``CODE_BAD_REQUEST``), never a 500: numbers must be finite and within ``NUMBER_LIMIT`` (``inf``,
``nan`` and ``1e400`` are refused), JSON values are parsed bounded
(``cf_ai_gateway.jsonsafe``: nesting deeper than 128 levels is a 400).

Metadata: reserved ``cf.`` keys and non-scalar or non-finite values are dropped first, then
the first five entries are kept (the gateway drops the rest silently); malformed JSON is a 400.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.jsonsafe import parse_json

from ..errors import Rejection

__all__ = [
    "NUMBER_LIMIT",
    "bearer",
    "bool_header",
    "finite_number",
    "int_header",
    "parse_custom_cost",
    "parse_metadata",
]

NUMBER_LIMIT = 10**12
"""The largest magnitude a numeric control accepts (milliseconds, seconds, attempts)."""


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


def finite_number(value: object) -> float | None:
    """``value`` (a number, or the text of one) as a finite float within ``NUMBER_LIMIT``;
    ``None`` for anything else (booleans, ``inf``, ``nan``, ``1e400``, ``"abc"``, a list)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if len(value) > 64:
            return None
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        return None
    return number if math.isfinite(number) and abs(number) <= NUMBER_LIMIT else None


def int_header(headers: Mapping[str, str], name: str) -> int | None:
    """A number (decimals truncated); ``None`` when absent or blank; a 400 for anything that
    is not a finite number within ``NUMBER_LIMIT``."""
    value = headers.get(name)
    if value is None or not value.strip():
        return None
    number = finite_number(value.strip())
    if number is None:
        raise _bad(f"{name} must be a finite number (at most {NUMBER_LIMIT:.0e} in magnitude)")
    return int(number)


def parse_metadata(value: str | None) -> dict[str, Any]:
    """``cf-aig-metadata``: the entries the gateway keeps (see the module docstring)."""
    if not value:
        return {}
    try:
        data = parse_json(value)
    except ValueError:
        raise _bad(f"{wire.H_METADATA} must be a JSON object") from None
    if not isinstance(data, dict):
        raise _bad(f"{wire.H_METADATA} must be a JSON object")
    kept = {
        k: v
        for k, v in data.items()
        if not str(k).startswith(wire.METADATA_RESERVED_PREFIX)
        and isinstance(v, (str, int, float, bool))
        and (not isinstance(v, float) or math.isfinite(v))
    }
    return dict(list(kept.items())[: wire.METADATA_MAX_ENTRIES])


def parse_custom_cost(value: str | None) -> dict[str, float] | None:
    """``cf-aig-custom-cost``: a JSON object of numbers (``per_token_in``, ``total_cost``...)."""
    if not value:
        return None
    try:
        data = parse_json(value)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        finite_number(v) is not None and not isinstance(v, str) and v >= 0 for v in data.values()
    ):
        raise _bad(f"{wire.H_CUSTOM_COST} must be a JSON object of finite numbers >= 0")
    return {k: float(v) for k, v in data.items()}


def bearer(value: str | None) -> str | None:
    """The token of a ``Bearer <token>`` header value (``None`` for anything else)."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
