from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr  # type: ignore[import-untyped]
import yaml
from _cf_core_helpers import ACCOUNT, PROVIDER_KEY, TOKEN
from cf_ai_gateway import Gateway, GatewayClient
from cf_ai_gateway.testing import (
    REDACTED,
    SERIALIZER_NAME,
    CassetteSerializer,
    active_connections,
    configure_vcr,
    scan_cassettes,
    scrub_request,
    scrub_response,
    vcr_config,
)
from vcr.request import Request  # type: ignore[import-untyped]

GW_URL = f"https://gateway.ai.cloudflare.com/v1/{ACCOUNT}/my-gw/compat/chat/completions"
REST_URL = f"https://api.cloudflare.com/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions"


def request(url: str, body: Any = b"", headers: dict[str, str] | None = None) -> Request:
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body).encode()
    return Request("POST", url, body, headers or {})


def test_scrub_request_account_in_both_url_families() -> None:
    assert scrub_request(request(GW_URL)).uri == (
        "https://gateway.ai.cloudflare.com/v1/ACCOUNT_ID/my-gw/compat/chat/completions"
    )
    assert scrub_request(request(REST_URL)).uri == (
        "https://api.cloudflare.com/client/v4/accounts/ACCOUNT_ID/ai/v1/chat/completions"
    )
    mgmt = (
        f"https://api.cloudflare.com/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/g/logs?page=1"
    )
    assert scrub_request(request(mgmt)).uri == (
        "https://api.cloudflare.com/client/v4/accounts/ACCOUNT_ID/ai-gateway/gateways/g/logs?page=1"
    )


def test_scrub_request_given_and_emulator_accounts() -> None:
    emu = "http://127.0.0.1:8787/v1/acc/gw/openai/chat/completions"
    assert scrub_request(request(emu)).uri == (
        "http://127.0.0.1:8787/v1/ACCOUNT_ID/gw/openai/chat/completions"
    )
    custom = "https://proxy.example.com/gateway/acc-7/gw"
    assert scrub_request(request(custom), account_ids=["acc-7"]).uri == (
        "https://proxy.example.com/gateway/ACCOUNT_ID/gw"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com/v1/chat/completions",
        "https://api.anthropic.com/v1/messages",
        "https://ai.example.com/openai/v1/chat/completions",
    ],
)
def test_scrub_request_leaves_other_urls_alone(url: str) -> None:
    assert scrub_request(request(url)).uri == url


def test_scrub_request_headers_and_universal_body() -> None:
    steps = [
        {
            "provider": "openai",
            "endpoint": "chat/completions",
            "headers": {"Authorization": f"Bearer {PROVIDER_KEY}", "cf-aig-cache-ttl": "0"},
            "query": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": TOKEN}]},
        },
        {
            "provider": "anthropic",
            "endpoint": "v1/messages",
            "headers": {"x-api-key": "anthropic-key-123", "anthropic-version": "2023-06-01"},
            "query": {},
        },
    ]
    original = request(
        f"https://gateway.ai.cloudflare.com/v1/{ACCOUNT}/my-gw",
        steps,
        {
            "cf-aig-authorization": f"Bearer {TOKEN}",
            "Authorization": f"Bearer {PROVIDER_KEY}",
            "x-goog-api-key": "AIzaSomething",
            "content-type": "application/json",
        },
    )
    scrubbed = scrub_request(original, secrets=[TOKEN])
    assert scrubbed.headers["cf-aig-authorization"] == REDACTED
    assert scrubbed.headers["Authorization"] == REDACTED
    assert scrubbed.headers["x-goog-api-key"] == REDACTED
    assert scrubbed.headers["content-type"] == "application/json"
    body = json.loads(scrubbed.body)
    assert body[0]["headers"] == {"Authorization": REDACTED, "cf-aig-cache-ttl": "0"}
    assert body[1]["headers"] == {"x-api-key": REDACTED, "anthropic-version": "2023-06-01"}
    assert body[0]["query"]["messages"][0]["content"] == "***"
    text = scrubbed.body.decode()
    assert PROVIDER_KEY not in text
    assert TOKEN not in text
    assert "anthropic-key-123" not in text
    # the original is untouched, and scrubbing is idempotent
    assert original.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    again = scrub_request(scrubbed, secrets=[TOKEN])
    assert (again.uri, again.body, dict(again.headers)) == (
        scrubbed.uri,
        scrubbed.body,
        dict(scrubbed.headers),
    )


def test_scrub_request_non_json_body() -> None:
    scrubbed = scrub_request(request(GW_URL, f"token={TOKEN}&x=1".encode()), secrets=[TOKEN])
    assert scrubbed.body == b"token=***&x=1"


def test_scrub_response() -> None:
    response: dict[str, Any] = {
        "status": {"code": 200, "message": "OK"},
        "headers": {
            "Date": ["Tue, 01 Jan 2030 00:00:00 GMT"],
            "CF-RAY": ["abc-LHR"],
            "Set-Cookie": ["__cf_bm=xyz"],
            "content-length": ["123"],
            "openai-processing-ms": ["42"],
            "Authorization": ["Bearer leaked"],
            "Content-Type": ["application/json"],
            "cf-aig-log-id": ["L1"],
            "cf-aig-cache-status": ["MISS"],
        },
        "body": {"string": json.dumps({"echo": f"{TOKEN} at /v1/{ACCOUNT}/gw"}).encode()},
    }
    scrubbed = scrub_response(response, secrets=[TOKEN], account_ids=[ACCOUNT])
    assert scrubbed["headers"] == {
        "Content-Type": ["application/json"],
        "cf-aig-log-id": ["L1"],
        "cf-aig-cache-status": ["MISS"],
    }
    assert json.loads(scrubbed["body"]["string"]) == {"echo": "*** at /v1/ACCOUNT_ID/gw"}
    assert response["headers"]["Date"]  # original untouched
    assert scrub_response(scrubbed, secrets=[TOKEN], account_ids=[ACCOUNT]) == scrubbed


def test_vcr_config() -> None:
    config = vcr_config(account_ids=["acc-1"], secrets=[TOKEN])
    assert "record_mode" not in config
    assert config["serializer"] == "yaml"
    assert config["decode_compressed_response"] is True
    assert "host" not in config["match_on"]
    assert "port" not in config["match_on"]
    assert ("cf-aig-authorization", REDACTED) in config["filter_headers"]
    req = config["before_record_request"](
        request("http://localhost:1234/v1/acc-1/gw", b"x", {"x-api-key": "k"})
    )
    assert req.uri == "http://localhost:1234/v1/ACCOUNT_ID/gw"
    assert req.headers["x-api-key"] == REDACTED
    resp = config["before_record_response"](
        {"headers": {"date": ["x"]}, "body": {"string": TOKEN.encode()}}
    )
    assert resp == {"headers": {}, "body": {"string": b"***"}}
    assert vcr_config(extra={"record_mode": "none"})["record_mode"] == "none"


def test_configure_vcr_registers_serializer() -> None:
    my_vcr = vcr.VCR()
    configure_vcr(my_vcr)
    assert isinstance(my_vcr.serializers[SERIALIZER_NAME], CassetteSerializer)
    assert isinstance(my_vcr.serializers["yaml"], CassetteSerializer)


def test_configure_vcr_builds_replayed_httpx_responses_one_at_a_time() -> None:
    # vcrpy 7 patches httpx.Response.read while it builds a replayed response; threads doing
    # that at once (a LangChain batch) could leave the mock behind for good
    from vcr.stubs import httpx_stubs  # type: ignore[import-untyped]

    if not hasattr(httpx_stubs, "_from_serialized_response"):
        pytest.skip("this vcrpy (8+) replays without patching httpx")
    configure_vcr(vcr.VCR())
    build = httpx_stubs._from_serialized_response
    assert build._cf_serialized
    configure_vcr(vcr.VCR())  # idempotent: wrapped once
    assert httpx_stubs._from_serialized_response is build


SSE_BODY = 'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n'
CHAT_REQ = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}


def cassette() -> dict[str, Any]:
    return {
        "interactions": [
            {
                "request": {
                    "body": json.dumps(CHAT_REQ),
                    "headers": {"authorization": [REDACTED]},
                    "method": "POST",
                    "uri": GW_URL,
                },
                "response": {
                    "body": {"string": json.dumps({"id": "c1", "choices": []})},
                    "headers": {"content-type": ["application/json"]},
                    "status": {"code": 200, "message": "OK"},
                },
            },
            {
                "request": {"body": None, "headers": {}, "method": "GET", "uri": GW_URL},
                "response": {
                    "body": {"string": SSE_BODY},
                    "headers": {"content-type": ["text/event-stream"]},
                    "status": {"code": 200, "message": "OK"},
                },
            },
            {
                "request": {"body": "", "headers": {}, "method": "GET", "uri": GW_URL},
                "response": {
                    "body": {"string": "plain text"},
                    "headers": {},
                    "status": {"code": 500},
                },
            },
        ],
        "version": 1,
    }


def test_serializer_stores_json_parsed_and_sse_as_block() -> None:
    text = CassetteSerializer.serialize(cassette())
    data = yaml.safe_load(text)
    first = data["interactions"][0]
    assert first["request"]["body"] == {"json": CHAT_REQ}
    assert first["response"]["body"]["string"] == {"json": {"id": "c1", "choices": []}}
    assert "model: openai/gpt-4o-mini" in text
    assert "string: |" in text  # the SSE body is a literal block
    assert 'data: {"choices":[{"delta":{"content":"Hi"}}]}' in text


def test_serializer_round_trip() -> None:
    original = cassette()
    back = CassetteSerializer.deserialize(CassetteSerializer.serialize(original))
    for got, want in zip(back["interactions"], original["interactions"], strict=True):
        for side in ("request", "response"):
            g = got[side]["body"] if side == "request" else got[side]["body"]["string"]
            w = want[side]["body"] if side == "request" else want[side]["body"]["string"]
            if isinstance(w, str) and w.startswith("{"):
                assert isinstance(g, str)
                assert json.loads(g) == json.loads(w)
            else:
                assert g == w
    assert back["version"] == 1
    assert CassetteSerializer.deserialize("") == {}


# --- scanner -------------------------------------------------------------------------------

CLEAN = """interactions:
- request:
    body:
      json:
        model: openai/gpt-4o-mini
    headers:
      cf-aig-authorization:
      - REDACTED
      authorization:
      - REDACTED
      x-api-key: REDACTED
    method: POST
    uri: https://gateway.ai.cloudflare.com/v1/ACCOUNT_ID/my-gw/compat/chat/completions
  response:
    body:
      string: '{"ok": true}'
"""


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_scan_clean_file(tmp_path: Path) -> None:
    write(tmp_path, CLEAN)
    assert scan_cassettes(tmp_path, secrets=[TOKEN]) == []


@pytest.mark.parametrize(
    ("text", "kind", "line"),
    [
        ("headers:\n  authorization: Bearer abcdefgh12345678\n", "authorization header", 2),
        ("headers:\n  authorization:\n  - Bearer abcdefgh12345678\n", "authorization header", 3),
        ("headers:\n  cf-aig-authorization:\n  - my-raw-token\n", "cf-aig-authorization header", 3),
        ("headers:\n  X-Api-Key: anthropic-key\n", "x-api-key header", 2),
        ("body: 'sent Bearer abcdefgh12345678 upstream'\n", "bearer token", 1),
        ("body: key sk-proj-abcdefghijklmnop1234\n", "openai-style key", 1),
        (f"uri: https://gateway.ai.cloudflare.com/v1/{ACCOUNT}/gw\n", "account id in url", 1),
        (
            f"uri: https://api.cloudflare.com/client/v4/accounts/{ACCOUNT}/ai/v1\n",
            "account id in url",
            1,
        ),
        (f"body: hello {TOKEN}\n", "known secret", 1),
    ],
)
def test_scan_flags(tmp_path: Path, text: str, kind: str, line: int) -> None:
    path = write(tmp_path, CLEAN + text)
    findings = scan_cassettes(tmp_path, secrets=[TOKEN])
    offset = CLEAN.count("\n")
    matching = [f for f in findings if f.kind == kind]
    assert matching, findings
    assert matching[0].path == path
    assert matching[0].line == offset + line
    assert str(matching[0]).startswith(f"{path}:{offset + line}: {kind}: ")
    for f in findings:
        assert "abcdefgh12345678" not in f.excerpt
        assert TOKEN not in f.excerpt


def test_scan_single_file_and_suffixes(tmp_path: Path) -> None:
    bad = write(tmp_path, "authorization: Bearer abcdefgh12345678\n", "c.json")
    write(tmp_path, "authorization: Bearer abcdefgh12345678\n", "notes.txt")
    assert {f.path for f in scan_cassettes(tmp_path)} == {bad}
    assert len(scan_cassettes(bad)) >= 1


def test_scan_state_does_not_leak_between_files(tmp_path: Path) -> None:
    write(tmp_path, "headers:\n  authorization:\n", "a.yaml")
    write(tmp_path, "method: POST\n", "b.yaml")
    assert scan_cassettes(tmp_path) == []


def test_vcr_config_default_serializer_keeps_yaml_suffix() -> None:
    # pytest-recording names cassette files "<test>.<serializer>"
    assert vcr_config()["serializer"] == "yaml"


def test_record_and_replay_through_vcrpy(tmp_path: Path) -> None:
    import httpx
    from cf_ai_gateway import Gateway, GatewayClient

    served: list[httpx.Request] = []

    def upstream(req: httpx.Request) -> httpx.Response:
        served.append(req)
        return httpx.Response(
            200,
            json={"choices": [], "echo": TOKEN},
            headers={"date": "Tue, 01 Jan 2030 00:00:00 GMT", "cf-aig-log-id": "L-rec"},
        )

    def refuse(req: httpx.Request) -> httpx.Response:
        raise AssertionError("replay must not reach the transport")

    gw = Gateway(account_id=ACCOUNT, gateway_id="my-gw", token=TOKEN)
    body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
    path = tmp_path / "chat.yaml"
    recorder = vcr.VCR(**vcr_config(account_ids=[ACCOUNT], secrets=[TOKEN]))
    configure_vcr(recorder)

    with recorder.use_cassette(str(path), record_mode="all"):
        client = GatewayClient(
            gw, http_client=httpx.Client(transport=httpx.MockTransport(upstream))
        )
        recorded = client.chat_completions(body)
    assert len(served) == 1
    assert recorded.info.log_id == "L-rec"

    text = path.read_text()
    assert TOKEN not in text
    assert ACCOUNT not in text
    assert "model: openai/gpt-4o-mini" in text
    assert "date:" not in text.lower()
    assert scan_cassettes(path, secrets=[TOKEN]) == []

    with recorder.use_cassette(str(path), record_mode="none") as cassette:
        client = GatewayClient(gw, http_client=httpx.Client(transport=httpx.MockTransport(refuse)))
        replayed = client.chat_completions(body)
        assert cassette.all_played
    assert replayed.info.log_id == "L-rec"
    assert replayed.data == {"choices": [], "echo": "***"}


def test_serializer_reads_plain_vcrpy_yaml() -> None:
    from vcr.serializers import yamlserializer  # type: ignore[import-untyped]

    plain = yamlserializer.serialize(cassette())
    back = CassetteSerializer.deserialize(plain)
    assert back["interactions"][1]["response"]["body"]["string"] == SSE_BODY
    assert json.loads(back["interactions"][0]["request"]["body"]) == CHAT_REQ


def test_scan_reads_cfaig_yaml_suffix(tmp_path: Path) -> None:
    bad = write(tmp_path, "authorization: Bearer abcdefgh12345678\n", f"c.{SERIALIZER_NAME}")
    assert {f.path for f in scan_cassettes(tmp_path)} == {bad}


def test_active_connections_counts_the_pool_of_httpx_own_transport() -> None:
    gateway = Gateway(account_id="acc", gateway_id="gw")
    with GatewayClient(gateway) as client:
        assert active_connections(client) == 0
    mocked = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    with (
        GatewayClient(gateway, http_client=mocked) as client,
        pytest.raises(TypeError, match="MockTransport"),
    ):
        active_connections(client)
    mocked.close()
