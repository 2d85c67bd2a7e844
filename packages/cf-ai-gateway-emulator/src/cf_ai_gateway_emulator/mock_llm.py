"""A deterministic mock LLM speaking OpenAI's chat-completions and embeddings schema.

The same request body always gives the same answer (ids are hashes of the request), so
recorded cassettes stay stable. What it does:

- text answers that echo a short summary of the last user message; ``stop`` cuts the text
  before the first stop string; ``max_tokens``/``max_completion_tokens`` truncate it to that
  many words ("tokens") with ``finish_reason="length"``; ``n`` choices; ``seed`` varies
  the phrasing;
- tool calls when ``tool_choice`` is ``"required"``/``"any"``/a named function, or (``auto``)
  when the last user message names a tool or a word of it; arguments are generated from the
  tool's JSON schema, filled from the prompt (integers, quoted strings, capitalised places);
  after a ``tool`` message it answers in text using the tool result;
- ``response_format`` ``json_schema`` / ``json_object``: JSON valid for the schema;
- usage numbers derived from word counts (``prompt_tokens_details.cached_tokens`` is 0);
- streaming chunks shaped like OpenAI's (role chunk, content/tool-call deltas, finish chunk,
  a usage chunk with empty ``choices`` when ``stream_options.include_usage``);
- embeddings: unit-length vectors from a hash of the text (``dimensions`` honoured,
  ``encoding_format="base64"`` too).

Model names that provoke provider errors: one containing ``does-not-exist`` or ``not-found``
answers 404 ``model_not_found``; one containing ``fail`` (that is not a fault directive, e.g.
``gpt-fail``) answers 500. See ``faults`` for the general fault syntax.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import struct
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "MockError",
    "chat_chunks",
    "chat_completion",
    "count_tokens",
    "embeddings",
]

_PIECE = re.compile(r"\S+\s*")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_INT = re.compile(r"(?<![\w.])-?\d+(?![\w.]\d)")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"|“([^”]+)”|「([^」]+)」")

_OPENERS = (
    "Hello! How can I help you today?",
    "Hi there! How can I help you today?",
    "Hello! Happy to help you today.",
)

_STRING_HINTS = {
    "setup": "Why did the cat sit on the computer?",
    "punchline": "To keep an eye on the mouse!",
    "joke": "Why did the cat sit on the computer? To keep an eye on the mouse!",
    "answer": "42",
    "name": "Ada",
    "email": "ada@example.com",
    "date": "2025-01-01",
    "unit": "celsius",
}


class MockError(Exception):
    """A provider-style error the mock answers with (OpenAI error body)."""

    def __init__(self, status: int, message: str, error_type: str, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}


def count_tokens(text: str) -> int:
    """Words and punctuation marks: a stable stand-in for a tokenizer."""
    return len(_TOKEN.findall(text))


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _text_of(content: Any) -> str:
    """The text of a message ``content`` (string or list of parts; images are ignored)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping):
                if isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif isinstance(part.get("content"), str):
                    texts.append(part["content"])
        return " ".join(texts)
    return str(content)


def _images_in(content: Any) -> int:
    if not isinstance(content, list):
        return 0
    return sum(
        1
        for p in content
        if isinstance(p, Mapping) and p.get("type") in ("image_url", "image", "input_image")
    )


def _check_messages(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise MockError(
            400, "'messages' must be a non-empty array", "invalid_request_error", "invalid_messages"
        )
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping) or not isinstance(m.get("role"), str):
            raise MockError(
                400,
                f"messages[{i}] must be an object with a 'role'",
                "invalid_request_error",
                "invalid_messages",
            )
    return messages


def check_model(model: str) -> None:
    """Raise the provider error that a magic model name asks for."""
    lowered = model.lower()
    if "does-not-exist" in lowered or "not-found" in lowered:
        raise MockError(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        )
    if "fail" in lowered:
        raise MockError(
            500,
            f"The mock model `{model}` failed (its name contains 'fail').",
            "server_error",
            "server_error",
        )


def _prompt_tokens(body: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]) -> int:
    total = 3
    for m in messages:
        total += 4 + count_tokens(_text_of(m.get("content"))) + 85 * _images_in(m.get("content"))
        for call in m.get("tool_calls") or []:
            if isinstance(call, Mapping):
                total += count_tokens(json.dumps(call.get("function", {})))
    if body.get("tools"):
        total += count_tokens(json.dumps(body["tools"]))
    return total


# --- JSON values from a schema, filled from the prompt -----------------------------------


class _Filler:
    def __init__(self, text: str, tool_name: str | None, root: Mapping[str, Any]) -> None:
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
        self.quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)]
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
            words = re.findall(r"(?<!^)(?<![.?!]\s)\b([A-Z][\w-]+)", self.text)
            return str(words[-1]) if words else "Paris"
        for hint, value in _STRING_HINTS.items():
            if hint in lowered:
                return value
        description = str(schema.get("description") or "")
        for hint, value in _STRING_HINTS.items():
            if hint in description.lower():
                return value
        words = list(re.findall(r"[A-Za-z]{4,}", self.text))
        return words[0].lower() if words else f"example {lowered or 'value'}".strip()


def schema_value(schema: Mapping[str, Any], text: str, tool_name: str | None = None) -> Any:
    """A value valid for ``schema`` filled from ``text`` (see the module docstring)."""
    return _Filler(text, tool_name, schema).value(schema)


# --- chat ----------------------------------------------------------------------------------


def _tool_functions(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tools = body.get("tools") or []
    out = []
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, Mapping):
            fn = tool.get("function") if tool.get("type", "function") == "function" else None
            if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
                out.append(fn)
    return out


def _matches(fn: Mapping[str, Any], text: str) -> bool:
    lowered = text.lower()
    name = str(fn["name"])
    if name.lower() in lowered or name.replace("_", " ").lower() in lowered:
        return True
    words = set(
        re.findall(r"[a-z]{4,}", f"{name.replace('_', ' ')} {fn.get('description') or ''}".lower())
    )
    words -= {
        "this",
        "that",
        "with",
        "from",
        "returns",
        "return",
        "tool",
        "function",
        "value",
        "given",
        "input",
        "output",
        "call",
        "when",
        "will",
        "what",
        "should",
        "about",
    }
    return any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in words)


def _choose_tool(
    body: Mapping[str, Any], messages: Sequence[Mapping[str, Any]], user_text: str
) -> Mapping[str, Any] | None:
    functions = _tool_functions(body)
    if not functions:
        return None
    choice = body.get("tool_choice")
    last_role = messages[-1].get("role")
    if choice == "none":
        return None
    if isinstance(choice, Mapping):
        wanted = (choice.get("function") or {}).get("name") or choice.get("name")
        return next((f for f in functions if f["name"] == wanted), functions[0])
    if isinstance(choice, str) and choice not in ("auto", "required", "any", "none"):
        return next((f for f in functions if f["name"] == choice), functions[0])
    if choice in ("required", "any"):
        return next((f for f in functions if _matches(f, user_text)), functions[0])
    if last_role != "user":
        return None
    matched = [f for f in functions if _matches(f, user_text)]
    if matched:
        return matched[0]
    if re.search(r"\btools?\b", user_text.lower()):
        return functions[0]
    return None


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            return _text_of(m.get("content"))
    return _text_of(messages[-1].get("content"))


def _all_text(messages: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(
        _text_of(m.get("content"))
        for m in messages
        if m.get("role") in ("system", "developer", "user")
    )


def _snippet(text: str, words: int = 12) -> str:
    parts = text.split()
    out = " ".join(parts[:words])
    return out + (" ..." if len(parts) > words else "")


def _text_answer(messages: Sequence[Mapping[str, Any]], seed: int, index: int) -> str:
    last = messages[-1]
    if last.get("role") == "tool":
        names = {}
        for m in messages:
            for call in m.get("tool_calls") or []:
                if isinstance(call, Mapping):
                    names[call.get("id")] = (call.get("function") or {}).get("name")
        name = names.get(last.get("tool_call_id")) or last.get("name") or "the tool"
        result = _snippet(_text_of(last.get("content")), 30) or "nothing"
        return f"The result of {name} is {str(result).rstrip('.')}."
    user = _last_user_text(messages)
    opener = _OPENERS[int(_digest(seed, index, user)[:8], 16) % len(_OPENERS)]
    if not user.strip():
        return opener
    return f"{opener} You asked: {_snippet(user)}"


def _json_object_answer(text: str) -> dict[str, Any]:
    if "json" in text.lower():
        keys = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)]
        keys = [k for k in keys if re.fullmatch(r"[\w-]{1,40}", k)]
        if keys:
            return {
                k: _STRING_HINTS.get(k.lower(), f"{k} for: {_snippet(text, 6)}")
                for k in dict.fromkeys(keys)
            }
    return {"answer": _snippet(text) or "42"}


def _truncate(text: str, stop: Any, limit: int | None) -> tuple[str, str]:
    finish = "stop"
    stops = [stop] if isinstance(stop, str) else [s for s in (stop or []) if isinstance(s, str)]
    cut = min((text.find(s) for s in stops if s and s in text), default=-1)
    if cut >= 0:
        text = text[:cut]
    if limit is not None:
        pieces = _PIECE.findall(text)
        if len(pieces) > limit:
            text = "".join(pieces[:limit]).rstrip()
            finish = "length"
    return text, finish


def _limit(body: Mapping[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise MockError(
                    400, f"'{key}' must be >= 1", "invalid_request_error", "invalid_value"
                )
            return value
    return None


def _choices(
    body: Mapping[str, Any],
    model: str,
    seed: int,
    max_answer_tokens: int,
) -> tuple[list[dict[str, Any]], int]:
    messages = _check_messages(body)
    n = body.get("n") or 1
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 16:
        raise MockError(
            400, "'n' must be an integer from 1 to 16", "invalid_request_error", "invalid_value"
        )
    if isinstance(body.get("seed"), int):
        seed = seed ^ body["seed"]
    user_text = _last_user_text(messages)
    tool = _choose_tool(body, messages, user_text)
    fmt = body.get("response_format")
    limit = _limit(body)
    choices = []
    completion_tokens = 0
    for index in range(n):
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if tool is not None:
            params = tool.get("parameters")
            args = (
                schema_value(params, user_text, str(tool["name"]))
                if isinstance(params, Mapping) and params.get("properties")
                else {}
            )
            arguments = json.dumps(args, ensure_ascii=False)
            call_id = "call_" + _digest(body, index)[:24]
            message["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": tool["name"], "arguments": arguments},
                }
            ]
            finish = "tool_calls"
            completion_tokens += count_tokens(arguments) + 3
        else:
            if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
                spec = fmt.get("json_schema") or {}
                schema = spec.get("schema") if isinstance(spec, Mapping) else None
                text = json.dumps(
                    schema_value(schema or {"type": "object"}, user_text), ensure_ascii=False
                )
                finish = "stop"
            elif isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
                text = json.dumps(_json_object_answer(_all_text(messages)), ensure_ascii=False)
                finish = "stop"
            else:
                text = _text_answer(messages, seed, index)
                text, _ = _truncate(text, None, max_answer_tokens)
                text, finish = _truncate(text, body.get("stop"), limit)
            message["content"] = text
            completion_tokens += len(_PIECE.findall(text))
        choices.append(
            {"index": index, "message": message, "logprobs": None, "finish_reason": finish}
        )
    return choices, completion_tokens


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(
    body: Mapping[str, Any], *, model: str, created: int, seed: int = 0, max_answer_tokens: int = 48
) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` for ``body`` (``model`` as the upstream names it)."""
    check_model(model)
    choices, completion = _choices(body, model, seed, max_answer_tokens)
    prompt = _prompt_tokens(body, body["messages"])
    return {
        "id": "chatcmpl-" + _digest(model, body)[:29],
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": _usage(prompt, completion),
        "service_tier": "default",
        "system_fingerprint": "fp_emulator",
    }


def _split(text: str, parts: int) -> list[str]:
    if not text:
        return [""]
    size = max(1, math.ceil(len(text) / parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def chat_chunks(
    body: Mapping[str, Any], *, model: str, created: int, seed: int = 0, max_answer_tokens: int = 48
) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed answer (``[DONE]`` excluded)."""
    full = chat_completion(
        body, model=model, created=created, seed=seed, max_answer_tokens=max_answer_tokens
    )
    base = {
        "id": full["id"],
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": "fp_emulator",
    }
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    chunks: list[dict[str, Any]] = []

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> None:
        chunks.append(
            {
                **base,
                "choices": [
                    {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
        )

    for choice in full["choices"]:
        i = choice["index"]
        message = choice["message"]
        chunk(
            i,
            {
                "role": "assistant",
                "content": "" if not message.get("tool_calls") else None,
                "refusal": None,
            },
        )
        for t, call in enumerate(message.get("tool_calls") or []):
            fn = call["function"]
            chunk(
                i,
                {
                    "tool_calls": [
                        {
                            "index": t,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": fn["name"], "arguments": ""},
                        }
                    ]
                },
            )
            for piece in _split(fn["arguments"], 3):
                chunk(i, {"tool_calls": [{"index": t, "function": {"arguments": piece}}]})
        content = message.get("content") or ""
        pieces = (
            _PIECE.findall(content) if not content.lstrip().startswith("{") else _split(content, 4)
        )
        for piece in pieces:
            chunk(i, {"content": piece})
        chunk(i, {}, choice["finish_reason"])
    if include_usage:
        chunks.append({**base, "choices": [], "usage": full["usage"]})
    return chunks


# --- embeddings ----------------------------------------------------------------------------


def _vector(text: str, dims: int) -> list[float]:
    rng = random.Random(int(_digest("embed", text)[:16], 16))
    values = [rng.gauss(0.0, 1.0) for _ in range(dims)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 8) for v in values]


def embeddings(
    body: Mapping[str, Any],
    *,
    model: str,
    default_dimensions: int,
) -> dict[str, Any]:
    """An OpenAI ``embeddings`` response: one unit vector per input."""
    check_model(model)
    raw = body.get("input")
    if isinstance(raw, str):
        inputs = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        inputs = [" ".join(map(str, raw))]
    elif isinstance(raw, list) and raw:
        inputs = [x if isinstance(x, str) else json.dumps(x) for x in raw]
    else:
        raise MockError(
            400,
            "'input' must be a non-empty string or array",
            "invalid_request_error",
            "invalid_input",
        )
    dims = body.get("dimensions") or default_dimensions
    if not isinstance(dims, int) or isinstance(dims, bool) or not 1 <= dims <= 8192:
        raise MockError(
            400,
            "'dimensions' must be an integer from 1 to 8192",
            "invalid_request_error",
            "invalid_value",
        )
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for i, text in enumerate(inputs):
        vector = _vector(text, dims)
        embedding: Any = vector
        if as_base64:
            embedding = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": embedding})
    tokens = sum(count_tokens(t) for t in inputs)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
