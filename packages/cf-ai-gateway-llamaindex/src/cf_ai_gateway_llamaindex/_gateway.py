"""Where the LLM and the embedding send their requests: the gateway, the credentials, the default
gateway options, and the pooled core clients built from them.

Secrets live in fields marked ``exclude=True`` (or private attributes): LlamaIndex puts
``to_dict()`` into callback and instrumentation payloads (``EventPayload.SERIALIZED``,
``model_dict``) on every line before 0.14.23, so an excluded field is the only kind that never
reaches a handler. A ``Gateway`` holds the gateway token, so it is excluded too; the plain
``account_id`` / ``gateway_id`` / ``gateway_url`` fields describe it instead, which is enough
for ``from_dict`` and pickling to rebuild the same object (the token comes from the
environment then).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any

import cf_ai_gateway as cfg
import httpx
from cf_ai_gateway.chat import check_deadline_seconds, check_timeout, looks_like_credential
from llama_index.core.bridge.pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_serializer,
    field_validator,
)

__all__ = ["GatewayFields", "secret_value"]

_LOCK = threading.Lock()


def secret_value(value: SecretStr | str | None) -> str | None:
    """The clear text of a secret field (``None`` stays ``None``)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value


class _ClientPairs(dict[cfg.Surface, cfg.ClientPair]):
    """The client pairs of one object, by surface. Pairs hold locks and connection pools, so a
    pickled or deep-copied object starts with none and builds its own on first use."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_ClientPairs, ())


class GatewayFields(BaseModel):
    """Gateway configuration fields shared by the LLM and the embedding model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    gateway: cfg.Gateway | None = Field(
        default=None,
        exclude=True,
        description="A ready cf_ai_gateway.Gateway (its token stays out of to_dict()).",
    )
    gateway_url: str | None = Field(
        default=None,
        description="A pasted gateway URL of any shape (.../{account}/{gateway}[/compat|...], "
        "a REST API URL, a custom domain, the local emulator).",
    )
    account_id: str | None = Field(
        default=None, description="Cloudflare account id (CF_ACCOUNT_ID when omitted)."
    )
    gateway_id: str | None = Field(
        default=None, description="Gateway id (CF_GATEWAY_ID when omitted)."
    )
    gateway_token: SecretStr | None = Field(
        default=None,
        exclude=True,
        description="Gateway token sent as cf-aig-authorization (CF_AIG_TOKEN when omitted).",
    )
    api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        description="The provider key. None (the default, unless CF_AIG_PROVIDER_API_KEY is "
        "set) sends no provider credential: BYOK / Unified Billing.",
    )
    gateway_options: cfg.GatewayOptions | None = Field(
        default=None,
        description="Default cf_ai_gateway.GatewayOptions of every request (per call options "
        "are merged over them).",
    )
    timeout: float | httpx.Timeout | None = Field(
        default=None,
        description="Seconds each network operation may wait (the core default: 120): "
        "connecting, each write, each read of the answer (between two chunks, not the whole "
        "answer), a free pooled connection; or an httpx.Timeout setting each. Not a bound on "
        "the call: see deadline.",
    )
    deadline: float | None = Field(
        default=None,
        description="Seconds one call may take in total, retries, backoff and a whole stream "
        "included (None, the default: no such bound); past it cf_ai_gateway.GatewayTimeoutError.",
    )
    max_retries: int = Field(
        default=2, ge=0, description="Client-side retries on 408/409/429/5xx and network errors."
    )
    default_headers: dict[str, str] | None = Field(
        default=None, description="Extra request headers (never credentials)."
    )
    http_client: httpx.Client | None = Field(
        default=None, exclude=True, description="Your own httpx.Client (used as is, never closed)."
    )
    async_http_client: httpx.AsyncClient | None = Field(
        default=None, exclude=True, description="Your own httpx.AsyncClient."
    )

    _gateway: cfg.Gateway | None = PrivateAttr(default=None)
    _pairs: _ClientPairs = PrivateAttr(default_factory=_ClientPairs)

    @field_validator("timeout", mode="before")
    @classmethod
    def _check_timeout(cls, value: Any) -> Any:
        return check_timeout(value)

    @field_validator("deadline", mode="before")
    @classmethod
    def _check_deadline(cls, value: Any) -> Any:
        return check_deadline_seconds(value)

    @field_serializer("timeout")
    def _plain_timeout(self, value: float | httpx.Timeout | None) -> Any:
        """An ``httpx.Timeout`` as its ``as_dict()`` (read back by the validator)."""
        return value.as_dict() if isinstance(value, httpx.Timeout) else value

    @field_serializer("gateway_options")
    def _plain_options(self, options: cfg.GatewayOptions | None) -> dict[str, Any] | None:
        """Options as the plain mapping ``GatewayOptions.from_mapping`` reads back.

        LlamaIndex serialises the whole object (``to_dict()``) on every call on lines before
        0.14.23; a ``GatewayOptions`` dumped field by field would make pydantic warn about its
        read-only ``metadata`` mapping each time."""
        if options is None:
            return None
        plain: dict[str, Any] = {}
        for spec in dataclasses.fields(options):
            value = getattr(options, spec.name)
            if value is None:
                continue
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                value = {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
            plain[spec.name] = dict(value) if isinstance(value, Mapping) else value
        return plain

    @staticmethod
    def _coerce_gateway_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
        """Normalise constructor arguments before pydantic sees them, so that bad values raise
        the core's own errors (``InvalidOptionError``, ...) rather than a ``ValidationError``."""
        kwargs = dict(kwargs)
        kwargs["gateway_options"] = cfg.options_from_value(kwargs.get("gateway_options"))
        if kwargs.get("api_key") is None:
            kwargs["api_key"] = cfg.provider_api_key_from_env()
        for name in kwargs.get("default_headers") or {}:
            if looks_like_credential(str(name)):
                raise ValueError(
                    f"default_headers[{name!r}] looks like a credential: pass the gateway token "
                    "as gateway_token= and the provider key as api_key="
                )
        return kwargs

    def _resolve_gateway(self) -> None:
        """Build the core ``Gateway`` (explicit, URL or environment) and describe it in the
        plain fields. Values that merely repeat the gateway's own (as ``to_dict()``, pickling
        and copies pass them back) are accepted next to ``gateway=``."""
        token = secret_value(self.gateway_token)
        if self.gateway is not None:
            described = self._described(self.gateway)
            clash = [
                name
                for name in ("gateway_url", "account_id", "gateway_id")
                if getattr(self, name) is not None and getattr(self, name) != described[name]
            ]
            if clash:
                raise ValueError(f"pass either gateway= or {', '.join(clash)}, not both")
        gateway = cfg.resolve_gateway(
            gateway=self.gateway,
            gateway_url=self.gateway_url,
            account_id=self.account_id,
            gateway_id=self.gateway_id,
            token=token,
        )
        self._gateway = gateway
        for name, value in self._described(gateway).items():
            setattr(self, name, value)

    @staticmethod
    def _described(gateway: cfg.Gateway) -> dict[str, str | None]:
        return {
            "gateway_url": gateway.root_url,
            "account_id": gateway.account_id,
            "gateway_id": gateway.gateway_id,
        }

    @property
    def resolved_gateway(self) -> cfg.Gateway:
        """The core :class:`~cf_ai_gateway.Gateway` requests go to."""
        if self._gateway is None:
            self._resolve_gateway()
        assert self._gateway is not None
        return self._gateway

    def _client_pair(self, surface: cfg.Surface) -> cfg.ClientPair:
        """The core clients for ``surface``: shared by every object with the same settings,
        or private when you passed your own httpx client."""
        with _LOCK:
            pair = self._pairs.get(surface)
            if pair is None:
                config = cfg.ClientConfig(
                    self.resolved_gateway,
                    surface=surface,
                    api_key=secret_value(self.api_key),
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                    default_headers=tuple(sorted((self.default_headers or {}).items())),
                    deadline=self.deadline,
                )
                pair = cfg.clients_for(
                    config,
                    http_client=self.http_client,
                    http_async_client=self.async_http_client,
                )
                self._pairs[surface] = pair
            return pair

    def _sync_client(self, surface: cfg.Surface) -> cfg.GatewayClient:
        return self._client_pair(surface).sync()

    def _async_client(self, surface: cfg.Surface) -> cfg.AsyncGatewayClient:
        """The async client of the running event loop (pooled connections belong to it)."""
        return self._client_pair(surface).async_client()
