"""Reading what came back, shared by the sync and async clients: a 2xx response into a
:class:`GatewayResult`, a failed one or an ``httpx`` exception into a typed ``GatewayError``
that keeps the original exception (detached from its request) as its ``__cause__``; and the
bounded body readers the retry drivers use (:func:`read_body`, :func:`read_error_body` and
their async twins).

Bounds, whatever the server sends: a 2xx body is read up to ``max_response_bytes``
(:data:`DEFAULT_MAX_RESPONSE_BYTES`, after decompression; a larger declared or actual size
raises :class:`~cf_ai_gateway.ResponseTooLargeError` without reading on); an error body up to
:data:`~cf_ai_gateway.errors.ERROR_BODY_MAX_BYTES`, the rest never downloaded; the deadline is
checked after every chunk.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ._deadline import Deadline, DeadlineExceeded
from ._requests import PreparedRequest
from .errors import (
    ERROR_BODY_MAX_BYTES,
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    InvalidResponseError,
    ResponseTooLargeError,
    error_from_response,
    redact,
)
from .jsonsafe import parse_json
from .response_info import GatewayResponseInfo

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""The most bytes of one answer a client accepts, streamed or not (after decompression):
64 MiB, far above a chat completion; an embeddings batch of 2,048 large vectors as JSON
floats needs more (raise ``max_response_bytes=``, or ask for base64)."""
DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024
"""The most bytes of one server-sent event (one line, or the ``data:`` lines of one event):
8 MiB; a chat chunk is a few hundred bytes."""


def check_limit(value: object, name: str) -> int:
    """A byte limit: an integer > 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}={value!r} must be an integer number of bytes > 0")
    return value


logger = logging.getLogger("cf_ai_gateway")

ATTEMPTS_EXTENSION = "cf_aig_attempts"
"""Where the retry drivers leave, on a 2xx ``httpx.Response``, how many sends it took."""


def response_info(
    response: httpx.Response, headers: Mapping[str, str] | None = None
) -> GatewayResponseInfo:
    """What the gateway said about a 2xx response, with the attempts it took this client.
    ``headers``: the response's headers already read into a dict, if the caller has them."""
    attempts = response.extensions.get(ATTEMPTS_EXTENSION)
    return GatewayResponseInfo.from_headers(
        response.headers if headers is None else headers,
        status_code=response.status_code,
        attempts=attempts if isinstance(attempts, int) else None,
    )


@dataclass(frozen=True)
class GatewayResult:
    """A parsed JSON response with the gateway's metadata about it."""

    data: Any
    info: GatewayResponseInfo
    status_code: int
    headers: Mapping[str, str]


def read_result(req: PreparedRequest, response: httpx.Response) -> GatewayResult:
    """The parsed JSON of a 2xx ``response`` (already read); ``InvalidResponseError`` if the
    body is not JSON."""
    status = response.status_code
    # as read: the wire's framing headers give way to the answer's length (what a
    # with_content copy holds, whichever way the body was read)
    # (httpx's items() are lower-case already, a repeated header joined)
    lower = {k: v for k, v in response.headers.items() if k not in _UNREAD_HEADERS}
    lower["content-length"] = str(len(response.content))
    info = response_info(response, lower)
    if logger.isEnabledFor(logging.DEBUG):  # the redaction is work: only for a shown line
        logger.debug(
            "%s -> %s (cache=%s log_id=%s step=%s attempts=%s)",
            redact(req.describe(), req.secrets),
            status,
            info.cache_status,
            info.log_id,
            info.step,
            info.attempts,
        )
    try:
        data = parse_json(response.content)
    except ValueError as exc:
        raise InvalidResponseError(
            f"the gateway answered 2xx with a body that is not JSON ({exc})"[:300],
            status_code=status,
            info=info,
            body=redact(response.content[:4096].decode("utf-8", "replace"), req.secrets)[:500],
        ) from exc
    return GatewayResult(data, info, status, lower)


def read_error(req: PreparedRequest, response: httpx.Response) -> GatewayError:
    """The typed error of a non-2xx ``response`` (already read), with the server's retry
    signals (``retry_after``, ``x-should-retry``) on it."""
    err = error_from_response(
        response.status_code,
        response.headers,
        response.content,
        secrets=req.secrets,
        source=req.source,
        context=req.context,
    )
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s -> %s %s",
            redact(req.describe(), req.secrets),
            response.status_code,
            type(err).__name__,
        )
    return err


def detached(exc: BaseException, secrets: Iterable[str] = ()) -> BaseException:
    """``exc`` fit to be kept as a cause: an ``httpx`` request error is copied without its
    request (which holds the request headers, credentials included) and with its message
    redacted; the copy keeps the type and the traceback, not the chain below (httpcore's own
    exception, whose message may quote what was sent)."""
    if not isinstance(exc, httpx.RequestError):
        return exc
    try:
        clone: BaseException = type(exc)(redact(str(exc), secrets))
    except Exception:  # a subclass with another signature
        clone = httpx.TransportError(redact(str(exc), secrets))
    return clone.with_traceback(exc.__traceback__)


def transport_error(exc: httpx.HTTPError, req: PreparedRequest) -> GatewayError:
    """Translate an ``httpx`` exception raised while sending into our hierarchy (never a bare
    httpx error escapes). A detached copy of ``exc`` becomes the error's ``__cause__``."""
    text = redact(f"{type(exc).__name__}: {exc}", req.secrets)
    error: GatewayError
    if isinstance(exc, httpx.TimeoutException):
        error = GatewayTimeoutError(f"request timed out ({text})")
    else:
        error = GatewayConnectionError(f"could not reach the gateway ({text})")
    error.__cause__ = detached(exc, req.secrets)  # raised later, by the retry flow
    return error


# --- bounded reading ----------------------------------------------------------------------


def declared_length(response: httpx.Response) -> int | None:
    """The ``Content-Length`` the server declared, when it is a plain number."""
    return _plain_length(response.headers.get("content-length", ""))


def _plain_length(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def too_large(what: str, limit: int, info: GatewayResponseInfo, name: str) -> GatewayError:
    return ResponseTooLargeError(
        f"{what} is larger than {name}={limit} bytes; stopped reading",
        status_code=info.status_code,
        info=info,
        limit=limit,
    )


def with_content(response: httpx.Response, content: bytes) -> httpx.Response:
    """A closed, read copy of ``response`` holding ``content`` (already decoded)."""
    # raw bytes: a header value httpx decoded from Latin-1 would not encode back as ASCII
    headers = [
        (k, v)
        for k, v in response.headers.raw
        if k.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")
    ]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=response.request,
        extensions=dict(response.extensions),
    )


_CODINGS = ("content-encoding", "transfer-encoding")
"""Response headers that make the body on the wire differ from the answer's bytes."""
_CODINGS_RAW = tuple(name.encode() for name in _CODINGS)
_UNREAD_HEADERS = frozenset({"content-length", *_CODINGS})
"""What a read answer no longer has (the copies of :func:`with_content` drop them)."""


def _framed(response: httpx.Response, limit: int, deadline: Deadline) -> bool:
    """Whether the body of ``response`` can be read in one go, with the limits kept: its
    length is declared, within ``limit``, with no transfer or content coding, so exactly
    that many bytes arrive (the HTTP framing ends the body there), and no deadline needs
    checking between chunks. (One pass over the raw headers: each httpx lookup decodes
    them all.)"""
    if deadline.end is not None:
        return False
    lengths: list[bytes] = []
    for key, value in response.headers.raw:
        name = key.lower()
        if name == b"content-length":
            lengths.append(value)
        elif name in _CODINGS_RAW:
            return False
    if not lengths:
        return False
    # the value declared_length reads: httpx joins a repeated header (then not a number)
    encoding = response.headers.encoding
    declared = _plain_length(", ".join(value.decode(encoding) for value in lengths))
    return declared is not None and declared <= limit


def read_answer(response: httpx.Response, limit: int, deadline: Deadline) -> httpx.Response:
    """A 2xx ``response`` read, bounded as :func:`read_body` reads (``ResponseTooLargeError``
    past ``limit``, the deadline kept): a body of declared length without coding is read by
    ``response.read()`` (at most the declared bytes, checked against ``limit`` first), any
    other into a :func:`with_content` copy. The caller closes ``response``."""
    if _framed(response, limit, deadline):
        response.read()
        return response
    return with_content(response, read_body(response, limit, deadline))


async def aread_answer(response: httpx.Response, limit: int, deadline: Deadline) -> httpx.Response:
    """The async twin of :func:`read_answer`."""
    if _framed(response, limit, deadline):
        await response.aread()
        return response
    return with_content(response, await aread_body(response, limit, deadline))


def read_body(
    response: httpx.Response,
    limit: int,
    deadline: Deadline,
    info: GatewayResponseInfo | None = None,
) -> bytes:
    """The whole body of a 2xx ``response``, at most ``limit`` bytes (else
    ``ResponseTooLargeError``), the deadline checked after every chunk. The caller closes
    ``response``; httpx errors propagate. ``info`` (read from ``response`` when not given,
    only for an error) goes on the errors raised."""
    declared = declared_length(response)
    if declared is not None and declared > limit:
        raise too_large("the answer", limit, _info(response, info), "max_response_bytes")
    deadline.cap_read(response)
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise too_large("the answer", limit, _info(response, info), "max_response_bytes")
        if deadline.expired():
            raise deadline.error(_info(response, info))
    return bytes(body)


def _info(response: httpx.Response, info: GatewayResponseInfo | None) -> GatewayResponseInfo:
    return info if info is not None else response_info(response)


async def aread_body(
    response: httpx.Response,
    limit: int,
    deadline: Deadline,
    info: GatewayResponseInfo | None = None,
) -> bytes:
    """The async twin of :func:`read_body` (the deadline ends each wait exactly)."""
    declared = declared_length(response)
    if declared is not None and declared > limit:
        raise too_large("the answer", limit, _info(response, info), "max_response_bytes")
    body = bytearray()
    chunks = response.aiter_bytes()
    try:
        while True:
            try:
                chunk = await deadline.wait(chunks.__anext__())
            except StopAsyncIteration:
                break
            except DeadlineExceeded as exc:
                raise deadline.error(_info(response, info)) from exc
            body += chunk
            if len(body) > limit:
                raise too_large("the answer", limit, _info(response, info), "max_response_bytes")
    finally:
        await _aclose_iterator(chunks)
    return bytes(body)


def read_error_body(response: httpx.Response, deadline: Deadline) -> bytes:
    """At most ``ERROR_BODY_MAX_BYTES`` of an error ``response``'s body: what arrived, even
    if the connection failed on the way (the status is what matters). The caller closes it."""
    body = bytearray()
    try:
        deadline.cap_read(response)
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) >= ERROR_BODY_MAX_BYTES or deadline.expired():
                break
    except httpx.HTTPError:
        pass
    return bytes(body[:ERROR_BODY_MAX_BYTES])


async def aread_error_body(response: httpx.Response, deadline: Deadline) -> bytes:
    """The async twin of :func:`read_error_body`."""
    body = bytearray()
    chunks = response.aiter_bytes()
    try:
        while len(body) < ERROR_BODY_MAX_BYTES:
            try:
                body += await deadline.wait(chunks.__anext__())
            except (StopAsyncIteration, DeadlineExceeded, httpx.HTTPError):
                break
    finally:
        await _aclose_iterator(chunks)
    return bytes(body[:ERROR_BODY_MAX_BYTES])


async def _aclose_iterator(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):  # the response is closed right after
            await aclose()
