"""Tool calling (``_prepare_chat_with_tools`` as LlamaIndex's OpenAI tests pin it,
``chat_with_tools``, ``predict_and_call``, parallel calls) and the workflow agents that drive
it: ``FunctionAgent`` (streaming, and non-streaming where the line has it) and ``ReActAgent``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cf_ai_gateway import Gateway
from cf_ai_gateway_llamaindex import CloudflareAIGatewayLLM
from llama_index.core.agent.workflow import FunctionAgent, ReActAgent
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool

from .gateway_double import GatewayDouble, Stream, completion_body, delta_chunk, tool_call


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def search(query: str) -> str:
    """Search the web."""
    return f"results for {query}"


ADD = FunctionTool.from_defaults(add, description="Add two integers.")
SEARCH = FunctionTool.from_defaults(search, name="search_tool", description="Search the web.")


def make(double: GatewayDouble) -> CloudflareAIGatewayLLM:
    return CloudflareAIGatewayLLM(
        model="openai/gpt-4o-mini",
        gateway=Gateway(account_id="acc", gateway_id="gw"),
        **double.clients(),
    )


@pytest.fixture
def llm(double: GatewayDouble) -> CloudflareAIGatewayLLM:
    return make(double)


# --- _prepare_chat_with_tools (test_llms_openai.py's cases) ------------------------------------


def test_tool_required(llm: CloudflareAIGatewayLLM) -> None:
    prepared = llm._prepare_chat_with_tools([SEARCH], user_msg="hi", tool_required=True)
    assert prepared["tool_choice"] == "required"
    assert prepared["parallel_tool_calls"] is False
    assert [t["function"]["name"] for t in prepared["tools"]] == ["search_tool"]
    assert prepared["tools"][0]["function"]["description"] == "Search the web."


def test_tool_not_required_is_auto(llm: CloudflareAIGatewayLLM) -> None:
    assert llm._prepare_chat_with_tools([SEARCH], user_msg="hi")["tool_choice"] == "auto"


def test_parallel_calls_allowed_sends_no_flag(llm: CloudflareAIGatewayLLM) -> None:
    prepared = llm._prepare_chat_with_tools([SEARCH], allow_parallel_tool_calls=True)
    assert "parallel_tool_calls" not in prepared


def test_no_tools(llm: CloudflareAIGatewayLLM) -> None:
    prepared = llm._prepare_chat_with_tools([], user_msg="hi")
    assert "tools" not in prepared
    assert "tool_choice" not in prepared
    assert "parallel_tool_calls" not in prepared


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("none", "none"),
        ("required", "required"),
        ("search_tool", {"type": "function", "function": {"name": "search_tool"}}),
    ],
)
def test_explicit_tool_choice_overrides_tool_required(
    llm: CloudflareAIGatewayLLM, choice: str, sent: Any
) -> None:
    prepared = llm._prepare_chat_with_tools([SEARCH], tool_required=True, tool_choice=choice)
    assert prepared["tool_choice"] == sent


def test_chat_history_is_not_mutated(llm: CloudflareAIGatewayLLM) -> None:
    history = [ChatMessage(role="system", content="be brief")]
    prepared = llm._prepare_chat_with_tools([SEARCH], user_msg="hi", chat_history=history)
    assert len(history) == 1
    assert [m.role.value for m in prepared["messages"]] == ["system", "user"]


# --- calls -------------------------------------------------------------------------------------


def test_chat_with_tools_and_selection(double: GatewayDouble, llm: CloudflareAIGatewayLLM) -> None:
    reply = llm.chat_with_tools([ADD], user_msg="add 2 and 3")
    assert double.last_body["tool_choice"] == "auto"
    [selection] = llm.get_tool_calls_from_response(reply)
    assert (selection.tool_name, selection.tool_kwargs) == ("add", {"a": 2, "b": 3})
    assert reply.message.additional_kwargs["tool_calls"][0]["function"]["name"] == "add"


def test_no_tool_call_is_an_error_only_when_asked(llm: CloudflareAIGatewayLLM) -> None:
    reply = llm.chat([ChatMessage(role="user", content="hi")])
    with pytest.raises(ValueError, match="0 tool calls"):
        llm.get_tool_calls_from_response(reply)
    assert llm.get_tool_calls_from_response(reply, error_on_no_tool_call=False) == []


def _two_calls() -> dict[str, Any]:
    return completion_body(
        None,
        [tool_call("c1", "add", '{"a": 2, "b": 3}'), tool_call("c2", "add", '{"a": 10, "b": 20}')],
    )


def test_predict_and_call_single_and_parallel(double: GatewayDouble) -> None:
    llm = make(double)
    double.script(_two_calls())
    assert str(llm.predict_and_call([ADD], user_msg="add")) == "5"  # trimmed to one call
    double.script(_two_calls())
    both = llm.predict_and_call([ADD], user_msg="add", allow_parallel_tool_calls=True)
    assert str(both) == "5\n\n30"


async def test_apredict_and_call(double: GatewayDouble, llm: CloudflareAIGatewayLLM) -> None:
    out = await llm.apredict_and_call([ADD], user_msg="please add 2 and 3")
    assert str(out) == "5"


def test_stream_chat_with_tools(double: GatewayDouble, llm: CloudflareAIGatewayLLM) -> None:
    *_, last = llm.stream_chat_with_tools([ADD], user_msg="add 2 and 3")
    assert double.last_body["stream"] is True
    assert llm.get_tool_calls_from_response(last)[0].tool_kwargs == {"a": 2, "b": 3}


# --- agents ------------------------------------------------------------------------------------


async def test_function_agent_runs_the_tool_and_answers(
    double: GatewayDouble, llm: CloudflareAIGatewayLLM
) -> None:
    agent = FunctionAgent(tools=[ADD], llm=llm, system_prompt="You add numbers.")
    result = await agent.run(user_msg="Please add 2 and 3.")
    assert "5" in str(result)
    first, second = double.bodies
    assert first["stream"] is True
    assert "parallel_tool_calls" not in first  # the agent allows parallel calls
    roles = [m["role"] for m in second["messages"]]
    assert roles == ["system", "user", "assistant", "tool"]
    replayed = second["messages"][2]
    assert replayed["content"] is None
    assert len(replayed["tool_calls"]) == 1
    assert second["messages"][3]["tool_call_id"] == replayed["tool_calls"][0]["id"]


@pytest.mark.skipif(
    "streaming" not in FunctionAgent.model_fields, reason="FunctionAgent(streaming=) from 0.13"
)
async def test_function_agent_without_streaming(
    double: GatewayDouble, llm: CloudflareAIGatewayLLM
) -> None:
    agent = FunctionAgent(tools=[ADD], llm=llm, streaming=False)
    result = await agent.run(user_msg="Please add 2 and 3.")
    assert "5" in str(result)
    assert [b.get("stream") for b in double.bodies] == [None, None]


def _react(text: str) -> Stream:
    return Stream([delta_chunk({"role": "assistant", "content": text}), delta_chunk({}, "stop")])


async def test_react_agent_uses_plain_chat(
    double: GatewayDouble, llm: CloudflareAIGatewayLLM
) -> None:
    double.script(
        _react('Thought: I need a tool.\nAction: add\nAction Input: {"a": 2, "b": 3}'),
        _react("Thought: I can answer without using any more tools.\nAnswer: 5"),
    )
    agent = ReActAgent(tools=[ADD], llm=llm)
    result = await agent.run(user_msg="What is 2 + 3?")
    assert "5" in str(result)
    assert len(double.bodies) == 2
    assert all("tools" not in body for body in double.bodies)
    assert "Observation: 5" in json.dumps(double.bodies[1]["messages"])
