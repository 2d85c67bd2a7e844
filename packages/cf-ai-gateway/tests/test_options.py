from __future__ import annotations

import copy
import json
import math
import pickle
from typing import Any

import pytest
from _cf_core_helpers import CORE_SETTINGS
from cf_ai_gateway import CustomCost, GatewayOptions, InvalidOptionError
from hypothesis import given
from hypothesis import strategies as st

# (field, kwargs, text that must appear in the rule)
INVALID: list[tuple[str, dict[str, Any], str]] = [
    # metadata
    (
        "metadata",
        {"metadata": {f"k{i}": i for i in range(6)}},
        "at most 5 entries",
    ),
    ("metadata", {"metadata": {"obj": {"a": 1}}}, "string, finite number or boolean"),
    ("metadata", {"metadata": {"lst": [1]}}, "string, finite number or boolean"),
    ("metadata", {"metadata": {"none": None}}, "string, finite number or boolean"),
    ("metadata", {"metadata": {"nan": math.nan}}, "string, finite number or boolean"),
    ("metadata", {"metadata": {"inf": math.inf}}, "string, finite number or boolean"),
    ("metadata", {"metadata": {"cf.user": "x"}}, "reserved prefix 'cf.'"),
    ("metadata", {"metadata": {"": "x"}}, "must be a non-empty string"),
    ("metadata", {"metadata": {1: "x"}}, "must be a non-empty string"),
    ("metadata", {"metadata": [("a", 1)]}, "must be a mapping"),
    # cache ttl: 0 or 60..2592000, ints only
    ("cache_ttl", {"cache_ttl": 59}, "60 to 2592000"),
    ("cache_ttl", {"cache_ttl": 1}, "60 to 2592000"),
    ("cache_ttl", {"cache_ttl": 2_592_001}, "60 to 2592000"),
    ("cache_ttl", {"cache_ttl": -1}, "60 to 2592000"),
    ("cache_ttl", {"cache_ttl": True}, "60 to 2592000"),
    ("cache_ttl", {"cache_ttl": 3600.0}, "60 to 2592000"),
    ("cache_ttl", {"cache_ttl": "3600"}, "60 to 2592000"),
    # bool fields do not take ints, int fields do not take bools
    ("skip_cache", {"skip_cache": 1}, "must be True or False"),
    ("collect_log", {"collect_log": "false"}, "must be True or False"),
    ("collect_log_payload", {"collect_log_payload": 0}, "must be True or False"),
    ("zdr", {"zdr": "yes"}, "must be True or False"),
    ("no_wholesale", {"no_wholesale": 1}, "must be True or False"),
    ("max_attempts", {"max_attempts": True}, "integer from 1 to 5"),
    ("retry_delay_ms", {"retry_delay_ms": False}, "integer from 0 to 5000"),
    ("request_timeout_ms", {"request_timeout_ms": True}, "positive integer"),
    # max attempts 1..5
    ("max_attempts", {"max_attempts": 0}, "integer from 1 to 5"),
    ("max_attempts", {"max_attempts": 6}, "integer from 1 to 5"),
    ("max_attempts", {"max_attempts": 2.0}, "integer from 1 to 5"),
    # retry delay 0..5000
    ("retry_delay_ms", {"retry_delay_ms": 5001}, "integer from 0 to 5000"),
    ("retry_delay_ms", {"retry_delay_ms": 60_000}, "integer from 0 to 5000"),
    ("retry_delay_ms", {"retry_delay_ms": -1}, "integer from 0 to 5000"),
    # backoff
    ("backoff", {"backoff": "random"}, "constant, linear, exponential"),
    ("backoff", {"backoff": "Exponential"}, "constant, linear, exponential"),
    # timeout
    ("request_timeout_ms", {"request_timeout_ms": 0}, "positive integer"),
    ("request_timeout_ms", {"request_timeout_ms": -5}, "positive integer"),
    ("request_timeout_ms", {"request_timeout_ms": 1.5}, "positive integer"),
    # custom cost
    ("custom_cost", {"custom_cost": {"per_token": 1.0}}, "unknown key(s) 'per_token'"),
    (
        "custom_cost.per_token_in",
        {"custom_cost": {"per_token_in": -1.0, "per_token_out": 1.0}},
        "finite number >= 0",
    ),
    (
        "custom_cost.total_cost",
        {"custom_cost": {"total_cost": math.nan}},
        "finite number >= 0",
    ),
    (
        "custom_cost.per_token_out",
        {"custom_cost": {"per_token_in": 1.0, "per_token_out": True}},
        "finite number >= 0",
    ),
    (
        "custom_cost",
        {"custom_cost": {"total_cost": 1.0, "per_token_in": 0.1}},
        "either total_cost alone or per-token prices",
    ),
    (
        "custom_cost",
        {"custom_cost": {"per_token_in": 0.1}},
        "needs both per_token_in and per_token_out",
    ),
    ("custom_cost", {"custom_cost": {}}, "needs both per_token_in and per_token_out"),
    ("custom_cost", {"custom_cost": "0.1"}, "must be a CustomCost or a mapping"),
    # header text
    ("event_id", {"event_id": "trace\n7"}, "control characters"),
    ("event_id", {"event_id": "trace\x00"}, "control characters"),
    ("event_id", {"event_id": "trace\x7f"}, "control characters"),
    ("event_id", {"event_id": "tr\u00e4ce"}, "ASCII"),
    ("event_id", {"event_id": ""}, "non-empty string"),
    ("event_id", {"event_id": 7}, "non-empty string"),
    ("cache_key", {"cache_key": "a\tb"}, "control characters"),
    ("byok_alias", {"byok_alias": "prod\r\n"}, "control characters"),
]


@pytest.mark.parametrize(
    ("field", "kwargs", "rule"), INVALID, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(INVALID)]
)
def test_invalid_option_names_field_value_and_rule(
    field: str, kwargs: dict[str, Any], rule: str
) -> None:
    with pytest.raises(InvalidOptionError) as exc_info:
        GatewayOptions(**kwargs)
    err = exc_info.value
    assert err.field == field
    assert rule in err.rule
    assert str(err) == f"{field}={err.value!r} is invalid: {err.rule}"
    assert isinstance(err, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "expected_value"),
    [
        ({"cache_ttl": 59}, 59),
        ({"max_attempts": 6}, 6),
        ({"retry_delay_ms": 5001}, 5001),
        ({"backoff": "random"}, "random"),
        ({"event_id": "a\nb"}, "a\nb"),
        ({"metadata": {"cf.user": "x"}}, {"cf.user": "x"}),
    ],
)
def test_invalid_option_error_carries_the_value(
    kwargs: dict[str, Any], expected_value: Any
) -> None:
    with pytest.raises(InvalidOptionError) as exc_info:
        GatewayOptions(**kwargs)
    assert exc_info.value.value == expected_value
    assert repr(expected_value) in str(exc_info.value)


@pytest.mark.parametrize("ttl", [0, 60, 3600, 2_592_000])
def test_valid_cache_ttl_boundaries(ttl: int) -> None:
    assert GatewayOptions(cache_ttl=ttl).to_headers() == {"cf-aig-cache-ttl": str(ttl)}


@pytest.mark.parametrize(
    ("kwargs", "headers"),
    [
        ({"max_attempts": 1}, {"cf-aig-max-attempts": "1"}),
        ({"max_attempts": 5}, {"cf-aig-max-attempts": "5"}),
        ({"retry_delay_ms": 0}, {"cf-aig-retry-delay": "0"}),
        ({"retry_delay_ms": 5000}, {"cf-aig-retry-delay": "5000"}),
        ({"request_timeout_ms": 1}, {"cf-aig-request-timeout": "1"}),
        ({"metadata": {f"k{i}": i for i in range(5)}}, {"cf-aig-metadata": ""}),
    ],
)
def test_valid_boundaries(kwargs: dict[str, Any], headers: dict[str, str]) -> None:
    out = GatewayOptions(**kwargs).to_headers()
    assert set(out) == set(headers)


def test_metadata_with_huge_int_is_valid() -> None:
    # ints beyond float range used to crash with OverflowError in math.isfinite
    opts = GatewayOptions(metadata={"big": 10**400})
    assert json.loads(opts.to_headers()["cf-aig-metadata"]) == {"big": 10**400}


def test_to_headers_exact_output() -> None:
    opts = GatewayOptions(
        cache_ttl=3600,
        skip_cache=True,
        cache_key="key-1",
        collect_log=False,
        collect_log_payload=False,
        metadata={"user": "u-1", "n": 3, "ok": True, "ratio": 1.5},
        event_id="evt-1",
        request_timeout_ms=2500,
        max_attempts=3,
        retry_delay_ms=500,
        backoff="exponential",
        custom_cost={"per_token_in": 0.000001, "per_token_out": 0.000002},
        byok_alias="prod",
        zdr=True,
        no_wholesale=False,
    )
    assert opts.to_headers() == {
        "cf-aig-cache-ttl": "3600",
        "cf-aig-skip-cache": "true",
        "cf-aig-cache-key": "key-1",
        "cf-aig-collect-log": "false",
        "cf-aig-collect-log-payload": "false",
        "cf-aig-metadata": '{"user":"u-1","n":3,"ok":true,"ratio":1.5}',
        "cf-aig-event-id": "evt-1",
        "cf-aig-request-timeout": "2500",
        "cf-aig-max-attempts": "3",
        "cf-aig-retry-delay": "500",
        "cf-aig-backoff": "exponential",
        "cf-aig-custom-cost": '{"per_token_in":1e-06,"per_token_out":2e-06}',
        "cf-aig-byok-alias": "prod",
        "cf-aig-zdr": "true",
        "cf-aig-no-wholesale": "false",
    }


def test_empty_options_render_no_headers() -> None:
    assert GatewayOptions().to_headers() == {}
    assert GatewayOptions().is_empty()
    assert not GatewayOptions(zdr=False).is_empty()


def test_custom_cost_total_and_cache_prices() -> None:
    assert GatewayOptions(custom_cost=CustomCost(total_cost=0.25)).to_headers() == {
        "cf-aig-custom-cost": '{"total_cost":0.25}'
    }
    cost = CustomCost(
        per_token_in=1.0, per_token_out=2.0, per_cache_read_token=0.5, per_cache_write_token=0
    )
    assert cost.to_dict() == {
        "per_token_in": 1.0,
        "per_token_out": 2.0,
        "per_cache_read_token": 0.5,
        "per_cache_write_token": 0,
    }
    # a mapping is normalised to CustomCost
    opts = GatewayOptions(custom_cost={"total_cost": 3})
    assert opts.custom_cost == CustomCost(total_cost=3)


def test_metadata_is_read_only_copy() -> None:
    source = {"user": "u-1"}
    opts = GatewayOptions(metadata=source)
    source["user"] = "changed"
    assert opts.metadata is not None
    assert opts.metadata["user"] == "u-1"
    with pytest.raises(TypeError):
        opts.metadata["user"] = "x"  # type: ignore[index]


# --- merge ---------------------------------------------------------------------------------


def test_merge_per_call_wins_and_none_keeps_default() -> None:
    defaults = GatewayOptions(cache_ttl=3600, collect_log=True, event_id="default-evt")
    per_call = GatewayOptions(cache_ttl=0, skip_cache=True)
    merged = defaults.merge(per_call)
    assert merged == GatewayOptions(
        cache_ttl=0, collect_log=True, event_id="default-evt", skip_cache=True
    )
    assert defaults.merge(None) is defaults
    assert defaults.merge(GatewayOptions()) == defaults


def test_merge_false_is_not_none() -> None:
    merged = GatewayOptions(collect_log=True).merge(GatewayOptions(collect_log=False))
    assert merged.collect_log is False


def test_merge_metadata_key_wise() -> None:
    defaults = GatewayOptions(metadata={"app": "demo", "user": "default"})
    merged = defaults.merge(GatewayOptions(metadata={"user": "u-9", "plan": "free"}))
    assert dict(merged.metadata or {}) == {"app": "demo", "user": "u-9", "plan": "free"}
    # defaults unchanged
    assert dict(defaults.metadata or {}) == {"app": "demo", "user": "default"}
    # only one side set
    assert dict(GatewayOptions().merge(defaults).metadata or {}) == {
        "app": "demo",
        "user": "default",
    }


def test_merge_metadata_is_revalidated() -> None:
    defaults = GatewayOptions(metadata={f"d{i}": i for i in range(3)})
    with pytest.raises(InvalidOptionError) as exc_info:
        defaults.merge(GatewayOptions(metadata={f"c{i}": i for i in range(3)}))
    assert exc_info.value.field == "metadata"
    assert "got 6" in exc_info.value.rule


def test_options_hashable_picklable_deepcopyable() -> None:
    opts = GatewayOptions(metadata={"a": 1, "b": "x"}, custom_cost={"total_cost": 1.0})
    same = GatewayOptions(metadata={"b": "x", "a": 1}, custom_cost=CustomCost(total_cost=1.0))
    assert opts == same
    assert hash(opts) == hash(same)
    assert pickle.loads(pickle.dumps(opts)) == opts
    clone = copy.deepcopy(opts)
    assert clone == opts
    assert clone.to_headers() == opts.to_headers()


# --- properties ----------------------------------------------------------------------------

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=30
)
metadata_values = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
metadata = st.dictionaries(
    st.text(min_size=1, max_size=10).filter(lambda k: not k.startswith("cf.")),
    metadata_values,
    max_size=5,
)
prices = st.floats(min_value=0, max_value=1e3, allow_nan=False)
custom_costs = st.one_of(
    st.builds(CustomCost, total_cost=prices),
    st.builds(
        CustomCost,
        per_token_in=prices,
        per_token_out=prices,
        per_cache_read_token=st.none() | prices,
        per_cache_write_token=st.none() | prices,
    ),
)
opt_bool = st.none() | st.booleans()
valid_options = st.builds(
    GatewayOptions,
    cache_ttl=st.none() | st.just(0) | st.integers(60, 2_592_000),
    skip_cache=opt_bool,
    cache_key=st.none() | header_text,
    collect_log=opt_bool,
    collect_log_payload=opt_bool,
    metadata=st.none() | metadata,
    event_id=st.none() | header_text,
    request_timeout_ms=st.none() | st.integers(1, 10**7),
    max_attempts=st.none() | st.integers(1, 5),
    retry_delay_ms=st.none() | st.integers(0, 5000),
    backoff=st.none() | st.sampled_from(["constant", "linear", "exponential"]),
    custom_cost=st.none() | custom_costs,
    byok_alias=st.none() | header_text,
    zdr=opt_bool,
    no_wholesale=opt_bool,
)

INT_HEADERS = {
    "cache_ttl": "cf-aig-cache-ttl",
    "request_timeout_ms": "cf-aig-request-timeout",
    "max_attempts": "cf-aig-max-attempts",
    "retry_delay_ms": "cf-aig-retry-delay",
}
BOOL_HEADERS = {
    "skip_cache": "cf-aig-skip-cache",
    "collect_log": "cf-aig-collect-log",
    "collect_log_payload": "cf-aig-collect-log-payload",
    "zdr": "cf-aig-zdr",
    "no_wholesale": "cf-aig-no-wholesale",
}
TEXT_HEADERS = {
    "cache_key": "cf-aig-cache-key",
    "event_id": "cf-aig-event-id",
    "byok_alias": "cf-aig-byok-alias",
    "backoff": "cf-aig-backoff",
}


def parse_headers(headers: dict[str, str]) -> dict[str, Any]:
    """An independent reader of the cf-aig-* option headers."""
    out: dict[str, Any] = {}
    for name, header in INT_HEADERS.items():
        if header in headers:
            out[name] = int(headers[header])
    for name, header in BOOL_HEADERS.items():
        if header in headers:
            assert headers[header] in ("true", "false")
            out[name] = headers[header] == "true"
    for name, header in TEXT_HEADERS.items():
        if header in headers:
            out[name] = headers[header]
    if "cf-aig-metadata" in headers:
        out["metadata"] = json.loads(headers["cf-aig-metadata"])
    if "cf-aig-custom-cost" in headers:
        out["custom_cost"] = CustomCost(**json.loads(headers["cf-aig-custom-cost"]))
    return out


@CORE_SETTINGS
@given(valid_options)
def test_headers_parse_back_to_the_same_values(opts: GatewayOptions) -> None:
    headers = opts.to_headers()
    assert all(isinstance(v, str) and v.isascii() for v in headers.values())
    assert all(k.startswith("cf-aig-") for k in headers)
    assert GatewayOptions(**parse_headers(headers)) == opts


INT_RANGES = {
    "cache_ttl": st.integers().filter(lambda v: v != 0 and not 60 <= v <= 2_592_000),
    "max_attempts": st.integers().filter(lambda v: not 1 <= v <= 5),
    "retry_delay_ms": st.integers().filter(lambda v: not 0 <= v <= 5000),
    "request_timeout_ms": st.integers(max_value=0),
}


@CORE_SETTINGS
@given(st.sampled_from(sorted(INT_RANGES)).flatmap(lambda f: st.tuples(st.just(f), INT_RANGES[f])))
def test_any_invalid_int_raises(case: tuple[str, int]) -> None:
    field, value = case
    with pytest.raises(InvalidOptionError) as exc_info:
        GatewayOptions(**{field: value})  # type: ignore[arg-type]
    assert exc_info.value.field == field
    assert exc_info.value.value == value


@CORE_SETTINGS
@given(st.sampled_from(sorted(INT_RANGES)), st.booleans())
def test_bools_never_pass_as_ints(field: str, value: bool) -> None:
    with pytest.raises(InvalidOptionError):
        GatewayOptions(**{field: value})  # type: ignore[arg-type]
