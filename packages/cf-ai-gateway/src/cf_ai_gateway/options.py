"""Typed per-request gateway options, validated at construction, rendered as ``cf-aig-*`` headers.

>>> opts = GatewayOptions(cache_ttl=3600, metadata={"user": "u-1"}, event_id="trace-7")
>>> opts.to_headers()["cf-aig-cache-ttl"]
'3600'
>>> GatewayOptions(max_attempts=9)
Traceback (most recent call last):
...
cf_ai_gateway.options.InvalidOptionError: max_attempts=9 is invalid: must be an integer from 1 to 5
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any, Union

from . import wire

__all__ = [
    "CustomCost",
    "GatewayOptions",
    "InvalidOptionError",
    "MetadataValue",
    "merge_options",
    "options_from_value",
]

MetadataValue = Union[str, int, float, bool]  # noqa: UP007 (a runtime alias on 3.10)


class InvalidOptionError(ValueError):
    """An option value breaks a gateway rule; raised before any request is sent."""

    def __init__(self, field: str, value: object, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{field}={value!r} is invalid: {rule}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    # ints are always finite (and math.isfinite overflows on ints beyond float range)
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _check_header_text(field: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidOptionError(field, value, "must be a non-empty string")
    if value.isascii() and value.isprintable():  # the usual case, checked at C speed
        return
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidOptionError(field, value, "must not contain control characters")
    if not value.isascii():
        raise InvalidOptionError(field, value, "must be ASCII (HTTP header value)")


@dataclass(frozen=True)
class CustomCost:
    """``cf-aig-custom-cost``: per-token prices, or one ``total_cost`` for the request."""

    per_token_in: float | None = None
    per_token_out: float | None = None
    per_cache_read_token: float | None = None
    per_cache_write_token: float | None = None
    total_cost: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and (not _is_number(value) or value < 0):
                raise InvalidOptionError(
                    f"custom_cost.{f.name}", value, "must be a finite number >= 0"
                )
        per_token = (
            self.per_token_in,
            self.per_token_out,
            self.per_cache_read_token,
            self.per_cache_write_token,
        )
        if self.total_cost is not None:
            if any(v is not None for v in per_token):
                raise InvalidOptionError(
                    "custom_cost",
                    self.to_dict(),
                    "use either total_cost alone or per-token prices, not both",
                )
        elif self.per_token_in is None or self.per_token_out is None:
            raise InvalidOptionError(
                "custom_cost",
                self.to_dict(),
                "needs both per_token_in and per_token_out (or total_cost alone)",
            )

    @classmethod
    def from_value(cls, value: CustomCost | Mapping[str, Any]) -> CustomCost:
        """Accept a ``CustomCost`` or the header's JSON object as a mapping."""
        if isinstance(value, CustomCost):
            return value
        if not isinstance(value, Mapping):
            raise InvalidOptionError(
                "custom_cost", value, "must be a CustomCost or a mapping of prices"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise InvalidOptionError(
                "custom_cost",
                dict(value),
                f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {sorted(known)}",
            )
        return cls(**value)

    def to_dict(self) -> dict[str, float]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


_HEADER_OF_FIELD: dict[str, str] = {
    "cache_ttl": wire.H_CACHE_TTL,
    "skip_cache": wire.H_SKIP_CACHE,
    "cache_key": wire.H_CACHE_KEY,
    "collect_log": wire.H_COLLECT_LOG,
    "collect_log_payload": wire.H_COLLECT_LOG_PAYLOAD,
    "metadata": wire.H_METADATA,
    "event_id": wire.H_EVENT_ID,
    "request_timeout_ms": wire.H_REQUEST_TIMEOUT,
    "max_attempts": wire.H_MAX_ATTEMPTS,
    "retry_delay_ms": wire.H_RETRY_DELAY,
    "backoff": wire.H_BACKOFF,
    "custom_cost": wire.H_CUSTOM_COST,
    "byok_alias": wire.H_BYOK_ALIAS,
    "zdr": wire.H_ZDR,
    "no_wholesale": wire.H_NO_WHOLESALE,
    "allowed_models": wire.H_ALLOWED_MODELS,
    "allowed_providers": wire.H_ALLOWED_PROVIDERS,
    "session_id": wire.H_SESSION_ID,
    "turn_id": wire.H_TURN_ID,
    "no_session_affinity": wire.H_NO_SESSION_AFFINITY,
}

_LIST_FIELDS = ("allowed_models", "allowed_providers")


@dataclass(frozen=True, eq=True, repr=False)  # its own __repr__ (repr=False: not generated)
class GatewayOptions:
    """Per-request gateway controls. ``None`` means "not set": the gateway's setting applies.

    Every field maps to one ``cf-aig-*`` request header (see :meth:`to_headers`). Values are
    checked when the object is built, so a bad value fails before any network call, naming
    the field, the value and the rule.
    """

    cache_ttl: int | None = None
    """Seconds, 60..2592000; ``0`` disables caching for this request."""
    skip_cache: bool | None = None
    """``True`` bypasses the cache lookup for this request."""
    cache_key: str | None = None
    """A custom cache key: requests with the same key share one cache entry. With gateway
    caching off, the answer is still cached for five minutes."""
    collect_log: bool | None = None
    """Overrides the gateway's log setting for this request, either way."""
    collect_log_payload: bool | None = None
    """``False`` logs the metadata only, without request and response bodies
    (``collect_log=False`` wins)."""
    metadata: Mapping[str, MetadataValue] | None = None
    """At most 5 entries of string/number/boolean values; keys may not start with ``cf.``."""
    event_id: str | None = None
    """Your trace id for this request: echoed back in ``info.event_id`` and stored in the log."""
    request_timeout_ms: int | None = None
    """Milliseconds until the first byte of the upstream response."""
    max_attempts: int | None = None
    """Upstream attempts made by the gateway, 1..5."""
    retry_delay_ms: int | None = None
    """Base delay between the gateway's upstream attempts, 0..5000 ms."""
    backoff: wire.Backoff | None = None
    """How the delay between the gateway's upstream attempts grows."""
    custom_cost: CustomCost | Mapping[str, float] | None = None
    """The cost the gateway records for this request: per-token prices, or one
    ``total_cost``."""
    byok_alias: str | None = None
    """Which stored provider key (BYOK) the gateway uses; the gateway's default alias is
    ``default``."""
    zdr: bool | None = None
    """Unified Billing: route only to zero-data-retention endpoints."""
    no_wholesale: bool | None = None
    """Never fall back to Unified Billing: without a provider credential the request fails
    (HTTP 400)."""
    allowed_models: Sequence[str] | None = None
    """Auto Router (``cloudflare/auto``): the models it may choose from, e.g.
    ``["anthropic/*", "openai/gpt-5-mini"]``. ``*`` matches within one path segment (it does
    not match ``/``), so a bare ``"*"`` is refused. Sent comma-separated."""
    allowed_providers: Sequence[str] | None = None
    """Auto Router: the providers it may choose from, e.g. ``["openai", "anthropic"]``. With
    ``allowed_models`` too, a model must match both."""
    session_id: str | None = None
    """Auto Router session affinity: requests of one session keep one model for a turn."""
    turn_id: str | None = None
    """Auto Router: the turn this request belongs to (else detected from the messages)."""
    no_session_affinity: bool | None = None
    """Auto Router: ``True`` chooses a model for every request (no pinning for the turn)."""

    def __post_init__(self) -> None:
        for name in (
            "skip_cache",
            "collect_log",
            "collect_log_payload",
            "zdr",
            "no_wholesale",
            "no_session_affinity",
        ):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise InvalidOptionError(name, value, "must be True or False")
        for name in ("cache_key", "event_id", "byok_alias", "session_id", "turn_id"):
            value = getattr(self, name)
            if value is not None:
                _check_header_text(name, value)
        for name in _LIST_FIELDS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _validated_list(name, value))
        self._check_ttl()
        self._check_int_range("max_attempts", wire.MAX_ATTEMPTS_MIN, wire.MAX_ATTEMPTS_MAX)
        self._check_int_range("retry_delay_ms", 0, wire.RETRY_DELAY_MAX_MS)
        if self.request_timeout_ms is not None and (
            not _is_int(self.request_timeout_ms) or self.request_timeout_ms <= 0
        ):
            raise InvalidOptionError(
                "request_timeout_ms",
                self.request_timeout_ms,
                "must be a positive integer number of milliseconds",
            )
        if self.backoff is not None and self.backoff not in wire.BACKOFF_VALUES:
            raise InvalidOptionError(
                "backoff", self.backoff, f"must be one of {', '.join(wire.BACKOFF_VALUES)}"
            )
        if self.custom_cost is not None:
            object.__setattr__(self, "custom_cost", CustomCost.from_value(self.custom_cost))
        if self.metadata is not None:
            object.__setattr__(self, "metadata", _validated_metadata(self.metadata))

    def _check_ttl(self) -> None:
        ttl = self.cache_ttl
        if ttl is None:
            return
        if not _is_int(ttl) or not (
            ttl == wire.CACHE_TTL_DISABLED or wire.CACHE_TTL_MIN_S <= ttl <= wire.CACHE_TTL_MAX_S
        ):
            raise InvalidOptionError(
                "cache_ttl",
                ttl,
                f"must be 0 (no caching) or an integer number of seconds from "
                f"{wire.CACHE_TTL_MIN_S} to {wire.CACHE_TTL_MAX_S} (one month)",
            )

    def _check_int_range(self, name: str, low: int, high: int) -> None:
        value = getattr(self, name)
        if value is not None and (not _is_int(value) or not low <= value <= high):
            raise InvalidOptionError(name, value, f"must be an integer from {low} to {high}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> GatewayOptions:
        """Build options from a plain mapping of field names (configs, ``.bind(...)``);
        an unknown key raises ``InvalidOptionError`` listing the allowed ones."""
        if not isinstance(values, Mapping):
            raise InvalidOptionError(
                "gateway_options", values, "must be GatewayOptions or a mapping of its fields"
            )
        known = sorted(f.name for f in fields(cls))
        unknown = sorted(str(k) for k in set(values) - set(known))
        if unknown:
            raise InvalidOptionError(
                "gateway_options", dict(values), f"unknown key(s) {unknown}; allowed: {known}"
            )
        return cls(**values)

    def merge(self, other: GatewayOptions | None) -> GatewayOptions:
        """Combine defaults (``self``) with per-call options (``other``): set fields of
        ``other`` win; metadata is merged key by key (per-call keys win) and re-validated."""
        # run on every request: no new object (and no validation) when one side is empty
        if other is None or other is self or other.is_empty():
            return self
        if self.is_empty():
            return other  # already validated: the values a merge would give
        values: dict[str, Any] = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "metadata" and mine is not None and theirs is not None:
                values[f.name] = {**mine, **theirs}
            else:
                values[f.name] = theirs if theirs is not None else mine
        return GatewayOptions(**values)

    def __repr__(self) -> str:
        set_fields = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, Mapping):
                value = dict(value)
            set_fields.append(f"{f.name}={value!r}")
        return f"GatewayOptions({', '.join(set_fields)})"

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in _FIELD_NAMES)

    def to_headers(self) -> dict[str, str]:
        """The ``cf-aig-*`` request headers for the set fields (booleans as ``true``/``false``)."""
        headers: dict[str, str] = {}
        for name in _FIELD_NAMES:
            value = getattr(self, name)
            if value is None:
                continue
            header = _HEADER_OF_FIELD[name]
            if isinstance(value, bool):
                headers[header] = "true" if value else "false"
            elif isinstance(value, CustomCost):
                headers[header] = json.dumps(value.to_dict(), separators=(",", ":"))
            elif isinstance(value, Mapping):
                headers[header] = json.dumps(dict(value), separators=(",", ":"))
            elif isinstance(value, tuple):
                headers[header] = wire.LIST_SEPARATOR.join(value)
            else:
                headers[header] = str(value)
        return headers

    def __reduce__(self) -> tuple[Any, ...]:
        # The validated metadata is a MappingProxyType, which can be neither pickled nor
        # deep-copied; rebuild from plain values (frameworks deep-copy their model fields).
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.metadata is not None:
            values["metadata"] = dict(self.metadata)
        return (_rebuild_options, (values,))

    def __hash__(self) -> int:
        items = []
        for f in fields(self):
            value = getattr(self, f.name)
            items.append(tuple(sorted(value.items())) if isinstance(value, Mapping) else value)
        return hash(tuple(items))


_FIELD_NAMES = tuple(f.name for f in fields(GatewayOptions))


def options_from_value(value: GatewayOptions | Mapping[str, Any] | None) -> GatewayOptions | None:
    """Accept ``GatewayOptions``, a mapping of its fields (configs, framework ``.bind(...)``
    keywords, JSON) or ``None``; a bad key or value raises ``InvalidOptionError``.

    >>> options_from_value({"cache_ttl": 60}).cache_ttl
    60
    """
    if value is None or isinstance(value, GatewayOptions):
        return value
    return GatewayOptions.from_mapping(value)


def merge_options(*layers: GatewayOptions | None) -> GatewayOptions | None:
    """Layer options left to right with :meth:`GatewayOptions.merge` (later layers win,
    metadata merged key by key); ``None`` layers are skipped, and all-``None`` gives ``None``.

    >>> merge_options(GatewayOptions(cache_ttl=60), None, GatewayOptions(skip_cache=True))
    GatewayOptions(cache_ttl=60, skip_cache=True)
    """
    merged: GatewayOptions | None = None
    for layer in layers:
        if layer is None:
            continue
        merged = layer if merged is None else merged.merge(layer)
    return merged


def _rebuild_options(values: dict[str, Any]) -> GatewayOptions:
    return GatewayOptions(**values)


def _validated_list(field: str, value: object) -> tuple[str, ...]:
    """A list header's entries as a tuple: each a non-empty ASCII token without commas or
    spaces (the header joins them with commas); a model pattern is not a bare ``*``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidOptionError(field, value, "must be a list of strings, not a single string")
    entries = tuple(value)
    if not entries:
        raise InvalidOptionError(field, list(entries), "must name at least one entry")
    for entry in entries:
        _check_header_text(field, entry)
        if wire.LIST_SEPARATOR in entry or any(c.isspace() for c in entry):
            raise InvalidOptionError(
                field, list(entries), f"entry {entry!r} must not contain a comma or whitespace"
            )
        if field == "allowed_providers" and "/" in entry:
            raise InvalidOptionError(
                field,
                list(entries),
                f"entry {entry!r} is a model; a provider is one name such as 'openai' "
                "(use allowed_models for models)",
            )
        if field == "allowed_models" and entry == wire.MODEL_WILDCARD:
            raise InvalidOptionError(
                field,
                list(entries),
                "'*' does not match '/', so it matches no model: use 'anthropic/*' (every model "
                "of a provider), or leave allowed_models unset for the router's default pool",
            )
    if len(set(entries)) != len(entries):
        raise InvalidOptionError(field, list(entries), "entries must not repeat")
    return entries


def _validated_metadata(metadata: object) -> Mapping[str, MetadataValue]:
    if not isinstance(metadata, Mapping):
        raise InvalidOptionError("metadata", metadata, "must be a mapping of str to scalar")
    if len(metadata) > wire.METADATA_MAX_ENTRIES:
        raise InvalidOptionError(
            "metadata",
            dict(metadata),
            f"at most {wire.METADATA_MAX_ENTRIES} entries are allowed (the gateway silently "
            f"drops the rest); got {len(metadata)}",
        )
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InvalidOptionError(
                "metadata", dict(metadata), f"key {key!r} must be a non-empty string"
            )
        if key.startswith(wire.METADATA_RESERVED_PREFIX):
            raise InvalidOptionError(
                "metadata",
                dict(metadata),
                f"key {key!r} uses the reserved prefix {wire.METADATA_RESERVED_PREFIX!r}",
            )
        if not (isinstance(value, (str, bool)) or _is_number(value)):
            raise InvalidOptionError(
                "metadata",
                dict(metadata),
                f"value of {key!r} must be a string, finite number or boolean, "
                f"not {type(value).__name__}",
            )
    return MappingProxyType(dict(metadata))
