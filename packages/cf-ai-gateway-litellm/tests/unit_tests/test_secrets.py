"""No credential in a request body, a repr, an error or any log line, with every logger at
DEBUG and LiteLLM's own debug output on.

What LiteLLM logs before any provider runs is LiteLLM's: with debugging on, 1.80 echoes every
argument of ``litellm.completion(...)`` (``api_key=`` and ``extra_headers`` included, for
built-in providers too) and every non-OpenAI keyword in its optional params. So keys go to
``register()``, the environment or the proxy's ``os.environ/...``, never to call arguments
(docs/litellm.md), and this test passes them that way. A credential-shaped keyword is
refused before any request (``test_a_credential_keyword_is_removed_before_...``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import cf_ai_gateway_litellm
import httpx
import litellm
import pytest

from .double import PROVIDER_KEY, TOKEN, GatewayDouble, gateway, gateway_error
from .test_provider import MESSAGES, MODEL

SECRETS = (PROVIDER_KEY, TOKEN)


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage())
        except Exception:  # a third-party record whose args do not format
            self.lines.append(str(record.msg))
        if record.exc_info and record.exc_info[1] is not None:
            self.lines.append(repr(record.exc_info[1]))


@pytest.fixture
def every_log_line() -> Iterator[list[str]]:
    handler = _Everything()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)
    ]
    saved = [(lg, lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(name).addHandler(handler)
    litellm._turn_on_debug()
    try:
        yield handler.lines
    finally:
        litellm.set_verbose = False
        logging.getLogger().removeHandler(handler)
        for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
            logging.getLogger(name).removeHandler(handler)
        for lg, level, propagate in saved:
            lg.setLevel(level)
            lg.propagate = propagate


async def test_no_secret_anywhere(
    double: GatewayDouble, every_log_line: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    handler = cf_ai_gateway_litellm.register(gateway(), api_key=PROVIDER_KEY, **double.clients())
    shown: list[str] = [repr(handler), str(handler.settings)]
    litellm.completion(model=MODEL, messages=MESSAGES, gateway_options={"metadata": {"u": "1"}})
    list(litellm.completion(model=MODEL, messages=MESSAGES, stream=True))
    await litellm.acompletion(model=MODEL, messages=MESSAGES)
    stream = await litellm.acompletion(model=MODEL, messages=MESSAGES, stream=True)
    async for _ in stream:
        pass
    litellm.embedding(model="cloudflare-ai-gateway/openai/text-embedding-3-small", input=["a"])
    double.respond = lambda request: gateway_error(401, 2009, "Unauthorized")
    for kwargs in ({}, {"stream": True}):
        with pytest.raises(litellm.AuthenticationError) as info:
            litellm.completion(model=MODEL, messages=MESSAGES, **kwargs)
        shown += [str(info.value), repr(info.value), str(info.value.__cause__)]
    out = capsys.readouterr()
    bodies = [str(seen.body) for seen in double.seen]
    assert every_log_line, "nothing was logged: the capture is broken"
    for secret in SECRETS:
        for where, texts in (
            ("a log line", every_log_line),
            ("stdout/stderr", [out.out, out.err]),
            ("a request body", bodies),
            ("an error or repr", shown),
        ):
            leaks = [t for t in texts if secret in t]
            assert not leaks, f"{secret[:6]}... found in {where}: {leaks[0][:300]}"
    # the credentials did travel, in their headers
    assert any(s.headers.get("authorization") == f"Bearer {PROVIDER_KEY}" for s in double.seen)
    assert any(s.headers.get("cf-aig-authorization") == f"Bearer {TOKEN}" for s in double.seen)


def test_a_credential_keyword_is_removed_before_litellm_logs_the_failure(
    double: GatewayDouble,
) -> None:
    cf_ai_gateway_litellm.register(gateway(), **double.clients())
    params: dict[str, Any] = {"temperature": 0, "openai_api_key": PROVIDER_KEY}
    handler = litellm.custom_provider_map[-1]["custom_handler"]
    with pytest.raises(litellm.BadRequestError):
        handler.completion(model="openai/gpt-4o-mini", messages=MESSAGES, optional_params=params)
    assert params == {"temperature": 0}
    assert double.seen == []


def test_errors_never_echo_a_key_in_an_upstream_message(
    provider: Any, double: GatewayDouble
) -> None:
    double.respond = lambda request: httpx.Response(
        401, json={"error": {"message": f"Incorrect API key provided: {PROVIDER_KEY}"}}
    )
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model=MODEL, messages=MESSAGES, api_key=PROVIDER_KEY)
    assert PROVIDER_KEY not in str(info.value)
