"""Fault injection for the mock provider.

Faults come from three places, merged in this order (later wins per kind): the config
(``[mock] faults`` and ``[providers.<slug>] faults``), the model name, and the request header
``x-emulator-fault`` (which a universal step can carry in its ``headers``).

Syntax: directives separated by ``,``, ``;`` or ``+``; each is ``name``, ``name=value`` or
``name-value`` (the last form fits in a model name, e.g. ``"model": "fail-503"``).

============  ===========================================================================
directive     effect
============  ===========================================================================
fail=503      answer with that HTTP status and the schema's error body (also ``status``)
slow=1500     wait that many ms before the first byte (also ``delay``)
cut=3         streams: drop the connection after 3 chunks; non-streams: truncated JSON
malformed     answer 200 with a body that is not JSON
html=502      answer with an HTML error page and that status (default 502)
flaky=2       the first 2 attempts of a request fail with 503, later attempts succeed
              (``flaky=2:500`` picks the status); shows the gateway's retries working
============  ===========================================================================

A model name is treated as faults only when every ``+``-separated part parses, so
``"model": "slow-200+fail-503"`` works and ``"gpt-4o-mini"`` is a normal model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

__all__ = [
    "FAULT_HEADER",
    "FaultError",
    "Faults",
    "StreamCutFault",
    "faults_from_model",
    "merged_faults",
    "parse_faults",
]

FAULT_HEADER = "x-emulator-fault"

_DIRECTIVE = re.compile(r"^(?P<name>[a-z]+)(?:[=-](?P<value>[0-9:]+))?$")
_ALIASES = {"status": "fail", "delay": "slow", "error": "fail"}


class FaultError(ValueError):
    """A fault directive does not parse."""


class StreamCutFault(ConnectionResetError):
    """Raised inside a mock stream to drop the connection (fault ``cut=N``)."""


@dataclass(frozen=True)
class Faults:
    """The faults that apply to one mock answer (the defaults: none)."""

    status: int | None = None
    delay_ms: int = 0
    cut_after: int | None = None
    malformed: bool = False
    html_status: int | None = None
    flaky_attempts: int = 0
    flaky_status: int = 503

    def merge(self, other: Faults) -> Faults:
        # on every mock answer: most sources name no fault at all
        if other == _NONE:
            return self
        if self == _NONE:
            return other
        changes = {k: v for k, v in vars(other).items() if v != getattr(_NONE, k)}
        return replace(self, **changes)

    @property
    def any(self) -> bool:
        return self != _NONE


_NONE = Faults()


def _status(text: str, directive: str) -> int:
    code = int(text)
    if not 100 <= code <= 599:
        raise FaultError(f"{directive!r}: status must be 100..599")
    return code


@lru_cache(maxsize=256)
def parse_faults(text: str | None) -> Faults:
    """Parse a directive list (see the module docstring); raises ``FaultError``. (Parsed
    once per text: the same config, models and headers come with every request.)"""
    faults = Faults()
    if not text or not text.strip():
        return faults
    for raw in re.split(r"[,;+]", text):
        part = raw.strip().lower()
        if not part:
            continue
        m = _DIRECTIVE.match(part)
        if not m:
            raise FaultError(
                f"fault directive {raw.strip()!r} does not parse (expected e.g. "
                "fail=503, slow=1500, cut=3, malformed, html=502, flaky=2)"
            )
        name = _ALIASES.get(m["name"], m["name"])
        value = m["value"]
        try:
            if name == "fail":
                faults = replace(faults, status=_status(value or "500", part))
            elif name == "slow":
                faults = replace(faults, delay_ms=int(value or "1000"))
            elif name == "cut":
                faults = replace(faults, cut_after=int(value or "1"))
            elif name == "malformed" and value is None:
                faults = replace(faults, malformed=True)
            elif name == "html":
                faults = replace(faults, html_status=_status(value or "502", part))
            elif name == "flaky":
                count, _, status = (value or "1").partition(":")
                faults = replace(
                    faults, flaky_attempts=int(count), flaky_status=_status(status or "503", part)
                )
            else:
                raise FaultError(f"unknown fault directive {raw.strip()!r}")
        except ValueError as exc:
            if isinstance(exc, FaultError):
                raise
            raise FaultError(f"fault directive {raw.strip()!r} has a bad value") from None
    return faults


@lru_cache(maxsize=256)
def faults_from_model(model: str | None) -> Faults:
    """Faults named by a model like ``fail-503`` or ``slow-200+cut-2``; none otherwise."""
    if not model:
        return Faults()
    try:
        return parse_faults(model)
    except FaultError:
        return Faults()


def merged_faults(sources: Iterable[str | None], model: str | None, header: str | None) -> Faults:
    """Config sources, then the model name, then the request header."""
    faults = Faults()
    for text in sources:
        faults = faults.merge(parse_faults(text))
    faults = faults.merge(faults_from_model(model))
    return faults.merge(parse_faults(header))
