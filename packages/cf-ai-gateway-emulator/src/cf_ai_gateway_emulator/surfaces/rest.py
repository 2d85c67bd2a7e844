"""The REST API's chat completions: ``POST /client/v4/accounts/{account}/ai/v1/chat/completions``.

``Authorization: Bearer <account API token>`` authenticates; ``cf-aig-gateway-id`` selects the
gateway (``default`` without it). Models are ``{provider}/{model}`` or ``@cf/...`` (Workers AI);
an unknown provider is 404 (``CODE_REST_MODEL_NOT_FOUND``). The ``Authorization`` header
carries the Cloudflare token, so it never travels on to a provider.
"""

from __future__ import annotations

from cf_ai_gateway import wire
from cf_ai_gateway.providers import Provider, get_provider
from starlette.requests import Request
from starlette.responses import Response

from ..errors import Rejection, answers_rejections
from ..pipeline import bearer, open_request, respond
from ..state import EmulatorState
from .incoming import forwarded_headers, json_body, split_unified_model
from .unified import chat_step

__all__ = ["rest_chat"]


def _provider_of(model: object) -> tuple[Provider, str]:
    if isinstance(model, str) and model.startswith("@cf/"):
        return get_provider("workers-ai"), model
    prefix, name = split_unified_model(model)
    try:
        return get_provider(prefix), name
    except ValueError:
        raise Rejection.gateway(
            wire.CODE_REST_MODEL_NOT_FOUND, f"model {model!r} was not found", 404
        ) from None


@answers_rejections
async def rest_chat(request: Request) -> Response:
    """``POST /client/v4/accounts/{account}/ai/v1/chat/completions`` (REST API)."""
    account = request.path_params["account"]
    state = EmulatorState.of(request)
    token = bearer(request.headers.get("authorization"))
    if not state.token_ok(account, token):
        raise Rejection.gateway(wire.CODE_UNAUTHORIZED, "Unauthorized", 401)
    gateway_id = request.headers.get(wire.H_GATEWAY_ID) or wire.DEFAULT_GATEWAY_ID
    ctx = open_request(state, account, gateway_id, request.headers, surface="rest", token=token)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise Rejection.gateway(wire.CODE_BAD_REQUEST, "the body must be a JSON object", 400)
    provider, name = _provider_of(body.get("model"))
    headers = {k: v for k, v in forwarded_headers(request).items() if k != "authorization"}
    result = await chat_step(ctx, provider, name, body, headers)
    return respond(ctx, result, extra_headers={wire.H_MODEL: name, wire.H_PROVIDER: provider.slug})
