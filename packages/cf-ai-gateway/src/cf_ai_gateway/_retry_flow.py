"""The one retry loop every client runs: a generator that decides, and one driver per kind of
I/O (:func:`send_with_retries`, :func:`asend_with_retries`) that sends and sleeps, the way
``httpx`` drives one ``auth_flow`` generator from both of its clients. The gateway clients and
the management clients all go through these two drivers.

The flow yields :data:`SEND` ("send the request once") or a :class:`Sleep` ("wait this long").
After a send the driver answers with what the attempt ended in: a failed (non-2xx) response,
already read and closed, or the ``httpx.HTTPError`` it raised. A 2xx response ends the exchange
at the driver: the flow never sees it. After a sleep the driver answers ``None``. When the
policy gives up, the flow raises the typed ``GatewayError`` of the last attempt (a transport
error keeps the httpx exception as its ``__cause__``). :func:`send_with_retries` is the
synchronous driver, read it as the reference; :func:`asend_with_retries` is its async twin, line
for line. A client calls one of them and never loops itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass

import httpx

from ._requests import PreparedRequest
from ._responses import read_error, transport_error
from .retry import RetryPolicy

__all__ = [
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


def retry_flow(req: PreparedRequest, policy: RetryPolicy) -> RetryFlow:
    """Attempt ``req`` until it succeeds or ``policy`` gives up (see the module docstring).

    Every failure becomes a typed error first (the server's ``retry-after-ms``,
    ``Retry-After`` and ``x-should-retry`` are read then); ``policy.delay_for`` turns it into
    the wait before the next attempt, or ``None`` to raise it.
    """
    retries = 0
    while True:
        outcome = yield SEND
        if outcome is None:
            raise RuntimeError("the retry flow was answered None after SEND: a driver bug")
        if isinstance(outcome, httpx.HTTPError):
            error = transport_error(outcome, req)
        else:
            error = read_error(req, outcome)
        retries += 1
        delay = policy.delay_for(retries, error)
        if delay is None:
            raise error
        logger.debug(
            "%s: retry %d in %.2f s after %s", req.describe(), retries, delay, type(error).__name__
        )
        yield Sleep(delay)


def send_with_retries(
    http: httpx.Client,
    req: PreparedRequest,
    policy: RetryPolicy,
    build: Callable[[], httpx.Request],
    sleep: Callable[[float], None],
    *,
    stream: bool,
) -> httpx.Response:
    """Drive :func:`retry_flow` with blocking I/O: ``build()`` makes each attempt's request;
    a 2xx response is returned (open when ``stream``), anything else is retried or raised as
    the typed ``GatewayError``."""
    flow = retry_flow(req, policy)
    outcome: Outcome | None = None
    while True:
        step = flow.send(outcome)  # raises the final GatewayError
        outcome = None
        if isinstance(step, Sleep):
            sleep(step.seconds)
            continue
        try:
            response = http.send(build(), stream=stream)
            if response.is_success:
                return response
            try:
                response.read()
            finally:
                response.close()
            outcome = response
        except httpx.HTTPError as exc:
            outcome = exc


async def asend_with_retries(
    http: httpx.AsyncClient,
    req: PreparedRequest,
    policy: RetryPolicy,
    build: Callable[[], httpx.Request],
    sleep: Callable[[float], Awaitable[None]],
    *,
    stream: bool,
) -> httpx.Response:
    """The async twin of :func:`send_with_retries`."""
    flow = retry_flow(req, policy)
    outcome: Outcome | None = None
    while True:
        step = flow.send(outcome)  # raises the final GatewayError
        outcome = None
        if isinstance(step, Sleep):
            await sleep(step.seconds)
            continue
        try:
            response = await http.send(build(), stream=stream)
            if response.is_success:
                return response
            try:
                await response.aread()
            finally:
                await response.aclose()
            outcome = response
        except httpx.HTTPError as exc:
            outcome = exc
