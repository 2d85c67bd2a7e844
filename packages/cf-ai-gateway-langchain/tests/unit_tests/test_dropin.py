"""A ``ChatOpenAI(...)`` call carried over: its spellings mean the same thing here, a pasted
``base_url`` is parsed (never glued), and no credential can reach a body, a repr, ``dumps()``
or a log record; the LangChain run id becomes the gateway event id; model profiles."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
from cf_ai_gateway import Gateway, GatewayOptions
from cf_ai_gateway_langchain import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings
from cf_ai_gateway_langchain._compat import HAS_PROFILE
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from langchain_core.messages import HumanMessage
from langchain_core.runnables import ConfigurableField
from langchain_core.tools import tool
from pydantic import BaseModel

from .fake_gateway import FakeGateway, Reply, chunk, completion, sse

TOKEN = "gw-token-SECRET-123"
KEY = "sk-provider-SECRET-456"
GW_URL = "https://gateway.ai.cloudflare.com/v1/acc/gw"
RUN_ID = UUID("12345678-1234-5678-1234-567812345678")
TEXT_STREAM = sse(
    [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hi"}, finish_reason="stop"),
        chunk(None, usage={"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}),
    ]
)


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


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway([Reply(json=completion())])


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny in {city}."


# --- ChatOpenAI's parameters --------------------------------------------------------------


def test_chatopenai_body_parameters(fake: FakeGateway) -> None:
    llm = make(
        fake,
        max_completion_tokens=64,
        reasoning_effort="low",
        logprobs=True,
        top_logprobs=2,
        logit_bias={50256: -100},
        service_tier="flex",
        parallel_tool_calls=False,
    )
    llm.invoke("hi")
    body = fake.last_body
    assert body["max_completion_tokens"] == 64
    assert "max_tokens" not in body
    assert body["reasoning_effort"] == "low"
    assert (body["logprobs"], body["top_logprobs"]) == (True, 2)
    assert body["logit_bias"] == {"50256": -100}
    assert body["service_tier"] == "flex"
    assert "parallel_tool_calls" not in body  # OpenAI refuses it without tools
    llm.bind_tools([get_weather]).invoke("weather?")
    assert fake.last_body["parallel_tool_calls"] is False
    llm.bind_tools([get_weather], parallel_tool_calls=True).invoke("weather?")
    assert fake.last_body["parallel_tool_calls"] is True


def test_max_tokens_and_max_completion_tokens_are_one_choice(fake: FakeGateway) -> None:
    with pytest.raises(ValueError, match="max_tokens or max_completion_tokens"):
        make(fake, max_tokens=5, max_completion_tokens=5)


def test_extra_body_is_merged_not_sent_as_a_key(fake: FakeGateway) -> None:
    llm = make(fake, temperature=0.5, extra_body={"top_k": 5, "temperature": 0.1})
    llm.invoke("hi", extra_body={"min_p": 0.2})
    body = fake.last_body
    assert "extra_body" not in body
    assert (body["top_k"], body["min_p"]) == (5, 0.2)
    assert body["temperature"] == 0.1  # merged last, as the OpenAI SDK does
    with pytest.raises(ValueError, match="must not set"):
        make(fake, extra_body={"model": "openai/gpt-4.1"})


def test_default_headers_timeout_and_retries(fake: FakeGateway) -> None:
    llm = make(
        fake,
        default_headers={"x-team": "search"},
        request_timeout=12.5,
        max_retries=1,
        stream_usage=False,
    )
    assert llm.timeout == 12.5
    llm.invoke("hi")
    assert fake.last.headers["x-team"] == "search"
    assert llm._get_sync_client().retry.max_retries == 1
    assert llm._get_sync_client().timeout.read == 12.5
    with pytest.raises(ValueError, match="not both"):
        make(fake, timeout=1, request_timeout=2)


def test_an_httpx_timeout_is_taken_as_chatopenai_takes_it(fake: FakeGateway) -> None:
    timeout = httpx.Timeout(60.0, connect=5.0)
    llm = make(fake, timeout=timeout)
    llm.invoke("hi")
    assert fake.last.extensions["timeout"] == {
        "connect": 5.0,
        "read": 60.0,
        "write": 60.0,
        "pool": 60.0,
    }
    assert llm._get_sync_client().timeout == timeout
    # serialized settings read back as the same timeout
    dumped = llm.model_dump()
    assert dumped["timeout"] == timeout.as_dict()
    assert type(llm)(**{**dumped, "http_client": llm.http_client}).timeout == timeout
    assert make(fake, request_timeout=timeout).timeout == timeout


@pytest.mark.parametrize("timeout", [0, -1, "30", (5, 60), httpx.Timeout(60, read=0)])
def test_a_bad_timeout_is_refused_at_construction(fake: FakeGateway, timeout: object) -> None:
    with pytest.raises(ValueError, match="timeout"):
        make(fake, timeout=timeout)


@pytest.mark.parametrize("deadline", [0, -1, float("inf"), float("nan"), "30", True])
def test_a_bad_deadline_is_refused_at_construction(fake: FakeGateway, deadline: object) -> None:
    # (inf passed the field's own check and failed at the first call)
    with pytest.raises(ValueError, match=r"deadline=.* must be a number of seconds > 0"):
        make(fake, deadline=deadline)


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("use_responses_api", True, "Responses API"),
        ("openai_organization", "org-1", "OpenAI-Organization"),
        ("openai_proxy", "http://proxy", "http_client"),
        ("tiktoken_model_name", "gpt-4o", "custom_get_token_ids"),
    ],
)
def test_chatopenai_arguments_without_meaning_are_refused(
    fake: FakeGateway, name: str, value: Any, hint: str
) -> None:
    with pytest.raises(ValueError, match=hint):
        make(fake, **{name: value})


def test_use_responses_api_false_is_accepted(fake: FakeGateway) -> None:
    make(fake, use_responses_api=False).invoke("hi")
    assert "use_responses_api" not in fake.last_body


# --- base_url / openai_api_base: parsed, never glued --------------------------------------


@pytest.mark.parametrize("spelling", ["base_url", "openai_api_base"])
def test_pasted_provider_url_keeps_chatopenai_model_names(fake: FakeGateway, spelling: str) -> None:
    llm = ChatCloudflareAIGateway(
        model="gpt-4o-mini",
        **{spelling: f"{GW_URL}/openai/v1"},
        cf_aig_token=TOKEN,
        openai_api_key=KEY,
        **fake.clients(),
    )
    assert (llm.model, llm.surface) == ("openai/gpt-4o-mini", "provider")
    assert (llm.account_id, llm.gateway_id) == ("acc", "gw")
    llm.invoke("hi")
    assert str(fake.last.url) == f"{GW_URL}/openai/chat/completions"  # what ChatOpenAI called
    assert fake.last_body["model"] == "gpt-4o-mini"
    llm.invoke("hi", model="gpt-4.1-mini")  # per call, the same names
    assert fake.last_body["model"] == "gpt-4.1-mini"


def test_pasted_compat_url_and_explicit_surface(fake: FakeGateway) -> None:
    llm = ChatCloudflareAIGateway(
        model="anthropic/claude-haiku-4-5", base_url=f"{GW_URL}/compat", **fake.clients()
    )
    llm.invoke("hi")
    assert str(fake.last.url) == f"{GW_URL}/compat/chat/completions"
    assert fake.last_body["model"] == "anthropic/claude-haiku-4-5"
    llm = ChatCloudflareAIGateway(
        model="gpt-4o-mini", base_url=f"{GW_URL}/openai", surface="compat", **fake.clients()
    )
    llm.invoke("hi")
    assert str(fake.last.url) == f"{GW_URL}/compat/chat/completions"
    assert fake.last_body["model"] == "openai/gpt-4o-mini"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://api.openai.com/v1", "provider's own API"),
        ("https://gateway.ai.cloudflare.com/v1", "does not name a gateway"),
        ("http://localhost:11434/v1", "names no gateway surface"),
    ],
)
def test_a_url_that_is_not_a_gateway_is_refused(url: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="gateway_url=") as info:
        ChatCloudflareAIGateway(model="gpt-4o-mini", base_url=url, api_key=KEY)
    assert fragment in str(info.value)
    assert KEY not in str(info.value)


def test_base_url_and_gateway_url_are_one_choice() -> None:
    with pytest.raises(ValueError, match="gateway_url= or base_url="):
        ChatCloudflareAIGateway(
            model="openai/gpt-4o-mini", base_url=f"{GW_URL}/openai", gateway_url=GW_URL
        )


def test_embeddings_take_the_same_spellings(fake: FakeGateway) -> None:
    fake.replies = [Reply(json={"data": [{"index": 0, "embedding": [0.1, 0.2]}]})]
    emb = CloudflareAIGatewayEmbeddings(
        model="text-embedding-3-small",
        openai_api_base=f"{GW_URL}/openai",
        openai_api_key=KEY,
        **fake.clients(),
    )
    assert emb.model == "openai/text-embedding-3-small"
    assert emb.embed_query("hi") == [0.1, 0.2]
    assert str(fake.last.url) == f"{GW_URL}/openai/embeddings"
    assert fake.last.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in fake.last.content.decode()


# --- credentials: refused where they would leak -------------------------------------------


@pytest.mark.parametrize(
    ("name", "right"),
    [
        ("anthropic_api_key", "api_key="),
        ("groq_api_key", "api_key="),
        ("access_token", "api_key="),
        ("client_secret", "api_key="),
        ("password", "api_key="),
        ("api_token", "api_key="),
        ("cf_api_token", "cf_aig_token="),
        ("cloudflare_api_token", "cf_aig_token="),
        ("gateway_secret", "cf_aig_token="),
    ],
)
@pytest.mark.parametrize("where", ["keyword", "model_kwargs", "extra_body"])
def test_credential_shaped_arguments_are_refused(
    fake: FakeGateway, name: str, right: str, where: str
) -> None:
    kwargs: dict[str, Any] = {
        "keyword": {name: KEY},
        "model_kwargs": {"model_kwargs": {name: KEY}},
        "extra_body": {"extra_body": {name: KEY}},
    }[where]
    with pytest.raises(ValueError, match=right) as info:
        make(fake, **kwargs)
    assert name in str(info.value)
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)
    assert fake.requests == []


@pytest.mark.parametrize(
    "header", ["Authorization", "cf-aig-authorization", "x-api-key", "X-Auth-Token"]
)
def test_credential_headers_are_refused(fake: FakeGateway, header: str) -> None:
    with pytest.raises(ValueError, match="credential header") as info:
        make(fake, default_headers={header: f"Bearer {KEY}"})
    assert KEY not in str(info.value)
    llm = make(fake)
    with pytest.raises(ValueError, match="credential header"):
        llm.invoke("hi", extra_headers={header: f"Bearer {KEY}"})
    assert fake.requests == []


@pytest.mark.parametrize(
    "call",
    [
        lambda llm: llm.invoke("hi", openai_api_key=KEY),
        lambda llm: llm.bind(api_key=KEY).invoke("hi"),
        lambda llm: llm.invoke("hi", extra_body={"api_key": KEY}),
    ],
    ids=["invoke", "bind", "extra_body"],
)
def test_per_call_credentials_never_reach_a_body(fake: FakeGateway, call: Any) -> None:
    llm = make(fake)
    with pytest.raises(ValueError, match="credential") as info:
        call(llm)
    assert KEY not in str(info.value)
    assert fake.requests == []


def test_construction_errors_never_echo_arguments(fake: FakeGateway) -> None:
    # a validation error of any other argument must not print the key next to it
    with pytest.raises(ValueError, match="surface='native'") as info:
        make(fake, api_key=KEY, surface="native")
    assert KEY not in str(info.value)
    with pytest.raises(ValueError, match="gpt-4o-mini") as info:
        make(fake, api_key=KEY, model="gpt-4o-mini")
    assert KEY not in str(info.value)


# --- every ChatOpenAI credential spelling, end to end -------------------------------------


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, propagating to caplog's handler."""
    loggers = [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]
    saved = [(lg, lg.level, lg.propagate, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.propagate = True
        lg.disabled = False
    caplog.set_level(logging.DEBUG)
    yield caplog
    for lg, level, propagate, disabled in saved:
        lg.setLevel(level)
        lg.propagate = propagate
        lg.disabled = disabled


SPELLINGS = ["api_key=", "openai_api_key=", "CF_AIG_PROVIDER_API_KEY"]


def _with_key(
    spelling: str, fake: FakeGateway, monkeypatch: pytest.MonkeyPatch, **kwargs: Any
) -> ChatCloudflareAIGateway:
    if spelling.endswith("="):
        kwargs[spelling[:-1]] = KEY
    else:
        monkeypatch.setenv(spelling, KEY)
    return make(fake, **kwargs)


def _only_in_credential_header(requests: list[httpx.Request]) -> None:
    assert requests
    for request in requests:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        others = {k: v for k, v in request.headers.items() if k != "authorization"}
        assert KEY not in json.dumps(others)
        assert KEY not in request.content.decode()
        assert KEY not in str(request.url)


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_every_spelling_reaches_only_the_credential_header(
    spelling: str, monkeypatch: pytest.MonkeyPatch, all_logs: pytest.LogCaptureFixture
) -> None:
    fake = FakeGateway(
        [
            Reply(json=completion()),
            Reply(text=TEXT_STREAM),
            Reply(json=completion()),
            Reply(text=TEXT_STREAM),
            Reply(json=completion()),
        ]
    )
    llm = _with_key(spelling, fake, monkeypatch)
    assert llm.api_key is not None
    assert llm.api_key.get_secret_value() == KEY
    llm.invoke("hi")
    list(llm.stream("hi"))
    await llm.ainvoke("hi")
    [c async for c in llm.astream("hi")]
    llm.invoke("hi", fallback_models=["openai/gpt-4.1-mini"])  # universal: key in the step
    assert len(fake.requests) == 5
    _only_in_credential_header(fake.requests[:4])
    steps = body_of(fake.requests[4])
    assert steps[0]["headers"] == {"authorization": f"Bearer {KEY}"}  # the step's header
    assert KEY not in json.dumps([s["query"] for s in steps])
    shown = [
        repr(llm),
        str(llm),
        dumps(llm),
        json.dumps(dumpd(llm)),
        llm.model_dump_json(),
        str(llm.model_dump()),
        str(llm._identifying_params),
        str(llm._get_ls_params()),
        all_logs.text,
        "\n".join(str(r.__dict__) for r in all_logs.records),
    ]
    for text in shown:
        assert KEY not in text
        assert TOKEN not in text


def test_openai_api_key_in_the_environment_is_not_picked_up(
    fake: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_BASE", "https://api.openai.com/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    llm = make(fake)
    assert llm.api_key is None
    llm.invoke("hi")
    list(make(FakeGateway([Reply(text=TEXT_STREAM)])).stream("hi"))
    assert "authorization" not in fake.last.headers  # BYOK: no provider credential at all
    assert KEY not in fake.last.content.decode()
    assert str(fake.last.url).startswith(GW_URL)


# --- the run id is the event id -----------------------------------------------------------


def _echo_event_id(request: httpx.Request) -> httpx.Response:
    event_id = request.headers.get("cf-aig-event-id", "generated-by-gateway")
    reply = Reply(json=completion(), headers={"cf-aig-event-id": event_id})
    if body_of(request).get("stream"):
        reply = Reply(text=TEXT_STREAM, headers={"cf-aig-event-id": event_id})
    return reply.response()


def test_run_id_becomes_the_event_id_and_comes_back() -> None:
    fake = FakeGateway([_echo_event_id])
    llm = make(fake)
    reply = llm.invoke("hi", config={"run_id": RUN_ID})
    assert fake.last.headers["cf-aig-event-id"] == str(RUN_ID)
    assert reply.response_metadata["cf_aig"]["event_id"] == str(RUN_ID)
    first = next(iter(llm.stream("hi", config={"run_id": RUN_ID})))
    assert fake.last.headers["cf-aig-event-id"] == str(RUN_ID)
    assert first.response_metadata["cf_aig"]["event_id"] == str(RUN_ID)
    llm.batch(["a", "b"])
    ids = {r.headers["cf-aig-event-id"] for r in fake.requests[-2:]}
    assert len(ids) == 2  # one run per input
    for request in fake.requests:
        assert str(RUN_ID) not in request.content.decode()  # bodies stay replayable


async def test_run_id_on_every_path_langchain_starts_a_call() -> None:
    fake = FakeGateway([_echo_event_id])
    # invoke() streaming internally (langchain-core calls _stream without a run manager)
    make(fake, streaming=True).invoke("hi", config={"run_id": RUN_ID})
    assert fake.last.headers["cf-aig-event-id"] == str(RUN_ID)
    await make(fake, streaming=True).ainvoke("hi", config={"run_id": RUN_ID})
    assert fake.last.headers["cf-aig-event-id"] == str(RUN_ID)
    # astream_events: the event id is the run id the events report
    events = [e async for e in make(fake).astream_events("hi", version="v2")]
    start = next(e for e in events if e["event"] == "on_chat_model_start")
    assert fake.last.headers["cf-aig-event-id"] == start["run_id"]
    # without a run id in the config, LangChain's own run id is the one sent
    seen: list[str] = []

    class RunIds(BaseCallbackHandler):
        def on_chat_model_start(self, *args: Any, run_id: UUID, **kwargs: Any) -> None:
            seen.append(str(run_id))

    make(fake).invoke("hi", config={"callbacks": [RunIds()]})
    assert seen == [fake.last.headers["cf-aig-event-id"]]
    list(make(fake).stream("hi", config={"callbacks": [RunIds()]}))
    assert seen[-1] == fake.last.headers["cf-aig-event-id"]
    # the legacy generate() and agenerate(): each prompt its own run, its run id its event id
    prompts = [[HumanMessage("a")], [HumanMessage("b")]]
    for streaming in (False, True):
        seen.clear()
        make(fake, streaming=streaming).generate(prompts, callbacks=[RunIds()])
        assert seen == [r.headers["cf-aig-event-id"] for r in fake.requests[-2:]]
        seen.clear()
        await make(fake, streaming=streaming).agenerate(prompts, callbacks=[RunIds()])
        assert sorted(seen) == sorted(r.headers["cf-aig-event-id"] for r in fake.requests[-2:])
        assert len(set(seen)) == 2


def test_interleaved_streams_keep_their_own_run_ids() -> None:
    fake = FakeGateway([_echo_event_id])
    llm = make(fake)
    one = llm.stream("a", config={"run_id": RUN_ID})
    other = UUID("87654321-4321-8765-4321-876543218765")
    two = llm.stream("b", config={"run_id": other})
    next(one)
    next(two)
    list(one)
    list(two)
    assert [r.headers["cf-aig-event-id"] for r in fake.requests] == [str(RUN_ID), str(other)]
    llm.invoke("c")
    assert fake.last.headers["cf-aig-event-id"] not in (str(RUN_ID), str(other))


@pytest.mark.parametrize(
    "how",
    ["constructor", "per call", "gateway", "default_headers", "extra_headers", "switched off"],
)
def test_a_callers_event_id_wins(how: str) -> None:
    fake = FakeGateway([_echo_event_id])
    kwargs: dict[str, Any] = {}
    call: dict[str, Any] = {}
    if how == "constructor":
        kwargs["gateway_options"] = GatewayOptions(event_id="mine")
    elif how == "per call":
        call["gateway_options"] = {"event_id": "mine"}
    elif how == "gateway":
        kwargs["gateway"] = Gateway(
            account_id="acc", gateway_id="gw", options=GatewayOptions(event_id="mine")
        )
        kwargs["account_id"] = kwargs["gateway_id"] = None
    elif how == "default_headers":
        kwargs["default_headers"] = {"CF-AIG-Event-Id": "mine"}
    elif how == "extra_headers":
        call["extra_headers"] = {"cf-aig-event-id": "mine"}
    else:
        kwargs["run_id_as_event_id"] = False
    llm = make(fake, **kwargs)
    llm.invoke("hi", config={"run_id": RUN_ID}, **call)
    expected = "generated-by-gateway" if how == "switched off" else "mine"
    assert fake.last.headers.get("cf-aig-event-id", "generated-by-gateway") == expected


# --- model profiles -----------------------------------------------------------------------

needs_profiles = pytest.mark.skipif(
    not HAS_PROFILE, reason="langchain-core has no model profiles before 1.1"
)


@needs_profiles
def test_known_models_have_a_profile_unknown_have_none(fake: FakeGateway) -> None:
    profile = make(fake).profile
    assert profile is not None
    assert profile["max_input_tokens"] == 128000
    assert profile["structured_output"] is True
    assert profile["tool_calling"] is True
    assert profile["image_inputs"] is True
    assert make(fake, model="workers-ai/@cf/meta/llama-3.1-8b-instruct").profile is None
    assert make(fake, model="openai/gpt-4o-mini-2024-07-18").profile is None  # not guessed
    claude = make(fake, model="anthropic/claude-haiku-4-5").profile
    assert claude is not None
    assert "structured_output" not in claude  # not known behind the gateway: left out


@needs_profiles
def test_profile_with_fallbacks_is_what_every_model_can_do(fake: FakeGateway) -> None:
    llm = make(fake, fallback_models=["groq/llama-3.3-70b-versatile"])
    assert llm.profile is not None
    assert llm.profile["image_inputs"] is False
    assert "structured_output" not in llm.profile
    assert make(fake, fallback_models=["workers-ai/@cf/meta/x"]).profile is None


@needs_profiles
def test_profile_follows_a_rebuilt_model_and_yours_is_kept(fake: FakeGateway) -> None:
    llm = make(fake).configurable_fields(model=ConfigurableField(id="model"))
    rebuilt, _ = llm._prepare({"configurable": {"model": "openai/o3-mini"}})  # type: ignore[attr-defined]
    assert rebuilt.profile["image_inputs"] is False
    rebuilt, _ = llm._prepare({"configurable": {"model": "workers-ai/@cf/x/y"}})  # type: ignore[attr-defined]
    assert rebuilt.profile is None
    mine = {"max_input_tokens": 1000, "structured_output": False}
    assert make(fake, profile=mine).profile == mine


# --- create_agent picks its structured-output strategy from the profile -------------------

needs_langchain = pytest.mark.skipif(
    importlib.util.find_spec("langchain") is None
    or importlib.util.find_spec("langchain.agents") is None,
    reason="create_agent needs the langchain package (1.x)",
)


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    summary: str


def _agent_gateway() -> FakeGateway:
    def handler(request: httpx.Request) -> httpx.Response:
        body = body_of(request)
        if not any(m["role"] == "tool" for m in body["messages"]):
            call = {
                "id": "c1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Lisbon"}'},
            }
            reply = completion(None, tool_calls=[call], finish_reason="tool_calls")
            return Reply(json=reply).response()
        answer = {"city": "Lisbon", "summary": "sunny"}
        if body.get("response_format"):
            return Reply(json=completion(json.dumps(answer))).response()
        call = {
            "id": "c2",
            "type": "function",
            "function": {"name": "Weather", "arguments": json.dumps(answer)},
        }
        reply = completion(None, tool_calls=[call], finish_reason="tool_calls")
        return Reply(json=reply).response()

    return FakeGateway([handler])


@needs_langchain
@pytest.mark.parametrize(
    ("model", "strategy"),
    [
        ("openai/o4-mini", "provider"),  # the profile says so (LangChain's name list does not)
        ("groq/llama-3.3-70b-versatile", "tool"),
        ("workers-ai/@cf/meta/llama-3.1-8b-instruct", "tool"),  # no profile
    ],
)
def test_create_agent_structured_output_strategy(model: str, strategy: str) -> None:
    from langchain.agents import create_agent

    fake = _agent_gateway()
    llm = make(fake, model=model)
    agent = create_agent(model=llm, tools=[get_weather], response_format=Weather)
    state = agent.invoke({"messages": [("user", "What is the weather in 'Lisbon'?")]})
    assert state["structured_response"] == Weather(city="Lisbon", summary="sunny")
    last = body_of(fake.last)
    if strategy == "provider":
        assert last["response_format"]["type"] == "json_schema"
        assert [t["function"]["name"] for t in last["tools"]] == ["get_weather"]
    else:
        assert "response_format" not in last
        assert [t["function"]["name"] for t in last["tools"]] == ["get_weather", "Weather"]
        assert last["tool_choice"] == "required"
