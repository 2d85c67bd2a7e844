"""Per-call cost of ``cloudflare-ai-gateway/...`` through LiteLLM against LiteLLM's own
``openai/`` route with ``api_base`` on the same local endpoint, each as a ratio to raw
``httpx`` measured in the same run (the issue's target: our provider faster than that route).

The endpoint is a stdlib HTTP server in a separate process (keep-alive, no Nagle delay) that
answers every POST with the same chat completion (the emulator's mock LLM's answer to the
benchmark's request) and the gateway's ``cf-aig-*`` headers, so
the server's cost is the same for every client and the difference is client work: LiteLLM's
own per-call machinery (parameter mapping, logging, cost), then ours or the ``openai`` SDK's.
``mock_response`` (LiteLLM without any I/O) is shown as LiteLLM's floor. Clients alternate
call by call so machine noise hits them alike; medians are reported.

    python benchmarks/litellm_calls.py [calls-per-client]
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

MESSAGES = [{"role": "user", "content": "Say hello."}]


def _answer() -> bytes:
    """What the emulator's mock LLM answers to the benchmark's request, as JSON."""
    from cf_ai_gateway_emulator import mock_llm

    body = {"model": "gpt-4o-mini", "messages": MESSAGES}
    return json.dumps(mock_llm.chat_completion(body, model="gpt-4o-mini", created=1)).encode()


class _Canned(BaseHTTPRequestHandler):
    answer = b""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in two sends: no 40 ms delayed-ACK stall

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.answer)))
        self.send_header("cf-aig-cache-status", "MISS")
        self.send_header("cf-aig-log-id", "01970000-0000-7000-8000-0000000000be")
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(port: int) -> None:
    _Canned.answer = _answer()
    ThreadingHTTPServer(("127.0.0.1", port), _Canned).serve_forever()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clients(root: str) -> dict[str, Callable[[], Any]]:
    import cf_ai_gateway_litellm
    import httpx
    import litellm

    litellm.suppress_debug_info = True
    cf_ai_gateway_litellm.register(token="cf-bench-token", api_key="sk-bench", max_retries=0)
    raw = httpx.Client()
    headers = {"authorization": "Bearer sk-bench", "cf-aig-authorization": "Bearer cf-bench-token"}
    body = {"model": "openai/gpt-4o-mini", "messages": MESSAGES}

    def raw_httpx() -> Any:
        response = raw.post(f"{root}/compat/chat/completions", json=body, headers=headers)
        response.raise_for_status()
        return response.json()["choices"][0]["message"]["content"]

    def ours() -> Any:
        return litellm.completion(
            model="cloudflare-ai-gateway/openai/gpt-4o-mini", messages=MESSAGES, api_base=root
        )

    def builtin() -> Any:
        return litellm.completion(
            model="openai/gpt-4o-mini",
            messages=MESSAGES,
            api_base=f"{root}/openai",
            api_key="sk-bench",
            extra_headers={"cf-aig-authorization": "Bearer cf-bench-token"},
            max_retries=0,
        )

    def floor() -> Any:
        return litellm.completion(
            model="openai/gpt-4o-mini", messages=MESSAGES, mock_response="Hello from the bench."
        )

    return {
        "raw httpx": raw_httpx,
        "LiteLLM mock_response (no I/O)": floor,
        "LiteLLM openai/ + api_base": builtin,
        "cloudflare-ai-gateway/ (ours)": ours,
    }


def main(calls: int = 150) -> None:
    import warnings

    warnings.filterwarnings("ignore", message="Pydantic serializer warnings")
    port = _free_port()
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the bench server did not start") from None
                time.sleep(0.05)
        clients = _clients(f"http://127.0.0.1:{port}/v1/acc/gw")
        for call in clients.values():  # warm up: pools, imports, pricing, first-call setup
            for _ in range(10):
                call()
        times: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(calls):
            for name, call in clients.items():
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
    finally:
        server.terminate()
    import litellm

    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    base = medians["raw httpx"]
    print(
        f"litellm {litellm.__version__ if hasattr(litellm, '__version__') else _version()}: "
        f"median of {calls} sync completions per client, same local endpoint"
    )
    for name, ms in medians.items():
        print(f"  {name:32s} {ms:7.2f} ms  {ms / base:5.1f}x raw httpx")
    ours, builtin = medians["cloudflare-ai-gateway/ (ours)"], medians["LiteLLM openai/ + api_base"]
    print(
        f"  ours / openai/ route: {ours / builtin:.2f} ({'faster' if ours < builtin else 'slower'})"
    )


def _version() -> str:
    from importlib.metadata import version

    return version("litellm")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 150)
