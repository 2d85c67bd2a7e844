"""The provider registry: path segments, unified-model prefixes, auth styles and paths.

Some providers use a different path segment than their unified (``/compat``) model prefix:
Perplexity is ``perplexity-ai`` in the path but ``perplexity/`` in a model name. This module is
the only place that knows. Custom providers are ``custom-{slug}`` in both places.

Paths with and without ``v1/``: the gateway serves every OpenAI-compatible endpoint (chat
completions, embeddings, responses) of every provider that has one with and without a
leading ``v1/`` (``openai/chat/completions`` and ``openai/v1/chat/completions``, likewise
``mistral/chat/completions`` next to ``mistral/v1/chat/completions``), on provider-native URLs
and as a universal step's ``endpoint``; Cloudflare's pages and its own JavaScript client use
both forms. ``chat_path`` / ``embeddings_path`` / ``native_path`` below are the one canonical
form each provider is addressed with here; the core builds every URL with that form on a
parsed gateway URL (``urls`` normalises a pasted ``.../openai/v1``), so it never doubles ``/v1``.

>>> get_provider("perplexity").slug
'perplexity-ai'
>>> split_model("workers-ai/@cf/meta/llama-3.1-8b-instruct")
('workers-ai', '@cf/meta/llama-3.1-8b-instruct')

The rows follow Cloudflare's provider pages (developers.cloudflare.com/ai-gateway/usage/
providers/), one page per provider: its path segment, the ``{prefix}/{model}`` the page shows
for the Unified API, the credential header of its examples and, where the page shows one, its
OpenAI-compatible chat path. ``tests/test_providers.py`` checks every row against a table
transcribed from those pages. Providers Cloudflare documents as custom providers (Neon,
SaladCloud) are ``custom-{slug}`` and need no row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from . import wire

AuthStyle = Literal[
    "bearer", "token", "key", "x-api-key", "x-goog-api-key", "api-key", "xi-api-key", "sigv4"
]
"""How a provider takes its key: ``Authorization: Bearer|Token|Key <key>`` (``bearer``,
``token``, ``key``), the key alone in a header of that name (``x-api-key``, ``x-goog-api-key``,
``api-key``, ``xi-api-key``), or AWS SigV4 signing (``sigv4``: BYOK, or sign it yourself)."""

_SCHEMES: dict[str, str] = {"bearer": "Bearer", "token": "Token", "key": "Key"}

__all__ = [
    "AuthStyle",
    "DYNAMIC_PREFIX",
    "PROVIDERS",
    "Provider",
    "auth_headers",
    "check_chat_model",
    "check_step_model",
    "credential_header",
    "get_provider",
    "is_provider_segment",
    "split_model",
]

DYNAMIC_PREFIX = "dynamic"
"""``dynamic/{route}`` selects a dynamic route on the unified endpoint."""

_CUSTOM_RE = re.compile(r"^custom-[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Provider:
    """One provider as the gateway addresses it.

    ``slug`` is the provider-native path segment, ``unified_prefix`` the model prefix on the
    unified endpoint (``None`` where the provider is not on it), ``chat_path`` and
    ``embeddings_path`` the OpenAI-compatible paths after the segment (``None`` where the
    provider has none), ``extra_headers`` headers the provider requires besides its credential.
    """

    name: str
    slug: str
    unified_prefix: str | None
    auth_style: AuthStyle
    chat_path: str | None = None
    embeddings_path: str | None = None
    native_path: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    aliases: tuple[str, ...] = field(default=())

    @property
    def version_in_path(self) -> bool:
        """Whether the gateway path after the segment carries the upstream's ``v1``."""
        return any(
            p is not None and p.startswith("v1/")
            for p in (self.chat_path, self.embeddings_path, self.native_path)
        )


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        name="OpenAI",
        slug="openai",
        unified_prefix="openai",
        auth_style="bearer",
        chat_path="chat/completions",
        embeddings_path="embeddings",
        native_path="responses",
    ),
    Provider(
        name="Anthropic",
        slug="anthropic",
        unified_prefix="anthropic",
        auth_style="x-api-key",
        native_path="v1/messages",
        extra_headers=(("anthropic-version", "2023-06-01"),),
    ),
    Provider(
        name="Google AI Studio",
        slug="google-ai-studio",
        unified_prefix="google-ai-studio",
        auth_style="x-goog-api-key",
        native_path="v1/models",
        aliases=("google", "gemini"),
    ),
    Provider(
        name="Google Vertex AI",
        slug="google-vertex-ai",
        unified_prefix="google-vertex-ai",
        auth_style="bearer",
        native_path="v1/projects",
        aliases=("vertex", "vertex-ai"),
    ),
    Provider(
        name="Workers AI",
        slug="workers-ai",
        unified_prefix="workers-ai",
        auth_style="bearer",
        chat_path="v1/chat/completions",
        embeddings_path="v1/embeddings",
        aliases=("workers", "cloudflare"),
    ),
    Provider(
        name="Azure OpenAI",
        slug="azure-openai",
        unified_prefix=None,
        auth_style="api-key",
        aliases=("azure",),
    ),
    Provider(
        name="Amazon Bedrock",
        slug="aws-bedrock",
        unified_prefix="aws-bedrock",
        auth_style="sigv4",
        native_path="bedrock-runtime",
        aliases=("bedrock",),
    ),
    Provider(
        name="Groq",
        slug="groq",
        unified_prefix="groq",
        auth_style="bearer",
        chat_path="chat/completions",
        embeddings_path="embeddings",
    ),
    Provider(
        name="Mistral",
        slug="mistral",
        unified_prefix="mistral",
        auth_style="bearer",
        chat_path="v1/chat/completions",
        embeddings_path="v1/embeddings",
        aliases=("mistralai",),
    ),
    Provider(
        name="Cohere",
        slug="cohere",
        unified_prefix="cohere",
        auth_style="token",
        native_path="v1/chat",
    ),
    Provider(
        name="Perplexity",
        slug="perplexity-ai",
        unified_prefix="perplexity",
        auth_style="bearer",
        chat_path="chat/completions",
        aliases=("perplexity",),
    ),
    Provider(
        name="xAI",
        slug="grok",
        unified_prefix="grok",
        auth_style="bearer",
        chat_path="v1/chat/completions",
        aliases=("xai",),
    ),
    Provider(
        name="DeepSeek",
        slug="deepseek",
        unified_prefix="deepseek",
        auth_style="bearer",
        chat_path="chat/completions",
    ),
    Provider(
        name="Cerebras",
        slug="cerebras",
        unified_prefix="cerebras",
        auth_style="bearer",
        chat_path="chat/completions",
    ),
    Provider(
        name="OpenRouter",
        slug="openrouter",
        unified_prefix=None,
        auth_style="bearer",
        chat_path="v1/chat/completions",
        embeddings_path="v1/embeddings",
    ),
    Provider(
        name="Replicate",
        slug="replicate",
        unified_prefix=None,
        auth_style="bearer",
        native_path="predictions",
    ),
    Provider(
        name="HuggingFace",
        slug="huggingface",
        unified_prefix=None,
        auth_style="bearer",
        aliases=("hf",),
    ),
    Provider(
        name="Baseten",
        slug="baseten",
        unified_prefix="baseten",
        auth_style="bearer",
        chat_path="v1/chat/completions",
    ),
    Provider(
        name="Cartesia",
        slug="cartesia",
        unified_prefix=None,
        auth_style="x-api-key",
        native_path="tts/bytes",
        extra_headers=(("cartesia-version", "2024-06-10"),),
    ),
    Provider(
        name="ElevenLabs",
        slug="elevenlabs",
        unified_prefix=None,
        auth_style="xi-api-key",
        native_path="v1/text-to-speech",
    ),
    Provider(
        name="Deepgram",
        slug="deepgram",
        unified_prefix=None,
        auth_style="token",
        native_path="v1/listen",
    ),
    Provider(
        name="Fal AI",
        slug="fal",
        unified_prefix=None,
        auth_style="key",
        aliases=("fal-ai",),
    ),
    Provider(
        name="Ideogram",
        slug="ideogram",
        unified_prefix=None,
        auth_style="api-key",
        native_path="v1/ideogram-v3/generate",
    ),
    Provider(
        name="Parallel",
        slug="parallel",
        unified_prefix="parallel",
        auth_style="x-api-key",
        native_path="v1/tasks/runs",
    ),
)

_BY_KEY: dict[str, Provider] = {}
for _p in PROVIDERS:
    for _key in (_p.slug, _p.unified_prefix, *_p.aliases):
        if _key is not None:
            _BY_KEY.setdefault(_key, _p)


def get_provider(name: str | Provider) -> Provider:
    """Look a provider up by path segment, unified prefix or alias (``custom-*`` included).

    Raises ``ValueError`` naming the known providers when ``name`` is none of them.
    """
    if isinstance(name, Provider):
        return name
    key = name.strip().lower()
    found = _BY_KEY.get(key)
    if found is not None:
        return found
    if _CUSTOM_RE.match(key):
        # Custom providers speak whatever their upstream speaks; OpenAI-compatible is the
        # common case and the only one we can build paths for.
        return Provider(
            name=f"Custom ({key})",
            slug=key,
            unified_prefix=key,
            auth_style="bearer",
            chat_path="chat/completions",
            embeddings_path="embeddings",
        )
    known = ", ".join(sorted(p.slug for p in PROVIDERS))
    raise ValueError(f"unknown provider {name!r}: expected one of {known}, or 'custom-{{slug}}'")


def is_provider_segment(segment: str) -> bool:
    """Whether a URL path segment names a provider: a path segment, unified prefix or alias of
    the registry (exact spelling), or ``custom-{slug}``.

    >>> is_provider_segment("openai"), is_provider_segment("custom-llm"), is_provider_segment("v1")
    (True, True, False)
    """
    return segment in _BY_KEY or bool(_CUSTOM_RE.match(segment))


def split_model(model: str) -> tuple[str, str]:
    """Split a unified model name ``"{provider}/{model}"`` into its two parts.

    The model part may itself contain slashes (``workers-ai/@cf/meta/...``,
    ``google-vertex-ai/google/gemini-2.5-pro``).
    """
    if not isinstance(model, str) or "/" not in model:
        raise ValueError(
            f"model {model!r} must be '{{provider}}/{{model}}' (for example "
            "'openai/gpt-4o-mini'), or 'dynamic/{route}'"
        )
    provider, _, rest = model.partition("/")
    if not provider or not rest:
        raise ValueError(
            f"model {model!r} must be '{{provider}}/{{model}}' with both parts non-empty"
        )
    return provider, rest


def credential_header(provider: str | Provider) -> str:
    """The (lower-case) header a provider's key travels in on its native path: ``authorization``
    for the ``Bearer``/``Token``/``Key`` schemes and SigV4, else the header of that name.

    >>> credential_header("elevenlabs"), credential_header("fal")
    ('xi-api-key', 'authorization')
    """
    style = get_provider(provider).auth_style
    return "authorization" if style in (*_SCHEMES, "sigv4") else style


def auth_headers(provider: Provider, api_key: str | None) -> dict[str, str]:
    """The provider credential header(s) for ``api_key``, with the headers the provider always
    needs (``anthropic-version``, ``cartesia-version``); no credential at all without a key.

    With BYOK or Unified Billing the gateway injects the stored key only when the request
    carries no credential header, so ``None`` must produce no credential header.

    >>> auth_headers(get_provider("fal"), "k-1")
    {'authorization': 'Key k-1'}
    """
    headers = dict(provider.extra_headers)
    if api_key is None:
        return headers
    if provider.auth_style == "sigv4":
        raise ValueError(
            f"provider {provider.slug!r} needs AWS SigV4 signing against the original AWS URL; "
            "sign the request yourself or use BYOK"
        )
    scheme = _SCHEMES.get(provider.auth_style)
    if scheme is not None:
        headers["authorization"] = f"{scheme} {api_key}"
    else:
        headers[provider.auth_style] = api_key
    return headers


def check_chat_model(model: str, surface: str) -> Provider | None:
    """Check that ``surface`` can reach the chat ``model``; return its provider (``None`` for a
    dynamic route, the Auto Router's ``cloudflare/auto``, or the REST surface, whose catalogue
    names are the API's call).

    Raises ``ValueError`` naming the model and the rule, so callers can fail before sending:
    an unknown provider, a dynamic route off the unified endpoint, ``cloudflare/auto`` on a
    provider-native path, a provider that is not on the unified endpoint, or one without an
    OpenAI-compatible chat path on its native surface.

    >>> check_chat_model("cloudflare/auto", "compat") is None
    True
    """
    if not isinstance(model, str) or not model.strip():
        raise ValueError(
            f"model={model!r}: expected '{{provider}}/{{model}}' or 'dynamic/{{route}}'"
        )
    if surface == "rest":
        return None
    if model == wire.AUTO_MODEL:
        if surface != "compat":
            raise ValueError(
                f"model={model!r}: the Auto Router answers on the unified endpoint "
                "(surface='compat') and the REST API (surface='rest'), not on a provider's path"
            )
        return None
    provider_name, _ = split_model(model)
    if provider_name == DYNAMIC_PREFIX:
        if surface != "compat":
            raise ValueError(
                f"model={model!r}: dynamic routes exist only on the unified endpoint "
                "(surface='compat')"
            )
        return None
    provider = get_provider(provider_name)
    if surface == "compat" and provider.unified_prefix is None:
        raise ValueError(
            f"model={model!r}: provider {provider.slug!r} is not on the unified /compat "
            "endpoint; use surface='provider'"
        )
    if surface == "provider" and provider.chat_path is None:
        raise ValueError(
            f"model={model!r}: provider {provider.slug!r} has no OpenAI-compatible chat path "
            "on the provider-native surface; use surface='compat'"
        )
    return provider


def check_step_model(model: str) -> Provider:
    """Check that ``model`` can be a chat step of a universal (fallback) request."""
    if model == wire.AUTO_MODEL:
        raise ValueError(
            f"model={model!r}: the Auto Router cannot be a universal step (it falls back to "
            "the next model of its own pool)"
        )
    provider_name, _ = split_model(model)
    if provider_name == DYNAMIC_PREFIX:
        raise ValueError(
            f"model={model!r}: a dynamic route cannot be a universal step (a dynamic route "
            "defines its own fallbacks)"
        )
    provider = get_provider(provider_name)
    if provider.chat_path is None:
        raise ValueError(
            f"model={model!r}: provider {provider.slug!r} has no OpenAI-compatible chat path, "
            "so it cannot be a universal chat step; build the UniversalStep with its native "
            "endpoint and body instead"
        )
    return provider
