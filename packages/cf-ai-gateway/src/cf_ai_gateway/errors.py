"""One exception hierarchy for the whole project, mapped from gateway codes first.

::

    GatewayError                      base: status_code, code, message, info, retryable
    ├── GatewayConnectionError        could not connect / connection dropped (retryable)
    │   └── StreamInterruptedError    the connection dropped after a stream had started
    ├── GatewayTimeoutError           client timeout, or the gateway's request timeout (retryable)
    ├── InvalidResponseError          a 2xx body that is not what the endpoint promises
    ├── BadRequestError               400/404/422 not covered below
    │   ├── GatewayNotFoundError      2001: the gateway does not exist
    │   ├── ByokCredentialError       2040: the BYOK alias has no stored key
    │   └── ModelNotFoundError        7000/7003: REST API has no route / model
    ├── GatewayAuthenticationError    2009: missing or invalid cf-aig-authorization
    ├── ProviderAuthenticationError   a provider's own 401/403
    ├── InsufficientBalanceError      2005/2021: credits needed
    ├── ContentBlockedError
    │   ├── GuardrailsBlockedError    2016/2017
    │   └── DLPBlockedError           2029/2030
    ├── RateLimitError                429 (retry_after from Retry-After)
    └── ProviderError                 other upstream errors (5xx, ...), provider message kept
        └── GuardrailsUnavailableError 7013

The mapping looks at the gateway error **code** first (2009 has been seen with HTTP 400 and
401), then at the HTTP status. Messages and body excerpts never contain credentials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from . import wire
from .response_info import GatewayResponseInfo

__all__ = [
    "BadRequestError",
    "ByokCredentialError",
    "ContentBlockedError",
    "DLPBlockedError",
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
    """Base of every error this project raises for gateway traffic."""

    default_retryable = False

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

    @property
    def log_id(self) -> str | None:
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
    default_retryable = True


class StreamInterruptedError(GatewayConnectionError):
    """The connection failed after a stream had started; never retried automatically."""

    default_retryable = False


class GatewayTimeoutError(GatewayError):
    default_retryable = True


class InvalidResponseError(GatewayError):
    pass


class BadRequestError(GatewayError):
    pass


class GatewayNotFoundError(BadRequestError):
    pass


class ByokCredentialError(BadRequestError):
    pass


class ModelNotFoundError(BadRequestError):
    pass


class GatewayAuthenticationError(GatewayError):
    pass


class ProviderAuthenticationError(GatewayError):
    pass


class InsufficientBalanceError(GatewayError):
    pass


class ContentBlockedError(GatewayError):
    pass


class GuardrailsBlockedError(ContentBlockedError):
    pass


class DLPBlockedError(ContentBlockedError):
    pass


class RateLimitError(GatewayError):
    default_retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ProviderError(GatewayError):
    pass


class GuardrailsUnavailableError(ProviderError):
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
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from datetime import datetime, timezone

        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None


def _html_title(text: str) -> str | None:
    match = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else None


def error_from_response(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    secrets: Iterable[str | None] = (),
) -> GatewayError:
    """Build the typed error for a non-2xx gateway response."""
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
    if code is not None and code in _CODE_CLASSES:
        cls = _CODE_CLASSES[code]
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
    if cls is RateLimitError:
        return RateLimitError(
            message, retry_after=parse_retry_after(lower.get("retry-after")), **kwargs
        )
    return cls(message, **kwargs)
