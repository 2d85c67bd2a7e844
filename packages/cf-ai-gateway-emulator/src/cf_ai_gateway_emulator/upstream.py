"""What answers a provider request: the mock LLM (default) or a real upstream (pass-through).

``call_upstream`` returns once the first byte is ready, so the gateway can bound it with
``cf-aig-request-timeout``; a streamed body follows through ``UpstreamResponse.stream``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
from cf_ai_gateway import wire

from .config import EmulatorConfig
from .exchange import UpstreamError, UpstreamRequest, UpstreamResponse
from .mock.faults import FAULT_HEADER
from .mock.responder import mock_response
from .mock.scripts import SCRIPT_HEADER, ScriptBook

__all__ = ["UpstreamError", "UpstreamRequest", "UpstreamResponse", "call_upstream"]

_HOP_HEADERS = {
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "accept-encoding",
    FAULT_HEADER,
    SCRIPT_HEADER,
}


async def _pass_through(req: UpstreamRequest, base_url: str) -> UpstreamResponse:
    headers = {
        k: v
        for k, v in req.headers.items()
        if k not in _HOP_HEADERS and not k.startswith(wire.HEADER_PREFIX) and k != wire.H_METADATA
    }
    url = f"{base_url}/{req.path.lstrip('/')}" + (f"?{req.query}" if req.query else "")
    client = httpx.AsyncClient(timeout=httpx.Timeout(300.0))
    try:
        request = client.build_request(
            "POST", url, headers=headers, content=json.dumps(req.body).encode()
        )
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        await client.aclose()
        raise UpstreamError(f"upstream {url} unreachable: {type(exc).__name__}") from exc
    out_headers = {
        k.lower(): v
        for k, v in response.headers.items()
        if k.lower()
        not in ("content-length", "transfer-encoding", "connection", "content-encoding")
    }

    async def body_stream() -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_raw():
                yield chunk
        finally:
            await response.aclose()
            await client.aclose()

    if "text/event-stream" in response.headers.get("content-type", ""):
        return UpstreamResponse(response.status_code, out_headers, stream=body_stream())
    content = await response.aread()
    await response.aclose()
    await client.aclose()
    return UpstreamResponse(response.status_code, out_headers, content)


async def call_upstream(
    req: UpstreamRequest,
    config: EmulatorConfig,
    created: int,
    scripts: ScriptBook | None = None,
) -> UpstreamResponse:
    """Answer ``req`` with the mock (following ``scripts``) or the configured upstream, once
    the first byte is ready."""
    settings = config.provider(req.provider)
    if settings.mode == "upstream" and settings.upstream_base_url:
        return await _pass_through(req, settings.upstream_base_url)
    return await mock_response(req, config, created, scripts)
