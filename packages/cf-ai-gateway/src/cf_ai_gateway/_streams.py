"""Chat-completion streams: one event parser, and a sync and an async class that only do I/O.

:class:`SSEReader` turns the body's bytes into server-sent events, bounded (one line or one
event's data over ``max_event_bytes``, or the whole stream over ``max_response_bytes``, raise
:class:`~cf_ai_gateway.ResponseTooLargeError`) and linear (each byte is scanned once).
:class:`ChunkParser` holds everything the two stream classes share: SSE event data to chunk,
the ``[DONE]`` end marker, a de-streamed JSON body (guardrails answer a streaming request with
one non-streamed payload) as one chunk, an error delivered inside the stream, and the
translation of a connection that fails mid-stream. Nothing raised once a stream has started is
retryable: the caller may already have seen output.

A stream must end with ``[DONE]`` or a chunk carrying a ``finish_reason``: one that ends
cleanly without either was cut short (a proxy, a crashed upstream), and raises
:class:`~cf_ai_gateway.StreamInterruptedError` instead of passing for a complete answer. An
event that is not a JSON object raises :class:`~cf_ai_gateway.InvalidResponseError`. Every exit
path (the end, an error, a ``break`` or ``close()`` by the caller, the deadline) closes the
response.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx
from httpx_sse import ServerSentEvent

from ._deadline import NO_DEADLINE, Deadline, DeadlineExceeded
from ._responses import (
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    aread_body,
    detached,
    read_body,
    too_large,
)
from .errors import (
    GatewayError,
    GatewayTimeoutError,
    InvalidResponseError,
    ProviderError,
    StreamInterruptedError,
    error_from_response,
    redact,
)
from .jsonsafe import parse_json
from .response_info import GatewayResponseInfo

__all__ = ["AsyncChatCompletionStream", "ChatCompletionStream", "ChunkParser", "SSEReader"]

DONE = "[DONE]"
"""The OpenAI-style end-of-stream event; nothing after it is read."""

_EOL = re.compile(rb"\r\n|\r|\n")


class SSEReader:
    r"""Server-sent events from body bytes, fed chunk by chunk (no I/O).

    >>> reader = SSEReader(GatewayResponseInfo(status_code=200))
    >>> [e.data for e in reader.feed(b"data: one\n\ndata: t")]
    ['one']
    >>> [e.data for e in reader.feed(b"wo\r\n\r\n")]
    ['two']
    """

    def __init__(
        self,
        info: GatewayResponseInfo,
        *,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.info = info
        self.max_event_bytes = max_event_bytes
        self.max_response_bytes = max_response_bytes
        self.total = 0
        self._partial = bytearray()
        self._after_cr = False
        self._event = ""
        self._data: list[str] = []
        self._data_bytes = 0

    def _too_large(self, what: str) -> GatewayError:
        return too_large(what, self.max_event_bytes, self.info, "max_event_bytes")

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events ``chunk`` completes."""
        self.total += len(chunk)
        if self.total > self.max_response_bytes:
            raise too_large("the stream", self.max_response_bytes, self.info, "max_response_bytes")
        if not chunk:
            return []  # nothing to do, and a CR pending from the chunk before stays pending
        if self._after_cr and chunk[:1] == b"\n":
            chunk = chunk[1:]  # the LF of a CRLF split across two chunks
        self._after_cr = False
        events: list[ServerSentEvent] = []
        if b"\r" not in chunk:  # the usual case: LF line ends only, split at C speed
            lines = chunk.split(b"\n")
            tail = lines.pop()  # after the last LF: the start of a line still to come
            if lines and self._partial:
                self._partial += lines[0]
                lines[0] = bytes(self._partial)
                self._partial.clear()
            for line in lines:
                self._line(line, events)
            self._partial += tail
            if len(self._partial) > self.max_event_bytes:
                raise self._too_large("a stream line")
            return events
        start = 0
        for match in _EOL.finditer(chunk):
            line = chunk[start : match.start()]
            if self._partial:
                self._partial += line
                line = bytes(self._partial)
                self._partial.clear()
            self._line(line, events)
            start = match.end()
            self._after_cr = match.group() == b"\r" and start == len(chunk)
        self._partial += chunk[start:]
        if len(self._partial) > self.max_event_bytes:
            raise self._too_large("a stream line")
        return events

    def _line(self, raw: bytes, events: list[ServerSentEvent]) -> None:
        if len(raw) > self.max_event_bytes:
            raise self._too_large("a stream line")
        line = raw.decode("utf-8", "replace")
        if not line:
            if self._data or self._event:
                events.append(ServerSentEvent(event=self._event, data="\n".join(self._data)))
            self._event, self._data, self._data_bytes = "", [], 0
            return
        if line.startswith(":"):
            return  # a comment (keep-alive)
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data_bytes += len(raw) + 1
            if self._data_bytes > self.max_event_bytes:
                raise self._too_large("a stream event")
            self._data.append(value)
        elif name == "event":
            self._event = value
        # id and retry change nothing for a chat stream; other fields are ignored (the spec)

    def close(self) -> list[ServerSentEvent]:
        """At the end of the body: an unterminated last line still counts as a line, and a
        pending event is dispatched (some servers omit the final blank line)."""
        events: list[ServerSentEvent] = []
        if self._partial:
            line = bytes(self._partial)
            self._partial.clear()
            self._line(line, events)
        self._line(b"", events)
        return events


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
        self.finished = False
        """Whether a chunk carried a ``finish_reason`` (the answer is complete)."""

    @staticmethod
    def is_event_stream(response: httpx.Response) -> bool:
        """Whether the gateway answered with SSE (else: a de-streamed JSON body)."""
        return "text/event-stream" in response.headers.get("content-type", "")

    def event(self, data: str) -> dict[str, Any] | None:
        """The chunk one SSE event carries; ``None`` for an empty event and for ``[DONE]``
        (which sets ``done``). An error event raises its typed, non-retryable error; an
        event that is not a JSON object raises ``InvalidResponseError``."""
        if data == DONE:
            self.done = True
            return None
        if not data:
            return None
        chunk = self._parse(data)
        choices = chunk.get("choices")
        if isinstance(choices, list) and any(
            isinstance(c, Mapping) and c.get("finish_reason") for c in choices
        ):
            self.finished = True
        return chunk

    def end(self) -> None:
        """The body ended: without ``[DONE]`` or a ``finish_reason`` the answer was cut."""
        if not self.done and not self.finished:
            raise StreamInterruptedError(
                "the stream ended without [DONE] or a finish_reason: the answer is incomplete",
                info=self.info,
                status_code=self.info.status_code,
            )

    def destreamed(self, content: bytes) -> dict[str, Any]:
        """A non-streamed chat completion in place of a stream, as one chunk."""
        data = self._parse(
            content.decode("utf-8", "replace"), "the de-streamed body", "a chat completion object"
        )
        self.done = True
        return destreamed_chunk(data)

    def interrupted(self, exc: httpx.TransportError) -> GatewayError:
        """The error for a connection that failed mid-stream (its ``__cause__`` is set)."""
        return stream_error(exc, self.info, self.secrets)

    def _parse(
        self, data: str, what: str = "a stream event", shape: str = "a JSON object"
    ) -> dict[str, Any]:
        try:
            chunk = parse_json(data)
        except ValueError as exc:
            raise InvalidResponseError(
                f"{what} is not JSON ({exc})"[:300],
                status_code=self.info.status_code,
                info=self.info,
                body=redact(data[:4096], self.secrets)[:500],
            ) from exc
        if not isinstance(chunk, dict):
            raise InvalidResponseError(
                f"{what} is not {shape} ({type(chunk).__name__})",
                status_code=self.info.status_code,
                info=self.info,
                body=redact(data[:4096], self.secrets)[:500],
            )
        err = chunk_error(chunk, self.info, self.secrets)
        if err is not None:
            raise err
        return chunk


class _StreamBase:
    def __init__(
        self,
        response: httpx.Response,
        info: GatewayResponseInfo,
        secrets: tuple[str, ...],
        *,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        deadline: Deadline = NO_DEADLINE,
    ) -> None:
        self.response = response
        self.info = info
        self._parser = ChunkParser(info, secrets)
        self._reader = SSEReader(
            info, max_event_bytes=max_event_bytes, max_response_bytes=max_response_bytes
        )
        self._max_response_bytes = max_response_bytes
        self._deadline = deadline

    def _chunks(self, events: list[ServerSentEvent]) -> Iterator[dict[str, Any]]:
        """The chunks of ``events``, up to ``[DONE]``."""
        for event in events:
            chunk = self._parser.event(event.data)
            if self._parser.done:
                return
            if chunk is not None:
                yield chunk

    def _failed(self, exc: httpx.TransportError) -> GatewayError:
        if self._deadline.expired():
            error = self._deadline.error(self.info)
            error.__cause__ = detached(exc, self._parser.secrets)
            return error
        return self._parser.interrupted(exc)


class ChatCompletionStream(_StreamBase):
    """An open chat-completions stream: ``info`` is known before the first chunk.

    Iterate it for parsed chunk dicts; it closes itself at the end, or use it as a context
    manager to close it early. Events are yielded as they arrive (no buffering). Bounded by
    ``max_event_bytes`` and ``max_response_bytes``, and by the call's deadline while you
    iterate (see the module docstring).
    """

    def __iter__(self) -> Iterator[dict[str, Any]]:
        parser, deadline = self._parser, self._deadline
        failure: GatewayError | None = None
        try:
            if not parser.is_event_stream(self.response):
                with deadline.active():
                    body = read_body(self.response, self._max_response_bytes, deadline, self.info)
                yield parser.destreamed(body)
                return
            deadline.cap_read(self.response)
            raw = self.response.iter_bytes()
            while True:
                with deadline.active():  # each read waits at most the time left
                    data = next(raw, None)
                if data is None:
                    break
                yield from self._chunks(self._reader.feed(data))
                if parser.done:
                    return
                if deadline.expired():
                    raise deadline.error(self.info)
            yield from self._chunks(self._reader.close())
            parser.end()
        except httpx.TransportError as exc:
            failure = self._failed(exc)
        finally:
            self.response.close()
        if failure is not None:
            raise failure  # outside the except block: no __context__ holding the request

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> ChatCompletionStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncChatCompletionStream(_StreamBase):
    """The async twin of :class:`ChatCompletionStream` (``async for`` / ``async with``)."""

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        parser, deadline = self._parser, self._deadline
        failure: GatewayError | None = None
        try:
            if not parser.is_event_stream(self.response):
                body = await aread_body(
                    self.response, self._max_response_bytes, deadline, self.info
                )
                yield parser.destreamed(body)
                return
            raw = self.response.aiter_bytes()
            try:
                while True:
                    try:
                        data = await deadline.wait(raw.__anext__())
                    except StopAsyncIteration:
                        break
                    except DeadlineExceeded as exc:
                        raise deadline.error(self.info) from exc
                    for chunk in self._chunks(self._reader.feed(data)):
                        yield chunk
                    if parser.done:
                        return
            finally:
                aclose = getattr(raw, "aclose", None)
                if aclose is not None:
                    await aclose()
            for chunk in self._chunks(self._reader.close()):
                yield chunk
            parser.end()
        except httpx.TransportError as exc:
            failure = self._failed(exc)
        finally:
            await self.response.aclose()
        if failure is not None:
            raise failure  # outside the except block: no __context__ holding the request

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
    error: GatewayError
    if isinstance(exc, httpx.TimeoutException):
        error = GatewayTimeoutError(
            f"stream stalled ({type(exc).__name__})", info=info, retryable=False
        )
    else:
        error = StreamInterruptedError(
            f"the stream was cut off ({redact(str(exc), secrets) or type(exc).__name__})",
            info=info,
            status_code=info.status_code,
        )
    error.__cause__ = detached(exc, secrets)
    return error


def chunk_error(
    chunk: Mapping[str, Any], info: GatewayResponseInfo, secrets: tuple[str, ...]
) -> GatewayError | None:
    """A provider error delivered inside a stream as ``{"error": {...}}``, if this is one."""
    err = chunk.get("error")
    if err is None:
        return None
    try:
        payload = json.dumps(chunk).encode()
    except (TypeError, ValueError, RecursionError):
        payload = b"{}"
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
    """A non-streamed chat completion (guardrails de-stream responses) as one chunk; entries
    of ``choices`` that are not objects are left out."""
    raw_choices = data.get("choices")
    choices = []
    for choice in raw_choices if isinstance(raw_choices, list) else []:
        if not isinstance(choice, Mapping):
            continue
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
