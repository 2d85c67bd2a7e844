"""Reading an incoming client request: forwarded headers, the JSON body, provider names."""

from __future__ import annotations

import json
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.providers import Provider, get_provider
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import Rejection
from ..mock.neutral import MockFailure
from ..mock.schemas import Schema

__all__ = [
    "forwarded_headers",
    "json_body",
    "model_not_found",
    "provider_named",
    "schema_rejection",
    "split_unified_model",
]

_HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}


def forwarded_headers(request: Request) -> dict[str, str]:
    """The request's headers, lower-cased, without hop-by-hop ones."""
    return {k.lower(): v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}


async def json_body(request: Request) -> Any:
    """The parsed JSON body (``None`` when empty); invalid JSON is a 400."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST, "the request body is not valid JSON", 400
        ) from None


def provider_named(segment: str, *, unified: bool) -> Provider:
    """The provider a path segment (or, ``unified``, a model prefix) names, spelled as the
    gateway spells it there (``perplexity-ai`` in paths, ``perplexity/`` in models)."""
    try:
        provider = get_provider(segment)
    except ValueError as exc:
        raise Rejection.gateway(wire.CODE_BAD_REQUEST, str(exc), 400) from None
    expected = provider.unified_prefix if unified else provider.slug
    if segment != expected:
        where = "a unified model prefix" if unified else "a provider path segment"
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST, f"{segment!r} is not {where}; use {expected!r}", 400
        )
    return provider


def split_unified_model(model: object) -> tuple[str, str]:
    """``"{provider}/{model}"`` (or ``dynamic/{route}``) as its two parts; else a 400."""
    if not isinstance(model, str) or "/" not in model:
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST,
            f"model {model!r} must be '{{provider}}/{{model}}' or 'dynamic/{{route}}'",
            400,
        )
    prefix, _, name = model.partition("/")
    return prefix, name


def schema_rejection(schema: Schema[Any, Any], failure: MockFailure) -> Rejection:
    """Reject with ``failure`` in the endpoint's own schema (what the unified and REST
    endpoints answer for a request they cannot route)."""
    body = schema.render_error(failure)
    return Rejection(JSONResponse(body, status_code=failure.status))


def model_not_found(schema: Schema[Any, Any], model: object, detail: str = "") -> Rejection:
    """The gateway's answer to an unknown model (or route, or alias): HTTP 404 in the
    endpoint's schema, ``Model not found: {model}`` (OpenAI's schema: code
    ``model_not_found``; Anthropic's: ``not_found_error``), as observed on the REST API."""
    message = f"Model not found: {model}" + (f" ({detail})" if detail else "")
    return schema_rejection(
        schema, MockFailure(404, message, "not_found", wire.MODEL_NOT_FOUND_CODE)
    )
