"""Typed records of the AI Gateway management API: gateway settings, log entries, log filters
and dynamic routes (with their versions and deployments).

Parsing is lenient (the API is the authority on what it stores, and fields it adds later are
kept in ``raw``); what the client *sends* is validated before any request.

>>> entry = LogEntry.from_api({"id": "0199", "cached": True, "metadata": '{"user": "u-1"}',
...                            "created_at": "2025-01-01T12:00:00.000Z", "tokens_in": 5,
...                            "tokens_out": 7})
>>> entry.metadata, entry.cache_status, entry.total_tokens
({'user': 'u-1'}, 'HIT', 12)
>>> LogFilter.eq("provider", "openai").to_api()
{'key': 'provider', 'operator': 'eq', 'value': ['openai']}
>>> GatewaySettings(id="my-gw", cache_ttl=3600).to_api()["cache_ttl"]
3600
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Union

from . import wire
from .options import InvalidOptionError
from .response_info import CacheStatus
from .wire import (
    Backoff,
    LogFilterOperator,
    LogManagementStrategy,
    RateLimitTechnique,
)

__all__ = [
    "DynamicRoute",
    "FilterValue",
    "GatewaySettings",
    "LogEntry",
    "LogFilter",
    "RouteDeployment",
    "RouteVersion",
    "format_timestamp",
    "parse_since",
    "parse_timestamp",
]

FilterValue = Union[str, int, float, bool, None]  # noqa: UP007 (a runtime alias on 3.10)


# --- small parsers -------------------------------------------------------------------------


def parse_timestamp(value: object) -> datetime | None:
    """An API timestamp (``2025-01-01T12:00:00.000Z`` and other ISO 8601 forms) as an aware
    ``datetime``; ``None`` when absent or unparsable (the raw value stays in ``raw``)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.10 takes 3 or 6 fractional digits only: pad or cut to 6.
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", text)
    if match:
        text = f"{match[1]}.{match[2][:6].ljust(6, '0')}{match[3]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_timestamp(when: datetime) -> str:
    """``2025-01-01T12:00:00.000Z``: the logs API's own format (UTC, milliseconds), so string
    comparisons on ``created_at`` agree with time order. A naive ``datetime`` is local time."""
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|w)s?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}
_UNIT_SECONDS.update({"day": 86400, "w": 604800})


def parse_since(value: datetime | timedelta | str, *, now: datetime | None = None) -> datetime:
    """A point in time from a ``datetime`` (naive = local time), a ``timedelta`` ago, or text:
    ISO 8601 (``2025-01-01T12:00``, naive = local time) or a duration ago (``90s``, ``15m``,
    ``2h``, ``1d``, ``1w``). Raises ``ValueError`` naming the value.

    >>> parse_since("2h", now=datetime(2025, 1, 1, 12, tzinfo=timezone.utc)).isoformat()
    '2025-01-01T10:00:00+00:00'
    """
    current = now or datetime.now(timezone.utc)
    if isinstance(value, timedelta):
        return current - value
    if isinstance(value, datetime):
        return value if value.tzinfo else value.astimezone()
    if not isinstance(value, str):
        raise TypeError(f"since={value!r} must be a datetime, a timedelta or a string")
    match = _RELATIVE.match(value)
    if match:
        return current - timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2].lower()])
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a time: use ISO 8601 (2025-01-01T12:00) or a duration ago "
            "(90s, 15m, 2h, 1d, 1w)"
        ) from exc
    return parsed if parsed.tzinfo else parsed.astimezone()


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _json_value(value: object) -> Any:
    """A JSON string decoded (the API returns ``metadata`` and route data as strings)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


# --- gateways ------------------------------------------------------------------------------

_GATEWAY_READ_ONLY = frozenset(
    {"id", "account_id", "account_tag", "internal_id", "created_at", "modified_at"}
)


@dataclass(frozen=True)
class GatewaySettings:
    """One gateway's settings, with the management API's field names.

    - caching: ``cache_ttl`` (seconds; ``0``/``None`` = off), ``cache_invalidate_on_update``;
    - rate limiting: ``rate_limiting_limit`` requests per ``rate_limiting_interval`` seconds,
      ``rate_limiting_technique`` ``"fixed"`` or ``"sliding"`` (``None`` limit = off);
    - logs: ``collect_logs``, ``log_management`` (max stored logs), ``log_management_strategy``
      (``"STOP_INSERTING"`` / ``"DELETE_OLDEST"``);
    - retries: ``retry_max_attempts`` (1-5), ``retry_delay`` (ms), ``retry_backoff``;
    - ``authentication`` (requests need ``cf-aig-authorization``), ``zdr``.

    ``created_at``/``modified_at`` are read-only. ``extra`` keeps fields this version does not
    know, so :meth:`ManagementClient.update_gateway` (a full replace) does not reset them.
    Change a setting with ``settings.replace(cache_ttl=3600)``.
    """

    id: str
    cache_ttl: int | None = None
    cache_invalidate_on_update: bool = False
    collect_logs: bool = True
    rate_limiting_interval: int | None = None
    rate_limiting_limit: int | None = None
    rate_limiting_technique: RateLimitTechnique = "fixed"
    authentication: bool = False
    log_management: int | None = None
    log_management_strategy: LogManagementStrategy | None = None
    retry_max_attempts: int | None = None
    retry_delay: int | None = None
    retry_backoff: Backoff | None = None
    zdr: bool = False
    created_at: datetime | None = field(default=None, compare=False)
    modified_at: datetime | None = field(default=None, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> GatewaySettings:
        """Parse a gateway object of the management API (unknown fields go to ``extra``)."""
        known = {f.name for f in fields(cls)} - {"extra"}

        def opt_int(name: str) -> int | None:
            return _int(data.get(name))

        technique = data.get("rate_limiting_technique")
        strategy = data.get("log_management_strategy")
        backoff = data.get("retry_backoff")
        return cls(
            id=str(data.get("id") or ""),
            cache_ttl=opt_int("cache_ttl"),
            cache_invalidate_on_update=bool(_bool(data.get("cache_invalidate_on_update"))),
            collect_logs=_bool(data.get("collect_logs")) is not False,
            rate_limiting_interval=opt_int("rate_limiting_interval"),
            rate_limiting_limit=opt_int("rate_limiting_limit"),
            rate_limiting_technique=technique
            if technique in wire.RATE_LIMIT_TECHNIQUES
            else "fixed",
            authentication=bool(_bool(data.get("authentication"))),
            log_management=opt_int("log_management"),
            log_management_strategy=strategy
            if strategy in wire.LOG_MANAGEMENT_STRATEGIES
            else None,
            retry_max_attempts=opt_int("retry_max_attempts"),
            retry_delay=opt_int("retry_delay"),
            retry_backoff=backoff if backoff in wire.BACKOFF_VALUES else None,
            zdr=bool(_bool(data.get("zdr"))),
            created_at=parse_timestamp(data.get("created_at")),
            modified_at=parse_timestamp(data.get("modified_at")),
            extra={k: v for k, v in data.items() if k not in known},
        )

    def replace(self, **changes: Any) -> GatewaySettings:
        """A copy with ``changes`` applied (``dataclasses.replace``)."""
        return replace(self, **changes)

    def validate(self) -> None:
        """Raise :class:`~cf_ai_gateway.InvalidOptionError` for a setting the API rejects."""
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", self.id or "") or (
            len(self.id) > wire.GATEWAY_ID_MAX_LEN
        ):
            raise InvalidOptionError(
                "id", self.id, f"1-{wire.GATEWAY_ID_MAX_LEN} letters, digits, '-' and '_'"
            )
        for name in ("cache_ttl", "rate_limiting_interval", "rate_limiting_limit", "retry_delay"):
            value = getattr(self, name)
            if value is not None and (_int(value) is None or value < 0):
                raise InvalidOptionError(name, value, "must be an integer >= 0 (or None)")
        if self.cache_ttl is not None and self.cache_ttl > wire.CACHE_TTL_MAX_S:
            raise InvalidOptionError(
                "cache_ttl", self.cache_ttl, f"must be at most {wire.CACHE_TTL_MAX_S} (one month)"
            )
        if self.log_management is not None and (
            _int(self.log_management) is None or self.log_management < 1
        ):
            raise InvalidOptionError("log_management", self.log_management, "must be >= 1")
        if (self.rate_limiting_limit is None) != (self.rate_limiting_interval is None):
            raise InvalidOptionError(
                "rate_limiting_limit",
                self.rate_limiting_limit,
                "rate_limiting_limit and rate_limiting_interval go together (both or neither)",
            )
        for name, choices in (
            ("rate_limiting_technique", wire.RATE_LIMIT_TECHNIQUES),
            ("log_management_strategy", (*wire.LOG_MANAGEMENT_STRATEGIES, None)),
            ("retry_backoff", (*wire.BACKOFF_VALUES, None)),
        ):
            if getattr(self, name) not in choices:
                allowed = ", ".join(str(c) for c in choices)
                raise InvalidOptionError(name, getattr(self, name), f"must be one of {allowed}")
        if self.retry_max_attempts is not None and not (
            _int(self.retry_max_attempts) is not None
            and wire.MAX_ATTEMPTS_MIN <= self.retry_max_attempts <= wire.MAX_ATTEMPTS_MAX
        ):
            raise InvalidOptionError(
                "retry_max_attempts",
                self.retry_max_attempts,
                f"must be an integer from {wire.MAX_ATTEMPTS_MIN} to {wire.MAX_ATTEMPTS_MAX}",
            )
        for name in ("cache_invalidate_on_update", "collect_logs", "authentication", "zdr"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidOptionError(name, getattr(self, name), "must be True or False")

    def to_api(self) -> dict[str, Any]:
        """The body of a create (with ``id``) or full-replace update: every writable field,
        ``None`` sent as ``null``, unknown writable fields from ``extra`` kept. Validates
        first."""
        self.validate()
        body: dict[str, Any] = {"id": self.id}
        for f in fields(self):
            if f.name not in _GATEWAY_READ_ONLY and f.name != "extra":
                body[f.name] = getattr(self, f.name)
        for key, value in self.extra.items():
            if key not in _GATEWAY_READ_ONLY and key not in body:
                body[key] = value
        return body

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-friendly (timestamps as ISO 8601 strings)."""
        out = {f.name: _jsonable(getattr(self, f.name)) for f in fields(self) if f.name != "extra"}
        out.update({k: _jsonable(v) for k, v in self.extra.items() if k not in out})
        return out


# --- logs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """One gateway log entry, typed.

    ``metadata`` is parsed from the JSON string the API returns; ``duration`` is in ms; ``cost``
    in USD; ``step`` is the universal/fallback step that answered (0-based); ``feedback`` is
    ``-1``/``1`` (``None`` when unset). ``raw`` holds the entry as the API sent it.
    """

    id: str
    created_at: datetime | None = None
    provider: str | None = None
    model: str | None = None
    model_type: str | None = None
    path: str | None = None
    success: bool | None = None
    status_code: int | None = None
    cached: bool = False
    duration: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    custom_cost: bool | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    step: int | None = None
    event_id: str | None = None
    request_type: str | None = None
    feedback: int | None = None
    score: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> LogEntry:
        metadata = _json_value(data.get("metadata"))
        return cls(
            id=str(data.get("id") or ""),
            created_at=parse_timestamp(data.get("created_at")),
            provider=_str(data.get("provider")),
            model=_str(data.get("model")),
            model_type=_str(data.get("model_type")),
            path=_str(data.get("path")),
            success=_bool(data.get("success")),
            status_code=_int(data.get("status_code")),
            cached=bool(_bool(data.get("cached"))),
            duration=_int(data.get("duration")),
            tokens_in=_int(data.get("tokens_in")),
            tokens_out=_int(data.get("tokens_out")),
            cost=_float(data.get("cost")),
            custom_cost=_bool(data.get("custom_cost")),
            metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
            step=_int(data.get("step")),
            event_id=_str(data.get("event_id")),
            request_type=_str(data.get("request_type")),
            feedback=_int(data.get("feedback")),
            score=_float(data.get("score")),
            raw=dict(data),
        )

    @property
    def cache_status(self) -> CacheStatus:
        """``"HIT"`` when the gateway answered from its cache, else ``"MISS"``."""
        return wire.CACHE_HIT if self.cached else wire.CACHE_MISS

    @property
    def total_tokens(self) -> int | None:
        if self.tokens_in is None and self.tokens_out is None:
            return None
        return (self.tokens_in or 0) + (self.tokens_out or 0)

    def to_dict(self) -> dict[str, Any]:
        """The typed fields, JSON-friendly (``metadata`` as an object, times as ISO 8601)."""
        out = {f.name: _jsonable(getattr(self, f.name)) for f in fields(self) if f.name != "raw"}
        out["cache_status"] = self.cache_status
        return out


@dataclass(frozen=True)
class LogFilter:
    """One logs API filter: ``key``, ``operator`` (``eq neq contains lt gt``) and its values
    (any of them matches). Build them with :meth:`eq`, :meth:`neq`, :meth:`contains`,
    :meth:`lt`, :meth:`gt`; keys are Cloudflare's (``provider``, ``model``, ``success``,
    ``cached``, ``created_at``, ``cost``, ``event_id``, ``metadata.key``, ...)."""

    key: str
    operator: LogFilterOperator
    value: tuple[FilterValue, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.strip():
            raise InvalidOptionError("filter.key", self.key, "must be a non-empty string")
        if self.operator not in wire.LOG_FILTER_OPERATORS:
            raise InvalidOptionError(
                "filter.operator",
                self.operator,
                f"must be one of {', '.join(wire.LOG_FILTER_OPERATORS)}",
            )
        values: Any = self.value
        if not isinstance(values, tuple):  # a list from a caller that ignored the hint
            values = tuple(values) if isinstance(values, (list, set, frozenset)) else (values,)
            object.__setattr__(self, "value", values)
        for item in values:
            if item is not None and not isinstance(item, (str, int, float, bool)):
                raise InvalidOptionError(
                    f"filter {self.key!r} value", item, "must be a string, number or boolean"
                )
        if not values:
            raise InvalidOptionError(f"filter {self.key!r} value", values, "needs a value")

    @classmethod
    def eq(cls, key: str, *values: FilterValue) -> LogFilter:
        return cls(key, "eq", values)

    @classmethod
    def neq(cls, key: str, *values: FilterValue) -> LogFilter:
        return cls(key, "neq", values)

    @classmethod
    def contains(cls, key: str, *values: FilterValue) -> LogFilter:
        return cls(key, "contains", values)

    @classmethod
    def lt(cls, key: str, value: FilterValue) -> LogFilter:
        return cls(key, "lt", (value,))

    @classmethod
    def gt(cls, key: str, value: FilterValue) -> LogFilter:
        return cls(key, "gt", (value,))

    @classmethod
    def from_value(cls, value: LogFilter | Mapping[str, Any]) -> LogFilter:
        """Accept a ``LogFilter`` or the API's ``{"key", "operator", "value"}`` mapping."""
        if isinstance(value, LogFilter):
            return value
        if not isinstance(value, Mapping) or set(value) - {"key", "operator", "value"}:
            raise InvalidOptionError(
                "filter", value, "must be a LogFilter or a mapping of key, operator and value"
            )
        raw = value.get("value")
        values = tuple(raw) if isinstance(raw, (list, tuple)) else (raw,)
        return cls(str(value.get("key") or ""), value.get("operator"), values)  # type: ignore[arg-type]

    def to_api(self) -> dict[str, Any]:
        return {"key": self.key, "operator": self.operator, "value": list(self.value)}


# --- dynamic routes ------------------------------------------------------------------------


def _elements(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    elements = data.get("elements")
    if elements is None:
        decoded = _json_value(data.get("data"))
        if isinstance(decoded, Mapping):
            elements = decoded.get("elements")
        elif isinstance(decoded, list):
            elements = decoded
    if isinstance(elements, Mapping):
        # ``{id: element}`` with outputs as bare ids (the emulator's internal form): into the
        # API's list of elements with ``{"elementId": ...}`` outputs.
        elements = [
            {
                "id": element_id,
                **element,
                "outputs": {
                    name: target if isinstance(target, Mapping) else {"elementId": target}
                    for name, target in (element.get("outputs") or {}).items()
                },
            }
            for element_id, element in elements.items()
            if isinstance(element, Mapping)
        ]
    if not isinstance(elements, list):
        return []
    return [dict(e) for e in elements if isinstance(e, Mapping)]


@dataclass(frozen=True)
class RouteDeployment:
    """A deployment: which version of a dynamic route went live, and when."""

    deployment_id: str
    version_id: str | None = None
    created_at: datetime | None = None
    comment: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> RouteDeployment:
        return cls(
            deployment_id=str(data.get("deployment_id") or data.get("id") or ""),
            version_id=_str(data.get("version_id")),
            created_at=parse_timestamp(data.get("created_at")),
            comment=_str(data.get("comment")),
            raw=dict(data),
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self) if f.name != "raw"}


@dataclass(frozen=True)
class RouteVersion:
    """One saved version of a dynamic route; ``elements`` are parsed from its ``data``."""

    version_id: str
    active: bool = False
    created_at: datetime | None = None
    comment: str | None = None
    elements: Sequence[Mapping[str, Any]] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> RouteVersion:
        return cls(
            version_id=str(data.get("version_id") or data.get("id") or ""),
            active=bool(_bool(data.get("active"))),
            created_at=parse_timestamp(data.get("created_at")),
            comment=_str(data.get("comment")),
            elements=tuple(_elements(data)),
            raw=dict(data),
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self) if f.name != "raw"}


@dataclass(frozen=True)
class DynamicRoute:
    """A dynamic route (``model: "dynamic/{name}"``): its graph of ``elements`` and, where the
    API reports them, its active ``version`` and current ``deployment``. ``id`` is the API's
    route id (the emulator, which has none, uses the name)."""

    id: str
    name: str
    elements: Sequence[Mapping[str, Any]] = ()
    gateway_id: str | None = None
    version: RouteVersion | None = None
    deployment: RouteDeployment | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> DynamicRoute:
        name = str(data.get("name") or "")
        version = data.get("version")
        deployment = data.get("deployment")
        return cls(
            id=str(data.get("id") or name),
            name=name,
            elements=tuple(_elements(data)),
            gateway_id=_str(data.get("gateway_id")),
            version=RouteVersion.from_api(version) if isinstance(version, Mapping) else None,
            deployment=RouteDeployment.from_api(deployment)
            if isinstance(deployment, Mapping)
            else None,
            created_at=parse_timestamp(data.get("created_at")),
            modified_at=parse_timestamp(data.get("modified_at")),
            raw=dict(data),
        )

    @property
    def models(self) -> list[str]:
        """``provider/model`` of every model element, in graph order."""
        return [
            f"{e.get('properties', {}).get('provider')}/{e.get('properties', {}).get('model')}"
            for e in self.elements
            if e.get("type") == "model" and isinstance(e.get("properties"), Mapping)
        ]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "raw":
                continue
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if hasattr(value, "to_dict") else _jsonable(value)
        return out
