"""Gateway settings shared by the chat model and the embeddings: which gateway, which
credentials, which default options, and the core clients built from them.

All URL, header, option and error logic lives in the ``cf_ai_gateway`` core; this module only
maps LangChain-style constructor arguments (ours and ``ChatOpenAI``'s spellings) onto a core
:class:`~cf_ai_gateway.Gateway` and builds (once, lazily) the core's sync and async clients.

Credentials only ever live in ``SecretStr`` fields: a keyword, a ``model_kwargs`` / ``extra_body``
key or a ``default_headers`` name that looks like a credential is refused at construction, with
an error that names the parameter to use and never the value (validation errors hide their
input).
"""

from __future__ import annotations

import contextlib
import copy
import threading
from typing import Any

import httpx
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
    clients_for,
    model_for_base_url,
    options_from_value,
    parse_base_url,
    resolve_gateway,
)
from cf_ai_gateway import wire as _wire
from cf_ai_gateway.chat import check_deadline_seconds, check_timeout, looks_like_credential
from langchain_core.utils import secret_from_env
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

__all__ = [
    "GatewaySettings",
    "Surface",
    "accepted_names",
    "check_body_keys",
    "credential_hint",
]

_GATEWAY_CREDENTIAL = ("cf", "aig", "gateway", "cloudflare")


def credential_hint(name: str) -> str:
    """Where a credential that arrived as ``name`` belongs (never mentions its value)."""
    lower = name.lower()
    if any(part in lower for part in _GATEWAY_CREDENTIAL) or lower == _wire.H_AUTHORIZATION:
        return (
            "pass the gateway token as cf_aig_token= (also gateway_token=, or CF_AIG_TOKEN); "
            "the provider key goes in api_key="
        )
    return (
        "pass the provider key as api_key= (also openai_api_key=, or CF_AIG_PROVIDER_API_KEY), "
        "or leave it out for BYOK / Unified Billing; the gateway token goes in cf_aig_token="
    )


def check_body_keys(where: str, body: Any) -> None:
    """Refuse a top-level key of ``body`` (``model_kwargs``, ``extra_body``) that looks like a
    credential: everything in a body is sent to the provider and stored in the gateway's
    logs."""
    if not isinstance(body, dict):
        return
    for key in body:
        if isinstance(key, str) and looks_like_credential(key):
            raise ValueError(
                f"{where} key {key!r} looks like a credential; a body is sent to the "
                f"provider and stored in the gateway's logs, so it is refused: "
                f"{credential_hint(key)}"
            )


def accepted_names(model: type[BaseModel]) -> dict[str, str]:
    """Every keyword ``model`` accepts (field names, aliases, alias choices) -> field name."""
    names: dict[str, str] = {}
    for name, info in model.model_fields.items():
        names[name] = name
        if info.alias:
            names[info.alias] = name
        choices = info.validation_alias
        if isinstance(choices, AliasChoices):
            for choice in choices.choices:
                if isinstance(choice, str):
                    names[choice] = name
        elif isinstance(choices, str):
            names[choices] = name
    return names


def _mirrored_fields(gateway: Gateway) -> dict[str, Any]:
    """The plain fields that describe ``gateway`` (mirrored into the model after resolving,
    so that repr and a rebuild from field values (``configurable_fields``) see the same
    gateway)."""
    fields: dict[str, Any] = {"account_id": gateway.account_id, "gateway_id": gateway.gateway_id}
    if gateway.custom_domain or gateway.base_url != _wire.DEFAULT_BASE_URL:
        # a REST-only gateway (no gateway id) has no root to mirror
        with contextlib.suppress(ValueError):
            fields["gateway_url"] = gateway.root_url
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
    base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("base_url", "openai_api_base")
    )
    """The gateway URL you would pass to ``ChatOpenAI(base_url=...)`` (also accepted as
    ``openai_api_base=``): ``.../v1/{account}/{gateway}/openai``, ``.../compat``, the gateway
    root or the REST API. It is parsed by the core, never glued to anything. When it names a
    provider (``.../openai``), model names are that provider's names (``"gpt-4o-mini"`` means
    ``"openai/gpt-4o-mini"``) and the chat model uses that provider path unless you set
    ``surface``. A URL that is not a gateway (``https://api.openai.com/v1``) is refused.
    ``OPENAI_API_BASE`` / ``OPENAI_BASE_URL`` are never read."""
    gateway_url: str | None = None
    """A pasted gateway URL of any shape (``.../{account}/{gateway}[/compat|/openai/v1...]``,
    a REST API URL, a custom domain root); account and gateway ids are read from it, the rest
    of the path is ignored."""
    gateway: Gateway | None = Field(default=None, exclude=True)
    """A ready :class:`cf_ai_gateway.Gateway`; overrides the fields above."""
    api_key: SecretStr | None = Field(
        default_factory=secret_from_env(ENV_PROVIDER_API_KEY, default=None),
        validation_alias=AliasChoices("api_key", "openai_api_key"),
    )
    """The provider key (also accepted as ``openai_api_key=``), sent only in the provider's
    credential header. ``None`` (the default) sends no provider credential at all, so the
    gateway's BYOK key or Unified Billing applies. Read from ``CF_AIG_PROVIDER_API_KEY`` only:
    ``OPENAI_API_KEY`` is never read."""
    gateway_options: GatewayOptions | None = None
    """Default :class:`cf_ai_gateway.GatewayOptions` for every request (per call options are
    merged over them)."""
    timeout: float | httpx.Timeout | None = Field(default=None, alias="request_timeout")
    """Seconds each network operation may wait (default 120): connecting, each write, each read
    of the answer (between two chunks: not the whole answer), a free pooled connection; or an
    ``httpx.Timeout`` setting each, as ``ChatOpenAI`` takes it. It does not bound a call: a
    server sending a byte now and then can hold one as long as it likes. Use ``deadline`` for
    that."""
    deadline: float | None = None
    """Seconds one call may take in total, every retry and backoff included, and for a stream
    until its last chunk (``None``, the default: no such bound). Past it the call raises
    ``cf_ai_gateway.GatewayTimeoutError`` (also LangChain's ``ModelTimeoutError``)."""
    max_retries: int = Field(default=2, ge=0)
    """Client-side retries (the core ``RetryPolicy``) on 408/409/429/5xx and network errors."""
    default_headers: dict[str, str] | None = None
    """Extra request headers. Credential headers (``authorization``, ``cf-aig-authorization``,
    ``x-api-key``, ...) are refused: they would show in ``repr`` and traces; use ``api_key`` /
    ``cf_aig_token``."""
    http_client: Any = Field(default=None, exclude=True)
    """Your own ``httpx.Client`` (tests pass one with an ``httpx.MockTransport``)."""
    http_async_client: Any = Field(default=None, exclude=True)
    """Your own ``httpx.AsyncClient``."""

    model_config = ConfigDict(
        populate_by_name=True,
        arbitrary_types_allowed=True,
        # a validation error must never echo the arguments: they hold the keys
        hide_input_in_errors=True,
    )

    _gateway: Gateway | None = PrivateAttr(default=None)
    _clients: dict[Surface, ClientPair] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _check_arguments(cls, values: Any) -> Any:
        """Refuse credentials where they would leak, one spelling per parameter, typed
        options, and model names qualified by a pasted ``base_url``."""
        if not isinstance(values, dict):
            return values
        names = accepted_names(cls)
        given: dict[str, str] = {}
        for key in values:
            field = names.get(key)
            if field is None:
                if isinstance(key, str) and looks_like_credential(key):
                    raise ValueError(
                        f"{key!r} looks like a credential but is not a parameter of "
                        f"{cls.__name__}: {credential_hint(key)}"
                    )
                continue
            if field in given:
                raise ValueError(f"pass {given[field]}= or {key}=, not both")
            given[field] = key
        check_body_keys("model_kwargs", values.get("model_kwargs"))
        headers = values.get("default_headers")
        if isinstance(headers, dict):
            for name in headers:
                lower = str(name).lower()
                if lower in _wire.SECRET_HEADERS or looks_like_credential(lower):
                    raise ValueError(
                        f"default_headers must not carry the credential header {name!r} (it "
                        f"would show in repr and traces): {credential_hint(lower)}"
                    )
        values = dict(values)
        if values.get("gateway_options") is not None:
            values["gateway_options"] = options_from_value(values["gateway_options"])
        url_key = given.get("base_url")
        model_key = given.get("model")
        if url_key and values[url_key] and model_key and isinstance(values[model_key], str):
            parse_base_url(values[url_key], url_key)  # refusals name the spelling used
            values[model_key] = model_for_base_url(values[model_key], values[url_key])
        return values

    @field_validator("timeout", mode="before")
    @classmethod
    def _check_timeout(cls, value: Any) -> Any:
        return check_timeout(value)

    @field_validator("deadline", mode="before")
    @classmethod
    def _check_deadline(cls, value: Any) -> Any:
        return check_deadline_seconds(value)

    @field_serializer("timeout")
    def _dump_timeout(self, value: float | httpx.Timeout | None) -> Any:
        return value.as_dict() if isinstance(value, httpx.Timeout) else value

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
        # a token read from the environment does not replace the one of a gateway= you built
        keep_token = self.gateway is not None and "cf_aig_token" not in self.model_fields_set
        gateway = resolve_gateway(
            gateway=self.gateway,
            gateway_url=self.gateway_url,
            base_url=self.base_url,
            account_id=self.account_id,
            gateway_id=self.gateway_id,
            token=None if keep_token else token,
        )
        self._gateway = gateway
        # Mirror the resolved configuration into the plain fields, so that repr, LangChain
        # serialization and `load()` see (and rebuild) the same gateway. The token travels as
        # a LangChain secret (`lc_secrets`), never in clear.
        for name, value in _mirrored_fields(gateway).items():
            if name in ("account_id", "gateway_id") or not (self.gateway_url or self.base_url):
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
            deadline=self.deadline,
        )
        pair = clients_for(
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
