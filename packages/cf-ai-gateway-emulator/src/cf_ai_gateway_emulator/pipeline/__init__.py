"""The gateway pipeline every surface runs: controls, then one or more steps, then the
response, with logs, usage and cost along the way.

- ``controls``: authentication, the request-level headers, the gateway rate limit;
- ``request_headers``: reading header values (booleans, numbers, metadata, custom cost);
- ``step_settings``: a step's cache/retry/timeout controls after header precedence;
- ``step`` with ``cache``: one provider request through the cache, retries and the timeout;
- ``response``: the client's answer with ``cf-aig-*`` headers, streams passed through;
- ``logs`` and ``usage``: one log per attempted step, with tokens and cost.

Nothing here knows a wire schema: a step carries the ``Schema`` its surface chose, and usage
is read through it.
"""

from .context import RequestContext
from .controls import open_request
from .logs import log_failed_step
from .request_headers import bearer
from .response import respond
from .step import StepResult, run_step

__all__ = [
    "RequestContext",
    "StepResult",
    "bearer",
    "log_failed_step",
    "open_request",
    "respond",
    "run_step",
]
