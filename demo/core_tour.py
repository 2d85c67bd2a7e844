"""The core tour: the ``cf_ai_gateway`` client against the emulator, feature by feature; it ends
with the management client and the ``cf-ai-gateway`` command (``logs``, ``doctor``)."""

from __future__ import annotations

from cf_ai_gateway import (
    NO_RETRY,
    GatewayClient,
    GatewayOptions,
    GatewayResponseInfo,
    ManagementClient,
    RateLimitError,
    UniversalStep,
    cache_key_for,
)
from cf_ai_gateway.cli import main as cli
from rich.table import Table

from demo import DemoContext, section

QUESTION = {
    "model": "openai/gpt-4o-mini",
    "messages": [{"role": "user", "content": "What does an AI gateway do?"}],
}


def _info(ctx: DemoContext, label: str, info: GatewayResponseInfo) -> None:
    parts = [f"cache=[bold]{info.cache_status}[/]", f"log id={info.log_id}"]
    if info.event_id:
        parts.append(f"event id={info.event_id}")
    if info.step is not None:
        parts.append(f"step=[bold]{info.step}[/]")
    if info.provider:
        parts.append(f"answered by {info.provider}/{info.model}")
    ctx.console.print(f"  [dim]{label}:[/] " + ", ".join(parts))


@section("core", "Core client (cf_ai_gateway)")
def core_tour(ctx: DemoContext) -> None:
    console = ctx.console
    options = GatewayOptions(
        cache_ttl=300, metadata={"user": "demo-user", "tour": "core"}, event_id="demo-event-1"
    )
    with GatewayClient(ctx.gateway("demo"), retry=NO_RETRY) as client:
        console.print("[bold]1. A chat completion[/] (cache_ttl=300, metadata, event id)")
        first = client.chat_completions(QUESTION, options=options)
        console.print("  " + first.data["choices"][0]["message"]["content"])
        _info(ctx, "first call", first.info)
        ctx.check(first.info.cache_status == "MISS", "the first call should be a cache MISS")

        console.print("[bold]2. The same request again[/]: answered from the gateway cache")
        second = client.chat_completions(QUESTION, options=options)
        _info(ctx, "second call", second.info)
        ctx.check(second.info.cache_hit, "the second call should be a cache HIT")

        console.print("[bold]3. A streamed answer[/]")
        console.print("  ", end="")
        with client.stream_chat_completions(
            {**QUESTION, "messages": [{"role": "user", "content": "Stream me a greeting"}]},
            options=GatewayOptions(event_id="demo-event-stream"),
        ) as stream:
            for chunk in stream:
                for choice in chunk.get("choices") or []:
                    console.print(choice["delta"].get("content") or "", end="")
        console.print()
        _info(ctx, "stream", stream.info)

        console.print(
            "[bold]4. Universal request[/]: step 0 fails (model 'fail-503'), "
            "the gateway falls back to step 1"
        )
        steps = [
            UniversalStep.chat("openai/fail-503", QUESTION, api_key="sk-demo-not-a-key"),
            UniversalStep.chat("groq/llama-3.1-8b-instant", QUESTION, api_key="gsk-demo"),
        ]
        fallback = client.universal(steps, options=GatewayOptions(event_id="demo-fallback"))
        console.print(f"  answered by model {fallback.data['model']!r}")
        _info(ctx, "universal", fallback.info)
        ctx.check(fallback.info.step == 1, "the universal request should be answered by step 1")

    console.print("[bold]5. A rate-limited gateway[/] ('sliding': 3 requests per 60 s)")
    with GatewayClient(ctx.gateway("sliding"), retry=NO_RETRY) as limited:
        try:
            for i in range(1, 5):
                limited.chat_completions(QUESTION)
                console.print(f"  request {i}: ok")
        except RateLimitError as exc:
            console.print(
                f"  request {i}: [red]RateLimitError[/] {exc} (retry after {exc.retry_after:.0f} s)"
            )
        else:
            ctx.check(False, "the fourth request should have been rate limited")

    console.print("[bold]6. The logs[/] (ManagementClient: typed, paginated)")
    with ManagementClient.from_gateway(ctx.gateway("demo")) as mgmt:
        logs = list(mgmt.list_logs(direction="asc"))
        table = Table(show_lines=False, pad_edge=False)
        for column in (
            "provider/model",
            "status",
            "cache",
            "step",
            "event id",
            "metadata",
            "tokens",
        ):
            table.add_column(column, overflow="fold")
        for log in logs:
            table.add_row(
                f"{log.provider}/{log.model}",
                str(log.status_code),
                log.cache_status,
                "" if log.step is None else str(log.step),
                (log.event_id or "")[:18],
                " ".join(f"{k}={v}" for k, v in log.metadata.items()),
                f"{log.tokens_in}+{log.tokens_out}",
            )
        console.print(table)
        ctx.check(
            any(log.event_id == "demo-event-1" and log.metadata for log in logs),
            "the logs should carry the event id and metadata",
        )

        console.print("[bold]7. Feedback on a response[/], in one line")
        console.print(f"  mgmt.feedback({first.info.log_id!r}, +1)")
        mgmt.feedback(first.info.log_id or "", +1)
        ctx.check(mgmt.get_log(first.info.log_id or "").feedback == 1, "feedback should land")

    console.print("[bold]8. cache_key_for[/]: differently spaced prompts share one cache entry")
    with GatewayClient(ctx.gateway("demo"), retry=NO_RETRY) as client:
        statuses = []
        for prompt in ("What  is an AI gateway? ", "What is an\nAI gateway?"):
            messages = [{"role": "user", "content": prompt}]
            key = cache_key_for(messages, model=QUESTION["model"])
            result = client.chat_completions(
                {**QUESTION, "messages": messages}, options=GatewayOptions(cache_key=key)
            )
            statuses.append(result.info.cache_status)
            console.print(
                f"  {prompt!r}: cache [bold]{result.info.cache_status}[/] ({key[:16]}...)"
            )
        ctx.check(statuses == ["MISS", "HIT"], "the second prompt should hit the first one's entry")

    env = {"CF_AIG_URL": ctx.emulator.gateway_url("demo"), "CF_AIG_TOKEN": ctx.emulator.token}
    console.print("[bold]9. From the terminal[/]: [cyan]cf-ai-gateway logs --failed[/]")
    ctx.check(cli(["logs", "--failed", "-n", "5"], environ=env) == 0, "logs should exit 0")

    secure = {"CF_AIG_URL": ctx.emulator.gateway_url("secure")}
    console.print(
        "[bold]10. cf-ai-gateway doctor[/] on the authenticated gateway, without a token:"
    )
    ctx.check(cli(["doctor"], environ=secure) == 1, "doctor should diagnose the missing token")
    console.print("  ... and with [cyan]CF_AIG_TOKEN[/] set:")
    ctx.check(
        cli(["doctor"], environ={**secure, "CF_AIG_TOKEN": ctx.emulator.token}) == 0,
        "doctor should pass with the token",
    )
