"""The protocol every wire schema of the mock implements, and what a rendered stream is.

A schema translates between one wire format and the engine's neutral forms (``mock.neutral``):

- ``target(path, body)``: the model a request names and whether it streams: from the body
  (``model``, ``stream``) for most schemas, from the path where the wire puts them (Google's
  ``models/{model}:streamGenerateContent``, Workers AI's ``@cf/{author}/{model}``);
- ``parse_request(body, target=...)``: the body as a neutral request (``MockFailure`` when the
  body is invalid for this schema);
- ``render_answer`` / ``render_stream``: the engine's answer as a JSON body or as SSE bytes;
- ``read_usage(content, streamed=...)``: (input, output) tokens of a response body or stream
  in this schema, whoever produced it (the mock, a real upstream, the cache);
- ``render_error(failure)``: the provider's own error body.

``kind`` (``chat`` / ``embeddings`` / ``other``) is what the gateway's logs call ``model_type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from ..neutral import CountRequest, MockFailure, MockRequest, TokenCount, Usage

__all__ = ["EndpointKind", "RenderedStream", "Schema", "Target", "TokenCountSchema", "body_target"]

EndpointKind = Literal["chat", "embeddings", "other"]

RequestT = TypeVar("RequestT", bound=MockRequest)
AnswerT = TypeVar("AnswerT", contravariant=True)


@dataclass(frozen=True)
class RenderedStream:
    """A streamed answer as SSE bytes: ``chunks`` are paced (``stream_chunk_delay_ms``) and can
    be cut (fault ``cut=N``); ``end`` follows only a complete stream (``b""``: no terminator).
    """

    chunks: tuple[bytes, ...]
    end: bytes = b""


@dataclass(frozen=True)
class Target:
    """What a request names: the model that answers (``""``: none) and whether it streams."""

    model: str
    stream: bool


def body_target(body: Mapping[str, Any]) -> Target:
    """The ``model`` and ``stream`` fields of a JSON body (where most schemas keep them)."""
    return Target(str(body.get("model") or ""), bool(body.get("stream")))


class Schema(Protocol[RequestT, AnswerT]):
    """One wire schema: how its requests, answers, streams, usage and errors look."""

    name: str
    """A short id, e.g. ``openai-chat``."""
    kind: EndpointKind

    def target(self, path: str, body: Mapping[str, Any]) -> Target:
        """The model and streaming flag of a request to ``path`` (the path after the provider
        segment) with ``body``; by default the body's ``model`` and ``stream``."""
        return body_target(body)

    def parse_request(self, body: Mapping[str, Any], *, target: Target) -> RequestT:
        """``body`` as a neutral request for ``target`` (what ``target()`` read from the
        request, with the answering model); raises ``MockFailure``."""
        ...

    def render_answer(self, request: RequestT, answer: AnswerT, *, created: int) -> dict[str, Any]:
        """The JSON body of a complete answer (``created``: Unix seconds, where it appears)."""
        ...

    def render_stream(self, request: RequestT, answer: AnswerT, *, created: int) -> RenderedStream:
        """The answer as server-sent events."""
        ...

    def read_usage(self, content: bytes, *, streamed: bool) -> Usage:
        """Tokens reported in a response body (or SSE stream); ``(0, 0)`` when there are none."""
        ...

    def render_error(self, failure: MockFailure) -> dict[str, Any]:
        """The provider's error body for ``failure`` (sent with ``failure.status``)."""
        ...


class TokenCountSchema(Schema[CountRequest, TokenCount]):
    """A token-counting endpoint (Anthropic's ``count_tokens``, Google's ``countTokens``):
    never streamed, and counting uses no tokens."""

    kind: EndpointKind = "other"

    def render_stream(
        self, request: CountRequest, answer: TokenCount, *, created: int
    ) -> RenderedStream:
        raise TypeError("token counts are never streamed")

    def read_usage(self, content: bytes, *, streamed: bool) -> Usage:
        return Usage(0, 0)
