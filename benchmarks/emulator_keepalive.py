"""Sequential requests on one kept-alive connection: the emulator with Nagle's algorithm on
(how its listening socket was made before), the emulator as it is, and a bare Starlette
endpoint answering the same JSON on the same stack (the stack's floor).

    python benchmarks/emulator_keepalive.py [requests]   # default 200 per server and mode

Each server runs under uvicorn in a thread on 127.0.0.1; one ``httpx.Client`` sends the
requests one after another (a JSON answer, then a streamed one). Prints the median and p90
per request and the total, per server.
"""

from __future__ import annotations

import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from cf_ai_gateway_emulator.app import create_app
from cf_ai_gateway_emulator.listening import listening_socket
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
PATH = "/v1/emu-account/demo/compat/chat/completions"


def _socket_with_nagle() -> socket.socket:
    """A listener made the way the emulator made it before: ``proto`` 0, so asyncio leaves
    Nagle's algorithm on for every accepted connection."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _bare_app() -> Starlette:
    answer = {"id": "x", "object": "chat.completion", "choices": [{"index": 0}]}

    async def chat(request: Request) -> Response:
        body = await request.json()
        if body.get("stream"):

            async def chunks() -> Any:
                for piece in ("Hello", "!"):
                    yield f"data: {piece}\n\n".encode()
                yield b"data: [DONE]\n\n"

            return StreamingResponse(chunks(), media_type="text/event-stream")
        return JSONResponse(answer)

    return Starlette(routes=[Route(PATH, chat, methods=["POST"])])


@contextmanager
def _serve(app: Any, sock: socket.socket) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{PATH}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _measure(url: str, n: int, stream: bool) -> list[float]:
    out = []
    with httpx.Client() as http:
        for _ in range(n):
            started = time.perf_counter()
            response = http.post(url, json={**BODY, "stream": stream})
            response.read()
            out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    servers: list[tuple[str, Callable[[], Any], Callable[[], socket.socket]]] = [
        ("emulator, Nagle on (before)", create_app, _socket_with_nagle),
        ("emulator (now)", create_app, lambda: listening_socket("127.0.0.1", 0)),
        ("bare Starlette (floor)", _bare_app, lambda: listening_socket("127.0.0.1", 0)),
    ]
    print(f"{n} sequential requests on one kept-alive httpx.Client, per server and mode")
    for label, make_app, make_socket in servers:
        with _serve(make_app(), make_socket()) as url:
            for mode, stream in (("json", False), ("stream", True)):
                times = _measure(url, n, stream)
                ordered = sorted(times)
                print(
                    f"  {label:30} {mode:6}  median {statistics.median(times):6.2f} ms  "
                    f"p90 {ordered[int(n * 0.9) - 1]:6.2f} ms  total {sum(times) / 1000:5.2f} s"
                )


if __name__ == "__main__":
    main()
