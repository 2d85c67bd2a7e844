"""A gateway double on ``httpx.MockTransport``: answers with the emulator's mock LLM (so bodies
are what the real emulator sends), records every request, and can be told to fail."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from cf_ai_gateway import Gateway
from cf_ai_gateway.errors import gateway_error_body
from cf_ai_gateway_emulator import mock_llm

ACCOUNT = "acc-unit"
GATEWAY = "gw-unit"
TOKEN = "gw-token-unit-0123456789"
PROVIDER_KEY = "sk-unit-provider-key-0123456789"
LOG_ID = "01ab-log-unit"


def gateway(token: str | None = TOKEN) -> Gateway:
    return Gateway(account_id=ACCOUNT, gateway_id=GATEWAY, token=token)


def gateway_error(status: int, code: int, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=gateway_error_body(code, message, status), headers=headers)


def provider_error(
    status: int, message: str, code: str | None = None, **headers: str
) -> httpx.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return httpx.Response(status, json=body, headers=headers)


@dataclass
class Seen:
    """One request the double received."""

    method: str
    url: str
    headers: dict[str, str]
    body: Any

    @property
    def path(self) -> str:
        return httpx.URL(self.url).path


@dataclass
class GatewayDouble:
    """``respond`` may be set to a function of the request returning a response (or ``None``
    for the mock LLM's answer); ``cache_hit`` marks answers as served from the cache."""

    respond: Callable[[httpx.Request], httpx.Response | None] | None = None
    cache_hit: bool = False
    seen: list[Seen] = field(default_factory=list)

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        out = {
            "cf-aig-log-id": LOG_ID,
            "cf-aig-request-id": LOG_ID,
            "cf-aig-event-id": LOG_ID,
            "cf-aig-cache-status": "HIT" if self.cache_hit else "MISS",
        }
        out.update(extra or {})
        return out

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.seen.append(Seen(request.method, str(request.url), dict(request.headers), body))
        if self.respond is not None:
            scripted = self.respond(request)
            if scripted is not None:
                scripted.headers.update({"cf-aig-log-id": LOG_ID, **scripted.headers})
                return scripted
        if isinstance(body, list):  # universal: the first step whose model does not fail
            for index, step in enumerate(body):
                query = step["query"]
                if "fail" in query["model"]:
                    continue
                data = mock_llm.chat_completion(query, model=query["model"], created=1)
                return httpx.Response(
                    200, json=data, headers=self.headers({"cf-aig-step": str(index)})
                )
            return provider_error(500, "every step failed")
        path = request.url.path
        if path.endswith("/embeddings"):
            data = mock_llm.embeddings(body, model=body["model"], default_dimensions=8)
            return httpx.Response(200, json=data, headers=self.headers())
        model = body["model"].split("/", 1)[-1]
        if body.get("stream"):
            chunks = mock_llm.chat_chunks(body, model=model, created=1)
            text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            headers = self.headers({"content-type": "text/event-stream"})
            return httpx.Response(200, text=text, headers=headers)
        data = mock_llm.chat_completion(body, model=model, created=1)
        return httpx.Response(200, json=data, headers=self.headers())

    def clients(self) -> dict[str, Any]:
        """``http_client`` / ``http_async_client`` keywords for ``register()``: both on one
        ``MockTransport`` (it reads the body and answers from :meth:`handle` either way)."""
        transport = httpx.MockTransport(self.handle)
        return {
            "http_client": httpx.Client(transport=transport),
            "http_async_client": httpx.AsyncClient(transport=transport),
        }

    @property
    def last(self) -> Seen:
        return self.seen[-1]
