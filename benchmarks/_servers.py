"""The servers the benchmarks talk to, each run as its own process (``python _servers.py KIND``)
so that its CPU is never counted as the client's. Each binds 127.0.0.1 on a free port and
prints ``listening <port>`` on stdout once it accepts connections.

- ``instant``: a raw asyncio HTTP/1.1 server (keep-alive, ``TCP_NODELAY``) that answers every
  POST at once with one canned chat completion and the gateway's ``cf-aig-*`` headers, or, for
  ``"stream": true``, with an SSE stream. The gateway segment of the path picks the stream:
  ``/v1/acc/gw/...`` a short one; ``/v1/acc/first-<pause_ms>/...`` sends its headers, waits
  :data:`THINK_MS`, then one chunk whose content is ``t=<time.monotonic_ns() at the write>``
  (so the caller can tell how long the chunk took to reach it), then pauses ``pause_ms``
  before the rest; ``/v1/acc/long-<n>/...`` sends ``n`` content chunks as fast as the
  client reads them.
- ``bare``: a bare Starlette endpoint under uvicorn (the emulator's own stack, configured as
  ``cf-ai-gateway-emulator serve`` configures it) that parses the JSON body and answers the
  emulator's JSON, or its 50-chunk stream: the stack's limit.
- ``emulator``: the emulator as ``serve --quiet`` runs it (in-memory SQLite).
- ``emulator-logs <rows>``: the emulator with ``<rows>`` logs stored on the ``demo`` gateway
  through its own storage writes, for the log-listing benchmark.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

THINK_MS = 20
"""How long a ``first-*`` stream waits between its headers and its first chunk (so every
client is already waiting for the chunk when it is written)."""
ACCOUNT = "emu-account"
"""The emulator's default account (its default configuration)."""
MESSAGES = [{"role": "user", "content": "Say hello."}]
STREAM_WORDS = 47
"""Words of the emulator's scripted streamed answer: a role chunk, 47 words, the finishing
chunk and the usage chunk make the 50-chunk stream of the emulator benchmark."""
STREAM_SCRIPT = " ".join(f"w{i}" for i in range(STREAM_WORDS))
"""The ``x-emulator-script`` answer of the 50-chunk stream."""

CHAT_ANSWER = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
}
"""What the instant server answers: a chat completion the size of the emulator mock's."""
GATEWAY_HEADERS = (
    b"cf-aig-cache-status: MISS\r\n"
    b"cf-aig-log-id: 01970000-0000-7000-8000-0000000000be\r\n"
    b"cf-aig-request-id: 01970000-0000-7000-8000-0000000000be\r\n"
)


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def _event(data: dict[str, Any] | str) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    payload = f"data: {text}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _stream_tail(words: int) -> bytes:
    """``words`` content chunks, the finishing chunk, a usage chunk and ``[DONE]``, framed
    as HTTP chunks, with the terminating empty chunk."""
    # every chunk differs: LiteLLM raises on a model "repeating the same chunk" (100 in a row)
    parts = [_event(_chunk({"content": f"t{i} "})) for i in range(words)]
    parts.append(_event(_chunk({}, "stop")))
    usage = {"prompt_tokens": 9, "completion_tokens": words + 1, "total_tokens": words + 10}
    parts.append(_event({**_chunk({}), "choices": [], "usage": usage}))
    parts.append(_event("[DONE]"))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


_JSON_BODY = json.dumps(CHAT_ANSWER).encode()
_JSON_RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s"
    % (len(_JSON_BODY), GATEWAY_HEADERS, _JSON_BODY)
)
_SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"transfer-encoding: chunked\r\ncache-control: no-cache\r\n%s\r\n" % GATEWAY_HEADERS
)
_SHORT_STREAM = (
    _SSE_HEAD + _event(_chunk({"role": "assistant", "content": "Hello"})) + _stream_tail(3)
)
_LONG_STREAMS: dict[int, bytes] = {}


class _Instant(asyncio.Protocol):
    """One connection: parse requests (headers, ``content-length`` body), answer each."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = bytearray()
        self.busy = False

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._next()

    def _next(self) -> None:
        while not self.busy:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            self._answer(head.split(" ", 2)[1], body)

    def _answer(self, path: str, body: bytes) -> None:
        try:
            stream = bool(json.loads(body or b"{}").get("stream"))
        except ValueError:
            stream = False
        if not stream:
            self.transport.write(_JSON_RESPONSE)
            return
        parts = path.split("/")
        mode = parts[3] if len(parts) > 3 else "gw"
        if mode.startswith("first-"):
            self.busy = True
            asyncio.get_running_loop().create_task(self._first_chunk(int(mode[6:])))
        elif mode.startswith("long-"):
            n = int(mode[5:])
            if n not in _LONG_STREAMS:
                first = _event(_chunk({"role": "assistant", "content": "tok "}))
                _LONG_STREAMS[n] = _SSE_HEAD + first + _stream_tail(n - 1)
            self.transport.write(_LONG_STREAMS[n])
        else:
            self.transport.write(_SHORT_STREAM)

    async def _first_chunk(self, pause_ms: int) -> None:
        self.transport.write(_SSE_HEAD)
        await asyncio.sleep(THINK_MS / 1000)
        if self.transport.is_closing():
            return
        stamp = f"t={time.monotonic_ns()}"
        self.transport.write(_event(_chunk({"role": "assistant", "content": stamp})))
        await asyncio.sleep(pause_ms / 1000)
        if not self.transport.is_closing():
            self.transport.write(_stream_tail(3))
        self.busy = False
        self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.busy = True


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def _announce(sock: socket.socket) -> None:
    print(f"listening {sock.getsockname()[1]}", flush=True)


async def _serve_instant() -> None:
    sock = _listener()
    server = await asyncio.get_running_loop().create_server(_Instant, sock=sock)
    _announce(sock)
    async with server:
        await server.serve_forever()


def _emulator_answer() -> dict[str, Any]:
    """What the emulator's mock answers to the benchmark's request."""
    from cf_ai_gateway_emulator import mock_llm

    body = {"model": "gpt-4o-mini", "messages": MESSAGES}
    return dict(mock_llm.chat_completion(body, model="gpt-4o-mini", created=1))


def _bare_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    answer = _emulator_answer()
    events = [_chunk({"role": "assistant", "content": ""})]
    events += [_chunk({"content": f"w{i} "}) for i in range(STREAM_WORDS)]
    events += [_chunk({}, "stop"), {**_chunk({}), "choices": []}]
    rendered = [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]

    async def chat(request: Request) -> Response:
        body = await request.json()
        if body.get("stream"):

            async def chunks() -> Any:
                for event in rendered:
                    yield event

            return StreamingResponse(chunks(), media_type="text/event-stream")
        return JSONResponse(answer)

    path = f"/v1/{ACCOUNT}/demo/compat/chat/completions"
    return Starlette(routes=[Route(path, chat, methods=["POST"])])


def _stored_logs(rows: int) -> Iterator[tuple[dict[str, Any], str, str]]:
    """``rows`` logs shaped as the gateway writes them (``pipeline.logs.write_log``), over a
    few providers, models, outcomes and metadata values, oldest first."""
    from cf_ai_gateway_emulator.ids import uuid7
    from cf_ai_gateway_emulator.state import iso_time

    models = [("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("groq", "llama-3.1-8b-instant")]
    models += [("anthropic", "claude-3-5-haiku-latest"), ("workers-ai", "@cf/meta/llama-3.1-8b")]
    request = json.dumps({"model": "openai/gpt-4o-mini", "messages": MESSAGES})
    response = json.dumps(_emulator_answer())
    start = time.time() - rows
    for i in range(rows):
        provider, model = models[i % len(models)]
        ok = i % 17 != 0
        log = {
            "id": uuid7(),
            "created_at": iso_time(start + i),
            "provider": provider,
            "model": model,
            "model_type": "chat",
            "path": "compat/chat/completions",
            "success": ok,
            "status_code": 200 if ok else 500,
            "cached": i % 5 == 0,
            "duration": 1 + i % 40,
            "tokens_in": 9 + i % 7,
            "tokens_out": 9 + i % 11,
            "cost": round((9 + i % 11) * 6e-7, 12),
            "custom_cost": False,
            "metadata": json.dumps({"user": f"u-{i % 100}", "team": f"t-{i % 7}"}),
            "step": None,
            "event_id": None,
            "request_id": uuid7(),
            "request_type": "compat",
            "feedback": None,
            "score": None,
            "credential_source": "request",
            "byok_alias": None,
        }
        yield log, request, response


def _emulator_app(log_rows: int) -> Any:
    from cf_ai_gateway_emulator.app import create_app
    from cf_ai_gateway_emulator.state import EmulatorState

    state = EmulatorState()
    for log, request, response in _stored_logs(log_rows):
        state.storage.insert_log(ACCOUNT, "demo", log, request, response)
    return create_app(state=state)


def _serve_uvicorn(app: Any) -> None:
    import uvicorn
    from cf_ai_gateway_emulator.listening import listening_socket

    sock = listening_socket("127.0.0.1", 0)
    # as ``cf-ai-gateway-emulator serve`` runs the emulator (its own request lines are off:
    # ``--quiet``)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        _announce(sock)
        await task

    asyncio.run(main())


def main(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "instant":
        asyncio.run(_serve_instant())
    elif kind == "bare":
        _serve_uvicorn(_bare_app())
    elif kind == "emulator":
        _serve_uvicorn(_emulator_app(0))
    elif kind == "emulator-logs":
        _serve_uvicorn(_emulator_app(int(argv[1])))
    else:
        raise SystemExit(f"unknown server {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
