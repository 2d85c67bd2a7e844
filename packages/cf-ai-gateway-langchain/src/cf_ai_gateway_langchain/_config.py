"""Gateway settings shared by the chat model and the embeddings: which gateway, which
credentials, which default options, and the core clients built from them.

All URL, header, option and error logic lives in the ``cf_ai_gateway`` core; this module only
maps LangChain-style constructor arguments onto a core :class:`~cf_ai_gateway.Gateway` and
builds (once, lazily) the core's sync and async clients.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from typing import Any

from cf_ai_gateway import (
    ENV_PROVIDER_API_KEY,
    ENV_TOKEN,
    AsyncGatewayClient,
    ClientConfig,
    ClientPair,
    Gateway,
    GatewayClient,
    GatewayOptions,
    Surface,
    options_from_value,
    shared_clients,
)
from cf_ai_gateway import wire as _wire
from langchain_core.utils import secret_from_env
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

__all__ = ["GatewaySettings", "Surface"]


def _mirrored_fields(gateway: Gateway) -> dict[str, Any]:
    """The plain fields that describe ``gateway`` (mirrored into the model after resolving)."""
    fields: dict[str, Any] = {"account_id": gateway.account_id, "gateway_id": gateway.gateway_id}
    if gateway.custom_domain:
        fields["gateway_url"] = gateway.root_url
    elif gateway.base_url != _wire.DEFAULT_BASE_URL:
        fields["base_url"] = gateway.base_url
    return fields


_SHARED_FIELDS = ("gateway", "http_client", "http_async_client")
_PAIR_LOCK = threading.Lock()
"""Guards the lazy lookup of a component's client pair (``batch`` runs calls in threads)."""


class GatewaySettings(BaseModel):
    """Fields every LangChain component of this package shares."""

    account_id: str | None = None
    """Cloudflare account id (``CF_ACCOUNT_ID`` / ``CLOUDFLARE_ACCOUNT_ID`` when omitted)."""
    gateway_id: str | None = None
    """Gateway id (``CF_GATEWAY_ID`` / ``GATEWAY_ID`` / ``CLOUDFLARE_GATEWAY_ID`` when omitted)."""
    cf_aig_token: SecretStr | None = Field(
        default_factory=secret_from_env(list(ENV_TOKEN), default=None), alias="gateway_token"
    )
    """Gateway token sent as ``cf-aig-authorization`` (``CF_AIG_TOKEN`` when omitted). Also
    accepted as ``gateway_token=``."""
    base_url: str | None = None
    """Gateway host plus version, default ``https://gateway.ai.cloudflare.com/v1``."""
    gateway_url: str | None = None
    """A pasted gateway URL of any shape (``.../{account}/{gateway}[/compat|/openai/v1...]``,
    a REST API URL, a custom domain); account and gateway ids are read from it."""
    gateway: Gateway | None = Field(default=None, exclude=True)
    """A ready :class:`cf_ai_gateway.Gateway`; overrides the fields above."""
    api_key: SecretStr | None = Field(
        default_factory=secret_from_env(ENV_PROVIDER_API_KEY, default=None)
    )
    """The provider key. ``None`` (the default) sends no provider credential at all, so the
    gateway's BYOK key or Unified Billing applies. Read from ``CF_AIG_PROVIDER_API_KEY`` only."""
    gateway_options: GatewayOptions | None = None
    """Default :class:`cf_ai_gateway.GatewayOptions` for every request (per call options are
    merged over them)."""
    timeout: float | None = Field(default=None, alias="request_timeout")
    """Seconds per HTTP request (default 120)."""
    max_retries: int = Field(default=2, ge=0)
    """Client-side retries (the core ``RetryPolicy``) on 408/409/429/5xx and network errors."""
    default_headers: dict[str, str] | None = None
    """Extra request headers (never credentials: use the token / key fields)."""
    http_client: Any = Field(default=None, exclude=True)
    """Your own ``httpx.Client`` (tests pass one with an ``httpx.MockTransport``)."""
    http_async_client: Any = Field(default=None, exclude=True)
    """Your own ``httpx.AsyncClient``."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    _gateway: Gateway | None = PrivateAttr(default=None)
    _clients: dict[Surface, ClientPair] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _coerce_options(cls, values: Any) -> Any:
        if isinstance(values, dict) and values.get("gateway_options") is not None:
            values = {**values, "gateway_options": options_from_value(values["gateway_options"])}
        return values

    @model_validator(mode="after")
    def _resolve_gateway(self) -> Any:
        token = self.cf_aig_token.get_secret_value() if self.cf_aig_token else None
        if self.gateway is not None:
            # Values equal to the gateway's own are what this validator mirrors back into the
            # fields; LangChain rebuilds models from their field values
            # (`configurable_fields`, `configurable_alternatives`), so those must be accepted.
            mirrored = _mirrored_fields(self.gateway)
            clash = [
                n
                for n in ("account_id", "gateway_id", "base_url", "gateway_url")
                if n in self.model_fields_set
                and getattr(self, n) is not None
                and getattr(self, n) != mirrored.get(n)
            ]
            if clash:
                raise ValueError(f"pass either gateway= or {', '.join(clash)}, not both")
            gateway = self.gateway
            if token and "cf_aig_token" in self.model_fields_set:
                gateway = dataclasses.replace(gateway, token=token)
        elif self.gateway_url:
            extra = {"account_id": self.account_id} if self.account_id else {}
            gateway = Gateway.from_url(self.gateway_url, token=token, **extra)
        else:
            gateway = Gateway.from_env(
                account_id=self.account_id,
                gateway_id=self.gateway_id,
                token=token,
                base_url=self.base_url,
            )
        self._gateway = gateway
        # Mirror the resolved configuration into the plain fields, so that repr, LangChain
        # serialization and `load()` see (and rebuild) the same gateway. The token travels as
        # a LangChain secret (`lc_secrets`), never in clear.
        for name, value in _mirrored_fields(gateway).items():
            if name in ("account_id", "gateway_id") or not self.gateway_url:
                setattr(self, name, value)
        self.cf_aig_token = SecretStr(gateway.token) if gateway.token else None
        return self

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Any:
        """Copies share the gateway, any httpx client you passed, and the pooled core clients
        of their configuration (connection pools and locks cannot be copied)."""
        memo = {} if memo is None else memo
        for name in _SHARED_FIELDS:
            value = getattr(self, name, None)
            if value is not None:
                memo[id(value)] = value
        clone = self.model_copy()
        object.__setattr__(clone, "__dict__", copy.deepcopy(self.__dict__, memo))
        private = dict(self.__pydantic_private__ or {})
        private.update(_clients={})
        object.__setattr__(clone, "__pydantic_private__", private)
        return clone

    # --- the core clients ---------------------------------------------------------------

    @property
    def resolved_gateway(self) -> Gateway:
        """The core :class:`~cf_ai_gateway.Gateway` this component talks to."""
        assert self._gateway is not None
        return self._gateway

    def _provider_key(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None

    def _client_pair(self, surface: Surface) -> ClientPair:
        """The core clients for ``surface``: shared by every component with the same
        configuration, or private when you passed your own httpx client."""
        with _PAIR_LOCK:
            return self._clients.get(surface) or self._new_pair(surface)

    def _new_pair(self, surface: Surface) -> ClientPair:
        config = ClientConfig(
            self.resolved_gateway,
            surface=surface,
            api_key=self._provider_key(),
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=tuple(sorted((self.default_headers or {}).items())),
        )
        if self.http_client is None and self.http_async_client is None:
            pair = shared_clients(config)
        else:
            pair = ClientPair(
                config, http_client=self.http_client, http_async_client=self.http_async_client
            )
        self._clients[surface] = pair
        return pair

    def _get_sync_client(self, surface: Surface = "compat") -> GatewayClient:
        """The core sync client (thread-safe: ``batch`` runs calls in threads)."""
        return self._client_pair(surface).sync()

    def _get_async_client(self, surface: Surface = "compat") -> AsyncGatewayClient:
        """The core async client of the running event loop (pooled connections belong to
        the loop that opened them)."""
        return self._client_pair(surface).async_client()
