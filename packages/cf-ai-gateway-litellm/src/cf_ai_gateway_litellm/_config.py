"""Which gateway a call goes to, with which credentials and clients: ``register()``'s
arguments, then the environment, then LiteLLM's per-call ``api_base`` / ``api_key``.

No LiteLLM import here. All URL, credential and client logic is the core's
(:func:`~cf_ai_gateway.resolve_gateway`, :func:`~cf_ai_gateway.model_for_base_url`,
:func:`~cf_ai_gateway.clients_for`); this module only decides which layer wins.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import cf_ai_gateway as core
import httpx
from cf_ai_gateway import ClientPair, Gateway, GatewayOptions, Surface
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
        self.options = core.options_from_value(options.get("gateway_options"))
        self.fallback_models = tuple(fallback_models)
        for model in self.fallback_models:
            check_fallback_model(model)
        self.surface: Surface = surface
        self.max_retries = max_retries
        self._http_client = options.get("http_client")
        self._http_async_client = options.get("http_async_client")
        self._lock = threading.Lock()
        self._targets: dict[tuple[str, str | None, str | None, str | None, int], Target] = {}
        # a gateway given as a URL is parsed now: a bad one fails register(), not a call
        self._registered = (
            core.resolve_gateway(
                gateway=gateway if isinstance(gateway, Gateway) else None,
                gateway_url=gateway if isinstance(gateway, str) else None,
                token=self._token,
            )
            if gateway is not None
            else None
        )

    def __repr__(self) -> str:
        where = repr(self._registered) if self._registered else "env"
        return (
            f"ProviderSettings(gateway={where}, api_key={'***' if self._api_key else None}, "
            f"options={self.options!r}, fallback_models={list(self.fallback_models)!r}, "
            f"surface={self.surface!r}, max_retries={self.max_retries})"
        )

    # --- gateway ------------------------------------------------------------------------

    def _gateway(self, api_base: str | None, token: str | None) -> tuple[Gateway, Surface]:
        """The gateway of a call and the surface it implies. The token: the call's
        ``cf-aig-authorization`` header, else ``register(token=...)``, else the registered
        gateway's (also for another ``api_base``: usually the same account), else
        ``CF_AIG_TOKEN``."""
        token = token or self._token
        if api_base:
            if token is None and self._registered is not None:
                token = self._registered.token
            gateway = core.resolve_gateway(
                base_url=api_base, token=token, base_url_param="api_base"
            )
            rest = core.parse_base_url(api_base, "api_base").surface == "rest"
            return gateway, "rest" if rest else self.surface
        if self._registered is not None:
            return core.resolve_gateway(gateway=self._registered, token=token), self.surface
        return core.resolve_gateway(token=token), self.surface  # the environment, on first use

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
        key = _secret(api_key, "api_key") or self._api_key or core.provider_api_key_from_env()
        retries = self.max_retries if max_retries is None else max_retries
        cache_key = (model, api_base or None, key, token, retries)
        found = self._targets.get(cache_key)
        if found is not None:
            return found
        gateway, surface = self._gateway(api_base, token)
        if api_base:
            model = core.model_for_base_url(model, api_base)
        config = core.ClientConfig(gateway, surface=surface, api_key=key, max_retries=retries)
        pair = core.clients_for(
            config, http_client=self._http_client, http_async_client=self._http_async_client
        )
        target = Target(pair, model)
        with self._lock:
            if len(self._targets) >= _TARGETS_MAX:
                self._targets.pop(next(iter(self._targets)))
            self._targets[cache_key] = target
        return target
