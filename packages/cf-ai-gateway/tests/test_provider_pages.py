"""Every row of the provider registry against Cloudflare's provider pages.

``PAGES`` below is transcribed by hand from Cloudflare's AI Gateway documentation: the
provider-native pages under https://developers.cloudflare.com/ai-gateway/usage/providers/
(source: cloudflare/cloudflare-docs, ``src/content/docs/ai-gateway/usage/providers/*.mdx``),
plus the Unified API page (``usage/chat-completion.mdx``, its "Supported Providers" list and
each page's ``"model": "{prefix}/{model}"`` example) and the Amazon Bedrock page's "Using the
Unified API" section. Read in 2026-11; when a page changes, change its row here first, then
the registry.

Per page: the path segment of its "Endpoint", the Unified API prefix it shows (``None`` when it
shows none), the credential header of its cURL example (``scheme`` for ``Authorization``
values), a header every example sends besides the credential, and the path after the segment
that its first example calls (the OpenAI-compatible chat path where the page has one).

Notes where a page is not explicit:
- Deepgram's page shows only an SDK call that takes the key; Deepgram's SDK sends
  ``Authorization: Token <key>`` (Deepgram's own API reference), recorded as ``Token``.
- Azure OpenAI and HuggingFace put the deployment / the model in the path, so they have no
  fixed first path; Fal's path is the model (``fal-ai/fast-sdxl``).
- Neon and SaladCloud have pages too, as custom providers (``custom-{slug}``): no row needed,
  ``get_provider("custom-neon")`` covers them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cf_ai_gateway import PROVIDERS, get_provider, wire
from cf_ai_gateway.providers import auth_headers, credential_header


@dataclass(frozen=True)
class Page:
    slug: str
    unified_prefix: str | None
    credential_header: str
    scheme: str | None = None
    """``Bearer``/``Token``/``Key`` for an ``Authorization`` credential."""
    extra_header: tuple[str, str] | None = None
    first_path: str | None = None
    chat_path: str | None = None


PAGES = (
    Page("openai", "openai", "authorization", "Bearer", chat_path="chat/completions"),
    Page(
        "anthropic",
        "anthropic",
        "x-api-key",
        extra_header=("anthropic-version", "2023-06-01"),
        first_path="v1/messages",
    ),
    Page("google-ai-studio", "google-ai-studio", "x-goog-api-key", first_path="v1/models"),
    Page("google-vertex-ai", "google-vertex-ai", "authorization", "Bearer", None, "v1/projects"),
    Page("workers-ai", "workers-ai", "authorization", "Bearer", chat_path="v1/chat/completions"),
    Page("azure-openai", None, "api-key"),
    Page("aws-bedrock", "aws-bedrock", "authorization", first_path="bedrock-runtime"),
    Page("groq", "groq", "authorization", "Bearer", chat_path="chat/completions"),
    Page("mistral", "mistral", "authorization", "Bearer", chat_path="v1/chat/completions"),
    Page("cohere", "cohere", "authorization", "Token", first_path="v1/chat"),
    Page("perplexity-ai", "perplexity", "authorization", "Bearer", chat_path="chat/completions"),
    Page("grok", "grok", "authorization", "Bearer", chat_path="v1/chat/completions"),
    Page("deepseek", "deepseek", "authorization", "Bearer", chat_path="chat/completions"),
    Page("cerebras", "cerebras", "authorization", "Bearer", chat_path="chat/completions"),
    Page("openrouter", None, "authorization", "Bearer", chat_path="v1/chat/completions"),
    Page("replicate", None, "authorization", "Bearer", first_path="predictions"),
    Page("huggingface", None, "authorization", "Bearer"),
    Page("baseten", "baseten", "authorization", "Bearer", chat_path="v1/chat/completions"),
    Page(
        "cartesia",
        None,
        "x-api-key",
        extra_header=("cartesia-version", "2024-06-10"),
        first_path="tts/bytes",
    ),
    Page("elevenlabs", None, "xi-api-key", first_path="v1/text-to-speech"),
    Page("deepgram", None, "authorization", "Token", first_path="v1/listen"),
    Page("fal", None, "authorization", "Key"),
    Page("ideogram", None, "api-key", first_path="v1/ideogram-v3/generate"),
    Page("parallel", "parallel", "x-api-key", first_path="v1/tasks/runs"),
)
"""One row per provider page (see the module docstring)."""

BY_SLUG = {page.slug: page for page in PAGES}


def test_the_registry_and_the_pages_name_the_same_providers() -> None:
    assert sorted(p.slug for p in PROVIDERS) == sorted(BY_SLUG)


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.slug)
def test_registry_row_matches_its_page(provider: object) -> None:
    from cf_ai_gateway import Provider

    assert isinstance(provider, Provider)
    page = BY_SLUG[provider.slug]
    assert provider.unified_prefix == page.unified_prefix
    assert credential_header(provider) == page.credential_header
    assert provider.chat_path == page.chat_path
    first = page.first_path or page.chat_path
    if first is not None:
        assert first in (provider.native_path, provider.chat_path)
    assert dict(provider.extra_headers) == dict([page.extra_header] if page.extra_header else [])
    if provider.auth_style == "sigv4":
        return
    sent = auth_headers(provider, "k-123")
    expected = f"{page.scheme} k-123" if page.scheme else "k-123"
    assert sent[page.credential_header] == expected


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.slug)
def test_every_credential_header_is_a_secret_header(page: Page) -> None:
    """So the cassette scrubber, the scanner, reprs and error messages cover it."""
    assert page.credential_header in wire.SECRET_HEADERS


@pytest.mark.parametrize("page", [p for p in PAGES if p.unified_prefix], ids=lambda p: p.slug)
def test_unified_prefixes_find_their_provider(page: Page) -> None:
    assert page.unified_prefix is not None
    assert get_provider(page.unified_prefix).slug == page.slug


def test_custom_provider_pages_need_no_row() -> None:
    for slug in ("custom-neon", "custom-saladcloud"):
        provider = get_provider(slug)
        assert provider.chat_path == "chat/completions"
        assert credential_header(provider) == "authorization"
