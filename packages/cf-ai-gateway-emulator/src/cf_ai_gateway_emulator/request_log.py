"""One line per request on stderr: what ``serve`` prints unless ``--quiet``.

::

    14:02:11 POST /v1/emu-account/demo/openai/chat/completions gateway=demo 200 cache=MISS 2.3ms
      log=0197c1f2-...  (one line)

Method, path, gateway (from the URL, or ``cf-aig-gateway-id`` on the REST API), status, cache
status and log id (from the answer's ``cf-aig-*`` headers, ``-`` when there are none) and the
duration until the last byte (a stream's whole length). Written to ``sys.stderr`` as it is
when the line is written, so test capture sees it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from cf_ai_gateway import wire

__all__ = ["RequestLog", "request_line"]

ASGIApp = Any


def _gateway_of(path: str, headers: dict[str, str]) -> str:
    parts = path.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "v1":
        return parts[2]
    if "gateways" in parts and parts.index("gateways") + 1 < len(parts):
        return parts[parts.index("gateways") + 1]
    if len(parts) >= 5 and parts[4] == "ai":
        return headers.get(wire.H_GATEWAY_ID, wire.DEFAULT_GATEWAY_ID)
    return "-"


def request_line(
    method: str,
    path: str,
    gateway: str,
    status: int,
    cache: str | None,
    duration_s: float,
    log_id: str | None,
) -> str:
    """The log line of one request (without the newline)."""
    clock = time.strftime("%H:%M:%S")
    return (
        f"{clock} {method} {path} gateway={gateway} {status} cache={cache or '-'} "
        f"{duration_s * 1000:.1f}ms log={log_id or '-'}"
    )


class RequestLog:
    """ASGI middleware writing ``request_line`` for every HTTP request ``app`` answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        seen: dict[str, Any] = {"status": 500, "headers": {}}
        written = False

        def write() -> None:
            nonlocal written
            if written:
                return
            written = True
            headers = seen["headers"]
            line = request_line(
                scope["method"],
                scope["path"],
                _gateway_of(scope["path"], request_headers),
                seen["status"],
                headers.get(wire.H_CACHE_STATUS),
                time.perf_counter() - started,
                headers.get(wire.H_LOG_ID),
            )
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

        async def logged_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                seen["headers"] = {
                    k.decode("latin-1").lower(): v.decode("latin-1")
                    for k, v in message.get("headers", [])
                }
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                write()

        try:
            await self.app(scope, receive, logged_send)
        finally:
            write()
