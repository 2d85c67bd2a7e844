"""The unified surface (``/compat``) and what it shares with the REST API: one request schema
for every provider, the model named ``{provider}/{model}``, ``dynamic/{route}`` (a dynamic
route) or ``custom/{alias}`` (a model alias).

- ``{provider}/{model}``: one step to the provider, in the endpoint's schema; an unknown
  provider is the gateway's model-not-found answer (404 in the endpoint's schema).
- ``dynamic/{route}``: the route's nodes decide; a dynamic route logs every model it tried; a
  ``rate`` node over its limit without a ``fallback`` answers 429 (``CODE_RATE_LIMITED``); an
  unknown route is a 404 model-not-found. Only the chat-completions shape takes routes (the
  REST API's Anthropic and Responses endpoints answer 400, as Cloudflare documents).
- ``custom/{alias}``: the alias's models in order, the next when one fails (failures logged).
- ``cloudflare/auto``: the Auto Router (``auto_router``) chooses among its pool, on the chat
  completions and Responses shapes (Anthropic's Messages shape answers 400, as the Auto Router
  page lists only those two); ``cf-aig-routed-model``, ``cf-aig-routing-reason`` and
  ``cf-aig-routing-decision-id`` say what it chose and why.

``cf-aig-model`` and ``cf-aig-provider`` name what answered a dynamic route or an alias, and
are sent only then (as the gateway does: for a named model the client already knows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.providers import DYNAMIC_PREFIX, Provider, get_provider
from starlette.requests import Request
from starlette.responses import Response

from .. import auto_router
from ..dynamic_routes import RouteContext, RouteError, RouteOutcome, run_route
from ..errors import Rejection, answers_rejections
from ..ids import uuid7
from ..mock.neutral import MockFailure
from ..mock.schemas import REST_MESSAGES, REST_RESPONSES, UNIFIED_CHAT, Schema
from ..pipeline import RequestContext, StepResult, log_failed_step, open_request, respond, run_step
from ..pipeline.request_headers import bool_header
from ..state import EmulatorState
from .incoming import (
    disconnected,
    forwarded,
    json_body,
    model_not_found,
    provider_named,
    schema_rejection,
    split_unified_model,
)

__all__ = [
    "ALIAS_PREFIX",
    "MESSAGES",
    "RESPONSES",
    "UNIFIED",
    "Endpoint",
    "answer_model",
    "compat_chat",
    "compat_other",
]

ALIAS_PREFIX = "custom"
"""``custom/{alias}`` names a model alias of the gateway (``custom-{slug}/...`` is a custom
provider)."""


@dataclass(frozen=True)
class Endpoint:
    """An endpoint that speaks one schema for every provider: its schema, the provider path a
    step is sent to (and logged and cached under), and whether dynamic routes are accepted."""

    name: str
    schema: Schema[Any, Any]
    path: Callable[[Provider], str]
    dynamic_routes: bool = False
    auto_router: bool = False


UNIFIED = Endpoint(
    "chat/completions", UNIFIED_CHAT, lambda p: p.chat_path or "chat/completions", True, True
)
"""``/compat/chat/completions`` and the REST API's ``/ai/v1/chat/completions``."""
RESPONSES = Endpoint("responses", REST_RESPONSES, lambda p: "responses", auto_router=True)
"""The REST API's ``/ai/v1/responses``."""
MESSAGES = Endpoint("messages", REST_MESSAGES, lambda p: "v1/messages")
"""The REST API's ``/ai/v1/messages``."""


@answers_rejections
async def compat_chat(request: Request) -> Response:
    """``POST /v1/{account}/{gateway}/compat/chat/completions``."""
    p = request.path_params
    state = EmulatorState.of(request)
    ctx = open_request(
        state,
        p["account"],
        p["gateway"],
        request.headers,
        surface="compat",
        disconnected=disconnected(request),
    )
    body = await json_body(request)
    if not isinstance(body, dict):
        raise Rejection.gateway(wire.CODE_BAD_REQUEST, "the body must be a JSON object", 400)
    result, named = await answer_model(ctx, UNIFIED, body, forwarded(ctx.headers))
    return await respond(ctx, result, extra_headers=named)


@answers_rejections
async def compat_other(request: Request) -> Response:
    """``POST /v1/{account}/{gateway}/compat/{path}``: anything but chat completions is 404."""
    raise Rejection.gateway(
        wire.CODE_BAD_REQUEST,
        f"the unified endpoint has no {request.path_params['path']!r}; only "
        "chat/completions (use a provider-native path for embeddings)",
        404,
    )


async def answer_model(
    ctx: RequestContext,
    endpoint: Endpoint,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    *,
    config: Mapping[str, Any] | None = None,
    step: int | None = None,
) -> tuple[StepResult, dict[str, str]]:
    """Answer ``body`` on ``endpoint`` for the model it names (see the module docstring).

    Returns the answering step and the headers naming what answered (dynamic routes and
    aliases only); ``config``: a universal step's; ``step``: its index (for the logs of the
    models a route or alias tried). Raises ``Rejection`` for a model it cannot route.
    """
    model = body.get("model")
    if model == wire.AUTO_MODEL:
        return await _auto(ctx, endpoint, body, headers, config, step)
    prefix, name = split_unified_model(model)
    if prefix == DYNAMIC_PREFIX:
        if not endpoint.dynamic_routes:
            raise schema_rejection(
                endpoint.schema,
                MockFailure(
                    400,
                    "dynamic routes take the chat completions request shape only, not "
                    + endpoint.name,
                    "invalid_request",
                ),
            )
        return await _dynamic_route(ctx, endpoint, body, headers, name, step)
    if prefix == ALIAS_PREFIX:
        return await _alias(ctx, endpoint, body, headers, name, config, step)
    try:
        provider = provider_named(prefix, unified=True)
    except Rejection:
        if _known(prefix):
            raise  # a path segment where a unified prefix belongs: say which to use
        raise model_not_found(endpoint.schema, model, f"no provider {prefix!r}") from None
    return await model_step(ctx, endpoint, provider, name, body, headers, config), {}


def _known(prefix: str) -> bool:
    try:
        get_provider(prefix)
    except ValueError:
        return False
    return True


async def model_step(
    ctx: RequestContext,
    endpoint: Endpoint,
    provider: Provider,
    model: str,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    config: Mapping[str, Any] | None = None,
) -> StepResult:
    """One step of ``endpoint``: ``body`` with ``model`` as the provider names it, sent to the
    provider's path for the endpoint, in the endpoint's schema."""
    return await run_step(
        ctx,
        provider=provider.slug,
        path=endpoint.path(provider),
        schema=endpoint.schema,
        body={**body, "model": model},
        headers=headers,
        config=config,
    )


async def _auto(
    ctx: RequestContext,
    endpoint: Endpoint,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    config: Mapping[str, Any] | None,
    step: int | None,
) -> tuple[StepResult, dict[str, str]]:
    """``cloudflare/auto``: the models of the Auto Router's decision in rank order, the next
    when one fails (failures logged), with the routing headers."""
    if not endpoint.auto_router:
        raise schema_rejection(
            endpoint.schema,
            MockFailure(
                400,
                f"{wire.AUTO_MODEL} takes the Chat Completions and Responses formats, not "
                + endpoint.name,
                "invalid_request",
            ),
        )
    affinity = bool_header(headers, wire.H_NO_SESSION_AFFINITY) is not True
    try:
        decision = auto_router.decide(
            ctx.state.auto_router, (ctx.account, ctx.gateway.id), headers, body, affinity
        )
    except auto_router.PoolError as exc:
        raise Rejection.gateway(wire.CODE_BAD_REQUEST, str(exc), 400) from None
    decision_id = uuid7()
    reason: str = decision.reason
    tried: list[StepResult] = []
    for candidate in decision.ranked:
        provider = candidate.gateway_provider()
        result = await model_step(ctx, endpoint, provider, candidate.model, body, headers, config)
        routing = {
            wire.H_ROUTED_MODEL: candidate.name,
            wire.H_ROUTING_REASON: reason if not tried else "fallback_candidate_unavailable",
            wire.H_ROUTING_DECISION_ID: decision_id,
        }
        if result.ok:
            for failed in tried:
                log_failed_step(ctx, failed, step)
            if decision.pin is not None:
                ctx.state.auto_router.pin(*decision.pin, candidate.name)
            return result, routing
        await result.drain()
        tried.append(result)
    for failed in tried[:-1]:
        log_failed_step(ctx, failed, step)
    return tried[-1], routing


def _named(result: StepResult) -> dict[str, str]:
    return {wire.H_MODEL: result.model, wire.H_PROVIDER: result.provider}


async def _alias(
    ctx: RequestContext,
    endpoint: Endpoint,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    alias: str,
    config: Mapping[str, Any] | None,
    step: int | None,
) -> tuple[StepResult, dict[str, str]]:
    models = ctx.gateway.aliases.get(alias)
    if not models:
        raise model_not_found(
            endpoint.schema,
            body.get("model"),
            f"no model alias {alias!r} on gateway {ctx.gateway.id!r}",
        )
    tried: list[StepResult] = []
    for qualified in models:
        prefix, _, name = qualified.partition("/")
        result = await model_step(ctx, endpoint, get_provider(prefix), name, body, headers, config)
        if result.ok:
            for failed in tried:
                log_failed_step(ctx, failed, step)
            return result, _named(result)
        await result.drain()
        tried.append(result)
    for failed in tried[:-1]:
        log_failed_step(ctx, failed, step)
    return tried[-1], _named(tried[-1])


async def _dynamic_route(
    ctx: RequestContext,
    endpoint: Endpoint,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    route_name: str,
    step: int | None,
) -> tuple[StepResult, dict[str, str]]:
    route = ctx.gateway.routes.get(route_name)
    if route is None:
        raise model_not_found(
            endpoint.schema,
            body.get("model"),
            f"no dynamic route {route_name!r} on gateway {ctx.gateway.id!r}",
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
        result = await model_step(ctx, endpoint, found, model, body, headers, config)
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
            log_failed_step(ctx, other, step)
    return answer, _named(answer)
