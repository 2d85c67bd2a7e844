"""Streams: chunks as they arrive, the gateway's info on the first chunk, usage (and so cost)
on the last, tool calls, errors raised before the first chunk, and both async paths."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import litellm
import pytest
from cf_ai_gateway import GatewayResponseInfo
from cf_ai_gateway_litellm import response_info
from litellm.integrations.custom_logger import CustomLogger

from .double import GatewayDouble
from .test_provider import MESSAGES, MODEL, TOOLS


def text_of(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_sync_stream(provider: Any, double: GatewayDouble) -> None:
    stream = litellm.completion(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    info = response_info(stream)  # known before the first chunk
    chunks = list(stream)
    assert isinstance(info, GatewayResponseInfo)
    assert info.log_id == "01ab-log-unit"
    assert len(chunks) > 3
    assert text_of(chunks).startswith("Hi there!")
    first = response_info(chunks[0])
    assert first is not None
    assert first.log_id == info.log_id
    assert first.raw == info.raw
    assert response_info(chunks[0].model_dump()) == first  # also from the JSON form
    assert chunks[-1].usage.total_tokens > 0
    assert response_info(stream) == info  # and after the stream is done
    body = double.last.body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}  # always asked upstream


def test_usage_is_requested_upstream_even_when_the_caller_does_not_ask(
    provider: Any, double: GatewayDouble
) -> None:
    chunks = list(litellm.completion(model=MODEL, messages=MESSAGES, stream=True))
    assert double.last.body["stream_options"] == {"include_usage": True}
    built = litellm.stream_chunk_builder(chunks, messages=MESSAGES)
    assert built is not None
    # the upstream's usage, not LiteLLM's tokenizer estimate
    upstream = litellm.completion(model=MODEL, messages=MESSAGES)
    assert built.usage.total_tokens == upstream.usage.total_tokens


def test_chunks_arrive_as_they_are_read(provider: Any, double: GatewayDouble) -> None:
    """The second chunk is not read from the upstream before the first reached the caller."""
    gate = threading.Event()
    pieces = [
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
        }
        for text in ("one ", "two")
    ]

    def body() -> Any:
        yield f"data: {json.dumps(pieces[0])}\n\n".encode()
        assert gate.wait(5), "the first chunk was not delivered before the second was read"
        yield f"data: {json.dumps(pieces[1])}\n\n".encode()
        yield b"data: [DONE]\n\n"

    double.respond = lambda request: httpx.Response(
        200, content=body(), headers={"content-type": "text/event-stream"}
    )
    stream = litellm.completion(model=MODEL, messages=MESSAGES, stream=True)
    got = []
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            got.append(chunk.choices[0].delta.content)
            gate.set()
    assert got == ["one ", "two"]


def test_streamed_tool_calls(provider: Any) -> None:
    chunks = list(
        litellm.completion(
            model=MODEL, messages=MESSAGES, tools=TOOLS, tool_choice="required", stream=True
        )
    )
    built = litellm.stream_chunk_builder(chunks, messages=MESSAGES)
    call = built.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {
        "city": json.loads(call.function.arguments)["city"]
    }


async def test_async_stream(provider: Any, double: GatewayDouble) -> None:
    stream = await litellm.acompletion(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    assert response_info(stream).log_id == "01ab-log-unit"  # opened before acompletion returned
    chunks = [chunk async for chunk in stream]
    assert text_of(chunks).startswith("Hi there!")
    assert response_info(chunks[0]).log_id == "01ab-log-unit"
    assert chunks[-1].usage.total_tokens > 0


async def test_an_error_is_raised_by_acompletion_not_while_iterating(
    provider: Any, double: GatewayDouble
) -> None:
    double.respond = lambda request: httpx.Response(
        429, json={"error": {"message": "slow down"}}, headers={"retry-after": "0"}
    )
    with pytest.raises(litellm.RateLimitError):
        await litellm.acompletion(model=MODEL, messages=MESSAGES, stream=True, max_retries=0)


def test_an_error_is_raised_by_completion_not_while_iterating(
    provider: Any, double: GatewayDouble
) -> None:
    double.respond = lambda request: httpx.Response(401, json={"error": {"message": "bad key"}})
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(model=MODEL, messages=MESSAGES, stream=True)


async def test_handler_astreaming_on_a_running_loop_opens_lazily(
    provider: Any, double: GatewayDouble
) -> None:
    """Called directly on the event loop's thread (not as LiteLLM calls it), the stream opens
    at the first ``async for`` without blocking the loop."""
    stream = provider.astreaming(model="openai/gpt-4o-mini", messages=MESSAGES, optional_params={})
    assert double.seen == []
    chunks = [chunk async for chunk in stream]
    assert len(double.seen) == 1
    assert chunks[0]["provider_specific_fields"]["cf_aig"]["log_id"] == "01ab-log-unit"
    assert chunks[-1]["is_finished"] is True
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert stream.info.log_id == "01ab-log-unit"


async def test_an_async_stream_closed_early_releases_the_stream(provider: Any) -> None:
    stream = await litellm.acompletion(model=MODEL, messages=MESSAGES, stream=True)
    async for _ in stream:
        break
    ours = stream.completion_stream  # (LiteLLM 1.80's wrapper has no aclose of its own)
    await ours.aclose()
    with pytest.raises(StopAsyncIteration):
        await ours.__anext__()


class _Costs(CustomLogger):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.costs: list[Any] = []

    async def async_log_success_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self.costs.append(kwargs.get("response_cost"))


async def test_stream_cost_is_tracked(provider: Any) -> None:
    logger = _Costs()
    litellm.callbacks = [logger]
    stream = await litellm.acompletion(model=MODEL, messages=MESSAGES, stream=True)
    async for _ in stream:
        pass
    for _ in range(50):
        if logger.costs:
            break
        await asyncio.sleep(0.05)
    assert logger.costs
    assert logger.costs[0] > 0
