"""The schema-neutral forms the mock engine works on: what a request asks, what the answer is.

A wire schema (``mock.schemas``) parses its body into a ``ChatRequest`` or an
``EmbeddingsRequest`` and renders the engine's ``ChatAnswer`` / ``EmbeddingsAnswer`` (or a
``MockFailure``) back into its own JSON and stream shapes. Nothing here names a wire field;
roles are ``system``, ``user``, ``assistant`` and ``tool`` (a schema maps its own onto them,
and passes others through unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

__all__ = [
    "BrokenBody",
    "ChatAnswer",
    "ChatChoice",
    "ChatRequest",
    "CountRequest",
    "EmbeddingsAnswer",
    "EmbeddingsRequest",
    "Finish",
    "FailureKind",
    "Message",
    "MockFailure",
    "MockRequest",
    "ResponseFormat",
    "Tool",
    "ToolCall",
    "ToolChoice",
    "TokenCount",
    "Usage",
]

FailureKind = Literal["invalid_request", "not_found", "rate_limit", "server"]
Finish = Literal["stop", "length", "tool_call"]
"""Why a choice ended: natural end (or a stop string), the token limit, or a tool call."""


class Usage(NamedTuple):
    """Tokens of one exchange (``(input, output)`` as a tuple)."""

    input_tokens: int
    output_tokens: int


class MockFailure(Exception):
    """A provider-style error the mock answers with; each schema renders its own body.

    ``kind`` is the error's family, ``code`` a short machine-readable reason
    (``model_not_found``, ``invalid_value``...).
    """

    def __init__(
        self, status: int, message: str, kind: FailureKind, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind: FailureKind = kind
        self.code = code


@dataclass(frozen=True)
class BrokenBody:
    """A deliberately broken answer sent as-is (HTML error page, body that is not JSON)."""

    status: int
    content_type: str
    content: bytes


# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MockRequest:
    """What every parsed request has: the model that answers, whether to stream, and the body
    as received (``raw``: for the schema's own rendering, e.g. ids and options; the engine
    never reads it)."""

    model: str
    raw: Mapping[str, Any]
    stream: bool = False


@dataclass(frozen=True)
class Message:
    """One message; ``tool_name`` names the tool whose result a ``tool`` message carries."""

    role: str
    text: str
    tool_name: str | None = None


@dataclass(frozen=True)
class Tool:
    """A function the model may call; ``parameters`` is its JSON Schema (any JSON value)."""

    name: str
    description: str = ""
    parameters: Any = None


@dataclass(frozen=True)
class ToolChoice:
    """``auto`` (the model decides), ``none``, ``required`` (some tool), or ``named``."""

    mode: Literal["auto", "none", "required", "named"] = "auto"
    name: str | None = None


@dataclass(frozen=True)
class ResponseFormat:
    """Free text, JSON valid for ``schema`` (a JSON Schema), or any JSON object."""

    kind: Literal["text", "json_schema", "json_object"] = "text"
    schema: Any = None


@dataclass(frozen=True, kw_only=True)
class ChatRequest(MockRequest):
    """A chat request. ``prompt_tokens`` is counted by the schema, over the request as sent."""

    messages: tuple[Message, ...]
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice = field(default_factory=ToolChoice)
    parallel_tool_calls: bool = True
    """Whether the model may call several tools in one answer."""
    response_format: ResponseFormat = field(default_factory=ResponseFormat)
    choice_count: int = 1
    seed: int | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    prompt_tokens: int = 0


@dataclass(frozen=True, kw_only=True)
class EmbeddingsRequest(MockRequest):
    """An embeddings request: one vector per input text (``dimensions`` or the default)."""

    inputs: tuple[str, ...]
    dimensions: int | None = None


@dataclass(frozen=True, kw_only=True)
class CountRequest(MockRequest):
    """A request to count a prompt's tokens (counted by the schema); nothing is generated."""

    prompt_tokens: int


# --- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    """A call of ``name`` with ``arguments`` (a JSON value, usually an object)."""

    name: str
    arguments: Any


@dataclass(frozen=True)
class ChatChoice:
    """One alternative answer: text, or tool calls (then ``text`` is ``None``)."""

    text: str | None
    tool_calls: tuple[ToolCall, ...]
    finish: Finish
    stop_sequence: str | None = None
    """The stop string that ended ``text`` (``finish`` is ``"stop"``); Anthropic reports it."""


@dataclass(frozen=True)
class ChatAnswer:
    choices: tuple[ChatChoice, ...]
    usage: Usage


@dataclass(frozen=True)
class EmbeddingsAnswer:
    vectors: tuple[tuple[float, ...], ...]
    usage: Usage


@dataclass(frozen=True)
class TokenCount:
    """The answer to a ``CountRequest``: its tokens as ``usage.input_tokens``."""

    usage: Usage
