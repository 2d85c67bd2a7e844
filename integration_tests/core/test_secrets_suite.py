"""One distinctive key through every way a caller hands over a credential (the constructor,
the environment, ``extra_headers`` under the registry's names, a credential-looking name and
a name marked secret, universal steps, a recorded cassette), and every output searched for it:
``repr``, ``str``, ``pickle``, tracebacks with their whole ``__cause__``/``__context__`` chain,
the DEBUG logs of every logger (httpx's and httpcore's included), cassettes, and the
emulator's logs API. Providers that echo the key into an error body are played by a raw
server (the emulator never echoes)."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cf_ai_gateway import (
    AsyncGatewayClient,
    Gateway,
    GatewayClient,
    GatewayError,
    RetryPolicy,
    UniversalStep,
    provider_api_key_from_env,
)
from cf_ai_gateway.testing import configure_vcr, scan_cassettes, vcr_config
from cf_ai_gateway_emulator.rawserver import RawServer, reply
from cf_ai_gateway_emulator.testing import EmulatorHandle, run_emulator

pytestmark = pytest.mark.emulator_only

KEY = "sk-DISTINCT-7f3a9c5e11-KEY"
TOKEN = "cfat-DISTINCT-91d0e4-TOKEN"
CUSTOM = "zz-DISTINCT-custom-5b2"
SECRETS = (KEY, TOKEN, CUSTOM, KEY.removeprefix("sk-"))
BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
POLICY = RetryPolicy(max_retries=1, initial_delay=0.01, jitter=0)


def assert_clean(*outputs: object, where: str = "") -> None:
    for output in outputs:
        text = output if isinstance(output, (str, bytes)) else repr(output)
        blob = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
        for secret in SECRETS:
            assert secret.encode() not in blob, f"{secret} leaked {where}: {blob[:300]!r}"


def chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def outputs_of(err: GatewayError) -> list[object]:
    """Everything an error renders or carries, down its whole chain."""
    found: list[object] = [
        str(err),
        repr(err),
        err.body or "",
        err.hint or "",
        pickle.dumps(err),
        "".join(traceback.format_exception(type(err), err, err.__traceback__)),
        repr(err.info),
    ]
    for link in chain(err):
        found += [str(link), repr(link), repr(getattr(link, "args", ()))]
        request = getattr(link, "_request", None)  # an httpx error's request: must be detached
        assert request is None, f"{type(link).__name__} still holds its request"
    return found


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorHandle]:
    config = {"accounts": {"emu-account": {"api_tokens": [TOKEN], "gateways": {"demo": {}}}}}
    with run_emulator(config) as emu:
        yield emu


def echoing(server: RawServer, *secrets: str) -> None:
    """Make ``server`` a provider that echoes the keys it was sent (and the gateway token) into
    its 401 body, as OpenAI does: "Incorrect API key provided: sk-..."."""
    message = f"Incorrect API key provided: {', '.join((*secrets, TOKEN))}"
    server.script(reply(401, {"error": {"message": message, "type": "invalid_request_error"}}))


@pytest.fixture
def echo() -> Iterator[RawServer]:
    with RawServer() as server:
        echoing(server, KEY)
        yield server


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # the root: every logger, httpx's and httpcore's too
    return caplog


Call = Callable[[GatewayClient], object]

# (how the key is handed over, the client's keyword arguments, the call)
INPUTS: list[tuple[str, dict[str, Any], Call]] = [
    ("api_key=", {"api_key": KEY}, lambda c: c.chat_completions(BODY)),
    ("per-call api_key=", {}, lambda c: c.chat_completions(BODY, api_key=KEY)),
    ("stream", {"api_key": KEY}, lambda c: list(c.stream_chat_completions(BODY))),
    (
        "extra_headers api-key",
        {},
        lambda c: c.chat_completions(BODY, surface="compat", extra_headers={"api-key": KEY}),
    ),
    (
        "extra_headers x-api-key",
        {},
        lambda c: c.chat_completions(BODY, extra_headers={"x-api-key": KEY}),
    ),
    (
        "extra_headers, a credential-looking name",
        {},
        lambda c: c.chat_completions(BODY, extra_headers={"x-llm-api-key": CUSTOM}),
    ),
    (
        "extra_headers, a name marked secret",
        {"secret_headers": ["x-team-pass"]},
        lambda c: c.chat_completions(BODY, extra_headers={"x-team-pass": CUSTOM}),
    ),
    (
        "universal step api_key",
        {},
        lambda c: c.universal([UniversalStep.chat("openai/gpt-4o-mini", BODY, api_key=KEY)]),
    ),
    (
        "universal step custom header",
        {"secret_headers": ["x-team-pass"]},
        lambda c: c.universal(
            [UniversalStep.chat("openai/gpt-4o-mini", BODY, headers={"x-team-pass": CUSTOM})]
        ),
    ),
]


@pytest.mark.parametrize(("kwargs", "call"), [pytest.param(k, c, id=name) for name, k, c in INPUTS])
def test_an_echoed_key_is_redacted_everywhere(
    echo: RawServer,
    every_log: pytest.LogCaptureFixture,
    kwargs: dict[str, Any],
    call: Call,
) -> None:
    gateway = Gateway.from_url(f"{echo.url}/v1/acc/gw", token=TOKEN)
    with GatewayClient(gateway, retry=POLICY, **kwargs) as client:
        with pytest.raises(GatewayError) as exc_info:
            call(client)
        assert_clean(repr(client), str(client), where="in the client")
    err = exc_info.value
    assert "Incorrect API key provided" in str(err)
    assert_clean(*outputs_of(err), where="in the error")
    assert_clean(every_log.text, where="in the logs")
    for record in every_log.records:
        assert_clean(record.getMessage(), repr(record.args), where=f"in {record.name}")


async def test_the_async_client_too(echo: RawServer, every_log: pytest.LogCaptureFixture) -> None:
    gateway = Gateway.from_url(f"{echo.url}/v1/acc/gw", token=TOKEN)
    echoing(echo, KEY, CUSTOM)
    async with AsyncGatewayClient(gateway, api_key=KEY, retry=POLICY) as client:
        with pytest.raises(GatewayError) as exc_info:
            await client.chat_completions(BODY, extra_headers={"x-llm-api-key": CUSTOM})
    assert_clean(*outputs_of(exc_info.value), every_log.text, where="(async)")


def test_connection_errors_carry_no_key(every_log: pytest.LogCaptureFixture) -> None:
    gateway = Gateway.from_url("http://127.0.0.1:9/v1/acc/gw", token=TOKEN)  # nothing listens
    with (
        GatewayClient(gateway, api_key=KEY, retry=POLICY) as client,
        pytest.raises(GatewayError) as exc_info,
    ):
        client.chat_completions(BODY, extra_headers={"x-llm-api-key": CUSTOM})
    assert_clean(*outputs_of(exc_info.value), every_log.text, where="(connection error)")


def test_the_environment_path(
    emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch, every_log: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CF_AIG_URL", emulator.gateway_url("demo"))
    monkeypatch.setenv("CF_AIG_TOKEN", TOKEN)
    monkeypatch.setenv("CF_AIG_PROVIDER_API_KEY", KEY)
    gateway = Gateway.from_env()
    with GatewayClient(gateway, api_key=provider_api_key_from_env(), retry=POLICY) as client:
        result = client.chat_completions(BODY)
        assert_clean(repr(gateway), str(gateway), repr(client), repr(result), pickle.dumps(result))
    assert_clean(every_log.text, where="in the logs")


@pytest.mark.parametrize(
    "bad",
    [KEY + "\n", KEY + "\r\n", "é" + KEY, KEY + "\x00"],
    ids=["LF", "CRLF", "non-ASCII", "NUL"],
)
def test_a_malformed_key_is_refused_without_being_echoed(bad: str) -> None:
    gateway = Gateway(account_id="a", gateway_id="g")
    attempts: list[Callable[[], object]] = [
        lambda: GatewayClient(gateway, api_key=bad),
        lambda: Gateway(account_id="a", gateway_id="g", token=bad),
        lambda: UniversalStep.chat("openai/gpt-4o-mini", BODY, api_key=bad),
        lambda: GatewayClient(gateway).chat_completions(BODY, extra_headers={"x-api-key": bad}),
        lambda: GatewayClient(gateway).chat_completions(BODY, api_key=bad),
    ]
    for attempt in attempts:
        with pytest.raises(ValueError, match=r"not shown|single-line") as exc_info:
            attempt()
        text = "".join(traceback.format_exception(exc_info.value))
        assert_clean(text, repr(exc_info.value), where="in the refusal")


def test_reprs_of_what_holds_a_key() -> None:
    step = UniversalStep.chat("openai/gpt-4o-mini", BODY, api_key=KEY, headers={"x-c": "1"})
    gateway = Gateway.from_url(f"https://user:{CUSTOM}@gw.example.com/compat", token=TOKEN)
    client = GatewayClient(gateway, api_key=KEY)
    assert_clean(repr(step), str(step), repr(gateway), str(gateway), repr(client))


def test_the_emulators_logs_api_never_returns_a_key(emulator: EmulatorHandle) -> None:
    gateway = emulator.gateway("demo")
    step = UniversalStep.chat("openai/gpt-4o-mini", BODY, api_key=KEY)
    with GatewayClient(gateway, api_key=KEY, retry=POLICY) as client:
        client.chat_completions(BODY, extra_headers={"x-llm-api-key": CUSTOM})
        list(client.stream_chat_completions(BODY))
        client.universal([step])
    with httpx.Client(base_url=emulator.api_base_url) as api:
        auth = {"authorization": f"Bearer {TOKEN}"}
        base = f"/accounts/{emulator.account_id}/ai-gateway/gateways/demo/logs"
        listing = api.get(base, params={"per_page": 50}, headers=auth)
        assert listing.status_code == 200
        texts = [listing.text]
        for log in listing.json()["result"]:
            for part in ("", "/request", "/response"):
                texts.append(api.get(f"{base}/{log['id']}{part}", headers=auth).text)
    assert len(texts) > 3
    assert_clean(*texts, where="in the emulator's logs API")


def test_a_recorded_cassette_keeps_no_key(emulator: EmulatorHandle, tmp_path: Path) -> None:
    vcr_module = pytest.importorskip("vcr")
    recorder = vcr_module.VCR(
        **vcr_config(
            secrets=[KEY, TOKEN, CUSTOM],
            account_ids=[emulator.account_id],
            secret_headers=["x-team-pass"],
        ),
        cassette_library_dir=str(tmp_path),
        record_mode="all",
    )
    configure_vcr(recorder)
    step = UniversalStep.chat(
        "openai/gpt-4o-mini", BODY, api_key=KEY, headers={"x-team-pass": CUSTOM}
    )
    with (
        recorder.use_cassette("secrets.yaml"),
        GatewayClient(emulator.gateway("demo"), api_key=KEY, retry=POLICY) as client,
    ):
        client.chat_completions(
            BODY, extra_headers={"x-team-pass": CUSTOM, "x-llm-api-key": CUSTOM}
        )
        client.universal([step])
    cassette = (tmp_path / "secrets.yaml").read_text()
    assert "x-team-pass" in cassette  # recorded, redacted
    assert_clean(cassette, where="in the cassette")
    assert scan_cassettes(tmp_path, secrets=SECRETS) == []


def test_the_scanner_flags_a_custom_credential_header_unprompted(tmp_path: Path) -> None:
    (tmp_path / "leak.yaml").write_text(
        "interactions:\n- request:\n    headers:\n      x-team-api-key:\n"
        f"      - {CUSTOM}\n      x-service-token: {CUSTOM}\n      x-request-id:\n      - abc\n"
    )
    findings = scan_cassettes(tmp_path)  # no secrets given
    assert {f.kind for f in findings} == {"x-team-api-key header", "x-service-token header"}
    assert_clean(*(str(f) for f in findings), where="in the scanner's own report")
