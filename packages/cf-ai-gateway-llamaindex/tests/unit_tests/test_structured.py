"""Structured output: LlamaIndex's default program for a function-calling LLM is a forced tool
call named after the pydantic class; the streamed variant reads partial tool arguments."""

from __future__ import annotations

import pytest
from cf_ai_gateway import Gateway
from cf_ai_gateway_llamaindex import CloudflareAIGatewayLLM
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel, Field

from .gateway_double import GatewayDouble


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="the person's name")
    age: int = Field(description="the person's age in years")


PROMPT = PromptTemplate("Extract the person: {text}")
TEXT = "'Ada' is 36 years old."


@pytest.fixture
def llm(double: GatewayDouble) -> CloudflareAIGatewayLLM:
    return CloudflareAIGatewayLLM(
        model="openai/gpt-4o-mini", gateway=Gateway(account_id="acc", gateway_id="gw"),
        **double.clients(),
    )  # fmt: skip


def test_structured_predict_forces_the_schema_tool(
    double: GatewayDouble, llm: CloudflareAIGatewayLLM
) -> None:
    person = llm.structured_predict(Person, PROMPT, text=TEXT)
    assert person == Person(name="Ada", age=36)
    body = double.last_body
    assert body["tool_choice"] == "required"
    assert body["parallel_tool_calls"] is False
    assert body["tools"][0]["function"]["name"] == "Person"


async def test_astructured_predict(llm: CloudflareAIGatewayLLM) -> None:
    assert await llm.astructured_predict(Person, PROMPT, text=TEXT) == Person(name="Ada", age=36)


def test_stream_structured_predict_ends_with_the_whole_object(llm: CloudflareAIGatewayLLM) -> None:
    partials = list(llm.stream_structured_predict(Person, PROMPT, text=TEXT))
    assert partials
    assert partials[-1] == Person(name="Ada", age=36)


async def test_astream_structured_predict(llm: CloudflareAIGatewayLLM) -> None:
    partials = [p async for p in await llm.astream_structured_predict(Person, PROMPT, text=TEXT)]
    assert partials[-1] == Person(name="Ada", age=36)


async def test_as_structured_llm_chat_and_achat(llm: CloudflareAIGatewayLLM) -> None:
    structured = llm.as_structured_llm(Person)
    reply = structured.chat([ChatMessage(role="user", content=TEXT)])
    assert reply.raw == Person(name="Ada", age=36)
    assert Person.model_validate_json(reply.message.content or "") == reply.raw
    areply = await structured.achat([ChatMessage(role="user", content=TEXT)])
    assert areply.raw == reply.raw
