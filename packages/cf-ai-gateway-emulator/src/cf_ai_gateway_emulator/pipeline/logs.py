"""The gateway's logs: one per attempted step, sharing the request id.

The answering step's log id is ``cf-aig-log-id`` (= ``cf-aig-request-id`` for single-step
requests). Authentication and unknown-gateway failures are not logged. ``cf-aig-collect-log``
overrides the gateway's setting; ``cf-aig-collect-log-payload: false`` keeps the bodies out.
Request headers are never stored, so credentials never reach the logs API.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..state import iso_time
from .context import RequestContext
from .credentials import Credential
from .step import StepResult
from .usage import cost

__all__ = ["capped", "dumps", "log_failed_step", "write_log"]


def capped(text: str | None, limit: int) -> str | None:
    """``text`` cut to at most ``limit`` UTF-8 bytes (``[emulator] log_body_max_bytes``): a
    100 MB request body is not stored whole in a log."""
    if text is None or len(text) * 4 <= limit:
        return text
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


_LOG_JSON = json.JSONEncoder(ensure_ascii=False)
"""``json.dumps(..., ensure_ascii=False)`` without building an encoder per call."""


def dumps(body: Any) -> str | None:
    """A request body as the log stores it (JSON, non-ASCII kept)."""
    if body is None:
        return None
    return _LOG_JSON.encode(body)


def write_log(
    ctx: RequestContext,
    log_id: str,
    *,
    provider: str,
    model: str,
    path: str,
    kind: str,
    status: int,
    cached: bool,
    tokens: tuple[int, int],
    step: int | None,
    request_body: str | None,
    response_body: str | None,
    priced: bool = True,
    success: bool | None = None,
    credential: Credential | None = None,
) -> None:
    """Store one log (unless logging is off for the request), with the logs API's fields, and
    the emulator's ``credential_source`` / ``byok_alias`` (see ``credentials``)."""
    if not ctx.collect_log:
        return
    log = {
        "id": log_id,
        "created_at": iso_time(ctx.created_at),
        "provider": provider,
        "model": model,
        "model_type": kind,
        "path": path,
        "success": (200 <= status < 300) if success is None else success,
        "status_code": status,
        "cached": cached,
        "duration": int((time.perf_counter() - ctx.started) * 1000),
        "tokens_in": tokens[0],
        "tokens_out": tokens[1],
        "cost": round(cost(ctx, tokens, priced and not cached), 12),
        "custom_cost": ctx.custom_cost is not None,
        "metadata": json.dumps(ctx.metadata) if ctx.metadata else None,
        "step": step,
        "event_id": ctx.event_id,
        "request_id": ctx.request_id,
        "request_type": ctx.surface,
        "feedback": None,
        "score": None,
        "credential_source": credential.source if credential else None,
        "byok_alias": credential.alias if credential else None,
    }
    keep = ctx.collect_payload
    most = ctx.state.config.log_body_max_bytes
    gw = ctx.gateway
    ctx.state.storage.insert_log(
        ctx.account,
        gw.id,
        log,
        capped(request_body, most) if keep else None,
        capped(response_body, most) if keep else None,
        limit=gw.log_management,
        strategy=gw.log_management_strategy,
    )


def log_failed_step(ctx: RequestContext, result: StepResult, step: int | None) -> None:
    """Log a step that did not answer (its body was read in full, see ``StepResult.drain``)."""
    response = result.response
    write_log(
        ctx,
        ctx.new_log_id(),
        provider=result.provider,
        model=result.model,
        path=result.path,
        kind=result.kind,
        status=response.status if response else 502,
        cached=False,
        tokens=(0, 0),
        step=step,
        request_body=dumps(result.request_body),
        response_body=response.body.decode("utf-8", "replace") if response else None,
        priced=False,
        credential=result.credential,
    )
