"""The unified surface (``/compat``): OpenAI chat completions for every provider, the model
named ``{provider}/{model}``, or ``dynamic/{route}`` for a dynamic route.

The answering provider and model come back as ``cf-aig-provider`` and ``cf-aig-model``. A
dynamic route logs every model it tried; a ``rate`` node over its limit without a
``fallback`` answers 429 (``CODE_RATE_LIMITED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.providers import DYNAMIC_PREFIX, Provider, get_provider
from starlette.requests import Request
from starlette.responses import Response

from ..dynamic_routes import RouteContext, RouteError, RouteOutcome, run_route
from ..errors import Rejection, answers_rejections
from ..mock.schemas import UNIFIED_CHAT
from ..pipeline import RequestContext, StepResult, log_failed_step, open_request, respond, run_step
from ..state import EmulatorState
from .incoming import forwarded_headers, json_body, provider_named, split_unified_model

__all__ = ["chat_step", "compat_chat", "compat_other"]


@answers_rejections
async def compat_chat(request: Request) -> Response:
    """``POST /v1/{account}/{gateway}/compat/chat/completions``."""
    p = request.path_params
    state = EmulatorState.of(request)
    ctx = open_request(state, p["account"], p["gateway"], request.headers, surface="compat")
    body = await json_body(request)
    if not isinstance(body, dict):
        raise Rejection.gateway(wire.CODE_BAD_REQUEST, "the body must be a JSON object", 400)
    headers = forwarded_headers(request)
    prefix, name = split_unified_model(body.get("model"))
    if prefix == DYNAMIC_PREFIX:
        return await _dynamic_route(ctx, body, headers, name)
    provider = provider_named(prefix, unified=True)
    result = await chat_step(ctx, provider, name, body, headers)
    return respond(ctx, result, extra_headers={wire.H_MODEL: name, wire.H_PROVIDER: provider.slug})


@answers_rejections
async def compat_other(request: Request) -> Response:
    """``POST /v1/{account}/{gateway}/compat/{path}``: anything but chat completions is 404."""
    raise Rejection.gateway(
        wire.CODE_BAD_REQUEST,
        f"the unified endpoint has no {request.path_params['path']!r}; only "
        "chat/completions (use a provider-native path for embeddings)",
        404,
    )


async def chat_step(
    ctx: RequestContext,
    provider: Provider,
    model: str,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    config: Mapping[str, Any] | None = None,
) -> StepResult:
    """One chat step of an OpenAI-schema surface: ``body`` with ``model`` as the provider
    names it, sent to the provider's chat path in the unified schema."""
    return await run_step(
        ctx,
        provider=provider.slug,
        path=provider.chat_path or "chat/completions",
        schema=UNIFIED_CHAT,
        body={**body, "model": model},
        headers=headers,
        config=config,
    )


async def _dynamic_route(
    ctx: RequestContext, body: Mapping[str, Any], headers: Mapping[str, str], route_name: str
) -> Response:
    route = ctx.gateway.routes.get(route_name)
    if route is None:
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST,
            f"dynamic route {route_name!r} does not exist on gateway {ctx.gateway.id!r}",
            400,
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
            found = get_provider(provider)
        except ValueError:
            return RouteOutcome(False, None)
        result = await chat_step(ctx, found, model, body, headers, config)
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
        raise Rejection.gateway(code, str(exc), exc.status) from None
    answer: StepResult = outcome.value
    for other in attempted:
        if other is not answer:
            log_failed_step(ctx, other, step=None)
    return respond(
        ctx, answer, extra_headers={wire.H_MODEL: answer.model, wire.H_PROVIDER: answer.provider}
    )
