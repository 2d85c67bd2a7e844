"""The LlamaIndex tour: ``CloudflareAIGatewayLLM`` and ``CloudflareAIGatewayEmbedding`` against the
emulator (a RAG query over a ``VectorStoreIndex``, a ``FunctionAgent`` tool step, a cache MISS
then HIT, and the gateway's log for a call)."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from cf_ai_gateway import GatewayOptions, ManagementClient

from demo import DemoContext, section

GATEWAY_ID = "llamaindex-tour"


def _cf(ctx: DemoContext, label: str, response: Any) -> None:
    """One line with what the gateway said about ``response``."""
    extra = response.additional_kwargs
    shown = {
        "cache": extra["cf_aig"].get("cache_status"),
        "log id": extra["cf_aig"].get("log_id"),
        "model": extra.get("model"),
        "tokens": extra.get("total_tokens"),
    }
    ctx.console.print(
        f"  [dim]{label}:[/] " + ", ".join(f"{k}={v}" for k, v in shown.items() if v is not None)
    )


@section(
    "llamaindex", "LlamaIndex (cf_ai_gateway_llamaindex)", requires=("cf_ai_gateway_llamaindex",)
)
def llamaindex_tour(ctx: DemoContext) -> None:
    from cf_ai_gateway_llamaindex import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool

    gateway = ctx.gateway(ctx.emulator.create_gateway(GATEWAY_ID))
    llm = CloudflareAIGatewayLLM(
        model="openai/gpt-4o-mini", gateway=gateway, gateway_options={"metadata": {"tour": "li"}}
    )
    console = ctx.console
    saved = Settings._llm, Settings._embed_model
    try:
        console.print(
            "[bold]1. RAG[/]: VectorStoreIndex with CloudflareAIGatewayEmbedding, "
            "a query engine with CloudflareAIGatewayLLM"
        )
        Settings.llm = llm
        Settings.embed_model = CloudflareAIGatewayEmbedding(
            model_name="openai/text-embedding-3-small", gateway=gateway, dimensions=16
        )
        docs = [
            "Cloudflare AI Gateway caches identical requests and logs every call.",
            "Universal requests let the gateway fall back to another model server-side.",
            "Rate limits protect a gateway from bursts of traffic.",
        ]
        index = VectorStoreIndex.from_documents([Document(text=t) for t in docs])
        answer = index.as_query_engine(similarity_top_k=2).query("What does the gateway cache?")
        console.print(f"  answer: {answer}")
        console.print(f"  from {len(answer.source_nodes)} retrieved chunks")
        ctx.check(len(answer.source_nodes) == 2, "the query engine should retrieve two chunks")
    finally:
        Settings._llm, Settings._embed_model = saved

    console.print("[bold]2. An agent step[/]: FunctionAgent calls a tool through the gateway")

    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return f"It is sunny and 21 C in {city}."

    async def ask() -> Any:  # a workflow runs inside an event loop
        agent = FunctionAgent(tools=[FunctionTool.from_defaults(get_weather)], llm=llm)
        return await agent.run(user_msg="What is the weather in 'Lisbon'?")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # llama-index-workflows' own
        result = asyncio.run(ask())
    ctx.check(bool(result.tool_calls), "the agent should have called get_weather")
    for call in result.tool_calls:
        console.print(f"  tool call: [cyan]{call.tool_name}({call.tool_kwargs})[/]")
    console.print(f"  answer: {result}")

    console.print("[bold]3. Gateway cache[/]: the same question twice with cache_ttl=3600")
    options = GatewayOptions(cache_ttl=3600, event_id="li-tour-cache")
    first = llm.complete("Explain caching in one line.", gateway_options=options)
    _cf(ctx, "first call ", first)
    second = llm.complete("Explain caching in one line.", gateway_options=options)
    _cf(ctx, "second call", second)
    ctx.check(first.additional_kwargs["cf_aig"]["cache_status"] == "MISS", "expected a MISS")
    ctx.check(second.additional_kwargs["cf_aig"]["cache_status"] == "HIT", "expected a HIT")

    console.print("[bold]4. The log[/] of the first call, read back with the management client")
    with ManagementClient.from_gateway(gateway) as management:
        log = management.get_log(first.raw.info.log_id or "")
    console.print(
        f"  log {log.id}: model={log.model}, cached={log.cached}, metadata={dict(log.metadata)}"
    )
    ctx.check(dict(log.metadata) == {"tour": "li"}, "the log should carry the tour's metadata")
