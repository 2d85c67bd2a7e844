"""The core's answers in LiteLLM's shapes: a :class:`~cf_ai_gateway.ChatReply` as a
``ModelResponse``, stream deltas as ``GenericStreamingChunk`` dicts, embeddings as an
``EmbeddingResponse``, each with the gateway's response info attached where LiteLLM keeps it.

Streams yield ``GenericStreamingChunk`` dicts, the one chunk type every supported LiteLLM line
reads from a custom provider. The finish reason and the usage travel together on the last
chunk: 1.80 drops a usage chunk that follows the finishing one, and then estimates tokens
itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cf_ai_gateway import ChatDelta, ChatReply, GatewayResponseInfo, Usage
from litellm.types.utils import EmbeddingResponse, GenericStreamingChunk, ModelResponse

from ._info import HIDDEN_PARAMS_KEY, info_to_dict

__all__ = ["ChunkFolder", "embedding_response", "headers_for_proxy", "model_response"]


def headers_for_proxy(info: GatewayResponseInfo) -> dict[str, str]:
    """The gateway's ``cf-aig-*`` response headers as LiteLLM's ``additional_headers`` (the
    proxy returns them to its clients as ``llm_provider-cf-aig-...``, like a built-in
    provider's upstream headers)."""
    return {f"llm_provider-{name}": value for name, value in info.raw.items()}


def model_response(reply: ChatReply) -> ModelResponse:
    """A chat completion as LiteLLM's ``ModelResponse``. ``model`` is the qualified model that
    answered (after server-side fallbacks and dynamic routes), so it can be sent again as
    ``cloudflare-ai-gateway/{model}``."""
    response = ModelResponse(**dict(reply.data))
    response.model = reply.model
    response._hidden_params[HIDDEN_PARAMS_KEY] = reply.info
    response._hidden_params["additional_headers"] = headers_for_proxy(reply.info)
    return response


def embedding_response(
    data: Mapping[str, Any], info: GatewayResponseInfo, model: str, response: EmbeddingResponse
) -> EmbeddingResponse:
    """Fill LiteLLM's ``EmbeddingResponse`` from an OpenAI embeddings answer."""
    from litellm import Usage as LiteLLMUsage

    items = data.get("data")
    response.model = model
    response.data = [dict(item) for item in items if isinstance(item, Mapping)] if items else []
    usage = Usage.from_openai(data.get("usage"))
    if usage is not None:
        response.usage = LiteLLMUsage(
            prompt_tokens=usage.input_tokens,
            completion_tokens=0,
            total_tokens=usage.total_tokens,
        )
    response._hidden_params[HIDDEN_PARAMS_KEY] = info
    response._hidden_params["additional_headers"] = headers_for_proxy(info)
    return response


def _chunk(text: str = "", **fields: Any) -> GenericStreamingChunk:
    chunk: dict[str, Any] = {
        "text": text,
        "is_finished": False,
        "finish_reason": "",
        "usage": None,
        "index": 0,
        "tool_use": None,
        **fields,
    }
    return chunk  # type: ignore[return-value]


class ChunkFolder:
    """Turns the core's :class:`~cf_ai_gateway.ChatDelta` objects into LiteLLM chunks, as they
    arrive: the gateway's info (a plain dict) on the first chunk, one chunk per tool-call
    piece, and the finish reason with the usage on one final chunk (:meth:`finish`)."""

    def __init__(self, info: GatewayResponseInfo) -> None:
        self.info = info
        self._first = True
        self._finish: str | None = None
        self._usage: Usage | None = None

    def _extras(self, extra: dict[str, Any] | None = None) -> dict[str, Any] | None:
        fields = dict(extra or {})
        if self._first:
            fields[HIDDEN_PARAMS_KEY] = info_to_dict(self.info)
            self._first = False
        return fields or None

    def feed(self, delta: ChatDelta) -> Iterator[GenericStreamingChunk]:
        """The chunks one delta makes (none for a delta that only carries usage or a finish
        reason, unless it is the first)."""
        if delta.usage is not None:
            self._usage = delta.usage
        if delta.finish_reason:
            self._finish = delta.finish_reason
        extra = {"reasoning_content": delta.reasoning} if delta.reasoning else None
        pieces = list(delta.tool_calls)
        if delta.content or extra or not pieces:
            fields = self._extras(extra)
            if delta.content or fields:
                yield _chunk(delta.content, provider_specific_fields=fields)
        for piece in pieces:
            tool_use = {
                "id": piece.id,
                "type": "function",
                "index": piece.index,
                "function": {"name": piece.name, "arguments": piece.arguments or ""},
            }
            yield _chunk(tool_use=tool_use, provider_specific_fields=self._extras())

    def finish(self) -> GenericStreamingChunk:
        """The last chunk: finish reason and usage (``None`` when the upstream sent none;
        LiteLLM then counts tokens itself)."""
        usage = self._usage.to_openai() if self._usage is not None else None
        return _chunk(
            is_finished=True,
            finish_reason=self._finish or "stop",
            usage=usage,
            provider_specific_fields=self._extras(),
        )
