"""Gateway semantics through the ASGI app (no sockets): auth, cache, rate limits, logs,
timeouts, retries, universal fallback, dynamic routes and the REST surface."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from cf_ai_gateway import wire
from cf_ai_gateway.errors import (
    GatewayAuthenticationError,
    GatewayNotFoundError,
    GatewayTimeoutError,
    ModelNotFoundError,
    RateLimitError,
    error_from_response,
)
from cf_ai_gateway_emulator.clock import ManualClock
from emulator_helpers import ACCOUNT, AUTH, CHAT, TOKEN, Emu

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def error_of(r: Any) -> Any:
    return error_from_response(r.status_code, r.headers, r.content)


# --- authentication and gateways -------------------------------------------------------------


async def test_authenticated_gateway(emu: Emu) -> None:
    missing = await emu.compat("secure")
    assert missing.status_code == 401
    assert missing.json()["error"][0]["code"] == wire.CODE_UNAUTHORIZED
    assert isinstance(error_of(missing), GatewayAuthenticationError)
    wrong = await emu.compat("secure", **{wire.H_AUTHORIZATION: "Bearer nope"})
    assert wrong.status_code == 401
    ok = await emu.compat("secure", **{wire.H_AUTHORIZATION: f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    open_ = await emu.compat("demo", **{wire.H_AUTHORIZATION: "Bearer anything"})
    assert open_.status_code == 200  # auth off: the token is ignored


async def test_gateway_scoped_token(emu: Emu) -> None:
    emu.add_gateway("scoped", authentication=True, tokens=["gw-only"])
    assert (
        await emu.compat("scoped", **{wire.H_AUTHORIZATION: "Bearer gw-only"})
    ).status_code == 200


async def test_unknown_gateway_and_default_auto_creation(emu: Emu) -> None:
    r = await emu.compat("nope")
    assert r.status_code == 400
    assert r.json()["error"][0]["code"] == wire.CODE_GATEWAY_NOT_FOUND
    assert isinstance(error_of(r), GatewayNotFoundError)
    assert (await emu.compat("default")).status_code == 401
    assert emu.state.get_gateway(ACCOUNT, "default") is None
    r = await emu.compat("default", **{wire.H_AUTHORIZATION: f"Bearer {TOKEN}"})
    assert r.status_code == 200
    created = emu.state.get_gateway(ACCOUNT, "default")
    assert created is not None
    assert created.authentication
    assert created.collect_logs
    assert created.cache_ttl == 0
    assert not created.rate_limited
    r = await emu.post("/v1/other-account/demo/compat/chat/completions", CHAT)
    assert r.json()["error"][0]["code"] == wire.CODE_GATEWAY_NOT_FOUND


# --- caching ---------------------------------------------------------------------------------


async def test_cache_miss_hit_and_ttl(emu: Emu, clock: ManualClock) -> None:
    headers = {wire.H_CACHE_TTL: "60"}
    first = await emu.compat("demo", **headers)
    second = await emu.compat("demo", **headers)
    assert first.headers[wire.H_CACHE_STATUS] == "MISS"
    assert second.headers[wire.H_CACHE_STATUS] == "HIT"
    assert second.json() == first.json()
    clock.advance(59)
    assert (await emu.compat("demo", **headers)).headers[wire.H_CACHE_STATUS] == "HIT"
    clock.advance(1)  # 60 s after the store: expired
    assert (await emu.compat("demo", **headers)).headers[wire.H_CACHE_STATUS] == "MISS"
    assert (await emu.compat("demo", **headers)).headers[wire.H_CACHE_STATUS] == "HIT"


async def test_cache_hits_log_the_answers_tokens_at_no_cost(emu: Emu) -> None:
    headers = {wire.H_CACHE_TTL: "60"}
    first = await emu.compat("demo", **headers)
    hits = [await emu.compat("demo", **headers) for _ in range(2)]  # the usage is remembered
    quiet = await emu.compat("demo", **headers, **{wire.H_COLLECT_LOG: "false"})
    assert quiet.headers[wire.H_CACHE_STATUS] == "HIT"
    usage = first.json()["usage"]
    logs = {log["id"]: log for log in emu.state.logs(ACCOUNT, "demo")}
    assert len(logs) == 3
    for hit in hits:
        assert hit.headers[wire.H_CACHE_STATUS] == "HIT"
        log = logs[hit.headers[wire.H_LOG_ID]]
        assert log["cached"] is True
        assert (log["tokens_in"], log["tokens_out"]) == (
            usage["prompt_tokens"],
            usage["completion_tokens"],
        )
        assert log["cost"] == 0


async def test_cache_ttl_header_is_clamped_and_gateway_ttl_expires(
    emu: Emu, clock: ManualClock
) -> None:
    short = {wire.H_CACHE_TTL: "5"}  # below the 60 s minimum: clamped to 60
    await emu.compat("demo", **short)
    clock.advance(30)
    assert (await emu.compat("demo", **short)).headers[wire.H_CACHE_STATUS] == "HIT"
    clock.advance(30)
    assert (await emu.compat("demo", **short)).headers[wire.H_CACHE_STATUS] == "MISS"
    await emu.compat("cached")  # gateway cache_ttl = 3600
    clock.advance(3599)
    assert (await emu.compat("cached")).headers[wire.H_CACHE_STATUS] == "HIT"
    clock.advance(1)
    assert (await emu.compat("cached")).headers[wire.H_CACHE_STATUS] == "MISS"


async def test_gateway_cache_ttl_skip_and_metadata(emu: Emu) -> None:
    a = await emu.compat("cached", **{wire.H_METADATA: '{"user": "a"}'})
    b = await emu.compat("cached", **{wire.H_METADATA: '{"user": "b"}'})
    assert (a.headers[wire.H_CACHE_STATUS], b.headers[wire.H_CACHE_STATUS]) == ("MISS", "HIT")
    skipped = await emu.compat("cached", **{wire.H_SKIP_CACHE: "true"})
    assert skipped.headers[wire.H_CACHE_STATUS] == "MISS"
    legacy = await emu.compat("cached", **{wire.H_SKIP_CACHE_LEGACY: "true"})
    assert legacy.headers[wire.H_CACHE_STATUS] == "MISS"
    off = await emu.compat("cached", **{wire.H_CACHE_TTL: "0"})
    assert off.headers[wire.H_CACHE_STATUS] == "MISS"
    other = await emu.compat("cached", {**CHAT, "temperature": 0.5})
    assert other.headers[wire.H_CACHE_STATUS] == "MISS"


async def test_custom_key_caches_five_minutes_with_caching_off(
    emu: Emu, clock: ManualClock
) -> None:
    key = {wire.H_CACHE_KEY: "my-key"}
    assert (await emu.compat("demo", **key)).headers[wire.H_CACHE_STATUS] == "MISS"
    different_body = {**CHAT, "messages": [{"role": "user", "content": "other"}]}
    hit = await emu.compat("demo", different_body, **key)
    assert hit.headers[wire.H_CACHE_STATUS] == "HIT"  # the key alone decides
    clock.advance(wire.CUSTOM_KEY_DEFAULT_TTL_S + 1)
    assert (await emu.compat("demo", **key)).headers[wire.H_CACHE_STATUS] == "MISS"


async def test_provider_keys_never_share_a_cache_entry(emu: Emu) -> None:
    # Cloudflare's caching page: provider, endpoint, model, the provider's authentication
    # header and the full body make the key.
    alice = {"authorization": "Bearer sk-alice-secret"}
    bob = {"authorization": "Bearer sk-bob-secret"}
    assert (await emu.compat("cached", **alice)).headers[wire.H_CACHE_STATUS] == "MISS"
    assert (await emu.compat("cached", **alice)).headers[wire.H_CACHE_STATUS] == "HIT"
    assert (await emu.compat("cached", **bob)).headers[wire.H_CACHE_STATUS] == "MISS"
    assert (await emu.compat("cached")).headers[wire.H_CACHE_STATUS] == "MISS"  # no key at all
    anthropic = {"model": "claude", "max_tokens": 9, "messages": CHAT["messages"]}
    url = f"/v1/{ACCOUNT}/cached/anthropic/v1/messages"
    for key, status in (("sk-ant-a", "MISS"), ("sk-ant-a", "HIT"), ("sk-ant-b", "MISS")):
        r = await emu.post(url, anthropic, **{"x-api-key": key})
        assert r.headers[wire.H_CACHE_STATUS] == status
    other_model = {**CHAT, "model": "openai/gpt-4o"}
    assert (await emu.compat("cached", other_model, **alice)).headers[wire.H_CACHE_STATUS] == "MISS"
    shared = {wire.H_CACHE_KEY: "shared"}  # a custom key still overrides all of it
    await emu.compat("cached", **alice, **shared)
    r = await emu.compat("cached", **bob, **shared)
    assert r.headers[wire.H_CACHE_STATUS] == "HIT"
    dump = "\n".join(emu.state.storage._db.iterdump())
    assert "secret" not in dump  # keys are hashed into the cache key, never stored
    assert "sk-ant-a" not in dump


async def test_streams_are_not_cached(emu: Emu) -> None:
    body = {**CHAT, "stream": True}
    for _ in range(2):
        r = await emu.compat("cached", body)
        assert r.headers[wire.H_CACHE_STATUS] == "MISS"
        assert r.text.endswith("data: [DONE]\n\n")


# --- rate limiting ---------------------------------------------------------------------------


@pytest.mark.parametrize(("technique", "second_ten"), [("fixed", 200), ("sliding", 429)])
async def test_spec_rate_limit_example(
    emu: Emu, clock: ManualClock, technique: str, second_ten: int
) -> None:
    emu.add_gateway(
        "rl", rate_limiting_limit=10, rate_limiting_interval=600, rate_limiting_technique=technique
    )
    clock.set("2025-01-01T12:09:00Z")
    assert [(await emu.compat("rl")).status_code for _ in range(10)] == [200] * 10
    assert (await emu.compat("rl")).status_code == 429  # the 11th at 12:09 fails either way
    clock.set("2025-01-01T12:11:00Z")
    assert [(await emu.compat("rl")).status_code for _ in range(10)] == [second_ten] * 10
    assert (await emu.compat("rl")).status_code == 429


async def test_sliding_window_boundary(emu: Emu, clock: ManualClock) -> None:
    start = clock.now()  # gateway "sliding": 3 per 60 s
    for offset in (0, 10, 20):
        clock.set(start + offset)
        assert (await emu.compat("sliding")).status_code == 200
    clock.set(start + 59.5)
    r = await emu.compat("sliding")
    assert (r.status_code, r.headers["retry-after"]) == (429, "1")
    clock.set(start + 60)  # the request at 0 has left the window: exactly one slot
    assert (await emu.compat("sliding")).status_code == 200
    r = await emu.compat("sliding")
    assert (r.status_code, r.headers["retry-after"]) == (429, "10")


async def test_fixed_window_boundary(emu: Emu, clock: ManualClock) -> None:
    clock.set("2025-01-01T12:00:59Z")  # gateway "limited": 3 per 60 s, buckets on the minute
    assert [(await emu.compat("limited")).status_code for _ in range(4)] == [200] * 3 + [429]
    clock.set("2025-01-01T12:01:00Z")
    assert [(await emu.compat("limited")).status_code for _ in range(4)] == [200] * 3 + [429]


async def test_rate_limit_answer(emu: Emu, clock: ManualClock) -> None:
    clock.set("2025-01-01T12:00:10Z")
    statuses = [(await emu.compat("limited")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    r = await emu.compat("limited")
    assert r.json()["error"][0]["code"] == wire.CODE_RATE_LIMITED
    assert r.headers["retry-after"] == "50"  # the fixed bucket ends at 12:01:00
    err = error_of(r)
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 50
    logs = (await emu.logs("limited"))["result"]
    assert [log["status_code"] for log in logs].count(429) == 2


async def test_sliding_retry_after(emu: Emu, clock: ManualClock) -> None:
    for _ in range(3):
        await emu.compat("sliding")
        clock.advance(10)
    r = await emu.compat("sliding")
    assert r.status_code == 429
    assert r.headers["retry-after"] == "30"  # the oldest request leaves the window in 30 s


# --- logs ------------------------------------------------------------------------------------


async def test_log_fields_metadata_and_event_id(emu: Emu) -> None:
    metadata = {
        "cf.internal": "x",
        "a": 1,
        "obj": {"no": 1},
        "b": "two",
        "c": True,
        "d": 4.5,
        "e": "five",
        "f": "dropped",
    }
    r = await emu.compat(
        "demo", **{wire.H_METADATA: json.dumps(metadata), wire.H_EVENT_ID: "trace-7"}
    )
    assert r.headers[wire.H_EVENT_ID] == "trace-7"
    log_id = r.headers[wire.H_LOG_ID]
    assert UUID7.match(log_id)
    assert log_id == r.headers[wire.H_REQUEST_ID]
    log = (await emu.logs("demo"))["result"][0]
    assert log["id"] == log_id
    assert log["event_id"] == "trace-7"
    assert isinstance(log["metadata"], str)
    assert json.loads(log["metadata"]) == {"a": 1, "b": "two", "c": True, "d": 4.5, "e": "five"}
    assert log["provider"] == "openai"
    assert log["model"] == "gpt-4o-mini"
    assert log["success"] is True
    assert log["status_code"] == 200
    assert log["cached"] is False
    usage = r.json()["usage"]
    assert (log["tokens_in"], log["tokens_out"]) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )
    assert log["cost"] > 0
    no_event = await emu.compat("demo")
    assert no_event.headers[wire.H_EVENT_ID] == no_event.headers[wire.H_REQUEST_ID]


async def test_bad_metadata_is_a_400(emu: Emu) -> None:
    r = await emu.compat("demo", **{wire.H_METADATA: "not json"})
    assert r.status_code == 400
    assert r.json()["error"][0]["code"] == wire.CODE_BAD_REQUEST


async def test_collect_log_overrides(emu: Emu) -> None:
    emu.add_gateway("nolog", collect_logs=False)
    await emu.compat("nolog")
    await emu.compat("nolog", **{wire.H_COLLECT_LOG: "true"})
    assert len(emu.state.logs(ACCOUNT, "nolog")) == 1
    await emu.compat("demo", **{wire.H_COLLECT_LOG: "false"})
    assert emu.state.logs(ACCOUNT, "demo") == []
    r = await emu.compat("demo", **{wire.H_COLLECT_LOG_PAYLOAD: "false"})
    log_id = r.headers[wire.H_LOG_ID]
    base = f"/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/demo/logs/{log_id}"
    assert (await emu.client.get(f"{base}/request", headers=AUTH)).status_code == 404
    both = await emu.compat(
        "demo", **{wire.H_COLLECT_LOG: "false", wire.H_COLLECT_LOG_PAYLOAD: "true"}
    )
    assert both.status_code == 200
    assert len(emu.state.logs(ACCOUNT, "demo")) == 1
    r = await emu.compat("demo")
    body = await emu.client.get(
        base.replace(log_id, r.headers[wire.H_LOG_ID]) + "/request", headers=AUTH
    )
    assert body.json()["result"]["model"] == "gpt-4o-mini"


async def test_custom_cost(emu: Emu) -> None:
    r = await emu.compat(
        "demo", **{wire.H_CUSTOM_COST: '{"per_token_in": 0.5, "per_token_out": 1}'}
    )
    usage = r.json()["usage"]
    log = (await emu.logs("demo"))["result"][0]
    assert log["custom_cost"] is True
    assert log["cost"] == pytest.approx(0.5 * usage["prompt_tokens"] + usage["completion_tokens"])
    await emu.compat("demo", **{wire.H_CUSTOM_COST: '{"total_cost": 0.25}'})
    assert (await emu.logs("demo"))["result"][0]["cost"] == 0.25


@pytest.mark.parametrize(
    ("strategy", "kept"), [("STOP_INSERTING", ["1", "2"]), ("DELETE_OLDEST", ["2", "3"])]
)
async def test_log_management(emu: Emu, strategy: str, kept: list[str]) -> None:
    emu.add_gateway("lm", log_management=2, log_management_strategy=strategy)
    for i in "123":
        await emu.compat("lm", **{wire.H_EVENT_ID: i})
    assert [log["event_id"] for log in emu.state.logs(ACCOUNT, "lm")] == kept


# --- timeouts and retries --------------------------------------------------------------------


async def test_request_timeout_to_first_byte(emu: Emu) -> None:
    r = await emu.compat(
        "demo", {**CHAT, "model": "openai/slow-300"}, **{wire.H_REQUEST_TIMEOUT: "50"}
    )
    assert r.status_code == 504
    assert r.json()["error"][0]["code"] == wire.CODE_REQUEST_TIMEOUT
    assert isinstance(error_of(r), GatewayTimeoutError)
    ok = await emu.compat(
        "demo", {**CHAT, "model": "openai/slow-20"}, **{wire.H_REQUEST_TIMEOUT: "2000"}
    )
    assert ok.status_code == 200


async def test_started_stream_is_not_cut_by_the_timeout(make_emu: Any) -> None:
    emu = make_emu(stream_chunk_delay_ms=30)
    started = time.perf_counter()
    r = await emu.compat("demo", {**CHAT, "stream": True}, **{wire.H_REQUEST_TIMEOUT: "100"})
    elapsed = time.perf_counter() - started
    assert r.status_code == 200
    assert r.text.endswith("data: [DONE]\n\n")
    assert r.text.count("data: ") >= 6
    assert elapsed > 0.1  # the stream outlived the timeout and was not cut


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [
        ("constant", [0.1, 0.1, 0.1, 0.1]),
        ("linear", [0.1, 0.2, 0.3, 0.4]),
        ("exponential", [0.1, 0.2, 0.4, 0.8]),
    ],
)
async def test_retry_backoff_delays(
    emu: Emu, clock: ManualClock, backoff: str, delays: list[float]
) -> None:
    before = clock.now()
    r = await emu.compat(
        "demo",
        **{
            wire.H_MAX_ATTEMPTS: "5",
            wire.H_RETRY_DELAY: "100",
            wire.H_BACKOFF: backoff,
            "x-emulator-fault": "flaky=4",
        },
    )
    assert r.status_code == 200  # the fifth attempt answers
    assert clock.sleeps == pytest.approx(delays)
    assert clock.now() - before == pytest.approx(sum(delays))  # the clock moved, no real wait


@pytest.mark.parametrize(
    ("header", "attempts"), [("1", 1), ("2", 2), ("5", 5), ("9", 5), ("0", 1), (None, 1)]
)
async def test_max_attempts_are_1_to_5(
    emu: Emu, clock: ManualClock, header: str | None, attempts: int
) -> None:
    headers = {wire.H_RETRY_DELAY: "10", "x-emulator-fault": "flaky=9"}
    if header is not None:
        headers[wire.H_MAX_ATTEMPTS] = header
    r = await emu.compat("demo", **headers)
    assert r.status_code == 503  # every attempt fails
    assert len(clock.sleeps) == attempts - 1


async def test_retry_defaults_limits_and_what_is_retried(emu: Emu, clock: ManualClock) -> None:
    # gateway "retrying": 3 attempts, 50 ms, exponential
    assert (await emu.compat("retrying", **{"x-emulator-fault": "flaky=2"})).status_code == 200
    assert clock.sleeps == pytest.approx([0.05, 0.1])
    clock.sleeps.clear()
    assert (await emu.compat("retrying", **{"x-emulator-fault": "flaky=3"})).status_code == 503
    assert clock.sleeps == pytest.approx([0.05, 0.1])
    clock.sleeps.clear()
    headers = {wire.H_MAX_ATTEMPTS: "2", wire.H_RETRY_DELAY: "60000"}
    assert (
        await emu.compat("demo", **headers, **{"x-emulator-fault": "flaky=1:429"})
    ).status_code == 200  # upstream 429 is retried
    assert clock.sleeps == [wire.RETRY_DELAY_MAX_MS / 1000]  # the delay is capped
    clock.sleeps.clear()
    four_xx = await emu.compat("retrying", {**CHAT, "model": "openai/does-not-exist"})
    assert four_xx.status_code == 404
    assert clock.sleeps == []  # 4xx is not retried
    once = await emu.compat("demo", **{"x-emulator-fault": "flaky=1"})
    assert once.status_code == 503  # the gateway default is one attempt
    assert clock.sleeps == []
    bad = await emu.compat("demo", **{wire.H_BACKOFF: "random"})
    assert (bad.status_code, bad.json()["error"][0]["code"]) == (400, wire.CODE_BAD_REQUEST)


async def test_timeout_then_retry_final_attempt_unbounded(emu: Emu) -> None:
    r = await emu.compat(
        "demo",
        {**CHAT, "model": "openai/slow-120"},
        **{wire.H_REQUEST_TIMEOUT: "40", wire.H_MAX_ATTEMPTS: "2"},
    )
    assert r.status_code == 200


# --- universal -------------------------------------------------------------------------------


def step(model: str, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "openai",
        "endpoint": "chat/completions",
        "headers": {"authorization": "Bearer sk-test"},
        "query": {"model": model, "messages": CHAT["messages"]},
        **extra,
    }


async def test_universal_fallback(emu: Emu) -> None:
    r = await emu.post(
        f"/v1/{ACCOUNT}/demo", [step("fail-503"), step("gpt-4o-mini")], **{wire.H_EVENT_ID: "ev"}
    )
    assert r.status_code == 200
    assert r.headers[wire.H_STEP] == "1"
    assert r.json()["model"] == "gpt-4o-mini"
    logs = emu.state.logs(ACCOUNT, "demo")
    assert sorted((log["step"], log["status_code"]) for log in logs) == [(0, 503), (1, 200)]
    assert {log["request_id"] for log in logs} == {r.headers[wire.H_REQUEST_ID]}
    assert r.headers[wire.H_LOG_ID] in {log["id"] for log in logs}


async def test_universal_step_headers_and_config(emu: Emu) -> None:
    steps = [
        step(
            "gpt-4o-mini", headers={"x-emulator-fault": "slow=300"}, config={"requestTimeout": 50}
        ),
        step("gpt-4o-mini", headers={wire.H_CACHE_TTL: 120}),
    ]
    r = await emu.post(f"/v1/{ACCOUNT}/demo", steps)
    assert (r.status_code, r.headers[wire.H_STEP]) == (200, "1")
    again = await emu.post(f"/v1/{ACCOUNT}/demo", steps)
    assert again.headers[wire.H_CACHE_STATUS] == "HIT"


async def test_universal_header_precedence(emu: Emu, clock: ManualClock) -> None:
    # gateway "retrying": 3 attempts, 50 ms, exponential
    outer = {wire.H_MAX_ATTEMPTS: "2", wire.H_RETRY_DELAY: "10"}
    step_wins = step(
        "gpt-4o-mini",
        headers={
            wire.H_MAX_ATTEMPTS: 4,  # a number: sent as "4"
            wire.H_BACKOFF: "linear",
            "x-emulator-fault": "flaky=3",
        },
    )
    r = await emu.post(f"/v1/{ACCOUNT}/retrying", [step_wins], **outer)
    assert r.status_code == 200
    assert clock.sleeps == pytest.approx([0.01, 0.02, 0.03])  # step > outer > gateway
    clock.sleeps.clear()
    outer_wins = step("gpt-4o-mini", headers={"x-emulator-fault": "flaky=3"})
    r = await emu.post(f"/v1/{ACCOUNT}/retrying", [outer_wins], **outer)
    assert r.status_code == 503  # two attempts (outer header), not the gateway's three
    assert clock.sleeps == pytest.approx([0.01])  # outer delay, gateway backoff
    clock.sleeps.clear()
    r = await emu.post(f"/v1/{ACCOUNT}/retrying", [outer_wins])
    assert r.status_code == 503
    assert clock.sleeps == pytest.approx([0.05, 0.1])  # gateway settings
    skip = step("gpt-4o-mini", headers={wire.H_SKIP_CACHE: True})  # a boolean: "true"
    for _ in range(2):
        r = await emu.post(f"/v1/{ACCOUNT}/cached", [skip])
        assert r.headers[wire.H_CACHE_STATUS] == "MISS"
    no_skip = step("gpt-4o-mini", headers={wire.H_SKIP_CACHE: False})
    await emu.post(f"/v1/{ACCOUNT}/cached", [no_skip])
    r = await emu.post(f"/v1/{ACCOUNT}/cached", [no_skip], **{wire.H_SKIP_CACHE: "true"})
    assert r.headers[wire.H_CACHE_STATUS] == "HIT"  # the step's "false" beats the outer "true"


def test_step_header_values_become_strings() -> None:
    from cf_ai_gateway_emulator.surfaces.universal import step_headers

    assert step_headers(
        {"A-Bool": True, "b": False, "c": 3, "d": 1.5, "e": {"x": 1}, "f": "s"}
    ) == {"a-bool": "true", "b": "false", "c": "3", "d": "1.5", "e": '{"x": 1}', "f": "s"}


async def test_universal_exhausted_returns_the_last_error(emu: Emu) -> None:
    r = await emu.post(f"/v1/{ACCOUNT}/demo", [step("fail-503"), step("fail-429")])
    assert r.status_code == 429
    assert r.headers[wire.H_STEP] == "1"
    assert r.json()["error"]["message"].startswith("emulated upstream error 429")
    html = await emu.post(f"/v1/{ACCOUNT}/demo", [step("html-502")])
    assert html.status_code == 502
    assert "<title>" in html.text
    assert (await emu.post(f"/v1/{ACCOUNT}/demo", {"nope": 1})).status_code == 400


# --- dynamic routes --------------------------------------------------------------------------


def route(*elements: dict[str, Any], name: str = "r") -> dict[str, Any]:
    return {
        "name": name,
        "elements": [
            {"id": "start", "type": "start", "outputs": {"next": {"elementId": elements[0]["id"]}}},
            *elements,
            {"id": "end", "type": "end"},
        ],
    }


def model_el(
    el_id: str, model: str, nxt: str = "end", fallback: str | None = None, provider: str = "openai"
) -> dict[str, Any]:
    outputs = {"success": {"elementId": nxt}}
    if fallback:
        outputs["fallback"] = {"elementId": fallback}
    return {
        "id": el_id,
        "type": "model",
        "properties": {"provider": provider, "model": model},
        "outputs": outputs,
    }


async def test_dynamic_conditional_route(emu: Emu) -> None:
    r = await emu.compat(
        "demo", {**CHAT, "model": "dynamic/support"}, **{wire.H_METADATA: '{"plan": "free"}'}
    )
    assert r.status_code == 200
    assert (r.headers[wire.H_PROVIDER], r.headers[wire.H_MODEL]) == ("groq", "llama-3.1-8b-instant")


async def test_dynamic_percentage_is_seeded(make_emu: Any) -> None:
    async def split() -> list[str]:
        emu = make_emu()
        answers = []
        for _ in range(20):
            r = await emu.compat("demo", {**CHAT, "model": "dynamic/support"})
            answers.append(r.headers[wire.H_MODEL])
        return answers

    first, second = await split(), await split()
    assert first == second
    assert set(first) == {"gpt-4o", "llama-3.1-8b-instant"}


async def test_dynamic_model_fallback_and_rate_limit(emu: Emu) -> None:
    emu.add_gateway(
        "dyn",
        routes=[
            route(
                model_el("a", "fail-500", fallback="b"),
                model_el("b", "gpt-4o-mini"),
                name="fallback",
            ),
            route(
                {
                    "id": "rl",
                    "type": "rate",
                    "properties": {
                        "key": "metadata.user",
                        "limit": 1,
                        "window": 60,
                        "technique": "fixed",
                    },
                    "outputs": {
                        "success": {"elementId": "big"},
                        "fallback": {"elementId": "small"},
                    },
                },
                model_el("big", "gpt-4o"),
                model_el("small", "gpt-4o-mini"),
                name="limited",
            ),
            route(
                {
                    "id": "rl",
                    "type": "rate_limit",
                    "properties": {"key": "metadata.user", "limit": 1, "interval": 60},
                    "outputs": {"success": {"elementId": "m"}},
                },
                model_el("m", "gpt-4o"),
                name="strict",
            ),
        ],
    )
    r = await emu.compat("dyn", {**CHAT, "model": "dynamic/fallback"})
    assert (r.status_code, r.headers[wire.H_MODEL]) == (200, "gpt-4o-mini")
    logs = emu.state.logs(ACCOUNT, "dyn")
    assert sorted(log["status_code"] for log in logs) == [200, 500]
    user = {wire.H_METADATA: '{"user": "u1"}'}
    models = [
        (await emu.compat("dyn", {**CHAT, "model": "dynamic/limited"}, **user)).headers[
            wire.H_MODEL
        ]
        for _ in range(2)
    ]
    assert models == ["gpt-4o", "gpt-4o-mini"]
    other = await emu.compat(
        "dyn", {**CHAT, "model": "dynamic/limited"}, **{wire.H_METADATA: '{"user": "u2"}'}
    )
    assert other.headers[wire.H_MODEL] == "gpt-4o"
    assert (await emu.compat("dyn", {**CHAT, "model": "dynamic/strict"}, **user)).status_code == 200
    blocked = await emu.compat("dyn", {**CHAT, "model": "dynamic/strict"}, **user)
    assert blocked.status_code == 429
    missing = await emu.compat("dyn", {**CHAT, "model": "dynamic/missing"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == wire.MODEL_NOT_FOUND_CODE


# --- surfaces --------------------------------------------------------------------------------


OPENAI_COMPATIBLE = (
    "openai",
    "groq",
    "grok",
    "mistral",
    "deepseek",
    "perplexity-ai",
    "cerebras",
    "openrouter",
    "workers-ai",
    "custom-acme",
)


@pytest.mark.parametrize("provider", OPENAI_COMPATIBLE)
@pytest.mark.parametrize("v1", ["", "v1/"], ids=["bare", "v1"])
async def test_openai_compatible_paths_with_or_without_v1(emu: Emu, provider: str, v1: str) -> None:
    # The gateway serves both forms (Cloudflare's pages use both; its JS client sends v1/).
    body = {"model": "llama", "messages": CHAT["messages"]}
    r = await emu.post(f"/v1/{ACCOUNT}/demo/{provider}/{v1}chat/completions", body)
    assert r.status_code == 200, r.text
    assert r.json()["object"] == "chat.completion"
    step = {"provider": provider, "endpoint": f"{v1}chat/completions", "query": body}
    r = await emu.post(f"/v1/{ACCOUNT}/demo", [step])
    assert (r.status_code, r.headers[wire.H_STEP]) == (200, "0"), r.text
    if provider not in ("grok", "perplexity-ai", "deepseek", "cerebras"):  # no embeddings
        emb = {"model": "e", "input": "x"}
        r = await emu.post(f"/v1/{ACCOUNT}/demo/{provider}/{v1}embeddings", emb)
        assert r.json()["object"] == "list", r.text


async def test_provider_native_paths(emu: Emu) -> None:
    body = {"model": "llama", "messages": CHAT["messages"]}
    emb = await emu.post(
        f"/v1/{ACCOUNT}/demo/openai/embeddings",
        {"model": "text-embedding-3-small", "input": ["a", "b"]},
    )
    assert len(emb.json()["data"]) == 2
    assert len(emb.json()["data"][0]["embedding"]) == 64
    assert (
        await emu.post(f"/v1/{ACCOUNT}/demo/openai/v1/v1/chat/completions", body)
    ).status_code == 404  # one optional v1/, not two
    assert (
        await emu.post(f"/v1/{ACCOUNT}/demo/perplexity/chat/completions", body)
    ).status_code == 400  # the unified prefix is not a path segment
    assert (
        await emu.post(f"/v1/{ACCOUNT}/demo/compat/embeddings", {"input": "x"})
    ).status_code == 404


async def test_malformed_and_cut_faults(emu: Emu) -> None:
    r = await emu.compat("demo", {**CHAT, "model": "openai/malformed"})
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)
    cut = await emu.compat(
        "demo", {**CHAT, "model": "openai/gpt-4o-mini"}, **{"x-emulator-fault": "cut=1"}
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.text)


async def test_rest_surface(emu: Emu) -> None:
    url = f"/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions"
    assert (await emu.post(url, CHAT)).status_code == 401
    r = await emu.post(url, CHAT, **AUTH, **{wire.H_GATEWAY_ID: "demo"})
    assert r.status_code == 200
    assert len(emu.state.logs(ACCOUNT, "demo")) == 1
    assert wire.H_PROVIDER not in r.headers  # only dynamic routes and aliases name it
    workers_ai = {**CHAT, "model": "@cf/meta/llama-3.1-8b-instruct"}
    r = await emu.post(url, workers_ai, **AUTH)
    assert r.status_code == 400  # @cf/ models need cf-aig-gateway-id
    assert wire.H_GATEWAY_ID in r.json()["error"]["message"]
    r = await emu.post(url, workers_ai, **AUTH, **{wire.H_GATEWAY_ID: "default"})
    assert r.status_code == 200
    assert emu.state.logs(ACCOUNT, "default")[-1]["provider"] == "workers-ai"
    missing = await emu.post(url, {**CHAT, "model": "nobody/model"}, **AUTH)
    assert missing.status_code == 404
    assert isinstance(error_of(missing), ModelNotFoundError)
