"""The management API subset: gateways CRUD and the logs API, in the v4 envelope."""

from __future__ import annotations

import json

from cf_ai_gateway import wire
from emulator_helpers import ACCOUNT, AUTH, CHAT, Emu

BASE = f"/client/v4/accounts/{ACCOUNT}/ai-gateway"


async def test_management_needs_an_account_token(emu: Emu) -> None:
    r = await emu.client.get(f"{BASE}/gateways")
    assert r.status_code == 401
    assert r.json()["success"] is False
    assert r.json()["errors"][0]["code"] == 10000
    bad = await emu.client.get(f"{BASE}/gateways", headers={"authorization": "Bearer nope"})
    assert bad.status_code == 401


async def test_gateway_crud(emu: Emu) -> None:
    created = await emu.client.post(
        f"{BASE}/gateways",
        headers=AUTH,
        json={
            "id": "new-gw",
            "cache_ttl": 120,
            "rate_limiting_limit": 5,
            "rate_limiting_interval": 60,
        },
    )
    assert created.status_code == 200
    body = created.json()
    assert body["success"] is True
    assert body["result"]["cache_ttl"] == 120
    assert body["result"]["created_at"].endswith("Z")
    dup = await emu.client.post(f"{BASE}/gateways", headers=AUTH, json={"id": "new-gw"})
    assert dup.status_code == 409
    invalid = await emu.client.post(
        f"{BASE}/gateways", headers=AUTH, json={"id": "x", "rate_limiting_technique": "burst"}
    )
    assert invalid.status_code == 400
    assert "rate_limiting_technique" in invalid.json()["errors"][0]["message"]
    listed = await emu.client.get(
        f"{BASE}/gateways", headers=AUTH, params={"per_page": 2, "page": 1}
    )
    assert listed.json()["result_info"]["total_count"] == 7
    assert listed.json()["result_info"]["count"] == 2
    put = await emu.client.put(
        f"{BASE}/gateways/new-gw", headers=AUTH, json={"collect_logs": False}
    )
    assert put.json()["result"]["cache_ttl"] == 0  # full replace
    assert put.json()["result"]["rate_limiting_limit"] is None
    assert (await emu.compat("new-gw")).status_code == 200
    assert emu.state.logs(ACCOUNT, "new-gw") == []
    deleted = await emu.client.delete(f"{BASE}/gateways/new-gw", headers=AUTH)
    assert deleted.json()["result"]["id"] == "new-gw"
    assert (await emu.client.get(f"{BASE}/gateways/new-gw", headers=AUTH)).status_code == 404
    assert (await emu.compat("new-gw")).json()["error"][0]["code"] == wire.CODE_GATEWAY_NOT_FOUND


async def test_logs_list_filter_order_page(emu: Emu) -> None:
    for i, model in enumerate(["openai/gpt-4o-mini", "groq/llama", "openai/gpt-4o"]):
        await emu.compat(
            "demo",
            {**CHAT, "model": model},
            **{wire.H_METADATA: json.dumps({"n": i}), wire.H_EVENT_ID: f"e{i}"},
        )
    await emu.compat("demo", {**CHAT, "model": "openai/fail-503"})
    everything = await emu.logs("demo")
    assert everything["result_info"]["total_count"] == 4
    assert [log["event_id"] for log in everything["result"]][1:] == ["e2", "e1", "e0"]
    asc = await emu.logs("demo", order_by_direction="asc", per_page=2, page=2)
    assert asc["result"][0]["event_id"] == "e2"
    assert asc["result_info"]["count"] == 2
    by_provider = await emu.logs(
        "demo", filters=json.dumps([{"key": "provider", "operator": "eq", "value": ["groq"]}])
    )
    assert [log["model"] for log in by_provider["result"]] == ["llama"]
    failed = await emu.logs(
        "demo", filters=json.dumps([{"key": "success", "operator": "eq", "value": [False]}])
    )
    assert [log["status_code"] for log in failed["result"]] == [503]
    contains = await emu.logs(
        "demo",
        filters=json.dumps(
            [
                {"key": "model", "operator": "contains", "value": ["gpt-4o"]},
                {"key": "status_code", "operator": "lt", "value": [300]},
            ]
        ),
    )
    assert contains["result_info"]["total_count"] == 2
    neq = await emu.logs(
        "demo", filters=json.dumps([{"key": "provider", "operator": "neq", "value": ["openai"]}])
    )
    assert neq["result_info"]["total_count"] == 1
    meta = await emu.logs(
        "demo", filters=json.dumps([{"key": "metadata.n", "operator": "gt", "value": [0]}])
    )
    assert meta["result_info"]["total_count"] == 2
    bad = await emu.client.get(
        f"{BASE}/gateways/demo/logs",
        headers=AUTH,
        params={"filters": '[{"key": "x", "operator": "like"}]'},
    )
    assert bad.status_code == 400


async def test_log_get_patch_bodies_and_delete(emu: Emu) -> None:
    r = await emu.compat("demo")
    log_id = r.headers[wire.H_LOG_ID]
    url = f"{BASE}/gateways/demo/logs/{log_id}"
    got = await emu.client.get(url, headers=AUTH)
    assert got.json()["result"]["id"] == log_id
    patched = await emu.client.patch(
        url, headers=AUTH, json={"feedback": 1, "score": 90, "metadata": {"k": "v"}}
    )
    result = patched.json()["result"]
    assert (result["feedback"], result["score"]) == (1, 90)
    assert result["metadata"] == '{"k": "v"}'
    assert (await emu.client.patch(url, headers=AUTH, json={"feedback": 5})).status_code == 400
    assert (await emu.client.patch(url, headers=AUTH, json={"model": "x"})).status_code == 400
    response = await emu.client.get(f"{url}/response", headers=AUTH)
    assert response.json()["result"] == r.json()
    request = await emu.client.get(f"{url}/request", headers=AUTH)
    assert request.json()["result"]["messages"] == CHAT["messages"]
    await emu.compat("demo", {**CHAT, "model": "groq/llama"})
    deleted = await emu.client.delete(
        f"{BASE}/gateways/demo/logs",
        headers=AUTH,
        params={"filters": json.dumps([{"key": "provider", "operator": "eq", "value": ["groq"]}])},
    )
    assert deleted.json()["result"]["deleted"] == 1
    assert [log["id"] for log in emu.state.logs(ACCOUNT, "demo")] == [log_id]
    assert (
        await emu.client.get(f"{BASE}/gateways/demo/logs/nope", headers=AUTH)
    ).status_code == 404


async def test_routes_api(emu: Emu) -> None:
    route = {
        "name": "api-route",
        "elements": [
            {"id": "s", "type": "start", "outputs": {"next": {"elementId": "m"}}},
            {
                "id": "m",
                "type": "model",
                "properties": {"provider": "mistral", "model": "mistral-small"},
                "outputs": {"success": {"elementId": "e"}},
            },
            {"id": "e", "type": "end"},
        ],
    }
    created = await emu.client.post(f"{BASE}/gateways/demo/routes", headers=AUTH, json=route)
    assert created.status_code == 200
    names = [
        r["name"]
        for r in (await emu.client.get(f"{BASE}/gateways/demo/routes", headers=AUTH)).json()[
            "result"
        ]
    ]
    assert names == ["support", "api-route"]
    r = await emu.compat("demo", {**CHAT, "model": "dynamic/api-route"})
    assert r.headers[wire.H_PROVIDER] == "mistral"
    assert (
        await emu.client.delete(f"{BASE}/gateways/demo/routes/api-route", headers=AUTH)
    ).status_code == 200
    assert (await emu.compat("demo", {**CHAT, "model": "dynamic/api-route"})).status_code == 404


async def test_metadata_filters_by_entry_key_and_value(emu: Emu) -> None:
    for user in ("u-1", "u-2"):
        await emu.compat("demo", CHAT, **{wire.H_METADATA: json.dumps({"user": user})})
    await emu.compat("demo", CHAT)

    async def count(key: str, op: str, value: str) -> int:
        filters = json.dumps([{"key": key, "operator": op, "value": [value]}])
        return int((await emu.logs("demo", filters=filters))["result_info"]["total_count"])

    assert await count("metadata.key", "eq", "user") == 2
    assert await count("metadata.value", "eq", "u-2") == 1
    assert await count("metadata.value", "contains", "u-") == 2
    assert await count("metadata.value", "neq", "u-2") == 2  # u-1 and the log without metadata
    assert await count("metadata.key", "eq", "plan") == 0


async def test_route_versions_and_deployments(emu: Emu) -> None:
    routes = f"{BASE}/gateways/demo/routes"
    listed = (await emu.client.get(routes, headers=AUTH)).json()["result"]
    support = next(r for r in listed if r["name"] == "support")
    assert support["id"]
    assert support["id"] != "support"
    assert support["elements"][0]["outputs"]["next"] == {"elementId": "plan"}
    by_id = (await emu.client.get(f"{routes}/{support['id']}", headers=AUTH)).json()["result"]
    assert by_id["version"]["version_id"] == support["version"]["version_id"]
    first = support["version"]["version_id"]
    # a new definition of the same name is a new version, deployed at once
    changed = {
        "name": "support",
        "elements": [
            {"id": "s", "type": "start", "outputs": {"next": {"elementId": "m"}}},
            {
                "id": "m",
                "type": "model",
                "properties": {"provider": "groq", "model": "llama-3.1-8b-instant"},
                "outputs": {"success": {"elementId": "e"}},
            },
            {"id": "e", "type": "end"},
        ],
    }
    assert (await emu.client.post(routes, headers=AUTH, json=changed)).status_code == 200
    versions = (await emu.client.get(f"{routes}/support/versions", headers=AUTH)).json()["result"]
    assert [v["active"] for v in versions] == [False, True]
    assert versions[0]["version_id"] == first
    one = (await emu.client.get(f"{routes}/support/versions/{first}", headers=AUTH)).json()[
        "result"
    ]
    assert [e["id"] for e in one["elements"]][:2] == ["start", "plan"]
    deployments = (await emu.client.get(f"{routes}/support/deployments", headers=AUTH)).json()
    assert [d["version_id"] for d in deployments["result"]] == [
        versions[1]["version_id"],
        first,
    ]
    missing = await emu.client.get(f"{routes}/support/versions/nope", headers=AUTH)
    assert missing.status_code == 404


async def test_an_unknown_account_could_not_route(emu: Emu) -> None:
    r = await emu.client.get("/client/v4/accounts/nobody/ai-gateway/gateways", headers=AUTH)
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == wire.CODE_API_COULD_NOT_ROUTE
