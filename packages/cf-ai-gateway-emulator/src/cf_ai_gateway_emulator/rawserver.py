"""A misbehaving HTTP server for client tests: scripted bytes on a real socket.

The emulator answers like the gateway, faults included (``x-emulator-fault``), but always as
a well-formed HTTP server. What a client must also survive happens below that: a response
dripped a byte at a time, headers it cannot parse, an error body cut in the middle, a
connection closed before any answer, a server that never answers. :class:`RawServer` sends
exactly the bytes a test scripts, on ``127.0.0.1``, and counts the requests it received, so a
test can assert on what the server saw as well as on what the client raised.

>>> from cf_ai_gateway_emulator.rawserver import RawServer, reply
>>> with RawServer() as server:                                        # doctest: +SKIP
...     server.script(reply(503, b'{"error": "busy"}'), reply(200, b'{"ok": true}'))
...     ...  # point a client at server.url; server.requests counts what arrived

:func:`fault` names the misbehaviours (:data:`FAULTS`) and :func:`outcome` says what a
cf-ai-gateway client does with each, so a test through any framework checks the same thing.

Each request takes the next scripted :class:`Reply` (the last one repeats). A reply is a list
of steps: :class:`Send` bytes, :class:`Pause`, :class:`Close` (``reset=True``: an RST),
:class:`Hang` (say nothing until the server stops). After a reply that did not close, the
connection waits for the next request (keep-alive).
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cf_ai_gateway.errors import (
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    InvalidResponseError,
    ProviderError,
    StreamInterruptedError,
)

__all__ = [
    "ADAPTER_SAMPLE",
    "CHUNKS",
    "ENDED_BY",
    "FAULTS",
    "Close",
    "Hang",
    "Outcome",
    "Pause",
    "RawServer",
    "Reply",
    "Send",
    "drip",
    "fault",
    "outcome",
    "reply",
    "sse_reply",
]


@dataclass(frozen=True)
class Send:
    """Write these bytes."""

    data: bytes


@dataclass(frozen=True)
class Pause:
    """Wait this many seconds."""

    seconds: float


@dataclass(frozen=True)
class Close:
    """Close the connection (``reset``: abort it with an RST instead of a FIN)."""

    reset: bool = False


@dataclass(frozen=True)
class Hang:
    """Send nothing more until the server stops (the client's timeout must end it)."""


Step = Send | Pause | Close | Hang


@dataclass(frozen=True)
class Reply:
    """What the server does with one request."""

    steps: tuple[Step, ...]
    read_body: bool = True
    """Read the request body before answering (``False``: answer right after the headers)."""


def head(status: int, headers: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> bytes:
    """A status line and headers (no ``Content-Length`` added)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in items]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply(
    status: int,
    body: bytes | str | Any = b"",
    headers: Mapping[str, str] | None = None,
    *,
    content_type: str = "application/json",
    close: bool = False,
) -> Reply:
    """A complete, well-formed answer (``body`` that is not bytes or text is sent as JSON)."""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    data = body.encode() if isinstance(body, str) else body
    all_headers = {"content-type": content_type, "content-length": str(len(data))}
    all_headers.update(headers or {})
    steps: list[Step] = [Send(head(status, all_headers) + data)]
    if close:
        steps.append(Close())
    return Reply(tuple(steps))


def sse_reply(
    events: Sequence[Any],
    *,
    done: bool = True,
    headers: Mapping[str, str] | None = None,
    every: float = 0.0,
) -> Reply:
    """A streamed answer: each event (a dict is sent as JSON) as one ``data:`` event, then
    ``[DONE]`` when ``done``, chunked; ``every`` seconds between events."""
    all_headers = {"content-type": "text/event-stream", "transfer-encoding": "chunked"}
    all_headers.update(headers or {})
    steps: list[Step] = [Send(head(200, all_headers))]
    payloads = [e if isinstance(e, (bytes, str)) else json.dumps(e) for e in events]
    if done:
        payloads.append("[DONE]")
    for i, payload in enumerate(payloads):
        text = payload.decode() if isinstance(payload, bytes) else payload
        if every and i:
            steps.append(Pause(every))
        steps.append(Send(chunk(f"data: {text}\n\n".encode())))
    steps.append(Send(b"0\r\n\r\n"))
    return Reply(tuple(steps))


def chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def drip(data: bytes, every: float, *, then: Sequence[Step] = ()) -> Reply:
    """Send ``data`` one byte every ``every`` seconds."""
    steps: list[Step] = []
    for i in range(len(data)):
        if i:
            steps.append(Pause(every))
        steps.append(Send(data[i : i + 1]))
    return Reply((*steps, *then))


@dataclass
class _Counters:
    requests: int = 0
    connections: int = 0
    replies: list[Reply] = field(default_factory=list)
    position: int = 0


class RawServer:
    """A threaded TCP server on ``127.0.0.1`` answering with scripted replies (a context
    manager; ``url`` once started)."""

    def __init__(self, *, hang_limit: float = 30.0) -> None:
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counters = _Counters()
        self._threads: list[threading.Thread] = []
        self._open: list[socket.socket] = []
        self.hang_limit = hang_limit
        """The longest a :class:`Hang` lasts (a safety net if a client never gives up)."""

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> RawServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(256)
        sock.settimeout(0.2)
        self._sock = sock
        thread = threading.Thread(target=self._accept, name="rawserver-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> RawServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._sock is not None, "start() the server first"
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    # --- scripting ---------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies`` in turn (the last one repeats)."""
        with self._lock:
            self._counters.replies = list(replies)
            self._counters.position = 0
            self._counters.requests = 0

    @property
    def requests(self) -> int:
        """Requests received since the last :meth:`script` (headers read)."""
        with self._lock:
            return self._counters.requests

    @property
    def connections(self) -> int:
        with self._lock:
            return self._counters.connections

    def _next_reply(self) -> Reply:
        with self._lock:
            c = self._counters
            c.requests += 1
            if not c.replies:
                return reply(500, b'{"error": "nothing scripted"}')
            found = c.replies[min(c.position, len(c.replies) - 1)]
            c.position += 1
            return found

    # --- serving -----------------------------------------------------------------------------

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self._counters.connections += 1
                self._open.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(0.2)
            buffer = b""
            while not self._stop.is_set():
                request, buffer = self._read_request(conn, buffer, head_only=True)
                if request is None:
                    return
                scripted = self._next_reply()
                if scripted.read_body:
                    buffer = self._read_body(conn, request, buffer)
                if not self._play(conn, scripted):
                    return
        except OSError:
            return
        finally:
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _recv(self, conn: socket.socket) -> bytes | None:
        while not self._stop.is_set():
            try:
                return conn.recv(65536)
            except TimeoutError:
                continue
        return None

    def _read_request(
        self, conn: socket.socket, buffer: bytes, *, head_only: bool
    ) -> tuple[bytes | None, bytes]:
        while b"\r\n\r\n" not in buffer:
            data = self._recv(conn)
            if not data:
                return None, buffer
            buffer += data
        end = buffer.index(b"\r\n\r\n") + 4
        return buffer[:end], buffer[end:]

    def _read_body(self, conn: socket.socket, request: bytes, buffer: bytes) -> bytes:
        length = 0
        for line in request.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or b"0")
        while len(buffer) < length:
            data = self._recv(conn)
            if not data:
                return b""
            buffer += data
        return buffer[length:]

    def _play(self, conn: socket.socket, scripted: Reply) -> bool:
        """Run a reply's steps; ``False`` when the connection was closed."""
        for step in scripted.steps:
            if self._stop.is_set():
                return False
            if isinstance(step, Send):
                conn.sendall(step.data)
            elif isinstance(step, Pause):
                self._stop.wait(step.seconds)
            elif isinstance(step, Close):
                if step.reset:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                return False
            else:  # Hang
                deadline = time.monotonic() + self.hang_limit
                while not self._stop.is_set() and time.monotonic() < deadline:
                    try:
                        if conn.recv(65536) == b"":
                            return False  # the client gave up
                    except TimeoutError:
                        continue
                return False
        return True


# --- a catalogue of faults, shared by the core's and the adapters' fault matrices -------------

_COMPLETION = {
    "id": "chatcmpl-raw",
    "object": "chat.completion",
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}


def _chunk_event(text: str | None, finish: str | None = None) -> dict[str, Any]:
    delta = {"content": text} if text is not None else {}
    return {
        "id": "chatcmpl-raw",
        "object": "chat.completion.chunk",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


CHUNKS: tuple[dict[str, Any], ...] = (
    _chunk_event("Hel"),
    _chunk_event("lo!"),
    _chunk_event(None, "stop"),
)
"""A well-formed chat stream's chunks (``[DONE]`` follows)."""
_SSE_HEAD = head(200, {"content-type": "text/event-stream", "transfer-encoding": "chunked"})
_FIRST = chunk(f"data: {json.dumps(CHUNKS[0])}\n\n".encode())


def fault(name: str, *, stream: bool) -> Reply:
    """A named misbehaviour, as the answer to a chat completion (``stream``: to a streamed
    one). See :data:`FAULTS` for the names."""
    if name == "ok":
        return sse_reply(CHUNKS) if stream else reply(200, _COMPLETION)
    if name == "503":
        return reply(503, {"error": {"message": "overloaded", "type": "server_error"}})
    if name == "closed":
        return Reply((Close(),))
    if name == "reset":
        return Reply((Close(reset=True),))
    if name == "hang":
        return Reply((Hang(),))
    if name == "title_page":
        return reply(502, b"<title>" * 32_000, content_type="text/html")
    if name == "huge_error":
        big = {"content-type": "text/html", "content-length": str(100 * 1024 * 1024)}
        return Reply((Send(head(500, big)), Send(b"<html>" + b"x" * (2 * 1024 * 1024)), Hang()))
    if name == "odd_headers":
        odd = {"cf-aig-step": "²", "cf-aig-dlp": "[" * 5000 + "]" * 5000, "retry-after": "1e400"}
        return sse_reply(CHUNKS, headers=odd) if stream else reply(200, _COMPLETION, odd)
    if name == "not_json":
        return reply(200, b"<html>a proxy</html>", content_type="text/html")
    if name == "deep_json":
        deep = "[" * 100_000 + "]" * 100_000
        return sse_reply([deep]) if stream else reply(200, deep)
    if name == "no_done":
        return sse_reply(CHUNKS[:1], done=False)
    if name == "non_object_event":
        return sse_reply(["42"])
    if name == "cut":
        if stream:
            return Reply((Send(_SSE_HEAD + _FIRST), Close()))
        return Reply((Send(head(200, {"content-length": "1000"}) + b'{"id": "x'), Close()))
    if name == "stall":
        if stream:
            return Reply((Send(_SSE_HEAD + _FIRST), Hang()))
        return Reply((Send(head(200, {"content-length": "1000"}) + b'{"id": "x'), Hang()))
    if name == "drip_body":
        if stream:
            return sse_reply([CHUNKS[0]] * 200, every=0.05)
        return Reply((Send(head(200, {"content-length": "400"})), *drip(b"x" * 400, 0.05).steps))
    if name == "drip_headers":
        return drip(_SSE_HEAD if stream else head(200, {"content-length": "2"}) + b"{}", 0.05)
    raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")


FAULTS: dict[str, str] = {
    "ok": "a well-formed answer",
    "503": "HTTP 503 with a provider error body",
    "closed": "the connection closed before any answer",
    "reset": "the connection reset (RST) before any answer",
    "hang": "no answer at all",
    "title_page": "a 224 KB error page of <title> (quadratic for a lazy regex)",
    "huge_error": "a 100 MB error page (declared), 2 MB of it sent, then nothing",
    "odd_headers": "headers no parser expects (cf-aig-step '²', a 10,000-bracket cf-aig-dlp)",
    "not_json": "HTTP 200 with an HTML body",
    "deep_json": "HTTP 200 with JSON nested 100,000 levels",
    "no_done": "a stream that ends cleanly without [DONE] or a finish_reason",
    "non_object_event": "a stream event that is not a JSON object",
    "cut": "the connection closed in the middle of the body",
    "stall": "the body stops in the middle, the connection stays open",
    "drip_body": "the body a byte (an event) every 50 ms",
    "drip_headers": "the headers a byte every 50 ms",
}
"""The names :func:`fault` knows, with what each does."""


@dataclass(frozen=True)
class Outcome:
    """What a cf-ai-gateway client does with a named fault: the core error it raises (``None``:
    it answers) and the requests the server sees. An adapter raises its framework's error
    with this one behind it (its ``__cause__``)."""

    error: type[GatewayError] | None
    requests: int


def _same(error: type[GatewayError] | None, requests: int) -> tuple[Outcome, Outcome]:
    return Outcome(error, requests), Outcome(error, requests)


_OUTCOMES: dict[str, tuple[Outcome, Outcome]] = {  # (a call, a stream)
    "ok": _same(None, 1),
    "503": _same(ProviderError, 2),
    "closed": _same(GatewayConnectionError, 2),
    "reset": _same(GatewayConnectionError, 2),
    "hang": _same(GatewayTimeoutError, 2),
    "title_page": _same(ProviderError, 2),
    "huge_error": _same(ProviderError, 2),
    "odd_headers": _same(None, 1),
    "not_json": _same(InvalidResponseError, 1),
    "deep_json": _same(InvalidResponseError, 1),
    # an event stream is not the JSON body a call expects
    "no_done": (Outcome(InvalidResponseError, 1), Outcome(StreamInterruptedError, 1)),
    "non_object_event": _same(InvalidResponseError, 1),
    # a call's body cut before any of it was shown is retried; a stream's is not
    "cut": (Outcome(GatewayConnectionError, 2), Outcome(StreamInterruptedError, 1)),
    "stall": (Outcome(GatewayTimeoutError, 2), Outcome(GatewayTimeoutError, 1)),
    "drip_body": _same(GatewayTimeoutError, 1),
    "drip_headers": _same(GatewayTimeoutError, 1),
}


ENDED_BY: dict[str, dict[str, float]] = {
    "hang": {"timeout": 0.2},
    "stall": {"timeout": 0.2},
    "drip_body": {"deadline": 0.4},
    "drip_headers": {"deadline": 0.4},
}
"""The client settings that end a fault which would otherwise last until the server's
``hang_limit``: a per-attempt ``timeout`` for a server that says nothing, a total
``deadline`` for one that keeps sending (each byte resets a timeout). The core's client and
every adapter's model take both names."""

ADAPTER_SAMPLE: tuple[tuple[str, tuple[bool, ...]], ...] = (
    ("ok", (False, True)),
    # the retried ones once (a backoff each), the stream-specific ones as streams
    ("503", (False,)),
    ("closed", (True,)),
    ("hang", (False,)),
    ("title_page", (True,)),
    ("odd_headers", (False, True)),
    ("not_json", (False, True)),
    ("no_done", (True,)),
    ("cut", (True,)),
    ("drip_body", (True,)),
    ("drip_headers", (False,)),
)
"""A representative subset of :data:`FAULTS` for a framework's own matrix (each name with the
``stream`` values to try): every kind of outcome, without repeating what the core's matrix
already shows for every fault."""


def outcome(name: str, *, stream: bool) -> Outcome:
    """What a client does with :func:`fault` ``name`` when it may retry once
    (``max_retries=1``) and has the settings :data:`ENDED_BY` names for the fault. The core's
    tests hold every entry to what its clients do."""
    if name not in _OUTCOMES:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
    return _OUTCOMES[name][stream]
