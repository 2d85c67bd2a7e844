"""Raw universal requests (a JSON array of steps) with every endpoint form a client sends:
OpenAI's with and without ``v1/`` (Cloudflare's JS client sends ``v1/chat/completions``),
``compat`` steps (a model, a dynamic route), Anthropic's ``v1/messages``, Google's
``models/{model}:generateContent`` and Workers AI's ``@cf/...``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cf_ai_gateway import wire

CHAT = [{"role": "user", "content": "What is Cloudflare?"}]
STEPS = {
    "openai": ("openai", "chat/completions", {"model": "gpt-4o-mini", "messages": CHAT}),
    "openai-v1": ("openai", "v1/chat/completions", {"model": "gpt-4o-mini", "messages": CHAT}),
    "cerebras-v1": ("cerebras", "v1/chat/completions", {"model": "llama", "messages": CHAT}),
    "mistral": ("mistral", "chat/completions", {"model": "small", "messages": CHAT}),
    "compat": ("compat", "chat/completions", {"model": "groq/llama", "messages": CHAT}),
    "compat-v1": ("compat", "v1/chat/completions", {"model": "openai/m", "messages": CHAT}),
    "compat-route": ("compat", "chat/completions", {"model": "dynamic/r", "messages": CHAT}),
    "anthropic": (
        "anthropic",
        "v1/messages",
        {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": CHAT},
    ),
    "google": (
        "google-ai-studio",
        "v1beta/models/gemini-2.5-flash:generateContent",
        {"contents": [{"role": "user", "parts": [{"text": "What is Cloudflare?"}]}]},
    ),
    "workers-ai": (
        "workers-ai",
        "@cf/meta/llama-3.1-8b-instruct",
        {"prompt": "What is Cloudflare?"},
    ),
    "workers-ai-v1": (
        "workers-ai",
        "v1/chat/completions",
        {"model": "@cf/meta/llama-3.1-8b-instruct", "messages": CHAT},
    ),
}


ROUTE = {
    "name": "r",
    "elements": [
        {"id": "s", "type": "start", "outputs": {"next": {"elementId": "m"}}},
        {
            "id": "m",
            "type": "model",
            "properties": {"provider": "groq", "model": "llama"},
            "outputs": {"success": {"elementId": "e"}},
        },
        {"id": "e", "type": "end"},
    ],
}


@pytest.mark.parametrize("form", list(STEPS))
def test_each_endpoint_form_answers_as_a_fallback(form: str, emulator: Any) -> None:
    gateway_id = emulator.create_gateway(routes=[ROUTE])
    provider, endpoint, query = STEPS[form]
    failing = {
        "provider": "openai",
        "endpoint": "chat/completions",
        "query": {"model": "fail-503", "messages": CHAT},
    }
    step = {
        "provider": provider,
        "endpoint": endpoint,
        "query": query,
        "headers": {"authorization": "Bearer sk-test"},
    }
    r = httpx.post(emulator.gateway_url(gateway_id), json=[failing, step], timeout=10)
    assert (r.status_code, r.headers[wire.H_STEP]) == (200, "1"), r.text
    logs = emulator.logs(gateway_id)
    assert sorted((log["step"], log["status_code"]) for log in logs) == [(0, 503), (1, 200)]
    answered = next(log for log in logs if log["step"] == 1)
    assert answered["tokens_out"] > 0  # usage read in the step's own schema
