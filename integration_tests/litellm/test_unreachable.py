"""A gateway that cannot be reached is LiteLLM's ``APIConnectionError`` (not recordable, so
not in a cassette: the request goes to a closed port on 127.0.0.1)."""

from __future__ import annotations

import socket

import cf_ai_gateway_litellm
import litellm
import pytest
from cf_ai_gateway import GatewayConnectionError


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.emulator_only
async def test_unreachable_gateway_is_an_api_connection_error() -> None:
    cf_ai_gateway_litellm.register(max_retries=0)
    api_base = f"http://127.0.0.1:{_closed_port()}/v1/acc/gw"
    messages = [{"role": "user", "content": "Anyone there?"}]
    model = "cloudflare-ai-gateway/openai/gpt-4o-mini"
    with pytest.raises(litellm.APIConnectionError) as info:
        litellm.completion(model=model, messages=messages, api_base=api_base)
    assert isinstance(info.value.__cause__, GatewayConnectionError)
    assert info.value.gateway_code is None
    with pytest.raises(litellm.APIConnectionError):
        await litellm.acompletion(model=model, messages=messages, api_base=api_base, stream=True)
