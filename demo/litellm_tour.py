"""The LiteLLM tour: ``cloudflare-ai-gateway/...`` models through LiteLLM's SDK against the
emulator (a completion with its cost and gateway info, a stream chunk by chunk, and a Router
that falls back when the first gateway rate-limits)."""

from __future__ import annotations

import os
import warnings
from typing import Any

from demo import DemoContext, section

GATEWAY_ID = "litellm-tour"
LIMITED_ID = "litellm-tour-limited"
MODEL = "cloudflare-ai-gateway/openai/gpt-4o-mini"


def _info(ctx: DemoContext, label: str, info: Any, extra: str = "") -> None:
    parts = [f"cache=[bold]{info.cache_status}[/]", f"log id={info.log_id}"]
    if info.step is not None:
        parts.append(f"step=[bold]{info.step}[/]")
    ctx.console.print(f"  [dim]{label}:[/] " + ", ".join(parts) + extra)


@section(
    "litellm", "LiteLLM (cf_ai_gateway_litellm)", requires=("cf_ai_gateway_litellm", "litellm")
)
def litellm_tour(ctx: DemoContext) -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # prices from LiteLLM's wheel
    # LiteLLM 1.80's own serializer warnings for its response types (the built-in routes too)
    warnings.filterwarnings("ignore", message="Pydantic serializer warnings")
    import cf_ai_gateway_litellm
    import litellm
    from cf_ai_gateway import GatewayOptions
    from cf_ai_gateway_litellm import response_info

    console = ctx.console
    ctx.emulator.create_gateway(GATEWAY_ID)
    gateway = ctx.gateway(GATEWAY_ID)
    cf_ai_gateway_litellm.register(
        gateway, gateway_options=GatewayOptions(metadata={"tour": "litellm"})
    )
    messages = [{"role": "user", "content": "What does an AI gateway do?"}]

    console.print(
        "[bold]1. litellm.completion[/] on cloudflare-ai-gateway/openai/gpt-4o-mini "
        "(one register() call; no provider key: BYOK)"
    )
    reply = litellm.completion(model=MODEL, messages=messages, max_tokens=30)
    console.print("  " + reply.choices[0].message.content)
    cost = reply._hidden_params["response_cost"]
    _info(
        ctx,
        "response",
        response_info(reply),
        f", model={reply.model}, tokens={reply.usage.total_tokens}, cost=${cost:.8f}",
    )
    ctx.check(cost > 0, "LiteLLM should price the response like openai/gpt-4o-mini")

    console.print("[bold]2. A stream[/], chunk by chunk (the gateway's info is on the first one)")
    stream = litellm.completion(
        model=MODEL,
        messages=[{"role": "user", "content": "Stream a short greeting."}],
        stream=True,
        stream_options={"include_usage": True},
    )
    console.print("  ", end="")
    chunks = []
    for chunk in stream:
        chunks.append(chunk)
        if chunk.choices and chunk.choices[0].delta.content:
            console.print(chunk.choices[0].delta.content, end="")
    console.print()
    first = response_info(chunks[0])
    ctx.check(first is not None, "the first chunk should carry the gateway's info")
    _info(ctx, "stream", first, f", tokens={chunks[-1].usage.total_tokens}")

    console.print(
        "[bold]3. A Router falls back[/] when the primary's gateway answers 429 "
        "(1 request per 60 s, already used)"
    )
    ctx.emulator.create_gateway(LIMITED_ID, rate_limiting_limit=1, rate_limiting_interval=60)
    limited = ctx.gateway(LIMITED_ID).root_url
    litellm.completion(model=MODEL, messages=messages, api_base=limited)
    try:
        litellm.completion(model=MODEL, messages=messages, api_base=limited, max_retries=0)
    except litellm.RateLimitError as err:
        console.print(
            f"  primary alone: [red]{type(err).__name__}[/] gateway_code={err.gateway_code} "
            f"log_id={err.log_id} retry-after={err.response.headers.get('retry-after')}s"
        )
    router = litellm.Router(
        model_list=[
            {"model_name": "primary", "litellm_params": {"model": MODEL, "api_base": limited}},
            {"model_name": "backup", "litellm_params": {"model": MODEL}},
        ],
        fallbacks=[{"primary": ["backup"]}],
        num_retries=0,
    )
    routed = router.completion(model="primary", messages=messages, max_tokens=20)
    console.print("  " + routed.choices[0].message.content)
    answered = response_info(routed)
    _info(ctx, "answered by the backup", answered)
    logged = {entry["id"] for entry in ctx.emulator.logs(GATEWAY_ID)}
    ctx.check(answered.log_id in logged, "the backup's gateway should have logged the answer")
