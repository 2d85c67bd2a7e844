"""What answers a provider request: the mock LLM (default) or a real upstream (pass-through).

``call_upstream`` returns once the first byte is ready, so the gateway can bound it with
``cf-aig-request-timeout``; a streamed body follows through ``UpstreamResponse.stream``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cf_ai_gateway import wire
from cf_ai_gateway.providers import Provider, get_provider

from . import mock_llm
from .config import EmulatorConfig
from .faults import FAULT_HEADER, Faults, faults_from_model, merged_faults

__all__ = [
    "UpstreamError",
    "UpstreamRequest",
    "UpstreamResponse",
    "call_upstream",
    "endpoint_kind",
    "mockable",
]

Kind = Literal["chat", "embeddings", "other"]

_HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>{status} Bad Gateway | emulated upstream"
    "</title></head><body><h1>Error {status}</h1><p>The upstream answered with an "
    "HTML error page (emulator fault injection).</p></body></html>"
)


class StreamCutFault(ConnectionResetError):
    """Raised inside a mock stream to drop the connection (fault ``cut=N``)."""


class UpstreamError(Exception):
    """No response at all: the upstream could not be reached (connection error)."""


@dataclass
class UpstreamRequest:
    provider: str
    path: str
    kind: Kind
    body: Any
    headers: Mapping[str, str]
    attempt: int = 1
    query: str = ""


@dataclass
class UpstreamResponse:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    model: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    async def aclose(self) -> None:
        if self.stream is not None and hasattr(self.stream, "aclose"):
            await self.stream.aclose()


def endpoint_kind(provider: Provider, path: str) -> Kind:
    path = path.strip("/")
    if provider.chat_path and path == provider.chat_path:
        return "chat"
    if provider.embeddings_path and path == provider.embeddings_path:
        return "embeddings"
    return "other"


def mockable(slug: str) -> bool:
    """Providers the mock answers: those with an OpenAI-compatible chat path."""
    try:
        return get_provider(slug).chat_path is not None
    except ValueError:
        return False


def _json_response(status: int, payload: Any, **kw: Any) -> UpstreamResponse:
    return UpstreamResponse(
        status,
        {"content-type": "application/json"},
        json.dumps(payload, ensure_ascii=False).encode(),
        **kw,
    )


async def _sse(
    chunks: list[dict[str, Any]],
    delay_s: float,
    cut_after: int | None,
) -> AsyncIterator[bytes]:
    for i, chunk in enumerate(chunks):
        if cut_after is not None and i >= cut_after:
            raise StreamCutFault("emulator fault: stream cut")
        if delay_s and i:
            await asyncio.sleep(delay_s)
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()
    yield b"data: [DONE]\n\n"


async def _mock(
    req: UpstreamRequest,
    config: EmulatorConfig,
    created: int,
) -> UpstreamResponse:
    mock = config.mock
    provider_cfg = config.provider(req.provider)
    body = req.body if isinstance(req.body, Mapping) else {}
    model = str(body.get("model") or "")
    faults: Faults = merged_faults(
        (mock.faults, provider_cfg.faults), model, req.headers.get(FAULT_HEADER)
    )
    latency = provider_cfg.latency_ms if provider_cfg.latency_ms is not None else mock.latency_ms
    delay = (latency + faults.delay_ms) / 1000
    if delay:
        await asyncio.sleep(delay)
    if req.attempt <= faults.flaky_attempts:
        return _json_response(
            faults.flaky_status,
            mock_llm.MockError(
                faults.flaky_status,
                f"emulated flaky upstream (attempt {req.attempt})",
                "server_error",
                "flaky",
            ).body,
        )
    if faults.status is not None:
        kind = (
            "rate_limit_error"
            if faults.status == 429
            else ("server_error" if faults.status >= 500 else "invalid_request_error")
        )
        return _json_response(
            faults.status,
            mock_llm.MockError(
                faults.status, f"emulated upstream error {faults.status}", kind, str(faults.status)
            ).body,
        )
    if faults.html_status is not None:
        return UpstreamResponse(
            faults.html_status,
            {"content-type": "text/html"},
            _HTML_PAGE.format(status=faults.html_status).encode(),
        )
    if faults.malformed:
        return UpstreamResponse(
            200, {"content-type": "application/json"}, b'this is not JSON {"choices": ['
        )
    if req.kind == "other" or not isinstance(req.body, Mapping):
        status = 404 if req.kind == "other" else 400
        message = (
            f"the emulator's mock has no endpoint {req.provider}/{req.path}"
            if req.kind == "other"
            else "the request body must be a JSON object"
        )
        return _json_response(
            status, mock_llm.MockError(status, message, "invalid_request_error", "unknown_url").body
        )
    if faults_from_model(model).any:
        model = "mock-model"  # the model name was a fault directive list
    try:
        if req.kind == "embeddings":
            payload = mock_llm.embeddings(
                body, model=model or "mock-embedding", default_dimensions=mock.embedding_dimensions
            )
            return _json_response(
                200, payload, model=model, tokens_in=payload["usage"]["prompt_tokens"]
            )
        kwargs = {
            "model": model or "mock-model",
            "created": created,
            "seed": mock.seed,
            "max_answer_tokens": mock.max_answer_tokens,
        }
        full = mock_llm.chat_completion(body, **kwargs)  # type: ignore[arg-type]
        usage = full["usage"]
        if body.get("stream"):
            chunks = mock_llm.chat_chunks(body, **kwargs)  # type: ignore[arg-type]
            stream = _sse(chunks, mock.stream_chunk_delay_ms / 1000, faults.cut_after)
            return UpstreamResponse(
                200,
                {"content-type": "text/event-stream", "cache-control": "no-cache"},
                stream=stream,
                model=model,
                tokens_in=usage["prompt_tokens"],
                tokens_out=usage["completion_tokens"],
            )
        if faults.cut_after is not None:
            text = json.dumps(full)
            return UpstreamResponse(
                200,
                {"content-type": "application/json"},
                text[: len(text) // 2].encode(),
                model=model,
            )
        return _json_response(
            200,
            full,
            model=model,
            tokens_in=usage["prompt_tokens"],
            tokens_out=usage["completion_tokens"],
        )
    except mock_llm.MockError as exc:
        return _json_response(exc.status, exc.body, model=model)


_HOP_HEADERS = {
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "accept-encoding",
    FAULT_HEADER,
}


async def _pass_through(req: UpstreamRequest, base_url: str) -> UpstreamResponse:
    import httpx

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
) -> UpstreamResponse:
    """Answer ``req`` with the mock or the configured upstream (first byte ready)."""
    settings = config.provider(req.provider)
    if settings.mode == "upstream" and settings.upstream_base_url:
        return await _pass_through(req, settings.upstream_base_url)
    return await _mock(req, config, created)
