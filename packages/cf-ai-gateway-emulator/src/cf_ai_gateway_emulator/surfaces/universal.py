"""The universal surface: ``POST /v1/{account}/{gateway}`` with a JSON array of steps
``{provider, endpoint, headers, query, config}``, tried in order (server-side fallback).

- Any non-2xx step answer (or a timeout) moves to the next step; ``cf-aig-step`` names the
  0-based index of the step that answered.
- When every step fails the answer is the last step's error response (status and body) with
  ``cf-aig-step`` = that step's index; ``CODE_FALLBACK_EXHAUSTED`` (502) only when no step
  produced any response (connection errors only).
- ``"provider": "compat"`` steps go through the unified endpoint (``endpoint``
  ``chat/completions``, with or without ``v1/``), dynamic routes and aliases included; a model
  it cannot route is a failed step with the unified endpoint's 404.
- Header precedence: step ``headers`` > the outer request's headers > gateway settings; values
  that are numbers or booleans become strings, objects JSON. Request-level headers (metadata,
  event id, log collection, custom cost) are read from the outer request only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cf_ai_gateway import wire
from starlette.requests import Request
from starlette.responses import Response

from ..errors import Rejection, answers_rejections
from ..exchange import UpstreamResponse
from ..mock.neutral import MockFailure
from ..mock.schemas import schema_for
from ..mock.schemas.registry import without_v1
from ..pipeline import RequestContext, StepResult, log_failed_step, open_request, respond, run_step
from ..pipeline.step_settings import check_step_config
from ..state import EmulatorState
from .incoming import disconnected, forwarded, json_body, provider_named, schema_rejection
from .unified import UNIFIED, answer_model

__all__ = ["COMPAT", "step_headers", "universal"]

COMPAT = "compat"
"""A step with ``"provider": "compat"`` goes through the unified endpoint (its ``query`` names
``{provider}/{model}``, ``dynamic/{route}`` or ``custom/{alias}``)."""
_COMPAT_ENDPOINTS = ("chat/completions", "chat/completion")
"""``chat/completion`` is what Cloudflare's dynamic-routing page shows for Workers."""


def step_headers(raw: object) -> dict[str, str]:
    """A step's ``headers`` as strings (``true``/``false``, numbers, objects as JSON)."""
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


@answers_rejections
async def universal(request: Request) -> Response:
    """``POST /v1/{account}/{gateway}``: a JSON array of steps, tried in order."""
    p = request.path_params
    state = EmulatorState.of(request)
    ctx = open_request(
        state,
        p["account"],
        p["gateway"],
        request.headers,
        surface="universal",
        disconnected=disconnected(request),
    )
    steps = await json_body(request)
    if isinstance(steps, dict):
        steps = [steps]
    if not isinstance(steps, list) or not steps:
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST, "the universal endpoint expects a JSON array of steps", 400
        )
    outer = forwarded(ctx.headers)
    for index, step in enumerate(steps):
        _check_step(index, step)  # every step is checked before any runs
    failed: list[tuple[int, StepResult]] = []
    for index, step in enumerate(steps):
        endpoint = str(step.get("endpoint") or "").strip("/")
        config = step.get("config")
        headers = {**outer, **step_headers(step.get("headers"))}
        named: dict[str, str] = {}
        if step["provider"] == COMPAT:
            result, named = await _compat_step(
                ctx, endpoint, step.get("query"), headers, config, index
            )
        else:
            provider = provider_named(step["provider"], unified=False)
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
            for i, earlier in failed:
                log_failed_step(ctx, earlier, i)
            return await respond(ctx, result, step=index, extra_headers=named)
        await result.drain()
        failed.append((index, result))
    answered = [(i, r) for i, r in failed if r.response is not None]
    chosen_index, chosen = answered[-1] if answered else failed[-1]
    for i, other in failed:
        if i != chosen_index:
            log_failed_step(ctx, other, i)
    return await respond(ctx, chosen, step=chosen_index)


def _check_step(index: int, step: object) -> None:
    """A step's shape and ``config``: a malformed one is the gateway's 400."""
    if not isinstance(step, Mapping) or not isinstance(step.get("provider"), str):
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST, f"step {index} needs 'provider', 'endpoint' and 'query'", 400
        )
    config = step.get("config")
    if config is None:
        return
    if not isinstance(config, Mapping):
        raise Rejection.gateway(
            wire.CODE_BAD_REQUEST,
            f"step {index} 'config' must be an object "
            "({requestTimeout, maxAttempts, retryDelay, backoff})",
            400,
        )
    check_step_config(config)


async def _compat_step(
    ctx: RequestContext,
    endpoint: str,
    query: object,
    headers: Mapping[str, str],
    config: Mapping[str, Any] | None,
    index: int,
) -> tuple[StepResult, dict[str, str]]:
    """A ``compat`` step; a request the unified endpoint rejects is a failed step."""
    body = query if isinstance(query, Mapping) else {}
    model = str(body.get("model") or "")
    try:
        if without_v1(endpoint) not in _COMPAT_ENDPOINTS:
            message = f"the unified endpoint has no {endpoint!r}; only chat/completions"
            failure = MockFailure(404, message, "invalid_request", "unknown_url")
            raise schema_rejection(UNIFIED.schema, failure)
        return await answer_model(ctx, UNIFIED, body, headers, config=config, step=index)
    except Rejection as rejection:
        answer = rejection.response
        response = UpstreamResponse(
            answer.status_code, {"content-type": "application/json"}, bytes(answer.body)
        )
        return StepResult(COMPAT, endpoint, UNIFIED.schema, model, query, response), {}
