"""One exception hierarchy for the whole project, mapped from gateway codes first.

::

    GatewayError                      base: message, status_code, code, info, body, retryable,
    │                                 retry_after, error_type, provider_code, log_id
    ├── GatewayConnectionError        could not connect / connection dropped (retryable)
    │   └── StreamInterruptedError    the connection dropped after a stream had started
    ├── GatewayTimeoutError           client timeout, 408/504, or the gateway's request timeout
    │                                 (retryable; not once a stream has started)
    ├── InvalidResponseError          a 2xx body (or stream event) that is not what was promised
    ├── BadRequestError               400/404/413/422 not covered below
    │   ├── GatewayNotFoundError      2001: the gateway does not exist
    │   ├── ByokCredentialError       2040: the BYOK alias has no stored key
    │   └── ModelNotFoundError        7000/7003: REST API has no route / model
    ├── GatewayAuthenticationError    2009, or 401/403 with a gateway body: cf-aig-authorization
    ├── ProviderAuthenticationError   a provider's own 401/403
    ├── InsufficientBalanceError      2005/2021, 402: credits needed
    ├── ContentBlockedError
    │   ├── GuardrailsBlockedError    2016/2017
    │   └── DLPBlockedError           2029/2030
    ├── RateLimitError                429 (retryable)
    └── ProviderError                 other upstream errors (5xx, ...), provider message kept
        └── GuardrailsUnavailableError 7013 (retryable)

The mapping looks at the gateway error **code** first (2009 has been seen with HTTP 400 and
401), then at the HTTP status. Messages and body excerpts never contain credentials. The
management API answers in Cloudflare's v4 envelope (``{"success": false, "errors": [...]}``)
and maps the same way, except that its codes 7000/7003 (no route / an invalid object id, most
often the account id) are a plain ``BadRequestError``.

The server's retry signals are read for every status: ``retry_after`` (seconds) comes from
``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), and an explicit
``x-should-retry: true|false`` overrides the status-based ``retryable``. An error translated
from another exception (an ``httpx`` transport error, a JSON decode error) keeps it as
``__cause__``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from . import wire
from .response_info import GatewayResponseInfo

__all__ = [
    "BadRequestError",
    "ByokCredentialError",
    "ContentBlockedError",
    "DLPBlockedError",
    "ErrorSource",
    "GatewayAuthenticationError",
    "GatewayConnectionError",
    "GatewayError",
    "GatewayNotFoundError",
    "GatewayTimeoutError",
    "GuardrailsBlockedError",
    "GuardrailsUnavailableError",
    "InsufficientBalanceError",
    "InvalidResponseError",
    "ModelNotFoundError",
    "ProviderAuthenticationError",
    "ProviderError",
    "RateLimitError",
    "StreamInterruptedError",
    "error_from_response",
    "gateway_error_body",
    "redact",
]

BODY_EXCERPT_CHARS = 500
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
"""529 is Anthropic's "overloaded_error": transient by definition, so retried like 503."""

_SECRET_PATTERNS = (
    # any bearer value, however short: "Bearer xyz" is still a credential
    re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{6,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{20,}"),
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Mask known secrets and anything shaped like a bearer token or provider key."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) + " ***") if m.groups() else "***", text)
    return text


class GatewayError(Exception):
    """Base of every error this project raises for gateway traffic: ``except GatewayError``
    catches them all, and no bare ``httpx`` exception escapes the clients.

    ``status_code`` and ``code`` (the gateway's error code, when its body had one) say what
    happened; ``info`` carries the gateway's response headers (``log_id`` finds the request in
    the gateway's logs); ``body`` is a redacted excerpt of the response body. ``retryable`` says
    whether sending the same request again may succeed, and ``retry_after`` how many seconds
    the server asked to wait first (``None`` when it did not say); the client's
    :class:`~cf_ai_gateway.RetryPolicy` already used both before this was raised.
    """

    default_retryable = False
    retry_after: float | None = None
    """Seconds the server asked to wait (``retry-after-ms`` / ``Retry-After``), else ``None``."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: int | None = None,
        info: GatewayResponseInfo | None = None,
        body: str | None = None,
        error_type: str | None = None,
        provider_code: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.info = info if info is not None else GatewayResponseInfo(status_code=status_code)
        self.body = body
        self.error_type = error_type
        self.provider_code = provider_code
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after

    @property
    def log_id(self) -> str | None:
        """The gateway's log id for this request (``cf-aig-log-id``), if it sent one."""
        return self.info.log_id

    def __str__(self) -> str:
        parts = [self.message]
        details = []
        if self.status_code is not None:
            details.append(f"HTTP {self.status_code}")
        if self.code is not None:
            details.append(f"code {self.code}")
        if self.info.log_id:
            details.append(f"log id {self.info.log_id}")
        if details:
            parts.append(f"({', '.join(details)})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, "
            f"status_code={self.status_code!r}, code={self.code!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[GatewayError], message: str, state: dict[str, Any]) -> GatewayError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class GatewayConnectionError(GatewayError):
    """The gateway could not be reached, or the connection dropped before a response arrived
    (DNS, refused, TLS, reset). Retryable: the client already retried per its ``RetryPolicy``;
    if it persists, check the network, a proxy, or a custom ``base_url``. The ``httpx``
    exception is the ``__cause__``."""

    default_retryable = True


class StreamInterruptedError(GatewayConnectionError):
    """The connection failed after a stream had started. Never retried automatically: the
    caller may already have shown the chunks it received. Start a new request if partial output
    is acceptable to repeat; ``info.log_id`` finds the request in the gateway's logs."""

    default_retryable = False


class GatewayTimeoutError(GatewayError):
    """No answer in time: the client's timeout (``timeout=``), an HTTP 408/504, or the gateway's
    own ``cf-aig-request-timeout``. Retryable before a stream starts; a stream that stalls
    mid-way raises it with ``retryable=False``. Raise the timeout, or set
    ``GatewayOptions(request_timeout_ms=...)`` so the gateway can fall back sooner."""

    default_retryable = True


class InvalidResponseError(GatewayError):
    """The gateway answered 2xx, but the body (or a stream event) is not what the endpoint
    promises, such as a body that is not JSON. Not retryable; ``body`` holds a redacted excerpt.
    Often a proxy or a wrong ``base_url`` answering in the gateway's place."""


class BadRequestError(GatewayError):
    """The request was rejected as malformed (HTTP 400/404/413/422 without a more specific
    cause below). Not retryable: fix the request; ``message`` is the gateway's or provider's."""


class GatewayNotFoundError(BadRequestError):
    """Gateway code 2001: the account has no gateway with this id. Check ``gateway_id`` and
    ``account_id`` (only the gateway ``default`` is created on first use)."""


class ByokCredentialError(BadRequestError):
    """Gateway code 2040: the BYOK alias (``byok_alias``, default ``default``) has no stored
    provider key. Store a key for this provider in the gateway, or pass ``api_key=``."""


class ModelNotFoundError(BadRequestError):
    """REST API codes 7000/7003: no route for this endpoint, or the model is not in the
    catalogue. Check the model name (the REST API uses catalogue names such as
    ``openai/gpt-4o-mini``) or use another surface."""


class GatewayAuthenticationError(GatewayError):
    """Gateway code 2009 (seen with HTTP 400 and 401), or a 401/403 with a gateway or Cloudflare
    API body: the Cloudflare token (``cf-aig-authorization``, or ``Authorization`` on the REST
    and management APIs) is missing, invalid or lacks permission. Check ``Gateway(token=...)``
    / ``CF_AIG_TOKEN``; not retryable."""


class ProviderAuthenticationError(GatewayError):
    """The provider itself answered 401/403: the provider key (``api_key=``) is missing,
    invalid or not allowed this model. With BYOK / Unified Billing, create the client without
    ``api_key`` so the gateway injects the stored key; not retryable."""


class InsufficientBalanceError(GatewayError):
    """Gateway codes 2005/2021 or HTTP 402: Unified Billing or the guardrails scanner needs
    credits. Top up the account or send your own provider key; not retryable."""


class ContentBlockedError(GatewayError):
    """The gateway blocked the prompt or the response (guardrails or DLP). Not retryable with
    the same content; ``info.dlp`` has DLP findings when the gateway sent them. Catch this to
    handle both kinds alike."""


class GuardrailsBlockedError(ContentBlockedError):
    """Gateway codes 2016 (prompt) / 2017 (response): a guardrails rule blocked the content.
    Change the content or the gateway's guardrails settings."""


class DLPBlockedError(ContentBlockedError):
    """Gateway codes 2029 (request) / 2030 (response): a data loss prevention rule blocked the
    content. Remove the sensitive data or change the gateway's DLP profile."""


class RateLimitError(GatewayError):
    """HTTP 429: the gateway's rate limit, a spend limit, the Unified Billing cap, or the
    provider's own limit. Retryable: the client waits ``retry_after`` when the server gave one
    (up to ``RetryPolicy.max_retry_after``), else backs off. If it persists, slow down or raise
    the limit in the gateway's settings."""

    default_retryable = True


class ProviderError(GatewayError):
    """Any other upstream error (5xx, unknown 4xx, an error event inside a stream); the
    provider's ``message``, ``error_type`` and ``provider_code`` are kept. HTTP 409, 500, 502,
    503 and 529 are retryable; gateway-side retries (``GatewayOptions(max_attempts=...)``) or
    universal fallbacks ride out a failing provider."""


class GuardrailsUnavailableError(ProviderError):
    """Gateway code 7013 (HTTP 503): the guardrails scanner is unavailable and a Block rule
    applies, so the request was not sent. Retryable; it usually passes shortly."""

    default_retryable = True


_CODE_CLASSES: dict[int, type[GatewayError]] = {
    wire.CODE_GATEWAY_NOT_FOUND: GatewayNotFoundError,
    wire.CODE_INSUFFICIENT_BALANCE: InsufficientBalanceError,
    wire.CODE_GUARDRAILS_NEEDS_CREDITS: InsufficientBalanceError,
    wire.CODE_UNAUTHORIZED: GatewayAuthenticationError,
    wire.CODE_GUARDRAILS_PROMPT_BLOCKED: GuardrailsBlockedError,
    wire.CODE_GUARDRAILS_RESPONSE_BLOCKED: GuardrailsBlockedError,
    wire.CODE_DLP_REQUEST_BLOCKED: DLPBlockedError,
    wire.CODE_DLP_RESPONSE_BLOCKED: DLPBlockedError,
    wire.CODE_BYOK_MISSING_KEY: ByokCredentialError,
    wire.CODE_GUARDRAILS_UNAVAILABLE: GuardrailsUnavailableError,
    wire.CODE_REST_NO_ROUTE: ModelNotFoundError,
    wire.CODE_REST_MODEL_NOT_FOUND: ModelNotFoundError,
    wire.CODE_RATE_LIMITED: RateLimitError,
    wire.CODE_REQUEST_TIMEOUT: GatewayTimeoutError,
}


_MANAGEMENT_CODE_CLASSES: dict[int, type[GatewayError]] = {
    **_CODE_CLASSES,
    # On the management API 7000/7003 name a path or an object id (most often the account id),
    # not a model: a plain BadRequestError, not ModelNotFoundError.
    wire.CODE_API_NO_ROUTE: BadRequestError,
    wire.CODE_API_COULD_NOT_ROUTE: BadRequestError,
}

ErrorSource = Literal["gateway", "management"]
"""Which API answered: the gateway surfaces (and REST), or the management API."""


def gateway_error_body(code: int, message: str, http_code: int) -> dict[str, Any]:
    """The newer gateway error body shape (the emulator answers with exactly this)."""
    return {
        "success": False,
        "result": [],
        "messages": [],
        "error": [{"code": code, "message": message}],
        "name": "AiGatewayError",
        "httpCode": http_code,
        "internalCode": code,
        "message": message,
    }


def _gateway_code(body: Any) -> tuple[int | None, str | None]:
    """The gateway error code and message of either observed gateway body shape."""
    if not isinstance(body, dict):
        return None, None
    errors = body.get("error")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        message = errors[0].get("message")
        if isinstance(code, int) and not isinstance(code, bool):
            return code, message if isinstance(message, str) else None
    code = body.get("internalCode")
    if isinstance(code, int) and not isinstance(code, bool):
        message = body.get("message")
        return code, message if isinstance(message, str) else None
    # The Cloudflare v4 envelope (REST and management API): {"success": false, "errors": [...]}.
    # REST's 7000 (no route) and 7003 (could not route / model not found) arrive this way.
    errors = body.get("errors")
    if (
        body.get("success") is False
        and isinstance(errors, list)
        and errors
        and isinstance(errors[0], dict)
    ):
        code = errors[0].get("code")
        message = errors[0].get("message")
        if isinstance(code, int) and not isinstance(code, bool):
            return code, message if isinstance(message, str) else None
    return None, None


def _provider_error(body: Any) -> tuple[str | None, str | None, str | None]:
    """(message, type, code) of an OpenAI- or Anthropic-style provider error body."""
    if not isinstance(body, dict):
        return None, None, None
    err = body.get("error")
    if isinstance(err, dict):
        message = err.get("message")
        etype = err.get("type")
        code = err.get("code")
        return (
            message if isinstance(message, str) else None,
            etype if isinstance(etype, str) else None,
            str(code) if code is not None else None,
        )
    if isinstance(err, str):
        return err, None, None
    for key in ("message", "detail"):
        if isinstance(body.get(key), str):
            return body[key], None, None
    # Cloudflare v4 envelope {"errors": [{"code", "message"}]} (REST / management API).
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = errors[0].get("message")
        code = errors[0].get("code")
        return (
            message if isinstance(message, str) else None,
            None,
            str(code) if code is not None else None,
        )
    return None, None, None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:
        from datetime import datetime, timezone

        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked to wait: ``retry-after-ms`` first, then ``Retry-After``
    (``headers`` lower-cased); a value that does not parse counts as absent."""
    millis = headers.get(wire.H_RETRY_AFTER_MS, "").strip()
    if millis:
        try:
            value = float(millis)
        except ValueError:
            pass
        else:
            if not math.isnan(value):
                return max(0.0, value / 1000)
    return parse_retry_after(headers.get(wire.H_RETRY_AFTER))


def _should_retry(headers: Mapping[str, str]) -> bool | None:
    """The server's explicit ``x-should-retry: true|false`` (``headers`` lower-cased)."""
    value = headers.get(wire.H_SHOULD_RETRY, "").strip().lower()
    return {"true": True, "false": False}.get(value)


def _html_title(text: str) -> str | None:
    match = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else None


def error_from_response(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    secrets: Iterable[str | None] = (),
    source: ErrorSource = "gateway",
) -> GatewayError:
    """Build the typed error for a non-2xx gateway response (``source="management"`` for the
    management API, whose v4 codes 7000/7003 mean a wrong path or id, not a model)."""
    lower = {k.lower(): v for k, v in headers.items()}
    info = GatewayResponseInfo.from_headers(lower, status_code=status_code)
    secret_list = list(secrets)
    text = content.decode("utf-8", errors="replace")
    # Redact before cutting: a secret straddling the cut would otherwise leak its prefix.
    excerpt = redact(text, secret_list)[:BODY_EXCERPT_CHARS] or None
    try:
        body: Any = json.loads(text) if text.strip() else None
    except ValueError:
        body = None

    code, gw_message = _gateway_code(body)
    p_message, p_type, p_code = _provider_error(body)
    message = gw_message or p_message
    if message is None:
        title = _html_title(text) if body is None else None
        message = title or f"HTTP {status_code} from the gateway"
        if body is None and text.strip():
            message += " (non-JSON body)"
    message = redact(message, secret_list)

    cls: type[GatewayError]
    codes = _MANAGEMENT_CODE_CLASSES if source == "management" else _CODE_CLASSES
    if code is not None and code in codes:
        cls = codes[code]
    elif status_code == 429:
        cls = RateLimitError
    elif status_code in (401, 403):
        cls = GatewayAuthenticationError if code is not None else ProviderAuthenticationError
    elif status_code in (408, 504):
        cls = GatewayTimeoutError
    elif status_code == 402:
        cls = InsufficientBalanceError
    elif status_code in (400, 404, 413, 422):
        cls = BadRequestError
    else:
        cls = ProviderError

    kwargs: dict[str, Any] = {
        "status_code": status_code,
        "code": code,
        "info": info,
        "body": excerpt,
        "error_type": p_type,
        "provider_code": p_code,
    }
    if status_code in RETRYABLE_STATUSES and cls in (
        ProviderError,
        GatewayTimeoutError,
        RateLimitError,
        GuardrailsUnavailableError,
    ):
        kwargs["retryable"] = True
    should_retry = _should_retry(lower)
    if should_retry is not None:
        # The server's explicit word beats the status (openai-python's ``_should_retry``).
        kwargs["retryable"] = should_retry
    return cls(message, retry_after=_retry_after(lower), **kwargs)
