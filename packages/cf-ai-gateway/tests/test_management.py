"""The management client, sync and async twins, against ``httpx.MockTransport``: requests as
Cloudflare documents them, answers in the v4 envelope (and the dynamic-routes ``data`` shape),
lazy pagination, typed records, validation before any request, errors and secrets."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from _cf_core_helpers import ACCOUNT, GATEWAY_ID, TOKEN, Recorder, ok_json
from cf_ai_gateway import (
    AsyncManagementClient,
    BadRequestError,
    Gateway,
    GatewayAuthenticationError,
    GatewayConfigError,
    GatewayConnectionError,
    GatewayNotFoundError,
    GatewaySettings,
    InvalidOptionError,
    InvalidResponseError,
    LogEntry,
    LogFilter,
    ManagementClient,
    ModelNotFoundError,
    ProviderError,
    RateLimitError,
    RetryPolicy,
)
from cf_ai_gateway.management import ENV_API_TOKEN, DynamicRoute, log_filters

API = f"https://api.cloudflare.com/client/v4/accounts/{ACCOUNT}/ai-gateway"
LOGS = f"{API}/gateways/{GATEWAY_ID}/logs"


def envelope(result: Any, **info: Any) -> httpx.Response:
    data: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if info:
        data["result_info"] = info
    return ok_json(data)


def failure(status: int, code: int, message: str) -> httpx.Response:
    return ok_json(
        {"success": False, "errors": [{"code": code, "message": message}], "messages": []},
        status=status,
    )


def log(log_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": log_id,
        "created_at": "2025-01-01T12:00:00.000Z",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "success": True,
        "cached": False,
        "status_code": 200,
        "duration": 120,
        "tokens_in": 9,
        "tokens_out": 11,
        "cost": 0.0000081,
        "metadata": None,
        **fields,
    }


def query(request: httpx.Request) -> dict[str, Any]:
    """The query string, with ``filters`` decoded."""
    out: dict[str, Any] = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
    if "filters" in out:
        out["filters"] = json.loads(out["filters"])
    return out


def path(request: httpx.Request) -> str:
    url = urlsplit(str(request.url))
    return f"{url.scheme}://{url.netloc}{url.path}"


class Mgmt:
    """Calls the sync or the async management client with one awaitable interface."""

    def __init__(self, client: ManagementClient | AsyncManagementClient, sleeps: list[float]):
        self.client = client
        self.sleeps = sleeps

    async def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        if hasattr(result, "__aiter__"):
            return [item async for item in result]
        if hasattr(result, "__next__"):
            return list(result)
        return result

    def iterate(self, method: str, **kwargs: Any) -> Any:
        """The raw (lazy) iterator, to check what it fetches when."""
        return getattr(self.client, method)(**kwargs)


@pytest.fixture
async def make_mgmt(mode: str, recorder: Recorder) -> AsyncIterator[Callable[..., Mgmt]]:
    made: list[Mgmt] = []

    def make(**kwargs: Any) -> Mgmt:
        kwargs.setdefault("retry", RetryPolicy(max_retries=2, jitter=0))
        kwargs.setdefault("gateway_id", GATEWAY_ID)
        transport = httpx.MockTransport(recorder)
        sleeps: list[float] = []
        client: ManagementClient | AsyncManagementClient
        if mode == "sync":
            client = ManagementClient(
                ACCOUNT, TOKEN, http_client=httpx.Client(transport=transport), **kwargs
            )
            client._sleep = sleeps.append
        else:
            client = AsyncManagementClient(
                ACCOUNT, TOKEN, http_client=httpx.AsyncClient(transport=transport), **kwargs
            )

            async def sleep(delay: float) -> None:
                sleeps.append(delay)

            client._sleep = sleep
        made.append(Mgmt(client, sleeps))
        return made[-1]

    yield make
    for m in made:
        if isinstance(m.client, AsyncManagementClient):
            await m.client._http.aclose()
        else:
            m.client._http.close()


@pytest.fixture
def mgmt(make_mgmt: Callable[..., Mgmt]) -> Mgmt:
    return make_mgmt()


# --- construction ----------------------------------------------------------------------------


def test_repr_and_errors_never_show_the_token() -> None:
    client = ManagementClient(ACCOUNT, TOKEN, gateway_id=GATEWAY_ID)
    try:
        assert TOKEN not in repr(client)
        assert TOKEN not in str(client)
        assert repr(client) == (
            f"ManagementClient(account_id={ACCOUNT!r}, gateway_id={GATEWAY_ID!r}, "
            "api_base_url='https://api.cloudflare.com/client/v4')"
        )
    finally:
        client.close()


@pytest.mark.parametrize(
    ("account", "token", "match"),
    [
        ("", TOKEN, "account_id"),
        ("acc/../x", TOKEN, "account_id"),
        (ACCOUNT, "", "token"),
        (ACCOUNT, "two\nlines", "token"),
    ],
)
def test_bad_configuration_fails_before_any_request(account: str, token: str, match: str) -> None:
    with pytest.raises(GatewayConfigError, match=match):
        ManagementClient(account, token)


def test_from_env_reads_the_account_token_first() -> None:
    env = {
        "CF_ACCOUNT_ID": ACCOUNT,
        "CF_GATEWAY_ID": GATEWAY_ID,
        "CF_AIG_TOKEN": "gateway-run-token",
        "CF_API_TOKEN": "account-api-token",
    }
    with ManagementClient.from_env(env) as client:
        assert (client.account_id, client.gateway_id) == (ACCOUNT, GATEWAY_ID)
        assert client._api._token == "account-api-token"
    with ManagementClient.from_env({**env, "CF_API_TOKEN": ""}) as client:
        assert client._api._token == "gateway-run-token"
    assert ENV_API_TOKEN == ("CF_API_TOKEN", "CLOUDFLARE_API_TOKEN", "CF_AIG_TOKEN")


def test_from_env_takes_account_gateway_and_host_from_a_gateway_url() -> None:
    env = {
        "CF_AIG_URL": "http://127.0.0.1:8787/v1/emu-account/demo/openai/v1",
        "CF_AIG_TOKEN": "t0k3n",
    }
    with ManagementClient.from_env(env) as client:
        assert client.account_id == "emu-account"
        assert client.gateway_id == "demo"
        assert client.api_base_url == "http://127.0.0.1:8787/client/v4"
    with ManagementClient.from_env(env, gateway_id="other") as client:
        assert client.gateway_id == "other"


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"CF_AIG_TOKEN": "t0k3n"}, "CF_ACCOUNT_ID"),
        ({"CF_ACCOUNT_ID": ACCOUNT}, "CF_API_TOKEN or CLOUDFLARE_API_TOKEN or CF_AIG_TOKEN"),
    ],
)
def test_from_env_names_what_is_missing(env: dict[str, str], match: str) -> None:
    with pytest.raises(GatewayConfigError, match=match):
        ManagementClient.from_env(env)


def test_from_gateway() -> None:
    gw = Gateway.from_url("http://127.0.0.1:9999/v1/emu-account/demo", token="t0k3n")
    with ManagementClient.from_gateway(gw) as client:
        assert (client.account_id, client.gateway_id) == ("emu-account", "demo")
        assert client.api_base_url == "http://127.0.0.1:9999/client/v4"
    with pytest.raises(GatewayConfigError, match="management API needs a Cloudflare API token"):
        ManagementClient.from_gateway(Gateway(account_id=ACCOUNT, gateway_id="demo"))
    custom = Gateway.from_url("https://ai.example.com", token="t0k3n")
    with pytest.raises(GatewayConfigError, match="custom-domain"):
        AsyncManagementClient.from_gateway(custom)


def test_context_managers_close_only_their_own_client() -> None:
    with ManagementClient(ACCOUNT, TOKEN) as owned:
        pass
    assert owned._http.is_closed
    mine = httpx.Client()
    with ManagementClient(ACCOUNT, TOKEN, http_client=mine):
        pass
    assert not mine.is_closed
    mine.close()


async def test_async_context_manager_closes() -> None:
    async with AsyncManagementClient(ACCOUNT, TOKEN) as client:
        pass
    assert client._http.is_closed


# --- requests and envelopes ------------------------------------------------------------------


async def test_requests_carry_the_account_token_and_nothing_of_the_gateway(
    mgmt: Mgmt, recorder: Recorder
) -> None:
    recorder.add(envelope({"id": GATEWAY_ID}))
    await mgmt("get_gateway")
    req = recorder.last
    assert str(req.url) == f"{API}/gateways/{GATEWAY_ID}"
    assert req.headers["authorization"] == f"Bearer {TOKEN}"
    assert not [h for h in req.headers if h.startswith("cf-aig-")]
    assert req.headers["user-agent"].startswith("cf-ai-gateway-python/")


async def test_no_gateway_anywhere_is_a_config_error(
    make_mgmt: Callable[..., Mgmt], recorder: Recorder
) -> None:
    m = make_mgmt(gateway_id=None)
    with pytest.raises(GatewayConfigError, match="no gateway given"):
        await m("get_log", "L1")
    recorder.add(envelope(log("L1")))
    assert (await m("get_log", "L1", gateway_id="other")).id == "L1"
    assert str(recorder.last.url) == f"{API}/gateways/other/logs/L1"


@pytest.mark.parametrize("bad", ["", "a/b", "x?y=1", "x#y", " "])
async def test_ids_are_one_path_segment(mgmt: Mgmt, recorder: Recorder, bad: str) -> None:
    with pytest.raises(ValueError, match="without '/'"):
        await mgmt("get_log", bad)
    assert recorder.requests == []


async def test_request_escape_hatch_returns_the_envelope(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(envelope([{"id": "ds-1"}], page=1, per_page=20, count=1, total_count=1))
    body = await mgmt("request", "GET", f"gateways/{GATEWAY_ID}/datasets", params={"page": 1})
    assert body["result"] == [{"id": "ds-1"}]
    assert str(recorder.last.url) == f"{API}/gateways/{GATEWAY_ID}/datasets?page=1"


async def test_success_false_in_a_2xx_is_an_invalid_response(
    mgmt: Mgmt, recorder: Recorder
) -> None:
    recorder.add(ok_json({"success": False, "errors": [{"code": 1, "message": "odd"}]}))
    with pytest.raises(InvalidResponseError, match="success=false"):
        await mgmt("get_gateway")


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "message", "cls"),
    [
        (401, 10000, "Authentication error", GatewayAuthenticationError),
        (403, 9109, "Unauthorized to access requested resource", GatewayAuthenticationError),
        (404, 2001, "gateway 'my-gw' not found", GatewayNotFoundError),
        (
            400,
            7003,
            "Could not route to /accounts/x, perhaps your object id is invalid?",
            BadRequestError,
        ),
        (404, 7000, "No route for that URI", BadRequestError),
    ],
)
async def test_v4_envelopes_map_into_the_hierarchy(
    mgmt: Mgmt, recorder: Recorder, status: int, code: int, message: str, cls: type[Exception]
) -> None:
    recorder.add(failure(status, code, message))
    with pytest.raises(cls) as exc_info:
        await mgmt("get_gateway")
    assert type(exc_info.value) is cls
    assert not isinstance(exc_info.value, ModelNotFoundError)
    assert len(recorder.requests) == 1  # not retried


async def test_5xx_and_429_are_retried_with_the_server_delay(
    mgmt: Mgmt, recorder: Recorder
) -> None:
    recorder.add(
        failure(503, 10001, "busy"),
        httpx.Response(429, json={"success": False, "errors": []}, headers={"retry-after": "3"}),
        envelope({"id": GATEWAY_ID}),
    )
    assert (await mgmt("get_gateway")).id == GATEWAY_ID
    assert mgmt.sleeps == [0.5, 3.0]


async def test_retries_give_up_with_the_typed_error(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(*(failure(502, 10001, "bad gateway") for _ in range(3)))
    with pytest.raises(ProviderError, match="bad gateway"):
        await mgmt("get_gateway")
    recorder.add(*(httpx.Response(429, json={}) for _ in range(3)))
    with pytest.raises(RateLimitError):
        await mgmt("get_gateway")


async def test_the_token_never_reaches_an_error(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(failure(400, 7001, f"bad header Bearer {TOKEN} and {TOKEN}"))
    with pytest.raises(BadRequestError) as exc_info:
        await mgmt("get_gateway")
    err = exc_info.value
    for text in (str(err), repr(err), err.body or "", err.message):
        assert TOKEN not in text
    recorder.add(*(httpx.ConnectError(f"refused, token {TOKEN}") for _ in range(3)))
    with pytest.raises(GatewayConnectionError) as exc_info2:
        await mgmt("get_gateway")
    assert TOKEN not in str(exc_info2.value)


# --- gateways --------------------------------------------------------------------------------

GATEWAY_API = {
    "id": GATEWAY_ID,
    "account_id": ACCOUNT,
    "account_tag": "tag",
    "internal_id": "int-1",
    "cache_ttl": 3600,
    "cache_invalidate_on_update": True,
    "collect_logs": True,
    "rate_limiting_interval": 60,
    "rate_limiting_limit": 10,
    "rate_limiting_technique": "sliding",
    "authentication": True,
    "log_management": 10000,
    "log_management_strategy": "DELETE_OLDEST",
    "logpush": False,
    "retry_max_attempts": 3,
    "retry_delay": 500,
    "retry_backoff": "exponential",
    "zdr": False,
    "created_at": "2025-01-01T12:00:00Z",
    "modified_at": "2025-01-02T12:00:00.123456Z",
}


def test_gateway_settings_parse_and_keep_unknown_fields() -> None:
    gw = GatewaySettings.from_api(GATEWAY_API)
    assert gw.cache_ttl == 3600
    assert gw.rate_limiting_technique == "sliding"
    assert gw.log_management_strategy == "DELETE_OLDEST"
    assert gw.retry_backoff == "exponential"
    assert gw.created_at == datetime(2025, 1, 1, 12, tzinfo=timezone.utc)
    assert gw.modified_at is not None
    assert gw.modified_at.microsecond == 123456
    assert gw.extra == {
        "account_id": ACCOUNT,
        "account_tag": "tag",
        "internal_id": "int-1",
        "logpush": False,
    }
    assert gw.to_dict()["created_at"] == "2025-01-01T12:00:00.000Z"


async def test_list_gateways_pages_lazily(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(
        envelope([{"id": "a"}, {"id": "b"}], page=1, per_page=2, count=2, total_count=3),
        envelope([{"id": "c"}], page=2, per_page=2, count=1, total_count=3),
    )
    gateways = await mgmt("list_gateways", per_page=2, search="x")
    assert [g.id for g in gateways] == ["a", "b", "c"]
    assert [query(r) for r in recorder.requests] == [
        {"page": "1", "per_page": "2", "search": "x"},
        {"page": "2", "per_page": "2", "search": "x"},
    ]


def test_the_iterator_fetches_a_page_only_when_it_gets_there(recorder: Recorder) -> None:
    client = ManagementClient(
        ACCOUNT, TOKEN, http_client=httpx.Client(transport=httpx.MockTransport(recorder))
    )
    recorder.add(
        envelope([{"id": "a"}, {"id": "b"}], page=1, per_page=2, total_count=4),
        envelope([{"id": "c"}, {"id": "d"}], page=2, per_page=2, total_count=4),
    )
    gateways = client.list_gateways(per_page=2)
    assert recorder.requests == []
    assert next(gateways).id == "a"
    assert next(gateways).id == "b"
    assert len(recorder.requests) == 1
    assert next(gateways).id == "c"
    assert len(recorder.requests) == 2


async def test_pagination_without_result_info_stops_on_a_short_page(
    mgmt: Mgmt, recorder: Recorder
) -> None:
    recorder.add(envelope([{"id": "a"}, {"id": "b"}]), envelope([{"id": "c"}]))
    assert [g.id for g in await mgmt("list_gateways", per_page=2)] == ["a", "b", "c"]
    recorder.add(envelope([]))
    assert await mgmt("list_gateways") == []


async def test_limit_asks_for_no_more_than_needed(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(envelope([{"id": "a"}, {"id": "b"}], total_count=10))
    assert [g.id for g in await mgmt("list_gateways", limit=2)] == ["a", "b"]
    assert query(recorder.last)["per_page"] == "2"
    assert len(recorder.requests) == 1


async def test_create_sends_every_writable_field(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(envelope({**GATEWAY_API, "id": "new-gw", "cache_ttl": 60}))
    created = await mgmt("create_gateway", GatewaySettings(id="new-gw", cache_ttl=60))
    assert created.id == "new-gw"
    req = recorder.last
    assert (req.method, str(req.url)) == ("POST", f"{API}/gateways")
    assert json.loads(req.content) == {
        "id": "new-gw",
        "cache_ttl": 60,
        "cache_invalidate_on_update": False,
        "collect_logs": True,
        "rate_limiting_interval": None,
        "rate_limiting_limit": None,
        "rate_limiting_technique": "fixed",
        "authentication": False,
        "log_management": None,
        "log_management_strategy": None,
        "retry_max_attempts": None,
        "retry_delay": None,
        "retry_backoff": None,
        "zdr": False,
    }


async def test_update_is_a_full_replace_that_keeps_unknown_writable_fields(
    mgmt: Mgmt, recorder: Recorder
) -> None:
    current = GatewaySettings.from_api(GATEWAY_API)
    recorder.add(envelope({**GATEWAY_API, "cache_ttl": 0}))
    updated = await mgmt("update_gateway", current.replace(cache_ttl=0))
    assert updated.cache_ttl == 0
    req = recorder.last
    assert (req.method, str(req.url)) == ("PUT", f"{API}/gateways/{GATEWAY_ID}")
    sent = json.loads(req.content)
    assert sent["cache_ttl"] == 0
    assert sent["logpush"] is False  # unknown to us, kept
    for read_only in ("id", "account_id", "account_tag", "internal_id", "created_at"):
        assert read_only not in sent


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rate_limiting_technique": "burst"}, "rate_limiting_technique"),
        ({"retry_max_attempts": 9}, "retry_max_attempts"),
        ({"rate_limiting_limit": 5}, "rate_limiting_limit"),
        ({"cache_ttl": -1}, "cache_ttl"),
        ({"cache_ttl": 10**9}, "cache_ttl"),
        ({"id": "bad id"}, "id"),
        ({"retry_backoff": "random"}, "retry_backoff"),
        ({"log_management": 0}, "log_management"),
        ({"zdr": "yes"}, "zdr"),
    ],
)
async def test_bad_settings_fail_before_any_request(
    mgmt: Mgmt, recorder: Recorder, changes: dict[str, Any], field: str
) -> None:
    settings = GatewaySettings(id="gw").replace(**changes)
    with pytest.raises(InvalidOptionError) as exc_info:
        await mgmt("create_gateway", settings)
    assert exc_info.value.field == field
    assert recorder.requests == []


async def test_delete_gateway_needs_an_explicit_id(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(envelope({"id": "old"}))
    assert (await mgmt("delete_gateway", "old")).id == "old"
    assert (recorder.last.method, str(recorder.last.url)) == ("DELETE", f"{API}/gateways/old")
    assert "gateway_id" in inspect.signature(ManagementClient.delete_gateway).parameters
    assert (
        inspect.signature(ManagementClient.delete_gateway).parameters["gateway_id"].default
        is inspect.Parameter.empty
    )


# --- logs ------------------------------------------------------------------------------------


def test_log_entries_are_typed() -> None:
    entry = LogEntry.from_api(
        log(
            "L1",
            metadata='{"user": "u-42", "plan": "free"}',
            step=1,
            feedback=-1,
            score=87.5,
            event_id="trace-1",
            custom_cost=True,
            cached=True,
            created_at="2025-06-01T10:20:30.5Z",
        )
    )
    assert entry.metadata == {"user": "u-42", "plan": "free"}
    assert (entry.step, entry.feedback, entry.score, entry.event_id) == (1, -1, 87.5, "trace-1")
    assert entry.cache_status == "HIT"
    assert entry.total_tokens == 20
    assert entry.created_at == datetime(2025, 6, 1, 10, 20, 30, 500000, tzinfo=timezone.utc)
    assert entry.raw["metadata"] == '{"user": "u-42", "plan": "free"}'
    data = entry.to_dict()
    assert data["metadata"] == {"user": "u-42", "plan": "free"}
    assert data["created_at"] == "2025-06-01T10:20:30.500Z"
    json.dumps(data)


@pytest.mark.parametrize("metadata", [None, "", "not json", "[1, 2]", 42])
def test_log_metadata_that_is_not_an_object_is_empty(metadata: Any) -> None:
    assert LogEntry.from_api(log("L1", metadata=metadata)).metadata == {}


def test_log_entry_survives_odd_values() -> None:
    entry = LogEntry.from_api({"id": "L1", "created_at": "yesterday", "cost": "NaN", "cached": 1})
    assert entry.created_at is None
    assert entry.cost is None
    assert entry.cached is True
    assert entry.total_tokens is None


async def test_list_logs_sends_cloudflares_query(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(envelope([log("L2"), log("L1")], page=1, per_page=50, total_count=2))
    entries = await mgmt(
        "list_logs",
        provider="openai",
        model="gpt-4o-mini",
        success=True,
        cached=False,
        search="hello",
        order_by="cost",
        direction="asc",
        filters=[
            LogFilter.gt("cost", 0.001),
            {"key": "event_id", "operator": "eq", "value": ["e1"]},
        ],
    )
    assert [e.id for e in entries] == ["L2", "L1"]
    assert path(recorder.last) == LOGS
    assert query(recorder.last) == {
        "search": "hello",
        "order_by": "cost",
        "order_by_direction": "asc",
        "page": "1",
        "per_page": "50",
        "filters": [
            {"key": "cost", "operator": "gt", "value": [0.001]},
            {"key": "event_id", "operator": "eq", "value": ["e1"]},
            {"key": "provider", "operator": "eq", "value": ["openai"]},
            {"key": "model", "operator": "eq", "value": ["gpt-4o-mini"]},
            {"key": "success", "operator": "eq", "value": [True]},
            {"key": "cached", "operator": "eq", "value": [False]},
        ],
    }


async def test_list_logs_defaults(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(envelope([]))
    assert await mgmt("list_logs") == []
    assert query(recorder.last) == {
        "order_by": "created_at",
        "order_by_direction": "desc",
        "page": "1",
        "per_page": "50",
    }


async def test_list_logs_pages_until_the_total(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(
        envelope([log("L4"), log("L3")], page=1, per_page=2, total_count=4),
        envelope([log("L2"), log("L1")], page=2, per_page=2, total_count=4),
    )
    entries = await mgmt("list_logs", per_page=2)
    assert [e.id for e in entries] == ["L4", "L3", "L2", "L1"]
    assert len(recorder.requests) == 2


async def test_metadata_is_filtered_by_key_and_value_and_paired_here(
    mgmt: Mgmt, recorder: Recorder
) -> None:
    recorder.add(
        envelope(
            [
                log("L3", metadata='{"user": "u-1", "team": "u-42"}'),  # key and value, unpaired
                log("L2", metadata='{"user": "u-42"}'),
                log("L1", metadata='{"user": "U-42", "plan": "free"}'),
            ],
            total_count=3,
        )
    )
    entries = await mgmt("list_logs", metadata={"user": "u-42"}, limit=5)
    assert [e.id for e in entries] == ["L2", "L1"]
    assert query(recorder.last)["filters"] == [
        {"key": "metadata.key", "operator": "eq", "value": ["user"]},
        {"key": "metadata.value", "operator": "eq", "value": ["u-42"]},
    ]


async def test_since_and_until_are_created_at_filters(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(envelope([]))
    since = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
    await mgmt("list_logs", since=since, until="2025-01-02T00:00:00Z")
    assert query(recorder.last)["filters"] == [
        {"key": "created_at", "operator": "gt", "value": ["2025-01-01T12:00:00.000Z"]},
        {"key": "created_at", "operator": "lt", "value": ["2025-01-02T00:00:00.000Z"]},
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01T12:00:00Z", datetime(2025, 1, 1, 12, tzinfo=timezone.utc)),
        ("2025-01-01T12:00:00.123456789Z", datetime(2025, 1, 1, 12, 0, 0, 123456, timezone.utc)),
        ("2025-01-01 12:00:00", datetime(2025, 1, 1, 12, tzinfo=timezone.utc)),
        ("2025-01-01T14:00:00+02:00", datetime(2025, 1, 1, 12, tzinfo=timezone.utc)),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_timestamp(text: str | None, expected: datetime | None) -> None:
    from cf_ai_gateway.management_models import parse_timestamp

    assert parse_timestamp(text) == expected


def test_parse_since_forms() -> None:
    from cf_ai_gateway.management_models import parse_since

    now = datetime(2025, 1, 8, 12, tzinfo=timezone.utc)
    assert parse_since("90s", now=now) == now - timedelta(seconds=90)
    assert parse_since("1w", now=now) == datetime(2025, 1, 1, 12, tzinfo=timezone.utc)
    assert parse_since("2 days", now=now) == now - timedelta(days=2)
    assert parse_since("2025-01-01T10:00:00Z") == datetime(2025, 1, 1, 10, tzinfo=timezone.utc)
    naive = parse_since("2025-01-01T10:00:00")
    assert naive.tzinfo is not None  # local time, made aware
    assert parse_since(timedelta(minutes=1), now=now) == now - timedelta(minutes=1)
    with pytest.raises(TypeError):
        parse_since(5)  # type: ignore[arg-type]


def test_relative_since() -> None:
    before = datetime.now(timezone.utc)
    (flt,) = log_filters(since="15m")
    value = datetime.fromisoformat(str(flt.value[0]).replace("Z", "+00:00"))
    assert before - timedelta(minutes=15, seconds=5) < value < before - timedelta(minutes=14)
    (flt,) = log_filters(since=timedelta(hours=2))
    assert flt.key == "created_at"
    with pytest.raises(ValueError, match="not a time"):
        log_filters(since="last tuesday")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"order_by": "mood"}, "order_by"),
        ({"direction": "up"}, "direction"),
        ({"per_page": 51}, "per_page"),
        ({"per_page": 0}, "per_page"),
        ({"filters": [{"key": "cost", "operator": "gte", "value": [1]}]}, "filter.operator"),
        ({"filters": [{"key": "", "operator": "eq", "value": [1]}]}, "filter.key"),
        ({"filters": [{"key": "x", "op": "eq"}]}, "filter"),
        ({"metadata": {"user": {"id": 1}}}, "filter 'metadata.value' value"),
    ],
)
async def test_bad_log_queries_fail_before_any_request(
    mgmt: Mgmt, recorder: Recorder, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidOptionError) as exc_info:
        await mgmt("list_logs", **kwargs)
    assert exc_info.value.field == field
    assert recorder.requests == []


def test_log_filter_builders() -> None:
    assert LogFilter.eq("provider", "openai", "groq").to_api() == {
        "key": "provider",
        "operator": "eq",
        "value": ["openai", "groq"],
    }
    assert LogFilter.neq("success", True).operator == "neq"
    assert LogFilter.contains("model", "gpt").value == ("gpt",)
    assert LogFilter.lt("duration", 100).to_api()["value"] == [100]
    assert LogFilter("cost", "gt", [1]).value == (1,)  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="needs a value"):
        LogFilter.eq("provider")
    with pytest.raises(InvalidOptionError, match="string, number or boolean"):
        LogFilter.eq("provider", {"a": 1})  # type: ignore[arg-type]


async def test_get_log_and_its_bodies(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(
        envelope(log("L1", metadata='{"user": "u-1"}')),
        envelope({"model": "gpt-4o-mini", "messages": []}),  # the emulator wraps the body
        ok_json({"id": "chatcmpl-1", "choices": []}),  # Cloudflare sends it as is
        httpx.Response(200, text="plain text body"),
    )
    entry = await mgmt("get_log", "L1")
    assert entry.metadata == {"user": "u-1"}
    assert await mgmt("get_log_request", "L1") == {"model": "gpt-4o-mini", "messages": []}
    assert await mgmt("get_log_response", "L1") == {"id": "chatcmpl-1", "choices": []}
    assert await mgmt("get_log_response", "L1") == "plain text body"
    assert [path(r) for r in recorder.requests] == [
        f"{LOGS}/L1",
        f"{LOGS}/L1/request",
        f"{LOGS}/L1/response",
        f"{LOGS}/L1/response",
    ]


async def test_a_body_not_collected_is_a_404(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(failure(404, 7006, "the log has no request body (payload collection was off)"))
    with pytest.raises(BadRequestError, match="payload collection was off") as exc_info:
        await mgmt("get_log_request", "L1")
    assert exc_info.value.status_code == 404


async def test_feedback_score_and_metadata_are_patches(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(*(envelope(log("L1")) for _ in range(4)))
    assert await mgmt("feedback", "L1", +1) is None
    await mgmt("feedback", "L1", -1)
    await mgmt("score", "L1", 87.5)
    await mgmt("update_log", "L1", metadata={"reviewed": True}, feedback=0)
    assert [(r.method, path(r)) for r in recorder.requests] == [("PATCH", f"{LOGS}/L1")] * 4
    assert [json.loads(r.content) for r in recorder.requests] == [
        {"feedback": 1},
        {"feedback": -1},
        {"score": 87.5},
        {"feedback": 0, "metadata": {"reviewed": True}},
    ]


@pytest.mark.parametrize(
    ("method", "args", "kwargs"),
    [
        ("feedback", ("L1", 2), {}),
        ("feedback", ("L1", 0), {}),
        ("feedback", ("L1", True), {}),
        ("score", ("L1", float("nan")), {}),
        ("score", ("L1", "high"), {}),
        ("update_log", ("L1",), {"feedback": 5}),
        ("update_log", ("L1",), {"metadata": {"cf.reserved": 1}}),
    ],
)
async def test_bad_updates_fail_before_any_request(
    mgmt: Mgmt, recorder: Recorder, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(InvalidOptionError):
        await mgmt(method, *args, **kwargs)
    assert recorder.requests == []


async def test_an_empty_update_is_refused(mgmt: Mgmt, recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="needs feedback, score or metadata"):
        await mgmt("update_log", "L1")


async def test_delete_logs_needs_a_filter_or_all_logs(mgmt: Mgmt, recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="all_logs=True"):
        await mgmt("delete_logs")
    assert recorder.requests == []
    recorder.add(envelope({"deleted": 3}), ok_json({"success": True}))
    flt = LogFilter.eq("provider", "openai")
    assert await mgmt("delete_logs", filters=[flt]) == 3
    assert recorder.requests[0].method == "DELETE"
    assert query(recorder.requests[0]) == {"filters": [flt.to_api()]}
    assert await mgmt("delete_logs", all_logs=True) is None  # Cloudflare says success only
    assert str(recorder.last.url) == LOGS


# --- dynamic routes --------------------------------------------------------------------------

ROUTE_ELEMENTS = [
    {"id": "start", "type": "start", "outputs": {"next": {"elementId": "m"}}},
    {
        "id": "m",
        "type": "model",
        "properties": {"provider": "openai", "model": "gpt-4o-mini", "timeout": 1000, "retries": 1},
        "outputs": {"success": {"elementId": "end"}, "fallback": {"elementId": "end"}},
    },
    {"id": "end", "type": "end", "outputs": {}},
]
CLOUDFLARE_ROUTE = {
    "id": "route-1",
    "name": "support",
    "account_tag": "tag",
    "gateway_id": GATEWAY_ID,
    "created_at": "2025-01-01T12:00:00Z",
    "modified_at": "2025-01-01T12:00:00Z",
    "elements": ROUTE_ELEMENTS,
    "version": {
        "version_id": "v2",
        "active": "true",
        "created_at": "2025-01-01 12:00:00",
        "data": json.dumps(ROUTE_ELEMENTS),
    },
    "deployment": {"deployment_id": "d1", "version_id": "v2", "created_at": "2025-01-01 12:00:00"},
}


async def test_routes_in_cloudflares_shape(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(
        ok_json({"success": True, "data": {"routes": [CLOUDFLARE_ROUTE], "page": 1}}),
        envelope(CLOUDFLARE_ROUTE),
    )
    (route,) = await mgmt("list_routes")
    assert (route.id, route.name, route.gateway_id) == ("route-1", "support", GATEWAY_ID)
    assert route.models == ["openai/gpt-4o-mini"]
    assert route.version is not None
    assert route.version.active is True
    assert route.version.elements == tuple(ROUTE_ELEMENTS)
    assert route.deployment is not None
    assert route.deployment.version_id == "v2"
    assert await mgmt("get_route", "route-1") == route
    assert [path(r) for r in recorder.requests] == [
        f"{API}/gateways/{GATEWAY_ID}/routes",
        f"{API}/gateways/{GATEWAY_ID}/routes/route-1",
    ]
    json.dumps(route.to_dict())


async def test_routes_in_the_emulators_shape(mgmt: Mgmt, recorder: Recorder) -> None:
    recorder.add(envelope([{"name": "support", "elements": ROUTE_ELEMENTS}], total_count=1))
    (route,) = await mgmt("list_routes")
    assert (route.id, route.name, route.version, route.deployment) == (
        "support",
        "support",
        None,
        None,
    )


def test_route_elements_keyed_by_id_are_read_too() -> None:
    """The emulator returns its parsed form: ``{id: element}`` with outputs as bare ids."""
    route = DynamicRoute.from_api(
        {
            "name": "support",
            "elements": {
                "start": {"type": "start", "outputs": {"next": "m"}},
                "m": {
                    "type": "model",
                    "properties": {"provider": "groq", "model": "llama"},
                    "outputs": {"success": "end"},
                },
                "end": {"type": "end", "outputs": {}},
            },
        }
    )
    assert [e["id"] for e in route.elements] == ["start", "m", "end"]
    assert route.elements[0]["outputs"] == {"next": {"elementId": "m"}}
    assert route.models == ["groq/llama"]


async def test_route_versions_and_deployments(mgmt: Mgmt, recorder: Recorder) -> None:
    version = {
        "version_id": "v1",
        "active": "false",
        "created_at": "2025-01-01 10:00:00",
        "data": json.dumps({"elements": ROUTE_ELEMENTS}),
        "comment": "first",
    }
    recorder.add(
        ok_json({"success": True, "data": {"versions": [version], "page": 1}}),
        envelope({**version, "id": "route-1", "elements": ROUTE_ELEMENTS}),
        ok_json({"success": True, "data": {"deployments": [CLOUDFLARE_ROUTE["deployment"]]}}),
    )
    (v,) = await mgmt("list_route_versions", "route-1")
    assert (v.version_id, v.active, v.comment, len(v.elements)) == ("v1", False, "first", 3)
    assert v.created_at == datetime(2025, 1, 1, 10, tzinfo=timezone.utc)
    one = await mgmt("get_route_version", "route-1", "v1")
    assert one.elements == tuple(ROUTE_ELEMENTS)
    (d,) = await mgmt("list_route_deployments", "route-1")
    assert (d.deployment_id, d.version_id) == ("d1", "v2")
    base = f"{API}/gateways/{GATEWAY_ID}/routes/route-1"
    assert [path(r) for r in recorder.requests] == [
        f"{base}/versions",
        f"{base}/versions/v1",
        f"{base}/deployments",
    ]


# --- the twins stay twins --------------------------------------------------------------------


def test_the_async_client_has_every_public_method_of_the_sync_one() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(fn)
            for name, fn in vars(cls).items()
            if not name.startswith("_") and callable(fn) and name not in ("close",)
        }

    sync, asyn = public(ManagementClient), public(AsyncManagementClient)
    assert set(sync) == set(asyn) - {"aclose"}
    for name, signature in sync.items():
        assert list(signature.parameters) == list(asyn[name].parameters), name
