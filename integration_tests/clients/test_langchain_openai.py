"""``langchain-openai``, unchanged: ``ChatOpenAI`` and ``OpenAIEmbeddings`` with
``base_url="{gateway}/openai/v1"``: invoke, stream, the tool-calling tutorial's own prompt,
structured output, and a retriever that ranks the documents sharing the query's words first."""

from __future__ import annotations

from typing import Any

import pytest

langchain_openai = pytest.importorskip("langchain_openai")
tools_module = pytest.importorskip("langchain_core.tools")
vectorstores = pytest.importorskip("langchain_core.vectorstores")


@pytest.fixture
def base_url(emulator: Any, gateway_id: str) -> str:
    return f"{emulator.gateway_url(gateway_id)}/openai/v1"


def test_invoke_stream_and_usage(base_url: str, emulator: Any, gateway_id: str) -> None:
    llm = langchain_openai.ChatOpenAI(base_url=base_url, api_key="sk-test", model="gpt-4o-mini")
    reply = llm.invoke("Hello LangChain")
    assert reply.content.startswith("H")
    assert "".join(chunk.content for chunk in llm.stream("Hello LangChain")) == reply.content
    (log, _) = emulator.logs(gateway_id)
    assert log["path"] == "v1/chat/completions"
    assert (log["tokens_in"], log["tokens_out"]) == (
        reply.usage_metadata["input_tokens"],
        reply.usage_metadata["output_tokens"],
    )


def test_the_tool_calling_tutorial(base_url: str) -> None:
    @tools_module.tool
    def multiply(a: int, b: int) -> int:
        """Multiply a and b."""
        return a * b

    @tools_module.tool
    def add(a: int, b: int) -> int:
        """Adds a and b."""
        return a + b

    llm = langchain_openai.ChatOpenAI(base_url=base_url, api_key="sk-test", model="gpt-4o-mini")
    reply = llm.bind_tools([multiply, add]).invoke("What is 3 * 12? Also, what is 11 + 49?")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("multiply", {"a": 3, "b": 12}),
        ("add", {"a": 11, "b": 49}),
    ]


def test_structured_output(base_url: str) -> None:
    schema = {
        "title": "Joke",
        "type": "object",
        "properties": {"setup": {"type": "string"}, "punchline": {"type": "string"}},
        "required": ["setup", "punchline"],
    }
    llm = langchain_openai.ChatOpenAI(base_url=base_url, api_key="sk-test", model="gpt-4o-mini")
    joke = llm.with_structured_output(schema).invoke("Tell me a joke about cats")
    assert set(joke) == {"setup", "punchline"}


def test_a_retriever_ranks_shared_words_first(base_url: str) -> None:
    pytest.importorskip("numpy")  # InMemoryVectorStore's similarity needs it
    embeddings = langchain_openai.OpenAIEmbeddings(
        base_url=base_url,
        api_key="sk-test",
        model="text-embedding-3-small",
        check_embedding_ctx_length=False,  # tiktoken would download its encodings
    )
    store = vectorstores.InMemoryVectorStore(embeddings)
    store.add_texts(
        [
            "Cats purr and chase mice.",
            "Paris is the capital of France.",
            "Python is a programming language.",
        ]
    )
    (best,) = store.similarity_search("What is the capital of France?", k=1)
    assert best.page_content == "Paris is the capital of France."
