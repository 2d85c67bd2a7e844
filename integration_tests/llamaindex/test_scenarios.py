"""The shared gateway scenarios through LlamaIndex: chat, completion, streams (sync and async),
tools, structured output, a ``FunctionAgent`` taking two tool steps, a RAG pipeline (query engine
and chat engine over a ``VectorStoreIndex`` built with our embedding), a cache MISS then HIT,
metadata in the gateway's logs, the fallback step, and typed errors.

Recorded from the emulator and replayed from ``cassettes/llamaindex/test_scenarios/`` on every
llama-index-core line: tool descriptions and prompts are pinned here, so every line sends the
same requests."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cf_ai_gateway import (
    NO_RETRY,
    BadRequestError,
    Gateway,
    GatewayAuthenticationError,
    GatewayNotFoundError,
    GatewayOptions,
    ManagementClient,
    RateLimitError,
)
from cf_ai_gateway_llamaindex import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.llms import ChatMessage
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel, Field

pytestmark = pytest.mark.vcr

MODEL = "openai/gpt-4o-mini"
EMBEDDING_MODEL = "openai/text-embedding-3-small"
LLMFactory = Callable[..., CloudflareAIGatewayLLM]


def _llm_on(
    gateway_factory: Callable[..., Gateway],
    api_key: str | None,
    model: str = MODEL,
    gateway: Gateway | None = None,
    **fields: Any,
) -> CloudflareAIGatewayLLM:
    return CloudflareAIGatewayLLM(
        model=model, gateway=gateway or gateway_factory(), api_key=api_key, **fields
    )


@pytest.fixture
def llm(gateway_factory: Callable[..., Gateway], provider_api_key: str | None) -> LLMFactory:
    """``llm(model=..., gateway=..., **fields)``: an LLM on this test's gateway."""
    return functools.partial(_llm_on, gateway_factory, provider_api_key)


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny in {city}."


def get_time(city: str) -> str:
    """Get the local time in a city."""
    return f"It is noon in {city}."


# explicit names and descriptions: FunctionTool.from_defaults derives them differently by line
WEATHER = FunctionTool.from_defaults(
    get_weather, name="get_weather", description="Get the current weather for a city."
)
TIME = FunctionTool.from_defaults(
    get_time, name="get_time", description="Get the local time in a city."
)


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="the person's name")
    age: int = Field(description="the person's age in years")


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def test_chat(llm: LLMFactory) -> None:
    reply = llm(temperature=0).chat(
        [
            ChatMessage(role="system", content="You answer in one short sentence."),
            ChatMessage(role="user", content="Tell me about Cloudflare AI Gateway."),
        ]
    )
    assert reply.message.content
    assert reply.additional_kwargs["total_tokens"] > 0
    assert reply.additional_kwargs["cf_aig"]["log_id"]
    assert reply.raw is not None
    assert reply.raw.info.log_id == reply.additional_kwargs["cf_aig"]["log_id"]


def test_complete(llm: LLMFactory) -> None:
    done = llm().complete("Write one line about gateways.")
    assert done.text
    assert done.additional_kwargs["cf_aig"]["cache_status"] == "MISS"
    assert done.additional_kwargs["model"].startswith("openai/gpt-4o-mini")


def test_streaming_sync(llm: LLMFactory) -> None:
    chunks = list(llm().stream_chat(user("Write one line about streams.")))
    assert len(chunks) > 2
    last = chunks[-1]
    assert last.message.content == "".join(c.delta or "" for c in chunks)
    assert last.additional_kwargs["total_tokens"] > 0
    assert last.raw["usage"]["total_tokens"] == last.additional_kwargs["total_tokens"]
    assert {c.additional_kwargs["cf_aig"]["log_id"] for c in chunks} == {last.raw.info.log_id}
    text = list(llm().stream_complete("Write one line about rivers."))
    assert text[-1].text
    assert text[-1].additional_kwargs["total_tokens"] > 0


async def test_streaming_async(llm: LLMFactory) -> None:
    model = llm()
    chunks = [c async for c in await model.astream_chat(user("Stream two short lines."))]
    assert len(chunks) > 2
    assert chunks[-1].message.content
    assert chunks[-1].additional_kwargs["cf_aig"]["log_id"]
    assert chunks[-1].additional_kwargs["total_tokens"] > 0
    reply = await model.achat(user("Say hi."))
    assert reply.message.content
    done = await model.acomplete("Say bye.")
    assert done.text


def test_tool_calling_round_trip(llm: LLMFactory) -> None:
    model = llm()
    question = ChatMessage(role="user", content="What is the weather in 'Lisbon'?")
    first = model.chat_with_tools([WEATHER], chat_history=[question])
    [selection] = model.get_tool_calls_from_response(first)
    assert (selection.tool_name, selection.tool_kwargs) == ("get_weather", {"city": "Lisbon"})
    output = WEATHER.call(**selection.tool_kwargs)
    result = ChatMessage(
        role="tool", content=str(output), additional_kwargs={"tool_call_id": selection.tool_id}
    )
    final = model.chat_with_tools([WEATHER], chat_history=[question, first.message, result])
    assert "Lisbon" in (final.message.content or "")
    assert model.get_tool_calls_from_response(final, error_on_no_tool_call=False) == []
    assert str(model.predict_and_call([WEATHER], user_msg="Weather in 'Porto'?")) == (
        "It is sunny in Porto."
    )


def test_structured_output(llm: LLMFactory) -> None:
    model = llm()
    prompt = PromptTemplate("Extract the person from: {text}")
    person = model.structured_predict(Person, prompt, text="'Ada' is 36 years old.")
    assert person == Person(name="Ada", age=36)
    reply = model.as_structured_llm(Person).chat(user("'Grace' is 45 years old."))
    assert reply.raw == Person(name="Grace", age=45)


async def test_function_agent_two_tool_steps(llm: LLMFactory) -> None:
    """Two tool steps of one agent sharing its memory, so the second step replays the first
    one's tool call and result. (The emulator's mock LLM answers in text after any tool result,
    so each step is one run: ask, call the tool, answer.) The memory is explicit: what a
    ``Context`` keeps between runs differs by llama-index-core line."""
    agent = FunctionAgent(
        tools=[WEATHER, TIME], llm=llm(), system_prompt="You answer with the tools you have."
    )
    memory = ChatMemoryBuffer.from_defaults(token_limit=8000)
    first = await agent.run(user_msg="What is the weather in 'Lisbon'?", memory=memory)
    second = await agent.run(user_msg="And what is the local time in 'Tokyo'?", memory=memory)
    assert [c.tool_name for c in first.tool_calls] == ["get_weather"]
    assert [c.tool_name for c in second.tool_calls] == ["get_time"]
    assert first.tool_calls[0].tool_kwargs == {"city": "Lisbon"}
    assert "sunny in Lisbon" in str(first)
    assert "noon in Tokyo" in str(second)
    replayed = [m.role.value for m in memory.get_all()]
    assert replayed == ["user", "assistant", "tool", "assistant"] * 2


@pytest.fixture
def settings_restored() -> Iterator[None]:
    llm, embed_model = Settings._llm, Settings._embed_model
    yield
    Settings._llm, Settings._embed_model = llm, embed_model


DOCS = [
    "Cloudflare AI Gateway caches identical requests and logs every call.",
    "Universal requests let the gateway fall back to another model server-side.",
    "Rate limits protect a gateway from bursts of traffic.",
]


def test_rag_pipeline(
    llm: LLMFactory,
    gateway_factory: Callable[..., Gateway],
    provider_api_key: str | None,
    settings_restored: None,
) -> None:
    gateway = gateway_factory()
    Settings.llm = llm(gateway=gateway)
    Settings.embed_model = CloudflareAIGatewayEmbedding(
        model_name=EMBEDDING_MODEL,
        gateway=gateway,
        api_key=provider_api_key,
        dimensions=8,
        embed_batch_size=2,
    )
    index = VectorStoreIndex.from_documents([Document(text=t) for t in DOCS])
    answer = index.as_query_engine(similarity_top_k=2).query("What does the gateway cache?")
    assert str(answer)
    assert len(answer.source_nodes) == 2
    engine = index.as_chat_engine(chat_mode="condense_plus_context", similarity_top_k=2)
    reply = engine.chat("How does the gateway fall back?")
    assert str(reply)
    assert reply.source_nodes


def _cache_status(response: Any) -> str | None:
    return response.additional_kwargs["cf_aig"].get("cache_status")  # type: ignore[no-any-return]


def test_cache_miss_then_hit(llm: LLMFactory) -> None:
    cached = llm(gateway_options={"cache_ttl": 3600})
    question = user("What is a cache?")
    answers = [cached.chat(question) for _ in range(2)]
    assert [_cache_status(a) for a in answers] == ["MISS", "HIT"]
    assert answers[0].message.content == answers[1].message.content
    bypass = cached.chat(question, gateway_options={"skip_cache": True})
    assert _cache_status(bypass) != "HIT"


def _logged_metadata(gateway: Gateway, log_id: str) -> Any:
    """The metadata of a log entry, read through the management API (replayed: as recorded)."""
    with ManagementClient.from_gateway(gateway, retry=NO_RETRY) as management:
        return management.get_log(log_id).metadata


def test_metadata_in_logs(llm: LLMFactory, gateway_factory: Callable[..., Gateway]) -> None:
    gateway = gateway_factory()
    defaults = GatewayOptions(metadata={"app": "li-tests"})
    per_call = GatewayOptions(metadata={"user": "u-42"}, event_id="li-scenario-1")
    done = llm(gateway=gateway, gateway_options=defaults).complete(
        "Log me.", gateway_options=per_call
    )
    info = done.raw.info  # the typed info (complete() keeps the chat response's raw)
    assert info.event_id == "li-scenario-1"
    assert _logged_metadata(gateway, info.log_id) == {"app": "li-tests", "user": "u-42"}


@pytest.mark.emulator_only  # the mock LLM fails every model whose name contains "fail"
def test_fallback_step(llm: LLMFactory) -> None:
    model = llm(model="openai/gpt-fail", fallback_models=["openai/gpt-4o-mini"])
    reply = model.chat(user("Who answers?"))
    assert reply.additional_kwargs["cf_aig"]["step"] == 1
    assert reply.raw.info.step == 1
    assert reply.additional_kwargs["model"] == "openai/gpt-4o-mini"
    *_, last = model.stream_chat(user("Who answers the stream?"))
    assert last.additional_kwargs["cf_aig"]["step"] == 1


@pytest.mark.emulator_only  # gateway settings (authentication, rate limits) and a deleted id
def test_typed_errors(llm: LLMFactory, gateway_factory: Callable[..., Gateway]) -> None:
    with pytest.raises(BadRequestError) as missing:
        llm(model="openai/does-not-exist", max_retries=0).complete("hi")
    assert missing.value.status_code == 404
    assert missing.value.log_id

    locked = dataclasses.replace(gateway_factory(authentication=True), token="not-the-token")
    with pytest.raises(GatewayAuthenticationError) as auth:
        llm(gateway=locked, max_retries=0).chat(user("hi"))
    assert auth.value.code == 2009

    with pytest.raises(GatewayNotFoundError):
        llm(gateway=gateway_factory(create=False), max_retries=0).complete("hi")

    limited = llm(
        gateway=gateway_factory(rate_limiting_limit=1, rate_limiting_interval=60), max_retries=0
    )
    assert limited.complete("first").text
    with pytest.raises(RateLimitError) as limit:
        list(limited.stream_complete("second"))
    assert limit.value.status_code == 429
