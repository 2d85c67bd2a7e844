"""Which gateway a call goes to, with which credentials and clients: ``register()``'s
arguments, then the environment, then LiteLLM's per-call ``api_base`` / ``api_key``.

No LiteLLM import here. All URL, credential and client logic is the core's
(:meth:`~cf_ai_gateway.Gateway.from_base_url`, :func:`~cf_ai_gateway.model_for_base_url`,
:func:`~cf_ai_gateway.shared_clients`); this module only decides which layer wins.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import httpx
from cf_ai_gateway import (
    ENV_TOKEN,
    ClientConfig,
    ClientPair,
    Gateway,
    GatewayOptions,
    Surface,
    model_for_base_url,
    options_from_value,
    parse_base_url,
    provider_api_key_from_env,
    shared_clients,
)
from cf_ai_gateway.chat import check_fallback_model

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["ProviderOptions", "ProviderSettings", "Target"]

_SURFACES: tuple[Surface, ...] = ("compat", "provider", "rest")
_TARGETS_MAX = 64
"""Resolved call targets kept per provider (as many as the core keeps shared client pairs)."""


def _secret(value: str | None, name: str) -> str | None:
    """A credential argument: ``None`` and blank strings mean "none" (a blank key would still
    be sent and stop the gateway from using its stored BYOK key)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string or None, not {type(value).__name__}")
    value = value.strip()
    if any(c in value for c in "\r\n"):
        raise ValueError(f"{name} must be a single line")
    return value or None


def _env_token() -> str | None:
    for name in ENV_TOKEN:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


@dataclasses.dataclass(frozen=True)
class Target:
    """Where one call goes: the core clients to use and the model name the gateway gets."""

    clients: ClientPair
    model: str


class ProviderOptions(TypedDict, total=False):
    """The keyword arguments of ``register()`` and ``CloudflareAIGatewayLLM()`` (all optional):
    the defaults of every call, which LiteLLM's per-call parameters override."""

    token: str | None
    """The gateway token (``cf-aig-authorization``); default: the gateway's own, else
    ``CF_AIG_TOKEN``."""
    api_key: str | None
    """The provider key; default ``CF_AIG_PROVIDER_API_KEY``. None at all: no provider
    credential is sent (BYOK / Unified Billing). ``OPENAI_API_KEY`` is never read."""
    gateway_options: GatewayOptions | Mapping[str, Any] | None
    """Default :class:`~cf_ai_gateway.GatewayOptions` (or a dict of its fields)."""
    fallback_models: Sequence[str]
    """Default server-side fallbacks (the universal endpoint)."""
    surface: Surface
    """``"compat"`` (the unified endpoint, default), ``"provider"`` or ``"rest"``."""
    max_retries: int
    """The core client's retries of 408/409/429/5xx and network errors (default 2; LiteLLM's
    Router asks for 0 per call and retries itself)."""
    http_client: httpx.Client | None
    """Your own ``httpx.Client`` (used as is, never closed by us)."""
    http_async_client: httpx.AsyncClient | None
    """Your own ``httpx.AsyncClient``."""


class ProviderSettings:
    """What ``register()`` (or the handler's constructor) was given, resolved lazily.

    ``gateway``: a :class:`~cf_ai_gateway.Gateway`, a pasted gateway URL, or ``None`` for
    ``Gateway.from_env()`` (read on first use, so a proxy whose deployments all name an
    ``api_base`` needs no gateway environment); the rest is :class:`ProviderOptions`.
    Credentials never appear in ``repr``.
    """

    def __init__(
        self, gateway: Gateway | str | None = None, **options: Unpack[ProviderOptions]
    ) -> None:
        unknown = sorted(set(options) - ProviderOptions.__optional_keys__)
        if unknown:
            raise TypeError(
                f"unknown argument(s) {unknown}; accepted: gateway, "
                f"{', '.join(sorted(ProviderOptions.__optional_keys__))}"
            )
        if gateway is not None and not isinstance(gateway, (Gateway, str)):
            raise TypeError(
                f"gateway must be a cf_ai_gateway.Gateway or a gateway URL, not "
                f"{type(gateway).__name__}"
            )
        surface = options.get("surface", "compat")
        if surface not in _SURFACES:
            raise ValueError(f"surface={surface!r} must be one of {', '.join(_SURFACES)}")
        max_retries = options.get("max_retries", 2)
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise ValueError(f"max_retries={max_retries!r} must be an integer >= 0")
        fallback_models = options.get("fallback_models", ())
        if isinstance(fallback_models, str):
            raise TypeError("fallback_models must be a list of models, not one string")
        self._gateway_arg = gateway
        self._token = _secret(options.get("token"), "token")
        self._api_key = _secret(options.get("api_key"), "api_key")
        self.options = options_from_value(options.get("gateway_options"))
        self.fallback_models = tuple(fallback_models)
        for model in self.fallback_models:
            check_fallback_model(model)
        self.surface: Surface = surface
        self.max_retries = max_retries
        self._http_client = options.get("http_client")
        self._http_async_client = options.get("http_async_client")
        self._lock = threading.Lock()
        self._default: Gateway | None = None
        self._from_base: dict[tuple[str, str | None], tuple[Gateway, Surface, str]] = {}
        self._private_pairs: dict[ClientConfig, ClientPair] = {}
        self._targets: dict[tuple[str, str | None, str | None, str | None, int], Target] = {}
        if isinstance(gateway, str):
            self._default = self._with_token(Gateway.from_url(gateway))

    def __repr__(self) -> str:
        gateway = self._gateway_arg if isinstance(self._gateway_arg, Gateway) else None
        where = repr(gateway) if gateway else repr(self._default) if self._default else "env"
        return (
            f"ProviderSettings(gateway={where}, api_key={'***' if self._api_key else None}, "
            f"options={self.options!r}, fallback_models={list(self.fallback_models)!r}, "
            f"surface={self.surface!r}, max_retries={self.max_retries})"
        )

    # --- gateway ------------------------------------------------------------------------

    def _token_for(self, gateway_token: str | None) -> str | None:
        """The gateway token: ``register(token=...)``, else the gateway's own, else the token
        of the registered :class:`~cf_ai_gateway.Gateway` (calls with another ``api_base``
        usually stay in the same account), else ``CF_AIG_TOKEN``."""
        given = self._gateway_arg.token if isinstance(self._gateway_arg, Gateway) else None
        return self._token or gateway_token or given or _env_token()

    def _with_token(self, gateway: Gateway, token: str | None = None) -> Gateway:
        chosen = token or self._token_for(gateway.token)
        return gateway if chosen == gateway.token else dataclasses.replace(gateway, token=chosen)

    def default_gateway(self) -> Gateway:
        """The gateway of calls without ``api_base``: ``register(gateway=...)``, else the
        environment (``CF_AIG_URL`` or ``CF_ACCOUNT_ID`` + ``CF_GATEWAY_ID``, ``CF_AIG_TOKEN``)."""
        with self._lock:
            if self._default is None:
                given = self._gateway_arg
                base = given if isinstance(given, Gateway) else Gateway.from_env()
                self._default = self._with_token(base)
            return self._default

    def _gateway_for_base(self, api_base: str) -> tuple[Gateway, Surface, str]:
        """``api_base`` parsed once: the gateway it names, the surface it implies (a REST API
        URL means the REST surface), and the URL itself for qualifying model names."""
        key = (api_base, self._token)
        with self._lock:
            found = self._from_base.get(key)
        if found is None:
            parsed = parse_base_url(api_base, "api_base")
            gateway = Gateway.from_base_url(api_base, token=self._token_for(None), param="api_base")
            surface: Surface = "rest" if parsed.surface == "rest" else self.surface
            found = (gateway, surface, api_base)
            with self._lock:
                if len(self._from_base) > 256:
                    self._from_base.clear()
                self._from_base[key] = found
        return found

    # --- per call -----------------------------------------------------------------------

    def target(
        self,
        model: str,
        *,
        api_base: str | None,
        api_key: str | None,
        token: str | None = None,
        max_retries: int | None = None,
    ) -> Target:
        """The clients and model name for one call. ``api_base`` (LiteLLM's, a pasted gateway
        URL) beats the registered gateway; ``api_key`` (LiteLLM's) beats the registered key;
        ``token`` (from a ``cf-aig-authorization`` header) beats the registered token.
        Resolved once per combination (URL parsing and client lookup are not per call)."""
        key = _secret(api_key, "api_key") or self._api_key or provider_api_key_from_env()
        retries = self.max_retries if max_retries is None else max_retries
        cache_key = (model, api_base or None, key, token, retries)
        found = self._targets.get(cache_key)
        if found is not None:
            return found
        surface = self.surface
        if api_base:
            gateway, surface, base = self._gateway_for_base(api_base)
            model = model_for_base_url(model, base)
        else:
            gateway = self.default_gateway()
        if token is not None:
            gateway = self._with_token(gateway, token)
        config = ClientConfig(gateway, surface=surface, api_key=key, max_retries=retries)
        target = Target(self._pair(config), model)
        with self._lock:
            if len(self._targets) >= _TARGETS_MAX:
                self._targets.pop(next(iter(self._targets)))
            self._targets[cache_key] = target
        return target

    def _pair(self, config: ClientConfig) -> ClientPair:
        if self._http_client is None and self._http_async_client is None:
            return shared_clients(config)
        with self._lock:  # your own httpx clients: a private pair per configuration
            pair = self._private_pairs.get(config)
            if pair is None:
                pair = self._private_pairs[config] = ClientPair(
                    config,
                    http_client=self._http_client,
                    http_async_client=self._http_async_client,
                )
            return pair
