"""JSON from untrusted bytes, bounded: linear time, a nesting limit, and only ``ValueError``.

Used by the clients for everything a server sends, and by the emulator for everything a client
sends.

``json.loads`` alone raises ``RecursionError`` on deeply nested input (``[[[[...]]]]``), and
an object nested a few hundred levels deep, once parsed, breaks whatever walks it recursively
later (``copy.deepcopy`` in a framework, ``json.dumps`` of a log). :func:`parse_json` refuses
both with :class:`JSONDepthError` (a ``ValueError``), so every caller handles one exception
type. The depth is measured without recursion, and only when the text has more brackets than
the limit allows (``bytes.count`` is C-fast; a typical body never gets that far).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "JSONDepthError", "json_depth", "parse_json"]

MAX_JSON_DEPTH = 128
"""The deepest nesting accepted from a server (or, in the emulator, from a client): far above
any chat completion, embeddings answer or error body (under 10 levels), far below what makes
recursive code fail (about 1000 frames)."""


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A JSON string literal (its two alternatives never overlap, so matching is linear) and
    a run of anything but brackets; compiled on first use (deep input only), not at import."""
    return re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL), re.compile(r"[^\[\]{}]+")


class JSONDepthError(ValueError):
    """JSON nested deeper than the limit (or too deep for the parser itself)."""


def json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """The nesting depth of JSON ``text`` (strings ignored), counted up to ``limit + 1``.

    >>> json_depth('{"a": [1, {"b": "[[["}]}')
    3
    """
    string, not_bracket = _patterns()
    brackets = not_bracket.sub("", string.sub('""', text)).translate(_SAME_BRACKETS)
    depth = 0
    # Each round removes the innermost pairs: ``limit + 1`` rounds bound the work (linear in
    # the text for a fixed limit) however the brackets nest.
    while brackets and depth <= limit:
        shorter = brackets.replace("[]", "")
        if len(shorter) == len(brackets):
            break  # unbalanced: json.loads has already said whether that is valid
        brackets = shorter
        depth += 1
    return depth


_SAME_BRACKETS = str.maketrans("{}", "[]")


def parse_json(data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads(data)``, but deeper nesting than ``max_depth`` raises
    :class:`JSONDepthError` and nothing but ``ValueError`` ever escapes.

    >>> parse_json('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> parse_json("[" * 200 + "]" * 200)
    Traceback (most recent call last):
    ...
    cf_ai_gateway.jsonsafe.JSONDepthError: JSON nested deeper than 128 levels
    """
    text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise JSONDepthError(f"JSON nested deeper than {max_depth} levels") from exc
    if text.count("[") + text.count("{") > max_depth and json_depth(text, max_depth) > max_depth:
        raise JSONDepthError(f"JSON nested deeper than {max_depth} levels")
    return value
