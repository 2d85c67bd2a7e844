"""Scripted answers (``x-emulator-script``, ``[[mock.scripts]]``, ``EmulatorHandle.script``),
the mock's unscripted heuristics (tool calls the prompt asks for, JSON keys the prompt names,
bag-of-words embeddings) and the request log line."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from cf_ai_gateway import GatewayClient, RetryPolicy, wire
from cf_ai_gateway_emulator.app import create_app
from cf_ai_gateway_emulator.config import ConfigError, load_config
from cf_ai_gateway_emulator.mock.scripts import ScriptError, parse_script
from cf_ai_gateway_emulator.mock_llm import chat_completion, embeddings
from cf_ai_gateway_emulator.request_log import request_line
from cf_ai_gateway_emulator.state import EmulatorState
from cf_ai_gateway_emulator.testing import EmulatorHandle, run_emulator, script_header
from emulator_helpers import ACCOUNT, CHAT, Emu

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
CALL = {"tool_call": {"name": "get_weather", "arguments": {"city": "Oslo"}}}


def message(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return r.json()["choices"][0]["message"]  # type: ignore[no-any-return]


# --- scripts -----------------------------------------------------------------------------------


async def test_header_script_drives_an_agent_loop(emu: Emu) -> None:
    headers = script_header(CALL, "It is sunny in Oslo.")
    body = {**CHAT, "tools": [WEATHER]}
    first = message(await emu.compat("demo", body, **headers))
    (call,) = first["tool_calls"]
    assert (call["function"]["name"], json.loads(call["function"]["arguments"])) == (
        "get_weather",
        {"city": "Oslo"},
    )
    history = [
        *CHAT["messages"],
        first,
        {"role": "tool", "tool_call_id": call["id"], "content": "sunny"},
    ]
    second = message(await emu.compat("demo", {**body, "messages": history}, **headers))
    assert second["content"] == "It is sunny in Oslo."
    assert message(await emu.compat("demo", body, **headers))["content"] == "It is sunny in Oslo."
    other = emu.add_gateway("other")  # another gateway starts the sequence afresh
    assert message(await emu.compat(other, body, **headers))["tool_calls"]


async def test_header_script_forms_and_streams(emu: Emu) -> None:
    r = await emu.compat("demo", **{"x-emulator-script": "Plain text answer."})
    assert message(r)["content"] == "Plain text answer."
    r = await emu.compat("demo", {**CHAT, "stream": True}, **script_header("a b c"))
    chunks = [json.loads(line[6:]) for line in r.text.splitlines() if line[6:7] == "{"]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "a b c"
    json_answer = script_header({"json": {"answer": 42}})
    assert json.loads(message(await emu.compat("demo", **json_answer))["content"]) == {"answer": 42}
    named = [script_header("one", "two", name="n"), script_header("x", "y", name="n")]
    assert [message(await emu.compat("demo", **h))["content"] for h in named] == ["one", "two"]
    bad = await emu.compat("demo", **{"x-emulator-script": '[{"tool_call": {}}]'})
    assert bad.status_code == 400
    assert "x-emulator-script" in bad.json()["error"]["message"]


async def test_fault_after_n_successes_and_retries(emu: Emu) -> None:
    headers = script_header({"text": "ok", "times": 2}, {"fault": "fail=503"})
    statuses = [(await emu.compat("demo", **headers)).status_code for _ in range(4)]
    assert statuses == [200, 200, 503, 503]
    # the gateway's own retries take the script's next answer
    recover = script_header({"fault": "fail=503"}, "recovered", name="r")
    r = await emu.compat("demo", **recover, **{wire.H_MAX_ATTEMPTS: "2"})
    assert message(r)["content"] == "recovered"
    assert [log["status_code"] for log in emu.state.logs(ACCOUNT, "demo")][-1] == 200


async def test_native_schemas_render_scripted_tool_calls(emu: Emu) -> None:
    headers = script_header(CALL)
    anthropic = {"model": "claude", "max_tokens": 99, "messages": CHAT["messages"]}
    r = await emu.post(f"/v1/{ACCOUNT}/demo/anthropic/v1/messages", anthropic, **headers)
    assert r.json()["content"] == [
        {
            "type": "tool_use",
            "id": r.json()["content"][0]["id"],
            "name": "get_weather",
            "input": {"city": "Oslo"},
        }
    ]
    gemini = {"contents": [{"parts": [{"text": "hi"}]}]}
    url = f"/v1/{ACCOUNT}/demo/google-ai-studio/v1beta/models/g:generateContent"
    r = await emu.post(url, gemini, **script_header("scripted gemini"))
    assert r.json()["candidates"][0]["content"]["parts"] == [{"text": "scripted gemini"}]


async def test_config_scripts_match_by_model_and_prompt(make_emu: Any) -> None:
    config = load_config(None)
    scripted = {
        "scripts": [
            {"model": "gpt-4o*", "prompt": "weather", "answers": [CALL, "Sunny."]},
            {"provider": "groq", "answers": ["from groq"]},
        ]
    }
    from dataclasses import replace

    from cf_ai_gateway_emulator.config import parse_config

    with_scripts = parse_config({"accounts": {ACCOUNT: {}}, "mock": scripted})
    emu: Emu = make_emu(replace(config, mock=with_scripts.mock))
    weather = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Weather?"}]}
    assert message(await emu.compat("demo", weather))["tool_calls"]
    assert message(await emu.compat("demo", weather))["content"] == "Sunny."
    assert message(await emu.compat("demo"))["content"].startswith("H")  # no "weather"
    groq = {**CHAT, "model": "groq/llama"}
    assert message(await emu.compat("demo", groq))["content"] == "from groq"
    first, second = emu.state.scripts.scripts
    assert (first.calls, second.calls) == (2, 1)


def test_script_and_config_errors_name_the_place() -> None:
    with pytest.raises(ScriptError, match=r"answers\[1\] needs exactly one of"):
        parse_script(["ok", {"text": "a", "json": 1}])
    with pytest.raises(ScriptError, match=r"fault"):
        parse_script([{"fault": "explode"}])
    with pytest.raises(ConfigError, match=r"mock.scripts\[0\]"):
        load_config({"accounts": {"a": {}}, "mock": {"scripts": [{"answers": []}]}})


def test_handle_script_counts_and_a_client_retry_recovers(emulator: EmulatorHandle) -> None:
    gateway = emulator.create_gateway()
    script = emulator.script({"fault": "fail=503"}, "Recovered.", model="retry-me")
    try:
        retry = RetryPolicy(max_retries=2, initial_delay=0.0, max_delay=0.0)
        with GatewayClient(emulator.gateway(gateway), retry=retry) as client:
            body = {"model": "openai/retry-me", "messages": CHAT["messages"]}
            result = client.chat_completions(body)
        assert result.data["choices"][0]["message"]["content"] == "Recovered."
        assert script.calls == 2
        assert [log["status_code"] for log in emulator.logs(gateway)] == [503, 200]
    finally:
        emulator.remove_script(script)


# --- unscripted heuristics ----------------------------------------------------------------------

CALCULATOR = [
    {
        "type": "function",
        "function": {
            "name": "multiply",
            "description": "Multiply a and b.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Adds a and b.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            },
        },
    },
]


def calls(prompt: str, **body: Any) -> list[tuple[str, dict[str, Any]]]:
    answer = chat_completion(
        {"messages": [{"role": "user", "content": prompt}], "tools": CALCULATOR, **body},
        model="m",
        created=0,
    )
    tool_calls = answer["choices"][0]["message"].get("tool_calls") or []
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in tool_calls]


def test_tools_are_called_when_the_prompt_asks() -> None:
    # LangChain's tool-calling tutorial
    assert calls("What is 3 * 12? Also, what is 11 + 49?") == [
        ("multiply", {"a": 3, "b": 12}),
        ("add", {"a": 11, "b": 49}),
    ]
    assert calls("What is 3 * 12? Also, what is 11 + 49?", parallel_tool_calls=False) == [
        ("multiply", {"a": 3, "b": 12})
    ]
    # LlamaIndex's agent tutorials
    assert calls("What is 20+(2*4)? Calculate step by step.") == [("multiply", {"a": 2, "b": 4})]
    assert calls("add 121 and 2") == [("add", {"a": 121, "b": 2})]
    assert calls("Hello there") == []
    weather = chat_completion(
        {
            "messages": [{"role": "user", "content": "What is the weather in San Francisco, CA?"}],
            "tools": [WEATHER],
        },
        model="m",
        created=0,
    )
    (call,) = weather["choices"][0]["message"]["tool_calls"]
    assert json.loads(call["function"]["arguments"]) == {"city": "San Francisco, CA"}


def test_two_tool_results_are_both_answered() -> None:
    messages = [
        {"role": "user", "content": "What is 3 * 12? Also, what is 11 + 49?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "multiply", "arguments": "{}"},
                },
                {"id": "c2", "type": "function", "function": {"name": "add", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "36"},
        {"role": "tool", "tool_call_id": "c2", "content": "60"},
    ]
    answer = chat_completion({"messages": messages, "tools": CALCULATOR}, model="m", created=0)
    assert answer["choices"][0]["message"]["content"] == (
        "The result of multiply is 36. The result of add is 60."
    )


@pytest.mark.parametrize(
    ("prompt", "keys"),
    [
        (
            'Reply in JSON with an "answer" key and a "followup_question" key.',
            ["answer", "followup_question"],
        ),
        ("Return a JSON object with keys name and age", ["name", "age"]),
        ("Answer in JSON with `setup` and `punchline`", ["setup", "punchline"]),
        ("Give JSON with fields title, year, and director", ["title", "year", "director"]),
    ],
)
def test_json_object_uses_the_keys_the_prompt_names(prompt: str, keys: list[str]) -> None:
    answer = chat_completion(
        {
            "messages": [{"role": "user", "content": prompt}],
            "response_format": {"type": "json_object"},
        },
        model="m",
        created=0,
    )
    assert list(json.loads(answer["choices"][0]["message"]["content"])) == keys


def test_embeddings_rank_documents_that_share_words_first() -> None:
    docs = [
        "Cats purr and chase mice.",
        "Paris is the capital of France.",
        "Python is a programming language.",
        "The Eiffel Tower is in Paris.",
    ]
    query = "What is the capital of France?"
    data = embeddings({"input": [query, *docs]}, model="e", default_dimensions=64)["data"]
    q, *vectors = [d["embedding"] for d in data]
    scores = [sum(a * b for a, b in zip(q, v, strict=True)) for v in vectors]
    ranked = [doc for _, doc in sorted(zip(scores, docs, strict=True), reverse=True)]
    assert ranked[0] == "Paris is the capital of France."
    assert all(abs(math.fsum(x * x for x in v) - 1) < 1e-6 for v in vectors)
    again = embeddings({"input": docs[0]}, model="e", default_dimensions=64)["data"][0]
    assert again["embedding"] == vectors[0]  # deterministic


# --- the request log line -----------------------------------------------------------------------


async def test_one_log_line_per_request(capsys: pytest.CaptureFixture[str]) -> None:
    import httpx

    app = create_app(state=EmulatorState(None), log_requests=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://emu.test"
    ) as client:
        r = await client.post(f"/v1/{ACCOUNT}/demo/compat/chat/completions", json=CHAT)
        await client.get("/healthz")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    first = lines[0]
    assert f"POST /v1/{ACCOUNT}/demo/compat/chat/completions gateway=demo 200 cache=MISS" in first
    assert first.endswith(f"log={r.headers[wire.H_LOG_ID]}")
    assert "GET /healthz gateway=- 200 cache=- " in lines[1]


def test_request_lines_are_off_by_default_in_tests(capfd: pytest.CaptureFixture[str]) -> None:
    with run_emulator() as emu:
        import httpx

        httpx.post(f"{emu.compat_base_url()}/chat/completions", json=CHAT)
    assert "POST" not in capfd.readouterr().err
    line = request_line("POST", "/x", "demo", 200, None, 0.0021, None)
    assert line.endswith("POST /x gateway=demo 200 cache=- 2.1ms log=-")
