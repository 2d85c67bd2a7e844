"""The provider registry: path segments, unified-model prefixes, auth styles and paths.

Some providers use a different path segment than their unified (``/compat``) model prefix:
Perplexity is ``perplexity-ai`` in the path but ``perplexity/`` in a model name. This module is
the only place that knows. Custom providers are ``custom-{slug}`` in both places.

>>> get_provider("perplexity").slug
'perplexity-ai'
>>> split_model("workers-ai/@cf/meta/llama-3.1-8b-instruct")
('workers-ai', '@cf/meta/llama-3.1-8b-instruct')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

AuthStyle = Literal["bearer", "x-api-key", "x-goog-api-key", "api-key", "sigv4"]

__all__ = [
    "AuthStyle",
    "DYNAMIC_PREFIX",
    "PROVIDERS",
    "Provider",
    "auth_headers",
    "check_chat_model",
    "check_step_model",
    "get_provider",
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
    Provider("OpenAI", "openai", "openai", "bearer", "chat/completions", "embeddings", "responses"),
    Provider(
        "Anthropic",
        "anthropic",
        "anthropic",
        "x-api-key",
        None,
        None,
        "v1/messages",
        extra_headers=(("anthropic-version", "2023-06-01"),),
    ),
    Provider(
        "Google AI Studio",
        "google-ai-studio",
        "google-ai-studio",
        "x-goog-api-key",
        None,
        None,
        "v1/models",
        aliases=("google", "gemini"),
    ),
    Provider(
        "Google Vertex AI",
        "google-vertex-ai",
        "google-vertex-ai",
        "bearer",
        None,
        None,
        "v1/projects",
        aliases=("vertex", "vertex-ai"),
    ),
    Provider(
        "Workers AI",
        "workers-ai",
        "workers-ai",
        "bearer",
        "v1/chat/completions",
        "v1/embeddings",
        aliases=("workers", "cloudflare"),
    ),
    Provider("Azure OpenAI", "azure-openai", None, "api-key", None, None, None, aliases=("azure",)),
    Provider(
        "Amazon Bedrock",
        "aws-bedrock",
        "aws-bedrock",
        "sigv4",
        None,
        None,
        "bedrock-runtime",
        aliases=("bedrock",),
    ),
    Provider("Groq", "groq", "groq", "bearer", "chat/completions", "embeddings"),
    Provider(
        "Mistral",
        "mistral",
        "mistral",
        "bearer",
        "v1/chat/completions",
        "v1/embeddings",
        aliases=("mistralai",),
    ),
    Provider("Cohere", "cohere", "cohere", "bearer", None, None, "v1/chat"),
    Provider(
        "Perplexity",
        "perplexity-ai",
        "perplexity",
        "bearer",
        "chat/completions",
        aliases=("perplexity",),
    ),
    Provider("xAI", "grok", "grok", "bearer", "v1/chat/completions", aliases=("xai",)),
    Provider("DeepSeek", "deepseek", "deepseek", "bearer", "chat/completions"),
    Provider("Cerebras", "cerebras", "cerebras", "bearer", "chat/completions"),
    Provider("OpenRouter", "openrouter", None, "bearer", "v1/chat/completions", "v1/embeddings"),
    Provider("Replicate", "replicate", None, "bearer", None, None, "v1/predictions"),
    Provider("HuggingFace", "huggingface", None, "bearer", None, None, None, aliases=("hf",)),
    Provider("Baseten", "baseten", None, "api-key", None, None, None),
    Provider("Cartesia", "cartesia", None, "x-api-key", None, None, None),
    Provider("ElevenLabs", "elevenlabs", None, "x-api-key", None, None, None),
    Provider("Deepgram", "deepgram", None, "bearer", None, None, None),
    Provider("Fal", "fal", None, "bearer", None, None, None),
    Provider("Ideogram", "ideogram", None, "api-key", None, None, None),
    Provider("Parallel", "parallel", None, "x-api-key", None, None, None),
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
        return Provider(f"Custom ({key})", key, key, "bearer", "chat/completions", "embeddings")
    known = ", ".join(sorted(p.slug for p in PROVIDERS))
    raise ValueError(f"unknown provider {name!r}: expected one of {known}, or 'custom-{{slug}}'")


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


def auth_headers(provider: Provider, api_key: str | None) -> dict[str, str]:
    """The provider credential header(s) for ``api_key``; none at all without a key.

    With BYOK or Unified Billing the gateway injects the stored key only when the request
    carries no credential header, so ``None`` must produce an empty mapping.
    """
    headers = dict(provider.extra_headers)
    if api_key is None:
        return headers
    if provider.auth_style == "sigv4":
        raise ValueError(
            f"provider {provider.slug!r} needs AWS SigV4 signing against the original AWS URL; "
            "sign the request yourself or use BYOK"
        )
    if provider.auth_style == "bearer":
        headers["authorization"] = f"Bearer {api_key}"
    else:
        headers[provider.auth_style] = api_key
    return headers


def check_chat_model(model: str, surface: str) -> Provider | None:
    """Check that ``surface`` can reach the chat ``model``; return its provider (``None`` for a
    dynamic route or the REST surface, whose catalogue names are the API's call).

    Raises ``ValueError`` naming the model and the rule, so callers can fail before sending:
    an unknown provider, a dynamic route off the unified endpoint, a provider that is not on
    the unified endpoint, or one without an OpenAI-compatible chat path on its native surface.
    """
    if not isinstance(model, str) or not model.strip():
        raise ValueError(
            f"model={model!r}: expected '{{provider}}/{{model}}' or 'dynamic/{{route}}'"
        )
    if surface == "rest":
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
