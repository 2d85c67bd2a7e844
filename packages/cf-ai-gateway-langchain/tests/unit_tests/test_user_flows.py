"""What a user swapping ``ChatOpenAI`` for ``ChatCloudflareAIGateway`` does on day one, each flow
against a scripted gateway (httpx.MockTransport): memory, agent loops, LangGraph, LangChain's
retry/fallback/batch wrappers with typed errors, callbacks and events, token counting, option
binding, secret hiding, early validation and stream edge cases."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import pytest
from cf_ai_gateway import (
    GatewayError,
    GatewayOptions,
    InvalidOptionError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
)
from cf_ai_gateway_langchain import ChatCloudflareAIGateway
from cf_ai_gateway_langchain._compat import HAS_CHUNK_POSITION
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    trim_messages,
)
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory
from langchain_core.tools import tool
from pydantic import ValidationError

from .fake_gateway import FakeGateway, Reply, chunk, completion, sse

TOKEN = "gw-token-SECRET-123"
KEY = "sk-provider-SECRET-456"
USAGE = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}


def make(fake: FakeGateway, **kwargs: Any) -> ChatCloudflareAIGateway:
    params: dict[str, Any] = {
        "model": "openai/gpt-4o-mini",
        "account_id": "acc",
        "gateway_id": "gw",
        "cf_aig_token": TOKEN,
        "max_retries": 0,
    }
    params.update(kwargs)
    return ChatCloudflareAIGateway(**params, **fake.clients())


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def tool_call(name: str, args: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


TOOLS = {"add": add, "multiply": multiply}


def agent_gateway() -> FakeGateway:
    """A model that calls add and multiply in parallel, then answers from the tool results."""

    def handler(request: httpx.Request) -> httpx.Response:
        messages = body_of(request)["messages"]
        results = [m["content"] for m in messages if m["role"] == "tool"]
        if not results:
            calls = [
                tool_call("add", {"a": 2, "b": 3}, "c1"),
                tool_call("multiply", {"a": 4, "b": 5}, "c2"),
            ]
            data = completion(None, tool_calls=calls, finish_reason="tool_calls")
        else:
            data = completion(f"add gave {results[0]}, multiply gave {results[1]}")
        return Reply(json=data).response()

    return FakeGateway([handler])


# --- conversations and agents ----------------------------------------------------------


# deprecated (pending on 0.3) in favour of LangGraph persistence, but still in wide use
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::PendingDeprecationWarning")
def test_runnable_with_message_history_sends_the_whole_conversation() -> None:
    replies = iter(["Nice to meet you, Ada.", "Your name is Ada."])
    fake = FakeGateway([lambda _r: Reply(json=completion(next(replies))).response()])
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{input}")]
    )
    store: dict[str, InMemoryChatMessageHistory] = {}
    chain = RunnableWithMessageHistory(
        prompt | make(fake),
        lambda session_id: store.setdefault(session_id, InMemoryChatMessageHistory()),
        input_messages_key="input",
        history_messages_key="history",
    )
    config: Any = {"configurable": {"session_id": "s1"}}
    chain.invoke({"input": "I am Ada."}, config=config)
    second = chain.invoke({"input": "What is my name?"}, config=config)
    assert second.content == "Your name is Ada."
    assert [(m["role"], m["content"]) for m in body_of(fake.last)["messages"]] == [
        ("system", "Be brief."),
        ("user", "I am Ada."),
        ("assistant", "Nice to meet you, Ada."),
        ("user", "What is my name?"),
    ]
    # the stored AI turn keeps the gateway record (it survives persistence)
    assert store["s1"].messages[1].response_metadata["cf_aig"]["log_id"] == "01JLOG"


def test_tool_calling_agent_loop_with_parallel_calls() -> None:
    fake = agent_gateway()
    llm = make(fake).bind_tools(list(TOOLS.values()))
    messages: list[BaseMessage] = [HumanMessage("What are 2+3 and 4*5?")]
    for _ in range(3):
        reply = llm.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        messages.extend(TOOLS[c["name"]].invoke(c) for c in reply.tool_calls)
    assert messages[-1].content == "add gave 5, multiply gave 20"
    sent = body_of(fake.last)["messages"]
    assert [t["id"] for t in sent[1]["tool_calls"]] == ["c1", "c2"]
    assert sent[2:] == [
        {"role": "tool", "tool_call_id": "c1", "content": "5"},
        {"role": "tool", "tool_call_id": "c2", "content": "20"},
    ]


def test_langgraph_create_react_agent() -> None:
    prebuilt = pytest.importorskip(
        "langgraph.prebuilt", reason="langgraph is not installed (a test dependency)"
    )
    fake = agent_gateway()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 1.x suggests langchain.agents.create_agent instead
        graph = prebuilt.create_react_agent(make(fake), list(TOOLS.values()))
    state = graph.invoke({"messages": [("user", "What are 2+3 and 4*5?")]})
    final = state["messages"][-1]
    assert isinstance(final, AIMessage)
    assert final.content == "add gave 5, multiply gave 20"
    assert final.response_metadata["cf_aig"]["cache_status"] == "MISS"
    assert [type(m).__name__ for m in state["messages"]] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "ToolMessage",
        "AIMessage",
    ]
    assert len(fake.requests) == 2


async def test_langgraph_create_react_agent_async_stream() -> None:
    prebuilt = pytest.importorskip(
        "langgraph.prebuilt", reason="langgraph is not installed (a test dependency)"
    )
    fake = agent_gateway()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = prebuilt.create_react_agent(make(fake), list(TOOLS.values()))
    tokens = []
    async for message, meta in graph.astream(
        {"messages": [("user", "2+3 and 4*5?")]}, stream_mode="messages"
    ):
        if meta["langgraph_node"] == "agent" and message.content:
            tokens.append(message.content)
    assert "".join(tokens) == "add gave 5, multiply gave 20"
    assert len(fake.requests) == 2


# --- LangChain's wrappers with the core's typed errors ---------------------------------


async def test_with_retry_retries_a_429_then_succeeds_async() -> None:
    fake = FakeGateway(
        [Reply(status=429, json={"error": {"message": "slow down"}}), Reply(json=completion("ok"))]
    )
    retrying = make(fake).with_retry(
        retry_if_exception_type=(RateLimitError,),
        wait_exponential_jitter=False,
        stop_after_attempt=2,
    )
    assert (await retrying.ainvoke("hi")).content == "ok"
    assert len(fake.requests) == 2


def test_with_retry_does_not_retry_other_errors() -> None:
    fake = FakeGateway([Reply(status=400, json={"error": {"message": "bad"}})])
    retrying = make(fake).with_retry(
        retry_if_exception_type=(RateLimitError,), stop_after_attempt=3
    )
    with pytest.raises(GatewayError):
        retrying.invoke("hi")
    assert len(fake.requests) == 1


def test_with_fallbacks_to_another_gateway_model() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if body_of(request)["model"] == "openai/gpt-4o-mini":
            return Reply(status=503, json={"error": {"message": "overloaded"}}).response()
        return Reply(json=completion("from claude", model="claude-3-5-haiku")).response()

    fake = FakeGateway([handler])
    primary = make(fake)
    backup = make(fake, model="anthropic/claude-3-5-haiku")
    chain = primary.with_fallbacks([backup], exceptions_to_handle=(ProviderError,))
    reply = chain.invoke("hi")
    assert reply.content == "from claude"
    assert reply.response_metadata["model_name"] == "anthropic/claude-3-5-haiku"
    assert [body_of(r)["model"] for r in fake.requests] == [
        "openai/gpt-4o-mini",
        "anthropic/claude-3-5-haiku",
    ]


def _by_prompt(request: httpx.Request) -> httpx.Response:
    text = body_of(request)["messages"][-1]["content"]
    if text == "limited":
        return Reply(status=429, json={"error": {"message": "rate limited"}}).response()
    return Reply(json=completion(f"echo {text}")).response()


def test_batch_max_concurrency_return_exceptions_gives_typed_errors() -> None:
    fake = FakeGateway([_by_prompt])
    out = make(fake).batch(
        ["a", "limited", "b"], config={"max_concurrency": 2}, return_exceptions=True
    )
    assert isinstance(out[0], AIMessage)
    assert out[0].content == "echo a"
    assert isinstance(out[1], RateLimitError)
    assert out[1].status_code == 429
    assert isinstance(out[2], AIMessage)
    assert out[2].content == "echo b"


async def test_abatch_return_exceptions_gives_typed_errors() -> None:
    fake = FakeGateway([_by_prompt])
    out = await make(fake).abatch(
        ["limited", "a"], config={"max_concurrency": 1}, return_exceptions=True
    )
    assert isinstance(out[0], RateLimitError)
    assert isinstance(out[1], AIMessage)


# --- callbacks, events, run names --------------------------------------------------------

TEXT_STREAM = sse(
    [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({"content": "!"}, finish_reason="stop"),
        chunk(None, usage=USAGE),
    ]
)


class TokenCollector(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.ends: list[Any] = []
        self.start_names: list[str | None] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.ends.append(response)

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.start_names.append(kwargs.get("name"))


@pytest.mark.parametrize("how", ["stream", "streaming_invoke"])
def test_on_llm_new_token_fires_per_streamed_token(how: str) -> None:
    fake = FakeGateway([Reply(text=TEXT_STREAM)])
    handler = TokenCollector()
    if how == "stream":
        list(make(fake).stream("hi", config={"callbacks": [handler]}))
    else:
        reply = make(fake, streaming=True).invoke("hi", config={"callbacks": [handler]})
        assert reply.content == "Hello!"
        assert reply.usage_metadata is not None
        assert reply.usage_metadata["total_tokens"] == 7
    assert [t for t in handler.tokens if t] == ["Hel", "lo", "!"]
    assert len(handler.ends) == 1


async def test_astream_events_v2() -> None:
    fake = FakeGateway([Reply(text=TEXT_STREAM)])
    chain = make(fake).with_config(run_name="support-bot") | StrOutputParser()
    events = [e async for e in chain.astream_events("hi", version="v2")]
    streamed = [e for e in events if e["event"] == "on_chat_model_stream"]
    assert "".join(e["data"]["chunk"].content for e in streamed) == "Hello!"
    assert {e["name"] for e in streamed} == {"support-bot"}
    end = next(e for e in events if e["event"] == "on_chat_model_end")
    output = end["data"]["output"]
    assert output.usage_metadata["total_tokens"] == 7
    assert output.response_metadata["cf_aig"]["log_id"] == "01JLOG"
    assert events[-1]["event"] == "on_chain_end"
    assert events[-1]["data"]["output"] == "Hello!"


def test_with_config_run_name_reaches_callbacks() -> None:
    fake = FakeGateway([Reply(json=completion())])
    handler = TokenCollector()
    make(fake).with_config(run_name="my-run", callbacks=[handler]).invoke("hi")
    assert handler.start_names == ["my-run"]


def test_llm_output_and_generation_info() -> None:
    fake = FakeGateway([Reply(json=completion())])
    result = make(fake).generate([[HumanMessage("a")], [HumanMessage("b")]])
    assert result.llm_output == {
        "token_usage": {"prompt_tokens": 18, "completion_tokens": 6, "total_tokens": 24},
        "model_name": "openai/gpt-4o-mini",
    }
    info = result.generations[0][0].generation_info
    assert info is not None
    assert info["finish_reason"] == "stop"
    assert info["model_name"] == "openai/gpt-4o-mini"
    assert info["cf_aig"]["log_id"] == "01JLOG"
    json.dumps(info)


# --- token counting ---------------------------------------------------------------------


def test_token_counting_works_without_transformers() -> None:
    llm = make(FakeGateway([Reply(json=completion())]))
    messages = [SystemMessage("You are terse."), HumanMessage("hello world " * 20)]
    assert llm.get_num_tokens("hello world") == 3
    n = llm.get_num_tokens_from_messages(messages)
    assert 60 < n < 80
    assert llm.get_num_tokens_from_messages(messages, tools=[add]) > n
    trimmed = trim_messages(
        messages, max_tokens=20, token_counter=llm, strategy="last", include_system=True
    )
    assert [type(m).__name__ for m in trimmed] == ["SystemMessage"]


def test_custom_get_token_ids_is_honoured() -> None:
    llm = make(FakeGateway([Reply(json=completion())]), custom_get_token_ids=lambda t: [1] * 42)
    assert llm.get_num_tokens("anything") == 42


# --- gateway options: per call, bound, with tools ---------------------------------------


def _weather(city: str) -> str:
    """Weather for a city."""
    return "sunny"


@pytest.mark.parametrize(
    "build",
    [
        lambda llm, opts: llm.bind_tools([_weather]).bind(gateway_options=opts),
        lambda llm, opts: llm.bind_tools([_weather], gateway_options=opts),
    ],
    ids=["bind_tools-then-bind", "bind_tools-kwarg"],
)
def test_bound_gateway_options_compose_with_bind_tools(
    build: Callable[[Any, Any], Any],
) -> None:
    fake = FakeGateway([Reply(json=completion())])
    llm = make(fake, gateway_options=GatewayOptions(metadata={"app": "a"}))
    build(llm, GatewayOptions(cache_ttl=120, metadata={"user": "u"})).invoke("hi")
    assert fake.last.headers["cf-aig-cache-ttl"] == "120"
    assert json.loads(fake.last.headers["cf-aig-metadata"]) == {"app": "a", "user": "u"}
    assert body_of(fake.last)["tools"][0]["function"]["name"] == "_weather"
    assert "gateway_options" not in body_of(fake.last)


@pytest.mark.parametrize(
    "options",
    [{"event_id": "e-1", "skip_cache": True}, GatewayOptions(event_id="e-1", skip_cache=True)],
)
async def test_per_call_gateway_options_dict_or_object_async_stream(options: Any) -> None:
    fake = FakeGateway([Reply(text=TEXT_STREAM)])
    chunks = [c async for c in make(fake).astream("hi", gateway_options=options)]
    assert fake.last.headers["cf-aig-event-id"] == "e-1"
    assert fake.last.headers["cf-aig-skip-cache"] == "true"
    assert "gateway_options" not in body_of(fake.last)
    assert chunks


def test_with_structured_output_keeps_bound_options() -> None:
    fake = FakeGateway([Reply(json=completion('{"a": 1}'))])
    schema = {"title": "T", "type": "object", "properties": {"a": {"type": "integer"}}}
    chain = make(fake).with_structured_output(schema).with_config(run_name="extract")
    assert chain.invoke("x", gateway_options={"cache_ttl": 60}) == {"a": 1}
    assert fake.last.headers["cf-aig-cache-ttl"] == "60"


# --- secrets -----------------------------------------------------------------------------


def test_secrets_never_leak(caplog: pytest.LogCaptureFixture) -> None:
    from langchain_core.load import dumpd, dumps

    caplog.set_level(logging.DEBUG)
    fake = FakeGateway(
        [Reply(status=401, json={"error": {"message": f"bad key {KEY}, token {TOKEN}"}})]
    )
    llm = make(fake, api_key=KEY)
    with pytest.raises(GatewayError) as info:
        llm.invoke("hi")
    texts = [
        repr(llm),
        str(llm),
        str(llm.model_dump()),
        llm.model_dump_json(),
        json.dumps(dumpd(llm)),
        dumps(llm),
        str(llm._get_ls_params()),
        str(llm._identifying_params),
        str(getattr(llm, "asdict", llm.dict)()),
        str(info.value),
        repr(info.value),
        str(info.value.body),
        caplog.text,
    ]
    for text in texts:
        assert TOKEN not in text
        assert KEY not in text


@pytest.mark.parametrize("mode", ["invoke", "stream", "fallback"])
async def test_byok_sends_no_provider_credential_anywhere(mode: str) -> None:
    fake = FakeGateway(
        [Reply(text=TEXT_STREAM)] if mode == "stream" else [Reply(json=completion())]
    )
    llm = make(fake)
    if mode == "invoke":
        await llm.ainvoke("hi")
    elif mode == "stream":
        [c async for c in llm.astream("hi")]
    else:
        await llm.ainvoke("hi", fallback_models=["workers-ai/@cf/meta/llama-3.1-8b-instruct"])
        assert all(step["headers"] == {} for step in body_of(fake.last))
    assert "authorization" not in fake.last.headers
    assert fake.last.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"


# --- validation: early, naming the value, before any request ----------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "gpt-4o-mini"}, "gpt-4o-mini"),
        ({"model": "nosuchprovider/x"}, "nosuchprovider"),
        ({"surface": "native"}, "native"),
        ({"gateway_options": {"cache_tll": 60}}, "cache_tll"),
        ({"gateway_options": {"max_attempts": 9}}, "max_attempts"),
        ({"max_retries": -1}, "max_retries"),
        ({"fallback_models": ["llama"]}, "llama"),
        ({"fallback_models": ["dynamic/support"]}, "dynamic/support"),
        ({"fallback_models": ["anthropic/claude-3-5-haiku"]}, "anthropic"),
        ({"model": "anthropic/claude-3-5-haiku", "surface": "provider"}, "anthropic"),
        ({"model": "dynamic/support", "surface": "provider"}, "dynamic/support"),
        ({"model": "azure-openai/gpt-4o"}, "azure-openai"),
        ({"surface": "rest", "api_key": KEY}, "api_key"),
    ],
)
def test_bad_configuration_fails_at_construction(kwargs: dict[str, Any], message: str) -> None:
    fake = FakeGateway([Reply(json=completion())])
    with pytest.raises(ValueError, match=message) as info:
        make(fake, **kwargs)
    assert KEY not in str(info.value)
    assert fake.requests == []


def test_negative_max_retries_is_named_even_without_a_gateway() -> None:
    with pytest.raises(ValidationError, match="max_retries"):
        ChatCloudflareAIGateway(model="openai/gpt-4o-mini", max_retries=-1)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"model": "gpt-4o"}, ValueError),
        ({"gateway_options": {"cache_tll": 60}}, InvalidOptionError),
        ({"fallback_models": ["dynamic/x"]}, ValueError),
    ],
)
def test_bad_per_call_values_fail_before_any_request(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    fake = FakeGateway([Reply(json=completion())])
    with pytest.raises(error):
        make(fake).invoke("hi", **kwargs)
    assert fake.requests == []


# --- streaming edge cases ----------------------------------------------------------------


def test_repeated_cumulative_usage_is_counted_once() -> None:
    fake = FakeGateway(
        [
            Reply(
                text=sse(
                    [
                        chunk({"content": "a"}, usage={**USAGE, "completion_tokens": 1}),
                        chunk({"content": "b"}, finish_reason="stop", usage=USAGE),
                        chunk(None, usage=USAGE),
                    ]
                )
            )
        ]
    )
    chunks = list(make(fake).stream("hi"))
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert full.usage_metadata == {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}
    assert [c for c in chunks if c.usage_metadata] == [chunks[-1]]
    if HAS_CHUNK_POSITION:
        assert chunks[-1].chunk_position == "last"  # type: ignore[attr-defined]


class _CutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    events: tuple[bytes, ...] = (
        b'data: {"id":"1","model":"gpt-4o-mini","choices":[{"index":0,'
        b'"delta":{"content":"Hel"},"finish_reason":null}]}\n\n',
        b'data: {"id":"1","model":"gpt-4o-mini","choices":[{"index":0,'
        b'"delta":{"content":"lo"},"finish_reason":null}]}\n\n',
    )

    def __iter__(self) -> Any:
        yield from self.events
        raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> Any:
        for event in self.events:
            yield event
        raise httpx.ReadError("connection reset by peer")


def _cut(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream", "cf-aig-log-id": "01CUT"},
        stream=_CutStream(),
    )


def test_stream_cut_midway_raises_stream_interrupted() -> None:
    received: list[str] = []

    def consume() -> None:
        for c in make(FakeGateway([_cut])).stream("hi"):
            received.append(str(c.content))

    with pytest.raises(StreamInterruptedError) as info:
        consume()
    assert "".join(received) == "Hello"  # nothing that arrived is lost
    assert info.value.log_id == "01CUT"
    assert not isinstance(info.value, httpx.HTTPError)


async def test_astream_cut_midway_raises_stream_interrupted() -> None:
    received: list[str] = []

    async def consume() -> None:
        async for c in make(FakeGateway([_cut])).astream("hi"):
            received.append(str(c.content))

    with pytest.raises(StreamInterruptedError):
        await consume()
    assert "".join(received) == "Hello"


def test_parallel_tool_call_chunks_assemble() -> None:
    fake = FakeGateway(
        [
            Reply(
                text=sse(
                    [
                        chunk(
                            {
                                "role": "assistant",
                                "tool_calls": [
                                    {
                                        "index": 0,
                                        "id": "c1",
                                        "type": "function",
                                        "function": {"name": "add", "arguments": ""},
                                    }
                                ],
                            }
                        ),
                        chunk(
                            {"tool_calls": [{"index": 0, "function": {"arguments": '{"a": 2, '}}]}
                        ),
                        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"b": 3}'}}]}),
                        chunk(
                            {
                                "tool_calls": [
                                    {
                                        "index": 1,
                                        "id": "c2",
                                        "type": "function",
                                        "function": {"name": "multiply", "arguments": '{"a": 4'},
                                    }
                                ]
                            }
                        ),
                        chunk(
                            {"tool_calls": [{"index": 1, "function": {"arguments": ', "b": 5}'}}]},
                            finish_reason="tool_calls",
                        ),
                        chunk(None, usage=USAGE),
                    ]
                )
            )
        ]
    )
    full: AIMessageChunk | None = None
    for c in make(fake).bind_tools(list(TOOLS.values())).stream("go"):
        full = c if full is None else full + c
    assert full is not None
    assert full.tool_calls == [
        {"name": "add", "args": {"a": 2, "b": 3}, "id": "c1", "type": "tool_call"},
        {"name": "multiply", "args": {"a": 4, "b": 5}, "id": "c2", "type": "tool_call"},
    ]
    assert full.response_metadata["finish_reason"] == "tool_calls"
    # the assembled message goes back as a valid assistant turn
    message = AIMessage(content=full.content, tool_calls=full.tool_calls)
    follow = FakeGateway([Reply(json=completion("done"))])
    make(follow).invoke([HumanMessage("go"), message, ToolMessage("5", tool_call_id="c1")])
    assert [
        t["function"]["arguments"] for t in body_of(follow.last)["messages"][1]["tool_calls"]
    ] == [
        '{"a": 2, "b": 3}',
        '{"a": 4, "b": 5}',
    ]


# --- rebuilt from field values (configurable_fields) -------------------------------------


@pytest.mark.parametrize("how", ["arguments", "gateway", "gateway_url"])
def test_configurable_fields_rebuild_the_model(how: str) -> None:
    from cf_ai_gateway import Gateway
    from langchain_core.runnables import ConfigurableField

    fake = FakeGateway([Reply(json=completion())])
    where: dict[str, Any] = {
        "arguments": {"account_id": "acc", "gateway_id": "gw", "cf_aig_token": TOKEN},
        "gateway": {"gateway": Gateway(account_id="acc", gateway_id="gw", token=TOKEN)},
        "gateway_url": {
            "gateway_url": "https://gateway.ai.cloudflare.com/v1/acc/gw/openai",
            "cf_aig_token": TOKEN,
        },
    }[how]
    llm = ChatCloudflareAIGateway(model="openai/gpt-4o-mini", **where, **fake.clients())
    configurable = llm.configurable_fields(
        model=ConfigurableField(id="model"), temperature=ConfigurableField(id="temperature")
    )
    configurable.invoke(
        "hi", config={"configurable": {"model": "openai/gpt-4.1-mini", "temperature": 0.5}}
    )
    assert (
        str(fake.last.url) == "https://gateway.ai.cloudflare.com/v1/acc/gw/compat/chat/completions"
    )
    assert fake.last.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert body_of(fake.last)["model"] == "openai/gpt-4.1-mini"
    assert body_of(fake.last)["temperature"] == 0.5
