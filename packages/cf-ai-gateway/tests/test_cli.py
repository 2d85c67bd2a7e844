"""The ``cf-ai-gateway`` CLI through ``main([...])`` against a scripted Cloudflare (an
``httpx.MockTransport``): output, JSON, exit status, and every doctor diagnosis, including the
ones the emulator cannot produce (an account token on an authenticated gateway, a wrong account,
a host that is not a gateway, BYOK and billing errors). ``integration_tests/core`` runs the CLI
against the emulator."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cf_ai_gateway import Gateway
from cf_ai_gateway.cli import build_parser, main
from cf_ai_gateway.cli._commands import sdk_base_urls
from cf_ai_gateway.cli._output import Output
from hypothesis import given
from hypothesis import strategies as st

ACC = "0123456789abcdef0123456789abcdef"
GW = "my-gw"
RUN_TOKEN = "run-token-abcdef123456"
ACCOUNT_TOKEN = "account-token-abcdef123456"
PROVIDER_KEY = "sk-provider-abcdefghijklmnop"
GATEWAY_URL = f"https://gateway.ai.cloudflare.com/v1/{ACC}/{GW}"
API = f"https://api.cloudflare.com/client/v4/accounts/{ACC}/ai-gateway"
SECRETS = (RUN_TOKEN, ACCOUNT_TOKEN, PROVIDER_KEY)


def gateway_error(code: int, message: str, status: int) -> httpx.Response:
    return httpx.Response(
        status,
        json={"success": False, "error": [{"code": code, "message": message}]},
        headers={"cf-aig-log-id": "log-err"} if status != 401 else {},
    )


def v4_error(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(
        status, json={"success": False, "errors": [{"code": code, "message": message}]}
    )


def envelope(result: Any, **info: Any) -> httpx.Response:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if info:
        body["result_info"] = info
    return httpx.Response(200, json=body)


def log(log_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": log_id,
        "created_at": "2025-01-01T12:00:00.000Z",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "path": "chat/completions",
        "success": True,
        "status_code": 200,
        "cached": False,
        "duration": 321,
        "tokens_in": 9,
        "tokens_out": 11,
        "cost": 0.0000081,
        "metadata": '{"user": "u-1"}',
        "step": None,
        **fields,
    }


@dataclass
class FakeCloudflare:
    """Cloudflare as the CLI sees it: the gateway host and the management API."""

    exists: bool = True
    authentication: bool = False
    collect_logs: bool = True
    account_ok: bool = True
    gateway_tokens: set[str] = field(default_factory=lambda: {RUN_TOKEN})
    account_tokens: set[str] = field(default_factory=lambda: {ACCOUNT_TOKEN})
    chat: Callable[[httpx.Request], httpx.Response] | None = None
    logs: list[list[dict[str, Any]]] = field(default_factory=list)
    bodies: dict[str, Any] = field(default_factory=dict)
    not_a_gateway: bool = False
    transport_error: Exception | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if self.transport_error is not None:
            raise self.transport_error
        url = urlsplit(str(request.url))
        if url.hostname == "gateway.ai.cloudflare.com":
            return self.gateway(request, url.path)
        return self.management(request, url.path)

    def gateway(self, request: httpx.Request, path: str) -> httpx.Response:
        if self.not_a_gateway:
            return httpx.Response(404, text="<html><title>Not Found</title></html>")
        if request.method == "GET":
            return httpx.Response(404, json={"error": "not found"})
        if not self.exists:
            return gateway_error(2001, "Gateway not found", 400)
        token = (request.headers.get("cf-aig-authorization") or "").removeprefix("Bearer ")
        if self.authentication and token not in self.gateway_tokens:
            return gateway_error(2009, "Unauthorized", 401)
        if path.endswith("/compat/chat/completions") and self.chat is not None:
            return self.chat(request)
        return gateway_error(2008, "the universal endpoint expects a JSON array of steps", 400)

    def management(self, request: httpx.Request, path: str) -> httpx.Response:
        if not self.account_ok:
            return v4_error(
                400,
                7003,
                "Could not route to /accounts/x, perhaps your object identifier is invalid?",
            )
        token = (request.headers.get("authorization") or "").removeprefix("Bearer ")
        if token not in self.account_tokens:
            return v4_error(403, 10000, "Authentication error")
        rest = path.split("/ai-gateway/", 1)[1]
        if rest == "gateways":
            return envelope([{"id": GW, "cache_ttl": 60}, {"id": "other"}], total_count=2)
        if rest == f"gateways/{GW}":
            if not self.exists:
                return v4_error(404, 2001, "gateway not found")
            return envelope(
                {"id": GW, "collect_logs": self.collect_logs, "authentication": self.authentication}
            )
        if rest == f"gateways/{GW}/logs":
            return envelope(self.logs.pop(0) if self.logs else [])
        match = re.fullmatch(rf"gateways/{GW}/logs/([^/]+)(?:/(request|response))?", rest)
        if match:
            log_id, which = match.groups()
            if request.method == "PATCH":
                return envelope({"id": log_id})
            if which:
                key = f"{log_id}/{which}"
                if key not in self.bodies:
                    return v4_error(404, 7006, f"the log has no {which} body")
                return envelope(self.bodies[key])
            return envelope(log(log_id, feedback=1, event_id="ev-1"))
        return v4_error(404, 7000, "No route for that URI")


@dataclass
class Run:
    code: int
    out: str
    err: str
    fake: FakeCloudflare

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    def check(self, name: str) -> dict[str, Any]:
        return next(c for c in self.json["checks"] if c["name"] == name)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(
        *argv: str, env: dict[str, str] | None = None, fake: FakeCloudflare | None = None
    ) -> Run:
        fake = fake or FakeCloudflare()
        environ = {
            "CF_AIG_URL": GATEWAY_URL,
            "CF_AIG_TOKEN": RUN_TOKEN,
            "CF_API_TOKEN": ACCOUNT_TOKEN,
        }
        environ = env if env is not None else environ
        with httpx.Client(transport=httpx.MockTransport(fake)) as http:
            code = main(list(argv), environ=environ, http_client=http)
        captured = capsys.readouterr()
        for secret in SECRETS:
            assert secret not in captured.out, f"{secret} printed"
            assert secret not in captured.err, f"{secret} printed to stderr"
        if argv[:1] == ("doctor",) and "--json" in argv:
            for check in json.loads(captured.out)["checks"]:
                if check["status"] in ("fail", "warn"):  # every problem says cause and fix
                    assert check.get("cause"), check
                    assert check.get("fix"), check
        return Run(code, captured.out, captured.err, fake)

    return run


# --- the parser ------------------------------------------------------------------------------

COMMANDS = [
    ["doctor"],
    ["url", GATEWAY_URL],
    ["logs"],
    ["logs", "show", "L1"],
    ["gateways", "list"],
    ["gateways", "get"],
    ["feedback", "L1", "+1"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_every_command_takes_json_and_the_connection_flags(argv: list[str]) -> None:
    args = build_parser().parse_args([*argv, "--json", "--url", GATEWAY_URL, "--plain"])
    assert args.json is True
    assert args.url == GATEWAY_URL


def test_flags_given_before_a_nested_command_are_kept() -> None:
    args = build_parser().parse_args(["logs", "--json", "--gateway-id", "x", "show", "L1"])
    assert (args.json, args.gateway_id, args.log_id) == (True, "x", "L1")
    args = build_parser().parse_args(["logs", "show", "L1", "--json"])
    assert args.json is True


def test_usage_errors_exit_2(cli: Callable[..., Run]) -> None:
    assert cli("nope").code == 2
    assert cli().code == 2
    assert cli("logs", "--success", "--failed").code == 2
    assert cli("--version").code == 0


def test_negative_feedback_is_not_an_option() -> None:
    args = build_parser().parse_args(["feedback", "L1", "-1"])
    assert args.value == "-1"


# --- url -------------------------------------------------------------------------------------

URL_SHAPES = [
    f"{GATEWAY_URL}",
    f"{GATEWAY_URL}/",
    f"{GATEWAY_URL}/openai",
    f"{GATEWAY_URL}/openai/v1",
    f"{GATEWAY_URL}/openai/v1/chat/completions",
    f"{GATEWAY_URL}/openai/v1/v1/chat/completions",
    f"{GATEWAY_URL}/compat",
    f"{GATEWAY_URL}/compat/v1/chat/completions",
    f"{GATEWAY_URL}/anthropic/v1/messages",
    f"{API}/gateways/{GW}/logs",
]


@pytest.mark.parametrize("pasted", URL_SHAPES)
def test_url_gives_each_sdk_its_base_url(cli: Callable[..., Run], pasted: str) -> None:
    run = cli("url", pasted, "--json", env={})
    assert run.code == 0
    urls = run.json["base_urls"]
    assert urls["gateway"] == GATEWAY_URL
    assert urls["openai_sdk"] == f"{GATEWAY_URL}/compat"
    assert urls["openai_sdk_openai"] == f"{GATEWAY_URL}/openai"
    assert urls["anthropic_sdk"] == f"{GATEWAY_URL}/anthropic"
    assert urls["langchain"] == GATEWAY_URL
    assert urls["llamaindex"] == urls["litellm"] == f"{GATEWAY_URL}/compat"
    assert urls["openai_sdk_rest"] == f"https://api.cloudflare.com/client/v4/accounts/{ACC}/ai/v1"
    for url in urls.values():
        assert "/v1/v1" not in url
        assert not url.endswith(("/chat/completions", "/messages", "/"))
    assert run.json["doubled_v1_in_input"] == ("/v1/v1" in pasted)


def test_url_for_a_provider_whose_path_keeps_v1(cli: Callable[..., Run]) -> None:
    run = cli("url", f"{GATEWAY_URL}/workers-ai/v1/chat/completions", "--json", env={})
    assert run.json["base_urls"]["openai_sdk_workers-ai"] == f"{GATEWAY_URL}/workers-ai/v1"
    assert run.json["parsed"]["provider"] == "workers-ai"
    run = cli("url", GATEWAY_URL, "--provider", "groq", "--json", env={})
    assert run.json["base_urls"]["openai_sdk_groq"] == f"{GATEWAY_URL}/groq"


def test_url_text_output_and_the_environment(cli: Callable[..., Run]) -> None:
    run = cli("url", f"{GATEWAY_URL}/openai/v1/v1/chat/completions", "--plain", env={})
    assert run.code == 0
    assert "points at openai" in run.out
    assert "doubled /v1" in run.out
    assert "Anthropic(base_url=...)" in run.out
    assert f"{GATEWAY_URL}/anthropic" in run.out
    from_env = cli("url", "--json")
    assert from_env.json["base_urls"]["gateway"] == GATEWAY_URL
    assert from_env.json["input"] == GATEWAY_URL


def test_url_custom_domain(cli: Callable[..., Run]) -> None:
    run = cli("url", "https://ai.example.com/openai/v1", "--json", env={})
    urls = run.json["base_urls"]
    assert urls["gateway"] == "https://ai.example.com"
    assert urls["openai_sdk_openai"] == "https://ai.example.com/openai"
    assert "openai_sdk_rest" not in urls


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("gateway.ai.cloudflare.com/v1/a/b", "absolute http"),
        (f"https://api.cloudflare.com/client/v4/accounts/{ACC}/ai/v1", "names no gateway"),
        (f"{GATEWAY_URL}?x=1", "query string"),
    ],
)
def test_url_errors_exit_2(cli: Callable[..., Run], pasted: str, message: str) -> None:
    run = cli("url", pasted, env={})
    assert run.code == 2
    assert message in run.err


def test_url_unknown_provider(cli: Callable[..., Run]) -> None:
    assert cli("url", GATEWAY_URL, "--provider", "nope", env={}).code == 2


@given(
    account=st.from_regex(r"[a-f0-9]{32}", fullmatch=True),
    gateway=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    tail=st.sampled_from(
        ["", "/openai", "/openai/v1", "/compat", "/compat/chat/completions", "/groq/v1"]
    ),
)
def test_base_urls_plus_the_sdk_path_are_the_gateway_endpoints(
    account: str, gateway: str, tail: str
) -> None:
    gw = Gateway.from_url(f"https://gateway.ai.cloudflare.com/v1/{account}/{gateway}{tail}")
    urls = {row.key: row.url for row in sdk_base_urls(gw)}
    assert urls["openai_sdk"] + "/chat/completions" == gw.compat_url()
    assert urls["openai_sdk_openai"] + "/chat/completions" == gw.provider_url(
        "openai", "chat/completions"
    )
    assert urls["anthropic_sdk"] + "/v1/messages" == gw.provider_url("anthropic", "v1/messages")
    assert not any("/v1/v1" in url for url in urls.values())


# --- doctor ----------------------------------------------------------------------------------


def test_doctor_all_good(cli: Callable[..., Run]) -> None:
    run = cli("doctor", "--json")
    assert run.code == 0
    assert run.json["ok"] is True
    assert run.json["gateway_url"] == GATEWAY_URL
    statuses = {c["name"]: c["status"] for c in run.json["checks"]}
    assert statuses == {
        "configuration": "ok",
        "token": "ok",
        "reachability": "ok",
        "gateway": "ok",
        "authentication": "ok",
        "management API": "ok",
        "provider key": "ok",
    }
    assert [c["name"] for c in run.json["checks"]] == list(statuses)
    assert "off" in run.check("authentication")["summary"]
    assert "BYOK" in run.check("provider key")["summary"]
    probe = [r for r in run.fake.requests if r.method == "POST"]
    assert probe[0].content == b"[]"
    assert probe[0].headers["cf-aig-authorization"] == f"Bearer {RUN_TOKEN}"
    assert "cf-aig-authorization" not in probe[1].headers  # the second probe, without a token


def test_doctor_text_output(cli: Callable[..., Run]) -> None:
    run = cli("doctor", "--plain", fake=FakeCloudflare(exists=False))
    assert run.code == 1
    lines = run.out.splitlines()
    assert lines[0].startswith("ok    configuration")
    fail = next(i for i, line in enumerate(lines) if line.startswith("FAIL  gateway"))
    assert "2001: gateway 'my-gw' does not exist" in lines[fail]
    assert lines[fail + 1].strip().startswith("cause: the gateway answered: Gateway not found")
    assert lines[fail + 2].strip().startswith("fix:")
    assert "check(s) failed" in lines[-1]


def test_doctor_without_configuration(cli: Callable[..., Run]) -> None:
    run = cli("doctor", "--json", env={})
    assert run.code == 1
    config = run.check("configuration")
    assert config["status"] == "fail"
    assert "CF_AIG_URL" in config["fix"]
    assert run.check("reachability")["status"] == "skip"
    assert run.fake.requests == []


def test_doctor_gateway_does_not_exist(cli: Callable[..., Run]) -> None:
    run = cli("doctor", "--json", fake=FakeCloudflare(exists=False))
    assert run.code == 1
    gateway = run.check("gateway")
    assert gateway["status"] == "fail"
    assert gateway["summary"].startswith("2001: gateway 'my-gw' does not exist")
    assert "create" in gateway["fix"]
    assert run.check("management API")["status"] == "skip"  # agrees, not a second failure


def test_doctor_2009_without_a_token_says_none_was_sent(cli: Callable[..., Run]) -> None:
    run = cli(
        "doctor",
        "--json",
        env={"CF_AIG_URL": GATEWAY_URL},
        fake=FakeCloudflare(authentication=True),
    )
    assert run.code == 1
    auth = run.check("authentication")
    assert auth["summary"] == (
        "2009: the gateway requires authentication and no cf-aig-authorization header was sent"
    )
    assert "set CF_AIG_TOKEN" in auth["fix"]
    assert run.check("token")["status"] == "warn"
    assert run.check("provider key")["status"] == "skip"


def test_doctor_2009_with_an_account_token(cli: Callable[..., Run]) -> None:
    env = {"CF_AIG_URL": GATEWAY_URL, "CF_AIG_TOKEN": ACCOUNT_TOKEN}
    run = cli("doctor", "--json", env=env, fake=FakeCloudflare(authentication=True))
    assert run.code == 1
    auth = run.check("authentication")
    assert "a cf-aig-authorization header was sent (token from CF_AIG_TOKEN)" in auth["summary"]
    assert "this token is an account API token" in auth["cause"]
    assert "Run" in auth["cause"]
    assert "Create authentication token" in auth["fix"]


def test_doctor_2009_with_a_bad_token(cli: Callable[..., Run]) -> None:
    env = {"CF_AIG_URL": GATEWAY_URL, "CF_AIG_TOKEN": "revoked-token-123456"}
    run = cli("doctor", "--json", env=env, fake=FakeCloudflare(authentication=True))
    auth = run.check("authentication")
    assert auth["status"] == "fail"
    assert "neither the gateway nor the management API accepts this token" in auth["cause"]


def test_doctor_authenticated_gateway_with_its_token(cli: Callable[..., Run]) -> None:
    run = cli("doctor", "--json", fake=FakeCloudflare(authentication=True))
    assert run.code == 0
    assert run.check("authentication")["summary"] == "on, and the token is accepted"


def test_doctor_gateway_token_on_the_management_api(cli: Callable[..., Run]) -> None:
    env = {"CF_AIG_URL": GATEWAY_URL, "CF_AIG_TOKEN": RUN_TOKEN}
    run = cli("doctor", "--json", env=env, fake=FakeCloudflare(authentication=True))
    assert run.code == 0  # a warning: requests work, the logs commands will not
    mgmt = run.check("management API")
    assert mgmt["status"] == "warn"
    assert "gateway (Run) token, not an account API token" in mgmt["cause"]
    assert "CF_API_TOKEN" in mgmt["fix"]


@pytest.mark.parametrize(
    ("token", "cause"),
    [
        (f"Bearer {RUN_TOKEN}", "starts with 'Bearer '"),
        (f'"{RUN_TOKEN}"', "wrapped in quotes"),
        (PROVIDER_KEY, "an OpenAI-style key"),
        ("sk-ant-api03-abcdefghij", "an Anthropic key"),
    ],
)
def test_doctor_token_shapes(cli: Callable[..., Run], token: str, cause: str) -> None:
    env = {"CF_AIG_URL": GATEWAY_URL, "CF_AIG_TOKEN": token}
    run = cli("doctor", "--json", env=env)
    check = run.check("token")
    assert check["status"] == "fail"
    assert cause in check["cause"]
    assert run.code == 1


def test_doctor_provider_key_is_the_cloudflare_token(cli: Callable[..., Run]) -> None:
    env = {
        "CF_AIG_URL": GATEWAY_URL,
        "CF_AIG_TOKEN": RUN_TOKEN,
        "CF_AIG_PROVIDER_API_KEY": RUN_TOKEN,
    }
    run = cli("doctor", "--json", env=env)
    assert run.check("provider key")["status"] == "fail"
    assert "same value as the Cloudflare token" in run.check("provider key")["cause"]


def test_doctor_notes_a_provider_key_the_library_ignores(cli: Callable[..., Run]) -> None:
    env = {"CF_AIG_URL": GATEWAY_URL, "CF_AIG_TOKEN": RUN_TOKEN, "OPENAI_API_KEY": PROVIDER_KEY}
    run = cli("doctor", "--json", env=env)
    check = run.check("provider key")
    assert check["status"] == "warn"
    assert "OPENAI_API_KEY is set but cf-ai-gateway ignores it" in check["cause"]
    with_key = cli("doctor", "--json", env={**env, "CF_AIG_PROVIDER_API_KEY": PROVIDER_KEY})
    assert (
        "a provider key is in play (CF_AIG_PROVIDER_API_KEY)"
        in with_key.check("provider key")["summary"]
    )


def test_doctor_wrong_account(cli: Callable[..., Run]) -> None:
    run = cli("doctor", "--json", fake=FakeCloudflare(account_ok=False))
    mgmt = run.check("management API")
    assert mgmt["status"] == "fail"
    assert "7003" in mgmt["cause"]
    assert "CF_ACCOUNT_ID" in mgmt["fix"]


def test_doctor_a_host_that_is_not_a_gateway(cli: Callable[..., Run]) -> None:
    run = cli("doctor", "--json", fake=FakeCloudflare(not_a_gateway=True))
    assert run.check("reachability")["status"] == "ok"
    gateway = run.check("gateway")
    assert gateway["status"] == "fail"
    assert "does not answer like AI Gateway" in gateway["summary"]


@pytest.mark.parametrize(
    ("url", "error", "fix"),
    [
        (GATEWAY_URL, httpx.ConnectError("[Errno -2] Name or service not known"), "DNS"),
        (
            "http://127.0.0.1:8787/v1/emu-account/demo",
            httpx.ConnectError("refused"),
            "cf-ai-gateway-emulator serve",
        ),
        (GATEWAY_URL, httpx.ConnectTimeout("timed out"), "--timeout"),
    ],
)
def test_doctor_unreachable(cli: Callable[..., Run], url: str, error: Exception, fix: str) -> None:
    env = {"CF_AIG_URL": url, "CF_AIG_TOKEN": RUN_TOKEN}
    run = cli("doctor", "--json", env=env, fake=FakeCloudflare(transport_error=error))
    assert run.code == 1
    reach = run.check("reachability")
    assert reach["status"] == "fail"
    assert fix in reach["fix"]
    assert run.check("gateway")["status"] == "skip"


def test_doctor_logs_off_is_a_warning(cli: Callable[..., Run]) -> None:
    run = cli("doctor", "--json", fake=FakeCloudflare(collect_logs=False))
    assert run.code == 0
    assert run.check("management API")["status"] == "warn"
    assert "collect_logs is off" in run.check("management API")["cause"]


def chat_answer(status: int, body: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json=body, headers={"cf-aig-log-id": "log-7"})


COMPLETION = {
    "id": "c1",
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "p"}, "finish_reason": "length"}
    ],
}
OPENAI_401 = {
    "error": {
        "message": "Incorrect API key provided",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}


def test_doctor_model_check_passes(cli: Callable[..., Run]) -> None:
    fake = FakeCloudflare(chat=chat_answer(200, COMPLETION))
    run = cli("doctor", "--json", "--model", "openai/gpt-4o-mini", fake=fake)
    assert run.code == 0
    check = run.check("provider key")
    assert "openai/gpt-4o-mini answered with no key (log id log-7)" in check["summary"]
    (chat,) = [r for r in fake.requests if r.url.path.endswith("/chat/completions")]
    body = json.loads(chat.content)
    assert body["max_tokens"] == 1
    assert "authorization" not in chat.headers  # BYOK: no provider credential at all
    assert chat.headers["cf-aig-skip-cache"] == "true"


@pytest.mark.parametrize(
    ("env_key", "answer", "summary", "cause"),
    [
        (
            PROVIDER_KEY,
            (401, OPENAI_401),
            "refused the request with the key from CF_AIG_PROVIDER_API_KEY",
            "the provider rejected the key",
        ),
        (
            None,
            (401, OPENAI_401),
            "refused the request with no key",
            "no BYOK key for this provider",
        ),
        (
            None,
            (400, {"success": False, "error": [{"code": 2040, "message": "No key for alias"}]}),
            "2040: no stored key",
            "No key for alias",
        ),
        (
            None,
            (402, {"success": False, "error": [{"code": 2005, "message": "Insufficient balance"}]}),
            "Unified Billing has no credits",
            "Insufficient balance",
        ),
    ],
)
def test_doctor_model_check_failures(
    cli: Callable[..., Run],
    env_key: str | None,
    answer: tuple[int, dict[str, Any]],
    summary: str,
    cause: str,
) -> None:
    env = {"CF_AIG_URL": GATEWAY_URL, "CF_AIG_TOKEN": RUN_TOKEN, "CF_API_TOKEN": ACCOUNT_TOKEN}
    if env_key:
        env["CF_AIG_PROVIDER_API_KEY"] = env_key
    fake = FakeCloudflare(chat=chat_answer(*answer))
    run = cli("doctor", "--json", "--model", "openai/gpt-4o-mini", env=env, fake=fake)
    assert run.code == 1
    check = run.check("provider key")
    assert check["status"] == "fail"
    assert summary in check["summary"]
    assert cause in check["cause"]


def test_doctor_bad_model_name(cli: Callable[..., Run]) -> None:
    run = cli("doctor", "--json", "--model", "gpt-4o-mini")
    assert run.check("provider key")["status"] == "fail"


def test_doctor_flags_win_over_the_environment(cli: Callable[..., Run]) -> None:
    env = {
        "CF_AIG_URL": "https://gateway.ai.cloudflare.com/v1/other/other",
        "CF_AIG_TOKEN": RUN_TOKEN,
        "CF_API_TOKEN": ACCOUNT_TOKEN,
    }
    run = cli("doctor", "--json", "--url", f"{GATEWAY_URL}/openai/v1", env=env)
    assert run.code == 0
    assert run.json["gateway_url"] == GATEWAY_URL
    assert "pointed at 'openai'" in run.check("configuration")["summary"]


def test_doctor_warns_about_a_doubled_v1(cli: Callable[..., Run]) -> None:
    run = cli("doctor", "--json", "--url", f"{GATEWAY_URL}/openai/v1/v1/chat/completions")
    assert run.check("configuration")["status"] == "warn"
    assert "doubled /v1" in run.check("configuration")["cause"]


# --- logs ------------------------------------------------------------------------------------


def logs_query(request: httpx.Request) -> dict[str, Any]:
    out: dict[str, Any] = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
    out["filters"] = json.loads(out.get("filters", "[]"))
    return out


def test_logs_table(cli: Callable[..., Run]) -> None:
    fake = FakeCloudflare(
        logs=[[log("L2", cached=True, cost=0), log("L1", success=False, status_code=500, step=1)]]
    )
    run = cli("logs", "--plain", fake=fake)
    assert run.code == 0
    header, first, second, footer = run.out.splitlines()
    assert header.split() == [
        "time",
        "id",
        "model",
        "status",
        "cache",
        "ms",
        "tokens",
        "cost",
        "step",
        "metadata",
    ]
    assert "L2" in first
    assert "HIT" in first
    assert "500" in second
    assert second.rstrip().endswith("user=u-1")
    assert footer == "2 log(s) on gateway 'my-gw'"
    # columns line up: every "openai/gpt-4o-mini" starts in the same column
    assert len({line.index("openai/") for line in (first, second)}) == 1


def test_logs_filters_become_the_api_query(cli: Callable[..., Run]) -> None:
    fake = FakeCloudflare(logs=[[log("L1")]])
    run = cli(
        "logs",
        "--json",
        "--model",
        "openai/gpt-4o-mini",
        "--failed",
        "--cached",
        "--metadata",
        "user=u-1",
        "--since",
        "2025-01-01T00:00:00Z",
        "--search",
        "hi",
        "-n",
        "5",
        fake=fake,
    )
    assert run.code == 0
    (request,) = fake.requests
    query = logs_query(request)
    assert query["search"] == "hi"
    assert query["filters"] == [
        {"key": "provider", "operator": "eq", "value": ["openai"]},
        {"key": "model", "operator": "eq", "value": ["gpt-4o-mini"]},
        {"key": "success", "operator": "eq", "value": [False]},
        {"key": "cached", "operator": "eq", "value": [True]},
        {"key": "metadata.key", "operator": "eq", "value": ["user"]},
        {"key": "metadata.value", "operator": "eq", "value": ["u-1"]},
        {"key": "created_at", "operator": "gt", "value": ["2025-01-01T00:00:00.000Z"]},
    ]
    (entry,) = run.json
    assert entry["metadata"] == {"user": "u-1"}
    assert entry["cache_status"] == "MISS"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--metadata", "user"], "KEY=VALUE"),
        (["--since", "last week"], "not a time"),
        (["--provider", "nope"], "nope"),
    ],
)
def test_logs_bad_filters_exit_2(cli: Callable[..., Run], argv: list[str], message: str) -> None:
    run = cli("logs", *argv)
    assert run.code == 2
    assert message in run.err
    assert run.fake.requests == []


def test_logs_empty(cli: Callable[..., Run]) -> None:
    run = cli("logs", "--plain")
    assert (run.code, run.out.strip()) == (0, "no logs on gateway 'my-gw' match")
    assert cli("logs", "--json").json == []


def test_logs_follow_prints_each_new_log_once(cli: Callable[..., Run]) -> None:
    l1, l2 = log("L1"), log("L2", created_at="2025-01-01T12:00:02.000Z")
    l3 = log("L3", created_at="2025-01-01T12:00:01.500Z")  # written late: older than L2
    fake = FakeCloudflare(logs=[[l2, l1], [l1, l2], [l2, l3], [l3]])
    run = cli("logs", "--follow", "--json", "--interval", "0", "--polls", "2", fake=fake)
    assert run.code == 0
    ids = [json.loads(line)["id"] for line in run.out.splitlines()]
    assert ids == ["L1", "L2", "L3"]
    window, poll = logs_query(fake.requests[1]), logs_query(fake.requests[2])
    assert window["filters"] == [
        {"key": "created_at", "operator": "gt", "value": ["2025-01-01T12:00:00.000Z"]}
    ]
    assert poll["order_by_direction"] == "asc"
    assert poll["filters"][-1]["key"] == "created_at"


def test_logs_follow_text(cli: Callable[..., Run]) -> None:
    fake = FakeCloudflare(logs=[[log("L1")], [log("L1")], [log("L1"), log("L2")]])
    run = cli("logs", "-f", "--plain", "--interval", "0", "--polls", "1", fake=fake)
    lines = run.out.splitlines()
    assert lines[0] == "following gateway 'my-gw' (Ctrl-C to stop)"
    assert [line.split()[2] for line in lines[2:]] == ["L1", "L2"]
    assert lines[2].index("openai/") == lines[3].index("openai/")  # one header, aligned rows


def test_logs_show_with_bodies(cli: Callable[..., Run]) -> None:
    fake = FakeCloudflare(
        bodies={
            "L1/request": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
        }
    )
    run = cli("logs", "show", "L1", "--plain", fake=fake)
    assert run.code == 0
    assert re.search(r"^id\s+L1$", run.out, re.M)
    assert re.search(r"^feedback\s+1$", run.out, re.M)
    assert "request body" in run.out
    assert '"content": "Hi"' in run.out
    assert "response body: not stored (the log has no response body)" in run.out
    data = cli("logs", "show", "L1", "--json", fake=fake).json
    assert data["log"]["id"] == "L1"
    assert data["request"]["model"] == "gpt-4o-mini"
    assert data["response"] is None
    bare = cli("logs", "show", "L1", "--no-bodies", "--json", fake=FakeCloudflare())
    assert "request" not in bare.json
    assert len(bare.fake.requests) == 1


# --- gateways, feedback, errors --------------------------------------------------------------


def test_gateways_list_and_get(cli: Callable[..., Run]) -> None:
    run = cli("gateways", "list", "--plain")
    assert run.code == 0
    assert run.out.splitlines()[0].split()[:4] == ["id", "cache", "logs", "auth"]
    assert "60s" in run.out
    assert [g["id"] for g in cli("gateways", "list", "--json").json] == [GW, "other"]
    got = cli("gateways", "get", "--json")
    assert got.json["id"] == GW
    assert str(got.fake.requests[0].url) == f"{API}/gateways/{GW}"


@pytest.mark.parametrize(
    ("value", "sent"), [("+1", 1), ("1", 1), ("up", 1), ("-1", -1), ("down", -1)]
)
def test_feedback(cli: Callable[..., Run], value: str, sent: int) -> None:
    run = cli("feedback", "L1", value)
    assert run.code == 0
    (request,) = run.fake.requests
    assert request.method == "PATCH"
    assert json.loads(request.content) == {"feedback": sent}
    assert f"feedback {sent:+d} recorded on log L1" in run.out


def test_feedback_bad_value(cli: Callable[..., Run]) -> None:
    run = cli("feedback", "L1", "meh")
    assert run.code == 2
    assert "+1 or -1" in run.err


def test_api_errors_exit_1_with_a_hint(cli: Callable[..., Run]) -> None:
    env = {"CF_AIG_URL": GATEWAY_URL, "CF_AIG_TOKEN": RUN_TOKEN}
    run = cli("logs", env=env)
    assert run.code == 1
    assert "Authentication error" in run.err
    assert "cf-ai-gateway doctor" in run.err
    as_json = cli("logs", "--json", env=env)
    assert as_json.json["error"]["type"] == "GatewayAuthenticationError"
    assert "doctor" in as_json.json["error"]["hint"]


def test_management_commands_name_what_is_missing(cli: Callable[..., Run]) -> None:
    run = cli("gateways", "list", env={"CF_AIG_URL": GATEWAY_URL})
    assert run.code == 2
    assert "CF_API_TOKEN" in run.err


# --- output ----------------------------------------------------------------------------------


def test_plain_output_needs_nothing_but_the_standard_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)
    monkeypatch.setitem(sys.modules, "rich.console", None)
    stream = io.StringIO()
    out = Output(stream, rich=True)  # asked for rich, rich is missing: plain text
    assert out.rich is False
    out.table(["a", "bb"], [["1", "2"], ["333", "4"]])
    out.fields([("key", "value"), ("longer key", "v")])
    assert stream.getvalue().splitlines() == [
        "a    bb",
        "1    2",
        "333  4",
        "key         value",
        "longer key  v",
    ]


def test_rich_output_when_installed() -> None:
    pytest.importorskip("rich")
    stream = io.StringIO()
    out = Output(stream, rich=True)
    assert out.rich is True
    out.table(["id", "status"], [["[bold]L1[/bold]", "200"]], styles=["fail"])
    text = stream.getvalue()
    assert "[bold]L1[/bold]" in text  # data is never read as markup
    assert "─" in text  # a rich table rule


def test_json_mode_never_uses_rich() -> None:
    out = Output(io.StringIO(), json_mode=True, rich=True)
    assert out.rich is False


def test_the_command_is_declared_with_the_core_only_dependencies() -> None:
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text())["project"]
    assert project["scripts"] == {"cf-ai-gateway": "cf_ai_gateway.cli:main"}
    assert project["dependencies"] == ["httpx>=0.27,<1", "httpx-sse>=0.4,<1"]
    assert project["optional-dependencies"]["cli"] == ["rich>=13"]


def test_python_dash_m_runs_the_cli() -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "cf_ai_gateway.cli", "url", GATEWAY_URL, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["base_urls"]["gateway"] == GATEWAY_URL
