"""Scripted answers: a model that says exactly what a test needs, call after call.

A script is a list of answers given in turn, one per chat request that reaches the mock
(retries and fallback steps count; cache hits never reach it); after the last, the last
repeats. An answer is

- ``"text"`` or ``{"text": "..."}``: that text;
- ``{"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}}`` or
  ``{"tool_calls": [...]}``: those calls (``arguments`` an object, or a JSON string);
- ``{"json": <any JSON value>}``: that value as JSON text;
- ``{"fault": "fail=503"}``: a fault directive list (``mock.faults``) instead of an answer;

each with an optional ``"times": N`` (given N times in a row). So an agent loop is ``[{"tool_call":
...}, "final answer"]`` and "a fault after two successes" is ``[{"text": "ok", "times": 2},
{"fault": "fail=503"}]``.

Scripts come from

- the request header ``x-emulator-script``: a JSON list of answers, or ``{"answers": [...],
  "name": "..."}``, or plain text (one text answer). Requests with the same header value (or
  ``name``) to the same gateway share one sequence, so every test on its own gateway starts
  afresh;
- ``[[mock.scripts]]`` in the config and scripts added at run time
  (``EmulatorHandle.script(...)``), each with ``answers`` and optional filters: ``model`` (an
  ``fnmatch`` pattern on the model the provider is asked for), ``provider`` (a slug),
  ``prompt`` (text the last user message contains, any case), and a ``name``. The first that
  matches answers, one sequence for all gateways; ``Script.calls`` counts what it served.

A header script comes first. Scripts answer chat requests in every wire schema (OpenAI chat
and Responses, Anthropic, Google, Workers AI); embeddings are never scripted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from cf_ai_gateway.jsonsafe import JSONDepthError, parse_json

from .faults import FaultError, parse_faults
from .neutral import ToolCall

__all__ = [
    "SCRIPT_HEADER",
    "Script",
    "ScriptBook",
    "ScriptError",
    "ScriptedAnswer",
    "parse_answers",
    "parse_script",
]

SCRIPT_HEADER = "x-emulator-script"


class ScriptError(ValueError):
    """A script does not parse; the message names where (``answers[1].tool_call``...)."""


@dataclass(frozen=True)
class ScriptedAnswer:
    """One scripted answer: a text, tool calls, or a fault directive list."""

    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    fault: str | None = None


@dataclass(eq=False)
class Script:
    """Answers given in turn to the chat requests that match (see the module docstring)."""

    answers: tuple[ScriptedAnswer, ...]
    name: str = ""
    model: str | None = None
    provider: str | None = None
    prompt: str | None = None
    calls: int = field(default=0, compare=False)
    """How many answers this script has given."""

    def matches(self, provider: str, model: str, prompt: str) -> bool:
        if self.provider is not None and self.provider != provider:
            return False
        if self.model is not None and not fnmatchcase(model, self.model):
            return False
        return self.prompt is None or self.prompt.lower() in prompt.lower()

    def take(self) -> ScriptedAnswer:
        """The next answer (the last one again once all were given); counts the call."""
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return answer


def _tool_call(raw: Any, where: str) -> ToolCall:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise ScriptError(f'{where} must be {{"name": ..., "arguments": {{...}}}}')
    arguments = raw.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = parse_json(arguments)
        except ValueError:
            raise ScriptError(f"{where}.arguments is a string that is not JSON") from None
    return ToolCall(raw["name"], arguments)


def _answer(raw: Any, where: str) -> tuple[ScriptedAnswer, int]:
    if isinstance(raw, str):
        return ScriptedAnswer(text=raw), 1
    if not isinstance(raw, Mapping):
        raise ScriptError(f"{where} must be a text or an object")
    times = raw.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 10_000:
        raise ScriptError(f"{where}.times must be an integer from 1 to 10000")
    kinds = [k for k in ("text", "tool_call", "tool_calls", "json", "fault") if k in raw]
    unknown = set(raw) - {"text", "tool_call", "tool_calls", "json", "fault", "times"}
    if len(kinds) != 1 or unknown:
        raise ScriptError(
            f"{where} needs exactly one of text, tool_call, tool_calls, json, fault"
            + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else "")
        )
    kind = kinds[0]
    value = raw[kind]
    if kind == "text":
        if not isinstance(value, str):
            raise ScriptError(f"{where}.text must be a string")
        return ScriptedAnswer(text=value), times
    if kind == "json":
        return ScriptedAnswer(text=json.dumps(value, ensure_ascii=False)), times
    if kind == "fault":
        if not isinstance(value, str) or not value.strip():
            raise ScriptError(f"{where}.fault must be a fault directive list, e.g. fail=503")
        try:
            parse_faults(value)
        except FaultError as exc:
            raise ScriptError(f"{where}.fault: {exc}") from None
        return ScriptedAnswer(fault=value), times
    raws = [value] if kind == "tool_call" else value
    if not isinstance(raws, list) or not raws:
        raise ScriptError(f"{where}.tool_calls must be a non-empty list")
    calls = tuple(_tool_call(c, f"{where}.{kind}") for c in raws)
    return ScriptedAnswer(tool_calls=calls), times


def parse_answers(raw: Any, where: str = "answers") -> tuple[ScriptedAnswer, ...]:
    """A list of answers (see the module docstring), ``times`` expanded."""
    if not isinstance(raw, list) or not raw:
        raise ScriptError(f"{where} must be a non-empty list of answers")
    out: list[ScriptedAnswer] = []
    for i, item in enumerate(raw):
        answer, times = _answer(item, f"{where}[{i}]")
        out += [answer] * times
    return tuple(out)


def _optional_str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ScriptError(f"{where}.{key} must be a string")
    return value


def parse_script(raw: Any, where: str = "script") -> Script:
    """A script from a mapping with ``answers`` (and ``name``, ``model``, ``provider``,
    ``prompt``), or a bare list of answers."""
    if isinstance(raw, list):
        raw = {"answers": raw}
    if not isinstance(raw, Mapping):
        raise ScriptError(f"{where} must be a list of answers or an object with 'answers'")
    unknown = set(raw) - {"answers", "name", "model", "provider", "prompt"}
    if unknown:
        raise ScriptError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    return Script(
        answers=parse_answers(raw.get("answers"), f"{where}.answers"),
        name=_optional_str(raw, "name", where) or "",
        model=_optional_str(raw, "model", where),
        provider=_optional_str(raw, "provider", where),
        prompt=_optional_str(raw, "prompt", where),
    )


def _header_script(value: str) -> Script:
    """The ``x-emulator-script`` header: JSON (a list or a script object), else plain text."""
    try:
        data = parse_json(value)
    except JSONDepthError as exc:
        raise ScriptError(str(exc)) from None
    except ValueError:
        return Script(answers=(ScriptedAnswer(text=value),))
    if isinstance(data, str):
        return Script(answers=(ScriptedAnswer(text=data),))
    return parse_script(data, SCRIPT_HEADER)


class ScriptBook:
    """The scripts of one emulator and their positions (thread-safe)."""

    def __init__(self, scripts: Iterable[Script] = ()) -> None:
        self._lock = threading.Lock()
        self._scripts = [replace(s, calls=0) for s in scripts]
        self._headers: dict[tuple[str, str], Script] = {}

    def add(self, script: Script) -> Script:
        """Add ``script`` after the others (the first that matches answers)."""
        with self._lock:
            self._scripts.append(script)
        return script

    def remove(self, script: Script) -> None:
        with self._lock:
            self._scripts = [s for s in self._scripts if s is not script]

    def clear(self) -> None:
        """Forget every script, and the positions of header scripts."""
        with self._lock:
            self._scripts.clear()
            self._headers.clear()

    @property
    def scripts(self) -> Sequence[Script]:
        with self._lock:
            return tuple(self._scripts)

    def wanted(self, header: str | None) -> bool:
        """Whether a request may be scripted (a header, or any script at all)."""
        return bool(header) or bool(self._scripts)

    def next_answer(
        self, *, scope: str, header: str | None, provider: str, model: str, prompt: str
    ) -> ScriptedAnswer | None:
        """The answer for one chat request (``None``: no script applies); ``scope`` keeps
        header scripts apart per gateway. Raises ``ScriptError`` for a bad header."""
        with self._lock:
            if header:
                script = _header_script(header)
                key = (scope, script.name or header)
                script = self._headers.setdefault(key, script)
                return script.take()
            for script in self._scripts:
                if script.matches(provider, model, prompt):
                    return script.take()
        return None
