"""Dynamic routes (``"model": "dynamic/{route}"`` on ``/compat``): parsing and evaluation
(not the HTTP routes of the app, which ``app.create_app`` lists).

Both spellings are accepted: the docs' ``rate_limit`` with ``interval`` and the API's ``rate``
with ``window``; outputs may be ``{"elementId": id}`` or a bare id. Nodes:

- ``start`` -> ``next``
- ``conditional``: ``condition`` is MongoDB-like over ``{"metadata": ..., "body": ...}``
  (``$eq $ne $in $nin $gt $gte $lt $lte $exists $and $or $not``; a bare value means ``$eq``)
  -> ``true`` / ``false``
- ``percentage``: outputs ``"10%"``... plus optional ``else``; the draw comes from a
  ``random.Random`` seeded with ``[mock] seed`` and the route/element, so a given sequence of
  requests always splits the same way
- ``rate_limit``/``rate``: per value of ``key`` (e.g. ``metadata.user_id``); within the limit
  -> ``success``, over it -> ``fallback`` (or a 429 when there is none). ``limitType = "cost"``
  is counted like ``count`` (the emulator does not price requests ahead of time).
- ``model``: ``provider``, ``model``, ``timeout`` (ms), ``retries``; success -> ``success``,
  failure -> ``fallback`` (or end)
- ``end``: answers with the last successful model response, else the last error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cf_ai_gateway import wire

from .config import ConfigError, header_text_problem
from .ids import short_hash

__all__ = [
    "api_elements",
    "deployment_of",
    "route_id",
    "RouteContext",
    "RouteOutcome",
    "evaluate_condition",
    "parse_route",
    "run_route",
]

_TYPES = {
    "start": "start",
    "conditional": "conditional",
    "percentage": "percentage",
    "rate_limit": "rate",
    "rate": "rate",
    "model": "model",
    "end": "end",
}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_HOPS = 64


def _target(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        target = value.get("elementId", value.get("element_id"))
        return target if isinstance(target, str) else None
    return None


def parse_route(raw: object, path: str) -> dict[str, Any]:
    """Validate route JSON (or a ``{"json": "..."}`` table) into a normalised route."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(path, str(raw)[:60], f"is not valid route JSON ({exc})") from None
    if isinstance(raw, Mapping) and isinstance(raw.get("json"), str):
        parsed = parse_route(raw["json"], path)
        if isinstance(raw.get("name"), str):
            parsed["name"] = raw["name"]
        return parsed
    if not isinstance(raw, Mapping):
        raise ConfigError(path, raw, "a route must be an object with 'name' and 'elements'")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"{path}.name", name, "must be 1-64 letters, digits, '.', '-', '_'")
    elements_raw = raw.get("elements")
    if not isinstance(elements_raw, list) or not elements_raw:
        raise ConfigError(f"{path}.elements", elements_raw, "must be a non-empty list")
    elements: dict[str, dict[str, Any]] = {}
    start: str | None = None
    for i, el in enumerate(elements_raw):
        where = f"{path}.elements[{i}]"
        if not isinstance(el, Mapping):
            raise ConfigError(where, el, "must be an object")
        el_id = el.get("id")
        if not isinstance(el_id, str) or not el_id:
            raise ConfigError(f"{where}.id", el_id, "must be a non-empty string")
        if el_id in elements:
            raise ConfigError(f"{where}.id", el_id, "is a duplicate element id")
        kind = _TYPES.get(str(el.get("type")))
        if kind is None:
            raise ConfigError(
                f"{where}.type", el.get("type"), f"must be one of {', '.join(sorted(_TYPES))}"
            )
        props_raw = el.get("properties") or {}
        if not isinstance(props_raw, Mapping):
            raise ConfigError(f"{where}.properties", props_raw, "must be an object")
        props = dict(props_raw)
        outputs_raw = el.get("outputs") or {}
        if not isinstance(outputs_raw, Mapping):
            raise ConfigError(f"{where}.outputs", outputs_raw, "must be an object")
        outputs = {}
        for key, value in outputs_raw.items():
            target = _target(value)
            if target is None:
                raise ConfigError(
                    f"{where}.outputs.{key}", value, 'must be {"elementId": id} or an element id'
                )
            outputs[str(key)] = target
        if kind == "rate":
            if "window" in props and "interval" not in props:
                props["interval"] = props.pop("window")
            if "limit_type" in props:
                props["limitType"] = props.pop("limit_type")
            for req in ("limit", "interval"):
                value = props.get(req)
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                    raise ConfigError(f"{where}.properties.{req}", value, "must be a number > 0")
            if props.get("technique", "sliding") not in ("fixed", "sliding"):
                raise ConfigError(
                    f"{where}.properties.technique",
                    props.get("technique"),
                    "must be fixed or sliding",
                )
        if kind == "model":
            for req in ("provider", "model"):
                if not isinstance(props.get(req), str) or not props[req]:
                    raise ConfigError(
                        f"{where}.properties.{req}", props.get(req), "must be a non-empty string"
                    )
                problem = header_text_problem(props[req])
                if problem is not None:
                    raise ConfigError(f"{where}.properties.{req}", props[req], problem)
            for opt, most in (("timeout", 3_600_000), ("retries", wire.MAX_ATTEMPTS_MAX)):
                value = props.get(opt)
                if value is not None and (
                    not isinstance(value, (int, float))
                    or isinstance(value, bool)
                    or not 0 <= value <= most
                ):
                    raise ConfigError(
                        f"{where}.properties.{opt}", value, f"must be a number from 0 to {most}"
                    )
        if kind == "percentage":
            for key in outputs:
                if key != "else" and not re.fullmatch(r"\d+(\.\d+)?%", key):
                    raise ConfigError(
                        f"{where}.outputs.{key}", key, "percentage outputs are like '10%' or 'else'"
                    )
        if kind == "start":
            start = el_id
        elements[el_id] = {"type": kind, "properties": props, "outputs": outputs}
    if start is None:
        raise ConfigError(f"{path}.elements", "(no start)", "needs one element of type 'start'")
    for el_id, el in elements.items():
        for key, target in el["outputs"].items():
            if target not in elements:
                raise ConfigError(
                    f"{path}.elements.{el_id}.outputs.{key}", target, "points to an unknown element"
                )
    return {"name": name, "start": start, "elements": elements}


def _lookup(doc: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    current: Any = doc
    for part in dotted.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return False, None
    return True, current


def _compare(op: str, value: Any, expected: Any, exists: bool) -> bool:
    try:
        if op == "$eq":
            return exists and value == expected
        if op == "$ne":
            return not exists or value != expected
        if op == "$in":
            return exists and value in expected
        if op == "$nin":
            return not exists or value not in expected
        if op == "$exists":
            return exists == bool(expected)
        if not exists:
            return False
        if op == "$gt":
            return bool(value > expected)
        if op == "$gte":
            return bool(value >= expected)
        if op == "$lt":
            return bool(value < expected)
        if op == "$lte":
            return bool(value <= expected)
    except TypeError:
        return False
    raise ValueError(f"unsupported condition operator {op!r}")


def evaluate_condition(condition: Any, doc: Mapping[str, Any]) -> bool:
    """Evaluate a MongoDB-like ``condition`` against ``doc``."""
    if not isinstance(condition, Mapping):
        return bool(condition)
    for key, expected in condition.items():
        if key == "$and":
            ok = all(evaluate_condition(c, doc) for c in expected)
        elif key == "$or":
            ok = any(evaluate_condition(c, doc) for c in expected)
        elif key == "$not":
            ok = not evaluate_condition(expected, doc)
        else:
            exists, value = _lookup(doc, key)
            if isinstance(expected, Mapping) and any(k.startswith("$") for k in expected):
                ok = all(
                    _compare(op, value, exp, exists)
                    if op != "$not"
                    else not evaluate_condition({key: exp}, doc)
                    for op, exp in expected.items()
                )
            else:
                ok = exists and value == expected
        if not ok:
            return False
    return True


@dataclass
class RouteOutcome:
    """What a model node produced (opaque to this module besides ``ok``)."""

    ok: bool
    value: Any


@dataclass
class RouteContext:
    document: Mapping[str, Any]
    call_model: Callable[[str, str, int | None, int | None], Awaitable[RouteOutcome]]
    rate_check: Callable[[str, str, Mapping[str, Any]], bool]
    """(element id, key value, properties) -> allowed."""
    draw: Callable[[str], float]
    """A number in [0, 100) for a percentage element."""


class RouteError(Exception):
    """The route could not produce any model response."""

    def __init__(self, status: int, message: str, rate_limited: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.rate_limited = rate_limited


async def run_route(route: Mapping[str, Any], ctx: RouteContext) -> RouteOutcome:
    """Walk the route from ``start``; returns the answering outcome or raises ``RouteError``."""
    elements = route["elements"]
    current: str | None = route["start"]
    last_ok: RouteOutcome | None = None
    last_err: RouteOutcome | None = None
    hops = 0
    while current is not None:
        hops += 1
        if hops > MAX_HOPS:
            raise RouteError(500, f"route {route['name']!r} loops (more than {MAX_HOPS} hops)")
        el = elements[current]
        kind, props, outputs = el["type"], el["properties"], el["outputs"]
        if kind == "end":
            break
        if kind == "start":
            current = outputs.get("next")
        elif kind == "conditional":
            ok = evaluate_condition(props.get("condition", {}), ctx.document)
            current = outputs.get("true" if ok else "false")
        elif kind == "percentage":
            draw = ctx.draw(current)
            chosen = outputs.get("else")
            total = 0.0
            for key, target in outputs.items():
                if key == "else":
                    continue
                total += float(key.rstrip("%"))
                if draw < total:
                    chosen = target
                    break
            current = chosen
        elif kind == "rate":
            found, value = _lookup(ctx.document, str(props.get("key") or ""))
            allowed = ctx.rate_check(current, str(value) if found else "", props)
            if allowed:
                current = outputs.get("success")
            elif "fallback" in outputs:
                current = outputs["fallback"]
            else:
                raise RouteError(
                    429,
                    f"route {route['name']!r}: rate limit of element {current!r} exceeded",
                    rate_limited=True,
                )
        elif kind == "model":
            timeout = props.get("timeout")
            retries = props.get("retries")
            outcome = await ctx.call_model(
                str(props["provider"]),
                str(props["model"]),
                int(timeout) if timeout else None,
                int(retries) if retries is not None else None,
            )
            if outcome.ok:
                last_ok = outcome
                current = outputs.get("success")
            else:
                last_err = outcome
                current = outputs.get("fallback")
        else:  # pragma: no cover - parse_route rejects other types
            raise RouteError(500, f"unknown element type {kind!r}")
    if last_ok is not None:
        return last_ok
    if last_err is not None:
        return last_err
    raise RouteError(400, f"route {route['name']!r} ended without reaching a model")


# --- the management API's view of a route -----------------------------------------------------


def route_id(gateway_id: str, name: str) -> str:
    """The id the management API gives a route (stable: derived from gateway and name)."""
    return short_hash("route", gateway_id, name, length=32)


def api_elements(route: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A parsed route's elements as the API lists them: ``[{"id", "type", "properties",
    "outputs": {name: {"elementId": id}}}]``, in definition order."""
    return [
        {
            "id": element_id,
            "type": element["type"],
            "properties": dict(element["properties"]),
            "outputs": {k: {"elementId": v} for k, v in element["outputs"].items()},
        }
        for element_id, element in route["elements"].items()
    ]


def deployment_of(version: Mapping[str, Any]) -> dict[str, Any]:
    """The deployment that made ``version`` live (the emulator deploys every version at once)."""
    return {
        "deployment_id": short_hash("deployment", version["version_id"], length=32),
        "version_id": version["version_id"],
        "created_at": version["created_at"],
    }
