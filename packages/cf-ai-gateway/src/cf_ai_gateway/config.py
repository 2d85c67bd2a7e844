"""``Gateway``: which gateway to talk to, how to authenticate, and its URLs.

>>> gw = Gateway(account_id="acc123", gateway_id="my-gw", token="s3cret")
>>> gw.compat_url()
'https://gateway.ai.cloudflare.com/v1/acc123/my-gw/compat/chat/completions'
>>> gw.provider_url("openai", "v1/chat/completions")   # no doubled /v1
'https://gateway.ai.cloudflare.com/v1/acc123/my-gw/openai/chat/completions'
>>> "s3cret" in repr(gw)
False
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from . import wire
from ._credentials import check_credential
from .options import GatewayOptions
from .providers import DYNAMIC_PREFIX, Provider, get_provider
from .urls import ParsedGatewayURL, display_url, parse_gateway_url

__all__ = [
    "ENV_ACCOUNT_ID",
    "ENV_API_BASE_URL",
    "ENV_BASE_URL",
    "ENV_GATEWAY_ID",
    "ENV_GATEWAY_URL",
    "ENV_PROVIDER_API_KEY",
    "ENV_TOKEN",
    "Gateway",
    "GatewayConfigError",
    "display_url",
    "model_for_base_url",
    "parse_base_url",
    "provider_api_key_from_env",
    "resolve_gateway",
    "token_from_env",
]

ENV_ACCOUNT_ID = ("CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID")
ENV_GATEWAY_ID = ("CF_GATEWAY_ID", "GATEWAY_ID", "CLOUDFLARE_GATEWAY_ID")
ENV_TOKEN = ("CF_AIG_TOKEN", "CF_API_TOKEN", "CLOUDFLARE_API_TOKEN")
ENV_BASE_URL = ("CF_AIG_BASE_URL",)
ENV_API_BASE_URL = ("CF_AIG_API_BASE_URL",)
ENV_GATEWAY_URL = ("CF_AIG_URL",)
ENV_PROVIDER_API_KEY = "CF_AIG_PROVIDER_API_KEY"
"""The only environment variable adapters read for a provider key. ``OPENAI_API_KEY`` and
friends are deliberately ignored: with BYOK / Unified Billing a request must carry no provider
credential at all, and a key silently picked up from the environment would override the
stored one."""

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

_PROVIDER_API_HOSTS = frozenset(
    {
        "api.openai.com",
        "api.anthropic.com",
        "generativelanguage.googleapis.com",
        "api.groq.com",
        "api.mistral.ai",
        "api.cohere.com",
        "api.cohere.ai",
        "api.deepseek.com",
        "api.x.ai",
        "api.cerebras.ai",
        "api.perplexity.ai",
        "openrouter.ai",
        "api.together.xyz",
        "api.fireworks.ai",
    }
)
"""Hosts of the providers' own APIs: a base URL pointing there would bypass the gateway."""
_PROVIDER_API_HOST_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".amazonaws.com",
)


class GatewayConfigError(ValueError):
    """The gateway configuration is missing or malformed; raised before any request."""


def _env(names: tuple[str, ...], environ: Mapping[str, str]) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def token_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The gateway token from ``CF_AIG_TOKEN`` / ``CF_API_TOKEN`` / ``CLOUDFLARE_API_TOKEN``."""
    return _env(ENV_TOKEN, os.environ if environ is None else environ)


def provider_api_key_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The provider key from ``CF_AIG_PROVIDER_API_KEY`` (stripped), or ``None``: then no
    provider credential is sent and the gateway's BYOK key or Unified Billing applies."""
    env = os.environ if environ is None else environ
    return _env((ENV_PROVIDER_API_KEY,), env)


def _clean_base(url: str, name: str) -> str:
    if not isinstance(url, str):
        raise GatewayConfigError(f"{name} must be a URL string, not {type(url).__name__}")
    shown = display_url(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as exc:
        raise GatewayConfigError(f"{name}={shown!r} is not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GatewayConfigError(f"{name}={shown!r} must be an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise GatewayConfigError(f"{name}={shown!r} must not carry a query string or fragment")
    if not url.isascii() or any(c.isspace() or ord(c) < 0x20 for c in url):
        raise GatewayConfigError(
            f"{name}={shown!r} must be ASCII without spaces (percent-encode other characters)"
        )
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise GatewayConfigError(f"{name}={shown!r} is not a valid URL ({exc})") from exc
    return url.rstrip("/")


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


@dataclass(frozen=True, repr=False)  # its own __repr__ (repr=False: not generated)
class Gateway:
    """Immutable gateway configuration. The token never appears in ``repr`` or ``str``.

    - ``base_url``: gateway host with version, ``{base}/{account_id}/{gateway_id}/...``; with
      ``custom_domain=True`` it is the gateway root itself (the host names the gateway).
    - ``api_base_url``: Cloudflare's REST API, for ``surface="rest"`` and the logs API.
    - ``options``: default :class:`GatewayOptions` applied to every request.
    """

    account_id: str | None = None
    gateway_id: str | None = None
    token: str | None = field(default=None, repr=False)
    base_url: str = wire.DEFAULT_BASE_URL
    api_base_url: str = wire.DEFAULT_API_BASE_URL
    custom_domain: bool = False
    options: GatewayOptions = field(default_factory=GatewayOptions)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", _clean_base(self.base_url, "base_url"))
        object.__setattr__(self, "api_base_url", _clean_base(self.api_base_url, "api_base_url"))
        if self.account_id is not None and not _ID_RE.match(self.account_id):
            raise GatewayConfigError(
                f"account_id={self.account_id!r} is invalid: letters, digits, '-' and '_' only"
            )
        if self.gateway_id is not None and (
            not _ID_RE.match(self.gateway_id) or len(self.gateway_id) > wire.GATEWAY_ID_MAX_LEN
        ):
            raise GatewayConfigError(
                f"gateway_id={self.gateway_id!r} is invalid: 1-{wire.GATEWAY_ID_MAX_LEN} "
                "letters, digits, '-' and '_'"
            )
        if self.token is not None:
            try:
                check_credential(self.token, "token")
            except ValueError as exc:
                raise GatewayConfigError(
                    f"{exc} (a token must be a non-empty single-line ASCII string)"
                ) from exc  # check_credential's message never holds the token
        if not isinstance(self.options, GatewayOptions):
            raise GatewayConfigError(
                f"options must be GatewayOptions, not {type(self.options).__name__}"
            )
        if (
            not self.custom_domain
            and urlsplit(self.base_url).hostname == wire.GATEWAY_HOST
            and not urlsplit(self.base_url).path.endswith("/v1")
        ):
            raise GatewayConfigError(
                f"base_url={display_url(self.base_url)!r} must be {wire.DEFAULT_BASE_URL!r} (the "
                "gateway "
                "host plus /v1); use Gateway.from_url() for a full gateway URL"
            )

    def __repr__(self) -> str:
        token = "'***'" if self.token else "None"
        return (
            f"Gateway(account_id={self.account_id!r}, gateway_id={self.gateway_id!r}, "
            f"token={token}, base_url={display_url(self.base_url)!r}, "
            f"custom_domain={self.custom_domain!r})"
        )

    def url_secrets(self) -> tuple[str, ...]:
        """The password in the base URLs' user info (``https://user:pass@host``), which httpx
        sends as basic auth: redacted from every text, like the token. (Not the user name: a
        common word such as ``user`` would be masked in every message.)"""
        found: list[str] = []
        for url in (self.base_url, self.api_base_url):
            password = urlsplit(url).password
            if password:
                found += [password, unquote(password)]
        return tuple(dict.fromkeys(found))

    __str__ = __repr__

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Gateway:
        """Read the configuration from the environment; keyword arguments override it.

        Looks at ``CF_ACCOUNT_ID``/``CLOUDFLARE_ACCOUNT_ID``, ``CF_GATEWAY_ID``/``GATEWAY_ID``/
        ``CLOUDFLARE_GATEWAY_ID``, ``CF_AIG_TOKEN``/``CF_API_TOKEN``/``CLOUDFLARE_API_TOKEN``,
        and optionally ``CF_AIG_URL`` (a full gateway URL), ``CF_AIG_BASE_URL``,
        ``CF_AIG_API_BASE_URL``.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        url = _env(ENV_GATEWAY_URL, env)
        if url:
            parsed = cls.from_url(url)
            values.update(
                account_id=parsed.account_id,
                gateway_id=parsed.gateway_id,
                base_url=parsed.base_url,
                api_base_url=parsed.api_base_url,
                custom_domain=parsed.custom_domain,
            )
        for key, names in (
            ("account_id", ENV_ACCOUNT_ID),
            ("gateway_id", ENV_GATEWAY_ID),
            ("token", ENV_TOKEN),
            ("base_url", ENV_BASE_URL),
            ("api_base_url", ENV_API_BASE_URL),
        ):
            value = _env(names, env)
            if value is not None:
                values[key] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not values.get("custom_domain"):
            missing = [
                names
                for key, names in (("account_id", ENV_ACCOUNT_ID), ("gateway_id", ENV_GATEWAY_ID))
                if not values.get(key)
            ]
            if missing:
                looked = "; ".join(" or ".join(n) for n in missing)
                raise GatewayConfigError(
                    f"gateway configuration is incomplete: set {looked} (or {ENV_GATEWAY_URL[0]} "
                    "to a full gateway URL), or pass the values as arguments"
                )
        return cls(**values)

    @classmethod
    def from_url(cls, url: str, *, token: str | None = None, **kwargs: Any) -> Gateway:
        """Build a ``Gateway`` from any gateway URL shape a user may paste (see ``urls``)."""
        try:
            parsed = parse_gateway_url(url)
        except ValueError as exc:
            raise GatewayConfigError(str(exc)) from exc
        values: dict[str, Any] = {
            "account_id": parsed.account_id,
            "gateway_id": parsed.gateway_id,
            "custom_domain": parsed.custom_domain,
            "token": token,
        }
        if parsed.base_url is not None:
            values["base_url"] = parsed.base_url
        if parsed.api_base_url is not None:
            values["api_base_url"] = parsed.api_base_url
            if urlsplit(parsed.api_base_url).hostname != wire.API_HOST:
                # A local REST host (the emulator) serves the gateway surfaces too.
                origin = parsed.api_base_url.rsplit("/client/v4", 1)[0]
                values["base_url"] = origin + "/v1"
        elif (
            not parsed.custom_domain
            and parsed.base_url is not None
            and urlsplit(parsed.base_url).hostname != wire.GATEWAY_HOST
        ):
            # A gateway-shaped URL on another host (the local emulator, a test proxy) serves
            # the REST API on the same origin; Cloudflare's own hosts keep their defaults.
            origin = parsed.base_url[: len(parsed.base_url) - len(urlsplit(parsed.base_url).path)]
            values["api_base_url"] = origin + "/client/v4"
        values.update(kwargs)
        return cls(**values)

    @classmethod
    def from_base_url(
        cls,
        url: str,
        *,
        token: str | None = None,
        account_id: str | None = None,
        gateway_id: str | None = None,
        param: str = "base_url",
    ) -> Gateway:
        """Build a ``Gateway`` from the base URL a user pasted into an OpenAI-style client
        (``ChatOpenAI(base_url=...)``, ``OpenAILike(api_base=...)``, LiteLLM's ``api_base``).

        The URL is parsed, never glued to anything: every shape :meth:`from_url` reads is
        accepted (``.../v1/{account}/{gateway}[/compat|/{provider}[/v1]]``, the REST API
        ``.../client/v4/accounts/{account}/ai/v1``), and a custom domain when its path names
        a gateway surface (``https://ai.example.com/openai``). ``account_id`` / ``gateway_id``
        fill what the URL does not name (a REST URL names no gateway); naming a different one
        than the URL is an error. ``param`` is the name the caller's users know the value by,
        used in error messages.

        Refused with :class:`GatewayConfigError` (naming ``param`` and ``gateway_url=``): a
        provider's own API (``https://api.openai.com/v1``: requests would bypass the gateway),
        the gateway host without account and gateway ids, any other URL that names no gateway
        surface, and URLs carrying credentials or a query string (never echoed).

        >>> Gateway.from_base_url("https://gateway.ai.cloudflare.com/v1/acc/gw/openai").gateway_id
        'gw'
        >>> try:
        ...     Gateway.from_base_url("https://api.openai.com/v1")
        ... except GatewayConfigError as exc:
        ...     print("gateway_url=" in str(exc))
        True
        """
        parsed = parse_base_url(url, param)
        values: dict[str, Any] = {}
        for name, given in (("account_id", account_id), ("gateway_id", gateway_id)):
            found = getattr(parsed, name)
            if given is not None and found is not None and given != found:
                raise GatewayConfigError(
                    f"{param} names {name}={found!r} but {name}={given!r} was also given; "
                    "pass one of them"
                )
            if found is None and given is not None:
                values[name] = given
        return cls.from_url(url.strip(), token=token, **values)

    def with_options(self, options: GatewayOptions) -> Gateway:
        """A copy whose default options are these ``options`` merged over the current ones."""
        return replace(self, options=self.options.merge(options))

    # --- URLs -----------------------------------------------------------------------------

    def _require(self, *names: str) -> None:
        missing = [n for n in names if not getattr(self, n)]
        if missing:
            raise GatewayConfigError(
                f"{' and '.join(missing)} must be set to build this URL (Gateway.from_env() "
                f"reads {', '.join(ENV_ACCOUNT_ID + ENV_GATEWAY_ID)})"
            )

    @property
    def root_url(self) -> str:
        """The gateway root: ``{base}/{account}/{gateway}``, or the custom domain root."""
        if self.custom_domain:
            return self.base_url
        self._require("account_id", "gateway_id")
        return f"{self.base_url}/{self.account_id}/{self.gateway_id}"

    def universal_url(self) -> str:
        """The universal (server-side fallback) endpoint: the gateway root itself."""
        return self.root_url

    def compat_url(self, endpoint: str = "chat/completions") -> str:
        """The unified OpenAI-compatible endpoint, ``{root}/compat/{endpoint}``."""
        endpoint = endpoint.strip("/")
        if endpoint.startswith("v1/"):
            endpoint = endpoint[3:]
        return _join(self.root_url, "compat", endpoint)

    def provider_url(self, provider: str | Provider, path: str = "") -> str:
        """A provider-native URL, ``{root}/{segment}/{path}``.

        ``provider`` may be the path segment, the unified prefix or an alias. A leading
        ``v1/`` in ``path`` is dropped for providers whose gateway paths carry no version
        (OpenAI, Groq, ...), so ``/v1`` is never doubled.
        """
        p = get_provider(provider)
        path = path.strip("/")
        if not p.version_in_path and (path == "v1" or path.startswith("v1/")):
            path = path[3:]
        return _join(self.root_url, p.slug, path)

    def rest_url(self, endpoint: str = "chat/completions") -> str:
        """Cloudflare's REST API: ``{api}/accounts/{account}/ai/v1/{endpoint}`` (``run/...``
        endpoints live at ``ai/run``)."""
        self._require("account_id")
        endpoint = endpoint.strip("/")
        if endpoint.startswith("v1/"):
            endpoint = endpoint[3:]
        if endpoint == "run" or endpoint.startswith("run/"):
            return _join(self.api_base_url, "accounts", str(self.account_id), "ai", endpoint)
        return _join(self.api_base_url, "accounts", str(self.account_id), "ai", "v1", endpoint)

    def management_url(self, path: str = "") -> str:
        """The AI Gateway management API: ``{api}/accounts/{account}/ai-gateway/{path}``."""
        self._require("account_id")
        return _join(self.api_base_url, "accounts", str(self.account_id), "ai-gateway", path)

    def logs_url(self, log_id: str | None = None) -> str:
        """This gateway's logs in the management API (one log when ``log_id`` is given)."""
        self._require("account_id", "gateway_id")
        path = f"gateways/{self.gateway_id}/logs"
        return self.management_url(f"{path}/{log_id}" if log_id else path)


def _use_gateway_url_instead(param: str, url: str, why: str) -> GatewayConfigError:
    return GatewayConfigError(
        f"{param}={display_url(url)!r} {why}. Pass your gateway instead: gateway_url="
        f"'{wire.DEFAULT_BASE_URL}/{{account_id}}/{{gateway_id}}' (or account_id= and "
        "gateway_id=)"
    )


def parse_base_url(url: str, param: str = "base_url") -> ParsedGatewayURL:
    """:func:`~cf_ai_gateway.parse_gateway_url` for a base URL pasted into an OpenAI-style
    client, with the refusals of :meth:`Gateway.from_base_url` (a provider's own API, no
    gateway named, no gateway surface, credentials or a query string in the URL), each a
    :class:`GatewayConfigError` naming ``param`` and ``gateway_url=``. ``surface`` and
    ``provider`` of the result say which path the URL pointed at.

    >>> parse_base_url("https://gateway.ai.cloudflare.com/v1/acc/gw/openai/v1").provider
    'openai'
    """
    if not isinstance(url, str) or not url.strip():
        raise GatewayConfigError(f"{param} must be a non-empty gateway URL")
    parts = urlsplit(url.strip())
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        # never echoed: user info and query strings are where credentials hide
        raise GatewayConfigError(
            f"{param} must not carry credentials, a query string or a fragment; pass the "
            "gateway token as a token and the provider key as an API key instead"
        )
    host = (parts.hostname or "").lower()
    if host in _PROVIDER_API_HOSTS or host.endswith(_PROVIDER_API_HOST_SUFFIXES):
        raise _use_gateway_url_instead(
            param,
            url,
            f"is the provider's own API ({host}), not a Cloudflare AI Gateway URL: requests "
            "would bypass the gateway",
        )
    try:
        parsed = parse_gateway_url(url)
    except ValueError as exc:
        raise _use_gateway_url_instead(
            param, url, "does not name a gateway (the account and gateway ids are missing)"
        ) from exc
    if parsed.custom_domain and parsed.surface not in ("compat", "provider"):
        raise _use_gateway_url_instead(
            param,
            url,
            "names no gateway surface (no /{account_id}/{gateway_id}, no /compat or "
            "/{provider} path), so it is not a gateway URL; a custom domain of your gateway "
            "is accepted as gateway_url=",
        )
    return parsed


def model_for_base_url(model: str, base_url: str) -> str:
    """The model name to use with a pasted ``base_url``.

    A URL that names a provider (``.../{gateway}/openai``) means model names are that
    provider's own names, as they were for the OpenAI client it was pasted from, so they get
    the provider prefix: ``"gpt-4o-mini"`` becomes ``"openai/gpt-4o-mini"``, and on
    ``.../openrouter`` ``"openai/gpt-4o"`` becomes ``"openrouter/openai/gpt-4o"``. A name that
    already starts with that provider, a dynamic route (``"dynamic/..."``), or a URL that names
    no provider (``/compat``, the gateway root, the REST API) leave the name unchanged.

    >>> model_for_base_url("gpt-4o-mini", "https://gateway.ai.cloudflare.com/v1/acc/gw/openai")
    'openai/gpt-4o-mini'
    >>> model_for_base_url("openai/gpt-4o", "https://gateway.ai.cloudflare.com/v1/acc/gw/compat")
    'openai/gpt-4o'
    """
    parsed = parse_base_url(base_url)
    if parsed.surface != "provider" or parsed.provider is None:
        return model
    provider = get_provider(parsed.provider)
    names = {provider.slug, provider.unified_prefix, *provider.aliases} - {None}
    head = model.split("/", 1)[0].lower()
    if head in names or head == DYNAMIC_PREFIX:
        return model
    return f"{provider.unified_prefix or provider.slug}/{model}"


def resolve_gateway(
    *,
    gateway: Gateway | None = None,
    gateway_url: str | None = None,
    base_url: str | None = None,
    account_id: str | None = None,
    gateway_id: str | None = None,
    token: str | None = None,
    base_url_param: str = "base_url",
) -> Gateway:
    """The gateway an adapter talks to, from whichever way its user handed one over.

    In order: a ready ``gateway`` (``token``, when given, replaces its token); a pasted
    ``gateway_url`` (:meth:`Gateway.from_url`); an OpenAI-style ``base_url``
    (:meth:`Gateway.from_base_url`, named ``base_url_param`` in errors: ``api_base`` for
    LiteLLM and LlamaIndex users); else the environment (:meth:`Gateway.from_env`).
    ``account_id`` / ``gateway_id`` fill or override what the URL or environment gives; the
    token comes from the environment (:func:`token_from_env`) when not given. Passing both a
    ``gateway_url`` and a ``base_url`` is an error.

    >>> resolve_gateway(gateway_url="https://gateway.ai.cloudflare.com/v1/acc/gw/compat",
    ...                 token="t").gateway_id
    'gw'
    """
    if gateway is not None:
        return replace(gateway, token=token) if token else gateway
    if gateway_url and base_url:
        raise GatewayConfigError(
            f"pass either gateway_url= or {base_url_param}=, not both (they name the gateway twice)"
        )
    token = token or token_from_env()
    if gateway_url:
        extra = {"account_id": account_id} if account_id else {}
        return Gateway.from_url(gateway_url, token=token, **extra)
    if base_url:
        return Gateway.from_base_url(
            base_url,
            token=token,
            account_id=account_id,
            gateway_id=gateway_id,
            param=base_url_param,
        )
    return Gateway.from_env(account_id=account_id, gateway_id=gateway_id, token=token)
