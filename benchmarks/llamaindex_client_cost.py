"""Per-call client cost of ``CloudflareAIGatewayLLM`` against LlamaIndex's ``OpenAILike``, each as a
ratio to raw ``httpx`` posting the same request to the same local endpoint, in the same run.

The endpoint is a tiny ASGI app (uvicorn, in a subprocess so it does not share our GIL) that
answers every POST with one canned chat completion and the gateway's ``cf-aig-*`` headers: the
server's cost is the same for the three clients, so what differs is the client's own work
(building the request, the gateway headers, parsing, LlamaIndex's callbacks and events).
Rounds alternate the three clients so machine noise hits them alike; medians are reported.

    python benchmarks/llamaindex_client_cost.py [calls-per-client]
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

BODY = {
    "model": "openai/gpt-4o-mini",
    "messages": [{"role": "user", "content": "Say hello."}],
}
ANSWER = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
    }
).encode()
HEADERS = [
    (b"content-type", b"application/json"),
    (b"cf-aig-cache-status", b"MISS"),
    (b"cf-aig-log-id", b"01970000-0000-7000-8000-000000000001"),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every HTTP request with the canned completion."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": ANSWER})


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the bench server exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the bench server did not start")


def clients(port: int) -> dict[str, Callable[[], Any]]:
    import httpx
    from cf_ai_gateway import Gateway
    from cf_ai_gateway_llamaindex import CloudflareAIGatewayLLM
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai_like import OpenAILike

    root = f"http://127.0.0.1:{port}/v1/acc/gw"
    raw = httpx.Client()
    headers = {"authorization": "Bearer sk-bench", "cf-aig-authorization": "Bearer cf-bench"}

    def raw_httpx() -> Any:
        response = raw.post(f"{root}/compat/chat/completions", json=BODY, headers=headers)
        response.raise_for_status()
        return response.json()["choices"][0]["message"]["content"]

    ours = CloudflareAIGatewayLLM(
        model="openai/gpt-4o-mini",
        gateway=Gateway.from_url(root, token="cf-bench"),
        api_key="sk-bench",
        max_retries=0,
    )
    like = OpenAILike(
        model="openai/gpt-4o-mini",
        api_base=f"{root}/compat",
        api_key="sk-bench",
        default_headers={"cf-aig-authorization": "Bearer cf-bench"},
        is_chat_model=True,
        is_function_calling_model=True,
        max_retries=0,
    )
    messages = [ChatMessage(role="user", content="Say hello.")]
    return {
        "raw httpx": raw_httpx,
        "CloudflareAIGatewayLLM.chat": lambda: ours.chat(messages).message.content,
        "OpenAILike.chat": lambda: like.chat(messages).message.content,
    }


def main(calls: int = 400, rounds: int = 8) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    try:
        _wait(port, proc)
        runners = clients(port)
        for run in runners.values():  # warm up connections, imports and caches
            for _ in range(20):
                run()
        per_call: dict[str, list[float]] = {name: [] for name in runners}
        batch = max(1, calls // rounds)
        for _ in range(rounds):
            for name, run in runners.items():
                started = time.perf_counter()
                for _ in range(batch):
                    run()
                per_call[name].append((time.perf_counter() - started) / batch)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    base = statistics.median(per_call["raw httpx"])
    print(f"per-call client cost, {batch * rounds} calls each, medians of {rounds} rounds")
    for name, samples in per_call.items():
        median = statistics.median(samples)
        print(f"  {name:30s} {median * 1e6:8.0f} us   ratio to raw httpx {median / base:5.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
