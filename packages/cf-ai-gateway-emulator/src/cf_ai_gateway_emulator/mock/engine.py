"""What the mock answers, with no wire schema in it: deterministic, the same request always
gives the same answer.

- text: a greeting plus a summary of the last user message; stop strings cut it, the token
  limit truncates it to that many words (finish ``length``), ``choice_count`` alternatives,
  the seed varies the phrasing; after a tool result, a sentence with that result;
- tool calls: when the tool choice is ``required`` or ``named``, or (``auto``) when the last
  user message names a tool or one of its words, or says "tool"; arguments come from the
  tool's JSON Schema, filled from the prompt (``json_values``);
- structured output: JSON valid for a JSON Schema, or the JSON object the prompt asks for;
- embeddings: unit-length hashed bags of words (texts that share words are similar);
- usage: word counts (the schema counts the prompt as sent, the engine the output);
- faults: which injected fault answers instead (``fault_answer``), and the magic model names
  (one containing ``does-not-exist``/``not-found`` is 404, one containing ``fail`` is 500).

How an answer is streamed (``text_deltas``, ``argument_deltas``) is decided here too, so
every schema streams the same pieces.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cf_ai_gateway import wire

from ..config import MockSettings
from .faults import Faults
from .json_values import QUOTED, STRING_HINTS, schema_value
from .neutral import (
    BrokenBody,
    ChatAnswer,
    ChatChoice,
    ChatRequest,
    CountRequest,
    EmbeddingsAnswer,
    EmbeddingsRequest,
    FailureKind,
    Finish,
    Message,
    MockFailure,
    MockRequest,
    TokenCount,
    Tool,
    ToolCall,
    Usage,
)
from .scripts import ScriptedAnswer
from .text import count_tokens, digest, snippet, split_evenly, word_pieces

__all__ = [
    "DEFAULT_CHAT_MODEL",
    "DEFAULT_EMBEDDINGS_MODEL",
    "MAX_DIMENSIONS",
    "answer",
    "answer_chat",
    "answer_embeddings",
    "argument_deltas",
    "check_model",
    "fault_answer",
    "last_user_text",
    "scripted_answer",
    "text_deltas",
]

DEFAULT_CHAT_MODEL = "mock-model"
"""The model that answers when a request names none (or names faults instead)."""
DEFAULT_EMBEDDINGS_MODEL = "mock-embedding"
MAX_DIMENSIONS = 8192

_OPENERS = (
    "Hello! How can I help you today?",
    "Hi there! How can I help you today?",
    "Hello! Happy to help you today.",
)
_COMMON_WORDS = {
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
"""Words of a tool's name and description that do not make a prompt "about" the tool."""

_HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>{status} Bad Gateway | emulated upstream"
    "</title></head><body><h1>Error {status}</h1><p>The upstream answered with an "
    "HTML error page (emulator fault injection).</p></body></html>"
)
_NOT_JSON = b'this is not JSON {"choices": ['
"""The ``malformed`` fault's body: unparseable in any schema (its bytes never change)."""


# --- faults and magic model names ------------------------------------------------------------


def fault_answer(faults: Faults, attempt: int) -> MockFailure | BrokenBody | None:
    """The answer an injected fault gives instead of the model's (``None``: no such fault).

    Latency and stream cuts are not answers; the responder applies them.
    """
    if attempt <= faults.flaky_attempts:
        return MockFailure(
            faults.flaky_status, f"emulated flaky upstream (attempt {attempt})", "server", "flaky"
        )
    if faults.status is not None:
        kind: FailureKind = (
            "rate_limit"
            if faults.status == 429
            else ("server" if faults.status >= 500 else "invalid_request")
        )
        return MockFailure(
            faults.status, f"emulated upstream error {faults.status}", kind, str(faults.status)
        )
    if faults.html_status is not None:
        page = _HTML_PAGE.format(status=faults.html_status)
        return BrokenBody(faults.html_status, "text/html", page.encode())
    if faults.malformed:
        return BrokenBody(200, "application/json", _NOT_JSON)
    return None


def check_model(model: str) -> None:
    """Raise the provider error that a magic model name asks for."""
    lowered = model.lower()
    if "does-not-exist" in lowered or "not-found" in lowered:
        raise MockFailure(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "not_found",
            wire.MODEL_NOT_FOUND_CODE,
        )
    if "fail" in lowered:
        raise MockFailure(
            500,
            f"The mock model `{model}` failed (its name contains 'fail').",
            "server",
            "server_error",
        )


# --- answers ---------------------------------------------------------------------------------


def answer(
    request: MockRequest, settings: MockSettings
) -> ChatAnswer | EmbeddingsAnswer | TokenCount:
    """The answer to a parsed request (raises ``MockFailure`` for what it cannot answer)."""
    if isinstance(request, CountRequest):
        return TokenCount(Usage(request.prompt_tokens, 0))
    if isinstance(request, ChatRequest):
        return answer_chat(
            request, seed=settings.seed, max_answer_tokens=settings.max_answer_tokens
        )
    if isinstance(request, EmbeddingsRequest):
        return answer_embeddings(request, default_dimensions=settings.embedding_dimensions)
    raise TypeError(f"the mock engine cannot answer a {type(request).__name__}")


def answer_chat(request: ChatRequest, *, seed: int = 0, max_answer_tokens: int = 48) -> ChatAnswer:
    """The chat answer for ``request``; ``seed`` and ``max_answer_tokens`` as in ``[mock]``."""
    messages = request.messages
    if request.seed is not None:
        seed = seed ^ request.seed
    user_text = _last_user_text(messages)
    calls = _tool_calls(request, user_text)
    fmt = request.response_format
    choices: list[ChatChoice] = []
    completion_tokens = 0
    for index in range(request.choice_count):
        finish: Finish
        stopped_by: str | None = None
        if calls:
            choices.append(ChatChoice(None, calls, "tool_call"))
            completion_tokens += sum(
                count_tokens(json.dumps(c.arguments, ensure_ascii=False)) + 3 for c in calls
            )
            continue
        if fmt.kind == "json_schema":
            text = json.dumps(schema_value(fmt.schema, user_text), ensure_ascii=False)
            finish = "stop"
        elif fmt.kind == "json_object":
            text = json.dumps(_json_object_answer(_all_text(messages)), ensure_ascii=False)
            finish = "stop"
        else:
            text = _text_answer(messages, seed, index)
            text, _, _ = _truncate(text, (), max_answer_tokens)
            text, finish, stopped_by = _truncate(text, request.stop, request.max_tokens)
        choices.append(ChatChoice(text, (), finish, stopped_by))
        completion_tokens += len(word_pieces(text))
    return ChatAnswer(tuple(choices), Usage(request.prompt_tokens, completion_tokens))


def scripted_answer(request: ChatRequest, scripted: ScriptedAnswer) -> ChatAnswer:
    """A script's text or tool calls as the answer to ``request`` (every choice alike)."""
    if scripted.tool_calls:
        choice = ChatChoice(None, scripted.tool_calls, "tool_call")
        tokens = sum(
            count_tokens(json.dumps(c.arguments, ensure_ascii=False)) + 3
            for c in scripted.tool_calls
        )
    else:
        choice = ChatChoice(scripted.text or "", (), "stop")
        tokens = len(word_pieces(scripted.text or ""))
    count = request.choice_count
    return ChatAnswer((choice,) * count, Usage(request.prompt_tokens, tokens * count))


def last_user_text(request: ChatRequest) -> str:
    """The text of the last user message (what scripts' ``prompt`` filters look at)."""
    return _last_user_text(request.messages)


def answer_embeddings(request: EmbeddingsRequest, *, default_dimensions: int) -> EmbeddingsAnswer:
    """One unit vector per input, ``request.dimensions`` (else ``default_dimensions``) long."""
    dims = request.dimensions or default_dimensions
    if not 1 <= dims <= MAX_DIMENSIONS:
        raise MockFailure(
            400,
            f"'dimensions' must be an integer from 1 to {MAX_DIMENSIONS}",
            "invalid_request",
            "invalid_value",
        )
    vectors = tuple(_vector(text, dims) for text in request.inputs)
    tokens = sum(count_tokens(t) for t in request.inputs)
    return EmbeddingsAnswer(vectors, Usage(tokens, 0))


# --- streaming -------------------------------------------------------------------------------


def text_deltas(text: str) -> list[str]:
    """How a text answer is streamed: word by word, JSON in four even pieces."""
    return word_pieces(text) if not text.lstrip().startswith("{") else split_evenly(text, 4)


def argument_deltas(arguments: str) -> list[str]:
    """How a tool call's JSON arguments are streamed: in three even pieces."""
    return split_evenly(arguments, 3)


# --- chat decisions --------------------------------------------------------------------------


def _matches(tool: Tool, text: str) -> bool:
    lowered = text.lower()
    name = tool.name
    if name.lower() in lowered or name.replace("_", " ").lower() in lowered:
        return True
    words = set(re.findall(r"[a-z]{4,}", f"{name.replace('_', ' ')} {tool.description}".lower()))
    words -= _COMMON_WORDS
    return any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in words)


def _call(tool: Tool, text: str) -> ToolCall:
    """A call of ``tool`` with arguments from its JSON Schema, filled from ``text``."""
    params = tool.parameters
    if isinstance(params, Mapping) and params.get("properties"):
        return ToolCall(tool.name, schema_value(params, text, tool.name))
    return ToolCall(tool.name, {})


def _tool_calls(request: ChatRequest, user_text: str) -> tuple[ToolCall, ...]:
    """The calls the model makes (none: it answers in text).

    ``named`` calls that tool; ``required`` calls a tool the last user message is about, else
    the tools its arithmetic asks for, else the first tool; ``auto`` (only right after a user
    message) calls a tool the message names or is about, else one per arithmetic expression
    with a matching tool (``What is 3 * 12? Also, what is 11 + 49?`` with ``multiply`` and
    ``add``: both, unless parallel calls are off), else the first tool when it says "tool".
    """
    tools = request.tools
    choice = request.tool_choice
    if not tools or choice.mode == "none":
        return ()
    if choice.mode == "named":
        return (_call(next((t for t in tools if t.name == choice.name), tools[0]), user_text),)
    if choice.mode == "auto" and request.messages[-1].role != "user":
        return ()
    matched = next((t for t in tools if _matches(t, user_text)), None)
    if matched is not None:
        return (_call(matched, user_text),)
    arithmetic = _arithmetic_calls(tools, user_text)
    if arithmetic:
        return arithmetic if request.parallel_tool_calls else arithmetic[:1]
    if choice.mode == "required" or re.search(r"\btools?\b", user_text.lower()):
        return (_call(tools[0], user_text),)
    return ()


_NUMBER = r"(-?\d+(?:\.\d+)?)"
_EXPRESSION = re.compile(
    _NUMBER
    + r"\s*(\*|\u00d7|x|\+|-|\u2212|/|\u00f7|times|multiplied by|plus|minus|divided by)\s*"
    + _NUMBER
)
_SPELLED = re.compile(
    r"\b(multiply|add|subtract|divide|sum of|product of)\s+"
    + _NUMBER
    + r"\s+(and|by|to|from)\s+"
    + _NUMBER,
    re.IGNORECASE,
)
_OPERATORS = {
    "*": "multiply", "\u00d7": "multiply", "x": "multiply", "times": "multiply",
    "multiplied by": "multiply", "multiply": "multiply", "product of": "multiply",
    "+": "add", "plus": "add", "add": "add", "sum of": "add",
    "-": "subtract", "\u2212": "subtract", "minus": "subtract", "subtract": "subtract",
    "/": "divide", "\u00f7": "divide", "divided by": "divide", "divide": "divide",
}  # fmt: skip
_OPERATION_WORDS = {
    "multiply": ("mul", "multipl", "product", "times"),
    "add": ("add", "sum", "plus", "addition"),
    "subtract": ("sub", "subtract", "minus", "difference"),
    "divide": ("div", "divide", "division", "quotient"),
}
"""Words of a tool's name or description that say which operation it performs (short ones
must be a whole word of the name; longer ones may start any word)."""


def _performs(tool: Tool, operation: str) -> bool:
    name_words = re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", tool.name).lower())
    description_words = re.findall(r"[a-z]+", tool.description.lower())
    for word in _OPERATION_WORDS[operation]:
        if len(word) <= 3 and word in name_words:
            return True
        if len(word) > 3 and any(w.startswith(word) for w in name_words + description_words):
            return True
    return False


def _arithmetic_calls(tools: Sequence[Tool], text: str) -> tuple[ToolCall, ...]:
    """One call per arithmetic expression in ``text`` that a tool performs, in order."""
    found: list[tuple[int, str, str, str]] = []
    for m in _EXPRESSION.finditer(text):
        found.append((m.start(), _OPERATORS[m[2].lower()], m[1], m[3]))
    for m in _SPELLED.finditer(text):
        a, b = (m[4], m[2]) if m[3].lower() == "from" else (m[2], m[4])
        found.append((m.start(), _OPERATORS[m[1].lower()], a, b))
    calls: list[ToolCall] = []
    for _, operation, a, b in sorted(found):
        tool = next((t for t in tools if _performs(t, operation)), None)
        if tool is not None:
            call = _call(tool, f"{a} {b}")
            if call not in calls:
                calls.append(call)
    return tuple(calls)


def _last_user_text(messages: Sequence[Message]) -> str:
    for m in reversed(messages):
        if m.role == "user":
            return m.text
    return messages[-1].text


def _all_text(messages: Sequence[Message]) -> str:
    return "\n".join(m.text for m in messages if m.role in ("system", "user"))


def _text_answer(messages: Sequence[Message], seed: int, index: int) -> str:
    last = messages[-1]
    if last.role == "tool":
        results = []
        for message in reversed(messages):  # every result of the last round of calls
            if message.role != "tool":
                break
            result = snippet(message.text, 30) or "nothing"
            name = message.tool_name or "the tool"
            results.append(f"The result of {name} is {result.rstrip('.')}.")
        return " ".join(reversed(results))
    user = _last_user_text(messages)
    opener = _OPENERS[int(digest(seed, index, user)[:8], 16) % len(_OPENERS)]
    if not user.strip():
        return opener
    return f"{opener} You asked: {snippet(user)}"


_KEY = r"[A-Za-z_][\w-]{0,39}"
_BACKTICKED = re.compile(rf"`({_KEY})`")
_KEY_LIST = re.compile(
    rf"\b(?:keys?|fields?|properties|attributes)\s*(?:named|called|:)?\s+"
    rf"((?:{_KEY}\s*(?:,\s*(?:and\s+)?|\s+and\s+))*{_KEY})"
)
_KEY_BEFORE = re.compile(rf"\b(?:an?|the)\s+({_KEY})\s+(?:key|field|property)\b")
_NOT_KEYS = {"a", "an", "the", "with", "and", "json", "object", "key", "keys", "field", "fields"}


def _json_keys(text: str) -> list[str]:
    """The keys a prompt asking for JSON names: quoted (``"answer"``), back-ticked, listed
    after "keys"/"fields" (``keys name and age``), or as "a ``name`` key"."""
    quoted = [next(g for g in m.groups() if g) for m in QUOTED.finditer(text)]
    keys = [k for k in quoted if re.fullmatch(r"[\w-]{1,40}", k)]
    if not keys:
        keys = _BACKTICKED.findall(text)
    if not keys:
        for m in _KEY_LIST.finditer(text):
            keys += re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", m[1])
        keys += _KEY_BEFORE.findall(text)
    return [k for k in dict.fromkeys(keys) if k.lower() not in _NOT_KEYS]


def _json_object_answer(text: str) -> dict[str, Any]:
    if "json" in text.lower():
        keys = _json_keys(text)
        if keys:
            return {k: STRING_HINTS.get(k.lower(), f"{k} for: {snippet(text, 6)}") for k in keys}
    return {"answer": snippet(text) or "42"}


def _truncate(text: str, stops: Sequence[str], limit: int | None) -> tuple[str, Finish, str | None]:
    """``text`` cut before the first stop string in it, then to ``limit`` tokens: the text,
    why it ended, and the stop string that ended it (``None`` when none did)."""
    found = [(text.find(s), s) for s in stops if s and s in text]
    stopped_by = min(found)[1] if found else None
    if stopped_by is not None:
        text = text[: text.find(stopped_by)]
    if limit is not None:
        pieces = word_pieces(text)
        if len(pieces) > limit:
            return "".join(pieces[:limit]).rstrip(), "length", None
    return text, "stop", stopped_by


# --- embeddings ------------------------------------------------------------------------------


_STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has",
    "have", "how", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so",
    "that", "the", "their", "them", "then", "there", "these", "this", "to", "was", "we", "were",
    "what", "when", "where", "which", "who", "why", "will", "with", "you", "your"
})  # fmt: skip
_WORD = re.compile(r"\w+")
_BUCKETS_PER_WORD = 8


def _words(text: str) -> list[str]:
    """Content words, lower-cased, a plural ``s`` dropped (``cats`` and ``cat`` agree)."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP_WORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def _vector(text: str, dims: int) -> tuple[float, ...]:
    """A hashed bag of words: each content word adds +-1 to a few buckets chosen by its hash,
    so texts sharing words point the same way (cosine similarity grows with shared words) and
    a retriever ranks the documents that share words with a query first. Text without content
    words gets a vector from a hash of the whole text."""
    values = [0.0] * dims
    for word in _words(text):
        raw = hashlib.sha256(word.encode()).digest()
        for i in range(min(_BUCKETS_PER_WORD, dims)):
            chunk = int.from_bytes(raw[2 * i : 2 * i + 2], "big")
            values[chunk % dims] += 1.0 if raw[16 + i] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in values))
    if not norm:
        rng = random.Random(int(digest("embed", text)[:16], 16))
        values = [rng.gauss(0.0, 1.0) for _ in range(dims)]
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return tuple(round(v / norm, 8) for v in values)
