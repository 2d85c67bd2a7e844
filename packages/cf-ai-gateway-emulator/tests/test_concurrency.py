"""The core's async client under concurrency, against the emulator over a real socket: 500
calls and 100 streams at once, each scripted to a distinct answer, and each must come back to
the call that asked for it (no crossed answers, no lost log, no connection left active)."""

from __future__ import annotations

import asyncio
import time

from cf_ai_gateway import NO_RETRY, AsyncGatewayClient
from cf_ai_gateway.testing import active_connections
from cf_ai_gateway_emulator.testing import EmulatorHandle, script_header

CALLS = 500
STREAMS = 100


def body(i: int) -> dict[str, object]:
    return {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": f"request {i}"}],
    }


async def test_500_calls_and_100_streams_get_their_own_answers(emulator: EmulatorHandle) -> None:
    gateway_id = emulator.create_gateway()
    started = time.monotonic()
    async with AsyncGatewayClient(emulator.gateway(gateway_id), retry=NO_RETRY) as client:

        async def call(i: int) -> tuple[int, str, str]:
            result = await client.chat_completions(
                body(i), extra_headers=script_header(f"answer {i}", name=f"call-{i}")
            )
            content = result.data["choices"][0]["message"]["content"]
            return i, content, result.info.log_id or ""

        async def stream(i: int) -> tuple[int, str, str]:
            headers = script_header(f"streamed answer {i} in pieces", name=f"stream-{i}")
            pieces = []
            async with await client.stream_chat_completions(
                body(CALLS + i), extra_headers=headers
            ) as chunks:
                async for chunk in chunks:
                    for choice in chunk.get("choices") or []:
                        pieces.append(choice["delta"].get("content") or "")
                return CALLS + i, "".join(pieces), chunks.info.log_id or ""

        results = await asyncio.gather(
            *(call(i) for i in range(CALLS)), *(stream(i) for i in range(STREAMS))
        )
        active = active_connections(client)
    elapsed = time.monotonic() - started

    for i, content, _ in results:
        expected = f"answer {i}" if i < CALLS else f"streamed answer {i - CALLS} in pieces"
        assert content == expected
    log_ids = [log_id for _, _, log_id in results]
    assert len(set(log_ids)) == CALLS + STREAMS
    assert {log["id"] for log in emulator.logs(gateway_id)} == set(log_ids)
    assert active == 0
    assert elapsed < 60
