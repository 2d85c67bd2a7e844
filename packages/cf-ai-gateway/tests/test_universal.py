from __future__ import annotations

import copy
import pickle

import pytest
from cf_ai_gateway import GatewayOptions, UniversalStep

MESSAGES = [{"role": "user", "content": "Hi"}]


def test_chat_step_defaults() -> None:
    step = UniversalStep.chat("perplexity/sonar", {"messages": MESSAGES}, api_key="pk-1")
    assert step.to_dict() == {
        "provider": "perplexity-ai",
        "endpoint": "chat/completions",
        "headers": {"authorization": "Bearer pk-1"},
        "query": {"messages": MESSAGES, "model": "sonar"},
    }


def test_chat_step_byok_and_extra_headers() -> None:
    step = UniversalStep.chat(
        "openai/gpt-4o-mini",
        {"messages": MESSAGES, "model": "ignored"},
        headers={"cf-aig-byok-alias": "prod"},
    )
    d = step.to_dict()
    assert d["headers"] == {"cf-aig-byok-alias": "prod"}
    assert d["query"]["model"] == "gpt-4o-mini"
    assert "config" not in d


def test_options_split_into_config_and_headers() -> None:
    step = UniversalStep(
        "openai",
        "/chat/completions/",
        {"model": "gpt-4o-mini"},
        options=GatewayOptions(max_attempts=3, collect_log=False),
    )
    d = step.to_dict()
    assert d["endpoint"] == "chat/completions"
    assert d["config"] == {"maxAttempts": 3}
    assert d["headers"] == {"cf-aig-collect-log": "false"}
    only_headers = UniversalStep("openai", "x", {}, options=GatewayOptions(zdr=True)).to_dict()
    assert "config" not in only_headers
    assert only_headers["headers"] == {"cf-aig-zdr": "true"}


def test_native_step() -> None:
    step = UniversalStep(
        "anthropic",
        "v1/messages",
        {"model": "claude", "max_tokens": 10, "messages": MESSAGES},
        {"x-api-key": "ak", "anthropic-version": "2023-06-01"},
    )
    assert step.to_dict()["headers"] == {"x-api-key": "ak", "anthropic-version": "2023-06-01"}


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("nope", "x", {}), "unknown provider"),
        (("openai", "", {}), "endpoint"),
        (("openai", "/", {}), "endpoint"),
        (("openai", "x", [1]), "query must be a mapping"),
        (("openai", "x", {}, {"a": 1}), "step header"),
        (("openai", "x", {}, {}, {"cache_ttl": 60}), "options must be GatewayOptions"),
    ],
)
def test_step_validation(args: tuple[object, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        UniversalStep(*args)  # type: ignore[arg-type]


def test_chat_step_needs_chat_path() -> None:
    with pytest.raises(ValueError, match="'anthropic' has no OpenAI-compatible chat path"):
        UniversalStep.chat("anthropic/claude", {"messages": MESSAGES})


def test_step_headers_are_copied_read_only_and_picklable() -> None:
    headers = {"authorization": "Bearer k"}
    step = UniversalStep("openai", "chat/completions", {"model": "m"}, headers)
    headers["authorization"] = "changed"
    assert step.headers["authorization"] == "Bearer k"
    with pytest.raises(TypeError):
        step.headers["x"] = "y"  # type: ignore[index]
    for clone in (pickle.loads(pickle.dumps(step)), copy.deepcopy(step)):
        assert clone == step
        assert clone.to_dict() == step.to_dict()
