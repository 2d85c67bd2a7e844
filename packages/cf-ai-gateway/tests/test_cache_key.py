"""``cache_key_for``: each documented rule, what must never collide, and a pinned value (a change
of rules must change the prefix, never silently reuse old cache entries)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
from cf_ai_gateway import GatewayOptions, cache_key_for
from cf_ai_gateway.cache_key import CACHE_KEY_PREFIX
from hypothesis import given
from hypothesis import strategies as st


def user(content: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": content}]


TOOL_A = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather  for a\ncity.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TOOL_A_REORDERED = {
    "function": {
        "parameters": {
            "required": ["city"],
            "properties": {"unit": {"type": "string"}, "city": {"type": "string"}},
            "type": "object",
        },
        "description": "Weather for a city.",
        "name": "get_weather",
    },
    "type": "function",
}
TOOL_B = {"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}


def test_the_key_is_a_valid_cache_key_header() -> None:
    key = cache_key_for(user("Hello"), model="openai/gpt-4o-mini")
    assert key.startswith(CACHE_KEY_PREFIX)
    assert len(key) == 69
    assert key.isascii()
    assert GatewayOptions(cache_key=key).to_headers()["cf-aig-cache-key"] == key


def test_pinned_value() -> None:
    """A change here changes every user's cache keys: bump CACHE_KEY_PREFIX with it."""
    assert cache_key_for(user("Hello"), model="openai/gpt-4o-mini") == (
        "cfk1-0717b831e914258f04032e762ac34d2e420e0a5c9b80840f0927c4704c8e4738"
    )


def test_whitespace_is_normalised_by_default() -> None:
    a = cache_key_for(user("What is  an AI\n gateway?"), model="m")
    b = cache_key_for(user("  What is an AI gateway?\t"), model="m")
    assert a == b
    assert a != cache_key_for(user("What is an AI gateway?!"), model="m")


def test_whitespace_rule_can_be_turned_off() -> None:
    code_a, code_b = "def f():\n    return 1", "def f(): return 1"
    assert cache_key_for(user(code_a), normalise=()) != cache_key_for(user(code_b), normalise=())
    assert cache_key_for(user(code_a)) == cache_key_for(user(code_b))


def test_case_only_where_asked() -> None:
    assert cache_key_for(user("Hello")) != cache_key_for(user("hello"))
    rules = ("whitespace", "case")
    assert cache_key_for(user("HELLO  World"), normalise=rules) == cache_key_for(
        user("hello world"), normalise=rules
    )


def test_unicode_is_nfc_normalised() -> None:
    assert cache_key_for(user("caf\u00e9")) == cache_key_for(user("cafe\u0301"))


def test_content_shapes_are_the_same() -> None:
    parts = [{"type": "text", "text": "Hello"}, {"type": "text", "text": "world"}]
    assert cache_key_for(user("Hello\nworld")) == cache_key_for(user(parts))
    assert cache_key_for("Hello") == cache_key_for(user("Hello"))
    image = [
        {"type": "text", "text": "What is  this?"},
        {"type": "image_url", "image_url": {"url": "u"}},
    ]
    image_spaced = [
        {"type": "text", "text": "What is this?"},
        {"image_url": {"url": "u"}, "type": "image_url"},
    ]
    assert cache_key_for(user(image)) == cache_key_for(user(image_spaced))
    other_image = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "v"}},
    ]
    assert cache_key_for(user(image)) != cache_key_for(user(other_image))


def test_key_order_never_matters() -> None:
    a = [{"role": "user", "content": "Hi", "name": "ann"}]
    b = [{"name": "ann", "content": "Hi", "role": "user"}]
    assert cache_key_for(a, params={"temperature": 0, "top_p": 1}) == cache_key_for(
        b, params={"top_p": 1, "temperature": 0}
    )


def test_tool_schemas_are_canonical() -> None:
    assert cache_key_for(user("Hi"), tools=[TOOL_A, TOOL_B]) == cache_key_for(
        user("Hi"), tools=[TOOL_B, TOOL_A_REORDERED]
    )
    assert cache_key_for(user("Hi"), tools=[TOOL_A]) != cache_key_for(user("Hi"))
    assert cache_key_for(user("Hi"), tools=[TOOL_A]) != cache_key_for(user("Hi"), tools=[TOOL_B])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"model": "openai/gpt-4o-mini"}, {"model": "openai/gpt-4o"}),
        ({"params": {"temperature": 0}}, {"params": {"temperature": 1}}),
        ({}, {"params": {"max_tokens": 5}}),
    ],
)
def test_model_and_params_are_part_of_the_key(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert cache_key_for(user("Hi"), **a) != cache_key_for(user("Hi"), **b)


def test_roles_and_turns_matter() -> None:
    assert cache_key_for([{"role": "system", "content": "Hi"}]) != cache_key_for(user("Hi"))
    two = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    assert cache_key_for(two) != cache_key_for(list(reversed(two)))


class Role(Enum):
    USER = "user"


@dataclass
class LlamaMessage:  # the shape of LlamaIndex's ChatMessage
    role: Role
    content: str


@dataclass
class LangChainMessage:  # the shape of LangChain's HumanMessage
    type: str
    content: Any
    tool_calls: list[Any] | None = None


def test_framework_messages_are_read_by_shape() -> None:
    expected = cache_key_for(user("Hello there"))
    assert cache_key_for([LlamaMessage(Role.USER, "Hello  there")]) == expected
    assert cache_key_for([LangChainMessage("human", " Hello there")]) == expected
    with pytest.raises(TypeError, match="OpenAI shape"):
        cache_key_for([object()])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"normalise": ("whitespace", "stemming")}, ValueError),
        ({"normalise": "case"}, ValueError),
    ],
)
def test_bad_rules(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error, match="rules"):
        cache_key_for(user("Hi"), **kwargs)


def test_no_messages() -> None:
    with pytest.raises(ValueError, match="at least one message"):
        cache_key_for([])


@given(st.text(), st.text(alphabet=" \t\n", min_size=1))
def test_surrounding_whitespace_never_changes_the_key(text: str, pad: str) -> None:
    assert cache_key_for(user(text)) == cache_key_for(user(pad + text + pad))
