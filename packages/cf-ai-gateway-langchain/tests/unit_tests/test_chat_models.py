"""ChatCloudflareAIGateway over a scripted gateway (httpx.MockTransport): request shapes,
options, streaming, tools, structured output, fallbacks, errors and secret hiding."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from cf_ai_gateway import (
    Gateway,
    GatewayAuthenticationError,
    GatewayConnectionError,
    GatewayError,
    GatewayOptions,
    ProviderError,
    RateLimitError,
)
from cf_ai_gateway.errors import gateway_error_body
from cf_ai_gateway_langchain import ChatCloudflareAIGateway
from cf_ai_gateway_langchain._compat import HAS_CHUNK_POSITION
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from .fake_gateway import FakeGateway, Reply, chunk, completion, sse

TOKEN = "gw-token-SECRET-123"
KEY = "sk-provider-SECRET-456"


def make(fake: FakeGateway, **kwargs: Any) -> ChatCloudflareAIGateway:
    params: dict[str, Any] = {
        "model": "openai/gpt-4o-mini",
        "account_id": "acc",
        "gateway_id": "gw",
        "cf_aig_token": TOKEN,
    }
    params.update(kwargs)
    return ChatCloudflareAIGateway(**params, **fake.clients())


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway([Reply(json=completion())])


# --- construction ------------------------------------------------------------------------


def test_construction_from_url_and_gateway() -> None:
    llm = ChatCloudflareAIGateway(
        model="openai/gpt-4o-mini",
        gateway_url="https://gateway.ai.cloudflare.com/v1/acc/my-gw/openai/v1",
    )
    assert (llm.account_id, llm.gateway_id) == ("acc", "my-gw")
    gw = Gateway(account_id="a2", gateway_id="g2", token="t")
    llm = ChatCloudflareAIGateway(model="openai/gpt-4o-mini", gateway=gw)
    assert llm.resolved_gateway is gw
    assert llm.cf_aig_token is not None
    assert llm.cf_aig_token.get_secret_value() == "t"
    with pytest.raises(ValueError, match="either gateway="):
        ChatCloudflareAIGateway(model="openai/gpt-4o-mini", gateway=gw, account_id="x")


def test_construction_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_AIG_URL", "https://gateway.ai.cloudflare.com/v1/envacc/envgw")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-be-used")
    llm = ChatCloudflareAIGateway(model="openai/gpt-4o-mini")
    assert (llm.account_id, llm.gateway_id) == ("envacc", "envgw")
    assert llm.api_key is None  # BYOK: OPENAI_API_KEY is deliberately ignored


def test_missing_configuration_is_explained() -> None:
    with pytest.raises(ValueError, match="CF_ACCOUNT_ID"):
        ChatCloudflareAIGateway(model="openai/gpt-4o-mini")


def test_bad_model_and_aliases() -> None:
    with pytest.raises(ValueError, match="provider"):
        ChatCloudflareAIGateway(model="gpt-4o-mini", account_id="a", gateway_id="g")
    llm = ChatCloudflareAIGateway(
        model_name="dynamic/support",
        account_id="a",
        gateway_id="g",
        gateway_token="t",
        stop_sequences=["x"],
    )
    assert llm.model == "dynamic/support"
    assert llm.stop == ["x"]


def test_unknown_kwargs_go_to_model_kwargs(fake: FakeGateway) -> None:
    with pytest.warns(UserWarning, match="verbosity"):
        llm = make(fake, verbosity="low")
    llm.invoke("hi")
    assert fake.last_body["verbosity"] == "low"


# --- requests ----------------------------------------------------------------------------


def test_invoke_request_and_response_metadata(fake: FakeGateway) -> None:
    llm = make(
        fake,
        temperature=0.2,
        max_tokens=50,
        stop=["END"],
        seed=7,
        top_p=0.9,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        api_key=KEY,
    )
    msg = llm.invoke([HumanMessage("hi")])
    req = fake.last
    assert str(req.url) == "https://gateway.ai.cloudflare.com/v1/acc/gw/compat/chat/completions"
    assert req.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert fake.last_body == {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "max_tokens": 50,
        "top_p": 0.9,
        "seed": 7,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "stop": ["END"],
    }
    assert msg.content == "Hello!"
    meta = msg.response_metadata
    assert meta["finish_reason"] == "stop"
    assert meta["model_name"] == "openai/gpt-4o-mini"
    assert meta["cf_aig"] == {
        "cache_status": "MISS",
        "log_id": "01JLOG",
        "event_id": "evt-1",
        "status_code": 200,
        "attempts": 1,  # the core client's sends (1 + its retries)
    }
    assert msg.usage_metadata == {
        "input_tokens": 9,
        "output_tokens": 3,
        "total_tokens": 12,
        "input_token_details": {"cache_read": 4},
        "output_token_details": {"reasoning": 1},
    }
    json.dumps(meta)  # plain JSON: survives LangChain serialization and tracing


def test_byok_sends_no_provider_credential(fake: FakeGateway) -> None:
    make(fake).invoke("hi")
    assert "authorization" not in fake.last.headers
    assert "cf-aig-authorization" in fake.last.headers


def test_per_call_model_and_surface(fake: FakeGateway) -> None:
    llm = make(fake, surface="provider", api_key=KEY)
    msg = llm.invoke("hi", model="openai/gpt-4.1-mini")
    assert str(fake.last.url).endswith("/acc/gw/openai/chat/completions")
    assert fake.last_body["model"] == "gpt-4.1-mini"
    assert msg.response_metadata["model_name"] == "openai/gpt-4o-mini"  # what the upstream said
    assert llm._get_ls_params(model="openai/gpt-4.1-mini")["ls_model_name"] == "openai/gpt-4.1-mini"


def test_gateway_options_merge_constructor_bind_and_call(fake: FakeGateway) -> None:
    llm = make(
        fake,
        gateway_options=GatewayOptions(cache_ttl=3600, metadata={"app": "demo"}, max_attempts=2),
    )
    bound = llm.bind(gateway_options=GatewayOptions(metadata={"user": "u-1"}))
    bound.invoke("hi")
    headers = fake.last.headers
    assert headers["cf-aig-cache-ttl"] == "3600"
    assert headers["cf-aig-max-attempts"] == "2"
    assert json.loads(headers["cf-aig-metadata"]) == {"app": "demo", "user": "u-1"}
    llm.invoke("hi", gateway_options={"skip_cache": True, "event_id": "trace-9"})
    headers = fake.last.headers
    assert headers["cf-aig-skip-cache"] == "true"
    assert headers["cf-aig-event-id"] == "trace-9"
    assert headers["cf-aig-cache-ttl"] == "3600"
    llm.invoke("hi")  # per-call options do not stick
    assert "cf-aig-skip-cache" not in fake.last.headers


def test_invalid_gateway_options_fail_before_request(fake: FakeGateway) -> None:
    llm = make(fake)
    with pytest.raises(ValueError, match="max_attempts"):
        llm.invoke("hi", gateway_options={"max_attempts": 9})
    assert fake.requests == []


async def test_ainvoke_and_abatch(fake: FakeGateway) -> None:
    llm = make(fake)
    msg = await llm.ainvoke("hi")
    assert msg.content == "Hello!"
    results = await llm.abatch(["a", "b"])
    assert [r.content for r in results] == ["Hello!", "Hello!"]
    assert len(fake.requests) == 3


def test_batch(fake: FakeGateway) -> None:
    assert [m.content for m in make(fake).batch(["a", "b"])] == ["Hello!", "Hello!"]


# --- streaming ---------------------------------------------------------------------------

TEXT_STREAM = sse(
    [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}, finish_reason="stop"),
        chunk(None, usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}),
    ]
)


def _check_text_stream(chunks: list[AIMessageChunk]) -> None:
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert full.content == "Hello"
    assert full.usage_metadata == {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}
    assert full.response_metadata["model_name"] == "openai/gpt-4o-mini"
    assert full.response_metadata["finish_reason"] == "stop"
    assert full.response_metadata["cf_aig"]["log_id"] == "01JLOG"
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    if HAS_CHUNK_POSITION:
        assert chunks[-1].chunk_position == "last"  # type: ignore[attr-defined]


def test_stream_usage_on_last_chunk() -> None:
    fake = FakeGateway([Reply(text=TEXT_STREAM)])
    chunks = list(make(fake).stream("hi"))
    assert fake.last_body["stream"] is True
    assert fake.last_body["stream_options"] == {"include_usage": True}
    _check_text_stream(chunks)


async def test_astream() -> None:
    fake = FakeGateway([Reply(text=TEXT_STREAM)])
    chunks = [c async for c in make(fake).astream("hi")]
    _check_text_stream(chunks)


def _held_stream_parts() -> tuple[bytes, bytes]:
    first, *rest = TEXT_STREAM.split("\n\n", 2)
    return f"{first}\n\n".encode(), "\n\n".join(rest).encode()


def test_stream_hands_on_each_chunk_as_it_arrives() -> None:
    """The caller holds a chunk before the gateway sends the next (nothing is buffered: the
    rest is sent only once the caller holds the first chunk)."""
    held = threading.Event()
    waited: list[bool] = []
    first, rest = _held_stream_parts()

    def body() -> Iterator[bytes]:
        yield first
        waited.append(held.wait(2))
        yield rest

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream", "cf-aig-log-id": "01JLOG"}
        return httpx.Response(200, headers=headers, content=body())

    llm = ChatCloudflareAIGateway(
        model="openai/gpt-4o-mini",
        account_id="acc",
        gateway_id="gw",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    chunks = []
    for c in llm.stream("hi"):
        chunks.append(c)
        held.set()
    assert waited == [True]
    _check_text_stream(chunks)


async def test_astream_hands_on_each_chunk_as_it_arrives() -> None:
    held = asyncio.Event()
    waited: list[bool] = []
    first, rest = _held_stream_parts()

    async def body() -> AsyncIterator[bytes]:
        yield first
        try:
            await asyncio.wait_for(held.wait(), 2)
            waited.append(True)
        except asyncio.TimeoutError:
            waited.append(False)
        yield rest

    async def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream", "cf-aig-log-id": "01JLOG"}
        return httpx.Response(200, headers=headers, content=body())

    llm = ChatCloudflareAIGateway(
        model="openai/gpt-4o-mini",
        account_id="acc",
        gateway_id="gw",
        http_async_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    chunks = []
    async for c in llm.astream("hi"):
        chunks.append(c)
        held.set()
    assert waited == [True]
    _check_text_stream(chunks)


def test_a_stream_without_a_finish_reason_ends_on_an_empty_chunk_with_the_usage() -> None:
    fake = FakeGateway(
        [
            Reply(
                text=sse(
                    [
                        chunk({"role": "assistant", "content": "Hi"}),
                        chunk(None, usage={"prompt_tokens": 1, "completion_tokens": 1}),
                    ]
                )
            )
        ]
    )
    chunks = list(make(fake).stream("hi"))
    assert [c.content for c in chunks] == ["Hi", ""]
    assert chunks[-1].usage_metadata is not None
    assert chunks[0].usage_metadata is None
    assert chunks[-1].response_metadata["model_name"] == "openai/gpt-4o-mini"


def test_stream_usage_can_be_turned_off() -> None:
    fake = FakeGateway([Reply(text=TEXT_STREAM)])
    list(make(fake, stream_usage=False).stream("hi"))
    assert "stream_options" not in fake.last_body


def test_streaming_true_streams_invoke() -> None:
    fake = FakeGateway([Reply(text=TEXT_STREAM)])
    msg = make(fake, streaming=True).invoke("hi")
    assert fake.last_body["stream"] is True
    assert msg.content == "Hello"


def test_stream_tool_call_chunks() -> None:
    fake = FakeGateway(
        [
            Reply(
                text=sse(
                    [
                        chunk(
                            {
                                "role": "assistant",
                                "content": None,
                                "tool_calls": [
                                    {
                                        "index": 0,
                                        "id": "call_1",
                                        "type": "function",
                                        "function": {"name": "magic_function", "arguments": ""},
                                    }
                                ],
                            }
                        ),
                        chunk(
                            {"tool_calls": [{"index": 0, "function": {"arguments": '{"input"'}}]}
                        ),
                        chunk(
                            {"tool_calls": [{"index": 0, "function": {"arguments": ": 3}"}}]},
                            finish_reason="tool_calls",
                        ),
                        chunk(
                            None,
                            usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
                        ),
                    ]
                )
            )
        ]
    )

    @tool
    def magic_function(input: int) -> int:
        """Apply a magic function to an input."""
        return input + 2

    llm = make(fake).bind_tools([magic_function], tool_choice="any")
    full = None
    for c in llm.stream("magic_function(3)?"):
        full = c if full is None else full + c
    assert full is not None
    assert full.tool_calls == [
        {"name": "magic_function", "args": {"input": 3}, "id": "call_1", "type": "tool_call"}
    ]
    body = fake.last_body
    assert body["tool_choice"] == "required"
    assert body["tools"][0]["function"]["name"] == "magic_function"


def test_stream_error_inside_stream_is_typed() -> None:
    fake = FakeGateway(
        [
            Reply(
                text=sse(
                    [
                        chunk({"content": "Hel"}),
                        {"error": {"message": "upstream died", "type": "server_error"}},
                    ]
                )
            )
        ]
    )
    with pytest.raises(ProviderError, match="upstream died"):
        list(make(fake).stream("hi"))


# --- tools -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("any", "required"),
        ("required", "required"),
        ("auto", "auto"),
        ("none", "none"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
        (True, {"type": "function", "function": {"name": "get_weather"}}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "function": {"name": "get_weather"}},
        ),
    ],
)
def test_tool_choice_mapping(fake: FakeGateway, choice: Any, expected: Any) -> None:
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return "sunny"

    make(fake).bind_tools([get_weather], tool_choice=choice).invoke("hi")
    assert fake.last_body["tool_choice"] == expected


def test_unknown_tool_choice_name_is_rejected(fake: FakeGateway) -> None:
    def f(x: int) -> int:
        """F."""
        return x

    with pytest.raises(ValueError, match="not one of the bound tools"):
        make(fake).bind_tools([f], tool_choice="g")


def test_tool_round_trip(fake: FakeGateway) -> None:
    fake.replies = [
        Reply(
            json=completion(
                None,
                finish_reason="tool_calls",
                tool_calls=[
                    {
                        "id": "call_9",
                        "type": "function",
                        "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
                    }
                ],
            )
        )
    ]

    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    llm = make(fake).bind_tools([add], strict=True, parallel_tool_calls=False)
    msg = llm.invoke("1+2?")
    assert msg.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "call_9", "type": "tool_call"}
    ]
    assert fake.last_body["parallel_tool_calls"] is False
    assert fake.last_body["tools"][0]["function"]["strict"] is True
    fake.replies = [Reply(json=completion("3"))]
    from langchain_core.messages import ToolMessage

    llm.invoke(["1+2?", msg, ToolMessage("3", tool_call_id="call_9")])
    sent = fake.last_body["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_9"
    assert sent[2] == {"role": "tool", "tool_call_id": "call_9", "content": "3"}


# --- structured output -------------------------------------------------------------------


class Joke(BaseModel):
    """A joke."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


JOKE = {"setup": "Why?", "punchline": "Because."}


def test_structured_output_json_schema(fake: FakeGateway) -> None:
    fake.replies = [Reply(json=completion(json.dumps(JOKE)))]
    result = make(fake).with_structured_output(Joke, strict=True).invoke("joke")
    assert result == Joke(**JOKE)
    fmt = fake.last_body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Joke"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["required"] == ["setup", "punchline"]


def test_structured_output_function_calling_include_raw(fake: FakeGateway) -> None:
    fake.replies = [
        Reply(
            json=completion(
                None,
                finish_reason="tool_calls",
                tool_calls=[
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "Joke", "arguments": json.dumps(JOKE)},
                    }
                ],
            )
        )
    ]
    out = (
        make(fake)
        .with_structured_output(Joke, method="function_calling", include_raw=True)
        .invoke("joke")
    )
    assert out["parsed"] == Joke(**JOKE)
    assert out["parsing_error"] is None
    assert fake.last_body["tool_choice"] == {"type": "function", "function": {"name": "Joke"}}


def test_structured_output_json_mode_dict_and_parse_error(fake: FakeGateway) -> None:
    fake.replies = [Reply(json=completion(json.dumps(JOKE)))]
    schema = Joke.model_json_schema()
    assert make(fake).with_structured_output(schema, method="json_mode").invoke("x") == JOKE
    assert fake.last_body["response_format"] == {"type": "json_object"}
    fake.replies = [Reply(json=completion("not json"))]
    out = make(fake).with_structured_output(Joke, method="json_mode", include_raw=True).invoke("x")
    assert out["parsed"] is None
    assert out["parsing_error"] is not None


# --- fallbacks ---------------------------------------------------------------------------


def test_fallback_models_send_one_universal_request(fake: FakeGateway) -> None:
    fake.replies = [
        Reply(
            json=completion("from fallback", model="llama-3.1-8b-instruct"),
            headers={"cf-aig-step": "1"},
        )
    ]
    llm = make(
        fake,
        api_key=KEY,
        temperature=0,
        fallback_models=["workers-ai/@cf/meta/llama-3.1-8b-instruct"],
    )
    msg = llm.invoke("hi")
    assert str(fake.last.url) == "https://gateway.ai.cloudflare.com/v1/acc/gw"
    steps = fake.last_body
    assert [s["provider"] for s in steps] == ["openai", "workers-ai"]
    assert [s["endpoint"] for s in steps] == ["chat/completions", "v1/chat/completions"]
    assert steps[0]["query"] == {
        "model": "gpt-4o-mini",
        "temperature": 0,
        "messages": [{"role": "user", "content": "hi"}],
    }
    assert steps[0]["headers"] == {"authorization": f"Bearer {KEY}"}
    assert steps[1]["headers"] == {}  # the OpenAI key is not sent to another provider
    assert fake.last.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert msg.response_metadata["cf_aig"]["step"] == 1
    assert msg.response_metadata["model_name"] == "workers-ai/llama-3.1-8b-instruct"


def test_fallback_per_call_and_stream_is_one_chunk(fake: FakeGateway) -> None:
    fake.replies = [Reply(json=completion("ok"), headers={"cf-aig-step": "0"})]
    chunks = list(make(fake).stream("hi", fallback_models=["openai/gpt-4.1-mini"]))
    assert len(chunks) == 1
    assert chunks[0].content == "ok"
    assert chunks[0].response_metadata["cf_aig"]["step"] == 0
    assert isinstance(fake.last_body, list)
    assert "stream" not in fake.last_body[0]["query"]


# --- errors ------------------------------------------------------------------------------


def test_gateway_errors_are_typed_and_redacted(fake: FakeGateway) -> None:
    fake.replies = [Reply(status=401, json=gateway_error_body(2009, "Unauthorized", 401))]
    llm = make(fake, api_key=KEY, max_retries=0)
    with pytest.raises(GatewayAuthenticationError) as info:
        llm.invoke("hi")
    assert info.value.code == 2009
    assert info.value.log_id == "01JLOG"
    text = f"{info.value} {info.value!r} {info.value.body}"
    assert TOKEN not in text
    assert KEY not in text


def test_transport_errors_never_escape_as_httpx(fake: FakeGateway) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"failed with {TOKEN}", request=request)

    fake.replies = [boom]
    with pytest.raises(GatewayConnectionError) as info:
        make(fake, max_retries=0).invoke("hi")
    assert TOKEN not in str(info.value)


def test_max_retries_maps_to_core_retry_policy(
    fake: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.replies = [
        Reply(status=503, json={"error": {"message": "busy"}}),
        Reply(json=completion("after retry")),
    ]
    llm = make(fake, max_retries=1)
    client = llm._get_sync_client()
    monkeypatch.setattr(client, "_sleep", lambda _s: None)
    assert llm.invoke("hi").content == "after retry"
    assert len(fake.requests) == 2
    assert client.retry.max_retries == 1


def test_with_retry_and_with_fallbacks_use_typed_errors(fake: FakeGateway) -> None:
    fake.replies = [
        Reply(status=429, json={"error": {"message": "slow down"}}),
        Reply(json=completion("second try")),
    ]
    llm = make(fake, max_retries=0)
    retrying = llm.with_retry(
        retry_if_exception_type=(RateLimitError,),
        wait_exponential_jitter=False,
        stop_after_attempt=2,
    )
    assert retrying.invoke("hi").content == "second try"

    fake.replies = [Reply(status=500, json={"error": {"message": "down"}})]
    backup = RunnableLambda(lambda _: "backup answer")
    chain = make(fake, max_retries=0).with_fallbacks([backup], exceptions_to_handle=(GatewayError,))
    assert chain.invoke("hi") == "backup answer"


def test_invalid_response_shape(fake: FakeGateway) -> None:
    fake.replies = [Reply(json={"unexpected": True})]
    with pytest.raises(GatewayError, match="choices"):
        make(fake).invoke("hi")


# --- secrets -----------------------------------------------------------------------------


def test_secrets_hidden_in_repr_str_and_dumps(
    fake: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    from langchain_core.load import dumps

    caplog.set_level(logging.DEBUG)
    llm = make(fake, api_key=KEY)
    llm.invoke("hi")
    for text in (repr(llm), str(llm), dumps(llm), repr(llm.resolved_gateway), caplog.text):
        assert TOKEN not in text
        assert KEY not in text
    assert llm.lc_secrets == {"cf_aig_token": "CF_AIG_TOKEN", "api_key": "CF_AIG_PROVIDER_API_KEY"}


# --- chains ------------------------------------------------------------------------------


def test_lcel_chain(fake: FakeGateway) -> None:
    from langchain_core.output_parsers import StrOutputParser

    prompt = ChatPromptTemplate.from_messages([("system", "Be {style}."), ("human", "{q}")])
    chain = prompt | make(fake) | StrOutputParser()
    assert chain.invoke({"style": "brief", "q": "hi"}) == "Hello!"
    assert fake.last_body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]


# --- lifecycle ---------------------------------------------------------------------------


def test_deepcopy_builds_fresh_clients(fake: FakeGateway) -> None:
    import copy

    llm = make(fake, model_kwargs={"user": "u"})
    llm.invoke("hi")
    clone = copy.deepcopy(llm)
    assert clone.http_client is llm.http_client  # your client is shared, not copied
    assert clone.model_kwargs == llm.model_kwargs
    assert clone.model_kwargs is not llm.model_kwargs
    assert clone.invoke("hi").content == "Hello!"
    assert clone._get_sync_client() is not llm._get_sync_client()


def test_one_async_client_per_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    fake = FakeGateway([Reply(json=completion())])

    class MockAsyncClient(httpx.AsyncClient):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(transport=httpx.MockTransport(fake.ahandler))

    monkeypatch.setattr(httpx, "AsyncClient", MockAsyncClient)
    llm = ChatCloudflareAIGateway(model="openai/gpt-4o-mini", account_id="acc", gateway_id="gw")

    async def call() -> Any:
        await llm.ainvoke("hi")
        return llm._get_async_client()

    first = asyncio.run(call())
    second = asyncio.run(call())  # a closed loop's pool is never reused
    assert first is not second
