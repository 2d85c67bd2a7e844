"""The controls of one step after header precedence: step ``config`` > request headers >
gateway settings (a universal step's own ``headers`` are already merged over the outer ones).

- **Cache TTL**: ``cf-aig-cache-ttl`` (or the legacy ``cf-cache-ttl``) outside 60..2592000 and
  not 0 is clamped into that range; ``0`` turns caching off; a ``cf-aig-cache-key`` caches for
  five minutes even when the gateway's caching is off.
- **Retries**: attempts clamped to 1..5, delay to 0..5000 ms. Delay before retry ``n``:
  ``constant`` d, ``linear`` d*n, ``exponential`` d*2^(n-1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cf_ai_gateway import wire

from ..config import GatewaySettings
from ..errors import Rejection
from .request_headers import NUMBER_LIMIT, bool_header, finite_number, int_header

__all__ = ["StepSettings", "check_step_config", "retry_delay_s", "step_settings"]


@dataclass
class StepSettings:
    """Per-step controls after header precedence (step config > headers > gateway)."""

    cache_ttl: int
    cache_key: str | None
    skip_cache: bool
    timeout_ms: int | None
    max_attempts: int
    retry_delay_ms: int
    backoff: str


def _config_number(config: Mapping[str, Any], key: str) -> int | None:
    """A numeric ``config`` value (a universal step's ``requestTimeout``, ``maxAttempts``,
    ``retryDelay``); anything but a finite number within ``NUMBER_LIMIT`` is a 400."""
    value = config.get(key)
    if value is None:
        return None
    number = None if isinstance(value, str) else finite_number(value)
    if number is None:
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST,
            f"step config {key!r} must be a finite number (at most {NUMBER_LIMIT:.0e}), "
            f"not {type(value).__name__}",
            400,
        )
    return int(number)


def check_step_config(config: Mapping[str, Any]) -> None:
    """Refuse a malformed universal step ``config`` (400) before any step runs."""
    for key in ("requestTimeout", "maxAttempts", "retryDelay"):
        _config_number(config, key)
    backoff = config.get("backoff")
    if backoff is not None and (not isinstance(backoff, str) or backoff not in wire.BACKOFF_VALUES):
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST,
            f"step config 'backoff' must be one of {', '.join(wire.BACKOFF_VALUES)}",
            400,
        )


def step_settings(
    gateway: GatewaySettings, headers: Mapping[str, str], config: Mapping[str, Any] | None = None
) -> StepSettings:
    """Resolve one step's controls (``config``: a universal step's or a route node's); a
    malformed value in either is a 400 (``Rejection``), never a 500."""
    config = config or {}
    ttl_header = int_header(headers, wire.H_CACHE_TTL)
    if ttl_header is None:
        ttl_header = int_header(headers, wire.H_CACHE_TTL_LEGACY)
    skip = bool_header(headers, wire.H_SKIP_CACHE)
    if skip is None:
        skip = bool_header(headers, wire.H_SKIP_CACHE_LEGACY)
    key = headers.get(wire.H_CACHE_KEY) or None
    if ttl_header is None:
        ttl = gateway.cache_ttl
        if ttl == 0 and key:
            ttl = wire.CUSTOM_KEY_DEFAULT_TTL_S
    elif ttl_header <= 0:
        ttl = 0
    else:
        ttl = min(max(ttl_header, wire.CACHE_TTL_MIN_S), wire.CACHE_TTL_MAX_S)
    timeout = _config_number(config, "requestTimeout")
    if timeout is None:
        timeout = int_header(headers, wire.H_REQUEST_TIMEOUT)
    attempts = _config_number(config, "maxAttempts")
    if attempts is None:
        attempts = int_header(headers, wire.H_MAX_ATTEMPTS) or gateway.retry_max_attempts
    delay = _config_number(config, "retryDelay")
    if delay is None:
        delay = int_header(headers, wire.H_RETRY_DELAY)
    if delay is None:
        delay = gateway.retry_delay
    backoff = config.get("backoff") or headers.get(wire.H_BACKOFF) or gateway.retry_backoff
    if not isinstance(backoff, str) or backoff not in wire.BACKOFF_VALUES:
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST,
            f"{wire.H_BACKOFF} must be one of {', '.join(wire.BACKOFF_VALUES)}",
            400,
        )
    return StepSettings(
        cache_ttl=ttl,
        cache_key=key,
        skip_cache=bool(skip),
        timeout_ms=int(timeout) if timeout and timeout > 0 else None,
        max_attempts=min(max(int(attempts), wire.MAX_ATTEMPTS_MIN), wire.MAX_ATTEMPTS_MAX),
        retry_delay_ms=min(max(int(delay), 0), wire.RETRY_DELAY_MAX_MS),
        backoff=str(backoff),
    )


def retry_delay_s(settings: StepSettings, retry_number: int) -> float:
    """Seconds to wait before retry ``retry_number`` (1 for the second attempt)."""
    base = settings.retry_delay_ms / 1000
    if settings.backoff == "linear":
        return base * retry_number
    if settings.backoff == "exponential":
        return base * float(2 ** (retry_number - 1))
    return base
