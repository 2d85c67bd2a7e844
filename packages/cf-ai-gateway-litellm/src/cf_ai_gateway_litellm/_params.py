"""LiteLLM's per-call parameters, sorted into what goes where: the request body, the gateway
options, server-side fallbacks, credentials routed to their headers, and settings for the
client. No LiteLLM import here.

What LiteLLM hands a custom provider (verified on 1.80 and the latest 1.x): the OpenAI
parameters it deems supported plus every unknown keyword, in ``optional_params``;
``extra_headers`` merged into ``headers``; ``max_retries`` added by the Router and the proxy;
``stream`` / ``stream_options`` for streams; ``user`` dropped (kept on the logging object).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, MutableMapping
from typing import Any

from cf_ai_gateway import GatewayOptions, merge_options, options_from_value
from cf_ai_gateway import wire as _wire
from cf_ai_gateway.chat import looks_like_credential, options_from_headers

__all__ = [
    "FALLBACKS_PARAM",
    "OPTIONS_PARAM",
    "CallParams",
    "CredentialError",
    "read_params",
]

OPTIONS_PARAM = "gateway_options"
"""The per-call keyword for :class:`~cf_ai_gateway.GatewayOptions` (or a dict of its fields)."""
FALLBACKS_PARAM = "fallback_models"
"""The per-call keyword for server-side fallback models (the universal endpoint)."""

_CLIENT_PARAMS = ("stream", "stream_options", "max_retries")
"""Set by LiteLLM or the Router for the client, never sent as body fields (usage is always
requested upstream: LiteLLM decides what the caller sees)."""
_BODY_OWNED = ("model", "messages", "input", "stream")
_PROVIDER_KEY_HEADERS = ("authorization", "x-api-key", "api-key")


class CredentialError(ValueError):
    """A credential arrived where it would be sent in a body or shown; never names the value."""


def _bearer(value: str) -> str:
    value = value.strip()
    return value[7:].strip() if value.lower().startswith("bearer ") else value


@dataclasses.dataclass
class CallParams:
    """One call's parameters, sorted."""

    body: dict[str, Any]
    options: GatewayOptions | None
    fallback_models: tuple[str, ...]
    extra_headers: dict[str, str]
    token: str | None = dataclasses.field(default=None, repr=False)
    """The gateway token from a ``cf-aig-authorization`` header."""
    api_key: str | None = dataclasses.field(default=None, repr=False)
    """The provider key from an ``Authorization`` / ``x-api-key`` / ``api-key`` header."""
    max_retries: int | None = None


def _credential_hint(name: str) -> str:
    return (
        f"{name!r} looks like a credential, and every parameter that is not a known one is "
        "sent in the request body (to the provider, and into the gateway's logs), so it is "
        "refused: pass the provider key as api_key= (or CF_AIG_PROVIDER_API_KEY), the gateway "
        "token to register(token=...) (or CF_AIG_TOKEN, or a cf-aig-authorization header)"
    )


def _split_headers(
    headers: Mapping[str, str] | None,
) -> tuple[GatewayOptions | None, dict[str, str], str | None, str | None]:
    """``cf-aig-*`` option headers into options (validated by the core), credentials into
    the token and the provider key, the rest kept as extra headers."""
    options, rest = options_from_headers(headers)
    token = api_key = None
    extra: dict[str, str] = {}
    for name, value in rest.items():
        lower = str(name).strip().lower()
        if lower == _wire.H_AUTHORIZATION:
            token = _bearer(value) or None
        elif lower in _PROVIDER_KEY_HEADERS:
            api_key = _bearer(value) or None
        elif lower in _wire.SECRET_HEADERS or looks_like_credential(lower):
            raise CredentialError(
                f"header {name!r} looks like a credential that this provider cannot route: "
                "pass the provider key as api_key=, the gateway token as a "
                "cf-aig-authorization header or register(token=...)"
            )
        else:
            extra[name] = value
    return options, extra, token, api_key


def read_params(
    optional_params: MutableMapping[str, Any],
    headers: Mapping[str, str] | None,
    *,
    default_options: GatewayOptions | None,
    default_fallbacks: tuple[str, ...],
    user: str | None = None,
) -> CallParams:
    """Sort one call's parameters. Options layer as defaults (``register()``), then
    ``cf-aig-*`` headers, then the ``gateway_options`` keyword (metadata merged key by key).

    A credential-looking parameter is removed from ``optional_params`` (which LiteLLM logs)
    before :class:`CredentialError` is raised; a body never carries one."""
    refused = [k for k in optional_params if isinstance(k, str) and looks_like_credential(k)]
    for key in refused:
        del optional_params[key]
    if refused:
        raise CredentialError(_credential_hint(refused[0]))
    params = dict(optional_params)
    options_value = params.pop(OPTIONS_PARAM, None)
    fallbacks = params.pop(FALLBACKS_PARAM, None)
    max_retries = params.get("max_retries")
    for key in _CLIENT_PARAMS:
        params.pop(key, None)
    extra_body = params.pop("extra_body", None)
    if extra_body is not None:
        if not isinstance(extra_body, Mapping):
            raise ValueError("extra_body must be a dict of request body fields")
        for key in list(extra_body):
            if isinstance(key, str) and looks_like_credential(key):
                raise CredentialError(_credential_hint(f"extra_body[{key!r}]"))
        owned = [k for k in _BODY_OWNED if k in extra_body]
        if owned:
            raise ValueError(f"extra_body must not set {owned}: the call sets them")
        params.update(extra_body)
    if user is not None and "user" not in params:
        params["user"] = user
    header_options, extra_headers, token, api_key = _split_headers(headers)
    if fallbacks is None:
        fallback_models = default_fallbacks
    elif isinstance(fallbacks, str) or not all(isinstance(m, str) for m in fallbacks):
        raise ValueError("fallback_models must be a list of 'provider/model' strings")
    else:
        fallback_models = tuple(fallbacks)
    options = merge_options(default_options, header_options, options_from_value(options_value))
    return CallParams(
        body=params,
        options=options,
        fallback_models=fallback_models,
        extra_headers=extra_headers,
        token=token,
        api_key=api_key,
        max_retries=max_retries if isinstance(max_retries, int) else None,
    )
