"""Reading what came back, shared by the sync and async clients (no I/O): a 2xx response into a
:class:`GatewayResult`, a failed one or an ``httpx`` exception into a typed ``GatewayError``
that keeps the original exception as its ``__cause__``."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ._requests import PreparedRequest
from .errors import (
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    InvalidResponseError,
    error_from_response,
    redact,
)
from .response_info import GatewayResponseInfo

logger = logging.getLogger("cf_ai_gateway")

ATTEMPTS_EXTENSION = "cf_aig_attempts"
"""Where the retry drivers leave, on a 2xx ``httpx.Response``, how many sends it took."""


def response_info(response: httpx.Response) -> GatewayResponseInfo:
    """What the gateway said about a 2xx response, with the attempts it took this client."""
    attempts = response.extensions.get(ATTEMPTS_EXTENSION)
    return GatewayResponseInfo.from_headers(
        response.headers,
        status_code=response.status_code,
        attempts=attempts if isinstance(attempts, int) else None,
    )


@dataclass(frozen=True)
class GatewayResult:
    """A parsed JSON response with the gateway's metadata about it."""

    data: Any
    info: GatewayResponseInfo
    status_code: int
    headers: Mapping[str, str]


def read_result(req: PreparedRequest, response: httpx.Response) -> GatewayResult:
    """The parsed JSON of a 2xx ``response`` (already read); ``InvalidResponseError`` if the
    body is not JSON."""
    status = response.status_code
    lower = {k.lower(): v for k, v in response.headers.items()}
    info = response_info(response)
    logger.debug(
        "%s -> %s (cache=%s log_id=%s step=%s attempts=%s)",
        redact(req.describe(), req.secrets),
        status,
        info.cache_status,
        info.log_id,
        info.step,
        info.attempts,
    )
    try:
        data = json.loads(response.content)
    except ValueError as exc:
        raise InvalidResponseError(
            "the gateway answered 2xx with a body that is not JSON",
            status_code=status,
            info=info,
            body=redact(response.content.decode("utf-8", "replace"), req.secrets)[:500],
        ) from exc
    return GatewayResult(data, info, status, lower)


def read_error(req: PreparedRequest, response: httpx.Response) -> GatewayError:
    """The typed error of a non-2xx ``response`` (already read), with the server's retry
    signals (``retry_after``, ``x-should-retry``) on it."""
    err = error_from_response(
        response.status_code,
        response.headers,
        response.content,
        secrets=req.secrets,
        source=req.source,
        context=req.context,
    )
    logger.debug(
        "%s -> %s %s",
        redact(req.describe(), req.secrets),
        response.status_code,
        type(err).__name__,
    )
    return err


def transport_error(exc: httpx.HTTPError, req: PreparedRequest) -> GatewayError:
    """Translate an ``httpx`` exception raised while sending into our hierarchy (never a bare
    httpx error escapes). ``exc`` becomes the error's ``__cause__``: it carries the request, but
    its text is httpx's; our message is redacted."""
    text = redact(f"{type(exc).__name__}: {exc}", req.secrets)
    error: GatewayError
    if isinstance(exc, httpx.TimeoutException):
        error = GatewayTimeoutError(f"request timed out ({text})")
    else:
        error = GatewayConnectionError(f"could not reach the gateway ({text})")
    error.__cause__ = exc  # raised later, by the retry flow, once it gives up
    return error
