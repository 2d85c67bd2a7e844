"""The client-side retry policy (separate from the gateway's own upstream retries).

Default: up to 2 retries with exponential backoff and jitter on 408/409/429/5xx, connection
errors and timeouts. The server's signals win over the defaults on every retryable status: a
delay from ``retry-after-ms`` or ``Retry-After`` is waited instead of the backoff (a longer one
than ``max_retry_after`` is not waited for: the error is raised), and an explicit
``x-should-retry: true|false`` decides whether to retry at all. A stream is retried only until
its response headers arrive; once chunks flow, nothing is retried (the caller may have seen
output). The gateway's ``cf-aig-max-attempts`` retries happen server-side and add to these.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .errors import GatewayError

__all__ = ["NO_RETRY", "RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """How the client retries a failed request before giving up.

    ``max_retries`` counts retries after the first attempt. An error is retried when its
    ``retryable`` is true (the status, or the server's ``x-should-retry``). The delay before
    retry ``n`` (1-based) is the server's ``error.retry_after`` (from ``retry-after-ms`` or
    ``Retry-After``) when it gave one and it is not longer than ``max_retry_after`` (a longer
    one is not waited for: the error is raised); otherwise
    ``min(max_delay, initial_delay * 2**(n-1))`` with up to ``jitter`` of it removed at random.

    >>> policy = RetryPolicy(jitter=0)
    >>> from cf_ai_gateway import ProviderError
    >>> policy.delay_for(1, ProviderError("busy", status_code=503, retryable=True))
    0.5
    >>> policy.delay_for(1, ProviderError("busy", retryable=True, retry_after=2.5))
    2.5
    >>> policy.delay_for(1, ProviderError("busy", retryable=True, retry_after=600)) is None
    True
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError(f"max_retries={self.max_retries!r} must be an integer >= 0")
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name}={value!r} must be a number >= 0")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter={self.jitter!r} must be between 0 and 1")

    def delay_for(self, retry_number: int, error: GatewayError) -> float | None:
        """Seconds to wait before retry ``retry_number``, or ``None`` to give up."""
        if retry_number > self.max_retries or not error.retryable:
            return None
        if error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                return None
            return float(error.retry_after)
        delay = min(self.max_delay, self.initial_delay * 2.0 ** (retry_number - 1))
        return delay * (1 - self.jitter * random.random())


NO_RETRY = RetryPolicy(max_retries=0)
