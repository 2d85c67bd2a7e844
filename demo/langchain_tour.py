"""The LangChain tour: ``ChatCloudflareAIGateway`` and ``CloudflareAIGatewayEmbeddings``
against the emulator (an LCEL chain, a tool call, a cache MISS then HIT, a stream with usage,
server-side fallback, embeddings, a ``ChatOpenAI`` call carried over, and a run found again in
the gateway's logs by its LangChain run id)."""

from __future__ import annotations

from typing import Any

from cf_ai_gateway import GatewayOptions
from rich.table import Table

from demo import DemoContext, section

GATEWAY_ID = "langchain-tour"


def _cf(ctx: DemoContext, label: str, message: Any) -> None:
    meta = message.response_metadata
    cf = meta.get("cf_aig", {})
    parts = [f"cache=[bold]{cf.get('cache_status')}[/]", f"log id={cf.get('log_id')}"]
    if cf.get("step") is not None:
        parts.append(f"step=[bold]{cf['step']}[/]")
    parts.append(f"model={meta.get('model_name')}")
    if message.usage_metadata:
        parts.append(f"tokens={message.usage_metadata['total_tokens']}")
    ctx.console.print(f"  [dim]{label}:[/] " + ", ".join(parts))


@section("langchain", "LangChain (cf_ai_gateway_langchain)", requires=("cf_ai_gateway_langchain",))
def langchain_tour(ctx: DemoContext) -> None:
    from cf_ai_gateway_langchain import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings
    from langchain_core.messages import HumanMessage
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.tools import tool

    console = ctx.console
    ctx.emulator.create_gateway(GATEWAY_ID)
    gateway = ctx.gateway(GATEWAY_ID)
    llm = ChatCloudflareAIGateway(
        model="openai/gpt-4o-mini",
        gateway=gateway,
        gateway_options=GatewayOptions(metadata={"tour": "langchain"}),
    )

    console.print("[bold]1. An LCEL chain[/]: prompt | ChatCloudflareAIGateway | StrOutputParser")
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer in one sentence."), ("human", "What is {thing}?")]
    )
    chain = prompt | llm | StrOutputParser()
    console.print("  " + chain.invoke({"thing": "an AI gateway"}))

    console.print("[bold]2. Tool calling[/]: bind_tools, run the tool, answer")

    @tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return f"It is sunny and 21 C in {city}."

    with_tools = llm.bind_tools([get_weather])
    question = HumanMessage("What is the weather in 'Lisbon'?")
    call = with_tools.invoke([question])
    ctx.check(bool(call.tool_calls), "the model should have called get_weather")
    tool_call = call.tool_calls[0]
    console.print(f"  tool call: [cyan]{tool_call['name']}({tool_call['args']})[/]")
    result = get_weather.invoke(tool_call)
    final = with_tools.invoke([question, call, result])
    console.print(f"  answer: {final.content}")

    console.print("[bold]3. Gateway cache[/]: the same question twice with cache_ttl=3600")
    cached = llm.bind(gateway_options=GatewayOptions(cache_ttl=3600, event_id="lc-tour-cache"))
    first = cached.invoke("Explain caching in one line.")
    _cf(ctx, "first call ", first)
    second = cached.invoke("Explain caching in one line.")
    _cf(ctx, "second call", second)
    ctx.check(first.response_metadata["cf_aig"]["cache_status"] == "MISS", "expected a MISS")
    ctx.check(second.response_metadata["cf_aig"]["cache_status"] == "HIT", "expected a HIT")

    console.print("[bold]4. Streaming[/] (usage arrives on the last chunk)")
    console.print("  ", end="")
    full: Any = None
    for chunk in llm.stream("Stream a short greeting."):
        console.print(chunk.content, end="")
        full = chunk if full is None else full + chunk
    console.print()
    _cf(ctx, "stream", full)

    console.print(
        "[bold]5. Server-side fallback[/]: fallback_models sends ONE universal request; "
        "'openai/gpt-fail' fails, step 1 answers"
    )
    fallback = ChatCloudflareAIGateway(
        model="openai/gpt-fail", gateway=gateway, fallback_models=["openai/gpt-4o-mini"]
    ).invoke("Who answered?")
    _cf(ctx, "fallback", fallback)
    ctx.check(fallback.response_metadata["cf_aig"]["step"] == 1, "step 1 should answer")

    console.print("[bold]6. Embeddings[/] (provider-native path; /compat has none)")
    emb = CloudflareAIGatewayEmbeddings(
        model="openai/text-embedding-3-small", gateway=gateway, dimensions=8
    )
    table = Table(pad_edge=False)
    table.add_column("text")
    table.add_column("vector (first 4 of 8)")
    texts = ["gateway", "cache", "fallback"]
    for text, vector in zip(texts, emb.embed_documents(texts), strict=True):
        table.add_row(text, ", ".join(f"{x:+.3f}" for x in vector[:4]))
    console.print(table)

    console.print(
        "[bold]7. Coming from ChatOpenAI[/]: its spellings carried over (the pasted gateway URL "
        "is parsed, the model keeps OpenAI's name, the key goes only in the credential header)"
    )
    carried = ChatCloudflareAIGateway(
        model="gpt-4o-mini",
        base_url=f"{gateway.root_url}/openai",
        openai_api_key="sk-demo-not-a-real-key",
        cf_aig_token=gateway.token,
        max_completion_tokens=30,
    )
    console.print(f"  model={carried.model!r} surface={carried.surface!r}")
    ctx.check("sk-demo" not in repr(carried), "the key must never show in repr")
    try:
        ChatCloudflareAIGateway(model="gpt-4o-mini", base_url="https://api.openai.com/v1")
    except ValueError as err:
        console.print(f"  [dim]refused:[/] {str(err).splitlines()[1].strip()[:110]}...")
    try:
        ChatCloudflareAIGateway(
            model="openai/gpt-4o-mini", gateway=gateway, anthropic_api_key="sk-demo"
        )
    except ValueError as err:
        console.print(f"  [dim]refused:[/] {str(err).splitlines()[1].strip()[:110]}...")
    _cf(ctx, "carried over", carried.invoke("Say hello."))

    console.print("[bold]8. The LangChain run id is the gateway's event id[/]: find the log")
    import uuid

    from cf_ai_gateway import ManagementClient

    run_id = uuid.uuid4()
    traced = llm.invoke("Which log am I?", config={"run_id": run_id})
    cf = traced.response_metadata["cf_aig"]
    with ManagementClient.from_gateway(gateway) as mgmt:
        log = mgmt.get_log(cf["log_id"])
    console.print(
        f"  run id {run_id} -> log {log.id}: model={log.model}, "
        f"tokens in/out={log.tokens_in}/{log.tokens_out}, event_id={log.event_id}"
    )
    ctx.check(log.event_id == str(run_id), "the log should carry the run id as event id")
