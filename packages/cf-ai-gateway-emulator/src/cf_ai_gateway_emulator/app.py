"""The Starlette ASGI application: ``create_app(...)`` wires the surfaces and the management
API to one ``EmulatorState`` (``app.state.emulator``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cf_ai_gateway import wire
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import __version__
from .clock import Clock
from .config import EmulatorConfig
from .errors import api_error
from .management import ROUTES as MANAGEMENT_ROUTES
from .mock.faults import StreamCutFault
from .request_log import RequestLog
from .state import EmulatorState
from .surfaces import (
    compat_chat,
    compat_other,
    provider_native,
    rest_chat,
    rest_count_tokens,
    rest_messages,
    rest_responses,
    rest_run,
    rest_run_model,
    universal,
)

__all__ = ["create_app"]

_REST = "/client/v4/accounts/{account}/ai"


class _QuietFaults(logging.Filter):
    """Keep uvicorn from printing a traceback for every injected stream cut."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, StreamCutFault)


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietFaults) for f in logger.filters):
        logger.addFilter(_QuietFaults())


async def info(request: Request) -> Response:
    state = EmulatorState.of(request)
    base = str(request.base_url).rstrip("/")
    account = state.config.default_account
    return JSONResponse(
        {
            "name": "cf-ai-gateway-emulator",
            "version": __version__,
            "accounts": {acc_id: sorted(acc.gateways) for acc_id, acc in state.accounts.items()},
            "gateway_url": f"{base}/v1/{account}/{{gateway}}",
            "api_base_url": f"{base}/client/v4",
        }
    )


async def not_found(request: Request, exc: Exception) -> Response:
    return api_error(
        wire.CODE_REST_NO_ROUTE, f"No route for {request.method} {request.url.path}", 404
    )


def create_app(
    config: EmulatorConfig | str | Path | Mapping[str, Any] | None = None,
    *,
    db: str | Path = ":memory:",
    clock: Clock | None = None,
    state: EmulatorState | None = None,
    log_requests: bool = False,
) -> Starlette:
    """The emulator as an ASGI app (serve it with uvicorn, or test it via ASGI transport);
    ``log_requests``: one line per request on stderr (``request_log``)."""
    emulator = state if state is not None else EmulatorState(config, db=db, clock=clock)
    # the gateway's routes first: Starlette tries routes in order, and these serve the
    # requests that count (no other path starts with /v1/, so the order changes no match)
    routes = [
        Route("/v1/{account}/{gateway}/compat/chat/completions", compat_chat, methods=["POST"]),
        Route("/v1/{account}/{gateway}/compat/v1/chat/completions", compat_chat, methods=["POST"]),
        Route("/v1/{account}/{gateway}/compat/{path:path}", compat_other, methods=["POST"]),
        Route("/v1/{account}/{gateway}/{provider}/{path:path}", provider_native, methods=["POST"]),
        Route("/v1/{account}/{gateway}", universal, methods=["POST"]),
        Route("/v1/{account}/{gateway}/", universal, methods=["POST"]),
    ]
    routes += [Route(path, fn, methods=methods) for path, fn, methods in MANAGEMENT_ROUTES]
    routes += [
        Route("/", info, methods=["GET"]),
        Route("/healthz", info, methods=["GET"]),
        Route(f"{_REST}/v1/chat/completions", rest_chat, methods=["POST"]),
        Route(f"{_REST}/v1/responses", rest_responses, methods=["POST"]),
        Route(f"{_REST}/v1/messages", rest_messages, methods=["POST"]),
        Route(f"{_REST}/v1/messages/count_tokens", rest_count_tokens, methods=["POST"]),
        # Cloudflare's REST page points the Anthropic SDK at ``.../ai/v1``, to which the SDK
        # appends ``/v1/messages``: served too, so that a client set up as documented works.
        Route(f"{_REST}/v1/v1/messages", rest_messages, methods=["POST"]),
        Route(f"{_REST}/v1/v1/messages/count_tokens", rest_count_tokens, methods=["POST"]),
        Route(f"{_REST}/run", rest_run, methods=["POST"]),
        Route(f"{_REST}/run/{{model:path}}", rest_run_model, methods=["POST"]),
    ]
    _install_log_filter()
    middleware = [Middleware(RequestLog)] if log_requests else []
    app = Starlette(routes=routes, exception_handlers={404: not_found}, middleware=middleware)
    app.state.emulator = emulator
    return app
