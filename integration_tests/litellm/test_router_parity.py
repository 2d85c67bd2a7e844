"""The Router treats the gateway's errors raised by our provider exactly as it treats the same
errors reaching LiteLLM's built-in ``openai/`` route (``api_base`` on the gateway's OpenAI
path, the gateway token in ``extra_headers``: what users run today).

For each failure (a gateway 401 with code 2009, a gateway 429), each way of calling (sync,
async, sync stream, async stream) and each route, a fresh Router with a primary deployment on
the failing gateway and a fallback deployment on an open one makes three calls in a row; the
outcome of each call and the requests each gateway received must be the same for both routes.
(Measured against LiteLLM, not assumed: today a 401 is not retried, falls back, and puts the
primary in cooldown once ``allowed_fails`` is exceeded; a 429 is retried ``num_retries`` times,
then falls back, and a single-deployment group is never cooled down.)

Live against the in-process emulator (no cassettes: the built-in route's requests are the
``openai`` SDK's, whose shape changes with its version)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import cf_ai_gateway_litellm
import httpx
import litellm
import pytest
from cf_ai_gateway_emulator.testing import EmulatorHandle

pytestmark = [pytest.mark.emulator_only, pytest.mark.usefixtures("no_router_sleeps")]

MESSAGES = [{"role": "user", "content": "Who answers?"}]
ROUTER = {"num_retries": 2, "allowed_fails": 1, "cooldown_time": 30, "retry_after": 0}
MODES = ("sync", "async", "sync-stream", "async-stream")


@pytest.fixture
def requests_per_gateway(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many requests each gateway id received (every HTTP client here is httpx's:
    the core's and the ``openai`` SDK's; LiteLLM's aiohttp transport is switched off)."""
    seen: Counter[str] = Counter()
    sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send

    def count(request: httpx.Request) -> None:
        parts = request.url.path.split("/")
        if len(parts) > 3 and parts[1] == "v1":
            seen[parts[3]] += 1

    def send(self: httpx.Client, request: httpx.Request, **kw: Any) -> httpx.Response:
        count(request)
        return sync_send(self, request, **kw)

    async def asend(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> httpx.Response:
        count(request)
        return await async_send(self, request, **kw)

    monkeypatch.setattr(httpx.Client, "send", send)
    monkeypatch.setattr(httpx.AsyncClient, "send", asend)
    monkeypatch.setattr(litellm, "disable_aiohttp_transport", True)
    return seen


def _deployment(route: str, emulator: EmulatorHandle, gateway_id: str) -> dict[str, Any]:
    root = emulator.gateway_url(gateway_id)
    headers = {"cf-aig-authorization": "Bearer not-the-gateway-token"}
    if route == "openai":
        return {
            "model": "openai/gpt-4o-mini",
            "api_base": f"{root}/openai",
            "api_key": "sk-emulator-not-a-real-key",
            "extra_headers": headers,
        }
    return {
        "model": "cloudflare-ai-gateway/openai/gpt-4o-mini",
        "api_base": root,
        "extra_headers": headers,
    }


async def _call(router: litellm.Router, mode: str) -> str:
    try:
        if mode == "sync":
            router.completion(model="primary", messages=MESSAGES)
        elif mode == "async":
            await router.acompletion(model="primary", messages=MESSAGES)
        elif mode == "sync-stream":
            for _ in router.completion(model="primary", messages=MESSAGES, stream=True):
                pass
        else:
            stream = await router.acompletion(model="primary", messages=MESSAGES, stream=True)
            async for _ in stream:
                pass
    except Exception as exc:  # the outcome is what we compare
        return type(exc).__name__
    return "ok"


async def _scenario(
    route: str,
    failure: str,
    mode: str,
    emulator: EmulatorHandle,
    seen: Counter[str],
) -> list[tuple[str, int, int]]:
    if failure == "2009":
        primary = emulator.create_gateway(authentication=True)
    else:
        primary = emulator.create_gateway(rate_limiting_limit=1, rate_limiting_interval=60)
        open_ = _deployment(route, emulator, primary)
        open_.pop("extra_headers")
        litellm.completion(messages=MESSAGES, **open_)  # the one request allowed
    backup = emulator.create_gateway()
    router = litellm.Router(
        model_list=[
            {"model_name": "primary", "litellm_params": _deployment(route, emulator, primary)},
            {"model_name": "backup", "litellm_params": _deployment(route, emulator, backup)},
        ],
        fallbacks=[{"primary": ["backup"]}],
        **ROUTER,
    )
    outcomes = []
    for _ in range(3):
        seen.clear()
        outcome = await _call(router, mode)
        outcomes.append((outcome, seen[primary], seen[backup]))
    return outcomes


@pytest.fixture
def provider(emulator: EmulatorHandle) -> None:
    cf_ai_gateway_litellm.register(token=emulator.token)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("failure", ["2009", "429"])
@pytest.mark.usefixtures("provider")
async def test_router_treats_gateway_errors_as_it_treats_the_builtin_route(
    emulator: EmulatorHandle,
    requests_per_gateway: Counter[str],
    failure: str,
    mode: str,
) -> None:
    builtin = await _scenario("openai", failure, mode, emulator, requests_per_gateway)
    ours = await _scenario("ours", failure, mode, emulator, requests_per_gateway)
    assert ours == builtin
    assert [outcome for outcome, _, _ in ours] == ["ok", "ok", "ok"]  # the backup answered
    assert ours[0][1] >= 1  # the primary was tried first
