"""The mock LLM as plain functions in OpenAI's schema, for tests and scripts that want a mock
answer without a server.

The emulator itself answers through ``mock.engine`` (what to say) and ``mock.schemas`` (how it
looks on the wire); these functions compose the same pieces, so they give exactly what the
emulator sends for the same body. See ``mock.engine`` for what the answers contain and
``mock.faults`` for fault injection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .mock import engine
from .mock.neutral import ChatAnswer, ChatRequest, MockFailure
from .mock.schemas.base import Target
from .mock.schemas.openai_chat import OPENAI_CHAT
from .mock.schemas.openai_embeddings import OPENAI_EMBEDDINGS
from .mock.text import count_tokens

__all__ = [
    "MockError",
    "chat_chunks",
    "chat_completion",
    "count_tokens",
    "embeddings",
]


class MockError(MockFailure):
    """A ``MockFailure`` with its OpenAI error body (``.body``) and HTTP ``.status``."""

    @property
    def body(self) -> dict[str, Any]:
        return OPENAI_CHAT.render_error(self)

    @classmethod
    def of(cls, failure: MockFailure) -> MockError:
        return cls(failure.status, failure.message, failure.kind, failure.code)


def _chat(
    body: Mapping[str, Any], model: str, seed: int, max_answer_tokens: int
) -> tuple[ChatRequest, ChatAnswer]:
    try:
        engine.check_model(model)
        request = OPENAI_CHAT.parse_request(body, target=Target(model, bool(body.get("stream"))))
        answer = engine.answer_chat(request, seed=seed, max_answer_tokens=max_answer_tokens)
    except MockFailure as failure:
        raise MockError.of(failure) from None
    return request, answer


def chat_completion(
    body: Mapping[str, Any], *, model: str, created: int, seed: int = 0, max_answer_tokens: int = 48
) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` for ``body`` (``model`` as the upstream names it)."""
    request, answer = _chat(body, model, seed, max_answer_tokens)
    return OPENAI_CHAT.render_answer(request, answer, created=created)


def chat_chunks(
    body: Mapping[str, Any], *, model: str, created: int, seed: int = 0, max_answer_tokens: int = 48
) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed answer (``[DONE]`` excluded)."""
    request, answer = _chat(body, model, seed, max_answer_tokens)
    return OPENAI_CHAT.chunks(request, answer, created=created)


def embeddings(
    body: Mapping[str, Any],
    *,
    model: str,
    default_dimensions: int,
) -> dict[str, Any]:
    """An OpenAI ``embeddings`` response: one unit vector per input."""
    try:
        engine.check_model(model)
        request = OPENAI_EMBEDDINGS.parse_request(body, target=Target(model, False))
        answer = engine.answer_embeddings(request, default_dimensions=default_dimensions)
    except MockFailure as failure:
        raise MockError.of(failure) from None
    return OPENAI_EMBEDDINGS.render_answer(request, answer, created=0)
