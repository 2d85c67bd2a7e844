"""Where the gateway's response info travels through LiteLLM, and how to get it back.

No LiteLLM import here: reading the info back must not cost the import of LiteLLM.

- A non-streamed response (chat or embeddings) carries the typed
  :class:`~cf_ai_gateway.GatewayResponseInfo` in ``response._hidden_params["cf_aig"]``.
- A streamed response carries it on its first chunk, as the plain dict
  ``chunk.provider_specific_fields["cf_aig"]`` (LiteLLM gives a custom provider no other slot
  on chunks, and a dict survives the proxy's SSE); the stream object itself keeps the typed
  info too (``response_info(stream)``).
- An error raised by the provider carries it as ``error.cf_aig`` (and ``error.__cause__`` is
  the core's :class:`~cf_ai_gateway.GatewayError`).

:func:`response_info` reads any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from cf_ai_gateway import GatewayResponseInfo

__all__ = ["HIDDEN_PARAMS_KEY", "info_from_dict", "info_to_dict", "response_info"]

HIDDEN_PARAMS_KEY = "cf_aig"
"""The key of the gateway's response info: in ``_hidden_params`` (typed), in a chunk's
``provider_specific_fields`` (a plain dict) and on errors (``error.cf_aig``)."""

_FIELDS = frozenset(f.name for f in fields(GatewayResponseInfo))


def info_to_dict(info: GatewayResponseInfo) -> dict[str, Any]:
    """A JSON-friendly dict of ``info`` that :func:`info_from_dict` reads back whole (the
    set fields, plus every ``cf-aig-*`` response header under ``raw``)."""
    out = info.to_dict()
    if info.raw:
        out["raw"] = dict(info.raw)
    return out


def info_from_dict(value: Mapping[str, Any]) -> GatewayResponseInfo:
    """The :class:`~cf_ai_gateway.GatewayResponseInfo` of a dict made by :func:`info_to_dict`
    (unknown keys are ignored, so a newer writer never breaks an older reader)."""
    known = {k: v for k, v in value.items() if k in _FIELDS}
    if not isinstance(known.get("raw", {}), Mapping):
        known.pop("raw")
    return GatewayResponseInfo(**known)


def _from_chunk(obj: Any) -> GatewayResponseInfo | None:
    fields_ = getattr(obj, "provider_specific_fields", None)
    value = fields_.get(HIDDEN_PARAMS_KEY) if isinstance(fields_, Mapping) else None
    if value is None:
        value = getattr(obj, HIDDEN_PARAMS_KEY, None)
    if isinstance(value, GatewayResponseInfo):
        return value
    if isinstance(value, Mapping):
        return info_from_dict(value)
    return None


def response_info(obj: Any) -> GatewayResponseInfo | None:
    """The gateway's response info for what a ``cloudflare-ai-gateway/...`` call gave you, or
    ``None`` when ``obj`` did not come through the gateway (or is a later chunk of a stream:
    the first chunk carries it).

    Accepts a ``ModelResponse`` or ``EmbeddingResponse`` (``_hidden_params["cf_aig"]``), a
    stream (LiteLLM's ``CustomStreamWrapper``: known before the first chunk), a streamed
    chunk, a dict made from one (``chunk.model_dump()``, the proxy's SSE JSON), or an
    exception raised by the provider (also when LiteLLM wrapped it, e.g. in a
    ``MidStreamFallbackError``).

    >>> from litellm import completion                                     # doctest: +SKIP
    >>> reply = completion("cloudflare-ai-gateway/openai/gpt-4o-mini", messages=[...])
    >>> response_info(reply).log_id                                        # doctest: +SKIP
    """
    if obj is None:
        return None
    if isinstance(obj, GatewayResponseInfo):
        return obj
    if isinstance(obj, BaseException):
        seen: set[int] = set()
        err: BaseException | None = obj
        while err is not None and id(err) not in seen:
            seen.add(id(err))
            info = getattr(err, HIDDEN_PARAMS_KEY, None)
            if isinstance(info, GatewayResponseInfo):
                return info
            core_info = getattr(err, "info", None)
            if isinstance(core_info, GatewayResponseInfo):
                return core_info
            nested = getattr(err, "original_exception", None)
            err = nested if isinstance(nested, BaseException) else err.__cause__
        return None
    if isinstance(obj, Mapping):
        fields_ = obj.get("provider_specific_fields")
        value = obj.get(HIDDEN_PARAMS_KEY)
        if value is None and isinstance(fields_, Mapping):
            value = fields_.get(HIDDEN_PARAMS_KEY)
        if isinstance(value, GatewayResponseInfo):
            return value
        return info_from_dict(value) if isinstance(value, Mapping) else None
    hidden = getattr(obj, "_hidden_params", None)
    if isinstance(hidden, Mapping):
        value = hidden.get(HIDDEN_PARAMS_KEY)
        if isinstance(value, GatewayResponseInfo):
            return value
    if hasattr(obj, "completion_stream"):  # LiteLLM's CustomStreamWrapper around ours
        info = getattr(obj.completion_stream, "info", None)
        if isinstance(info, GatewayResponseInfo):
            return info
        # a finished stream (later LiteLLM lines drop the source): its first chunk has it
        for chunk in list(getattr(obj, "chunks", None) or [])[:1]:
            return _from_chunk(chunk)
        return None
    return _from_chunk(obj)
