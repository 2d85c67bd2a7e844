"""LlamaIndex instrumentation sees our calls as it sees its built-in LLMs': the chat and
completion events (start, in-progress per chunk, end), spans, legacy callbacks and token
counting; and no secret reaches any of those payloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cf_ai_gateway import Gateway, RateLimitError
from cf_ai_gateway_llamaindex import CloudflareAIGatewayLLM
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.span_handlers import SimpleSpanHandler
from llama_index.core.llms import ChatMessage
from pydantic import BaseModel, Field

from .gateway_double import GatewayDouble, Status

SECRETS = ("sk-provider-secret", "cf-token-secret")
USER = [ChatMessage(role="user", content="Hello")]


class _Events(BaseEventHandler):
    events: list[BaseEvent] = Field(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "TestEvents"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)

    @property
    def names(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


class _Payloads(BaseCallbackHandler):
    def __init__(self) -> None:
        super().__init__([], [])
        self.payloads: list[Any] = []

    def on_event_start(self, event_type: Any, payload: Any = None, **kw: Any) -> str:
        self.payloads.append(payload)
        return kw.get("event_id", "")

    def on_event_end(self, event_type: Any, payload: Any = None, **kw: Any) -> None:
        self.payloads.append(payload)

    def start_trace(self, trace_id: Any = None) -> None: ...

    def end_trace(self, trace_id: Any = None, trace_map: Any = None) -> None: ...


@pytest.fixture
def events() -> Iterator[_Events]:
    handler = _Events(events=[])
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(handler)
    yield handler
    dispatcher.event_handlers.remove(handler)


@pytest.fixture
def spans() -> Iterator[SimpleSpanHandler]:
    handler = SimpleSpanHandler()
    dispatcher = get_dispatcher()
    dispatcher.add_span_handler(handler)
    yield handler
    dispatcher.span_handlers.remove(handler)


class _Person(BaseModel):
    name: str


def make(double: GatewayDouble, **kwargs: Any) -> CloudflareAIGatewayLLM:
    return CloudflareAIGatewayLLM(
        model="openai/gpt-4o-mini",
        gateway=Gateway(account_id="acc", gateway_id="gw", token="cf-token-secret"),
        api_key="sk-provider-secret",
        **kwargs,
        **double.clients(),
    )


def test_chat_emits_one_start_and_end_and_a_span(
    double: GatewayDouble, events: _Events, spans: SimpleSpanHandler
) -> None:
    make(double).chat(USER)
    assert events.names == ["LLMChatStartEvent", "LLMChatEndEvent"]
    end = events.events[-1]
    assert end.response.additional_kwargs["cf_aig"]["log_id"]  # type: ignore[attr-defined]
    assert any(s.id_.startswith("CloudflareAIGatewayLLM.chat") for s in spans.completed_spans)


def test_complete_emits_completion_events_only(double: GatewayDouble, events: _Events) -> None:
    make(double).complete("Hello")
    assert events.names == ["LLMCompletionStartEvent", "LLMCompletionEndEvent"]


def test_streams_emit_progress_per_chunk(double: GatewayDouble, events: _Events) -> None:
    chunks = list(make(double).stream_chat(USER))
    assert events.names == (
        ["LLMChatStartEvent"] + ["LLMChatInProgressEvent"] * len(chunks) + ["LLMChatEndEvent"]
    )


async def test_async_stream_emits_progress_per_chunk(
    double: GatewayDouble, events: _Events
) -> None:
    chunks = [c async for c in await make(double).astream_complete("Hello")]
    assert events.names == (
        ["LLMCompletionStartEvent"]
        + ["LLMCompletionInProgressEvent"] * len(chunks)
        + ["LLMCompletionEndEvent"]
    )


def test_errors_drop_the_span(
    double: GatewayDouble, events: _Events, spans: SimpleSpanHandler
) -> None:
    double.script(Status(429, {"error": {"message": "slow down"}}))
    with pytest.raises(RateLimitError):
        make(double, max_retries=0).chat(USER)
    assert "LLMChatStartEvent" in events.names
    assert "LLMChatEndEvent" not in events.names
    assert spans.dropped_spans


def test_token_counting_handler_reads_usage(double: GatewayDouble) -> None:
    counter = TokenCountingHandler()
    llm = make(double, callback_manager=CallbackManager([counter]))
    reply = llm.chat(USER)
    assert counter.prompt_llm_token_count == reply.raw["usage"]["prompt_tokens"]  # type: ignore[index]
    assert counter.completion_llm_token_count == reply.raw["usage"]["completion_tokens"]  # type: ignore[index]
    counter.reset_counts()
    *_, last = llm.stream_chat(USER)
    assert counter.prompt_llm_token_count == last.raw["usage"]["prompt_tokens"]  # type: ignore[index]


def test_no_secret_in_events_or_callback_payloads(double: GatewayDouble, events: _Events) -> None:
    payloads = _Payloads()
    llm = make(double, callback_manager=CallbackManager([payloads]))
    llm.chat(USER)
    list(llm.stream_complete("Hello"))
    dumped = json.dumps(
        [e.model_dump() for e in events.events] + [str(p) for p in payloads.payloads], default=str
    )
    assert payloads.payloads
    for secret in SECRETS:
        assert secret not in dumped
    structured = llm.as_structured_llm(_Person)
    for secret in SECRETS:
        assert secret not in json.dumps(structured.to_dict(), default=str)
