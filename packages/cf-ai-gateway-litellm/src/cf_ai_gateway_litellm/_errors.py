"""The core's errors as LiteLLM's own exception classes, at one point of the provider.

LiteLLM passes its own exception classes through unchanged (type, attributes and
``__cause__``), while anything else becomes a bare ``APIConnectionError`` on 1.80 (and loses
its attributes on later lines), which the Router retries and never cools down. So every core
:class:`~cf_ai_gateway.GatewayError` is raised as the LiteLLM class a built-in provider would
raise for the same failure, carrying:

- ``gateway_code``: the gateway's error code (``2009``, ``2001``, ``2003``, ...), or ``None``;
- ``log_id``: the gateway's log id (``cf-aig-log-id``), or ``None``;
- ``cf_aig``: the typed :class:`~cf_ai_gateway.GatewayResponseInfo`;
- ``__cause__``: the core error itself;
- a ``response`` whose headers are the gateway's ``cf-aig-*`` headers plus ``retry-after``
  when the server asked for a wait (the Router's back-off reads it).

The message names the core class, the gateway code and the log id, so they also reach
clients of the LiteLLM proxy (which keeps only the message).
"""

from __future__ import annotations

import math
from typing import Any

import httpx
from cf_ai_gateway import errors as core
from litellm import exceptions as lx

from ._info import HIDDEN_PARAMS_KEY

__all__ = ["PROVIDER", "litellm_error"]

PROVIDER = "cloudflare-ai-gateway"
_CONTEXT_OVERFLOW_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})
_PLACEHOLDER_URL = "https://gateway.ai.cloudflare.com"


def _response(err: core.GatewayError, status: int, url: str | None) -> httpx.Response:
    headers = dict(err.info.raw)
    if err.retry_after is not None:
        headers["retry-after"] = f"{math.ceil(err.retry_after)}"
        headers["retry-after-ms"] = f"{round(err.retry_after * 1000)}"
    return httpx.Response(
        status, headers=headers, request=httpx.Request("POST", url or _PLACEHOLDER_URL)
    )


def _status_error(err: core.GatewayError, message: str, model: str, url: str | None) -> Exception:
    """A core error read by status, as LiteLLM maps an OpenAI-compatible provider's errors
    (``exception_mapping_utils``): 5xx by their own classes, anything else ``APIError``."""
    status = err.status_code or 500
    kw: dict[str, Any] = {"message": message, "llm_provider": PROVIDER, "model": model}
    if status == 500:
        return lx.InternalServerError(response=_response(err, 500, url), **kw)
    if status == 502:
        return lx.BadGatewayError(response=_response(err, 502, url), **kw)
    if status in (503, 529):
        return lx.ServiceUnavailableError(response=_response(err, 503, url), **kw)
    if status == 504:
        return lx.Timeout(exception_status_code=504, **kw)
    return lx.APIError(
        status_code=status, request=httpx.Request("POST", url or _PLACEHOLDER_URL), **kw
    )


def _map(err: core.GatewayError, message: str, model: str, url: str | None) -> Exception:
    kw: dict[str, Any] = {"message": message, "llm_provider": PROVIDER, "model": model}
    status = err.status_code
    if isinstance(err, (core.GatewayAuthenticationError, core.ProviderAuthenticationError)):
        if status == 403:
            return lx.PermissionDeniedError(response=_response(err, 403, url), **kw)
        return lx.AuthenticationError(response=_response(err, 401, url), **kw)
    if isinstance(err, core.EdgeBlockedError):
        # Cloudflare's edge refused the client (a zone security rule): access denied
        return lx.PermissionDeniedError(response=_response(err, 403, url), **kw)
    if isinstance(err, core.ByokCredentialError):
        # the deployment's credentials are misconfigured: what a bad key is to the Router
        return lx.AuthenticationError(response=_response(err, 401, url), **kw)
    if isinstance(err, (core.GatewayNotFoundError, core.ModelNotFoundError)) or (
        isinstance(err, core.BadRequestError) and status == 404
    ):
        return lx.NotFoundError(response=_response(err, 404, url), **kw)
    if isinstance(err, core.ContentBlockedError):
        return lx.ContentPolicyViolationError(response=_response(err, 400, url), **kw)
    if isinstance(err, core.BadRequestError):
        if err.provider_code in _CONTEXT_OVERFLOW_CODES:
            return lx.ContextWindowExceededError(response=_response(err, 400, url), **kw)
        return lx.BadRequestError(response=_response(err, 400, url), **kw)
    if isinstance(err, core.RateLimitError):  # a spend limit (2041) too: a 429 to LiteLLM
        return lx.RateLimitError(response=_response(err, 429, url), **kw)
    if isinstance(err, core.GatewayTimeoutError):
        return lx.Timeout(exception_status_code=status or 408, **kw)
    if isinstance(err, core.GatewayConnectionError):
        return lx.APIConnectionError(request=httpx.Request("POST", url or _PLACEHOLDER_URL), **kw)
    if isinstance(err, core.GuardrailsUnavailableError):
        return lx.ServiceUnavailableError(response=_response(err, 503, url), **kw)
    if isinstance(err, core.InsufficientBalanceError):
        return lx.APIError(
            status_code=402, request=httpx.Request("POST", url or _PLACEHOLDER_URL), **kw
        )
    if isinstance(err, core.InvalidResponseError):
        return lx.InternalServerError(response=_response(err, 500, url), **kw)
    return _status_error(err, message, model, url)


def litellm_error(exc: Exception, model: str, url: str | None = None) -> Exception:
    """``exc`` as the LiteLLM exception to raise (``raise litellm_error(e, m) from e``).

    A core :class:`~cf_ai_gateway.GatewayError` becomes the LiteLLM class of the same
    meaning; a ``ValueError`` / ``TypeError`` raised while checking the call (a bad option,
    a credential where it must not be, a malformed ``api_base``) becomes
    ``litellm.BadRequestError``; anything else is returned as is."""
    if isinstance(exc, core.GatewayError):
        message = f"{type(exc).__name__}: {exc}"
        mapped = _map(exc, message, model, url)
        mapped.gateway_code = exc.code  # type: ignore[attr-defined]
        mapped.log_id = exc.log_id  # type: ignore[attr-defined]
        setattr(mapped, HIDDEN_PARAMS_KEY, exc.info)
        return mapped
    if isinstance(exc, (ValueError, TypeError)):
        mapped = lx.BadRequestError(
            message=f"{type(exc).__name__}: {exc}", model=model, llm_provider=PROVIDER
        )
        mapped.gateway_code = None  # type: ignore[attr-defined]
        mapped.log_id = None  # type: ignore[attr-defined]
        return mapped
    return exc
