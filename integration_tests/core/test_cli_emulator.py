"""The ``cf-ai-gateway`` CLI and the management client against the in-process emulator
(127.0.0.1): a test per failure mode ``doctor`` diagnoses, the logs commands on real traffic,
feedback that lands, and ``cache_key_for`` sharing a cache entry. Not recorded: the doctor's
requests depend on which failure is staged. The failure modes the emulator cannot stage (an
account token on an authenticated gateway, a wrong account id, BYOK and billing errors) are in
``packages/cf-ai-gateway/tests/test_cli.py``."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cf_ai_gateway import (
    NO_RETRY,
    GatewayClient,
    GatewayOptions,
    GatewaySettings,
    LogFilter,
    ManagementClient,
    cache_key_for,
)
from cf_ai_gateway.cli import main

pytestmark = pytest.mark.emulator_only

emulator_testing = pytest.importorskip("cf_ai_gateway_emulator.testing")
EmulatorHandle = emulator_testing.EmulatorHandle

CHAT: dict[str, Any] = {
    "model": "openai/gpt-4o-mini",
    "messages": [{"role": "user", "content": "Say hello to the gateway."}],
}


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    def check(self, name: str) -> dict[str, Any]:
        return next(c for c in self.json["checks"] if c["name"] == name)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(*argv: str, env: dict[str, str]) -> Run:
        code = main(list(argv), environ=env)
        captured = capsys.readouterr()
        secrets = [v for k, v in env.items() if "TOKEN" in k or "KEY" in k]
        for secret in secrets:  # "Bearer emu-token": the token inside is still a secret
            bare = secret.removeprefix("Bearer ")
            assert bare not in captured.out + captured.err, "a secret was printed"
        if argv[:1] == ("doctor",) and "--json" in argv:
            for check in json.loads(captured.out)["checks"]:
                if check["status"] in ("fail", "warn"):
                    assert check.get("cause"), check
                    assert check.get("fix"), check
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def fresh(emulator: Any) -> Iterator[Callable[..., str]]:
    made: list[str] = []

    def make(**settings: Any) -> str:
        made.append(emulator.create_gateway(**settings))
        return made[-1]

    yield make
    for gateway_id in made:
        emulator.delete_gateway(gateway_id)


def env_for(emulator: Any, gateway_id: str, **extra: str) -> dict[str, str]:
    return {"CF_AIG_URL": emulator.gateway_url(gateway_id), "CF_AIG_TOKEN": emulator.token, **extra}


# --- doctor: one test per diagnosis ----------------------------------------------------------


def test_doctor_passes_on_a_healthy_gateway(
    cli: Callable[..., Run], emulator: Any, fresh: Callable[..., str]
) -> None:
    gateway_id = fresh()
    run = cli(
        "doctor", "--json", "--model", "openai/gpt-4o-mini", env=env_for(emulator, gateway_id)
    )
    assert run.code == 0, run.out
    assert {c["status"] for c in run.json["checks"]} == {"ok"}
    assert "answered with no key" in run.check("provider key")["summary"]
    text = cli("doctor", "--plain", env=env_for(emulator, gateway_id))
    assert text.code == 0
    assert text.out.rstrip().endswith("All checks passed (0 warning(s)).")


def test_doctor_no_configuration(cli: Callable[..., Run]) -> None:
    run = cli("doctor", "--json", env={})
    assert run.code == 1
    assert run.check("configuration")["status"] == "fail"
    assert "CF_AIG_URL" in run.check("configuration")["fix"]


def test_doctor_unreachable(cli: Callable[..., Run], emulator: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"CF_AIG_URL": f"http://127.0.0.1:{port}/v1/{emulator.account_id}/demo"}
    run = cli("doctor", "--json", "--timeout", "5", env=env)
    assert run.code == 1
    reach = run.check("reachability")
    assert reach["status"] == "fail"
    assert "cf-ai-gateway-emulator serve" in reach["fix"]


def test_doctor_unknown_gateway_2001(cli: Callable[..., Run], emulator: Any) -> None:
    run = cli("doctor", "--json", env=env_for(emulator, "no-such-gateway"))
    assert run.code == 1
    gateway = run.check("gateway")
    assert gateway["status"] == "fail"
    assert gateway["summary"].startswith("2001: gateway 'no-such-gateway' does not exist")


def test_doctor_unknown_account(cli: Callable[..., Run], emulator: Any) -> None:
    env = {
        "CF_AIG_URL": f"{emulator.base_url}/v1/no-such-account/demo",
        "CF_AIG_TOKEN": emulator.token,
    }
    run = cli("doctor", "--json", env=env)
    assert run.code == 1
    assert run.check("gateway")["status"] == "fail"


def test_doctor_2009_no_header_sent(
    cli: Callable[..., Run], emulator: Any, fresh: Callable[..., str]
) -> None:
    gateway_id = fresh(authentication=True)
    run = cli("doctor", "--json", env={"CF_AIG_URL": emulator.gateway_url(gateway_id)})
    assert run.code == 1
    assert run.check("authentication")["summary"] == (
        "2009: the gateway requires authentication and no cf-aig-authorization header was sent"
    )
    assert "CF_AIG_TOKEN" in run.check("authentication")["fix"]


def test_doctor_2009_token_rejected(
    cli: Callable[..., Run], emulator: Any, fresh: Callable[..., str]
) -> None:
    gateway_id = fresh(authentication=True)
    env = {"CF_AIG_URL": emulator.gateway_url(gateway_id), "CF_AIG_TOKEN": "revoked-token-1234"}
    run = cli("doctor", "--json", env=env)
    assert run.code == 1
    auth = run.check("authentication")
    assert "a cf-aig-authorization header was sent" in auth["summary"]
    assert "neither the gateway nor the management API accepts this token" in auth["cause"]
    assert "revoked-token-1234" not in run.out


def test_doctor_gateway_token_is_not_an_account_token(
    cli: Callable[..., Run], emulator: Any, fresh: Callable[..., str]
) -> None:
    gateway_id = fresh(authentication=True, tokens=["gateway-run-token-1"])
    env = {"CF_AIG_URL": emulator.gateway_url(gateway_id), "CF_AIG_TOKEN": "gateway-run-token-1"}
    run = cli("doctor", "--json", env=env)
    assert run.code == 0
    assert run.check("authentication")["summary"] == "on, and the token is accepted"
    mgmt = run.check("management API")
    assert mgmt["status"] == "warn"
    assert "a gateway (Run) token" in mgmt["cause"]
    both = cli("doctor", "--json", env={**env, "CF_API_TOKEN": emulator.token})
    assert both.check("management API")["status"] == "ok"


def test_doctor_bearer_prefix_in_the_token(
    cli: Callable[..., Run], emulator: Any, fresh: Callable[..., str]
) -> None:
    gateway_id = fresh(authentication=True)
    env = env_for(emulator, gateway_id, CF_AIG_TOKEN=f"Bearer {emulator.token}")
    run = cli("doctor", "--json", env=env)
    assert run.code == 1
    assert "starts with 'Bearer '" in run.check("token")["cause"]
    assert run.check("authentication")["status"] == "fail"


def test_doctor_provider_rejects_the_key(
    cli: Callable[..., Run], emulator: Any, fresh: Callable[..., str]
) -> None:
    gateway_id = fresh()
    env = env_for(emulator, gateway_id, CF_AIG_PROVIDER_API_KEY="sk-wrong-key-0123456789")
    run = cli("doctor", "--json", "--model", "openai/fail-401", env=env)
    assert run.code == 1
    check = run.check("provider key")
    assert check["status"] == "fail"
    assert "the provider rejected the key from CF_AIG_PROVIDER_API_KEY" in check["cause"]
    assert "sk-wrong-key-0123456789" not in run.out
    byok = cli("doctor", "--json", "--model", "openai/fail-401", env=env_for(emulator, gateway_id))
    assert "no BYOK key for this provider" in byok.check("provider key")["cause"]


def test_doctor_logs_off(cli: Callable[..., Run], emulator: Any, fresh: Callable[..., str]) -> None:
    gateway_id = fresh(collect_logs=False)
    run = cli("doctor", "--json", env=env_for(emulator, gateway_id))
    assert run.code == 0
    assert run.check("management API")["status"] == "warn"


def test_doctor_rate_limited(
    cli: Callable[..., Run], emulator: Any, fresh: Callable[..., str]
) -> None:
    gateway_id = fresh(rate_limiting_limit=1, rate_limiting_interval=60)
    with GatewayClient(emulator.gateway(gateway_id), retry=NO_RETRY) as client:
        client.chat_completions(CHAT)
    run = cli("doctor", "--json", env=env_for(emulator, gateway_id))
    assert run.check("gateway")["status"] == "warn"
    assert "rate limiting" in run.check("gateway")["summary"]


# --- logs, feedback, gateways on real traffic ------------------------------------------------


@pytest.fixture
def traffic(emulator: Any, fresh: Callable[..., str]) -> tuple[str, list[str]]:
    """A gateway with four logs: two users, one cache hit, one provider failure."""
    gateway_id = fresh()
    ids = []
    with GatewayClient(emulator.gateway(gateway_id), retry=NO_RETRY) as client:
        other = {**CHAT, "messages": [{"role": "user", "content": "Another question."}]}
        for user, body in (("u-1", CHAT), ("u-2", other), ("u-1", CHAT)):
            options = GatewayOptions(metadata={"user": user}, cache_ttl=60)
            ids.append(client.chat_completions(body, options=options).info.log_id or "")
        try:
            client.chat_completions({**CHAT, "model": "groq/fail-500"})
        except Exception as exc:  # the failure is the point
            ids.append(getattr(exc, "log_id", "") or "")
    return gateway_id, ids


def test_logs_list_and_filters(
    cli: Callable[..., Run], emulator: Any, traffic: tuple[str, list[str]]
) -> None:
    gateway_id, ids = traffic
    env = env_for(emulator, gateway_id)
    everything = cli("logs", "--json", env=env)
    assert [e["id"] for e in everything.json] == list(reversed(ids))
    cached = cli("logs", "--json", "--cached", env=env).json
    assert [e["cache_status"] for e in cached] == ["HIT"]
    failed = cli("logs", "--json", "--failed", env=env).json
    assert [(e["provider"], e["status_code"]) for e in failed] == [("groq", 500)]
    openai = cli("logs", "--json", "--model", "openai/gpt-4o-mini", "--since", "1h", env=env).json
    assert len(openai) == 3
    oldest = cli("logs", "--json", "--order", "asc", "-n", "1", env=env).json
    assert [e["id"] for e in oldest] == ids[:1]
    table = cli("logs", "--plain", env=env)
    assert table.code == 0
    assert "groq/" in table.out
    assert "user=u-2" in table.out


def test_logs_metadata_filter(
    cli: Callable[..., Run], emulator: Any, traffic: tuple[str, list[str]]
) -> None:
    gateway_id, _ = traffic
    run = cli("logs", "--json", "--metadata", "user=u-1", env=env_for(emulator, gateway_id))
    assert len(run.json) == 2


def test_logs_show_and_feedback(
    cli: Callable[..., Run], emulator: Any, traffic: tuple[str, list[str]]
) -> None:
    gateway_id, ids = traffic
    env = env_for(emulator, gateway_id)
    shown = cli("logs", "show", ids[0], "--json", env=env).json
    assert shown["log"]["metadata"] == {"user": "u-1"}
    assert shown["request"]["messages"] == CHAT["messages"]
    assert shown["response"]["choices"][0]["message"]["content"]
    assert cli("feedback", ids[0], "-1", env=env).code == 0
    assert (
        cli("logs", "show", ids[0], "--json", "--no-bodies", env=env).json["log"]["feedback"] == -1
    )
    text = cli("logs", "show", ids[0], "--plain", env=env)
    assert "request body" in text.out
    assert cli("logs", "show", "no-such-log", env=env).code == 1


def test_logs_follow(
    cli: Callable[..., Run], emulator: Any, traffic: tuple[str, list[str]]
) -> None:
    gateway_id, ids = traffic
    env = env_for(emulator, gateway_id)
    run = cli("logs", "--follow", "--json", "-n", "2", "--interval", "0", "--polls", "1", env=env)
    assert run.code == 0
    assert [json.loads(line)["id"] for line in run.out.splitlines()] == ids[2:]


def test_gateways(cli: Callable[..., Run], emulator: Any, fresh: Callable[..., str]) -> None:
    gateway_id = fresh(cache_ttl=120)
    env = env_for(emulator, gateway_id)
    listed = cli("gateways", "list", "--json", env=env).json
    assert gateway_id in [g["id"] for g in listed]
    got = cli("gateways", "get", "--json", env=env).json
    assert (got["id"], got["cache_ttl"]) == (gateway_id, 120)
    assert cli("gateways", "get", "nope", env=env).code == 1


# --- the management client on the emulator ---------------------------------------------------


def test_management_client_round_trip(emulator: Any, traffic: tuple[str, list[str]]) -> None:
    gateway_id, ids = traffic
    with ManagementClient.from_gateway(emulator.gateway(gateway_id)) as mgmt:
        pages = list(mgmt.list_logs(per_page=2))
        assert [e.id for e in pages] == list(reversed(ids))
        assert [e.id for e in mgmt.list_logs(cached=True)] == [ids[2]]
        mgmt.score(ids[1], 42)
        mgmt.update_log(ids[1], metadata={"reviewed": True})
        entry = mgmt.get_log(ids[1])
        assert (entry.score, entry.metadata) == (42, {"reviewed": True})
        assert mgmt.delete_logs(filters=[LogFilter.eq("provider", "groq")]) == 1
        assert len(list(mgmt.list_logs())) == 3
        settings = mgmt.get_gateway()
        updated = mgmt.update_gateway(settings.replace(cache_ttl=300, collect_logs=False))
        assert (updated.cache_ttl, updated.collect_logs) == (300, False)
        created = mgmt.create_gateway(GatewaySettings(id=f"{gateway_id}-copy", cache_ttl=60))
        assert created.created_at is not None
        assert mgmt.delete_gateway(created.id).id == created.id


def test_management_client_routes(emulator: Any) -> None:
    with ManagementClient.from_gateway(emulator.gateway("demo")) as mgmt:
        (route,) = mgmt.list_routes()
        assert route.name == "support"
        assert "openai/gpt-4o" in route.models
        assert mgmt.get_route("support") == route


def test_management_client_route_versions(emulator: Any) -> None:
    with ManagementClient.from_gateway(emulator.gateway("demo")) as mgmt:
        assert mgmt.list_route_versions("support")
        assert mgmt.list_route_deployments("support")


# --- cache_key_for shares one cache entry ----------------------------------------------------


def test_differently_spaced_prompts_share_a_cache_entry(
    emulator: Any, fresh: Callable[..., str]
) -> None:
    gateway_id = fresh()  # gateway caching off: a custom key still caches for five minutes
    spaced = [{"role": "user", "content": "What  is an\nAI gateway? "}]
    tidy = [{"role": "user", "content": "What is an AI gateway?"}]
    with GatewayClient(emulator.gateway(gateway_id), retry=NO_RETRY) as client:
        results = [
            client.chat_completions(
                {"model": "openai/gpt-4o-mini", "messages": messages},
                options=GatewayOptions(
                    cache_key=cache_key_for(messages, model="openai/gpt-4o-mini")
                ),
            )
            for messages in (spaced, tidy)
        ]
        uncached = client.chat_completions({"model": "openai/gpt-4o-mini", "messages": tidy})
    assert [r.info.cache_status for r in results] == ["MISS", "HIT"]
    assert results[1].data == results[0].data
    assert uncached.info.cache_status == "MISS"
