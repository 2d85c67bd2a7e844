"""Tokens and cost of an answer, for its log.

Tokens come from the answerer when it knows them (the mock), else from the answer itself, read
by the step's wire schema (or the provider's fallback schema where the path has none). Cost:
``cf-aig-custom-cost`` (``total_cost``, or ``per_token_in``/``per_token_out`` times tokens)
when sent, else the mock's prices per million tokens; cache hits and failures cost 0.
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import lru_cache
from typing import Any, cast

from ..exchange import UpstreamResponse
from ..mock.neutral import Usage
from ..mock.schemas import Schema, fallback_schema
from .context import RequestContext
from .step import StepResult

__all__ = ["cost", "tokens_of"]


def tokens_of(result: StepResult, response: UpstreamResponse, content: bytes) -> Usage:
    """(tokens_in, tokens_out) of ``response``, whose body (or stream so far) is ``content``."""
    if response.tokens_in:
        return Usage(response.tokens_in, response.tokens_out)
    schema = result.schema or fallback_schema(result.provider)
    if result.cached and response.stream is None and len(content) <= _MEMO_MAX_BYTES:
        return _cached_usage(cast("Hashable", schema), content)
    return schema.read_usage(content, streamed=response.stream is not None)


_MEMO_MAX_BYTES = 64 * 1024
"""The largest cached answer whose usage is remembered (the memo holds at most 256: 16 MB)."""


@lru_cache(maxsize=256)
def _cached_usage(schema: Hashable, content: bytes) -> Usage:
    """The usage of a cached (whole) answer in ``schema`` (a ``Schema``: one object per wire
    schema): a cache hit sends the same bytes each time, so they are parsed once, not on every
    hit."""
    return cast("Schema[Any, Any]", schema).read_usage(content, streamed=False)


def cost(ctx: RequestContext, tokens: tuple[int, int], priced: bool) -> float:
    """The log's ``cost`` in USD (0 when not ``priced``)."""
    if not priced:
        return 0.0
    custom = ctx.custom_cost
    if custom is not None:
        if "total_cost" in custom:
            return float(custom["total_cost"])
        return tokens[0] * custom.get("per_token_in", 0.0) + tokens[1] * custom.get(
            "per_token_out", 0.0
        )
    mock = ctx.state.config.mock
    return (tokens[0] * mock.price_in_per_mtok + tokens[1] * mock.price_out_per_mtok) / 1e6
