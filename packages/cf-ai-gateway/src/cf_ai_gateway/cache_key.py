"""``cache_key_for``: a stable ``cf-aig-cache-key`` from normalised messages.

The gateway caches exact matches only: one extra space or a different key order in a tool
schema is a cache miss. Until the gateway has a semantic cache, derive the cache key yourself
from the request as it *means* something, and send it with ``GatewayOptions(cache_key=...)``:
requests that normalise to the same thing share one cache entry (with a custom key the gateway
looks at the key alone, not at the body).

The rules, applied in this order:

1. **Content shape**: a string ``content`` and a list of text parts with the same text are
   the same (text parts are joined with a newline); non-text parts (images, audio) are kept
   as canonical JSON.
2. **Unicode**: text is NFC-normalised (always).
3. **Whitespace** (``"whitespace"``, on by default): runs of whitespace become one space and
   leading/trailing whitespace is dropped, in message text and tool descriptions. Turn it off
   (``normalise=()``) when whitespace carries meaning (code, poetry, tables).
4. **Case** (``"case"``, off unless asked): message text is case-folded, so ``"Hello"`` and
   ``"hello"`` share an entry.
5. **Key order**: mappings are serialised with sorted keys at every depth (always).
6. **Tool schemas**: tools are sorted by name and their JSON schemas serialised with sorted
   keys (always): the same tools in another order are the same request.

The key also covers ``model`` and ``params`` (anything else that changes the answer:
``temperature``, ``max_tokens``, ``response_format``...), so different models never share an
entry. Roles, tool calls and tool call ids are kept as they are. The result is
``"cfk1-" + sha256`` hex: ASCII, 69 characters, and versioned (a change of rules changes the
prefix rather than silently reusing entries).

>>> a = cache_key_for([{"role": "user", "content": "What is  an AI gateway?"}], model="gpt-4o")
>>> b = cache_key_for([{"role": "user", "content": " What is an AI gateway? "}], model="gpt-4o")
>>> a == b, a[:5], len(a)
(True, 'cfk1-', 69)
>>> a == cache_key_for([{"role": "user", "content": "What is an AI gateway?"}], model="o3")
False
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

__all__ = ["CACHE_KEY_PREFIX", "DEFAULT_RULES", "NormaliseRule", "cache_key_for"]

CACHE_KEY_PREFIX = "cfk1-"
"""Versions the rules: a change of rules changes the prefix."""

NormaliseRule = Literal["whitespace", "case"]
_RULES: tuple[NormaliseRule, ...] = ("whitespace", "case")
DEFAULT_RULES: tuple[NormaliseRule, ...] = ("whitespace",)
_WHITESPACE = re.compile(r"\s+")
_LANGCHAIN_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def _text(value: str, rules: Collection[str]) -> str:
    text = unicodedata.normalize("NFC", value)
    if "whitespace" in rules:
        text = _WHITESPACE.sub(" ", text).strip()
    if "case" in rules:
        text = text.casefold()
    return text


def _content(content: Any, rules: Collection[str]) -> Any:
    if content is None or isinstance(content, str):
        return None if content is None else _text(content, rules)
    if isinstance(content, Sequence):
        parts = [p for p in content if p is not None]
        texts = []
        for part in parts:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping) and part.get("type") == "text":
                texts.append(str(part.get("text") or ""))
            else:
                break
        else:  # text only: the same as one string
            return _text("\n".join(texts), rules)
        return [
            _text(p, rules)
            if isinstance(p, str)
            else {**_plain(p), "text": _text(str(p.get("text") or ""), rules)}
            if isinstance(p, Mapping) and p.get("type") == "text"
            else _plain(p)
            for p in parts
        ]
    return _plain(content)


def _plain(value: Any) -> Any:
    """JSON-ready data: mappings, sequences, scalars (objects via ``model_dump``/``dict``)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    dump = getattr(value, "model_dump", None) or getattr(value, "dict", None)
    if callable(dump):
        return _plain(dump())
    return str(value)


def _message(message: Any, rules: Collection[str]) -> dict[str, Any]:
    if isinstance(message, str):
        return {"role": "user", "content": _text(message, rules)}
    if isinstance(message, Mapping):
        out = {str(k): _plain(v) for k, v in message.items() if k != "content"}
        out["content"] = _content(message.get("content"), rules)
        return out
    # Framework message objects, duck-typed (the core imports no framework): LlamaIndex's
    # ChatMessage has .role (an enum), LangChain's BaseMessage has .type.
    role = getattr(message, "role", None)
    if role is None:
        kind = getattr(message, "type", None)
        role = _LANGCHAIN_ROLES.get(str(kind), kind)
    if role is None or not hasattr(message, "content"):
        raise TypeError(
            f"cannot read a message from {type(message).__name__}: pass dicts with 'role' and "
            "'content' (the OpenAI shape)"
        )
    out = {"role": str(getattr(role, "value", role)), "content": None}
    out["content"] = _content(message.content, rules)
    for name in ("name", "tool_calls", "tool_call_id"):
        value = getattr(message, name, None)
        if value:
            out[name] = _plain(value)
    return out


def _tool_name(tool: Any) -> str:
    if isinstance(tool, Mapping):
        function = tool.get("function")
        if isinstance(function, Mapping) and function.get("name"):
            return str(function["name"])
        if tool.get("name"):
            return str(tool["name"])
    return json.dumps(tool, sort_keys=True, default=str)


def _tool(tool: Any, rules: Collection[str]) -> Any:
    plain = _plain(tool)

    def descriptions(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: _text(v, set(rules) - {"case"})
                if k == "description" and isinstance(v, str)
                else descriptions(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [descriptions(v) for v in value]
        return value

    return descriptions(plain)


def cache_key_for(
    messages: str | Iterable[Any],
    *,
    model: str | None = None,
    tools: Sequence[Any] | None = None,
    params: Mapping[str, Any] | None = None,
    normalise: Collection[NormaliseRule] = DEFAULT_RULES,
) -> str:
    """A ``cf-aig-cache-key`` for these messages (see the module docstring for the rules).

    ``messages``: OpenAI-shaped dicts (``{"role", "content", ...}``), a plain string (one user
    message), or LangChain / LlamaIndex message objects. ``normalise``: the optional rules,
    ``"whitespace"`` (default) and ``"case"``. Use it as
    ``GatewayOptions(cache_key=cache_key_for(messages, model=...))``, in any adapter's gateway
    options.
    """
    rules = set(normalise)
    unknown = rules - set(_RULES)
    if unknown or isinstance(normalise, str):
        raise ValueError(
            f"normalise={normalise!r}: rules are a collection of {', '.join(_RULES)} "
            "(key order and tool schemas are always normalised)"
        )
    items = [messages] if isinstance(messages, str) else list(messages)
    if not items:
        raise ValueError("cache_key_for needs at least one message")
    document: dict[str, Any] = {
        "model": model,
        "messages": [_message(m, rules) for m in items],
        "tools": [_tool(t, rules) for t in sorted(tools or (), key=_tool_name)],
        "params": _plain(dict(params or {})),
    }
    canonical = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return CACHE_KEY_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
