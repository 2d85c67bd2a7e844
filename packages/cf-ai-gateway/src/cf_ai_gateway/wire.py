"""Wire constants of Cloudflare AI Gateway: header names, limits and error codes.

This module is the project's single source of truth for the gateway's wire contract. The
clients, the adapters and the local emulator all import their header names, limits and error
codes from here. Sources: Cloudflare's AI Gateway docs (developers.cloudflare.com/ai-gateway),
condensed in the repository's ``shared/spec/gateway-wire.md``.
"""

from __future__ import annotations

from typing import Final, Literal

# --- Hosts -------------------------------------------------------------------------------

DEFAULT_BASE_URL: Final = "https://gateway.ai.cloudflare.com/v1"
"""The gateway host plus its ``/v1`` version segment: ``{base}/{account}/{gateway}/...``."""

DEFAULT_API_BASE_URL: Final = "https://api.cloudflare.com/client/v4"
"""Cloudflare's REST API: ``{api}/accounts/{account}/ai/v1/...`` and the management API."""

GATEWAY_HOST: Final = "gateway.ai.cloudflare.com"
API_HOST: Final = "api.cloudflare.com"

# --- Surfaces (spec section 1) -----------------------------------------------------------

Surface = Literal["compat", "provider", "rest"]
"""Where a client sends a chat request: the unified ``/compat`` endpoint, the provider-native
path, or Cloudflare's REST API (``GatewayClient(surface=...)``)."""
SURFACES: Final[tuple[Surface, ...]] = ("compat", "provider", "rest")

URLSurface = Literal[Surface, "universal"]
"""What a pasted gateway URL points at (``ParsedGatewayURL.surface``): a client surface, or the
gateway root itself, which is the universal (fallback) endpoint."""

# --- Request headers (spec section 3) ----------------------------------------------------

HEADER_PREFIX: Final = "cf-aig-"
"""Every gateway control and report header starts with this (never forwarded upstream)."""

H_AUTHORIZATION: Final = "cf-aig-authorization"
H_GATEWAY_ID: Final = "cf-aig-gateway-id"
H_METADATA: Final = "cf-aig-metadata"
H_CACHE_TTL: Final = "cf-aig-cache-ttl"
H_SKIP_CACHE: Final = "cf-aig-skip-cache"
H_CACHE_KEY: Final = "cf-aig-cache-key"
H_COLLECT_LOG: Final = "cf-aig-collect-log"
H_COLLECT_LOG_PAYLOAD: Final = "cf-aig-collect-log-payload"
H_EVENT_ID: Final = "cf-aig-event-id"
H_REQUEST_TIMEOUT: Final = "cf-aig-request-timeout"
H_MAX_ATTEMPTS: Final = "cf-aig-max-attempts"
H_RETRY_DELAY: Final = "cf-aig-retry-delay"
H_BACKOFF: Final = "cf-aig-backoff"
H_CUSTOM_COST: Final = "cf-aig-custom-cost"
H_BYOK_ALIAS: Final = "cf-aig-byok-alias"
H_ZDR: Final = "cf-aig-zdr"
H_NO_WHOLESALE: Final = "cf-aig-no-wholesale"

# Auto Router (developers.cloudflare.com/ai-gateway/features/auto-router/, "Headers").
H_SESSION_ID: Final = "cf-aig-session-id"
"""The session a request belongs to: Auto Router keeps one model for a whole turn of it."""
H_TURN_ID: Final = "cf-aig-turn-id"
"""The turn a request belongs to (overrides the router's turn detection from the history)."""
H_NO_SESSION_AFFINITY: Final = "cf-aig-no-session-affinity"
"""``true``: choose a model for each request instead of pinning one for the turn."""
H_ALLOWED_MODELS: Final = "cf-aig-allowed-models"
"""The models Auto Router may choose from: a list in one header (see ``LIST_SEPARATOR``)."""
H_ALLOWED_PROVIDERS: Final = "cf-aig-allowed-providers"
"""The providers Auto Router may choose from: a list in one header (see ``LIST_SEPARATOR``)."""

LIST_SEPARATOR: Final = ","
"""How the list headers (``cf-aig-allowed-models``, ``cf-aig-allowed-providers``) join their
entries: Cloudflare's Auto Router page documents "a comma-separated list" for both (its example
is ``openai,anthropic``), so entries never contain a comma and no spaces are added."""
MODEL_WILDCARD: Final = "*"
"""The one wildcard of ``cf-aig-allowed-models``. It does not match ``/`` (Cloudflare: "use
``anthropic/*`` instead of ``*``"), so a bare ``*`` matches nothing."""

AUTO_MODEL: Final = "cloudflare/auto"
"""The model name that asks the Auto Router to choose (``/compat`` and the REST API)."""

# Deprecated spellings that the gateway still honours.
H_CACHE_TTL_LEGACY: Final = "cf-cache-ttl"
H_SKIP_CACHE_LEGACY: Final = "cf-skip-cache"

# --- Response headers (spec section 4) ---------------------------------------------------

H_CACHE_STATUS: Final = "cf-aig-cache-status"
H_LOG_ID: Final = "cf-aig-log-id"
H_REQUEST_ID: Final = "cf-aig-request-id"
H_STEP: Final = "cf-aig-step"
H_MODEL: Final = "cf-aig-model"
H_PROVIDER: Final = "cf-aig-provider"
H_TRACE_ID: Final = "cf-aig-trace-id"
H_RUN_ID: Final = "cf-aig-run-id"
H_DLP: Final = "cf-aig-dlp"
# H_EVENT_ID is echoed back as a response header too.

# Auto Router's decision (features/auto-router/, "Headers"): what answered, why, which decision.
H_ROUTED_MODEL: Final = "cf-aig-routed-model"
H_ROUTING_REASON: Final = "cf-aig-routing-reason"
H_ROUTING_DECISION_ID: Final = "cf-aig-routing-decision-id"

RoutingReason = Literal[
    "cost_optimal_within_pool",
    "forced_by_candidate_pool",
    "pinned_by_turn",
    "fallback_candidate_unavailable",
    "fallback_key_not_in_candidates",
    "fallback_router_error",
    "fallback_router_timeout",
    "fallback_unsupported_input",
]
ROUTING_REASONS: Final[tuple[RoutingReason, ...]] = (
    "cost_optimal_within_pool",
    "forced_by_candidate_pool",
    "pinned_by_turn",
    "fallback_candidate_unavailable",
    "fallback_key_not_in_candidates",
    "fallback_router_error",
    "fallback_router_timeout",
    "fallback_unsupported_input",
)
"""The values of ``cf-aig-routing-reason`` Cloudflare's Auto Router page lists ("Routing
reasons"). A value outside them is kept as sent (``GatewayResponseInfo.routing_reason`` is a
plain string): the router may add reasons."""

# Retry signals, read on every error response (not cf-aig-*: providers send them too).
H_RETRY_AFTER: Final = "retry-after"
"""Seconds to wait (delta-seconds or an HTTP date)."""
H_RETRY_AFTER_MS: Final = "retry-after-ms"
"""Milliseconds to wait; preferred over ``retry-after`` when both are sent (as OpenAI does)."""
H_SHOULD_RETRY: Final = "x-should-retry"
"""``true`` / ``false``: the server's explicit retry decision, overriding the status."""

CACHE_HIT: Final = "HIT"
CACHE_MISS: Final = "MISS"

# --- Provider credential headers that must never be recorded or shown --------------------

SECRET_HEADERS: Final = (
    H_AUTHORIZATION,
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "xi-api-key",
    "proxy-authorization",
)
"""Every header a credential travels in: the gateway token, and each provider's credential
header of the registry (``cf_ai_gateway.providers``: ``Authorization`` with ``Bearer``,
``Token`` or ``Key``, Anthropic's, Parallel's and Cartesia's ``x-api-key``, Azure's and
Ideogram's ``api-key``, Google's ``x-goog-api-key``, ElevenLabs' ``xi-api-key``). The cassette
scrubber, the scanner and every repr and error message cover these."""

# --- Limits ------------------------------------------------------------------------------

METADATA_MAX_ENTRIES: Final = 5
"""The gateway keeps at most five metadata entries and silently drops the rest."""
METADATA_RESERVED_PREFIX: Final = "cf."
CACHE_TTL_MIN_S: Final = 60
CACHE_TTL_MAX_S: Final = 2_592_000  # one month
CACHE_TTL_DISABLED: Final = 0
MAX_ATTEMPTS_MIN: Final = 1
MAX_ATTEMPTS_MAX: Final = 5
RETRY_DELAY_MAX_MS: Final = 5_000
"""Most of Cloudflare's pages say 5000 ms; we hold to the documented majority."""
GATEWAY_ID_MAX_LEN: Final = 64
CACHEABLE_REQUEST_MAX_BYTES: Final = 25 * 1024 * 1024
CUSTOM_KEY_DEFAULT_TTL_S: Final = 300
"""A custom cache key caches for five minutes even when gateway caching is off."""
DEFAULT_GATEWAY_ID: Final = "default"

Backoff = Literal["constant", "linear", "exponential"]
BACKOFF_VALUES: Final[tuple[Backoff, ...]] = ("constant", "linear", "exponential")

# --- Gateway error codes (spec section 5) ------------------------------------------------

CODE_GATEWAY_NOT_FOUND: Final = 2001
CODE_INSUFFICIENT_BALANCE: Final = 2005
CODE_UNAUTHORIZED: Final = 2009
CODE_GUARDRAILS_PROMPT_BLOCKED: Final = 2016
CODE_GUARDRAILS_RESPONSE_BLOCKED: Final = 2017
CODE_GUARDRAILS_NEEDS_CREDITS: Final = 2021
CODE_DLP_REQUEST_BLOCKED: Final = 2029
CODE_DLP_RESPONSE_BLOCKED: Final = 2030
CODE_BYOK_MISSING_KEY: Final = 2040
CODE_GUARDRAILS_UNAVAILABLE: Final = 7013
CODE_REST_NO_ROUTE: Final = 7000
"""The v4 "No route for that URI" (= ``CODE_API_NO_ROUTE``): a path that does not exist."""
CODE_REST_MODEL_NOT_FOUND: Final = 7003
"""The v4 "Could not route to ..." (= ``CODE_API_COULD_NOT_ROUTE``). Despite the older name, a
wrong id in the URL (most often the account id), not a model, unless its message says so."""

# Cloudflare documents no code for these; the emulator answers with them and the client maps
# them by HTTP status first, so real traffic with other codes (or none) maps the same way.
CODE_RATE_LIMITED: Final = 2003
"""Undocumented by Cloudflare: our choice for the gateway's 429 body."""
CODE_REQUEST_TIMEOUT: Final = 2007
"""Undocumented by Cloudflare: our choice for a ``cf-aig-request-timeout`` expiry (HTTP 504)."""
CODE_BAD_REQUEST: Final = 2008
"""Undocumented by Cloudflare: our choice for malformed requests the gateway itself rejects."""
CODE_FALLBACK_EXHAUSTED: Final = 2010
"""Undocumented by Cloudflare: used only when no universal step produced any response."""
CODE_SPEND_LIMIT: Final = 2041
"""Undocumented by Cloudflare (its spend limits page documents only "a ``429`` response until
the window resets"): our choice, with ``Retry-After`` = seconds until the window ends. The
client maps it to ``SpendLimitError``, which the default retry policy does not retry."""
CODE_UNIFIED_BILLING_CREDITS: Final = CODE_INSUFFICIENT_BALANCE
"""Exhausted Unified Billing credits: HTTP 402 with the observed insufficient-balance code
2005. Code 2021 is Cloudflare's "guardrails scanner needs credits", a different cause (both are
``InsufficientBalanceError``)."""

# Cloudflare v4 envelope codes used by the management API (``{"errors": [{"code", ...}]}``).
CODE_API_AUTHENTICATION: Final = 10000
"""Cloudflare's v4 API "Authentication error"."""
CODE_API_INVALID_REQUEST: Final = 7001
"""Undocumented for AI Gateway: our choice for a malformed management API request."""
CODE_API_CONFLICT: Final = 7004
"""Undocumented for AI Gateway: our choice for creating a gateway id that already exists."""
CODE_API_LOG_NOT_FOUND: Final = 7005
"""Undocumented for AI Gateway: our choice for a log id the gateway does not hold."""
CODE_API_LOG_BODY_NOT_FOUND: Final = 7006
"""Undocumented for AI Gateway: our choice for a log's request/response body that is not there
(an unknown body name, or payload collection was off)."""
CODE_API_ROUTE_NOT_FOUND: Final = 7007
"""Undocumented for AI Gateway: our choice for a dynamic route name the gateway does not hold."""

# --- Management API (spec section 7) -----------------------------------------------------

MANAGEMENT_SEGMENT: Final = "ai-gateway"
"""``{api}/accounts/{account}/ai-gateway/...``: the management API's root under an account."""

H_API_AUTHORIZATION: Final = "authorization"
"""The management and REST APIs take the Cloudflare API token as ``Authorization: Bearer``
(never ``cf-aig-authorization``, which is the gateway's own header)."""

LogFilterOperator = Literal["eq", "neq", "contains", "lt", "gt"]
LOG_FILTER_OPERATORS: Final[tuple[LogFilterOperator, ...]] = ("eq", "neq", "contains", "lt", "gt")
LOG_FILTER_KEYS: Final = (
    "id",
    "created_at",
    "request_content_type",
    "response_content_type",
    "success",
    "cached",
    "provider",
    "model",
    "model_type",
    "cost",
    "tokens",
    "tokens_in",
    "tokens_out",
    "duration",
    "feedback",
    "event_id",
    "request_type",
    "metadata.key",
    "metadata.value",
    "prompts.prompt_id",
    "prompts.version_id",
)
"""Filter keys Cloudflare's logs API documents. Metadata is filtered by ``metadata.key`` and
``metadata.value`` (an entry with that key, an entry with that value), not by entry name."""
LOG_ORDER_BY: Final = (
    "created_at",
    "provider",
    "model",
    "model_type",
    "success",
    "cached",
    "cost",
    "tokens_in",
    "tokens_out",
    "duration",
    "feedback",
)
LogOrderDirection = Literal["asc", "desc"]
LOGS_PER_PAGE_MAX: Final = 50
"""The page size the logs API allows at most (the emulator enforces the same)."""
LOG_FEEDBACK_VALUES: Final = (-1, 0, 1)
"""``-1`` thumbs down, ``1`` thumbs up, ``0`` clears the feedback."""

RateLimitTechnique = Literal["fixed", "sliding"]
RATE_LIMIT_TECHNIQUES: Final[tuple[RateLimitTechnique, ...]] = ("fixed", "sliding")
LogManagementStrategy = Literal["STOP_INSERTING", "DELETE_OLDEST"]
LOG_MANAGEMENT_STRATEGIES: Final[tuple[LogManagementStrategy, ...]] = (
    "STOP_INSERTING",
    "DELETE_OLDEST",
)

CODE_API_NO_ROUTE: Final = 7000
"""v4 API: "No route for that URI" (management API: a path that does not exist)."""
CODE_API_COULD_NOT_ROUTE: Final = 7003
"""v4 API: "Could not route to ..., perhaps your object identifier is invalid?": most often a
wrong account id in the URL (the management API's, or the REST API's ``/accounts/{id}/ai``).
Not a model-not-found, unless its message names a model."""

# Cloudflare's edge answers some blocks itself, before the gateway, with a plain-text body
# ``error code: NNNN`` (developers.cloudflare.com/support/troubleshooting/cloudflare-errors/).
EDGE_ERROR_CAUSES: Final = {
    1010: "a security rule banned the client's browser signature (Browser Integrity Check or a "
    "bot rule on the zone: often a missing or library-default User-Agent)",
    1012: "access denied by the zone's security settings",
    1015: "the zone's rate limiting blocked the client",
    1020: "a firewall (WAF custom) rule of the zone blocked the request",
}
"""The causes of the edge's own error codes that reach gateway clients (mostly on custom
domains, where the zone's security settings apply)."""
# The model-not-found answer is not a gateway code: on the unified and REST endpoints the
# gateway answers an unknown model with HTTP 404 in the endpoint's own schema (observed on the
# REST API's Anthropic endpoint: ``{"type": "error", "error": {"type": "not_found_error",
# "message": "Model not found: ..."}}``), as the providers themselves do.
MODEL_NOT_FOUND_CODE: Final = "model_not_found"
"""``error.code`` of a 404 model-not-found answer in OpenAI's schema (OpenAI's own, and the
gateway's on its OpenAI-schema endpoints)."""
MODEL_NOT_FOUND_TYPE: Final = "not_found_error"
"""``error.type`` of a 404 not-found answer in Anthropic's schema (a model when it says so)."""
