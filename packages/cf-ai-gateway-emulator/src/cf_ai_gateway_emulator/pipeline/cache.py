"""The response cache of a gateway.

Key (Cloudflare's caching page): the provider, the endpoint (path), the model, the provider
authentication header and the full body, so two callers with different provider keys never
share an entry; metadata and other headers are not part of it. The credential is hashed on
its own before it joins the key, and the key is a hash too: no credential is ever stored.
With ``cf-aig-cache-key`` the key is that value alone. Entries live per account and gateway.
Only 2xx non-streamed answers are stored; an entry stored at t with TTL s is a hit until t+s
(exclusive).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from cf_ai_gateway.providers import credential_header

from ..exchange import UpstreamResponse
from .context import RequestContext

__all__ = ["cache_key", "cached_answer", "credential_digest", "store_answer"]


def credential_digest(provider: str, headers: Mapping[str, str], query: str = "") -> str:
    """A hash of the provider credential a request carries (``""``: none): the provider's
    credential header (the registry's ``credential_header``: ``authorization``, ``x-api-key``,
    ``x-goog-api-key``, ``api-key``, ``xi-api-key``), else a ``key`` query parameter (Google's
    older style)."""
    try:
        name = credential_header(provider)
    except ValueError:
        name = "authorization"
    value = headers.get(name) or next(iter(parse_qs(query).get("key", [])), "")
    return hashlib.sha256(value.encode()).hexdigest() if value else ""


_KEY_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
"""The key material's encoding (one encoder, not one per request)."""


def cache_key(
    provider: str,
    path: str,
    model: str,
    credential: str,
    body: Any,
    custom: str | None,
) -> str:
    """The storage key of a request (``credential``: ``credential_digest``; ``custom``: the
    ``cf-aig-cache-key`` value)."""
    if custom:
        material = json.dumps(["custom", custom])
    else:
        material = _KEY_JSON.encode([provider, path.strip("/"), model, credential, body])
    return hashlib.sha256(material.encode()).hexdigest()


def cached_answer(ctx: RequestContext, key: str) -> UpstreamResponse | None:
    """The stored answer under ``key``, if it has not expired."""
    state = ctx.state
    hit = state.storage.cache_get(ctx.account, ctx.gateway.id, key, state.now())
    if hit is None:
        return None
    status, headers, content = hit
    return UpstreamResponse(status, headers, content)


def store_answer(ctx: RequestContext, key: str, response: UpstreamResponse, ttl_s: int) -> None:
    """Keep a whole (non-streamed) answer for ``ttl_s`` seconds."""
    state = ctx.state
    entry = (response.status, response.headers, response.body)
    state.storage.cache_put(ctx.account, ctx.gateway.id, key, entry, state.now() + ttl_s)
