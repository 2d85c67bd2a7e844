"""The REST API: ``/client/v4/accounts/{account}/ai/...``.

- ``v1/chat/completions`` (OpenAI's schema), ``v1/responses`` (OpenAI Responses) and
  ``v1/messages`` (Anthropic Messages, with ``v1/messages/count_tokens``), each for every
  provider: models are ``{provider}/{model}`` (catalogue authors such as ``google/`` and
  ``xai/`` included), ``@cf/{author}/{model}`` (Workers AI), ``custom/{alias}`` (a model alias)
  or, on chat completions only, ``dynamic/{route}``;
- ``run/@cf/{author}/{model}``: Workers AI's own schema, and ``run`` with ``{"model": "@cf/...",
  "input": {...}}``.

``Authorization: Bearer <account API token>`` authenticates; ``cf-aig-gateway-id`` selects
the gateway (``default`` without it), and ``@cf/`` models in a body require it (Cloudflare's
REST page: "Workers AI requests always require this header"). The ``Authorization`` header
carries the Cloudflare token, so it never travels on to a provider: a bad one is the v4
API's "Authentication error" (401, code 10000), and providers are reached with the gateway's
stored keys or Unified Billing only, so a provider refusing that key (its 401/403) comes back
as the gateway's 401 with code 2009. An unknown model, alias or route is the gateway's
model-not-found answer (404 in the endpoint's schema).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.errors import gateway_error_body
from cf_ai_gateway.providers import get_provider
from starlette.requests import Request
from starlette.responses import Response

from ..errors import Rejection, answers_rejections
from ..exchange import UpstreamResponse
from ..mock.neutral import MockFailure
from ..mock.schemas import REST_COUNT_TOKENS, Schema, fallback_schema, schema_for
from ..pipeline import RequestContext, StepResult, bearer, open_request, respond, run_step
from ..state import EmulatorState
from .incoming import disconnected, forwarded_headers, json_body, model_not_found, schema_rejection
from .unified import MESSAGES, RESPONSES, UNIFIED, Endpoint, answer_model, model_step

__all__ = [
    "rest_chat",
    "rest_count_tokens",
    "rest_messages",
    "rest_responses",
    "rest_run",
    "rest_run_model",
]

_WORKERS_AI = "workers-ai"
_WORKERS_AI_MODEL = ("@cf/", "@hf/")


def _open(request: Request, body: Any, schema: Schema[Any, Any]) -> RequestContext:
    """Authenticate with the account token and open the request on its gateway."""
    account = request.path_params["account"]
    state = EmulatorState.of(request)
    token = bearer(request.headers.get("authorization"))
    if not state.token_ok(account, token):
        raise Rejection.api(wire.CODE_API_AUTHENTICATION, "Authentication error", 401)
    gateway_id = request.headers.get(wire.H_GATEWAY_ID)
    model = body.get("model") if isinstance(body, Mapping) else None
    if gateway_id is None and isinstance(model, str) and model.startswith(_WORKERS_AI_MODEL):
        raise schema_rejection(
            schema,
            MockFailure(
                400,
                f"{wire.H_GATEWAY_ID} is required for Workers AI models ({model})",
                "invalid_request",
            ),
        )
    gateway_id = gateway_id or wire.DEFAULT_GATEWAY_ID
    return open_request(
        state,
        account,
        gateway_id,
        request.headers,
        surface="rest",
        token=token,
        disconnected=disconnected(request),
    )


def _provider_headers(request: Request) -> dict[str, str]:
    """The forwarded headers without ``Authorization`` (the Cloudflare token)."""
    return {k: v for k, v in forwarded_headers(request).items() if k != "authorization"}


async def _object_body(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise Rejection.gateway(wire.CODE_BAD_REQUEST, "the body must be a JSON object", 400)
    return body


def _provider_refusal(result: StepResult) -> StepResult:
    """A provider's 401/403 as the REST API answers it: the gateway's 401, code 2009."""
    response = result.response
    if response is None or response.status not in (401, 403):
        return result
    message = (
        f"Unauthorized: provider {result.provider!r} refused the credential the gateway "
        "used (its stored key or Unified Billing)"
    )
    body = json.dumps(gateway_error_body(wire.CODE_UNAUTHORIZED, message, 401)).encode()
    result.response = UpstreamResponse(401, {"content-type": "application/json"}, body)
    return result


async def _on_endpoint(request: Request, endpoint: Endpoint) -> Response:
    body = await _object_body(request)
    ctx = _open(request, body, endpoint.schema)
    headers = _provider_headers(request)
    model = body.get("model")
    if isinstance(model, str) and model.startswith(_WORKERS_AI_MODEL):
        provider = get_provider(_WORKERS_AI)
        result = await model_step(ctx, endpoint, provider, model, body, headers)
        return await respond(ctx, _provider_refusal(result))
    if (
        isinstance(model, str)
        and "/" in model
        and model != wire.AUTO_MODEL
        and not model.startswith(("dynamic/", "custom/"))
    ):
        prefix, _, name = model.partition("/")
        try:
            provider = get_provider(prefix)  # catalogue authors: google/, xai/, ...
        except ValueError:
            raise model_not_found(endpoint.schema, model) from None
        result = await model_step(ctx, endpoint, provider, name, body, headers)
        return await respond(ctx, _provider_refusal(result))
    result, named = await answer_model(ctx, endpoint, body, headers)
    return await respond(ctx, _provider_refusal(result), extra_headers=named)


@answers_rejections
async def rest_chat(request: Request) -> Response:
    """``POST /client/v4/accounts/{account}/ai/v1/chat/completions``."""
    return await _on_endpoint(request, UNIFIED)


@answers_rejections
async def rest_responses(request: Request) -> Response:
    """``POST /client/v4/accounts/{account}/ai/v1/responses``."""
    return await _on_endpoint(request, RESPONSES)


@answers_rejections
async def rest_messages(request: Request) -> Response:
    """``POST /client/v4/accounts/{account}/ai/v1/messages``."""
    return await _on_endpoint(request, MESSAGES)


@answers_rejections
async def rest_count_tokens(request: Request) -> Response:
    """``POST /client/v4/accounts/{account}/ai/v1/messages/count_tokens``."""
    body = await _object_body(request)
    ctx = _open(request, body, REST_COUNT_TOKENS)
    model = body.get("model")
    prefix, _, name = model.partition("/") if isinstance(model, str) else ("", "", "")
    try:
        provider = get_provider(prefix)
    except ValueError:
        raise model_not_found(REST_COUNT_TOKENS, model) from None
    result = await run_step(
        ctx,
        provider=provider.slug,
        path="v1/messages/count_tokens",
        schema=REST_COUNT_TOKENS,
        body={**body, "model": name},
        headers=_provider_headers(request),
    )
    return await respond(ctx, result)


async def _workers_ai(request: Request, ctx: RequestContext, model: str, body: Any) -> StepResult:
    schema = schema_for(_WORKERS_AI, model)
    if schema is None:
        raise model_not_found(fallback_schema(_WORKERS_AI), model)
    return await run_step(
        ctx,
        provider=_WORKERS_AI,
        path=model,
        schema=schema,
        body=body,
        headers=_provider_headers(request),
    )


@answers_rejections
async def rest_run_model(request: Request) -> Response:
    """``POST /client/v4/accounts/{account}/ai/run/@cf/{author}/{model}``: Workers AI's own
    schema (the gateway from ``cf-aig-gateway-id``, else ``default``)."""
    model = request.path_params["model"].strip("/")
    body = await _object_body(request)
    ctx = _open(request, {}, UNIFIED.schema)
    return await respond(ctx, await _workers_ai(request, ctx, model, body))


@answers_rejections
async def rest_run(request: Request) -> Response:
    """``POST /client/v4/accounts/{account}/ai/run`` with ``{"model": "@cf/...", "input":
    {...}}``: ``input`` answered in Workers AI's own schema (``cf-aig-gateway-id``
    required). Other models on ``/ai/run`` are not emulated (400)."""
    body = await _object_body(request)
    ctx = _open(request, body, UNIFIED.schema)
    model = body.get("model")
    if not isinstance(model, str) or not model.startswith(_WORKERS_AI_MODEL):
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST,
            f"the emulator serves /ai/run for @cf/ models only (got model={model!r}); use "
            "/ai/v1/chat/completions for other models",
            400,
        )
    return await respond(ctx, await _workers_ai(request, ctx, model, body.get("input")))
