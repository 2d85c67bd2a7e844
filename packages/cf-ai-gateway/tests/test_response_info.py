from __future__ import annotations

import copy
import json
import pickle

import httpx
import pytest
from cf_ai_gateway import GatewayResponseInfo

DLP = {"findings": [{"profile": "pii", "entries": ["email"]}], "action": "FLAG"}
ALL_HEADERS = {
    "CF-AIG-Cache-Status": "hit",
    "cf-aig-log-id": "01964c64-8a2b-7cc3-bd3f-0b8f0f3c5c2e",
    "Cf-Aig-Request-Id": "req-1",
    "cf-aig-event-id": "evt-1",
    "cf-aig-step": "1",
    "cf-aig-model": "gpt-4o-mini",
    "cf-aig-provider": "openai",
    "cf-aig-trace-id": "trace-1",
    "cf-aig-run-id": "run-1",
    "cf-aig-dlp": json.dumps(DLP),
    "content-type": "application/json",
    "x-request-id": "upstream",
}


def test_all_headers_parsed_case_insensitively() -> None:
    info = GatewayResponseInfo.from_headers(ALL_HEADERS, status_code=200)
    assert info.cache_status == "HIT"
    assert info.cache_hit is True
    assert info.log_id == "01964c64-8a2b-7cc3-bd3f-0b8f0f3c5c2e"
    assert info.request_id == "req-1"
    assert info.event_id == "evt-1"
    assert info.step == 1
    assert info.model == "gpt-4o-mini"
    assert info.provider == "openai"
    assert info.trace_id == "trace-1"
    assert info.run_id == "run-1"
    assert info.dlp == DLP
    assert info.status_code == 200
    # raw keeps only cf-aig-* headers, lower-cased, values as sent
    assert dict(info.raw) == {
        k.lower(): v for k, v in ALL_HEADERS.items() if k.lower().startswith("cf-aig-")
    }
    assert info.raw["cf-aig-cache-status"] == "hit"


def test_from_httpx_headers() -> None:
    headers = httpx.Headers({"cf-aig-cache-status": "MISS", "cf-aig-step": "0"})
    info = GatewayResponseInfo.from_headers(headers)
    assert info.cache_status == "MISS"
    assert info.cache_hit is False
    assert info.step == 0


@pytest.mark.parametrize(
    ("headers", "field", "raw_key"),
    [
        ({"cf-aig-step": "-1"}, "step", "cf-aig-step"),
        ({"cf-aig-step": "one"}, "step", "cf-aig-step"),
        ({"cf-aig-step": "1.5"}, "step", "cf-aig-step"),
        ({"cf-aig-cache-status": "STALE"}, "cache_status", "cf-aig-cache-status"),
        ({"cf-aig-cache-status": "BYPASS"}, "cache_status", "cf-aig-cache-status"),
    ],
)
def test_unparseable_values_kept_raw(headers: dict[str, str], field: str, raw_key: str) -> None:
    info = GatewayResponseInfo.from_headers(headers)
    assert getattr(info, field) is None
    assert info.raw[raw_key] == headers[raw_key]
    assert field not in info.to_dict()


def test_bad_dlp_json_kept_as_text() -> None:
    info = GatewayResponseInfo.from_headers({"cf-aig-dlp": "{not json"})
    assert info.dlp == "{not json"


def test_empty_values_are_none() -> None:
    info = GatewayResponseInfo.from_headers({"cf-aig-log-id": "", "cf-aig-step": " "})
    assert info.log_id is None
    assert info.step is None


def test_to_dict() -> None:
    info = GatewayResponseInfo.from_headers(ALL_HEADERS, status_code=200)
    assert info.to_dict() == {
        "cache_status": "HIT",
        "log_id": "01964c64-8a2b-7cc3-bd3f-0b8f0f3c5c2e",
        "request_id": "req-1",
        "event_id": "evt-1",
        "step": 1,
        "model": "gpt-4o-mini",
        "provider": "openai",
        "trace_id": "trace-1",
        "run_id": "run-1",
        "dlp": DLP,
        "status_code": 200,
    }
    json.dumps(info.to_dict())
    assert GatewayResponseInfo().to_dict() == {}


def test_raw_is_read_only_and_info_survives_pickle_and_deepcopy() -> None:
    info = GatewayResponseInfo.from_headers(ALL_HEADERS, status_code=200)
    with pytest.raises(TypeError):
        info.raw["cf-aig-step"] = "9"  # type: ignore[index]
    assert pickle.loads(pickle.dumps(info)) == info
    assert copy.deepcopy(info) == info
    built = GatewayResponseInfo(raw={"cf-aig-step": "2"})
    with pytest.raises(TypeError):
        built.raw["x"] = "y"  # type: ignore[index]
