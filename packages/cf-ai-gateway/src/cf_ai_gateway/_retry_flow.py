"""The one retry loop every client runs: a generator that decides, and one driver per kind of
I/O (:func:`send_with_retries`, :func:`asend_with_retries`) that sends and sleeps, the way
``httpx`` drives one ``auth_flow`` generator from both of its clients. The gateway clients and
the management clients all go through these two drivers.

The flow yields :data:`SEND` ("send the request once") or a :class:`Sleep` ("wait this long").
After a send the driver answers with what the attempt ended in: a failed (non-2xx) response,
read up to an excerpt (``ERROR_BODY_MAX_BYTES``) and closed, or the ``httpx.HTTPError`` it
raised. A 2xx response ends the exchange at the driver: the flow never sees it. After a sleep
the driver answers ``None``. When the policy gives up, the flow raises the typed
``GatewayError`` of the last attempt (a transport error keeps a copy of the httpx exception,
detached from its request, as its ``__cause__``). :func:`send_with_retries` is the synchronous
driver, read it as the reference; :func:`asend_with_retries` is its async twin, line for line.
A client calls one of them and never loops itself.

Every exit closes what it opened: the drivers always send with ``stream=True`` and read the
body themselves, bounded (``max_response_bytes``; an error body only up to its excerpt), so a
response is either closed before the driver returns or raises, or handed over open to a
stream (which closes it on every exit path). A call's :class:`~cf_ai_gateway._deadline.Deadline`
is checked before every attempt and caps every timeout; a backoff that would end past it is not
waited (the last error is raised).

What it did is visible: every retry is logged at INFO on the ``cf_ai_gateway`` logger (the
attempt, the reason, the delay and where it came from, the gateway's log id; never a header or
a body, so never a credential), and the attempts made travel with the outcome: a 2xx response
carries them in ``response.extensions[ATTEMPTS_EXTENSION]`` (read into
``GatewayResponseInfo.attempts``), the final error in ``error.info.attempts``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import httpx

from . import wire
from ._deadline import NO_DEADLINE, Deadline, DeadlineExceeded
from ._requests import PreparedRequest
from ._responses import (
    ATTEMPTS_EXTENSION,
    DEFAULT_MAX_RESPONSE_BYTES,
    aread_answer,
    aread_error_body,
    detached,
    read_answer,
    read_error,
    read_error_body,
    response_info,
    transport_error,
    with_content,
)
from .config import GatewayConfigError
from .errors import GatewayError, redact
from .retry import RetryPolicy

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "ATTEMPTS_EXTENSION",
    "SEND",
    "Outcome",
    "RetryFlow",
    "Send",
    "Sleep",
    "asend_with_retries",
    "retry_flow",
    "send_with_retries",
]

logger = logging.getLogger("cf_ai_gateway")


@dataclass(frozen=True)
class Send:
    """Send the request once; answer with the failed response or the httpx exception."""


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` before the next attempt; answer ``None``."""

    seconds: float


SEND = Send()

Outcome = httpx.Response | httpx.HTTPError
"""How an attempt failed: a non-2xx response (read and closed) or the exception raised."""

RetryFlow = Generator[Send | Sleep, Outcome | None, None]


def retry_flow(
    req: PreparedRequest, policy: RetryPolicy, deadline: Deadline = NO_DEADLINE
) -> RetryFlow:
    """Attempt ``req`` until it succeeds or ``policy`` gives up (see the module docstring).

    Every failure becomes a typed error first (the server's ``retry-after-ms``,
    ``Retry-After`` and ``x-should-retry`` are read then); ``policy.delay_for`` turns it into
    the wait before the next attempt, or ``None`` to raise it, with the attempts made on its
    ``info``. A wait that would end past ``deadline`` is not waited: the error is raised.
    """
    attempts = 0
    while True:
        outcome = yield SEND
        if outcome is None:
            raise RuntimeError("the retry flow was answered None after SEND: a driver bug")
        attempts += 1
        if isinstance(outcome, httpx.HTTPError):
            error = transport_error(outcome, req)
        else:
            error = read_error(req, outcome)
        error.info = replace(error.info, attempts=attempts)
        delay = policy.delay_for(attempts, error)
        left = deadline.remaining()
        if delay is not None and left is not None and delay >= left:
            logger.info(
                "%s: attempt %d failed (%s); not retrying: the call's deadline leaves %.2f s, "
                "the next attempt would start in %.2f s",
                redact(req.describe(), req.secrets),
                attempts,
                _reason(error),
                max(left, 0.0),
                delay,
                extra=_fields(attempts, _reason(error), None, error),
            )
            raise error
        if delay is None:
            if attempts > 1:
                logger.info(
                    "%s: giving up after %d attempts: %s",
                    redact(req.describe(), req.secrets),
                    attempts,
                    _reason(error),
                    extra=_fields(attempts, _reason(error), None, error),
                )
            raise error
        _log_retry(req, policy, attempts, delay, error)
        yield Sleep(delay)


def _reason(error: GatewayError) -> str:
    """Why an attempt failed, in a few words: the status and class, or the transport error."""
    if error.status_code is not None:
        return f"HTTP {error.status_code} {type(error).__name__}"
    cause = error.__cause__
    return type(cause).__name__ if cause is not None else type(error).__name__


def _fields(
    attempt: int, reason: str, delay: float | None, error: GatewayError
) -> dict[str, object]:
    """The retry's facts as ``LogRecord`` attributes (for structured logging and tests)."""
    return {
        "cf_aig_attempt": attempt,
        "cf_aig_reason": reason,
        "cf_aig_delay": delay,
        "cf_aig_log_id": error.log_id,
        "cf_aig_status": error.status_code,
    }


def _log_retry(
    req: PreparedRequest, policy: RetryPolicy, attempt: int, delay: float, error: GatewayError
) -> None:
    """One INFO line per retry: which attempt failed and why, how long until the next one and
    whether the server asked for that wait, the gateway's log id, and the gateway's own
    upstream attempts behind each of ours (``cf-aig-max-attempts``) when the request set them."""
    source = "the server's Retry-After" if error.retry_after is not None else "backoff"
    reason = _reason(error)
    gateway_attempts = req.headers.get(wire.H_MAX_ATTEMPTS)
    behind = (
        f"; each attempt is up to {gateway_attempts} upstream attempts at the gateway "
        f"({wire.H_MAX_ATTEMPTS})"
        if gateway_attempts and gateway_attempts != "1"
        else ""
    )
    logger.info(
        "%s: attempt %d of %d failed (%s, log id %s); retrying in %.2f s (%s)%s",
        redact(req.describe(), req.secrets),
        attempt,
        policy.max_retries + 1,
        reason,
        error.log_id or "none",
        delay,
        source,
        behind,
        extra=_fields(attempt, reason, delay, error),
    )


def _built(build: Callable[[], httpx.Request], req: PreparedRequest) -> httpx.Request:
    """The attempt's request; a request httpx cannot build (an invalid URL or header that
    got past validation) is a ``GatewayConfigError`` naming no credential, never an httpx
    exception or a ``UnicodeEncodeError``."""
    try:
        return build()
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        # the cause is a redacted copy (a UnicodeEncodeError holds the whole header value)
        text = redact(f"{type(exc).__name__}: {exc}", req.secrets)
        error = GatewayConfigError(f"the request could not be built ({text})")
        error.__cause__ = ValueError(text)
    raise error  # outside the except block: no __context__ holding the original


def send_with_retries(
    http: httpx.Client,
    req: PreparedRequest,
    policy: RetryPolicy,
    build: Callable[[], httpx.Request],
    sleep: Callable[[float], None],
    *,
    stream: bool,
    deadline: Deadline = NO_DEADLINE,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> httpx.Response:
    """Drive :func:`retry_flow` with blocking I/O: ``build()`` makes each attempt's request;
    a 2xx response is returned (open when ``stream``, else read, bounded, and closed),
    anything else is retried or raised as the typed ``GatewayError``."""
    flow = retry_flow(req, policy, deadline)
    outcome: Outcome | None = None
    attempts = 0
    while True:
        step = flow.send(outcome)  # raises the final GatewayError
        outcome = None
        if isinstance(step, Sleep):
            sleep(step.seconds)
            continue
        failure: GatewayError | None = None
        if deadline.expired():
            failure = deadline.error(attempts=attempts)
        else:
            attempts += 1
            request = _built(build, req)
            deadline.cap(request)
            try:
                with deadline.active():
                    response = http.send(request, stream=True)
            except httpx.HTTPError as exc:
                if not deadline.expired():
                    outcome = exc
                    continue
                failure = deadline.error(attempts=attempts)
                failure.__cause__ = detached(exc, req.secrets)
        if failure is not None:
            raise failure
        handed_over = False
        try:
            with deadline.active():
                if response.is_success:
                    response.extensions[ATTEMPTS_EXTENSION] = attempts
                    if stream:
                        handed_over = True
                        return response
                    return read_answer(response, max_response_bytes, deadline)
                outcome = with_content(response, read_error_body(response, deadline))
        except httpx.HTTPError as exc:  # a 2xx body cut or stalled on the way
            outcome = exc
        finally:
            if not handed_over:
                response.close()
        if isinstance(outcome, httpx.HTTPError) and deadline.expired():
            failure = deadline.error(response_info(response), attempts=attempts)
            failure.__cause__ = detached(outcome, req.secrets)
            raise failure


async def asend_with_retries(
    http: httpx.AsyncClient,
    req: PreparedRequest,
    policy: RetryPolicy,
    build: Callable[[], httpx.Request],
    sleep: Callable[[float], Awaitable[None]],
    *,
    stream: bool,
    deadline: Deadline = NO_DEADLINE,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    gate: asyncio.Semaphore | None = None,
) -> httpx.Response:
    """The async twin of :func:`send_with_retries` (the deadline ends each wait exactly).

    ``gate``: each attempt holds a slot from sending until its body is read (a stream: until
    its headers), so at most that many requests wait inside httpcore's pool, whose
    bookkeeping grows with every waiting request (500 requests queued there at once ran at a
    tenth of the speed of the same 500 queued here)."""
    flow = retry_flow(req, policy, deadline)
    outcome: Outcome | None = None
    attempts = 0
    while True:
        step = flow.send(outcome)  # raises the final GatewayError
        outcome = None
        if isinstance(step, Sleep):
            await sleep(step.seconds)
            continue
        failure: GatewayError | None = None
        if deadline.expired():
            failure = deadline.error(attempts=attempts)
        else:
            attempts += 1
            async with gate if gate is not None else contextlib.nullcontext():
                request = _built(build, req)
                deadline.cap(request)
                try:
                    response = await deadline.wait(http.send(request, stream=True))
                except DeadlineExceeded:
                    failure = deadline.error(attempts=attempts)
                except httpx.HTTPError as exc:
                    if not deadline.expired():
                        outcome = exc
                        continue
                    failure = deadline.error(attempts=attempts)
                    failure.__cause__ = detached(exc, req.secrets)
                if failure is not None:
                    raise failure
                handed_over = False
                try:
                    if response.is_success:
                        response.extensions[ATTEMPTS_EXTENSION] = attempts
                        if stream:
                            handed_over = True
                            return response
                        return await aread_answer(response, max_response_bytes, deadline)
                    outcome = with_content(response, await aread_error_body(response, deadline))
                except httpx.HTTPError as exc:  # a 2xx body cut or stalled on the way
                    outcome = exc
                finally:
                    if not handed_over:
                        await response.aclose()
        if failure is not None:
            raise failure
        if isinstance(outcome, httpx.HTTPError) and deadline.expired():
            failure = deadline.error(response_info(response), attempts=attempts)
            failure.__cause__ = detached(outcome, req.secrets)
            raise failure
