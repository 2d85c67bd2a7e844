"""The shared gateway scenarios through LangChain: an LCEL chain, tools, structured output,
streaming with usage, a cache HIT on the second call, metadata in the logs, server-side
fallback, and typed errors (with LangChain's own retry/fallback wrappers); then what users build
on top: a multi-turn conversation, a LangGraph ReAct agent, streamed events with a run name, and
a batch over configurable models that returns typed errors."""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable
from typing import Any

import pytest
from cf_ai_gateway import (
    BadRequestError,
    Gateway,
    GatewayAuthenticationError,
    GatewayError,
    GatewayOptions,
    ManagementClient,
    ProviderError,
)
from cf_ai_gateway_langchain import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import ConfigurableField, RunnableLambda
from langchain_core.tools import tool
from pydantic import BaseModel, Field

pytestmark = pytest.mark.vcr

MODEL = "openai/gpt-4o-mini"
ChatFactory = Callable[..., ChatCloudflareAIGateway]


@pytest.fixture
def chat(gateway_factory: Callable[..., Gateway], provider_api_key: str | None) -> ChatFactory:
    """``chat(model=..., gateway=..., **fields)``: a chat model on this test's gateway."""

    def make(model: str = MODEL, gateway: Gateway | None = None, **fields: Any) -> Any:
        return ChatCloudflareAIGateway(
            model=model, gateway=gateway or gateway_factory(), api_key=provider_api_key, **fields
        )

    return make


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny in {city}."


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="the person's name")
    age: int = Field(description="the person's age in years")


def test_lcel_chain(chat: ChatFactory) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You answer in one short sentence."), ("human", "Tell me about {topic}.")]
    )
    answer = (prompt | chat(temperature=0) | StrOutputParser()).invoke(
        {"topic": "Cloudflare AI Gateway"}
    )
    assert isinstance(answer, str)
    assert answer


def test_tool_calling_round_trip(chat: ChatFactory) -> None:
    llm = chat().bind_tools([get_weather])
    question = HumanMessage("What is the weather in 'Lisbon'?")
    first = llm.invoke([question])
    assert isinstance(first, AIMessage)
    assert [c["name"] for c in first.tool_calls] == ["get_weather"]
    assert first.tool_calls[0]["args"] == {"city": "Lisbon"}
    result = get_weather.invoke(first.tool_calls[0])
    final = llm.invoke([question, first, result])
    assert isinstance(final.content, str)
    assert final.content
    assert not final.tool_calls


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_structured_output(chat: ChatFactory, method: str) -> None:
    structured = chat().with_structured_output(Person, method=method, include_raw=True)
    out = structured.invoke("'Ada' is 36 years old.")
    assert out["parsing_error"] is None
    assert isinstance(out["parsed"], Person)
    assert out["raw"].response_metadata["cf_aig"]["log_id"]


def test_streaming_with_usage(chat: ChatFactory) -> None:
    chunks = list(chat().stream("Write one line about streams."))
    assert len(chunks) > 2
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert isinstance(full, AIMessageChunk)
    assert full.content
    assert full.usage_metadata is not None
    assert full.usage_metadata["total_tokens"] > 0
    assert [c for c in chunks if c.usage_metadata] == [chunks[-1]]
    assert full.response_metadata["model_name"].startswith("openai/gpt-4o-mini")
    assert full.response_metadata["cf_aig"]["log_id"]


def test_cache_hit_on_second_call(chat: ChatFactory) -> None:
    llm = chat(gateway_options=GatewayOptions(cache_ttl=3600))
    first = llm.invoke("What is a cache?")
    second = llm.invoke("What is a cache?")
    assert first.response_metadata["cf_aig"]["cache_status"] == "MISS"
    assert second.response_metadata["cf_aig"]["cache_status"] == "HIT"
    assert second.content == first.content
    fresh = llm.invoke("What is a cache?", gateway_options=GatewayOptions(skip_cache=True))
    assert fresh.response_metadata["cf_aig"].get("cache_status") != "HIT"


def test_metadata_in_logs(chat: ChatFactory, gateway_factory: Callable[..., Gateway]) -> None:
    gateway = gateway_factory()
    llm = chat(gateway=gateway, gateway_options=GatewayOptions(metadata={"app": "lc-tests"}))
    reply = llm.invoke(
        "Log me.",
        gateway_options=GatewayOptions(metadata={"user": "u-42"}, event_id="lc-scenario-1"),
    )
    cf_aig = reply.response_metadata["cf_aig"]
    assert cf_aig["event_id"] == "lc-scenario-1"
    with ManagementClient.from_gateway(gateway) as mgmt:
        log = mgmt.get_log(cf_aig["log_id"])
    assert log.metadata == {"app": "lc-tests", "user": "u-42"}  # parsed from its JSON string


@pytest.mark.emulator_only  # the mock LLM fails every model whose name contains "fail"
def test_fallback_step(chat: ChatFactory) -> None:
    llm = chat(model="openai/gpt-fail", fallback_models=["openai/gpt-4o-mini"])
    reply = llm.invoke("Who answers?")
    assert reply.response_metadata["cf_aig"]["step"] == 1
    assert reply.response_metadata["model_name"] == "openai/gpt-4o-mini"


def test_typed_errors(chat: ChatFactory, gateway_factory: Callable[..., Gateway]) -> None:
    missing = chat(model="openai/does-not-exist", max_retries=0)
    with pytest.raises(BadRequestError) as info:
        missing.invoke("hi")
    assert info.value.status_code == 404
    assert info.value.log_id

    rescued = missing.with_fallbacks(
        [RunnableLambda(lambda _: AIMessage("backup"))], exceptions_to_handle=(GatewayError,)
    )
    assert rescued.invoke("hi").content == "backup"

    # An authenticated gateway without a token (needs gateway settings: emulator only).
    locked = dataclasses.replace(gateway_factory(authentication=True), token=None)
    with pytest.raises(GatewayAuthenticationError) as auth:
        chat(gateway=locked, max_retries=0).invoke("hi")
    assert auth.value.code == 2009


def test_embeddings(gateway_factory: Callable[..., Gateway], provider_api_key: str | None) -> None:
    emb = CloudflareAIGatewayEmbeddings(
        model="openai/text-embedding-3-small",
        gateway=gateway_factory(),
        api_key=provider_api_key,
        dimensions=8,
        chunk_size=2,
    )
    vectors = emb.embed_documents(["alpha", "beta", "gamma"])
    assert [len(v) for v in vectors] == [8, 8, 8]
    assert emb.embed_query("alpha") == vectors[0]


def test_multi_turn_conversation(chat: ChatFactory) -> None:
    llm = chat(temperature=0)
    history: list[Any] = [("system", "You are a concise assistant.")]
    for question in ("My name is 'Ada'.", "What did I just tell you?"):
        history.append(("human", question))
        reply = llm.invoke(history)
        assert isinstance(reply.content, str)
        assert reply.content
        history.append(reply)
    assert history[-1].response_metadata["cf_aig"]["log_id"]


def _has_langgraph() -> bool:
    try:  # langgraph-checkpoint alone leaves a `langgraph` namespace package behind
        return importlib.util.find_spec("langgraph.prebuilt") is not None
    except ImportError:
        return False


@pytest.mark.skipif(
    not _has_langgraph(),
    reason="langgraph is not installed (a test dependency of cf-ai-gateway-langchain)",
)  # a skip mark, not importorskip: it must skip before the cassette is loaded
def test_langgraph_react_agent(chat: ChatFactory) -> None:
    import warnings

    from langgraph import prebuilt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 1.x suggests langchain.agents.create_agent instead
        agent = prebuilt.create_react_agent(chat(temperature=0), [get_weather])
    state = agent.invoke({"messages": [("user", "What is the weather in 'Lisbon'?")]})
    kinds = [type(m).__name__ for m in state["messages"]]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    assert state["messages"][2].content == "It is sunny in Lisbon."
    final = state["messages"][-1]
    assert final.content
    assert final.response_metadata["cf_aig"]["log_id"]
    assert final.usage_metadata["total_tokens"] > 0


class _Tokens(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)


async def test_astream_events_and_token_callbacks(chat: ChatFactory) -> None:
    tokens = _Tokens()
    chain = chat().with_config(run_name="gateway-bot", callbacks=[tokens]) | StrOutputParser()
    events = [e async for e in chain.astream_events("Stream two short lines.", version="v2")]
    streamed = [e for e in events if e["event"] == "on_chat_model_stream"]
    assert len(streamed) > 2
    assert {e["name"] for e in streamed} == {"gateway-bot"}
    text = "".join(str(e["data"]["chunk"].content) for e in streamed)
    assert text == events[-1]["data"]["output"]
    assert "".join(tokens.tokens) == text
    end = next(e for e in events if e["event"] == "on_chat_model_end")
    assert end["data"]["output"].usage_metadata["total_tokens"] > 0


@pytest.mark.emulator_only  # the mock LLM fails every model whose name contains "fail"
def test_batch_over_configurable_models_returns_typed_errors(chat: ChatFactory) -> None:
    llm = chat(max_retries=0).configurable_fields(model=ConfigurableField(id="model"))
    configs: list[Any] = [
        {"configurable": {"model": "openai/gpt-4o-mini"}, "max_concurrency": 1},
        {"configurable": {"model": "openai/gpt-fail"}, "max_concurrency": 1},
    ]
    out = llm.batch(["Say hi.", "Say hi."], config=configs, return_exceptions=True)
    assert isinstance(out[0], AIMessage)
    assert out[0].content
    assert isinstance(out[1], ProviderError)
    assert out[1].status_code == 500
    assert out[1].log_id
