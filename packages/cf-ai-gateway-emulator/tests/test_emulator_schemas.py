"""The mock's native wire schemas through the ASGI app (no SDKs: their own tests are in
integration_tests/clients): Anthropic Messages, Google AI Studio, Workers AI's own schema,
OpenAI Responses; the REST API's endpoints, model aliases, dynamic routes and Workers AI
models; universal steps on the unified endpoint; and usage in the logs for every schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cf_ai_gateway import wire
from cf_ai_gateway.errors import ModelNotFoundError, error_from_response
from cf_ai_gateway_emulator.mock.neutral import (
    ChatAnswer,
    ChatChoice,
    ChatRequest,
    Message,
    ToolCall,
    Usage,
)
from cf_ai_gateway_emulator.mock.schemas.anthropic_messages import ANTHROPIC_MESSAGES
from cf_ai_gateway_emulator.mock.schemas.google_ai_studio import GOOGLE_GENERATE
from cf_ai_gateway_emulator.mock.schemas.openai_chat import OPENAI_CHAT
from cf_ai_gateway_emulator.mock.schemas.openai_responses import OPENAI_RESPONSES
from cf_ai_gateway_emulator.mock.schemas.sse import data_fields
from cf_ai_gateway_emulator.mock.schemas.workers_ai import WORKERS_AI_TEXT
from emulator_helpers import ACCOUNT, AUTH, CHAT, Emu

GW = f"/v1/{ACCOUNT}/demo"
REST = f"/client/v4/accounts/{ACCOUNT}/ai"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "The city"}},
        "required": ["location"],
    },
}


def events(text: str) -> list[dict[str, Any]]:
    return [json.loads(d) for d in data_fields(text.encode()) if d.strip() != "[DONE]"]


def event_names(text: str) -> list[str]:
    return [line[7:] for line in text.splitlines() if line.startswith("event: ")]


# --- every schema reads back the usage it renders ----------------------------------------------

SCHEMAS = [OPENAI_CHAT, ANTHROPIC_MESSAGES, GOOGLE_GENERATE, WORKERS_AI_TEXT, OPENAI_RESPONSES]


@pytest.mark.parametrize("schema", SCHEMAS, ids=[s.name for s in SCHEMAS])
@pytest.mark.parametrize("tool_call", [False, True], ids=["text", "tool"])
def test_usage_round_trips_through_every_schema(schema: Any, tool_call: bool) -> None:
    request = ChatRequest(
        model="m",
        raw={"stream_options": {"include_usage": True}},
        messages=(Message("user", "hi"),),
    )
    choice = (
        ChatChoice(None, (ToolCall("f", {"a": 1}),), "tool_call")
        if tool_call
        else ChatChoice("Hello there", (), "stop")
    )
    answer = ChatAnswer((choice,), Usage(7, 3))
    body = json.dumps(schema.render_answer(request, answer, created=1)).encode()
    assert schema.read_usage(body, streamed=False) == (7, 3)
    stream = schema.render_stream(request, answer, created=1)
    content = b"".join(stream.chunks) + stream.end
    assert schema.read_usage(content, streamed=True) == (7, 3)


# --- Anthropic Messages ------------------------------------------------------------------------


def anthropic(**body: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Hello Claude"}],
        **body,
    }


async def test_anthropic_messages_json_stream_and_logs(emu: Emu) -> None:
    headers = {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}
    r = await emu.post(f"{GW}/anthropic/v1/messages", anthropic(system="Be brief."), **headers)
    assert r.status_code == 200, r.text
    data = r.json()
    assert (data["type"], data["role"], data["stop_reason"]) == ("message", "assistant", "end_turn")
    assert data["id"].startswith("msg_")
    assert data["content"][0]["text"].startswith("H")
    s = await emu.post(f"{GW}/anthropic/v1/messages", anthropic(stream=True), **headers)
    names = event_names(s.text)
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    evs = events(s.text)
    text = "".join(e["delta"]["text"] for e in evs if e["type"] == "content_block_delta")
    assert text == r.json()["content"][0]["text"]
    start, delta = evs[0], next(e for e in evs if e["type"] == "message_delta")
    logs = emu.state.logs(ACCOUNT, "demo")
    assert [(log["path"], log["model_type"]) for log in logs] == [("v1/messages", "chat")] * 2
    assert (logs[1]["tokens_in"], logs[1]["tokens_out"]) == (
        start["message"]["usage"]["input_tokens"],
        delta["usage"]["output_tokens"],
    )
    assert logs[1]["tokens_out"] == data["usage"]["output_tokens"]


async def test_anthropic_tool_use_and_tool_result(emu: Emu) -> None:
    ask = anthropic(
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "What is the weather like in Paris?"}],
    )
    r = await emu.post(f"{GW}/anthropic/v1/messages", ask)
    data = r.json()
    assert data["stop_reason"] == "tool_use"
    (use,) = data["content"]
    assert (use["type"], use["name"], use["input"]) == (
        "tool_use",
        "get_weather",
        {"location": "Paris"},
    )
    result = {"type": "tool_result", "tool_use_id": use["id"], "content": "15 degrees, sunny"}
    follow = {
        **ask,
        "messages": [
            *ask["messages"],
            {"role": "assistant", "content": data["content"]},
            {"role": "user", "content": [result]},
        ],
    }
    r = await emu.post(f"{GW}/anthropic/v1/messages", follow)
    assert r.json()["content"][0]["text"] == "The result of get_weather is 15 degrees, sunny."
    s = await emu.post(f"{GW}/anthropic/v1/messages", {**ask, "stream": True})
    evs = events(s.text)
    block = next(e for e in evs if e["type"] == "content_block_start")["content_block"]
    assert (block["type"], block["name"]) == ("tool_use", "get_weather")
    partial = "".join(e["delta"]["partial_json"] for e in evs if e["type"] == "content_block_delta")
    assert json.loads(partial) == {"location": "Paris"}


async def test_anthropic_stop_sequences(emu: Emu) -> None:
    url = f"{GW}/anthropic/v1/messages"
    r = await emu.post(url, anthropic(stop_sequences=["nowhere", "You", "Hello"]))
    data = r.json()
    # the first one in the text ends it, whatever the order of the list
    assert (data["stop_reason"], data["stop_sequence"]) == ("stop_sequence", "Hello")
    assert data["content"][0]["text"] == ""
    whole = (await emu.post(url, anthropic())).json()["content"][0]["text"]
    r = await emu.post(url, anthropic(stop_sequences=["You"]))
    assert r.json()["content"][0]["text"] == whole[: whole.index("You")]
    r = await emu.post(url, anthropic(stop_sequences=["You"], max_tokens=2))
    assert (r.json()["stop_reason"], r.json()["stop_sequence"]) == ("max_tokens", None)
    r = await emu.post(url, anthropic(stop_sequences=["nowhere"]))
    assert (r.json()["stop_reason"], r.json()["stop_sequence"]) == ("end_turn", None)


async def test_anthropic_count_tokens_and_errors(emu: Emu) -> None:
    r = await emu.post(f"{GW}/anthropic/v1/messages/count_tokens", anthropic())
    assert r.json() == {"input_tokens": 5}
    r = await emu.post(f"{GW}/anthropic/v1/messages", anthropic(max_tokens=None))
    assert r.status_code == 400
    assert r.json()["type"] == "error"
    assert r.json()["error"]["type"] == "invalid_request_error"
    r = await emu.post(f"{GW}/anthropic/v1/messages", anthropic(model="claude-does-not-exist"))
    assert (r.status_code, r.json()["error"]["type"]) == (404, "not_found_error")
    assert isinstance(error_from_response(404, {}, r.content), ModelNotFoundError)
    r = await emu.post(
        f"{GW}/anthropic/v1/messages", anthropic(), **{"x-emulator-fault": "fail=529"}
    )
    assert (r.status_code, r.json()["error"]["type"]) == (529, "overloaded_error")
    r = await emu.post(f"{GW}/anthropic/v1/nope", anthropic())
    assert (r.status_code, r.json()["type"]) == (404, "error")  # Anthropic-shaped, no binding


# --- Google AI Studio --------------------------------------------------------------------------

GEMINI = {"contents": [{"role": "user", "parts": [{"text": "Hello Gemini"}]}]}


@pytest.mark.parametrize("version", ["v1beta", "v1"])
async def test_google_generate_stream_and_embed(emu: Emu, version: str) -> None:
    base = f"{GW}/google-ai-studio/{version}/models"
    r = await emu.post(f"{base}/gemini-2.5-flash:generateContent", GEMINI)
    assert r.status_code == 200, r.text
    data = r.json()
    (candidate,) = data["candidates"]
    assert candidate["finishReason"] == "STOP"
    text = candidate["content"]["parts"][0]["text"]
    assert data["modelVersion"] == "gemini-2.5-flash"  # the model comes from the URL
    s = await emu.client.post(
        f"{base}/gemini-2.5-flash:streamGenerateContent", params={"alt": "sse"}, json=GEMINI
    )
    assert s.headers["content-type"].startswith("text/event-stream")
    chunks = events(s.text)
    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks) == text
    assert chunks[-1]["usageMetadata"] == data["usageMetadata"]
    one = {"content": {"parts": [{"text": "a b"}]}, "outputDimensionality": 8}
    r = await emu.post(f"{base}/text-embedding-004:embedContent", one)
    assert len(r.json()["embedding"]["values"]) == 8
    batch = {"requests": [one, {"content": {"parts": [{"text": "c"}]}}]}
    r = await emu.post(f"{base}/text-embedding-004:batchEmbedContents", batch)
    assert [len(e["values"]) for e in r.json()["embeddings"]] == [8, 8]
    logs = emu.state.logs(ACCOUNT, "demo")
    assert [log["model"] for log in logs] == ["gemini-2.5-flash"] * 2 + ["text-embedding-004"] * 2
    assert [log["model_type"] for log in logs] == ["chat", "chat", "embeddings", "embeddings"]
    assert (logs[1]["tokens_in"], logs[1]["tokens_out"]) == (
        data["usageMetadata"]["promptTokenCount"],
        data["usageMetadata"]["candidatesTokenCount"],
    )


async def test_google_count_tokens_counts_as_generate_does(emu: Emu) -> None:
    base = f"{GW}/google-ai-studio/v1beta/models/gemini-2.5-flash"
    generated = (await emu.post(f"{base}:generateContent", GEMINI)).json()
    prompt_tokens = generated["usageMetadata"]["promptTokenCount"]
    r = await emu.post(f"{base}:countTokens", GEMINI)
    assert r.json() == {
        "totalTokens": prompt_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
    }
    system = {"systemInstruction": {"parts": [{"text": "Be brief and kind"}]}}
    whole = {"generateContentRequest": {"model": "models/gemini-2.5-flash", **GEMINI, **system}}
    r = await emu.post(f"{base}:countTokens", whole)
    assert r.json()["totalTokens"] > prompt_tokens  # the system instruction counts too
    r = await emu.post(f"{base}:countTokens", {"contents": []})
    assert (r.status_code, r.json()["error"]["status"]) == (400, "INVALID_ARGUMENT")
    logs = emu.state.logs(ACCOUNT, "demo")
    counts = [log for log in logs if log["path"].endswith(":countTokens")]
    assert [log["tokens_out"] for log in counts] == [0, 0, 0]  # counting uses no tokens


async def test_google_function_calls_json_and_errors(emu: Emu) -> None:
    tools = [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}},
                }
            ]
        }
    ]
    ask = {"contents": [{"role": "user", "parts": [{"text": "What is the weather in Paris?"}]}]}
    url = f"{GW}/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent"
    r = await emu.post(url, {**ask, "tools": tools})
    (part,) = r.json()["candidates"][0]["content"]["parts"]
    assert part == {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}
    answered = {
        "role": "user",
        "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp": 15}}}],
    }
    r = await emu.post(
        url,
        {
            "contents": [*ask["contents"], r.json()["candidates"][0]["content"], answered],
            "tools": tools,
        },
    )
    text = r.json()["candidates"][0]["content"]["parts"][0]["text"]
    assert text.startswith("The result of get_weather is")
    config = {
        "responseMimeType": "application/json",
        "responseSchema": {
            "type": "OBJECT",
            "properties": {"n": {"type": "INTEGER"}},
            "required": ["n"],
        },
    }
    r = await emu.post(url, {**ask, "generationConfig": config})
    assert json.loads(r.json()["candidates"][0]["content"]["parts"][0]["text"]).keys() == {"n"}
    r = await emu.post(url, {"contents": []})
    assert r.json()["error"]["status"] == "INVALID_ARGUMENT"
    missing = url.replace("gemini-2.5-flash", "gemini-not-found")
    r = await emu.post(missing, ask)
    assert (r.status_code, r.json()["error"]["status"]) == (404, "NOT_FOUND")


# --- Workers AI's own schema --------------------------------------------------------------------


async def test_workers_ai_envelope_stream_and_embeddings(emu: Emu) -> None:
    url = f"{GW}/workers-ai/@cf/meta/llama-3.1-8b-instruct"
    r = await emu.post(url, {"prompt": "What is Cloudflare?"})
    data = r.json()
    assert (data["success"], data["errors"], data["messages"]) == (True, [], [])
    answer = data["result"]["response"]
    assert answer.startswith("H")
    s = await emu.post(url, {"prompt": "What is Cloudflare?", "stream": True})
    assert s.text.endswith("data: [DONE]\n\n")
    chunks = events(s.text)
    assert "".join(c["response"] for c in chunks) == answer
    assert chunks[-1]["usage"] == data["result"]["usage"]
    tool = {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    ask = {"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": [tool]}
    r = await emu.post(url, ask)
    assert r.json()["result"]["tool_calls"] == [
        {"name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    r = await emu.post(f"{GW}/workers-ai/@cf/baai/bge-base-en-v1.5", {"text": ["a", "b"]})
    assert r.json()["result"]["shape"] == [2, 768]
    r = await emu.post(url, {"nothing": 1})
    assert (r.status_code, r.json()["success"]) == (400, False)
    logs = emu.state.logs(ACCOUNT, "demo")
    assert logs[0]["model"] == "@cf/meta/llama-3.1-8b-instruct"
    assert (logs[0]["tokens_in"], logs[0]["tokens_out"]) == (
        data["result"]["usage"]["prompt_tokens"],
        data["result"]["usage"]["completion_tokens"],
    )


def docs_step(endpoint: str, **config: Any) -> dict[str, Any]:
    """A step of Cloudflare's universal, timeout and retry examples (request handling page)."""
    messages = [
        {"role": "system", "content": "You are a friendly assistant"},
        {"role": "user", "content": "What is Cloudflare?"},
    ]
    step: dict[str, Any] = {
        "provider": "workers-ai",
        "endpoint": endpoint,
        "headers": {"Authorization": "Bearer cf-token", "Content-Type": "application/json"},
        "query": {"messages": messages},
    }
    return {**step, "config": config} if config else step


@pytest.mark.parametrize(
    "steps",
    [
        [
            docs_step("@cf/meta/llama-3.1-8b-instruct"),
            {
                "provider": "openai",
                "endpoint": "chat/completions",
                "headers": {"Authorization": "Bearer sk", "cf-aig-cache-ttl": "0"},
                "query": {
                    "model": "gpt-4o-mini",
                    "stream": True,
                    "messages": [{"role": "user", "content": "What is Cloudflare?"}],
                },
            },
        ],
        [
            docs_step("@cf/meta/llama-3.1-8b-instruct", requestTimeout=1000),
            docs_step("@cf/meta/llama-3.1-8b-instruct-fast", requestTimeout=3000),
        ],
        [
            docs_step(
                "@cf/meta/llama-3.1-8b-instruct", maxAttempts=2, retryDelay=1000, backoff="constant"
            ),
            docs_step(
                "@cf/meta/llama-3.1-8b-instruct-fast",
                maxAttempts=4,
                retryDelay=1000,
                backoff="exponential",
            ),
        ],
    ],
    ids=["universal", "timeouts", "retries"],
)
async def test_cloudflare_docs_examples_answer_at_step_0(emu: Emu, steps: Any) -> None:
    r = await emu.post(GW, steps, **{wire.H_CACHE_TTL: "3600"})
    assert (r.status_code, r.headers[wire.H_STEP]) == (200, "0"), r.text
    assert r.json()["result"]["response"]
    again = await emu.post(GW, steps, **{wire.H_CACHE_TTL: "3600"})
    assert again.headers[wire.H_CACHE_STATUS] == "HIT"


async def test_rest_run_workers_ai(emu: Emu) -> None:
    body = {"messages": [{"role": "user", "content": "What is Cloudflare?"}]}
    r = await emu.post(f"{REST}/run/@cf/moonshotai/kimi-k2.6", body, **AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["result"]["response"]
    envelope = {"model": "@cf/moonshotai/kimi-k2.6", "input": body}
    assert (await emu.post(f"{REST}/run", envelope, **AUTH)).status_code == 400  # no gateway id
    r = await emu.post(f"{REST}/run", envelope, **AUTH, **{wire.H_GATEWAY_ID: "demo"})
    assert r.json()["result"]["response"]
    assert emu.state.logs(ACCOUNT, "demo")[-1]["model"] == "@cf/moonshotai/kimi-k2.6"


# --- OpenAI Responses ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["openai/responses", "openai/v1/responses"])
async def test_responses_json_stream_and_function_calls(emu: Emu, path: str) -> None:
    body = {"model": "gpt-4o-mini", "input": "Hello responses", "instructions": "Be brief."}
    r = await emu.post(f"{GW}/{path}", body)
    data = r.json()
    assert (data["object"], data["status"]) == ("response", "completed")
    (message,) = data["output"]
    text = message["content"][0]["text"]
    assert message["content"][0]["type"] == "output_text"
    s = await emu.post(f"{GW}/{path}", {**body, "stream": True})
    evs = events(s.text)
    assert [e["sequence_number"] for e in evs] == list(range(len(evs)))
    assert evs[0]["type"] == "response.created"
    assert evs[-1]["type"] == "response.completed"
    deltas = "".join(e["delta"] for e in evs if e["type"] == "response.output_text.delta")
    assert deltas == text
    assert evs[-1]["response"]["usage"] == data["usage"]
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    ask = {"model": "gpt-4o-mini", "input": "Weather in Paris?", "tools": [tool]}
    (call,) = (await emu.post(f"{GW}/{path}", ask)).json()["output"]
    assert (call["type"], call["name"], json.loads(call["arguments"])) == (
        "function_call",
        "get_weather",
        {"city": "Paris"},
    )
    follow = {
        **ask,
        "input": [
            {"role": "user", "content": "Weather in Paris?"},
            call,
            {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"},
        ],
    }
    r = await emu.post(f"{GW}/{path}", follow)
    assert r.json()["output"][0]["content"][0]["text"] == "The result of get_weather is sunny."
    logs = emu.state.logs(ACCOUNT, "demo")
    assert (logs[1]["tokens_in"], logs[1]["tokens_out"]) == (
        data["usage"]["input_tokens"],
        data["usage"]["output_tokens"],
    )


# --- REST API ------------------------------------------------------------------------------------


async def test_rest_responses_and_messages_for_any_provider(emu: Emu) -> None:
    gw = {wire.H_GATEWAY_ID: "demo"}
    r = await emu.post(
        f"{REST}/v1/responses", {"model": "openai/gpt-4.1", "input": "Hi"}, **AUTH, **gw
    )
    assert r.json()["object"] == "response"
    r = await emu.post(
        f"{REST}/v1/messages", anthropic(model="anthropic/claude-sonnet-4-5"), **AUTH, **gw
    )
    assert r.json()["type"] == "message"
    assert r.json()["model"] == "claude-sonnet-4-5"
    r = await emu.post(
        f"{REST}/v1/v1/messages", anthropic(model="google/gemini-3-flash"), **AUTH, **gw
    )
    assert r.status_code == 200  # an Anthropic SDK pointed at .../ai/v1, as Cloudflare shows
    r = await emu.post(
        f"{REST}/v1/messages/count_tokens", anthropic(model="anthropic/c"), **AUTH, **gw
    )
    assert r.json() == {"input_tokens": 5}
    logs = emu.state.logs(ACCOUNT, "demo")
    assert [(log["provider"], log["path"]) for log in logs] == [
        ("openai", "responses"),
        ("anthropic", "v1/messages"),
        ("google-ai-studio", "v1/messages"),
        ("anthropic", "v1/messages/count_tokens"),
    ]
    missing = await emu.post(f"{REST}/v1/messages", anthropic(model="nobody/x"), **AUTH, **gw)
    assert (missing.status_code, missing.json()["error"]["type"]) == (404, "not_found_error")
    assert isinstance(error_from_response(404, {}, missing.content), ModelNotFoundError)
    routed = await emu.post(f"{REST}/v1/messages", anthropic(model="dynamic/support"), **AUTH, **gw)
    assert routed.status_code == 400  # dynamic routes take the chat completions shape only


async def test_rest_dynamic_routes_and_aliases(emu: Emu) -> None:
    emu.add_gateway(
        "aliased",
        aliases={"support-fast": ["openai/fail-503", "groq/llama-3.1-8b-instant"]},
        routes=[
            {
                "name": "r",
                "elements": [
                    {"id": "s", "type": "start", "outputs": {"next": {"elementId": "m"}}},
                    {
                        "id": "m",
                        "type": "model",
                        "properties": {"provider": "mistral", "model": "small"},
                        "outputs": {"success": {"elementId": "e"}},
                    },
                    {"id": "e", "type": "end"},
                ],
            }
        ],
    )
    url, gw = f"{REST}/v1/chat/completions", {wire.H_GATEWAY_ID: "aliased"}
    r = await emu.post(url, {**CHAT, "model": "dynamic/r"}, **AUTH, **gw)
    assert (r.headers[wire.H_PROVIDER], r.headers[wire.H_MODEL]) == ("mistral", "small")
    r = await emu.post(url, {**CHAT, "model": "custom/support-fast"}, **AUTH, **gw)
    assert r.status_code == 200
    assert (r.headers[wire.H_PROVIDER], r.headers[wire.H_MODEL]) == ("groq", "llama-3.1-8b-instant")
    logs = emu.state.logs(ACCOUNT, "aliased")
    assert [log["status_code"] for log in logs[-2:]] == [503, 200]  # the alias's order
    r = await emu.compat("aliased", {**CHAT, "model": "custom/support-fast"})
    assert r.headers[wire.H_MODEL] == "llama-3.1-8b-instant"  # aliases on /compat too
    for model in ("dynamic/nope", "custom/nope", "nobody/x"):
        r = await emu.post(url, {**CHAT, "model": model}, **AUTH, **gw)
        assert r.status_code == 404, model
        assert r.json()["error"]["code"] == wire.MODEL_NOT_FOUND_CODE
        assert isinstance(error_from_response(404, {}, r.content), ModelNotFoundError)
    r = await emu.post(url, {**CHAT, "model": "dynamic/r"}, **AUTH)  # default gateway
    assert r.status_code == 404  # routes belong to the gateway that has them


async def test_model_headers_only_for_routes_and_aliases(emu: Emu) -> None:
    r = await emu.compat("demo")
    assert wire.H_MODEL not in r.headers
    assert wire.H_PROVIDER not in r.headers
    r = await emu.compat("demo", {**CHAT, "model": "dynamic/support"})
    assert r.headers[wire.H_PROVIDER] in ("openai", "groq")


async def test_compat_unknown_provider_is_model_not_found(emu: Emu) -> None:
    r = await emu.compat("demo", {**CHAT, "model": "nobody/x"})
    assert r.status_code == 404
    assert isinstance(error_from_response(404, {}, r.content), ModelNotFoundError)
    r = await emu.compat("demo", {**CHAT, "model": "perplexity-ai/sonar"})
    assert r.status_code == 400  # a path segment where the unified prefix belongs
    assert "'perplexity'" in r.json()["error"][0]["message"]


# --- universal steps on the unified endpoint -------------------------------------------------


@pytest.mark.parametrize("endpoint", ["chat/completions", "v1/chat/completions", "chat/completion"])
async def test_universal_compat_steps(emu: Emu, endpoint: str) -> None:
    def compat(model: str) -> dict[str, Any]:
        return {"provider": "compat", "endpoint": endpoint, "query": {**CHAT, "model": model}}

    r = await emu.post(GW, [compat("nobody/x"), compat("groq/llama-3.1-8b-instant")])
    assert (r.status_code, r.headers[wire.H_STEP]) == (200, "1"), r.text
    assert r.json()["model"] == "llama-3.1-8b-instant"
    r = await emu.post(GW, [compat("dynamic/support")], **{wire.H_METADATA: '{"plan": "free"}'})
    assert (r.headers[wire.H_STEP], r.headers[wire.H_PROVIDER]) == ("0", "groq")
    logs = emu.state.logs(ACCOUNT, "demo")
    assert [(log["step"], log["status_code"]) for log in logs[:2]] == [(0, 404), (1, 200)]
