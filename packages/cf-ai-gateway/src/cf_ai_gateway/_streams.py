"""Chat-completion streams: one event parser, and a sync and an async class that only do I/O.

:class:`ChunkParser` holds everything the two stream classes share: SSE event data to chunk,
the ``[DONE]`` end marker, a de-streamed JSON body (guardrails answer a streaming request with
one non-streamed payload) as one chunk, an error delivered inside the stream, and the
translation of a connection that fails mid-stream. Nothing raised once a stream has started is
retryable: the caller may already have seen output.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx
from httpx_sse import EventSource

from .errors import (
    GatewayError,
    GatewayTimeoutError,
    InvalidResponseError,
    ProviderError,
    StreamInterruptedError,
    error_from_response,
    redact,
)
from .response_info import GatewayResponseInfo

__all__ = ["AsyncChatCompletionStream", "ChatCompletionStream", "ChunkParser"]

DONE = "[DONE]"
"""The OpenAI-style end-of-stream event; nothing after it is read."""


class ChunkParser:
    """Turns one stream's events into chunk dicts (no I/O), for either stream class.

    >>> parser = ChunkParser(GatewayResponseInfo(status_code=200), secrets=())
    >>> parser.event('{"choices": [{"index": 0, "delta": {"content": "Hi"}}]}')["choices"][0]
    {'index': 0, 'delta': {'content': 'Hi'}}
    >>> parser.event(""), parser.done
    (None, False)
    >>> parser.event("[DONE]"), parser.done
    (None, True)
    """

    def __init__(self, info: GatewayResponseInfo, secrets: tuple[str, ...]) -> None:
        self.info = info
        self.secrets = secrets
        self.done = False

    @staticmethod
    def is_event_stream(response: httpx.Response) -> bool:
        """Whether the gateway answered with SSE (else: a de-streamed JSON body)."""
        return "text/event-stream" in response.headers.get("content-type", "")

    def event(self, data: str) -> Any:
        """The chunk one SSE event carries; ``None`` for an empty event and for ``[DONE]``
        (which sets ``done``). An error event raises its typed, non-retryable error."""
        if data == DONE:
            self.done = True
            return None
        if not data:
            return None
        return self._parse(data)

    def destreamed(self, content: bytes) -> dict[str, Any]:
        """A non-streamed chat completion in place of a stream, as one chunk."""
        data = self._parse(content.decode("utf-8", "replace"))
        if not isinstance(data, Mapping):
            raise InvalidResponseError(
                "the de-streamed body is not a chat completion object",
                status_code=self.info.status_code,
                info=self.info,
                body=redact(content.decode("utf-8", "replace"), self.secrets)[:500],
            )
        return destreamed_chunk(data)

    def interrupted(self, exc: httpx.TransportError) -> GatewayError:
        """The error for a connection that failed mid-stream (raise it ``from exc``)."""
        return stream_error(exc, self.info, self.secrets)

    def _parse(self, data: str) -> Any:
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise InvalidResponseError(
                "a stream event is not JSON",
                status_code=self.info.status_code,
                info=self.info,
                body=redact(data, self.secrets)[:500],
            ) from exc
        if isinstance(chunk, dict):
            err = chunk_error(chunk, self.info, self.secrets)
            if err is not None:
                raise err
        return chunk


class ChatCompletionStream:
    """An open chat-completions stream: ``info`` is known before the first chunk.

    Iterate it for parsed chunk dicts; it closes itself at the end, or use it as a context
    manager to close it early. Events are yielded as they arrive (no buffering).
    """

    def __init__(
        self, response: httpx.Response, info: GatewayResponseInfo, secrets: tuple[str, ...]
    ) -> None:
        self.response = response
        self.info = info
        self._parser = ChunkParser(info, secrets)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        parser = self._parser
        try:
            if not parser.is_event_stream(self.response):
                yield parser.destreamed(self.response.read())
                return
            for event in EventSource(self.response).iter_sse():
                chunk = parser.event(event.data)
                if parser.done:
                    return
                if chunk is not None:
                    yield chunk
        except httpx.TransportError as exc:
            raise parser.interrupted(exc) from exc
        finally:
            self.response.close()

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> ChatCompletionStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncChatCompletionStream:
    """The async twin of :class:`ChatCompletionStream` (``async for`` / ``async with``)."""

    def __init__(
        self, response: httpx.Response, info: GatewayResponseInfo, secrets: tuple[str, ...]
    ) -> None:
        self.response = response
        self.info = info
        self._parser = ChunkParser(info, secrets)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        parser = self._parser
        try:
            if not parser.is_event_stream(self.response):
                yield parser.destreamed(await self.response.aread())
                return
            async for event in EventSource(self.response).aiter_sse():
                chunk = parser.event(event.data)
                if parser.done:
                    return
                if chunk is not None:
                    yield chunk
        except httpx.TransportError as exc:
            raise parser.interrupted(exc) from exc
        finally:
            await self.response.aclose()

    async def aclose(self) -> None:
        await self.response.aclose()

    async def __aenter__(self) -> AsyncChatCompletionStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def stream_error(
    exc: Exception, info: GatewayResponseInfo, secrets: tuple[str, ...]
) -> GatewayError:
    """Translate an httpx failure after a stream started (never retryable: output was seen)."""
    if isinstance(exc, httpx.TimeoutException):
        return GatewayTimeoutError(
            f"stream stalled ({type(exc).__name__})", info=info, retryable=False
        )
    return StreamInterruptedError(
        f"the stream was cut off ({redact(str(exc), secrets) or type(exc).__name__})",
        info=info,
        status_code=info.status_code,
    )


def chunk_error(
    chunk: Mapping[str, Any], info: GatewayResponseInfo, secrets: tuple[str, ...]
) -> GatewayError | None:
    """A provider error delivered inside a stream as ``{"error": {...}}``, if this is one."""
    err = chunk.get("error")
    if err is None:
        return None
    payload = json.dumps(chunk).encode()
    mapped = error_from_response(info.status_code or 500, info.raw, payload, secrets=secrets)
    # Output may already have been seen, so nothing raised mid-stream is retryable. A gateway
    # error code keeps its type (a DLP/guardrails block stays a ContentBlockedError); anything
    # else inside a 200 stream is the provider's error.
    if mapped.code is not None and not isinstance(mapped, ProviderError):
        mapped.retryable = False
        return mapped
    return ProviderError(
        mapped.message,
        status_code=info.status_code,
        info=info,
        body=mapped.body,
        error_type=mapped.error_type,
        provider_code=mapped.provider_code,
        retryable=False,
    )


def destreamed_chunk(data: Mapping[str, Any]) -> dict[str, Any]:
    """A non-streamed chat completion (guardrails de-stream responses) as one chunk."""
    choices = []
    for choice in data.get("choices") or []:
        choices.append(
            {
                "index": choice.get("index", 0),
                "delta": choice.get("message") or {},
                "finish_reason": choice.get("finish_reason"),
                "logprobs": choice.get("logprobs"),
            }
        )
    chunk = {k: v for k, v in data.items() if k not in ("choices", "object")}
    chunk["object"] = "chat.completion.chunk"
    chunk["choices"] = choices
    return chunk
