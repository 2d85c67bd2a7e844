from __future__ import annotations

import re

import pytest
from cf_ai_gateway import PROVIDERS, get_provider, split_model, wire
from cf_ai_gateway.providers import (
    auth_headers,
    check_chat_model,
    check_step_model,
    is_provider_segment,
)


@pytest.mark.parametrize(
    ("name", "slug", "prefix"),
    [
        ("openai", "openai", "openai"),
        ("perplexity", "perplexity-ai", "perplexity"),
        ("perplexity-ai", "perplexity-ai", "perplexity"),
        ("grok", "grok", "grok"),
        ("xai", "grok", "grok"),
        ("Workers-AI", "workers-ai", "workers-ai"),
        (" anthropic ", "anthropic", "anthropic"),
        ("google", "google-ai-studio", "google-ai-studio"),
        ("azure", "azure-openai", None),
        ("openrouter", "openrouter", None),
    ],
)
def test_slug_vs_unified_prefix(name: str, slug: str, prefix: str | None) -> None:
    p = get_provider(name)
    assert p.slug == slug
    assert p.unified_prefix == prefix
    assert get_provider(p) is p


def test_custom_provider() -> None:
    p = get_provider("custom-acme_1")
    assert p.slug == "custom-acme_1"
    assert p.unified_prefix == "custom-acme_1"
    assert p.chat_path == "chat/completions"
    assert p.auth_style == "bearer"


@pytest.mark.parametrize("name", ["nope", "custom-", "custom-ACME!", "custom"])
def test_unknown_provider_names_known_ones(name: str) -> None:
    with pytest.raises(ValueError, match="unknown provider") as exc_info:
        get_provider(name)
    msg = str(exc_info.value)
    assert repr(name) in msg
    for slug in ("openai", "anthropic", "perplexity-ai", "grok", "workers-ai"):
        assert slug in msg
    assert "custom-{slug}" in msg


def test_registry_slugs_unique_and_version_flags() -> None:
    slugs = [p.slug for p in PROVIDERS]
    assert len(slugs) == len(set(slugs))
    assert not get_provider("openai").version_in_path
    assert not get_provider("groq").version_in_path
    assert get_provider("anthropic").version_in_path
    assert get_provider("workers-ai").version_in_path
    assert get_provider("mistral").version_in_path


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("openai/gpt-4o-mini", ("openai", "gpt-4o-mini")),
        (
            "workers-ai/@cf/meta/llama-3.1-8b-instruct",
            ("workers-ai", "@cf/meta/llama-3.1-8b-instruct"),
        ),
        ("google-vertex-ai/google/gemini-2.5-pro", ("google-vertex-ai", "google/gemini-2.5-pro")),
        ("dynamic/support", ("dynamic", "support")),
        ("a/b/", ("a", "b/")),
    ],
)
def test_split_model(model: str, expected: tuple[str, str]) -> None:
    assert split_model(model) == expected


@pytest.mark.parametrize("model", ["gpt-4o", "/gpt-4o", "openai/", "", "/", 42, None])
def test_split_model_rejects(model: object) -> None:
    with pytest.raises(ValueError, match="model") as exc_info:
        split_model(model)  # type: ignore[arg-type]
    assert repr(model) in str(exc_info.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("openai", {"authorization": "Bearer k-123"}),
        ("anthropic", {"x-api-key": "k-123", "anthropic-version": "2023-06-01"}),
        ("google-ai-studio", {"x-goog-api-key": "k-123"}),
        ("azure-openai", {"api-key": "k-123"}),
        ("custom-acme", {"authorization": "Bearer k-123"}),
        ("elevenlabs", {"xi-api-key": "k-123"}),
        ("fal", {"authorization": "Key k-123"}),
        ("cohere", {"authorization": "Token k-123"}),
        ("cartesia", {"x-api-key": "k-123", "cartesia-version": "2024-06-10"}),
    ],
)
def test_auth_headers_styles(name: str, expected: dict[str, str]) -> None:
    assert auth_headers(get_provider(name), "k-123") == expected


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.slug)
def test_auth_headers_byok_sends_no_credential(provider: object) -> None:
    from cf_ai_gateway import Provider

    assert isinstance(provider, Provider)
    headers = auth_headers(provider, None)
    assert {k.lower() for k in headers} & set(wire.SECRET_HEADERS) == set()
    assert headers == dict(provider.extra_headers)


def test_sigv4_with_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="SigV4"):
        auth_headers(get_provider("bedrock"), "AKIA...")


# --- early model checks shared by the client and every adapter ------------------------------


@pytest.mark.parametrize(
    ("model", "surface", "slug"),
    [
        ("openai/gpt-4o-mini", "compat", "openai"),
        ("perplexity/sonar", "compat", "perplexity-ai"),
        ("mistral/mistral-small", "provider", "mistral"),
        ("custom-acme/m1", "provider", "custom-acme"),
        ("dynamic/support", "compat", None),
        ("cloudflare/auto", "compat", None),
        ("cloudflare/auto", "rest", None),
        ("baseten/openai/gpt-oss-120b", "compat", "baseten"),
        ("baseten/openai/gpt-oss-120b", "provider", "baseten"),
        ("parallel/speed", "compat", "parallel"),
        ("openai/gpt-4o-mini", "rest", None),
        ("@cf/meta/llama-3.1-8b-instruct", "rest", None),
    ],
)
def test_check_chat_model_accepts(model: str, surface: str, slug: str | None) -> None:
    provider = check_chat_model(model, surface)
    assert (provider.slug if provider else None) == slug


@pytest.mark.parametrize(
    ("model", "surface", "named"),
    [
        ("gpt-4o-mini", "compat", "gpt-4o-mini"),
        ("nosuch/x", "compat", "nosuch"),
        ("azure-openai/gpt-4o", "compat", "azure-openai"),
        ("dynamic/support", "provider", "dynamic/support"),
        ("anthropic/claude-3-5-haiku", "provider", "anthropic"),
        ("cloudflare/auto", "provider", "Auto Router"),
        ("parallel/speed", "provider", "parallel"),
        ("", "compat", "''"),
    ],
)
def test_check_chat_model_rejects_naming_the_value(model: str, surface: str, named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)):
        check_chat_model(model, surface)


@pytest.mark.parametrize(
    ("model", "named"),
    [
        ("dynamic/support", "dynamic route"),
        ("cloudflare/auto", "Auto Router"),
        ("anthropic/claude-3-5-haiku", "anthropic"),
        ("llama", "llama"),
    ],
)
def test_check_step_model_rejects(model: str, named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)):
        check_step_model(model)


def test_check_step_model_returns_provider() -> None:
    assert check_step_model("groq/llama-3.1-8b-instant").slug == "groq"


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("openai", True),
        ("perplexity-ai", True),  # path segment
        ("perplexity", True),  # unified prefix
        ("gemini", True),  # alias
        ("custom-my-llm", True),
        ("custom-", False),
        ("compat", False),  # a surface, not a provider
        ("v1", False),
        ("OpenAI", False),  # URL segments are matched as written
        ("", False),
    ],
)
def test_is_provider_segment(segment: str, expected: bool) -> None:
    assert is_provider_segment(segment) is expected


def test_every_registered_name_is_a_provider_segment() -> None:
    for p in PROVIDERS:
        for key in (p.slug, p.unified_prefix, *p.aliases):
            if key is not None:
                assert is_provider_segment(key), key
