"""Which wire schema the mock speaks at a provider's path, keyed by provider slug and endpoint
path next to the core's provider registry (``cf_ai_gateway.providers``).

A binding names its path either literally (``"v1/messages"``, ``fnmatch`` patterns allowed,
e.g. ``"v1/models/*:generateContent"``) for one provider, or as a function of the core's
``Provider`` for every provider (``Provider.chat_path``): so a provider added to the core, or
a ``custom-*`` one, is answered on its OpenAI-compatible paths with no change here. The first
binding that matches wins.

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

from .base import Schema
from .openai_chat import OPENAI_CHAT
from .openai_embeddings import OPENAI_EMBEDDINGS

__all__ = ["BINDINGS", "UNIFIED_CHAT", "Binding", "fallback_schema", "schema_for"]

AnySchema = Schema[Any, Any]


@dataclass(frozen=True)
class Binding:
    """``schema`` answers at ``path`` (of ``provider``, or of every provider when ``None``)."""

    schema: AnySchema
    path: str | Callable[[Provider], str | None]
    provider: str | None = None

    def matches(self, provider: Provider, path: str) -> bool:
        if self.provider is not None and self.provider != provider.slug:
            return False
        if callable(self.path):
            wanted = self.path(provider)
            return wanted is not None and wanted.strip("/") == path
        return fnmatchcase(path, self.path.strip("/"))


BINDINGS: tuple[Binding, ...] = (
    Binding(OPENAI_CHAT, path=lambda p: p.chat_path),
    Binding(OPENAI_EMBEDDINGS, path=lambda p: p.embeddings_path),
)

UNIFIED_CHAT: AnySchema = OPENAI_CHAT
"""The schema of the unified (``/compat``) and REST chat surfaces, for every provider."""

_FALLBACKS: dict[str, AnySchema] = {}
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
