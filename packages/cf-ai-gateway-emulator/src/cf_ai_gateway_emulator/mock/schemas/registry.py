"""Which wire schema the mock speaks at a provider's path, keyed by provider slug and endpoint
path next to the core's provider registry (``cf_ai_gateway.providers``).

A binding names its path either literally (``"v1/messages"``, ``fnmatch`` patterns allowed,
e.g. ``"v1/models/*:generateContent"``) for one provider, or as a function of the core's
``Provider`` for every provider (``Provider.chat_path``): so a provider added to the core, or
a ``custom-*`` one, is answered on its OpenAI-compatible paths with no change here. The first
binding that matches wins.

OpenAI-compatible endpoints (chat completions, embeddings, responses) are served with and
without a leading ``v1/`` (``openai/chat/completions`` and ``openai/v1/chat/completions``,
``mistral/v1/chat/completions`` and ``mistral/chat/completions``), on provider-native paths and
in universal steps, as the gateway does (``cf_ai_gateway.providers`` records the rule):
bindings made with ``v1_optional=True`` (every function-of-``Provider`` binding) compare paths
without it.

Adding a schema: write ``mock/schemas/<name>.py`` implementing ``Schema``, then add one
``Binding`` to ``BINDINGS`` (and, if the provider's own errors look different, an entry to
``_FALLBACKS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from cf_ai_gateway.providers import Provider, get_provider

from .anthropic_messages import ANTHROPIC_COUNT_TOKENS, ANTHROPIC_MESSAGES
from .base import Schema
from .google_ai_studio import GOOGLE_COUNT_TOKENS, GOOGLE_EMBEDDINGS, GOOGLE_GENERATE
from .openai_chat import OPENAI_CHAT
from .openai_embeddings import OPENAI_EMBEDDINGS
from .openai_responses import OPENAI_RESPONSES
from .workers_ai import WORKERS_AI_EMBEDDINGS, WORKERS_AI_TEXT

__all__ = [
    "BINDINGS",
    "REST_COUNT_TOKENS",
    "REST_MESSAGES",
    "REST_RESPONSES",
    "UNIFIED_CHAT",
    "Binding",
    "fallback_schema",
    "schema_for",
    "without_v1",
]

AnySchema = Schema[Any, Any]


_V1 = "v1/"


def without_v1(path: str) -> str:
    """``path`` without a leading ``v1/`` (and surrounding slashes)."""
    path = path.strip("/")
    return path[len(_V1) :] if path.startswith(_V1) else path


@dataclass(frozen=True)
class Binding:
    """``schema`` answers at ``path`` (of ``provider``, or of every provider when ``None``);
    ``v1_optional``: a leading ``v1/`` may be present or not (OpenAI-compatible endpoints;
    always so for a function of ``Provider``)."""

    schema: AnySchema
    path: str | Callable[[Provider], str | None]
    provider: str | None = None
    v1_optional: bool = False

    def matches(self, provider: Provider, path: str) -> bool:
        if self.provider is not None and self.provider != provider.slug:
            return False
        if callable(self.path):
            wanted = self.path(provider)
            return wanted is not None and without_v1(wanted) == without_v1(path)
        pattern = self.path.strip("/")
        if self.v1_optional:
            return fnmatchcase(without_v1(path), without_v1(pattern))
        return fnmatchcase(path, pattern)


def _responses_path(provider: Provider) -> str | None:
    """``responses`` next to every OpenAI-compatible chat path (OpenAI's own, and the
    compatible providers' and custom providers' for the mock)."""
    return "responses" if provider.chat_path is not None else None


BINDINGS: tuple[Binding, ...] = (
    Binding(OPENAI_CHAT, path=lambda p: p.chat_path),
    Binding(OPENAI_EMBEDDINGS, path=lambda p: p.embeddings_path),
    Binding(OPENAI_RESPONSES, path=_responses_path),
    Binding(ANTHROPIC_MESSAGES, "v1/messages", provider="anthropic"),
    Binding(ANTHROPIC_COUNT_TOKENS, "v1/messages/count_tokens", provider="anthropic"),
    Binding(GOOGLE_GENERATE, "v1*/models/*:generateContent", provider="google-ai-studio"),
    Binding(GOOGLE_GENERATE, "v1*/models/*:streamGenerateContent", provider="google-ai-studio"),
    Binding(GOOGLE_COUNT_TOKENS, "v1*/models/*:countTokens", provider="google-ai-studio"),
    Binding(GOOGLE_EMBEDDINGS, "v1*/models/*:embedContent", provider="google-ai-studio"),
    Binding(GOOGLE_EMBEDDINGS, "v1*/models/*:batchEmbedContents", provider="google-ai-studio"),
    Binding(WORKERS_AI_EMBEDDINGS, "@cf/baai/*", provider="workers-ai"),
    Binding(WORKERS_AI_EMBEDDINGS, "@cf/*embed*", provider="workers-ai"),
    Binding(WORKERS_AI_TEXT, "@cf/*", provider="workers-ai"),
    Binding(WORKERS_AI_TEXT, "@hf/*", provider="workers-ai"),
)

UNIFIED_CHAT: AnySchema = OPENAI_CHAT
"""The schema of the unified (``/compat``) and REST chat surfaces, for every provider."""
REST_RESPONSES: AnySchema = OPENAI_RESPONSES
"""The REST API's ``/ai/v1/responses``, for every provider."""
REST_MESSAGES: AnySchema = ANTHROPIC_MESSAGES
"""The REST API's ``/ai/v1/messages``, for every provider."""
REST_COUNT_TOKENS: AnySchema = ANTHROPIC_COUNT_TOKENS
"""The REST API's ``/ai/v1/messages/count_tokens``, for every provider."""

_FALLBACKS: dict[str, AnySchema] = {
    "anthropic": ANTHROPIC_MESSAGES,
    "google-ai-studio": GOOGLE_GENERATE,
    "workers-ai": WORKERS_AI_TEXT,
}
"""Provider slug -> the schema of its own error bodies, where it is not OpenAI's."""


def schema_for(provider: str, path: str) -> AnySchema | None:
    """The schema the mock answers in at ``provider``/``path`` (``None``: no such endpoint)."""
    try:
        found = get_provider(provider)
    except ValueError:
        return None
    path = path.strip("/")
    return next((b.schema for b in BINDINGS if b.matches(found, path)), None)


def fallback_schema(provider: str) -> AnySchema:
    """The schema for a provider path without a binding: it renders the mock's errors there
    and reads usage from pass-through answers (OpenAI's, unless ``_FALLBACKS`` says other)."""
    return _FALLBACKS.get(provider, OPENAI_CHAT)
