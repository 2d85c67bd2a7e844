"""Error answers of the emulator itself, and the one way to reject a request.

Two body shapes, one builder each, codes only from ``cf_ai_gateway.wire``:

- ``gateway_error``: what the gateway host answers (``gateway_error_body`` of the core);
- ``api_error``: the Cloudflare v4 envelope of the management API (and unknown paths).

Anywhere below an HTTP handler, ``raise Rejection.gateway(...)`` or ``raise Rejection.api(...)``
stops the request; handlers wrapped in ``answers_rejections`` answer with its response.
Provider-style errors (an upstream's own body) are not built here: the mock's wire schemas
render them.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping

from cf_ai_gateway.errors import gateway_error_body
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["Rejection", "answers_rejections", "api_error", "gateway_error"]

Handler = Callable[[Request], Awaitable[Response]]


def gateway_error(
    code: int, message: str, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A gateway-generated error response (the core's ``gateway_error_body``)."""
    return JSONResponse(
        gateway_error_body(code, message, status), status_code=status, headers=dict(headers or {})
    )


def api_error(code: int, message: str, status: int) -> JSONResponse:
    """A Cloudflare v4 API error response: ``{"success": false, "errors": [...], ...}``."""
    return JSONResponse(
        {
            "success": False,
            "errors": [{"code": code, "message": message}],
            "messages": [],
            "result": None,
        },
        status_code=status,
    )


class Rejection(Exception):
    """Stops a request with a ready error response (``answers_rejections`` sends it)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response

    @classmethod
    def gateway(
        cls, code: int, message: str, status: int, headers: Mapping[str, str] | None = None
    ) -> Rejection:
        """Reject with the gateway's error body (surfaces and the pipeline)."""
        return cls(gateway_error(code, message, status, headers))

    @classmethod
    def api(cls, code: int, message: str, status: int) -> Rejection:
        """Reject with the v4 envelope (the management API)."""
        return cls(api_error(code, message, status))


def answers_rejections(handler: Handler) -> Handler:
    """Wrap an HTTP handler so that a ``Rejection`` raised inside it becomes its answer."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Rejection as rejection:
            return rejection.response

    return wrapped
