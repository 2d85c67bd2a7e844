"""The clients the client-side benchmarks compare, all sending the same chat request to the
same local endpoint (the ``instant`` server of ``_servers.py``), all holding the same answer.

Each contender has a role: ``raw`` (plain httpx: the floor of any client), ``core`` (our
``GatewayClient``), ``adapter`` (ours, on a framework), ``today`` (what users of that
framework pick today for the same endpoint) and ``floor`` (the framework's own model with no
I/O at all: its fake or mock model through the same entry point). A framework that is not
installed leaves its contenders out, with a note.

- ``calls(root)``: a sync non-streaming call, returning the answer's text;
- ``streams(root)``: a sync stream, yielding each piece of text as the caller holds it;
- ``async_calls(root)``: an async call (built inside the running event loop).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # offline: its bundled prices

MODEL = "openai/gpt-4o-mini"
PROMPT = "Say hello."
MESSAGES = [{"role": "user", "content": PROMPT}]
BODY = {"model": MODEL, "messages": MESSAGES}
TOKEN = "cf-bench-token"
API_KEY = "sk-bench"
RAW_HEADERS = {"authorization": f"Bearer {API_KEY}", "cf-aig-authorization": f"Bearer {TOKEN}"}
ANSWER = "Hello! How can I help you today?"

FRAMEWORKS = {
    "langchain": ("cf_ai_gateway_langchain", "langchain_openai"),
    "llamaindex": ("cf_ai_gateway_llamaindex", "llama_index.llms.openai_like"),
    "litellm": ("cf_ai_gateway_litellm", "litellm"),
}
"""Each framework: our adapter's module and the module of what users pick today."""


@dataclass(frozen=True)
class Contender:
    name: str
    role: str
    """``raw``, ``core``, ``adapter``, ``today`` or ``floor``."""
    framework: str | None
    run: Callable[..., Any]


def missing_frameworks() -> list[str]:
    """Frameworks whose adapter or alternative is not importable (their rows are left out)."""
    import importlib.util

    out = []
    for name, modules in FRAMEWORKS.items():
        try:
            found = all(importlib.util.find_spec(m) is not None for m in modules)
        except ModuleNotFoundError:
            found = False
        if not found:
            out.append(name)
    return out


def _quiet() -> None:
    warnings.filterwarnings("ignore", message="Pydantic serializer warnings")
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def _gateway(root: str) -> Any:
    from cf_ai_gateway import Gateway

    return Gateway.from_url(root, token=TOKEN)


def _register_litellm() -> None:
    import cf_ai_gateway_litellm
    import litellm

    litellm.suppress_debug_info = True
    cf_ai_gateway_litellm.register(token=TOKEN, api_key=API_KEY, max_retries=0)


# --- sync calls ------------------------------------------------------------------------------


def calls(root: str) -> list[Contender]:
    """Sync, non-streaming: each returns the answer's text."""
    import httpx
    from cf_ai_gateway import ChatCall, GatewayClient
    from openai import OpenAI

    _quiet()
    http = httpx.Client()
    url = f"{root}/compat/chat/completions"

    def raw() -> str:
        response = http.post(url, json=BODY, headers=RAW_HEADERS)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    core = GatewayClient(_gateway(root), api_key=API_KEY)
    call = ChatCall(MODEL, {"messages": MESSAGES})
    sdk = OpenAI(
        base_url=f"{root}/compat",
        api_key=API_KEY,
        default_headers={"cf-aig-authorization": f"Bearer {TOKEN}"},
        max_retries=0,
    )
    out = [
        Contender("raw httpx", "raw", None, raw),
        Contender(
            "core GatewayClient.chat_completions",
            "core",
            None,
            lambda: core.chat_completions(BODY).data["choices"][0]["message"]["content"],
        ),
        Contender(
            "core GatewayClient.chat (adapter kit)", "core", None, lambda: core.chat(call).content
        ),
        Contender(
            "openai SDK",
            "today",
            None,
            lambda: (
                sdk.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
                .choices[0]
                .message.content
            ),
        ),
    ]
    missing = missing_frameworks()
    if "langchain" not in missing:
        out += _langchain_calls(root)
    if "llamaindex" not in missing:
        out += _llamaindex_calls(root)
    if "litellm" not in missing:
        out += _litellm_calls(root)
    for floor in [c for c in out if c.role == "floor"]:
        # the framework's floor and a raw httpx call, one after the other in each call: what
        # an adapter does at least (measured apart, the two run faster than together: each
        # leaves the CPU's caches to the other)
        out.append(
            Contender(
                f"{floor.name.split(':')[0]}: raw httpx + floor, in one call",
                "raw+floor",
                floor.framework,
                lambda floor=floor: (floor.run(), raw())[1],
            )
        )
    return out


def _langchain_models(root: str) -> tuple[Any, Any]:
    from cf_ai_gateway_langchain import ChatCloudflareAIGateway
    from langchain_openai import ChatOpenAI

    ours = ChatCloudflareAIGateway(
        model=MODEL, gateway=_gateway(root), api_key=API_KEY, max_retries=0
    )
    today = ChatOpenAI(
        model=MODEL,
        base_url=f"{root}/compat",
        api_key=API_KEY,  # type: ignore[arg-type]
        default_headers={"cf-aig-authorization": f"Bearer {TOKEN}"},
        max_retries=0,
    )
    return ours, today


def _langchain_calls(root: str) -> list[Contender]:
    from langchain_core.language_models import FakeListChatModel

    ours, today = _langchain_models(root)
    fake = FakeListChatModel(responses=[ANSWER])
    return [
        Contender(
            "LangChain: ours .invoke", "adapter", "langchain", lambda: ours.invoke(PROMPT).content
        ),
        Contender(
            "LangChain: ChatOpenAI(base_url=) .invoke",
            "today",
            "langchain",
            lambda: today.invoke(PROMPT).content,
        ),
        Contender(
            "LangChain: FakeListChatModel .invoke (floor)",
            "floor",
            "langchain",
            lambda: fake.invoke(PROMPT).content,
        ),
    ]


def _llamaindex_models(root: str) -> tuple[Any, Any, list[Any]]:
    from cf_ai_gateway_llamaindex import CloudflareAIGatewayLLM
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai_like import OpenAILike

    ours = CloudflareAIGatewayLLM(
        model=MODEL, gateway=_gateway(root), api_key=API_KEY, max_retries=0
    )
    today = OpenAILike(
        model=MODEL,
        api_base=f"{root}/compat",
        api_key=API_KEY,
        default_headers={"cf-aig-authorization": f"Bearer {TOKEN}"},
        is_chat_model=True,
        is_function_calling_model=True,
        max_retries=0,
    )
    return ours, today, [ChatMessage(role="user", content=PROMPT)]


def _llamaindex_calls(root: str) -> list[Contender]:
    from llama_index.core.llms import MockLLM

    ours, today, messages = _llamaindex_models(root)
    mock = MockLLM()
    return [
        Contender(
            "LlamaIndex: ours .chat",
            "adapter",
            "llamaindex",
            lambda: ours.chat(messages).message.content,
        ),
        Contender(
            "LlamaIndex: OpenAILike .chat",
            "today",
            "llamaindex",
            lambda: today.chat(messages).message.content,
        ),
        Contender(
            "LlamaIndex: MockLLM .chat (floor)",
            "floor",
            "llamaindex",
            lambda: mock.chat(messages).message.content,
        ),
    ]


def _litellm_kwargs(root: str) -> dict[str, dict[str, Any]]:
    """The ``completion`` arguments of our route and of LiteLLM's own ``openai/`` route."""
    return {
        "ours": {"model": f"cloudflare-ai-gateway/{MODEL}", "api_base": root},
        "today": {
            "model": MODEL,
            "api_base": f"{root}/openai",
            "api_key": API_KEY,
            "extra_headers": {"cf-aig-authorization": f"Bearer {TOKEN}"},
            "max_retries": 0,
        },
    }


def _litellm_calls(root: str) -> list[Contender]:
    import litellm

    _register_litellm()
    kw = _litellm_kwargs(root)

    def run(**more: Any) -> Callable[[], Any]:
        return lambda: litellm.completion(messages=MESSAGES, **more).choices[0].message.content

    return [
        Contender("LiteLLM: ours cloudflare-ai-gateway/", "adapter", "litellm", run(**kw["ours"])),
        Contender("LiteLLM: openai/ + api_base", "today", "litellm", run(**kw["today"])),
        Contender(
            "LiteLLM: completion(mock_response=) (floor)",
            "floor",
            "litellm",
            run(model=MODEL, mock_response=ANSWER),
        ),
    ]


# --- sync streams ----------------------------------------------------------------------------


def streams(root: str, floor_chunks: int) -> list[Contender]:
    """Sync streams: each yields the text of every chunk as the caller holds it. The floors
    stream ``floor_chunks`` pieces with no I/O."""
    import httpx
    from cf_ai_gateway import ChatCall, GatewayClient
    from httpx_sse import connect_sse
    from openai import OpenAI

    _quiet()
    http = httpx.Client()
    url = f"{root}/compat/chat/completions"

    def raw() -> Iterator[str]:
        with connect_sse(
            http, "POST", url, json={**BODY, "stream": True}, headers=RAW_HEADERS
        ) as es:
            for sse in es.iter_sse():
                if sse.data == "[DONE]":
                    break
                for choice in json.loads(sse.data)["choices"]:
                    if text := choice["delta"].get("content"):
                        yield text

    core = GatewayClient(_gateway(root), api_key=API_KEY)

    def core_stream() -> Iterator[str]:
        with core.stream_chat_completions(BODY) as stream:
            for chunk in stream:
                for choice in chunk["choices"]:
                    if text := choice["delta"].get("content"):
                        yield text

    call = ChatCall(MODEL, {"messages": MESSAGES})

    def kit_stream() -> Iterator[str]:
        with core.stream_chat(call) as stream:
            for delta in stream:
                if delta.content:
                    yield delta.content

    sdk = OpenAI(
        base_url=f"{root}/compat",
        api_key=API_KEY,
        default_headers={"cf-aig-authorization": f"Bearer {TOKEN}"},
        max_retries=0,
    )

    def sdk_stream() -> Iterator[str]:
        with sdk.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True) as stream:  # type: ignore[arg-type]
            for chunk in stream:
                for choice in chunk.choices:
                    if choice.delta.content:
                        yield choice.delta.content

    out = [
        Contender("raw httpx + httpx-sse", "raw", None, raw),
        Contender("core GatewayClient.stream_chat_completions", "core", None, core_stream),
        Contender("core GatewayClient.stream_chat (adapter kit)", "core", None, kit_stream),
        Contender("openai SDK", "today", None, sdk_stream),
    ]
    missing = missing_frameworks()
    if "langchain" not in missing:
        out += _langchain_streams(root, floor_chunks)
    if "llamaindex" not in missing:
        out += _llamaindex_streams(root, floor_chunks)
    if "litellm" not in missing:
        out += _litellm_streams(root, floor_chunks)
    return out


def _texts_of(chunks: Iterator[Any], text: Callable[[Any], Any]) -> Iterator[str]:
    for chunk in chunks:
        if value := text(chunk):
            yield value


def _langchain_streams(root: str, floor_chunks: int) -> list[Contender]:
    from langchain_core.language_models import FakeListChatModel

    ours, today = _langchain_models(root)
    fake = FakeListChatModel(responses=["x" * floor_chunks])

    def content(chunk: Any) -> Any:
        return chunk.content

    return [
        Contender(
            "LangChain: ours .stream",
            "adapter",
            "langchain",
            lambda: _texts_of(ours.stream(PROMPT), content),
        ),
        Contender(
            "LangChain: ChatOpenAI(base_url=) .stream",
            "today",
            "langchain",
            lambda: _texts_of(today.stream(PROMPT), content),
        ),
        Contender(
            "LangChain: FakeListChatModel .stream (floor)",
            "floor",
            "langchain",
            lambda: _texts_of(fake.stream(PROMPT), content),
        ),
    ]


def _llamaindex_streams(root: str, floor_chunks: int) -> list[Contender]:
    from llama_index.core.llms import ChatMessage, MockLLM

    ours, today, messages = _llamaindex_models(root)
    mock = MockLLM()  # streams the prompt back, one character per chunk
    prompt = "user: \nassistant: "
    long = [ChatMessage(role="user", content="x" * max(1, floor_chunks - len(prompt)))]

    def delta(chunk: Any) -> Any:
        return chunk.delta

    return [
        Contender(
            "LlamaIndex: ours .stream_chat",
            "adapter",
            "llamaindex",
            lambda: _texts_of(ours.stream_chat(messages), delta),
        ),
        Contender(
            "LlamaIndex: OpenAILike .stream_chat",
            "today",
            "llamaindex",
            lambda: _texts_of(today.stream_chat(messages), delta),
        ),
        Contender(
            "LlamaIndex: MockLLM .stream_chat (floor)",
            "floor",
            "llamaindex",
            lambda: _texts_of(mock.stream_chat(long), delta),
        ),
    ]


def _litellm_streams(root: str, floor_chunks: int) -> list[Contender]:
    import litellm

    _register_litellm()
    kw = _litellm_kwargs(root)

    def content(chunk: Any) -> Any:
        return chunk.choices[0].delta.content if chunk.choices else None

    def run(**more: Any) -> Callable[[], Iterator[str]]:
        return lambda: _texts_of(
            litellm.completion(messages=MESSAGES, stream=True, **more), content
        )

    return [
        Contender("LiteLLM: ours cloudflare-ai-gateway/", "adapter", "litellm", run(**kw["ours"])),
        Contender("LiteLLM: openai/ + api_base", "today", "litellm", run(**kw["today"])),
        Contender(
            "LiteLLM: completion(mock_response=) (floor)",
            "floor",
            "litellm",
            run(model=MODEL, mock_response="x " * floor_chunks),
        ),
    ]


# --- async calls -----------------------------------------------------------------------------


def async_calls(root: str) -> list[Contender]:
    """Async, non-streaming (call inside the running event loop: clients bind to it)."""
    import httpx
    from cf_ai_gateway import AsyncGatewayClient

    _quiet()
    http = httpx.AsyncClient()
    url = f"{root}/compat/chat/completions"

    async def raw() -> str:
        response = await http.post(url, json=BODY, headers=RAW_HEADERS)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    core = AsyncGatewayClient(_gateway(root), api_key=API_KEY)

    async def core_call() -> Any:
        return (await core.chat_completions(BODY)).data["choices"][0]["message"]["content"]

    out = [
        Contender("raw httpx AsyncClient", "raw", None, raw),
        Contender("core AsyncGatewayClient", "core", None, core_call),
    ]
    missing = missing_frameworks()
    if "langchain" not in missing:
        ours, _ = _langchain_models(root)

        async def lc() -> Any:
            return (await ours.ainvoke(PROMPT)).content

        out.append(Contender("LangChain: ours .ainvoke", "adapter", "langchain", lc))
    if "llamaindex" not in missing:
        li, _, messages = _llamaindex_models(root)

        async def lli() -> Any:
            return (await li.achat(messages)).message.content

        out.append(Contender("LlamaIndex: ours .achat", "adapter", "llamaindex", lli))
    if "litellm" not in missing:
        import litellm

        _register_litellm()
        kw = _litellm_kwargs(root)["ours"]

        async def ll() -> Any:
            reply = await litellm.acompletion(messages=MESSAGES, **kw)
            return reply.choices[0].message.content

        out.append(Contender("LiteLLM: ours acompletion", "adapter", "litellm", ll))
    return out
