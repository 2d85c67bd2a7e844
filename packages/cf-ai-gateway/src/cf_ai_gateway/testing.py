"""Test helpers: a secret-scrubbing vcrpy configuration, a cassette secret scanner and a
check for leaked connections (:func:`active_connections`).

For pytest-recording, in your ``conftest.py``::

    from cf_ai_gateway.testing import configure_vcr, vcr_config as cf_vcr_config

    @pytest.fixture(scope="module")
    def vcr_config():
        return cf_vcr_config()

    def pytest_recording_configure(config, vcr):
        configure_vcr(vcr)

``record_mode`` is deliberately not set, so ``--record-mode`` on the command line decides.
vcrpy is not a dependency of the core: nothing here imports it.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from . import wire
from ._credentials import looks_like_credential
from .errors import redact

if TYPE_CHECKING:
    from .client import AsyncGatewayClient, GatewayClient

__all__ = [
    "READABLE_SERIALIZER",
    "REDACTED",
    "SERIALIZER_NAME",
    "CassetteFinding",
    "CassetteSerializer",
    "active_connections",
    "configure_vcr",
    "credential_header",
    "scan_cassettes",
    "scrub_request",
    "scrub_response",
    "vcr_config",
]

REDACTED = "REDACTED"
ACCOUNT_PLACEHOLDER = "ACCOUNT_ID"
SERIALIZER_NAME = "cfaig-yaml"
"""A second name for the readable serializer. pytest-recording names cassette files
``<test>.<serializer>``, so :func:`vcr_config` defaults to ``"yaml"`` (files stay ``.yaml``)
and :func:`configure_vcr` registers the readable serializer under both names."""
READABLE_SERIALIZER = "yaml"

VOLATILE_RESPONSE_HEADERS = frozenset(
    {
        "date",
        "server",
        "cf-ray",
        "set-cookie",
        "alt-svc",
        "nel",
        "report-to",
        "via",
        "x-request-id",
        "openai-processing-ms",
        "openai-organization",
        "openai-project",
        "x-envoy-upstream-service-time",
        "strict-transport-security",
        "cf-cache-status",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "age",
        "expires",
        "last-modified",
        "etag",
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
    }
)

_ACCOUNT_IN_REST_PATH = re.compile(r"(?P<pre>/accounts/)(?P<id>[^/?#]+)")
_ACCOUNT_IN_GATEWAY_PATH = re.compile(r"^(?P<pre>/v1/)(?P<id>[^/?#]+)(?=/[^/?#]+)")
_HEX_ACCOUNT = re.compile(r"^[0-9a-f]{32}$")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "testserver"})


def _scrub_path(path: str, account_ids: Sequence[str], host: str | None = None) -> str:
    for account in account_ids:
        if account:
            path = path.replace(f"/{account}/", f"/{ACCOUNT_PLACEHOLDER}/")
            if path.endswith(f"/{account}"):
                path = path[: -len(account)] + ACCOUNT_PLACEHOLDER
    if "/accounts/" in path:
        return _ACCOUNT_IN_REST_PATH.sub(lambda m: m["pre"] + ACCOUNT_PLACEHOLDER, path, count=1)
    # ``/v1/{account}/{gateway}`` only on the gateway host, a local emulator, or for an id
    # shaped like a Cloudflare account id: ``https://api.openai.com/v1/chat/completions``
    # must keep its path.
    gateway_like = host is None or host == wire.GATEWAY_HOST or host in _LOCAL_HOSTS

    def repl(m: re.Match[str]) -> str:
        if gateway_like or _HEX_ACCOUNT.match(m["id"]):
            return m["pre"] + ACCOUNT_PLACEHOLDER
        return m.group(0)

    return _ACCOUNT_IN_GATEWAY_PATH.sub(repl, path, count=1)


def credential_header(name: str, marked: Iterable[str] = ()) -> bool:
    """Whether a recorded header (or a header-shaped JSON key) carries a credential: one of
    ``wire.SECRET_HEADERS``, a name given in ``marked``, or a hyphenated name that looks like
    one (``x-my-api-key``, ``x-service-token``; a body key such as ``token`` in logprobs is
    not hyphenated, so it is not taken for a header)."""
    lower = name.lower()
    return (
        lower in wire.SECRET_HEADERS
        or lower in {m.lower() for m in marked}
        or ("-" in lower and looks_like_credential(lower))
    )


def _scrub_json(value: Any, secrets: Sequence[str], marked: Sequence[str] = ()) -> Any:
    """Redact credential headers nested in JSON (universal steps carry them in the body)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and credential_header(key, marked) and isinstance(item, str):
                out[key] = REDACTED
            else:
                out[key] = _scrub_json(item, secrets, marked)
        return out
    if isinstance(value, list):
        return [_scrub_json(item, secrets, marked) for item in value]
    if isinstance(value, str):
        return redact(value, secrets)
    return value


def _scrub_text(text: str, secrets: Sequence[str], marked: Sequence[str] = ()) -> str:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return redact(text, secrets)
    scrubbed = _scrub_json(parsed, secrets, marked)
    return json.dumps(scrubbed, separators=(",", ":"), ensure_ascii=False)


def _holds_secret(value: object, secrets: Sequence[str]) -> bool:
    return isinstance(value, str) and any(s and len(s) >= 4 and s in value for s in secrets)


def scrub_request(
    request: Any,
    *,
    account_ids: Sequence[str] = (),
    secrets: Sequence[str] = (),
    secret_headers: Sequence[str] = (),
) -> Any:
    """Copy of a vcrpy request with the account id out of the URL, credential headers and
    credentials inside JSON bodies redacted. Idempotent (vcrpy also runs it when matching).

    A header is redacted when its name carries credentials (:func:`credential_header`: the
    registry's, ``secret_headers``, credential-looking names) or its value contains one of
    ``secrets``: a custom credential header passed as a secret never stays in clear."""
    request = copy.deepcopy(request)
    parts = urlsplit(request.uri)
    request.uri = urlunsplit(
        parts._replace(path=_scrub_path(parts.path, account_ids, parts.hostname))
    )
    for name in list(request.headers):
        value = request.headers[name]
        values = value if isinstance(value, list) else [value]
        if credential_header(name, secret_headers) or any(
            _holds_secret(v, secrets) for v in values
        ):
            request.headers[name] = REDACTED
    body = request.body
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        scrubbed = _scrub_text(text, secrets, secret_headers)
        if scrubbed != text:
            request.body = scrubbed.encode("utf-8")
    return request


def scrub_response(
    response: dict[str, Any],
    *,
    secrets: Sequence[str] = (),
    account_ids: Sequence[str] = (),
    secret_headers: Sequence[str] = (),
) -> dict[str, Any]:
    """Drop volatile and credential response headers (and any whose value holds one of
    ``secrets``); redact secrets in the body."""
    response = copy.deepcopy(response)
    headers = response.get("headers") or {}
    response["headers"] = {
        name: value
        for name, value in headers.items()
        if name.lower() not in VOLATILE_RESPONSE_HEADERS
        and not credential_header(name, secret_headers)
        and not any(
            _holds_secret(v, secrets) for v in (value if isinstance(value, list) else [value])
        )
    }
    body = response.get("body", {}).get("string")
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        scrubbed = redact(text, secrets)
        for account in account_ids:
            if account:
                scrubbed = scrubbed.replace(account, ACCOUNT_PLACEHOLDER)
        if scrubbed != text:
            response["body"]["string"] = scrubbed.encode("utf-8")
    return response


def vcr_config(
    *,
    account_ids: Iterable[str] = (),
    secrets: Iterable[str] = (),
    secret_headers: Iterable[str] = (),
    match_on: Sequence[str] = ("method", "scheme", "path", "query", "body"),
    serializer: str = READABLE_SERIALIZER,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for vcrpy / pytest-recording's ``vcr_config`` fixture.

    - request credential headers (``cf-aig-authorization``, ``authorization``, ``x-api-key``,
      ``api-key``, ``x-goog-api-key``, ...; names in ``secret_headers``; hyphenated names that
      look like a credential, such as ``x-my-api-key``; any header whose value contains one
      of ``secrets``) are replaced with ``REDACTED``;
    - account ids in URLs become ``ACCOUNT_ID`` (the given ones, and any in the gateway and
      REST URL shapes), so cassettes replay for any account;
    - volatile response headers are dropped, compressed bodies decoded;
    - matching ignores host and port (an emulator on any free port replays the same
      cassette), and compares JSON bodies semantically (vcrpy's ``body`` matcher);
    - cassettes are ``.yaml`` files; once :func:`configure_vcr` has registered the readable
      serializer (as ``"yaml"``), JSON bodies are stored parsed. Without it vcrpy's own YAML
      serializer writes them, still valid for replay.
    """
    account_list = tuple(a for a in account_ids if a)
    secret_list = tuple(s for s in secrets if s)
    marked = tuple(h.lower() for h in secret_headers if h)

    def before_request(request: Any) -> Any:
        return scrub_request(
            request, account_ids=account_list, secrets=secret_list, secret_headers=marked
        )

    def before_response(response: dict[str, Any]) -> dict[str, Any]:
        return scrub_response(
            response, secrets=secret_list, account_ids=account_list, secret_headers=marked
        )

    config: dict[str, Any] = {
        "filter_headers": [(h, REDACTED) for h in (*wire.SECRET_HEADERS, *marked)],
        "before_record_request": before_request,
        "before_record_response": before_response,
        "decode_compressed_response": True,
        "match_on": list(match_on),
        "serializer": serializer,
    }
    config.update(extra or {})
    return config


# --- a readable serializer ------------------------------------------------------------------


def _body_to_readable(body: Any) -> Any:
    if not isinstance(body, str) or not body:
        return body
    try:
        return {"json": json.loads(body)}
    except ValueError:
        return body


def _body_from_readable(body: Any) -> Any:
    if isinstance(body, dict) and set(body) == {"json"}:
        return json.dumps(body["json"], separators=(",", ":"), ensure_ascii=False)
    return body


class CassetteSerializer:
    """vcrpy serializer: YAML with JSON bodies stored parsed and text bodies as blocks."""

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        import yaml

        data = copy.deepcopy(cassette_dict)
        for interaction in data.get("interactions", []):
            request = interaction["request"]
            request["body"] = _body_to_readable(request.get("body"))
            body = interaction["response"].get("body") or {}
            if "string" in body:
                body["string"] = _body_to_readable(body["string"])

        class Dumper(yaml.SafeDumper):
            pass

        def str_presenter(dumper: Any, value: str) -> Any:
            style = "|" if "\n" in value else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

        Dumper.add_representer(str, str_presenter)
        return str(yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=100))

    @staticmethod
    def deserialize(cassette_string: str) -> dict[str, Any]:
        import yaml

        data: dict[str, Any] = yaml.safe_load(cassette_string) or {}
        for interaction in data.get("interactions", []):
            request = interaction["request"]
            request["body"] = _body_from_readable(request.get("body"))
            body = interaction["response"].get("body") or {}
            if "string" in body:
                body["string"] = _body_from_readable(body["string"])
        return data


def configure_vcr(vcr: Any) -> None:
    """Register the readable serializer on a ``vcr.VCR`` (pytest-recording's
    ``pytest_recording_configure(config, vcr)`` hook is the place), under ``"yaml"`` (it reads
    vcrpy's plain YAML cassettes too) and :data:`SERIALIZER_NAME`; and make replaying httpx
    responses thread-safe (see :func:`_serialize_httpx_replay`)."""
    serializer = CassetteSerializer()
    vcr.register_serializer(READABLE_SERIALIZER, serializer)
    vcr.register_serializer(SERIALIZER_NAME, serializer)
    _serialize_httpx_replay()


_REPLAY_LOCK = threading.Lock()


def _serialize_httpx_replay() -> None:
    """vcrpy 7 (the line langchain-tests 0.3 pins) builds each replayed httpx response under
    ``mock.patch("httpx.Response.read")``: two threads replaying at once (``batch``) can
    restore each other's mock, leaving ``httpx.Response.read`` a ``MagicMock`` for the rest of
    the run. Building replayed responses one at a time keeps the patch balanced."""
    try:
        from vcr.stubs import httpx_stubs  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:  # no vcrpy, or no httpx support in it
        return
    build = getattr(httpx_stubs, "_from_serialized_response", None)
    if build is None or getattr(build, "_cf_serialized", False):
        return

    def serialized(*args: Any, **kwargs: Any) -> Any:
        with _REPLAY_LOCK:
            return build(*args, **kwargs)

    serialized._cf_serialized = True  # type: ignore[attr-defined]
    httpx_stubs._from_serialized_response = serialized


# --- the scanner ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CassetteFinding:
    """A probable secret in a cassette: where, what kind, and a masked excerpt."""

    path: Path
    line: int
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.excerpt}"


_KEY_LINE = re.compile(r"^\s*-?\s*['\"]?(?P<name>[A-Za-z0-9_.-]{1,100})['\"]?\s*:\s*(?P<value>.*)$")
"""A ``name: value`` line of a YAML (or JSON) cassette; :func:`credential_header` decides."""
_SCAN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bearer token", re.compile(r"(?i)bearer\s+(?!REDACTED\b)(?!\*\*\*)[A-Za-z0-9._~+/=-]{8,}")),
    ("openai-style key", re.compile(r"\bsk-[A-Za-z0-9_-]{16,}")),
    ("google api key", re.compile(r"\bAIza[0-9A-Za-z_-]{30,}")),
    ("account id in url", re.compile(r"/(?:v1|accounts)/[0-9a-f]{32}(?:/|\b)")),
)


def _mask(text: str) -> str:
    text = text.strip()
    return text[:12] + "…" if len(text) > 12 else text


def scan_cassettes(
    path: str | Path,
    *,
    secrets: Iterable[str] = (),
    suffixes: Sequence[str] = (".yaml", ".yml", ".json", f".{SERIALIZER_NAME}"),
) -> list[CassetteFinding]:
    """Find probable secrets in the cassette files under ``path``.

    Flags credential headers whose value is not ``REDACTED`` (a list item on the following
    line is checked too): the registry's (``wire.SECRET_HEADERS``) and any hyphenated name
    that looks like a credential (``x-my-api-key``, ``x-service-token``), so a custom
    credential header is found without being told about it; also bearer tokens,
    provider-style keys, 32-hex account ids in URLs, and any of the given literal ``secrets``.
    An empty list means the cassettes look clean.
    """
    root = Path(path)
    files = (
        [root]
        if root.is_file()
        else sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes)
    )
    secret_list = [s for s in secrets if s and len(s) >= 4]
    findings: list[CassetteFinding] = []
    check_next: str | None = None
    for file in files:
        check_next = None
        lines = file.read_text("utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, 1):
            if check_next is not None:
                value = line.strip().lstrip("-").strip().strip("'\"")
                if value and value != REDACTED:
                    findings.append(
                        CassetteFinding(file, number, f"{check_next} header", _mask(value))
                    )
                check_next = None
            header = _KEY_LINE.match(line)
            if header and credential_header(header["name"]):
                value = header["value"].strip().strip("'\"")
                if not value:
                    check_next = header["name"].lower()
                elif value not in (REDACTED, f"[{REDACTED}]", f"- {REDACTED}"):
                    findings.append(
                        CassetteFinding(
                            file, number, f"{header['name'].lower()} header", _mask(value)
                        )
                    )
            for kind, pattern in _SCAN_PATTERNS:
                match = pattern.search(line)
                if match:
                    findings.append(CassetteFinding(file, number, kind, _mask(match.group(0))))
            for secret in secret_list:
                if secret in line:
                    findings.append(
                        CassetteFinding(file, number, "known secret", _mask(secret[:4]))
                    )
    return findings


def active_connections(client: GatewayClient | AsyncGatewayClient) -> int:
    """How many connections of ``client``'s pool are in use (neither idle nor closed): once a
    call has returned or raised, anything but 0 is a leaked connection. For a client on
    httpx's own transport (the default); ``TypeError`` for one built on another transport."""
    pool = getattr(getattr(client._http, "_transport", None), "_pool", None)
    if pool is None:
        raise TypeError(
            f"active_connections needs a client on httpx's own transport, not "
            f"{type(getattr(client._http, '_transport', None)).__name__}"
        )
    return sum(1 for c in pool.connections if not (c.is_idle() or c.is_closed()))
