"""The gateway's client-facing surfaces: provider-native, unified ``/compat`` (with dynamic
routes), the universal endpoint and the REST API's chat completions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.providers import DYNAMIC_PREFIX, Provider, get_provider
from starlette.requests import Request
from starlette.responses import Response

from .dynamic_routes import RouteContext, RouteError, RouteOutcome, run_route
from .errors import Rejection as GatewayRejection
from .errors import gateway_error
from .mock.schemas import UNIFIED_CHAT, schema_for
from .pipeline import (
    RequestContext,
    StepResult,
    bearer,
    log_failed_step,
    open_request,
    respond,
    run_step,
)
from .state import EmulatorState

__all__ = ["compat_chat", "provider_native", "rest_chat", "universal"]

_DROP = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}


def _state(request: Request) -> EmulatorState:
    return request.app.state.emulator  # type: ignore[no-any-return]


def _headers(request: Request) -> dict[str, str]:
    return {k.lower(): v for k, v in request.headers.items() if k.lower() not in _DROP}


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise GatewayRejection(
            gateway_error(wire.CODE_BAD_REQUEST, "the request body is not valid JSON", 400)
        ) from None


def _provider(segment: str, *, unified: bool) -> Provider:
    try:
        provider = get_provider(segment)
    except ValueError as exc:
        raise GatewayRejection(gateway_error(wire.CODE_BAD_REQUEST, str(exc), 400)) from None
    expected = provider.unified_prefix if unified else provider.slug
    if segment != expected:
        where = "a unified model prefix" if unified else "a provider path segment"
        raise GatewayRejection(
            gateway_error(
                wire.CODE_BAD_REQUEST, f"{segment!r} is not {where}; use {expected!r}", 400
            )
        )
    return provider


async def provider_native(request: Request) -> Response:
    """``POST /v1/{account}/{gateway}/{provider}/{path}``."""
    p = request.path_params
    try:
        provider = _provider(p["provider"], unified=False)
        ctx = open_request(
            _state(request), p["account"], p["gateway"], request.headers, surface="provider"
        )
        body = await _json_body(request)
        path = p["path"].strip("/")
        result = await run_step(
            ctx,
            provider=provider.slug,
            path=path,
            schema=schema_for(provider.slug, path),
            body=body,
            headers=_headers(request),
            query=request.url.query,
        )
        return respond(ctx, result)
    except GatewayRejection as rejection:
        return rejection.response


def _split_unified(model: object) -> tuple[str, str]:
    if not isinstance(model, str) or "/" not in model:
        raise GatewayRejection(
            gateway_error(
                wire.CODE_BAD_REQUEST,
                f"model {model!r} must be '{{provider}}/{{model}}' or 'dynamic/{{route}}'",
                400,
            )
        )
    prefix, _, name = model.partition("/")
    return prefix, name


async def _unified(
    ctx: RequestContext, body: Mapping[str, Any], headers: Mapping[str, str], *, endpoint: str
) -> Response:
    prefix, name = _split_unified(body.get("model"))
    if prefix == DYNAMIC_PREFIX:
        return await _dynamic(ctx, body, headers, name)
    provider = _provider(prefix, unified=True)
    result = await _unified_step(ctx, provider, name, body, headers)
    return respond(ctx, result, extra_headers={wire.H_MODEL: name, wire.H_PROVIDER: provider.slug})


async def _unified_step(
    ctx: RequestContext,
    provider: Provider,
    model: str,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    config: Mapping[str, Any] | None = None,
) -> StepResult:
    path = provider.chat_path or "chat/completions"
    return await run_step(
        ctx,
        provider=provider.slug,
        path=path,
        schema=UNIFIED_CHAT,
        body={**body, "model": model},
        headers=headers,
        config=config,
    )


async def _dynamic(
    ctx: RequestContext, body: Mapping[str, Any], headers: Mapping[str, str], route_name: str
) -> Response:
    route = ctx.gateway.routes.get(route_name)
    if route is None:
        raise GatewayRejection(
            gateway_error(
                wire.CODE_BAD_REQUEST,
                f"dynamic route {route_name!r} does not exist on gateway {ctx.gateway.id!r}",
                400,
            )
        )
    state = ctx.state
    attempted: list[StepResult] = []

    async def call_model(
        provider: str, model: str, timeout: int | None, retries: int | None
    ) -> RouteOutcome:
        config: dict[str, Any] = {}
        if timeout:
            config["requestTimeout"] = timeout
        if retries is not None:
            config["maxAttempts"] = max(1, min(retries + 1, wire.MAX_ATTEMPTS_MAX))
        try:
            prov = get_provider(provider)
        except ValueError:
            return RouteOutcome(False, None)
        result = await _unified_step(ctx, prov, model, body, headers, config)
        if not result.ok:
            await result.drain()
        attempted.append(result)
        return RouteOutcome(result.ok, result)

    def rate_check(element: str, value: str, props: Mapping[str, Any]) -> bool:
        decision = state.limiter.check(
            (ctx.account, ctx.gateway.id, "route", route_name, element, value),
            int(props["limit"]),
            float(props["interval"]),
            str(props.get("technique") or "sliding"),
            state.now(),
        )
        return decision.allowed

    document = {"metadata": ctx.metadata, "body": dict(body)}
    route_ctx = RouteContext(
        document,
        call_model,
        rate_check,
        lambda element: state.route_draw(ctx.account, ctx.gateway.id, route_name, element),
    )
    try:
        outcome = await run_route(route, route_ctx)
    except RouteError as exc:
        code = wire.CODE_RATE_LIMITED if exc.rate_limited else wire.CODE_BAD_REQUEST
        return gateway_error(code, str(exc), exc.status)
    answer: StepResult = outcome.value
    for other in attempted:
        if other is not answer:
            log_failed_step(ctx, other, step=None)
    return respond(
        ctx, answer, extra_headers={wire.H_MODEL: answer.model, wire.H_PROVIDER: answer.provider}
    )


async def compat_chat(request: Request) -> Response:
    """``POST /v1/{account}/{gateway}/compat/chat/completions``."""
    p = request.path_params
    try:
        ctx = open_request(
            _state(request), p["account"], p["gateway"], request.headers, surface="compat"
        )
        body = await _json_body(request)
        if not isinstance(body, dict):
            return gateway_error(wire.CODE_BAD_REQUEST, "the body must be a JSON object", 400)
        return await _unified(ctx, body, _headers(request), endpoint="chat/completions")
    except GatewayRejection as rejection:
        return rejection.response


async def compat_other(request: Request) -> Response:
    return gateway_error(
        wire.CODE_BAD_REQUEST,
        f"the unified endpoint has no {request.path_params['path']!r}; only "
        "chat/completions (use a provider-native path for embeddings)",
        404,
    )


def _step_headers(raw: object) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    out = {}
    for key, value in raw.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float, str)):
            text = str(value)
        else:
            text = json.dumps(value)
        out[str(key).lower()] = text
    return out


async def universal(request: Request) -> Response:
    """``POST /v1/{account}/{gateway}``: a JSON array of steps, tried in order."""
    p = request.path_params
    try:
        ctx = open_request(
            _state(request), p["account"], p["gateway"], request.headers, surface="universal"
        )
        steps = await _json_body(request)
        if isinstance(steps, dict):
            steps = [steps]
        if not isinstance(steps, list) or not steps:
            return gateway_error(
                wire.CODE_BAD_REQUEST, "the universal endpoint expects a JSON array of steps", 400
            )
        outer = _headers(request)
        results: list[tuple[int, StepResult]] = []
        for index, step in enumerate(steps):
            if not isinstance(step, Mapping) or not isinstance(step.get("provider"), str):
                return gateway_error(
                    wire.CODE_BAD_REQUEST,
                    f"step {index} needs 'provider', 'endpoint' and 'query'",
                    400,
                )
            provider = _provider(step["provider"], unified=False)
            endpoint = str(step.get("endpoint") or "").strip("/")
            headers = {**outer, **_step_headers(step.get("headers"))}
            config = step.get("config") if isinstance(step.get("config"), Mapping) else None
            result = await run_step(
                ctx,
                provider=provider.slug,
                path=endpoint,
                schema=schema_for(provider.slug, endpoint),
                body=step.get("query"),
                headers=headers,
                config=config,
            )
            if result.ok:
                for i, failed in results:
                    log_failed_step(ctx, failed, i)
                return respond(ctx, result, step=index)
            await result.drain()
            results.append((index, result))
        answered = [(i, r) for i, r in results if r.response is not None]
        chosen_index, chosen = answered[-1] if answered else results[-1]
        for i, failed in results:
            if i != chosen_index:
                log_failed_step(ctx, failed, i)
        return respond(ctx, chosen, step=chosen_index)
    except GatewayRejection as rejection:
        return rejection.response


def _rest_provider(model: object) -> tuple[Provider, str]:
    if isinstance(model, str) and model.startswith("@cf/"):
        return get_provider("workers-ai"), model
    prefix, name = _split_unified(model)
    try:
        return get_provider(prefix), name
    except ValueError:
        raise GatewayRejection(
            gateway_error(wire.CODE_REST_MODEL_NOT_FOUND, f"model {model!r} was not found", 404)
        ) from None


async def rest_chat(request: Request) -> Response:
    """``POST /client/v4/accounts/{account}/ai/v1/chat/completions`` (REST API)."""
    p = request.path_params
    state = _state(request)
    try:
        token = bearer(request.headers.get("authorization"))
        if not state.token_ok(p["account"], token):
            return gateway_error(wire.CODE_UNAUTHORIZED, "Unauthorized", 401)
        gateway_id = request.headers.get(wire.H_GATEWAY_ID) or wire.DEFAULT_GATEWAY_ID
        ctx = open_request(
            state, p["account"], gateway_id, request.headers, surface="rest", token=token
        )
        body = await _json_body(request)
        if not isinstance(body, dict):
            return gateway_error(wire.CODE_BAD_REQUEST, "the body must be a JSON object", 400)
        provider, name = _rest_provider(body.get("model"))
        # ``Authorization`` carries the Cloudflare API token here, not a provider key: it must
        # never travel on to a provider (pass-through mode).
        headers = {k: v for k, v in _headers(request).items() if k != "authorization"}
        result = await _unified_step(ctx, provider, name, body, headers)
        return respond(
            ctx, result, extra_headers={wire.H_MODEL: name, wire.H_PROVIDER: provider.slug}
        )
    except GatewayRejection as rejection:
        return rejection.response
