"""What the gateway says about a response, read from its ``cf-aig-*`` response headers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal

from . import wire
from .jsonsafe import parse_json

__all__ = ["CacheStatus", "GatewayResponseInfo"]

CacheStatus = Literal["HIT", "MISS"]


@dataclass(frozen=True)
class GatewayResponseInfo:
    """Typed gateway response metadata; every client result and error carries one.

    ``step`` is the 0-based index of the universal/fallback step that answered. ``model`` and
    ``provider`` name what answered a dynamic route; ``routed_model``, ``routing_reason`` and
    ``routing_decision_id`` what the Auto Router (``cloudflare/auto``) chose and why.
    ``attempts`` is how many times this client sent the request (1 + its retries; ``None``
    when the info did not come through a client). ``raw`` keeps every ``cf-aig-*`` response
    header as sent, so a value that does not parse (an unknown cache status, a non-numeric
    step) is still there rather than silently lost.
    """

    cache_status: CacheStatus | None = None
    log_id: str | None = None
    request_id: str | None = None
    event_id: str | None = None
    step: int | None = None
    model: str | None = None
    provider: str | None = None
    trace_id: str | None = None
    run_id: str | None = None
    dlp: Any = None
    status_code: int | None = None
    routed_model: str | None = None
    routing_reason: str | None = None
    """One of ``wire.ROUTING_REASONS`` (e.g. ``cost_optimal_within_pool``, ``pinned_by_turn``)."""
    routing_decision_id: str | None = None
    attempts: int | None = None
    raw: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not isinstance(self.raw, MappingProxyType):
            object.__setattr__(self, "raw", MappingProxyType(dict(self.raw)))

    def __reduce__(self) -> tuple[Any, ...]:
        # MappingProxyType can be neither pickled nor deep-copied (errors carry an info and
        # must survive both); rebuild from plain values.
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["raw"] = dict(self.raw)
        return (_rebuild_info, (values,))

    @property
    def cache_hit(self) -> bool:
        return self.cache_status == wire.CACHE_HIT

    @classmethod
    def from_headers(
        cls,
        headers: Mapping[str, str],
        *,
        status_code: int | None = None,
        attempts: int | None = None,
    ) -> GatewayResponseInfo:
        """Parse response headers (any case) into a ``GatewayResponseInfo``.

        Total: whatever the values, it returns (a step that is not a small decimal number is
        ``None``, a ``cf-aig-dlp`` that is not JSON, or is nested too deeply, stays text).
        """
        raw: dict[str, str] = {}
        for k, v in headers.items():
            key = str(k).lower()
            if key.startswith(wire.HEADER_PREFIX):
                raw[key] = str(v)
        status = raw.get(wire.H_CACHE_STATUS, "").strip().upper()
        dlp_text = raw.get(wire.H_DLP)
        dlp: Any = None
        if dlp_text:
            try:
                dlp = parse_json(dlp_text)
            except ValueError:
                dlp = dlp_text
        return cls(
            cache_status=status if status in (wire.CACHE_HIT, wire.CACHE_MISS) else None,  # type: ignore[arg-type]
            log_id=raw.get(wire.H_LOG_ID) or None,
            request_id=raw.get(wire.H_REQUEST_ID) or None,
            event_id=raw.get(wire.H_EVENT_ID) or None,
            step=_step(raw.get(wire.H_STEP, "")),
            model=raw.get(wire.H_MODEL) or None,
            provider=raw.get(wire.H_PROVIDER) or None,
            trace_id=raw.get(wire.H_TRACE_ID) or None,
            run_id=raw.get(wire.H_RUN_ID) or None,
            dlp=dlp,
            status_code=status_code,
            routed_model=raw.get(wire.H_ROUTED_MODEL) or None,
            routing_reason=raw.get(wire.H_ROUTING_REASON) or None,
            routing_decision_id=raw.get(wire.H_ROUTING_DECISION_ID) or None,
            attempts=attempts,
            raw=MappingProxyType(raw),
        )

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-friendly dict of the set fields (for framework metadata)."""
        out: dict[str, Any] = {}
        for name in (
            "cache_status",
            "log_id",
            "request_id",
            "event_id",
            "step",
            "model",
            "provider",
            "trace_id",
            "run_id",
            "dlp",
            "status_code",
            "routed_model",
            "routing_reason",
            "routing_decision_id",
            "attempts",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def _step(text: str) -> int | None:
    """``cf-aig-step`` as an index: ASCII digits only (``str.isdigit`` also accepts ``"²"``,
    which ``int`` refuses) and short (a 5,000-digit number is not a step)."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= 9:
        return int(text)
    return None


def _rebuild_info(values: dict[str, Any]) -> GatewayResponseInfo:
    return GatewayResponseInfo(**values)
