"""One exception hierarchy for the whole project, mapped from gateway codes first.

::

    GatewayError                      base: message, hint, status_code, code, info, body,
    │                                 retryable, retry_after, error_type, provider_code,
    │                                 log_id, attempts
    ├── GatewayConnectionError        could not connect / connection dropped (retryable)
    │   └── StreamInterruptedError    the connection dropped after a stream had started
    ├── GatewayTimeoutError           client timeout, 408/504, or the gateway's request timeout
    │                                 (retryable; not once a stream has started)
    ├── InvalidResponseError          a 2xx body (or stream event) that is not what was promised
    │   └── ResponseTooLargeError     an answer or one stream event over the client's limit
    ├── BadRequestError               400/404/413/422 not covered below; 7000/7003 "could not
    │   │                             route" (most often a wrong account id)
    │   ├── GatewayNotFoundError      2001: the gateway does not exist
    │   ├── ByokCredentialError       2040: no stored provider key for the alias (or none at
    │   │                             all with cf-aig-no-wholesale)
    │   └── ModelNotFoundError        a 404 that says the model does not exist (also a
    │                                 7000/7003 whose message names a model)
    ├── GatewayAuthenticationError    2009 (not on the REST API), or 401/403 with a gateway or
    │                                 v4 body: the Cloudflare token
    ├── ProviderAuthenticationError   a provider's own 401/403; on the REST API, 2009
    ├── InsufficientBalanceError      2005 (Unified Billing credits), 2021 (guardrails), 402
    ├── ContentBlockedError
    │   ├── GuardrailsBlockedError    2016/2017
    │   └── DLPBlockedError           2029/2030
    ├── RateLimitError                429 (retryable)
    │   └── SpendLimitError           2041: a spend limit; not retried, ends after retry_after
    ├── EdgeBlockedError              Cloudflare's edge blocked the request ("error code: 1010")
    └── ProviderError                 other upstream errors (5xx, ...), provider message kept
        └── GuardrailsUnavailableError 7013 (retryable)

The mapping reads the **surface**, the gateway error **code** and the HTTP **status**
together: the code first (2009 has been seen with HTTP 400 and 401), as the surface means it
(on the REST API, where the ``Authorization`` header carries the Cloudflare token and
providers are reached with stored keys only, a 2009 means the provider rejected that key; on
the management API 7000/7003 name a path or an id), then the status. Messages and body
excerpts never contain credentials.

Every error says what to do: ``hint`` (appended to ``str(err)``) is built from what the
request carried (see :class:`ErrorContext`): the gateway and account ids, whether a
``cf-aig-authorization`` header was sent, which provider answered and whether its key came
from the caller or from the gateway's store (BYOK), and how long the server asked to wait.

The server's retry signals are read for every status: ``retry_after`` (seconds) comes from
``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), and an explicit
``x-should-retry: true|false`` overrides the status-based ``retryable``. An error translated
from another exception (an ``httpx`` transport error, a JSON decode error) keeps it as
``__cause__`` (an ``httpx`` exception detached from its request, so the chain holds no
request headers).

Reading an error response is bounded whatever the server sends: at most
:data:`ERROR_BODY_MAX_BYTES` of the body are read, every parser here is linear in what was
read, JSON nested deeper than ``MAX_JSON_DEPTH`` counts as not JSON, and
:func:`error_from_response` returns an error for any status, headers and bytes (it never
raises).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any, Literal

from . import wire
from .jsonsafe import parse_json
from .providers import get_provider
from .response_info import GatewayResponseInfo

__all__ = [
    "BadRequestError",
    "ByokCredentialError",
    "ContentBlockedError",
    "DLPBlockedError",
    "EdgeBlockedError",
    "ErrorContext",
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
    "ResponseTooLargeError",
    "SpendLimitError",
    "StreamInterruptedError",
    "error_from_response",
    "gateway_error_body",
    "redact",
]

BODY_EXCERPT_CHARS = 500
ERROR_BODY_MAX_BYTES = 64 * 1024
"""The most bytes of an error response the clients read (the rest is never downloaded): an
error body is kept only as a :data:`BODY_EXCERPT_CHARS` excerpt and a message, so a 100 MB
error page costs the same as a 64 KiB one."""
MESSAGE_MAX_CHARS = 2000
"""An error message taken from a response is cut to this many characters."""
RETRY_AFTER_MAX_S = 366 * 24 * 3600.0
"""The longest ``Retry-After`` kept (a year): longer, infinite or NaN values count as absent,
so ``retry_after`` is always a finite, representable number of seconds."""
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
"""529 is Anthropic's "overloaded_error": transient by definition, so retried like 503."""


@cache
def _secret_patterns() -> tuple[re.Pattern[str], ...]:
    """Compiled on first use (only text being shown is redacted), not at import."""
    return (
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
    for pattern in _secret_patterns():
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
    :class:`~cf_ai_gateway.RetryPolicy` already used both before this was raised. ``hint``
    says what to do (``str(err)`` ends with it); ``attempts`` how many times the client sent
    the request before giving up (``info.step``: the universal step that answered, if any).
    """

    default_retryable = False
    default_hint: str | None = None
    """What to do, when nothing more specific is known about the request."""
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
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
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

    @property
    def attempts(self) -> int | None:
        """How many times the client sent the request (1 + its retries), when a client sent
        it; the gateway's own upstream attempts (``cf-aig-max-attempts``) come on top."""
        return self.info.attempts

    def __str__(self) -> str:
        parts = [self.message]
        details = []
        if self.status_code is not None:
            details.append(f"HTTP {self.status_code}")
        if self.code is not None:
            details.append(f"code {self.code}")
        if self.info.log_id:
            details.append(f"log id {self.info.log_id}")
        if self.info.attempts is not None and self.info.attempts > 1:
            details.append(f"after {self.info.attempts} attempts")
        if details:
            parts.append(f"({', '.join(details)})")
        text = " ".join(parts)
        if not self.hint:
            return text
        return f"{text}{'' if text.endswith(('.', '!', '?')) else '.'} {self.hint}"

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
    default_hint = "Check the network, a proxy, or the gateway URL (base_url / CF_AIG_URL)."


class StreamInterruptedError(GatewayConnectionError):
    """The connection failed after a stream had started. Never retried automatically: the
    caller may already have shown the chunks it received. Start a new request if partial output
    is acceptable to repeat; ``info.log_id`` finds the request in the gateway's logs."""

    default_retryable = False
    default_hint = (
        "Not retried (output may have been shown): send the request again if repeating "
        "partial output is acceptable."
    )


class GatewayTimeoutError(GatewayError):
    """No answer in time: the client's timeout (``timeout=``), an HTTP 408/504, or the gateway's
    own ``cf-aig-request-timeout``. Retryable before a stream starts; a stream that stalls
    mid-way raises it with ``retryable=False``. Raise the timeout, or set
    ``GatewayOptions(request_timeout_ms=...)`` so the gateway can fall back sooner."""

    default_retryable = True
    default_hint = (
        "Raise the timeout (timeout=, GatewayOptions(request_timeout_ms=...)), or add "
        "fallback_models so the gateway moves on sooner."
    )


class InvalidResponseError(GatewayError):
    """The gateway answered 2xx, but the body (or a stream event) is not what the endpoint
    promises, such as a body that is not JSON. Not retryable; ``body`` holds a redacted excerpt.
    Often a proxy or a wrong ``base_url`` answering in the gateway's place."""

    default_hint = "Check that base_url points at the gateway and not at a proxy or another API."


class ResponseTooLargeError(InvalidResponseError):
    """The answer (or one event of a stream) is larger than the client accepts:
    ``max_response_bytes`` for a whole answer, streamed or not, ``max_event_bytes`` for one
    server-sent event (``limit`` says which number was passed). Nothing more is read and the
    connection is closed. Raise the client's limit if such answers are expected; not
    retryable."""

    default_hint = (
        "Raise the client's limit (max_response_bytes= / max_event_bytes=) if answers this "
        "large are expected."
    )

    def __init__(self, message: str, *, limit: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit


class BadRequestError(GatewayError):
    """The request was rejected as malformed (HTTP 400/404/413/422 without a more specific
    cause below), or Cloudflare's API could not route it (v4 codes 7000/7003: most often a
    wrong account id in the URL). Not retryable: fix the request; ``message`` is the gateway's
    or provider's."""

    default_hint = "Fix the request as the message says; sending it again will not help."


class GatewayNotFoundError(BadRequestError):
    """Gateway code 2001: the account has no gateway with this id. Check ``gateway_id`` and
    ``account_id`` (only the gateway ``default`` is created on first use)."""

    default_hint = (
        "Check gateway_id and account_id (only 'default' is created on first use), or create "
        "the gateway."
    )


class ByokCredentialError(BadRequestError):
    """Gateway code 2040: no stored provider key for the BYOK alias (``byok_alias``, default
    ``default``), or, with ``cf-aig-no-wholesale``, no credential at all. Store a key for this
    provider in the gateway's Provider Keys, fix ``byok_alias``, or pass ``api_key=``."""

    default_hint = (
        "Store a key for this provider in the gateway's Provider Keys, fix byok_alias, or pass "
        "api_key=."
    )


class ModelNotFoundError(BadRequestError):
    """An HTTP 404 whose body says the model does not exist (``code: model_not_found`` in
    OpenAI's schema, a ``not_found_error`` about a model in Anthropic's), as the gateway answers
    an unknown model, route or alias; also a REST 7000/7003 whose message names a model. Check
    the model name (the REST API uses catalogue names such as ``openai/gpt-4o-mini``) or use
    another surface."""

    default_hint = (
        "Check the model name: '{provider}/{model}' on /compat, catalogue names "
        "('openai/gpt-4o-mini') on the REST API, 'dynamic/{route}' for a route."
    )


class GatewayAuthenticationError(GatewayError):
    """Gateway code 2009 (seen with HTTP 400 and 401), or a 401/403 with a gateway or Cloudflare
    API body: the Cloudflare token (``cf-aig-authorization``, or ``Authorization`` on the REST
    and management APIs) is missing, invalid or lacks permission. Check ``Gateway(token=...)``
    / ``CF_AIG_TOKEN``; not retryable. (On the REST API a 2009 is the provider's credential:
    ``ProviderAuthenticationError``.)"""

    default_hint = (
        "Check the Cloudflare token: Gateway(token=...) or CF_AIG_TOKEN, with the AI Gateway "
        "Run permission for this account."
    )


class ProviderAuthenticationError(GatewayError):
    """The provider itself answered 401/403, or the REST API answered 2009: the provider key is
    missing, invalid or not allowed this model. ``hint`` names the provider and where the key
    came from: the caller (``api_key=``) or the gateway's store (BYOK, no key sent). With BYOK /
    Unified Billing, create the client without ``api_key`` so the gateway injects the stored
    key; not retryable."""

    default_hint = (
        "Check the provider key: api_key= when you send one, else the key stored for the "
        "provider in the gateway's Provider Keys (BYOK)."
    )


class InsufficientBalanceError(GatewayError):
    """Gateway codes 2005 (Unified Billing credits exhausted) / 2021 (the guardrails scanner
    needs credits), or HTTP 402. Top up the account's credits, or send your own provider key
    (``api_key=``) or store one (BYOK); not retryable."""

    default_hint = (
        "Top up the account's AI Gateway credits, or use your own provider key (api_key=, or "
        "a key stored in the gateway: BYOK)."
    )


class ContentBlockedError(GatewayError):
    """The gateway blocked the prompt or the response (guardrails or DLP). Not retryable with
    the same content; ``info.dlp`` has DLP findings when the gateway sent them. Catch this to
    handle both kinds alike."""

    default_hint = "Change the content, or the gateway's guardrails / DLP settings."


class GuardrailsBlockedError(ContentBlockedError):
    """Gateway codes 2016 (prompt) / 2017 (response): a guardrails rule blocked the content.
    Change the content or the gateway's guardrails settings."""


class DLPBlockedError(ContentBlockedError):
    """Gateway codes 2029 (request) / 2030 (response): a data loss prevention rule blocked the
    content. Remove the sensitive data or change the gateway's DLP profile."""


class RateLimitError(GatewayError):
    """HTTP 429: the gateway's rate limit, the Unified Billing cap, or the provider's own
    limit (a spend limit is :class:`SpendLimitError`). Retryable: the client waits
    ``retry_after`` when the server gave one (up to ``RetryPolicy.max_retry_after``), else backs
    off. If it persists, slow down or raise the limit in the gateway's settings."""

    default_retryable = True
    default_hint = (
        "The server gave no Retry-After: back off and retry, or raise the gateway's rate limit."
    )


class SpendLimitError(RateLimitError):
    """A spend limit of the gateway is reached (HTTP 429; our code 2041, Cloudflare documents
    none): further requests are blocked until the limit's time window ends, ``retry_after``
    seconds from the answer (from its ``Retry-After``; ``window_ends_at`` as a time). Not
    retried by the default policy, since waiting out a budget window inside a request would
    stall it for minutes or days: raise the limit in the gateway's Spend limits settings, route
    to a cheaper model, or try again after the window."""

    default_retryable = False
    default_hint = (
        "Raise the limit in the gateway's Spend limits settings, or use a dynamic route that "
        "falls back to a cheaper model."
    )

    @property
    def window_ends_at(self) -> datetime | None:
        """When the spend limit's window ends (UTC), from ``retry_after``; ``None`` unknown."""
        if self.retry_after is None:
            return None
        return self.created_at + timedelta(seconds=self.retry_after)

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.created_at = datetime.now(timezone.utc)


class EdgeBlockedError(GatewayError):
    """Cloudflare's edge blocked the request before it reached the gateway: a plain-text body
    ``error code: NNNN`` (usually HTTP 403). ``edge_code`` is that number and ``cause`` what it
    means; 1010 is the common one: a security rule of the zone (Browser Integrity Check, a bot
    rule) banned the client's signature, often a missing or library-default User-Agent, mostly
    on custom domains. Not retryable: send a normal User-Agent (the clients send
    ``cf-ai-gateway-python/<version>``), or allow the client in the zone's security settings."""

    default_hint = (
        "Send a normal User-Agent, or allow this client in the zone's security settings "
        "(Security > WAF / Bots)."
    )

    def __init__(
        self, message: str, *, edge_code: int | None = None, cause: str | None = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.edge_code = edge_code
        self.cause = cause


class ProviderError(GatewayError):
    """Any other upstream error (5xx, unknown 4xx, an error event inside a stream); the
    provider's ``message``, ``error_type`` and ``provider_code`` are kept. HTTP 409, 500, 502,
    503 and 529 are retryable; gateway-side retries (``GatewayOptions(max_attempts=...)``) or
    universal fallbacks ride out a failing provider."""

    default_hint = (
        "The provider failed: gateway retries (GatewayOptions(max_attempts=...)) or "
        "fallback_models ride this out."
    )


class GuardrailsUnavailableError(ProviderError):
    """Gateway code 7013 (HTTP 503): the guardrails scanner is unavailable and a Block rule
    applies, so the request was not sent. Retryable; it usually passes shortly."""

    default_retryable = True
    default_hint = "Retry shortly: the guardrails scanner is usually back within seconds."


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
    # "No route for that URI" / "Could not route to ...": a path or an id (most often the
    # account id), not a model; ``_classify`` makes it a model error when the message says so.
    wire.CODE_API_NO_ROUTE: BadRequestError,
    wire.CODE_API_COULD_NOT_ROUTE: BadRequestError,
    wire.CODE_RATE_LIMITED: RateLimitError,
    wire.CODE_SPEND_LIMIT: SpendLimitError,
    wire.CODE_REQUEST_TIMEOUT: GatewayTimeoutError,
}


ErrorSource = Literal["gateway", "management"]
"""Which API answered: the gateway surfaces (and REST), or the management API."""


@dataclass(frozen=True)
class ErrorContext:
    """What a request carried, so its error can say what to do. The clients fill it in
    (``PreparedRequest.context``); every field is optional.

    - ``surface``: ``compat``, ``provider``, ``rest``, ``universal`` or ``management``;
    - ``account_id``, ``gateway_id``: named in the messages of 2001 and 2009;
    - ``gateway_auth_sent``: whether a ``cf-aig-authorization`` header went out at all;
    - ``provider``: the provider the request was for (``None``: a route, the Auto Router);
    - ``caller_key``: whether the request carried a provider key (``False``: the gateway's
      stored key, BYOK, or Unified Billing was used);
    - ``byok_alias``: the ``cf-aig-byok-alias`` sent, if any;
    - ``steps``: for a universal request, ``(provider, caller_key)`` per step, so the error of
      the step that answered (``cf-aig-step``) names its provider.
    """

    surface: str | None = None
    account_id: str | None = None
    gateway_id: str | None = None
    gateway_auth_sent: bool | None = None
    provider: str | None = None
    caller_key: bool | None = None
    byok_alias: str | None = None
    steps: tuple[tuple[str, bool], ...] = ()

    def for_step(self, step: int | None) -> ErrorContext:
        """The context of universal step ``step`` (its provider and key), else ``self``."""
        if step is None or not 0 <= step < len(self.steps):
            return self
        provider, caller_key = self.steps[step]
        return ErrorContext(
            self.surface,
            self.account_id,
            self.gateway_id,
            self.gateway_auth_sent,
            provider,
            caller_key,
            self.byok_alias,
        )


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
            etype[:200] if isinstance(etype, str) else None,
            _short(code),
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
        return (message if isinstance(message, str) else None, None, _short(code))
    return None, None, None


def _short(code: Any) -> str | None:
    """A provider's error ``code`` as a short string (it may be any JSON value)."""
    if code is None or isinstance(code, (dict, list)):
        return None
    return str(code)[:200]


def _finite_seconds(value: float) -> float | None:
    """``value`` as a wait in seconds, or ``None`` when it cannot be one (NaN, infinite,
    longer than :data:`RETRY_AFTER_MAX_S`)."""
    if math.isnan(value) or value > RETRY_AFTER_MAX_S:
        return None
    return max(0.0, value)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if absent
    or unusable (see :data:`RETRY_AFTER_MAX_S`)."""
    if not value:
        return None
    value = value.strip()[:100]
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return _finite_seconds(seconds)
    try:
        when = parsedate_to_datetime(value)
        return _finite_seconds((when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked to wait: ``retry-after-ms`` first, then ``Retry-After``
    (``headers`` lower-cased); a value that does not parse counts as absent."""
    millis = headers.get(wire.H_RETRY_AFTER_MS, "").strip()[:100]
    if millis:
        try:
            value = float(millis)
        except ValueError:
            pass
        else:
            if math.isfinite(value):
                found = _finite_seconds(value / 1000)
                if found is not None:
                    return found
    return parse_retry_after(headers.get(wire.H_RETRY_AFTER))


def _should_retry(headers: Mapping[str, str]) -> bool | None:
    """The server's explicit ``x-should-retry: true|false`` (``headers`` lower-cased)."""
    value = headers.get(wire.H_SHOULD_RETRY, "").strip().lower()
    return {"true": True, "false": False}.get(value)


def _says_model_not_found(p_code: str | None, p_type: str | None, message: str) -> bool:
    """Whether a 404's provider-style error is about an unknown model."""
    if p_code == wire.MODEL_NOT_FOUND_CODE:
        return True
    return p_type == wire.MODEL_NOT_FOUND_TYPE and "model" in message.lower()


@cache
def _edge_error() -> re.Pattern[str]:
    """Compiled on first use (an error body), not at import."""
    return re.compile(r"^\s*error code:\s*(?P<code>1\d{3})\s*$", re.IGNORECASE)


def _edge_code(text: str) -> int | None:
    """The Cloudflare edge's own error code of a plain ``error code: 1010`` body (a short
    body: anything longer is not one)."""
    if len(text) > 200:
        return None
    match = _edge_error().match(text)
    return int(match["code"]) if match else None


_TITLE_SCAN_CHARS = 16 * 1024
"""Where an HTML error page's ``<title>`` is looked for: its head, not the whole page."""


def _html_title(text: str) -> str | None:
    """The ``<title>`` of an HTML error page, found with two ``str.find`` calls over the
    page's first :data:`_TITLE_SCAN_CHARS` characters (linear: a regex with a lazy ``.*?``
    rescanned the rest of the page from every ``<title>``, quadratic on a page of them)."""
    head = text[:_TITLE_SCAN_CHARS]
    lower = head.lower()
    start = lower.find("<title>")
    if start < 0:
        return None
    start += len("<title>")
    end = lower.find("</title>", start)
    if end < 0:
        return None
    title = " ".join(head[start:end].split())
    return title[:MESSAGE_MAX_CHARS] or None


def _classify(
    status_code: int,
    code: int | None,
    message: str,
    p_code: str | None,
    p_type: str | None,
    surface: str | None,
) -> type[GatewayError]:
    """The error class of a response, from its surface, gateway code and status together."""
    if code is not None:
        if code == wire.CODE_UNAUTHORIZED and surface == "rest":
            # The REST API takes the Cloudflare token in Authorization (a bad one is the v4
            # "Authentication error", 10000) and reaches providers with stored keys only: its
            # 2009 is the provider refusing that key, not the gateway refusing the token.
            return ProviderAuthenticationError
        if code in (wire.CODE_API_NO_ROUTE, wire.CODE_API_COULD_NOT_ROUTE):
            said_model = surface != "management" and "model" in message.lower()
            return ModelNotFoundError if said_model else BadRequestError
        if code in _CODE_CLASSES:
            return _CODE_CLASSES[code]
    if status_code == 404 and _says_model_not_found(p_code, p_type, message):
        return ModelNotFoundError
    if status_code == 429:
        return RateLimitError
    if status_code in (401, 403):
        return GatewayAuthenticationError if code is not None else ProviderAuthenticationError
    if status_code in (408, 504):
        return GatewayTimeoutError
    if status_code == 402:
        return InsufficientBalanceError
    if status_code in (400, 404, 413, 422):
        return BadRequestError
    return ProviderError


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 or value == int(value) else f"{value:.1f} s"


def _gateway_named(ctx: ErrorContext) -> str:
    gateway = f"gateway {ctx.gateway_id!r}" if ctx.gateway_id else "the gateway"
    return f"{gateway} of account {ctx.account_id!r}" if ctx.account_id else gateway


def _provider_name(slug: str | None) -> str:
    if not slug:
        return "The provider"
    try:
        return get_provider(slug).name
    except ValueError:
        return slug


def _hint(
    cls: type[GatewayError],
    code: int | None,
    ctx: ErrorContext,
    retry_after: float | None,
) -> str | None:
    """What to do, as specific as the request's context allows; ``None``: the class default."""
    if cls is GatewayAuthenticationError and ctx.surface in ("rest", "management"):
        return (
            "The Cloudflare API token (Authorization) was refused: check Gateway(token=...) / "
            "CF_AIG_TOKEN and its AI Gateway permissions for this account."
        )
    if cls is GatewayAuthenticationError and ctx.gateway_auth_sent is False:
        return (
            f"{_gateway_named(ctx).capitalize()} requires authentication and no "
            f"{wire.H_AUTHORIZATION} header was sent: pass Gateway(token=...) or set "
            "CF_AIG_TOKEN."
        )
    if cls is GatewayAuthenticationError and ctx.gateway_auth_sent:
        return (
            f"The {wire.H_AUTHORIZATION} token sent to {_gateway_named(ctx)} was refused: check "
            "it is current, belongs to this account and has the AI Gateway Run permission."
        )
    if cls is GatewayNotFoundError and (ctx.gateway_id or ctx.account_id):
        return (
            f"Account {ctx.account_id!r} has no gateway {ctx.gateway_id!r}: check account_id "
            "and gateway_id (only 'default' is created on first use), or create the gateway."
        )
    if cls is ProviderAuthenticationError and ctx.caller_key is not None:
        provider = _provider_name(ctx.provider)
        if ctx.caller_key:
            return (
                f"{provider} refused the key sent by the caller (api_key=): check it, or send "
                "none so the gateway uses the key stored for it (BYOK)."
            )
        alias = ctx.byok_alias or "default"
        return (
            f"{provider} refused the key the gateway used: no provider key was sent, so it "
            f"came from the gateway's store (BYOK alias {alias!r}) or Unified Billing; check "
            "the key stored for it in the gateway's Provider Keys."
        )
    if cls is ByokCredentialError and (ctx.provider or ctx.byok_alias):
        alias = ctx.byok_alias or "default"
        provider = _provider_name(ctx.provider)
        return (
            f"No key stored for {provider} under BYOK alias {alias!r} in {_gateway_named(ctx)}: "
            "store one in its Provider Keys, fix byok_alias, or pass api_key=."
        )
    if cls is SpendLimitError:
        when = (
            f"the window ends in {_seconds(retry_after)}"
            if retry_after is not None
            else "the server did not say when the window ends"
        )
        return (
            f"A spend limit of {_gateway_named(ctx)} is reached and {when}; not retried: raise "
            "the limit in its Spend limits settings or fall back to a cheaper model."
        )
    if cls is RateLimitError and retry_after is not None:
        return (
            f"Retry after {_seconds(retry_after)} (the server's Retry-After); if it persists, "
            "slow down or raise the limit."
        )
    if cls is InsufficientBalanceError and code == wire.CODE_GUARDRAILS_NEEDS_CREDITS:
        return "The guardrails scanner needs credits: top up the account's AI Gateway credits."
    if cls is BadRequestError and code in (wire.CODE_API_NO_ROUTE, wire.CODE_API_COULD_NOT_ROUTE):
        account = f" ({ctx.account_id!r})" if ctx.account_id else ""
        return (
            f"Cloudflare's API could not route the request: check the account id{account} and "
            "the path in the URL."
        )
    return None


def error_from_response(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    secrets: Iterable[str | None] = (),
    source: ErrorSource = "gateway",
    context: ErrorContext | None = None,
) -> GatewayError:
    """Build the typed error for a non-2xx gateway response.

    ``source="management"`` for the management API (whose v4 codes 7000/7003 mean a wrong path
    or id, not a model); ``context`` says what the request carried (its surface, ids, whether
    a gateway token and a provider key were sent), for the classification and the hint.
    """
    ctx = context or ErrorContext(surface="management" if source == "management" else None)
    if source == "management" and ctx.surface is None:
        ctx = ErrorContext("management", ctx.account_id, ctx.gateway_id)
    lower = {k.lower(): v for k, v in headers.items()}
    info = GatewayResponseInfo.from_headers(lower, status_code=status_code)
    secret_list = list(secrets)
    # Bounded whatever the caller passes: the clients read no more than this anyway.
    text = bytes(content[:ERROR_BODY_MAX_BYTES]).decode("utf-8", errors="replace")
    # Redact before cutting: a secret straddling the cut would otherwise leak its prefix.
    excerpt = redact(text, secret_list)[:BODY_EXCERPT_CHARS] or None
    try:
        body: Any = parse_json(text) if text.strip() else None
    except ValueError:  # not JSON, cut short, or nested too deeply: read as text
        body = None

    code, gw_message = _gateway_code(body)
    p_message, p_type, p_code = _provider_error(body)
    message = gw_message or p_message
    if message is None:
        title = _html_title(text) if body is None else None
        message = title or f"HTTP {status_code} from the gateway"
        if body is None and text.strip():
            message += " (non-JSON body)"
    message = redact(message, secret_list)[:MESSAGE_MAX_CHARS]
    retry_after = _retry_after(lower)
    ctx = ctx.for_step(info.step)

    edge = _edge_code(text) if body is None else None
    if edge is not None and status_code != 429:
        cause = wire.EDGE_ERROR_CAUSES.get(edge, "a security setting of the zone")
        return EdgeBlockedError(
            f"Cloudflare's edge blocked the request before it reached the gateway "
            f"(error code {edge}: {cause})",
            edge_code=edge,
            cause=cause,
            status_code=status_code,
            info=info,
            body=excerpt,
            retry_after=retry_after,
        )

    cls = _classify(status_code, code, message, p_code, p_type, ctx.surface)
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
    hint = _hint(cls, code, ctx, retry_after)
    return cls(message, retry_after=retry_after, hint=hint, **kwargs)
