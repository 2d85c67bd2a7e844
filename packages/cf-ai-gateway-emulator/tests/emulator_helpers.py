"""Helpers shared by the emulator tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

from typing import Any

import httpx
from cf_ai_gateway_emulator.config import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, GatewaySettings
from cf_ai_gateway_emulator.state import EmulatorState

ACCOUNT = DEFAULT_ACCOUNT_ID
TOKEN = DEFAULT_TOKEN
AUTH = {"authorization": f"Bearer {TOKEN}"}
CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}]}


class Emu:
    """An ASGI client plus the state behind it."""

    def __init__(self, state: EmulatorState, client: httpx.AsyncClient) -> None:
        self.state = state
        self.client = client

    def add_gateway(self, gateway_id: str, **settings: Any) -> str:
        self.state.put_gateway(ACCOUNT, GatewaySettings.from_mapping(gateway_id, settings, "t"))
        return gateway_id

    async def compat(
        self, gateway: str, body: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/{ACCOUNT}/{gateway}/compat/chat/completions", json=body or CHAT, headers=headers
        )

    async def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return await self.client.post(path, json=body, headers=headers)

    async def logs(self, gateway: str, **params: Any) -> dict[str, Any]:
        r = await self.client.get(
            f"/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/{gateway}/logs",
            params=params,
            headers=AUTH,
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]
