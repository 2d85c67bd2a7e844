"""JSON values valid for a JSON Schema, filled from the prompt: integers and numbers in the
text (``magic_function(3)`` gives ``3``), the first quoted string, the place a prompt asks
about for location-like fields (the last capitalised place name, ``San Francisco, CA``, else
what follows a final "in"/"at": ``sf``), hints for well-known field names (``setup``,
``punchline``, ``email``...).
``$ref``, ``anyOf``/``oneOf``/``allOf``, ``enum``, ``const``, ``default`` and bounds are honoured.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["QUOTED", "STRING_HINTS", "schema_value"]

_INT = re.compile(r"(?<![\w.])-?\d+(?![\w.]\d)")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"|“([^”]+)”|「([^」]+)」")
"""A quoted string in any of the common quote styles (one group per style)."""

STRING_HINTS = {
    "setup": "Why did the cat sit on the computer?",
    "punchline": "To keep an eye on the mouse!",
    "joke": "Why did the cat sit on the computer? To keep an eye on the mouse!",
    "answer": "42",
    "name": "Ada",
    "email": "ada@example.com",
    "date": "2025-01-01",
    "unit": "celsius",
}
"""String values for field names (or descriptions) that contain these words."""


_PLACE = re.compile(r"(?<!^)(?<![.?!]\s)\b([A-Z][\w-]+(?:\s+[A-Z][\w-]+)*(?:,\s*[A-Z][\w-]+)?)")
"""A run of capitalised words not starting a sentence, with an optional ``, CA``: the last
one is the place a prompt asks about (``San Francisco, CA``, ``New York``, ``Paris``)."""
_TRAILING_PLACE = re.compile(r"\b(?:in|at)\s+(\w[\w -]{0,40}?)\s*[?.!]*\s*$", re.IGNORECASE)
"""What follows a final "in" or "at" (``what is the weather in sf``)."""


class _Filler:
    """Fills one schema; numbers and the first quoted string are used up as they are placed."""

    def __init__(self, text: str, tool_name: str | None, root: Any) -> None:
        self.text = text
        self.root = root
        ints: list[int] = []
        if tool_name:
            m = re.search(re.escape(tool_name) + r"\s*\(\s*(-?\d+)", text)
            if m:
                ints.append(int(m.group(1)))
        ints += [int(x) for x in _INT.findall(text)]
        self.ints = ints
        self.numbers = [float(x) for x in _NUMBER.findall(text)]
        self.quoted = [next(g for g in m.groups() if g) for m in QUOTED.finditer(text)]
        self.used_quote = False

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while isinstance(schema.get("$ref"), str) and seen < 20:
            ref = schema["$ref"]
            target: Any = self.root
            for part in ref.lstrip("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, Mapping) else {}
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema

    def value(self, schema: Any, name: str = "", depth: int = 0) -> Any:
        if not isinstance(schema, Mapping) or depth > 8:
            return None if depth > 8 else "value"
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        if "default" in schema and schema["default"] is not None:
            return schema["default"]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                non_null = [
                    o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")
                ]
                return self.value((non_null or options)[0], name, depth + 1)
        if isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                if isinstance(part, Mapping):
                    merged.update(self._resolve(part))
            return self.value(merged, name, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "string"
        if kind == "object":
            props = schema.get("properties") or {}
            return {key: self.value(sub, key, depth + 1) for key, sub in props.items()}
        if kind == "array":
            return []
        if kind == "integer":
            return self._bounded(self.ints.pop(0) if self.ints else 1, schema)
        if kind == "number":
            return self._bounded(self.numbers.pop(0) if self.numbers else 1.0, schema)
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return self._string(name, schema)

    @staticmethod
    def _bounded(value: float, schema: Mapping[str, Any]) -> Any:
        lo = schema.get("minimum", schema.get("exclusiveMinimum"))
        hi = schema.get("maximum", schema.get("exclusiveMaximum"))
        if isinstance(lo, (int, float)) and value < lo:
            value = lo + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
        if isinstance(hi, (int, float)) and value > hi:
            value = hi - (1 if "exclusiveMaximum" in schema and "maximum" not in schema else 0)
        return value

    def _string(self, name: str, schema: Mapping[str, Any]) -> str:
        if self.quoted and not self.used_quote:
            self.used_quote = True
            return self.quoted[0]
        lowered = name.lower()
        if schema.get("format") == "date":
            return "2025-01-01"
        if any(k in lowered for k in ("location", "city", "place", "country")):
            places = _PLACE.findall(self.text)
            if places:
                return str(places[-1])
            trailing = _TRAILING_PLACE.search(self.text)
            return trailing[1] if trailing else "Paris"
        for hint, value in STRING_HINTS.items():
            if hint in lowered:
                return value
        description = str(schema.get("description") or "")
        for hint, value in STRING_HINTS.items():
            if hint in description.lower():
                return value
        words = list(re.findall(r"[A-Za-z]{4,}", self.text))
        return words[0].lower() if words else f"example {lowered or 'value'}".strip()


def schema_value(schema: Any, text: str, tool_name: str | None = None) -> Any:
    """A value valid for ``schema`` filled from ``text`` (see the module docstring); a
    ``schema`` that is not an object gives ``"value"``."""
    return _Filler(text, tool_name, schema).value(schema)
