"""The provider-native surface: ``POST /v1/{account}/{gateway}/{provider}/{path}``, the
provider's own path and body, answered in the schema registered for that path."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..errors import answers_rejections
from ..mock.schemas import schema_for
from ..pipeline import open_request, respond, run_step
from ..state import EmulatorState
from .incoming import disconnected, forwarded, json_body, provider_named

__all__ = ["provider_native"]


@answers_rejections
async def provider_native(request: Request) -> Response:
    """``POST /v1/{account}/{gateway}/{provider}/{path}``."""
    p = request.path_params
    provider = provider_named(p["provider"], unified=False)
    state = EmulatorState.of(request)
    ctx = open_request(
        state,
        p["account"],
        p["gateway"],
        request.headers,
        surface="provider",
        disconnected=disconnected(request),
    )
    body = await json_body(request)
    path = p["path"].strip("/")
    result = await run_step(
        ctx,
        provider=provider.slug,
        path=path,
        schema=schema_for(provider.slug, path),
        body=body,
        headers=forwarded(ctx.headers),
        query=request.url.query,
    )
    return await respond(ctx, result)
