"""Prices for LiteLLM's cost tracking.

LiteLLM prices a response of ``cloudflare-ai-gateway/openai/gpt-4o-mini`` under that very key,
which its cost map does not have, so ``response_cost`` would be ``None`` (or ``0.0`` under a
Router, which inserts a price-less placeholder entry at construction). Before the first
response of a model, :func:`ensure_priced` copies the upstream model's entry
(``gpt-4o-mini``; Workers AI's ``cloudflare/@cf/...``; ...) under our key: SDK, Router and
proxy, streams included, then price it like the built-in provider. Prices you set yourself
(``input_cost_per_token`` on a deployment, ``litellm.register_model``) are never replaced,
unless they are zero for both input and output (what the Router's placeholders look like).
"""

from __future__ import annotations

import threading
from typing import Any

import litellm
from cf_ai_gateway import get_provider, split_model

from ._errors import PROVIDER

__all__ = ["answered_model_cost", "ensure_priced", "pricing_key"]

_LITELLM_PREFIX = {
    # gateway provider slug -> LiteLLM's provider prefix in its cost map, where they differ
    "workers-ai": "cloudflare",
    "google-ai-studio": "gemini",
    "google-vertex-ai": "vertex_ai",
    "aws-bedrock": "bedrock",
    "azure-openai": "azure",
    "grok": "xai",
    "perplexity-ai": "perplexity",
}
_UNPRICED: set[str] = set()
_LOCK = threading.Lock()


def pricing_key(model: str) -> str:
    """The key LiteLLM prices ``model`` (as our handler receives it) under."""
    return f"{PROVIDER}/{model}"


def _has_price(entry: Any) -> bool:
    """Whether a cost-map entry prices tokens. An entry whose token prices are both absent or
    zero does not: LiteLLM's Router inserts such placeholders for every deployment's model
    (``{"id": ...}``, or on 1.80 a whole entry at ``0``), so "the key exists" is no test."""
    return isinstance(entry, dict) and bool(
        entry.get("input_cost_per_token") or entry.get("output_cost_per_token")
    )


def _upstream_entry(model: str) -> dict[str, Any] | None:
    try:
        provider_name, name = split_model(model)
        slug = get_provider(provider_name).slug
    except ValueError:
        return None  # dynamic routes, unknown prefixes: no upstream known before the answer
    prefix = _LITELLM_PREFIX.get(slug, slug)
    for candidate in (f"{prefix}/{name}", name):
        entry = litellm.model_cost.get(candidate)
        if isinstance(entry, dict) and _has_price(entry):
            return dict(entry)
    try:
        info = litellm.get_model_info(f"{prefix}/{name}")
    except Exception:  # LiteLLM raises a bare Exception for models it does not map
        return None
    key = info.get("key")
    entry = litellm.model_cost.get(key) if isinstance(key, str) else None
    if isinstance(entry, dict) and _has_price(entry):
        return dict(entry)
    return dict(info) if _has_price(info) else None


def ensure_priced(model: str, upstream: str | None = None) -> bool:
    """Make sure LiteLLM can price ``model`` (as the handler received it, e.g.
    ``"openai/gpt-4o-mini"``) under our provider, from the prices of ``upstream`` (the
    qualified model sent to the gateway; default ``model``); returns whether it can. Cheap
    after the first call for a model."""
    key = pricing_key(model)
    if _has_price(litellm.model_cost.get(key)):
        return True
    if model in _UNPRICED:
        return False
    with _LOCK:
        if _has_price(litellm.model_cost.get(key)):
            return True
        entry = _upstream_entry(upstream or model)
        if entry is None:
            _UNPRICED.add(model)
            return False
        entry["litellm_provider"] = PROVIDER
        litellm.register_model({key: entry})
    return True


def answered_model_cost(model: str, response: Any) -> float | None:
    """The cost of ``response`` priced as ``model`` (the model that actually answered, after a
    server-side fallback or a dynamic route), or ``None`` when LiteLLM cannot price it."""
    if not ensure_priced(model):
        return None
    try:
        return float(
            litellm.completion_cost(
                completion_response=response,
                model=pricing_key(model),
                custom_llm_provider=PROVIDER,
            )
        )
    except Exception:  # an unpriced or malformed answer: leave it to LiteLLM
        return None
