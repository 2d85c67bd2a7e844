"""The gateway's client-facing surfaces, one module each; ``app.create_app`` routes to them.

- ``provider_native``: ``/v1/{account}/{gateway}/{provider}/{path}``;
- ``unified``: ``/v1/{account}/{gateway}/compat/chat/completions`` (``provider/model`` or a
  dynamic route, ``dynamic/{route}``);
- ``universal``: ``/v1/{account}/{gateway}``, a JSON array of steps tried in order;
- ``rest``: ``/client/v4/accounts/{account}/ai/v1/chat/completions``, ``.../responses``,
  ``.../messages`` (and ``count_tokens``), ``/ai/run/@cf/...`` and ``/ai/run``.

A surface reads the request (``incoming``), chooses each step's provider, path and wire
schema, and hands them to the ``pipeline``.
"""

from .provider_native import provider_native
from .rest import (
    rest_chat,
    rest_count_tokens,
    rest_messages,
    rest_responses,
    rest_run,
    rest_run_model,
)
from .unified import compat_chat, compat_other
from .universal import universal

__all__ = [
    "compat_chat",
    "compat_other",
    "provider_native",
    "rest_chat",
    "rest_count_tokens",
    "rest_messages",
    "rest_responses",
    "rest_run",
    "rest_run_model",
    "universal",
]
