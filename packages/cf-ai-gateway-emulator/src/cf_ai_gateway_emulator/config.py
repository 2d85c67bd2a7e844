"""Emulator configuration: accounts, gateways (with their settings and dynamic routes),
providers (mock or pass-through) and the mock LLM, loaded from TOML and validated.

Every validation error names the offending key path and value, e.g.
``accounts.emu-account.gateways.demo.rate_limiting_technique='burst' is invalid: ...``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from cf_ai_gateway import wire
from cf_ai_gateway.providers import get_provider

from .mock.faults import FaultError, parse_faults
from .mock.scripts import Script, ScriptError, parse_script

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_CONFIG_TOML",
    "DEFAULT_LOG_BODY_MAX_BYTES",
    "DEFAULT_MAX_REQUEST_BYTES",
    "DEFAULT_TOKEN",
    "AccountConfig",
    "ConfigError",
    "EmulatorConfig",
    "GatewaySettings",
    "MockSettings",
    "ProviderSettings",
    "SpendLimit",
    "header_text_problem",
    "load_config",
    "parse_config",
]

DEFAULT_ACCOUNT_ID = "emu-account"
DEFAULT_TOKEN = "emu-token"
DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024
"""``[emulator] max_request_bytes``: a larger request body is answered 413 without being read
(Cloudflare documents 25 MB as the largest cacheable request, and Workers accept 100 MB; our
choice sits between)."""
DEFAULT_LOG_BODY_MAX_BYTES = 1024 * 1024
"""``[emulator] log_body_max_bytes``: the most of a request or response body one log keeps."""

Technique = Literal["fixed", "sliding"]
Strategy = Literal["STOP_INSERTING", "DELETE_OLDEST"]


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key path and the value."""

    def __init__(self, path: str, value: object, rule: str) -> None:
        self.path = path
        self.value = value
        super().__init__(f"{path}={value!r} is invalid: {rule}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(path: str, value: object, lo: int, hi: int | None = None) -> int:
    if not _is_int(value) or value < lo or (hi is not None and value > hi):  # type: ignore[operator]
        rng = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
        raise ConfigError(path, value, f"must be an integer {rng}")
    return value  # type: ignore[return-value]


def _opt_int(path: str, value: object, lo: int, hi: int | None = None) -> int | None:
    return None if value is None else _int(path, value, lo, hi)


def _bool(path: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(path, value, "must be true or false")
    return value


def _str(path: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(path, value, "must be a string")
    return value


def header_text_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as an HTTP header value (the emulator names models in
    ``cf-aig-model`` and ``cf-aig-routed-model``), or ``None``: control characters (CR/LF
    would split the header) and characters outside Latin-1 cannot."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "must not contain control characters (CR, LF, ...)"
    if any(ord(c) > 0xFF for c in value):
        return "must be Latin-1 text (it is sent back in a response header)"
    return None


def _model_name(path: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(path, value, "must be a non-empty string")
    problem = header_text_problem(value)
    if problem is not None:
        raise ConfigError(path, value, problem)
    return value


def _choice(path: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(path, value, f"must be one of {', '.join(choices)}")
    return str(value)


class _Redacted:
    """Stands in for a secret in error messages: its shape, never its characters."""

    text: str

    def __init__(self, value: object) -> None:
        if isinstance(value, (list, tuple)):
            self.text = "[" + ", ".join(_Redacted(v).text for v in value) + "]"
        elif isinstance(value, str):
            self.text = f"<{len(value)}-character string>" if value.strip() else repr(value)
        else:
            self.text = f"<{type(value).__name__}>"

    def __repr__(self) -> str:
        return self.text


def _tokens(path: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        # Tokens are secrets: the message shows the shape of the value, not the value.
        raise ConfigError(path, _Redacted(value), "must be a list of non-empty strings")
    return tuple(value)


def _check_unknown(path: str, data: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        value = data[unknown[0]]
        raise ConfigError(
            f"{path}.{unknown[0]}",
            _Redacted(value) if "token" in str(unknown[0]).lower() else value,
            f"unknown key; allowed: {', '.join(sorted(known))}",
        )


def _aliases(path: str, value: object) -> dict[str, tuple[str, ...]]:
    """``{alias: ["provider/model", ...]}`` with known providers and at least one model."""
    if not isinstance(value, Mapping):
        raise ConfigError(path, value, "must be a table of alias = [models]")
    out: dict[str, tuple[str, ...]] = {}
    for name, models in value.items():
        where = f"{path}.{name}"
        if not isinstance(name, str) or not name or "/" in name:
            raise ConfigError(where, name, "an alias name is a non-empty string without '/'")
        if not isinstance(models, list) or not models:
            raise ConfigError(where, models, "must be a non-empty list of 'provider/model'")
        for model in models:
            provider, _, rest = model.partition("/") if isinstance(model, str) else ("", "", "")
            if isinstance(model, str):
                _model_name(where, model)
            try:
                get_provider(provider)
            except ValueError:
                raise ConfigError(where, model, "each model is 'provider/model'") from None
            if not rest:
                raise ConfigError(where, model, "each model is 'provider/model'")
        out[name] = tuple(models)
    return out


def _provider_keys(path: str, value: object) -> dict[str, dict[str, str]]:
    """``{provider: {alias: key}}`` (a bare key string is the ``default`` alias); providers are
    named as the registry knows them and stored under their path segment. Keys are secrets:
    errors show their shape, never their characters."""
    if not isinstance(value, Mapping):
        raise ConfigError(path, _Redacted(value), "must be a table of provider = { alias = key }")
    out: dict[str, dict[str, str]] = {}
    for provider, aliases in value.items():
        where = f"{path}.{provider}"
        try:
            slug = get_provider(str(provider)).slug
        except ValueError as exc:
            raise ConfigError(where, provider, str(exc)) from None
        if isinstance(aliases, str):
            aliases = {"default": aliases}
        if not isinstance(aliases, Mapping) or not aliases:
            raise ConfigError(where, _Redacted(aliases), "must be a key or a table alias = key")
        for alias, key in aliases.items():
            if not isinstance(alias, str) or not alias.strip():
                raise ConfigError(where, alias, "an alias is a non-empty string")
            if not isinstance(key, str) or not key.strip():
                raise ConfigError(f"{where}.{alias}", _Redacted(key), "must be a non-empty key")
        out[slug] = {str(alias): str(key) for alias, key in aliases.items()}
    return out


_SPLIT_DIMENSIONS = ("provider", "model")


@dataclass(frozen=True)
class SpendLimit:
    """One spend limit rule of a gateway (Cloudflare's "Spend limits" page): a budget in USD
    over a window of ``window`` seconds (``fixed``: clock-aligned windows; ``sliding``: the last
    ``window`` seconds). ``provider`` / ``model`` keep the rule to requests with that value
    (filter by value); ``split_by`` gives each distinct value of ``provider``, ``model`` or
    ``metadata.<key>`` its own budget (split by value)."""

    limit: float
    window: int
    technique: Technique = "fixed"
    provider: str | None = None
    model: str | None = None
    split_by: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, path: str, data: object) -> SpendLimit:
        if not isinstance(data, Mapping):
            raise ConfigError(path, data, "must be a table (limit, window, ...)")
        _check_unknown(path, data, {f.name for f in fields(cls)})
        limit = data.get("limit")
        if not isinstance(limit, (int, float)) or isinstance(limit, bool) or limit < 0:
            raise ConfigError(f"{path}.limit", limit, "must be a number of USD >= 0")
        split = data.get("split_by", [])
        if not isinstance(split, list) or not all(
            isinstance(d, str) and (d in _SPLIT_DIMENSIONS or d.startswith("metadata."))
            for d in split
        ):
            raise ConfigError(
                f"{path}.split_by", split, "must list 'provider', 'model' or 'metadata.<key>'"
            )
        provider = data.get("provider")
        if provider is not None:
            try:
                provider = get_provider(_str(f"{path}.provider", provider)).slug
            except ValueError as exc:
                raise ConfigError(f"{path}.provider", provider, str(exc)) from None
        model = data.get("model")
        return cls(
            limit=float(limit),
            window=_int(f"{path}.window", data.get("window"), 1),
            technique=_choice(  # type: ignore[arg-type]
                f"{path}.technique", data.get("technique", "fixed"), ("fixed", "sliding")
            ),
            provider=provider,
            model=None if model is None else _str(f"{path}.model", model),
            split_by=tuple(split),
        )


def _spend_limits(path: str, value: object) -> tuple[SpendLimit, ...]:
    if not isinstance(value, list):
        raise ConfigError(path, value, "must be a list of tables")
    return tuple(SpendLimit.from_mapping(f"{path}[{i}]", raw) for i, raw in enumerate(value))


@dataclass(frozen=True)
class GatewaySettings:
    """One gateway's settings, with the management API's field names."""

    id: str
    authentication: bool = False
    tokens: tuple[str, ...] = field(default=(), repr=False)
    """Extra gateway-scoped tokens accepted in ``cf-aig-authorization`` (besides the
    account's API tokens)."""
    cache_ttl: int = 0
    cache_invalidate_on_update: bool = False
    collect_logs: bool = True
    rate_limiting_limit: int | None = None
    rate_limiting_interval: int | None = None
    rate_limiting_technique: Technique = "fixed"
    log_management: int | None = None
    log_management_strategy: Strategy = "STOP_INSERTING"
    retry_max_attempts: int = 1
    retry_delay: int = 0
    retry_backoff: wire.Backoff = "constant"
    zdr: bool = False
    routes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Model aliases (``"model": "custom/{alias}"``): alias -> ``provider/model`` names, tried
    in order, the next when one fails (Cloudflare's default order)."""
    provider_keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict, repr=False)
    """BYOK: stored provider keys, provider path segment -> alias -> key. A request without a
    provider credential uses the key of its ``cf-aig-byok-alias`` (default ``default``)."""
    credits: float | None = None
    """Unified Billing credits in USD (``None``: unlimited). Cloudflare holds credits per
    account; the emulator keeps a balance per gateway so tests stay apart."""
    spend_limits: tuple[SpendLimit, ...] = ()
    """Spend limit rules (BYOK and Unified Billing requests; a key the caller sends is the
    caller's own bill)."""
    created_at: str = ""
    modified_at: str = ""

    API_FIELDS = (
        "id",
        "cache_ttl",
        "cache_invalidate_on_update",
        "collect_logs",
        "rate_limiting_interval",
        "rate_limiting_limit",
        "rate_limiting_technique",
        "authentication",
        "log_management",
        "log_management_strategy",
        "retry_max_attempts",
        "retry_delay",
        "retry_backoff",
        "zdr",
        "created_at",
        "modified_at",
    )

    @property
    def rate_limited(self) -> bool:
        return bool(self.rate_limiting_limit and self.rate_limiting_interval)

    @classmethod
    def from_mapping(
        cls, gateway_id: str, data: Mapping[str, Any], path: str, *, allow_readonly: bool = False
    ) -> GatewaySettings:
        """Validate ``data`` (config table or management API JSON) into settings."""
        from .dynamic_routes import parse_route

        if not isinstance(data, Mapping):
            raise ConfigError(path, data, "must be a table/object")
        known = {f.name for f in fields(cls)} - {"id", "created_at", "modified_at"}
        readonly = {"id", "created_at", "modified_at"}
        extra = {"name"}
        if allow_readonly:
            known |= readonly | extra
        _check_unknown(path, data, known)

        def p(key: str) -> str:
            return f"{path}.{key}"

        if (
            not isinstance(gateway_id, str)
            or not gateway_id
            or len(gateway_id) > wire.GATEWAY_ID_MAX_LEN
            or not all(c.isalnum() or c in "-_" for c in gateway_id)
        ):
            raise ConfigError(
                path,
                gateway_id,
                f"gateway id must be 1-{wire.GATEWAY_ID_MAX_LEN} letters, digits, '-' or '_'",
            )
        d = dict(data)
        routes: dict[str, Mapping[str, Any]] = {}
        raw_routes = d.get("routes", {})
        if isinstance(raw_routes, Mapping):
            raw_routes = [
                {"name": k, **v} if isinstance(v, Mapping) else v for k, v in raw_routes.items()
            ]
        if not isinstance(raw_routes, list):
            raise ConfigError(p("routes"), raw_routes, "must be a list or table of routes")
        for i, raw in enumerate(raw_routes):
            route = parse_route(raw, f"{p('routes')}[{i}]")
            routes[route["name"]] = route
        aliases = _aliases(p("aliases"), d.get("aliases", {}))
        credits = d.get("credits")
        if credits is not None and (
            not isinstance(credits, (int, float)) or isinstance(credits, bool)
        ):
            raise ConfigError(p("credits"), credits, "must be a number of USD (or unset)")
        settings = cls(
            id=gateway_id,
            authentication=_bool(p("authentication"), d.get("authentication", False)),
            tokens=_tokens(p("tokens"), d.get("tokens", [])),
            cache_ttl=_int(p("cache_ttl"), d.get("cache_ttl") or 0, 0, wire.CACHE_TTL_MAX_S),
            cache_invalidate_on_update=_bool(
                p("cache_invalidate_on_update"), d.get("cache_invalidate_on_update", False)
            ),
            collect_logs=_bool(p("collect_logs"), d.get("collect_logs", True)),
            rate_limiting_limit=_opt_int(p("rate_limiting_limit"), d.get("rate_limiting_limit"), 0),
            rate_limiting_interval=_opt_int(
                p("rate_limiting_interval"), d.get("rate_limiting_interval"), 0
            ),
            rate_limiting_technique=_choice(
                p("rate_limiting_technique"),  # type: ignore[arg-type]
                d.get("rate_limiting_technique") or "fixed",
                ("fixed", "sliding"),
            ),
            log_management=_opt_int(p("log_management"), d.get("log_management"), 1),
            log_management_strategy=_choice(  # type: ignore[arg-type]
                p("log_management_strategy"),
                d.get("log_management_strategy") or "STOP_INSERTING",
                ("STOP_INSERTING", "DELETE_OLDEST"),
            ),
            retry_max_attempts=_int(
                p("retry_max_attempts"),
                d.get("retry_max_attempts") or 1,
                wire.MAX_ATTEMPTS_MIN,
                wire.MAX_ATTEMPTS_MAX,
            ),
            retry_delay=_int(
                p("retry_delay"), d.get("retry_delay") or 0, 0, wire.RETRY_DELAY_MAX_MS
            ),
            retry_backoff=_choice(
                p("retry_backoff"),  # type: ignore[arg-type]
                d.get("retry_backoff") or "constant",
                wire.BACKOFF_VALUES,
            ),
            zdr=_bool(p("zdr"), d.get("zdr", False)),
            routes=routes,
            aliases=aliases,
            provider_keys=_provider_keys(p("provider_keys"), d.get("provider_keys", {})),
            credits=None if credits is None else float(credits),
            spend_limits=_spend_limits(p("spend_limits"), d.get("spend_limits", [])),
        )
        if (settings.rate_limiting_limit is None) != (settings.rate_limiting_interval is None):
            raise ConfigError(
                p("rate_limiting_limit"),
                settings.rate_limiting_limit,
                "rate_limiting_limit and rate_limiting_interval go together",
            )
        return settings

    def to_api(self) -> dict[str, Any]:
        """The management API's gateway object."""
        data = asdict(self)
        return {name: data[name] for name in self.API_FIELDS}

    def with_routes(self, routes: Mapping[str, Mapping[str, Any]]) -> GatewaySettings:
        return replace(self, routes=dict(routes))


@dataclass(frozen=True)
class AccountConfig:
    id: str
    api_tokens: tuple[str, ...] = field(default=(DEFAULT_TOKEN,), repr=False)
    gateways: Mapping[str, GatewaySettings] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderSettings:
    """How one provider slug is answered: the mock (default) or a real upstream."""

    mode: Literal["mock", "upstream"] = "mock"
    upstream_base_url: str | None = None
    latency_ms: int | None = None
    faults: str = ""


@dataclass(frozen=True)
class MockSettings:
    """The mock LLM's knobs (all deterministic)."""

    latency_ms: int = 0
    """Delay before the first byte of every mock response."""
    stream_chunk_delay_ms: int = 0
    embedding_dimensions: int = 64
    max_answer_tokens: int = 48
    """Length cap of the mock's own text answers, before ``max_tokens`` applies."""
    price_in_per_mtok: float = 0.15
    price_out_per_mtok: float = 0.60
    faults: str = ""
    """Fault directives applied to every mock response (see ``mock.faults``)."""
    seed: int = 0
    """Seeds dynamic-route percentage splits and the mock's phrasing."""
    scripts: tuple[Script, ...] = ()
    """Scripted answers (``[[mock.scripts]]``, see ``mock.scripts``)."""


@dataclass(frozen=True)
class EmulatorConfig:
    accounts: Mapping[str, AccountConfig]
    providers: Mapping[str, ProviderSettings] = field(default_factory=dict)
    mock: MockSettings = field(default_factory=MockSettings)
    default_account: str = DEFAULT_ACCOUNT_ID
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    """A request body larger than this is answered 413 (``[emulator] max_request_bytes``)."""
    log_body_max_bytes: int = DEFAULT_LOG_BODY_MAX_BYTES
    """The most of each body a log stores (``[emulator] log_body_max_bytes``)."""

    def provider(self, slug: str) -> ProviderSettings:
        return self.providers.get(slug, ProviderSettings())


DEFAULT_CONFIG_TOML = (resources.files(__package__) / "default_config.toml").read_text(
    encoding="utf-8"
)
"""The built-in configuration (``cf-ai-gateway-emulator config`` prints it)."""


def _parse_mock(data: object) -> MockSettings:
    if not isinstance(data, Mapping):
        raise ConfigError("mock", data, "must be a table")
    _check_unknown("mock", data, {f.name for f in fields(MockSettings)})
    base = MockSettings()
    values: dict[str, Any] = {}
    for f in fields(MockSettings):
        if f.name not in data:
            continue
        value = data[f.name]
        path = f"mock.{f.name}"
        if f.name.startswith("price_"):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigError(path, value, "must be a number >= 0")
            values[f.name] = float(value)
        elif f.name == "faults":
            values[f.name] = _check_faults(path, _str(path, value))
        elif f.name == "scripts":
            values[f.name] = _scripts(path, value)
        else:
            lo = 1 if f.name in ("embedding_dimensions", "max_answer_tokens") else 0
            values[f.name] = _int(path, value, lo)
    return replace(base, **values)


def _scripts(path: str, value: object) -> tuple[Script, ...]:
    if not isinstance(value, list):
        raise ConfigError(path, value, "must be a list of tables ([[mock.scripts]])")
    out = []
    for i, raw in enumerate(value):
        try:
            out.append(parse_script(raw, f"{path}[{i}]"))
        except ScriptError as exc:
            raise ConfigError(f"{path}[{i}]", raw, str(exc)) from None
    return tuple(out)


def _check_faults(path: str, text: str) -> str:
    try:
        parse_faults(text)
    except FaultError as exc:
        raise ConfigError(path, text, str(exc)) from None
    return text


def _parse_provider(slug: str, data: object) -> ProviderSettings:
    path = f"providers.{slug}"
    try:
        get_provider(slug)
    except ValueError as exc:
        raise ConfigError(path, slug, str(exc)) from None
    if not isinstance(data, Mapping):
        raise ConfigError(path, data, "must be a table")
    _check_unknown(path, data, {f.name for f in fields(ProviderSettings)})
    mode = _choice(f"{path}.mode", data.get("mode", "mock"), ("mock", "upstream"))
    url = data.get("upstream_base_url")
    if url is not None:
        url = _str(f"{path}.upstream_base_url", url)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{path}.upstream_base_url", url, "must be an http(s) URL")
    if mode == "upstream" and not url:
        raise ConfigError(f"{path}.upstream_base_url", url, "is required when mode = 'upstream'")
    return ProviderSettings(
        mode=mode,  # type: ignore[arg-type]
        upstream_base_url=url.rstrip("/") if url else None,
        latency_ms=_opt_int(f"{path}.latency_ms", data.get("latency_ms"), 0),
        faults=_check_faults(f"{path}.faults", _str(f"{path}.faults", data.get("faults", ""))),
    )


def parse_config(data: Mapping[str, Any]) -> EmulatorConfig:
    """Validate a parsed TOML document (or an equivalent dict) into an ``EmulatorConfig``."""
    if not isinstance(data, Mapping):
        raise ConfigError("<root>", data, "must be a table")
    _check_unknown("<root>", data, {"emulator", "mock", "providers", "accounts"})
    emulator = data.get("emulator", {})
    if not isinstance(emulator, Mapping):
        raise ConfigError("emulator", emulator, "must be a table")
    _check_unknown(
        "emulator", emulator, {"default_account", "max_request_bytes", "log_body_max_bytes"}
    )
    accounts_raw = data.get("accounts")
    if not isinstance(accounts_raw, Mapping) or not accounts_raw:
        raise ConfigError("accounts", accounts_raw, "must be a table with at least one account")
    accounts: dict[str, AccountConfig] = {}
    for account_id, raw in accounts_raw.items():
        path = f"accounts.{account_id}"
        if not isinstance(raw, Mapping):
            raise ConfigError(path, raw, "must be a table")
        _check_unknown(path, raw, {"api_tokens", "gateways"})
        gateways_raw = raw.get("gateways", {})
        if not isinstance(gateways_raw, Mapping):
            raise ConfigError(f"{path}.gateways", gateways_raw, "must be a table")
        gateways = {
            gw_id: GatewaySettings.from_mapping(gw_id, gw, f"{path}.gateways.{gw_id}")
            for gw_id, gw in gateways_raw.items()
        }
        accounts[account_id] = AccountConfig(
            id=account_id,
            api_tokens=_tokens(f"{path}.api_tokens", raw.get("api_tokens", [DEFAULT_TOKEN])),
            gateways=gateways,
        )
    default_account = _str(
        "emulator.default_account", emulator.get("default_account", next(iter(accounts)))
    )
    if default_account not in accounts:
        raise ConfigError(
            "emulator.default_account",
            default_account,
            f"must name a configured account ({', '.join(accounts)})",
        )
    providers_raw = data.get("providers", {})
    if not isinstance(providers_raw, Mapping):
        raise ConfigError("providers", providers_raw, "must be a table")
    providers = {}
    for slug, raw in providers_raw.items():
        settings = _parse_provider(slug, raw)
        providers[get_provider(slug).slug] = settings
    return EmulatorConfig(
        accounts=accounts,
        providers=providers,
        mock=_parse_mock(data.get("mock", {})),
        default_account=default_account,
        max_request_bytes=_int(
            "emulator.max_request_bytes",
            emulator.get("max_request_bytes", DEFAULT_MAX_REQUEST_BYTES),
            1,
        ),
        log_body_max_bytes=_int(
            "emulator.log_body_max_bytes",
            emulator.get("log_body_max_bytes", DEFAULT_LOG_BODY_MAX_BYTES),
            0,
        ),
    )


def load_config(
    source: str | Path | Mapping[str, Any] | EmulatorConfig | None = None,
) -> EmulatorConfig:
    """The built-in default (``None``), a TOML file path, a TOML string, or a dict."""
    if isinstance(source, EmulatorConfig):
        return source
    if source is None:
        return parse_config(tomllib.loads(DEFAULT_CONFIG_TOML))
    if isinstance(source, Mapping):
        return parse_config(source)
    text: str
    if isinstance(source, Path) or ("\n" not in source and source.endswith(".toml")):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError("--config", str(path), f"cannot be read ({exc})") from None
    else:
        text = source
    try:
        return parse_config(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("<toml>", str(source)[:80], f"is not valid TOML ({exc})") from None
