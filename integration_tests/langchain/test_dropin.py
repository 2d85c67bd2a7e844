"""A ``ChatOpenAI`` user's habits through the gateway: a pasted ``base_url`` with OpenAI model
names and ``openai_api_key``, the run id found again in the gateway's logs, and a LangChain 1.x
``create_agent`` with a structured response (replayed from cassettes like the scenarios); and,
against a live local emulator, every credential spelling over real sockets with every logger
at DEBUG: the key is found only in the provider credential header."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
from cf_ai_gateway import Gateway, ManagementClient
from cf_ai_gateway_langchain import ChatCloudflareAIGateway
from langchain_core.load import dumpd, dumps
from langchain_core.tools import tool
from pydantic import BaseModel, Field

RUN_ID = UUID("0f8fad5b-d9cb-469f-a165-70867728950e")


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny in {city}."


class Weather(BaseModel):
    """The weather in a city."""

    city: str = Field(description="the city")
    summary: str = Field(description="one line about the weather")


@pytest.mark.vcr
def test_a_chatopenai_call_carried_over(gateway: Gateway, provider_api_key: str | None) -> None:
    llm = ChatCloudflareAIGateway(
        model="gpt-4o-mini",  # OpenAI's name, as in ChatOpenAI
        base_url=f"{gateway.root_url}/openai",  # the gateway URL from the dashboard
        openai_api_key=provider_api_key,
        cf_aig_token=gateway.token,
        temperature=0,
        max_completion_tokens=40,
        extra_body={"user": "u-42"},
    )
    assert (llm.model, llm.surface) == ("openai/gpt-4o-mini", "provider")
    reply = llm.invoke("Say hello.")
    assert reply.content
    assert reply.response_metadata["model_name"].startswith("openai/gpt-4o-mini")
    assert reply.response_metadata["cf_aig"]["log_id"]
    chunks = list(llm.stream("Say hello in a stream."))
    assert "".join(str(c.content) for c in chunks)
    assert chunks[-1].usage_metadata is not None


@pytest.mark.vcr
def test_the_run_id_finds_the_gateway_log(gateway: Gateway, provider_api_key: str | None) -> None:
    llm = ChatCloudflareAIGateway(
        model="openai/gpt-4o-mini", gateway=gateway, api_key=provider_api_key
    )
    reply = llm.invoke("Log me.", config={"run_id": RUN_ID})  # fixed: cassettes replay it
    cf_aig = reply.response_metadata["cf_aig"]
    assert cf_aig["event_id"] == str(RUN_ID)
    with ManagementClient.from_gateway(gateway) as mgmt:
        log = mgmt.get_log(cf_aig["log_id"])
    assert log.event_id == str(RUN_ID)
    assert log.model == "gpt-4o-mini"


@pytest.mark.vcr
@pytest.mark.skipif(
    importlib.util.find_spec("langchain") is None
    or importlib.util.find_spec("langchain.agents") is None,
    reason="create_agent is in the langchain package (1.x); this line has none",
)  # a skip mark, not importorskip: it must skip before the cassette is loaded
def test_create_agent_with_a_structured_response(
    gateway: Gateway, provider_api_key: str | None
) -> None:
    from langchain.agents import create_agent

    llm = ChatCloudflareAIGateway(
        model="openai/gpt-4o-mini", gateway=gateway, api_key=provider_api_key, temperature=0
    )
    agent = create_agent(model=llm, tools=[get_weather], response_format=Weather)
    state = agent.invoke({"messages": [("user", "What is the weather in 'Lisbon'?")]})
    kinds = [type(m).__name__ for m in state["messages"]]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    assert state["messages"][2].content == "It is sunny in Lisbon."
    weather = state["structured_response"]
    assert isinstance(weather, Weather)
    assert weather.city == "Lisbon"
    final = state["messages"][-1]
    assert json.loads(final.content) == weather.model_dump()  # provider-native output
    assert final.response_metadata["cf_aig"]["event_id"]


# --- over real sockets: the key only in the credential header -----------------------------

KEY = "sk-over-the-wire-SECRET-789"


@pytest.fixture(scope="module")
def live_emulator() -> Iterator[Any]:
    testing = pytest.importorskip("cf_ai_gateway_emulator.testing")
    with testing.run_emulator() as emulator:
        emulator.create_gateway("lc-secrets")
        yield emulator


@pytest.fixture
def every_logger(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger that exists (ours, httpx, httpcore, uvicorn, langchain, ...) at DEBUG and
    propagating to caplog's handler."""
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


@pytest.mark.emulator_only
@pytest.mark.parametrize("spelling", ["api_key=", "openai_api_key=", "CF_AIG_PROVIDER_API_KEY"])
def test_the_key_is_only_in_the_credential_header(
    spelling: str,
    live_emulator: Any,
    every_logger: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-must-not-be-read")
    sent: list[httpx.Request] = []
    kwargs: dict[str, Any] = {}
    if spelling.endswith("="):
        kwargs[spelling[:-1]] = KEY
    else:
        monkeypatch.setenv(spelling, KEY)
    llm = ChatCloudflareAIGateway(
        model="openai/gpt-4o-mini",
        gateway_url=live_emulator.gateway_url("lc-secrets"),
        cf_aig_token=live_emulator.token,
        http_client=httpx.Client(event_hooks={"request": [sent.append]}),
        **kwargs,
    )
    reply = llm.invoke("hi")
    chunks = list(llm.stream("hi"))
    assert reply.content
    assert chunks
    assert len(sent) == 2
    for request in sent:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        others = {k: v for k, v in request.headers.items() if k != "authorization"}
        assert KEY not in json.dumps(others)
        assert KEY not in request.content.decode()
        assert "sk-env-must-not-be-read" not in str(request.headers)
    # what the gateway stored for the call: no key in the logged request body
    gateway = llm.resolved_gateway
    stored = httpx.get(
        gateway.logs_url(reply.response_metadata["cf_aig"]["log_id"]) + "/request",
        headers={"authorization": f"Bearer {live_emulator.token}"},
    )
    assert stored.status_code == 200
    assert "gpt-4o-mini" in stored.text
    assert KEY not in stored.text
    shown = [
        repr(llm),
        str(llm),
        dumps(llm),
        json.dumps(dumpd(llm)),
        llm.model_dump_json(),
        every_logger.text,
        "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in every_logger.records),
    ]
    for text in shown:
        assert KEY not in text
    assert any(r.name.startswith("httpx") for r in every_logger.records)  # logging was on


@pytest.mark.emulator_only
def test_openai_api_key_is_never_sent(live_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("CF_AIG_PROVIDER_API_KEY", raising=False)
    sent: list[httpx.Request] = []
    llm = ChatCloudflareAIGateway(
        model="openai/gpt-4o-mini",
        gateway_url=live_emulator.gateway_url("lc-secrets"),
        cf_aig_token=live_emulator.token,
        http_client=httpx.Client(event_hooks={"request": [sent.append]}),
    )
    llm.invoke("hi")
    assert "authorization" not in sent[0].headers  # BYOK / Unified Billing: no credential
    assert KEY not in str(sent[0].headers) + sent[0].content.decode()
