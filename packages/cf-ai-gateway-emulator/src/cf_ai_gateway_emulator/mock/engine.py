"""What the mock answers, with no wire schema in it: deterministic, the same request always
gives the same answer.

- text: a greeting plus a summary of the last user message; stop strings cut it, the token
  limit truncates it to that many words (finish ``length``), ``choice_count`` alternatives,
  the seed varies the phrasing; after a tool result, a sentence with that result;
- tool calls: when the tool choice is ``required`` or ``named``, or (``auto``) when the last
  user message names a tool or one of its words, or says "tool"; arguments come from the
  tool's JSON Schema, filled from the prompt (``json_values``);
- structured output: JSON valid for a JSON Schema, or the JSON object the prompt asks for;
- embeddings: unit-length vectors from a hash of each input;
- usage: word counts (the schema counts the prompt as sent, the engine the output);
- faults: which injected fault answers instead (``fault_answer``), and the magic model names
  (one containing ``does-not-exist``/``not-found`` is 404, one containing ``fail`` is 500).

How an answer is streamed (``text_deltas``, ``argument_deltas``) is decided here too, so
every schema streams the same pieces.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..config import MockSettings
from .faults import Faults
from .json_values import QUOTED, STRING_HINTS, schema_value
from .neutral import (
    BrokenBody,
    ChatAnswer,
    ChatChoice,
    ChatRequest,
    EmbeddingsAnswer,
    EmbeddingsRequest,
    FailureKind,
    Finish,
    Message,
    MockFailure,
    MockRequest,
    Tool,
    ToolCall,
    Usage,
)
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
            "invalid_request",
            "model_not_found",
        )
    if "fail" in lowered:
        raise MockFailure(
            500,
            f"The mock model `{model}` failed (its name contains 'fail').",
            "server",
            "server_error",
        )


# --- answers ---------------------------------------------------------------------------------


def answer(request: MockRequest, settings: MockSettings) -> ChatAnswer | EmbeddingsAnswer:
    """The answer to a parsed request (raises ``MockFailure`` for what it cannot answer)."""
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
    tool = _choose_tool(request, user_text)
    fmt = request.response_format
    choices: list[ChatChoice] = []
    completion_tokens = 0
    for index in range(request.choice_count):
        finish: Finish
        if tool is not None:
            params = tool.parameters
            arguments = (
                schema_value(params, user_text, tool.name)
                if isinstance(params, Mapping) and params.get("properties")
                else {}
            )
            choices.append(ChatChoice(None, (ToolCall(tool.name, arguments),), "tool_call"))
            completion_tokens += count_tokens(json.dumps(arguments, ensure_ascii=False)) + 3
            continue
        if fmt.kind == "json_schema":
            text = json.dumps(schema_value(fmt.schema, user_text), ensure_ascii=False)
            finish = "stop"
        elif fmt.kind == "json_object":
            text = json.dumps(_json_object_answer(_all_text(messages)), ensure_ascii=False)
            finish = "stop"
        else:
            text = _text_answer(messages, seed, index)
            text, _ = _truncate(text, (), max_answer_tokens)
            text, finish = _truncate(text, request.stop, request.max_tokens)
        choices.append(ChatChoice(text, (), finish))
        completion_tokens += len(word_pieces(text))
    return ChatAnswer(tuple(choices), Usage(request.prompt_tokens, completion_tokens))


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


def _choose_tool(request: ChatRequest, user_text: str) -> Tool | None:
    tools = request.tools
    if not tools:
        return None
    choice = request.tool_choice
    if choice.mode == "none":
        return None
    if choice.mode == "named":
        return next((t for t in tools if t.name == choice.name), tools[0])
    if choice.mode == "required":
        return next((t for t in tools if _matches(t, user_text)), tools[0])
    if request.messages[-1].role != "user":
        return None
    matched = [t for t in tools if _matches(t, user_text)]
    if matched:
        return matched[0]
    if re.search(r"\btools?\b", user_text.lower()):
        return tools[0]
    return None


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
        result = snippet(last.text, 30) or "nothing"
        return f"The result of {last.tool_name or 'the tool'} is {result.rstrip('.')}."
    user = _last_user_text(messages)
    opener = _OPENERS[int(digest(seed, index, user)[:8], 16) % len(_OPENERS)]
    if not user.strip():
        return opener
    return f"{opener} You asked: {snippet(user)}"


def _json_object_answer(text: str) -> dict[str, Any]:
    if "json" in text.lower():
        keys = [next(g for g in m.groups() if g) for m in QUOTED.finditer(text)]
        keys = [k for k in keys if re.fullmatch(r"[\w-]{1,40}", k)]
        if keys:
            return {
                k: STRING_HINTS.get(k.lower(), f"{k} for: {snippet(text, 6)}")
                for k in dict.fromkeys(keys)
            }
    return {"answer": snippet(text) or "42"}


def _truncate(text: str, stops: Sequence[str], limit: int | None) -> tuple[str, Finish]:
    finish: Finish = "stop"
    cut = min((text.find(s) for s in stops if s and s in text), default=-1)
    if cut >= 0:
        text = text[:cut]
    if limit is not None:
        pieces = word_pieces(text)
        if len(pieces) > limit:
            text = "".join(pieces[:limit]).rstrip()
            finish = "length"
    return text, finish


# --- embeddings ------------------------------------------------------------------------------


def _vector(text: str, dims: int) -> tuple[float, ...]:
    rng = random.Random(int(digest("embed", text)[:16], 16))
    values = [rng.gauss(0.0, 1.0) for _ in range(dims)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return tuple(round(v / norm, 8) for v in values)
