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
"""

from __future__ import annotations

import socket

__all__ = ["listening_socket"]


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
