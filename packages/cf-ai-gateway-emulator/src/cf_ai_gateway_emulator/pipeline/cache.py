"""The response cache of a gateway.

Key: provider + path + canonical JSON body (metadata and other headers are not part of it),
or, with ``cf-aig-cache-key``, that key alone; entries live per account and gateway. Only 2xx
non-streamed answers are stored; an entry stored at t with TTL s is a hit until t+s
(exclusive).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..exchange import UpstreamResponse
from .context import RequestContext

__all__ = ["cache_key", "cached_answer", "store_answer"]


def cache_key(provider: str, path: str, body: Any, custom: str | None) -> str:
    """The storage key of a request (``custom``: the ``cf-aig-cache-key`` value)."""
    if custom:
        material = json.dumps(["custom", custom])
    else:
        material = json.dumps(
            [provider, path.strip("/"), body], sort_keys=True, separators=(",", ":"), default=str
        )
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
