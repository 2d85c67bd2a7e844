"""A gateway double on ``httpx.MockTransport``.

Requests are recorded (``double.bodies``, ``double.requests``). Answers come from a script of
canned bodies (``double.script(...)``) and otherwise from the emulator's deterministic mock LLM
functions (called in-process: no socket), so ordinary calls get realistic answers: text that
echoes the prompt, tool calls when a tool is named or required, schema-valid JSON for
``json_schema`` response formats, and OpenAI-shaped streams with a usage chunk.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from cf_ai_gateway_emulator import mock_llm

LOG_ID = "01970000-0000-7000-8000-000000000001"
_UPSTREAM_MODEL = "gpt-4o-mini"


def tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def completion_body(
    content: str | None = "Hello!",
    tool_calls: Sequence[Mapping[str, Any]] = (),
    *,
    reasoning: str | None = None,
    usage: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [dict(c) for c in tool_calls]
    if reasoning:
        message["reasoning_content"] = reasoning
    finish = "tool_calls" if tool_calls else "stop"
    return {
        "id": "chatcmpl-double",
        "object": "chat.completion",
        "model": _UPSTREAM_MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": dict(usage or {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}),
    }


def delta_chunk(delta: Mapping[str, Any] | None, finish: str | None = None, **extra: Any) -> Any:
    """One ``chat.completion.chunk`` (``delta=None``: a usage-only chunk with no choice)."""
    choices = [] if delta is None else [{"index": 0, "delta": dict(delta), "finish_reason": finish}]
    return {"id": "chatcmpl-double", "object": "chat.completion.chunk", "model": _UPSTREAM_MODEL,
            "choices": choices, **extra}  # fmt: skip


class Stream(list[Any]):
    """A scripted stream: its chunks, sent as server-sent events."""


class Status:
    """A scripted error answer."""

    def __init__(self, status: int, body: Mapping[str, Any], **headers: str) -> None:
        self.status, self.body, self.headers = status, dict(body), headers


class GatewayDouble:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._script: list[Any] = []

    # --- scripting and inspection ------------------------------------------------------

    def script(self, *answers: Any) -> GatewayDouble:
        """Queue answers: a dict (a JSON body), a :class:`Stream` or a :class:`Status`."""
        self._script.extend(answers)
        return self

    @property
    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]

    @property
    def last_body(self) -> Any:
        return self.bodies[-1]

    def clients(self) -> dict[str, Any]:
        """Keyword arguments that route a model's HTTP through this double."""
        return {
            "http_client": httpx.Client(transport=httpx.MockTransport(self._answer)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(self._aanswer)),
        }

    # --- answering ---------------------------------------------------------------------

    async def _aanswer(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        headers = {"cf-aig-log-id": LOG_ID, "cf-aig-cache-status": "MISS"}
        body = json.loads(request.content) if request.content else {}
        answer = self._script.pop(0) if self._script else self._default(request.url.path, body)
        if isinstance(answer, Status):
            return httpx.Response(answer.status, json=answer.body, headers={**headers,
                                  **answer.headers})  # fmt: skip
        if isinstance(answer, Stream):
            events = "".join(f"data: {json.dumps(c)}\n\n" for c in answer) + "data: [DONE]\n\n"
            return httpx.Response(
                200, text=events, headers={**headers, "content-type": "text/event-stream"}
            )
        return httpx.Response(200, json=answer, headers=headers)

    @staticmethod
    def _default(path: str, body: Mapping[str, Any]) -> Any:
        if path.endswith("/embeddings"):
            return mock_llm.embeddings(body, model=_UPSTREAM_MODEL, default_dimensions=8)
        if body.get("stream"):
            return Stream(mock_llm.chat_chunks(body, model=_UPSTREAM_MODEL, created=1))
        return mock_llm.chat_completion(body, model=_UPSTREAM_MODEL, created=1)
