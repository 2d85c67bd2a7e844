"""The emulator's listening socket, shared by ``serve`` (the CLI) and ``testing.run_emulator``.

Why this exists: asyncio turns Nagle's algorithm off (``TCP_NODELAY``) on every accepted
connection, but only when the listening socket says it is TCP (``proto == IPPROTO_TCP``, see
``asyncio.base_events._set_nodelay``). A socket made with ``socket.socket(AF_INET,
SOCK_STREAM)`` has ``proto == 0``, so the connections uvicorn accepted on it kept Nagle on.
Every answer leaves in more than one write (the status line and headers, then the body, then
the end of a chunked stream); with Nagle on, the second small write waits for the client's
ACK of the first, and the client delays that ACK by up to 40 ms, so every request after the
first on a kept-alive connection took about 44 ms instead of 1-2 ms. Naming the protocol (and
setting ``TCP_NODELAY`` on the listener, which Linux passes on to accepted sockets) fixes it
for JSON answers and streams alike.

Keep-alive: uvicorn closes a kept-alive connection after ``timeout_keep_alive`` idle seconds
(5 by default), which is exactly httpx's default ``keepalive_expiry``. A client that reuses its
pooled connection just as the server closes it sends a request into a closing socket, and about
one request in 10,000 under load came back as a connection reset. The server must outlast the
clients: :data:`KEEP_ALIVE_S` is far above the idle expiry of the usual clients (httpx and the
SDKs on it: 5 s; aiohttp: 15 s), so they always close first. (A client that never expires
idle connections, such as urllib3, still meets the race after 75 s idle; the core retries a
connection error, the one case where nothing reached the server.)
"""

from __future__ import annotations

import socket

__all__ = ["KEEP_ALIVE_S", "listening_socket"]

KEEP_ALIVE_S = 75
"""Seconds the emulator keeps an idle connection open (uvicorn's ``timeout_keep_alive``; the
same as nginx's default): longer than any usual client keeps one (see the module docstring)."""


def listening_socket(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A bound, listening TCP socket on ``host``:``port`` (``0``: a free port) whose accepted
    connections get ``TCP_NODELAY``; raises ``OSError`` when it cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
