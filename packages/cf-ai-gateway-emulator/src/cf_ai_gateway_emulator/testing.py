"""Run the emulator in-process for tests, demos and notebooks.

>>> from cf_ai_gateway import GatewayClient
>>> from cf_ai_gateway_emulator.testing import run_emulator
>>> with run_emulator() as emu:                                        # doctest: +SKIP
...     client = GatewayClient(emu.gateway("demo"))
...     client.chat_completions({"model": "openai/gpt-4o-mini",
...                              "messages": [{"role": "user", "content": "Hi"}]})

``run_emulator`` starts uvicorn in a background thread on a free ``127.0.0.1`` port and stops
it on exit. The handle gives URLs, ready-made ``cf_ai_gateway.Gateway`` objects, fresh
isolated gateways and direct access to the state (logs, clock).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from cf_ai_gateway import Gateway

from .app import create_app
from .clock import Clock, ManualClock
from .config import EmulatorConfig, GatewaySettings
from .listening import KEEP_ALIVE_S, listening_socket
from .mock.scripts import SCRIPT_HEADER, Script, parse_answers, parse_script
from .state import EmulatorState

__all__ = [
    "ACCOUNT_TOKEN",
    "EmulatorHandle",
    "ManualClock",
    "Script",
    "run_emulator",
    "script_header",
]


class _AccountToken:
    def __repr__(self) -> str:
        return "ACCOUNT_TOKEN"


ACCOUNT_TOKEN: Any = _AccountToken()
"""Default of ``EmulatorHandle.gateway(token=...)``: the account's first API token (which the
management API, the REST surface and authenticated gateways accept). Pass ``token=None`` for
no token at all."""


class EmulatorHandle:
    """A running emulator: ``base_url``, ``account_id``, ``token``, ``state``, ``app``."""

    def __init__(self, base_url: str, state: EmulatorState, app: Any) -> None:
        self.base_url = base_url
        self.state = state
        self.app = app
        self.account_id = state.config.default_account
        self.token: str = state.accounts[self.account_id].api_tokens[0]

    def __repr__(self) -> str:
        return f"EmulatorHandle(base_url={self.base_url!r}, account_id={self.account_id!r})"

    # --- URLs and gateways ------------------------------------------------------------------

    def gateway_url(self, gateway_id: str = "demo") -> str:
        """``{base}/v1/{account}/{gateway}``: what ``CF_AIG_URL`` / ``Gateway.from_url`` take."""
        return f"{self.base_url}/v1/{self.account_id}/{gateway_id}"

    def compat_base_url(self, gateway_id: str = "demo") -> str:
        """Base URL for OpenAI SDKs on the unified endpoint (``.../compat``)."""
        return f"{self.gateway_url(gateway_id)}/compat"

    def provider_base_url(self, provider: str = "openai", gateway_id: str = "demo") -> str:
        """Base URL for a provider SDK on the provider-native path (``.../openai``)."""
        return f"{self.gateway_url(gateway_id)}/{provider}"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}/client/v4"

    @property
    def rest_base_url(self) -> str:
        """``{base}/client/v4/accounts/{account}/ai/v1``: the REST API's OpenAI-compatible
        base URL (``Authorization: Bearer <account token>``, ``cf-aig-gateway-id``)."""
        return f"{self.api_base_url}/accounts/{self.account_id}/ai/v1"

    def gateway(
        self, gateway_id: str = "demo", token: str | None = ACCOUNT_TOKEN, **kw: Any
    ) -> Gateway:
        """A ``cf_ai_gateway.Gateway`` for ``gateway_id`` (``Gateway.from_url`` keywords in
        ``kw``, e.g. ``options=GatewayOptions(...)``)."""
        if token is ACCOUNT_TOKEN:
            token = self.token
        return Gateway.from_url(self.gateway_url(gateway_id), token=token, **kw)

    def create_gateway(self, gateway_id: str | None = None, **settings: Any) -> str:
        """Create (or replace) a gateway with management-API field names; returns its id.

        Without ``gateway_id`` a unique ``t-<hex>`` id is used, so tests never share cache,
        logs or rate-limit counters. ``routes`` takes route JSON (list or name -> route).
        """
        gateway_id = gateway_id or f"t-{uuid.uuid4().hex[:12]}"
        parsed = GatewaySettings.from_mapping(gateway_id, settings, f"gateway {gateway_id}")
        self.state.put_gateway(self.account_id, parsed)
        return gateway_id

    def delete_gateway(self, gateway_id: str) -> bool:
        return self.state.delete_gateway(self.account_id, gateway_id)

    # --- scripted answers -------------------------------------------------------------------

    def script(
        self,
        *answers: Any,
        model: str | None = None,
        provider: str | None = None,
        prompt: str | None = None,
        name: str = "",
    ) -> Script:
        """Make the mock answer the chat requests that match with ``answers``, in turn.

        An answer is a text, ``{"tool_call": {"name": ..., "arguments": {...}}}``,
        ``{"tool_calls": [...]}``, ``{"json": value}`` or ``{"fault": "fail=503"}``, each with
        an optional ``"times": n``; after the last, the last repeats. ``model`` (an ``fnmatch``
        pattern on the model the provider is asked for), ``provider`` and ``prompt`` (text the
        last user message contains) narrow what it answers. The returned ``Script`` counts the
        answers it gave (``.calls``); ``remove_script`` / ``clear_scripts`` undo it.

        >>> weather = emu.script(                                      # doctest: +SKIP
        ...     {"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}},
        ...     "It is sunny in Paris.",
        ...     model="gpt-4o-mini",
        ... )
        """
        filters = {"name": name, "model": model, "provider": provider, "prompt": prompt}
        given = {key: value for key, value in filters.items() if value}
        return self.state.scripts.add(parse_script({"answers": list(answers), **given}))

    def remove_script(self, script: Script) -> None:
        self.state.scripts.remove(script)

    def clear_scripts(self) -> None:
        """Forget every script (the config's too) and where header scripts stand."""
        self.state.scripts.clear()

    def logs(self, gateway_id: str = "demo") -> list[dict[str, Any]]:
        """The gateway's logs straight from storage, oldest first."""
        return self.state.logs(self.account_id, gateway_id)

    @property
    def clock(self) -> Clock:
        return self.state.clock


def script_header(*answers: Any, name: str = "") -> dict[str, str]:
    """The ``x-emulator-script`` header that scripts a model from the client side (answers as
    in ``EmulatorHandle.script``): requests to one gateway carrying the same header (or
    ``name``) share one sequence of answers. Works with any emulator process, e.g. as an SDK's
    ``default_headers`` or ``extra_headers``.

    >>> script_header("Paris.", name="capital")
    {'x-emulator-script': '{"answers": ["Paris."], "name": "capital"}'}
    """
    parse_answers(list(answers))  # fail here, not in the emulator
    script: dict[str, Any] = {"answers": list(answers)}
    if name:
        script["name"] = name
    return {SCRIPT_HEADER: json.dumps(script, ensure_ascii=False)}


@contextlib.contextmanager
def run_emulator(
    config: EmulatorConfig | str | Path | Mapping[str, Any] | None = None,
    *,
    db: str | Path = ":memory:",
    clock: Clock | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    stream_chunk_delay_ms: int | None = None,
    log_requests: bool = False,
) -> Iterator[EmulatorHandle]:
    """Serve the emulator on ``host``:``port`` (a free port by default) while in the block.

    ``config``: ``None`` (the built-in default), a TOML path/string, a dict or an
    ``EmulatorConfig``; ``db``: SQLite path or ``":memory:"``; ``clock``: e.g. a
    :class:`~cf_ai_gateway_emulator.clock.ManualClock` for rate-limit and cache-expiry tests;
    ``log_requests``: one line per request on stderr (off by default in tests).
    """
    import uvicorn

    state = EmulatorState(config, db=db, clock=clock)
    if stream_chunk_delay_ms is not None:
        state.config = replace(
            state.config,
            mock=replace(state.config.mock, stream_chunk_delay_ms=stream_chunk_delay_ms),
        )
    app = create_app(state=state, log_requests=log_requests)
    sock = listening_socket(host, port, backlog=128)
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="error",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=KEEP_ALIVE_S,
        )
    )
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name=f"cf-ai-gateway-emulator:{bound_port}",
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the emulator did not start")
        time.sleep(0.01)
    try:
        yield EmulatorHandle(f"http://{host}:{bound_port}", state, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        state.storage.close()
