"""``ChatResponse.raw`` of this package: the response body as a ``dict`` that also carries the
gateway's typed response info.

LlamaIndex's consumers of ``raw`` (``TokenCountingHandler``, OpenInference) treat it as a
mapping and read ``raw["usage"]``; a dict subclass satisfies them and still gives typed access
to what the gateway said (``raw.info.cache_status``, ``raw.info.log_id``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cf_ai_gateway import GatewayResponseInfo

__all__ = ["GatewayRawResponse"]


class GatewayRawResponse(dict[str, Any]):
    """The OpenAI-schema body of a response (a ``chat.completion``, or one streamed
    ``chat.completion.chunk``) plus ``info``: the :class:`cf_ai_gateway.GatewayResponseInfo` of
    the HTTP response it came in.

    >>> raw = GatewayRawResponse({"usage": {"total_tokens": 3}}, GatewayResponseInfo(log_id="l"))
    >>> raw["usage"]["total_tokens"], raw.info.log_id
    (3, 'l')
    """

    def __init__(self, body: Mapping[str, Any], info: GatewayResponseInfo) -> None:
        super().__init__(body)
        self.info = info

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self), self.info))
