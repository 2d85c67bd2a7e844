"""``GatewayClient`` and ``AsyncGatewayClient``: chat completions, streams, embeddings and the
universal fallback endpoint through Cloudflare AI Gateway, over a pooled ``httpx`` client.

>>> from cf_ai_gateway import Gateway, GatewayClient, GatewayOptions
>>> client = GatewayClient(Gateway.from_env(), api_key=None)          # doctest: +SKIP
>>> result = client.chat_completions(                                  # doctest: +SKIP
...     {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]},
...     options=GatewayOptions(cache_ttl=3600, metadata={"user": "u-1"}),
... )
>>> result.data["choices"][0]["message"]["content"], result.info.cache_status  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._deadline import (
    NO_DEADLINE,
    Deadline,
    check_deadline_seconds,
    check_timeout,
    owned_sync_client,
)
from ._requests import PreparedRequest, RequestBuilder
from ._responses import (
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    GatewayResult,
    check_limit,
    read_result,
    response_info,
)
from ._retry_flow import asend_with_retries, send_with_retries
from .config import Gateway
from .options import GatewayOptions
from .response_info import GatewayResponseInfo
from .retry import RetryPolicy
from .wire import Surface

if TYPE_CHECKING:
    # imported by the methods using them, so ``import cf_ai_gateway`` loads neither: the
    # adapter kit (a ChatCall's module is loaded once a call exists) and the streams (with
    # their SSE parsing); ``client.ChatCompletionStream`` still works (``__getattr__``)
    from ._streams import AsyncChatCompletionStream, ChatCompletionStream
    from .chat import AsyncChatStream, ChatCall, ChatReply, ChatStream
    from .universal import UniversalStep

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "AsyncChatCompletionStream",
    "AsyncGatewayClient",
    "ChatCompletionStream",
    "GatewayClient",
    "GatewayResult",
]

ASYNC_IN_FLIGHT_MAX = 100
"""Attempts one async client has in flight at once (httpx's default pool size): more calls
wait their turn in the client, not inside httpcore's pool (see ``asend_with_retries``)."""

DEFAULT_TIMEOUT = 120.0
"""Seconds httpx waits for each network operation: connecting, each write, each read of the
answer (between two chunks, not the whole answer), a free pooled connection. Not a bound on
the call: that is ``deadline=``."""

_Stream = TypeVar("_Stream", "ChatCompletionStream", "AsyncChatCompletionStream")


def __getattr__(name: str) -> Any:
    """The stream classes this module names, imported on first use (PEP 562)."""
    if name == "ChatCompletionStream":
        from ._streams import ChatCompletionStream

        return ChatCompletionStream
    if name == "AsyncChatCompletionStream":
        from ._streams import AsyncChatCompletionStream

        return AsyncChatCompletionStream
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _stream_info(response: httpx.Response) -> GatewayResponseInfo:
    """What the gateway said about a stream, from its headers (known before the first chunk)."""
    return response_info(response)


class _ClientBase:
    def __init__(
        self,
        gateway: Gateway | None,
        *,
        surface: Surface,
        api_key: str | None,
        timeout: float | httpx.Timeout | None,
        retry: RetryPolicy | None,
        default_headers: Mapping[str, str] | None,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        secret_headers: Sequence[str] = (),
    ) -> None:
        self.gateway = gateway if gateway is not None else Gateway.from_env()
        self._builder = RequestBuilder(
            self.gateway,
            surface=surface,
            api_key=api_key,
            default_headers=default_headers,
            secret_headers=secret_headers,
        )
        self.retry = retry if retry is not None else RetryPolicy()
        timeout = check_timeout(timeout)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.deadline = check_deadline_seconds(deadline)
        """Seconds one call may take in total (``None``: no bound beyond ``timeout``)."""
        self.max_response_bytes = check_limit(max_response_bytes, "max_response_bytes")
        self.max_event_bytes = check_limit(max_event_bytes, "max_event_bytes")

    def _timeout(self, timeout: float | httpx.Timeout | None) -> httpx.Timeout:
        """The timeouts of one call: ``timeout=`` of the call, else the client's."""
        if timeout is None:
            return self.timeout
        checked = check_timeout(timeout)
        return checked if isinstance(checked, httpx.Timeout) else httpx.Timeout(checked)

    def _deadline(self, deadline: float | None) -> Deadline:
        """The deadline of one call: ``deadline=`` of the call, else the client's."""
        seconds = check_deadline_seconds(deadline) if deadline is not None else self.deadline
        # without a deadline a Deadline holds nothing to change: the shared one serves
        return NO_DEADLINE if seconds is None else Deadline(seconds)

    def _stream(
        self,
        cls: type[_Stream],
        response: httpx.Response,
        req: PreparedRequest,
        deadline: Deadline,
    ) -> _Stream:
        return cls(
            response,
            _stream_info(response),
            req.secrets,
            max_event_bytes=self.max_event_bytes,
            max_response_bytes=self.max_response_bytes,
            deadline=deadline,
        )

    @property
    def surface(self) -> Surface:
        return self._builder.surface

    def __repr__(self) -> str:
        return f"{type(self).__name__}(gateway={self.gateway!r}, surface={self.surface!r})"

    def _chat_request(self, call: ChatCall, *, stream: bool) -> PreparedRequest:
        """The request answering a :class:`ChatCall`: the universal endpoint when it has
        fallbacks (answered in one piece, never streamed), else this client's surface."""
        if call.fallback_models:
            return self._builder.universal(
                call.universal_steps(self._builder.api_key),
                options=call.options,
                extra_headers=call.extra_headers,
            )
        return self._builder.chat(
            call.request_body(stream=stream),
            options=call.options,
            surface=None,
            api_key=None,
            stream=stream,
            extra_headers=call.extra_headers,
        )

    def _request(
        self, client: httpx.Client | httpx.AsyncClient, req: PreparedRequest, timeout: httpx.Timeout
    ) -> httpx.Request:
        return client.build_request(
            req.method, req.url, headers=req.headers, json=req.json, timeout=timeout
        )


class GatewayClient(_ClientBase):
    """Synchronous client. Thread-safe; reuse one instance (it pools connections).

    - ``gateway``: the :class:`Gateway` (``Gateway.from_env()`` when omitted).
    - ``surface``: ``"compat"`` (unified, default), ``"provider"`` (provider-native paths) or
      ``"rest"`` (Cloudflare's REST API; Unified Billing/BYOK only).
    - ``api_key``: the provider credential; ``None`` sends none at all (BYOK/Unified Billing).
      Checked here: a key with a line break or a non-ASCII character is refused (the message
      never shows it).
    - ``timeout``: seconds httpx waits for each network operation (connect, each write, each
      read, a pooled connection), or an ``httpx.Timeout`` setting each: not the whole call.
      ``deadline``: seconds one call may take in total, every retry, backoff and (for a
      stream) the whole stream included; ``None`` (the default) sets no such bound. Both can
      be given per call too. Either one that is not a number > 0 is refused here.
    - ``retry``: the client-side :class:`RetryPolicy`; ``http_client``: your own
      ``httpx.Client`` (not closed by us).
    - ``max_response_bytes`` (64 MiB) / ``max_event_bytes`` (8 MiB): the largest answer,
      streamed or not, and the largest server-sent event accepted; beyond them
      :class:`~cf_ai_gateway.ResponseTooLargeError`.
    - ``secret_headers``: names of your own credential headers (``extra_headers`` or
      ``default_headers``) whose values must be redacted like ``api_key`` wherever the client
      renders text; ``wire.SECRET_HEADERS`` and names that look like a credential
      (``x-my-api-key``) are covered already.
    """

    def __init__(
        self,
        gateway: Gateway | None = None,
        *,
        surface: Surface = "compat",
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        secret_headers: Sequence[str] = (),
    ) -> None:
        super().__init__(
            gateway,
            surface=surface,
            api_key=api_key,
            timeout=timeout,
            retry=retry,
            default_headers=default_headers,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
            max_event_bytes=max_event_bytes,
            secret_headers=secret_headers,
        )
        self._owns_client = http_client is None
        self._http = http_client if http_client is not None else owned_sync_client()
        self._sleep: Callable[[float], None] = time.sleep

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(
        self, req: PreparedRequest, *, stream: bool, timeout: httpx.Timeout, deadline: Deadline
    ) -> httpx.Response:
        """The shared retry flow with blocking I/O; a 2xx response is returned open when
        ``stream``, else read (bounded) and closed."""
        return send_with_retries(
            self._http,
            req,
            self.retry,
            lambda: self._request(self._http, req, timeout),
            self._sleep,
            stream=stream,
            deadline=deadline,
            max_response_bytes=self.max_response_bytes,
        )

    def _json(
        self,
        req: PreparedRequest,
        timeout: float | httpx.Timeout | None,
        deadline: float | None = None,
    ) -> GatewayResult:
        response = self._send(
            req, stream=False, timeout=self._timeout(timeout), deadline=self._deadline(deadline)
        )
        return read_result(req, response)

    def _open_stream(
        self, req: PreparedRequest, timeout: float | httpx.Timeout | None, deadline: float | None
    ) -> ChatCompletionStream:
        """Send a streamed request; the response is closed if anything fails before the
        stream object owns it."""
        from ._streams import ChatCompletionStream

        call_deadline = self._deadline(deadline)
        response = self._send(
            req, stream=True, timeout=self._timeout(timeout), deadline=call_deadline
        )
        try:
            return self._stream(ChatCompletionStream, response, req, call_deadline)
        except BaseException:
            response.close()
            raise

    def chat_completions(
        self,
        body: Mapping[str, Any],
        *,
        options: GatewayOptions | None = None,
        surface: Surface | None = None,
        api_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> GatewayResult:
        """POST an OpenAI-schema chat completion; ``result.data`` is the response dict."""
        req = self._builder.chat(
            body,
            options=options,
            surface=surface,
            api_key=api_key,
            stream=False,
            extra_headers=extra_headers,
        )
        return self._json(req, timeout, deadline)

    def stream_chat_completions(
        self,
        body: Mapping[str, Any],
        *,
        options: GatewayOptions | None = None,
        surface: Surface | None = None,
        api_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> ChatCompletionStream:
        """Start a streamed chat completion; returns once response headers have arrived.
        ``deadline`` runs on while you iterate: it bounds the whole stream."""
        req = self._builder.chat(
            body,
            options=options,
            surface=surface,
            api_key=api_key,
            stream=True,
            extra_headers=extra_headers,
        )
        return self._open_stream(req, timeout, deadline)

    def embeddings(
        self,
        body: Mapping[str, Any],
        *,
        options: GatewayOptions | None = None,
        api_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> GatewayResult:
        """POST an OpenAI-schema embeddings request on the provider-native path."""
        req = self._builder.embeddings(
            body, options=options, api_key=api_key, extra_headers=extra_headers
        )
        return self._json(req, timeout, deadline)

    def universal(
        self,
        steps: Sequence[UniversalStep | Mapping[str, Any]],
        *,
        options: GatewayOptions | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> GatewayResult:
        """POST a universal request; the gateway falls back server-side (``info.step``)."""
        req = self._builder.universal(steps, options=options, extra_headers=extra_headers)
        return self._json(req, timeout, deadline)

    # --- the adapter kit: chat with server-side fallbacks -----------------------------------

    def chat(
        self,
        call: ChatCall,
        *,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> ChatReply:
        """Answer a :class:`~cf_ai_gateway.chat.ChatCall`: on this client's surface, or
        through the universal endpoint when the call has ``fallback_models``."""
        from .chat import ChatReply

        result = self._json(self._chat_request(call, stream=False), timeout, deadline)
        return ChatReply.from_response(call, result.data, result.info)

    def stream_chat(
        self,
        call: ChatCall,
        *,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> ChatStream:
        """Stream a :class:`~cf_ai_gateway.chat.ChatCall` as ``ChatDelta`` objects. With
        ``fallback_models`` the universal endpoint answers in one piece: one delta."""
        from .chat import ChatStream, stream_of_reply

        if call.fallback_models:
            return stream_of_reply(call, self.chat(call, timeout=timeout, deadline=deadline))
        req = self._chat_request(call, stream=True)
        stream = self._open_stream(req, timeout, deadline)
        return ChatStream(call, stream.info, iter(stream), stream.close)


class AsyncGatewayClient(_ClientBase):
    """The async twin of :class:`GatewayClient`, over ``httpx.AsyncClient``."""

    def __init__(
        self,
        gateway: Gateway | None = None,
        *,
        surface: Surface = "compat",
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        secret_headers: Sequence[str] = (),
    ) -> None:
        super().__init__(
            gateway,
            surface=surface,
            api_key=api_key,
            timeout=timeout,
            retry=retry,
            default_headers=default_headers,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
            max_event_bytes=max_event_bytes,
            secret_headers=secret_headers,
        )
        self._owns_client = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        import asyncio  # here, not at module level: sync-only users never pay for asyncio

        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._gate = asyncio.Semaphore(ASYNC_IN_FLIGHT_MAX)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncGatewayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(
        self, req: PreparedRequest, *, stream: bool, timeout: httpx.Timeout, deadline: Deadline
    ) -> httpx.Response:
        """The shared retry flow with async I/O; a 2xx response is returned open when
        ``stream``, else read (bounded) and closed."""
        return await asend_with_retries(
            self._http,
            req,
            self.retry,
            lambda: self._request(self._http, req, timeout),
            self._sleep,
            stream=stream,
            deadline=deadline,
            max_response_bytes=self.max_response_bytes,
            gate=self._gate,
        )

    async def _json(
        self,
        req: PreparedRequest,
        timeout: float | httpx.Timeout | None,
        deadline: float | None = None,
    ) -> GatewayResult:
        response = await self._send(
            req, stream=False, timeout=self._timeout(timeout), deadline=self._deadline(deadline)
        )
        return read_result(req, response)

    async def _open_stream(
        self, req: PreparedRequest, timeout: float | httpx.Timeout | None, deadline: float | None
    ) -> AsyncChatCompletionStream:
        """Send a streamed request; the response is closed if anything fails before the
        stream object owns it."""
        from ._streams import AsyncChatCompletionStream

        call_deadline = self._deadline(deadline)
        response = await self._send(
            req, stream=True, timeout=self._timeout(timeout), deadline=call_deadline
        )
        try:
            return self._stream(AsyncChatCompletionStream, response, req, call_deadline)
        except BaseException:
            await response.aclose()
            raise

    async def chat_completions(
        self,
        body: Mapping[str, Any],
        *,
        options: GatewayOptions | None = None,
        surface: Surface | None = None,
        api_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> GatewayResult:
        """Async :meth:`GatewayClient.chat_completions`."""
        req = self._builder.chat(
            body,
            options=options,
            surface=surface,
            api_key=api_key,
            stream=False,
            extra_headers=extra_headers,
        )
        return await self._json(req, timeout, deadline)

    async def stream_chat_completions(
        self,
        body: Mapping[str, Any],
        *,
        options: GatewayOptions | None = None,
        surface: Surface | None = None,
        api_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> AsyncChatCompletionStream:
        """Async :meth:`GatewayClient.stream_chat_completions` (``await`` it, then
        ``async for``)."""
        req = self._builder.chat(
            body,
            options=options,
            surface=surface,
            api_key=api_key,
            stream=True,
            extra_headers=extra_headers,
        )
        return await self._open_stream(req, timeout, deadline)

    async def embeddings(
        self,
        body: Mapping[str, Any],
        *,
        options: GatewayOptions | None = None,
        api_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> GatewayResult:
        """Async :meth:`GatewayClient.embeddings`."""
        req = self._builder.embeddings(
            body, options=options, api_key=api_key, extra_headers=extra_headers
        )
        return await self._json(req, timeout, deadline)

    async def universal(
        self,
        steps: Sequence[UniversalStep | Mapping[str, Any]],
        *,
        options: GatewayOptions | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> GatewayResult:
        """Async :meth:`GatewayClient.universal`."""
        req = self._builder.universal(steps, options=options, extra_headers=extra_headers)
        return await self._json(req, timeout, deadline)

    # --- the adapter kit: chat with server-side fallbacks -----------------------------------

    async def chat(
        self,
        call: ChatCall,
        *,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> ChatReply:
        """Async :meth:`GatewayClient.chat`."""
        from .chat import ChatReply

        result = await self._json(self._chat_request(call, stream=False), timeout, deadline)
        return ChatReply.from_response(call, result.data, result.info)

    async def stream_chat(
        self,
        call: ChatCall,
        *,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> AsyncChatStream:
        """Async :meth:`GatewayClient.stream_chat` (``await`` it, then ``async for``)."""
        from .chat import AsyncChatStream, async_stream_of_reply

        if call.fallback_models:
            reply = await self.chat(call, timeout=timeout, deadline=deadline)
            return async_stream_of_reply(call, reply)
        req = self._chat_request(call, stream=True)
        stream = await self._open_stream(req, timeout, deadline)
        return AsyncChatStream(call, stream.info, stream.__aiter__(), stream.aclose)
