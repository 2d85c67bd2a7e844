"""Building requests, shared by the sync and async clients (no I/O): a call's body, options and
credentials become a :class:`PreparedRequest` (method, URL, headers, JSON, the secrets to redact
from anything shown later). Reading responses is ``_responses``; the retry loop ``_retry_flow``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import wire
from ._credentials import check_credential, check_headers, secret_values
from ._version import __version__
from .config import Gateway, GatewayConfigError, display_url
from .errors import ErrorContext, ErrorSource
from .options import GatewayOptions
from .providers import auth_headers, check_chat_model, get_provider, split_model
from .wire import SURFACES, Surface

if TYPE_CHECKING:
    from .universal import UniversalStep

USER_AGENT = f"cf-ai-gateway-python/{__version__}"


@dataclass(frozen=True)
class PreparedRequest:
    method: str
    url: str
    headers: dict[str, str]
    json: Any
    secrets: tuple[str, ...]
    source: ErrorSource = "gateway"
    """Which API the request goes to; its errors are mapped accordingly."""
    context: ErrorContext = field(default_factory=ErrorContext)
    """What the request carries (surface, ids, gateway token, provider key), for its errors."""

    def describe(self) -> str:
        """Method and URL for logs: no headers, and no user info even if the URL had one."""
        return f"{self.method} {display_url(self.url)}"


def _check_surface(surface: str) -> Surface:
    if surface not in SURFACES:
        raise ValueError(f"surface={surface!r} must be one of {', '.join(SURFACES)}")
    return surface


def _check_body(body: object, kind: str) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise TypeError(f"{kind} body must be a mapping, not {type(body).__name__}")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ValueError(f"{kind} body needs a non-empty string 'model', got {model!r}")
    return dict(body)


class RequestBuilder:
    """Turns a client's calls into ``PreparedRequest`` objects: URL per surface, gateway and
    provider headers, validated bodies. It holds the client's configuration (gateway, surface,
    provider key, default headers) and does nothing else: reading responses needs none of that
    state and lives in ``_responses``."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        surface: Surface,
        api_key: str | None,
        default_headers: Mapping[str, str] | None,
        secret_headers: Sequence[str] = (),
    ) -> None:
        self.gateway = gateway
        self.surface = _check_surface(surface)
        if isinstance(secret_headers, str):
            secret_headers = (secret_headers,)
        self.secret_headers = tuple(str(name).lower() for name in secret_headers)
        """Names of extra headers whose values are credentials (besides ``wire.SECRET_HEADERS``
        and names that look like one): redacted wherever the core renders text."""
        if api_key is not None:
            if not isinstance(api_key, str) or not api_key.strip():
                raise ValueError(
                    "api_key must be a non-empty string, or None for BYOK/Unified Billing"
                )
            check_credential(api_key, "api_key")
        self.api_key = api_key
        self.default_headers = check_headers(
            default_headers, "default_headers", self.secret_headers
        )
        for name in self.default_headers:
            if name.lower() in wire.SECRET_HEADERS:
                raise ValueError(
                    f"default_headers must not carry the credential header {name!r}; pass "
                    "token= on the Gateway or api_key= on the client"
                )
        # What every request of this builder shares, worked out once (the gateway and its
        # options are frozen, the key and default headers were checked above): the secrets
        # of a request without its own key or headers, the headers of one without its own
        # options, and (on first use, so a gateway missing an id still fails per call) the
        # URLs and error contexts.
        self._fixed_secrets = [
            *self.gateway.url_secrets(),
            *secret_values(self.default_headers, self.secret_headers),
        ]
        self._base_secrets = self._collect_secrets(None)
        self._base_headers = self._render_headers(self.gateway.options)
        self._compat_chat_url: str | None = None
        self._contexts: dict[tuple[str, str | None, bool | None], ErrorContext] = {}

    # --- shared header logic ----------------------------------------------------------------

    def _secrets(self, api_key: str | None, *headers: Mapping[str, str] | None) -> tuple[str, ...]:
        """Every credential this request carries, by value: the gateway token, provider keys,
        the values of credential headers (default, extra, universal step headers) and a
        password in the gateway URL."""
        if api_key is None and not any(headers):
            return self._base_secrets
        return self._collect_secrets(api_key, *headers)

    def _collect_secrets(
        self, api_key: str | None, *headers: Mapping[str, str] | None
    ) -> tuple[str, ...]:
        found = [self.gateway.token, self.api_key, api_key, *self._fixed_secrets]
        for more in headers:
            found += secret_values(more, self.secret_headers)
        return tuple(dict.fromkeys(s for s in found if s))

    def _extra(self, extra_headers: Mapping[str, str] | None) -> dict[str, str]:
        return check_headers(extra_headers, "extra_headers", self.secret_headers)

    def _render_headers(self, options: GatewayOptions) -> dict[str, str]:
        headers = {"user-agent": USER_AGENT, **self.default_headers}
        headers.update(options.to_headers())
        if self.gateway.token:
            headers[wire.H_AUTHORIZATION] = f"Bearer {self.gateway.token}"
        return headers

    def _gateway_headers(self, options: GatewayOptions | None) -> dict[str, str]:
        merged = self.gateway.options.merge(options)
        if merged is self.gateway.options:
            return dict(self._base_headers)  # the caller adds to its copy
        return self._render_headers(merged)

    def _key(self, api_key: str | None) -> str | None:
        if api_key is not None:
            return check_credential(api_key, "api_key")
        return self.api_key

    def _context(
        self,
        surface: str,
        options: GatewayOptions | None,
        *,
        provider: str | None = None,
        caller_key: bool | None = None,
        steps: tuple[tuple[str, bool], ...] = (),
    ) -> ErrorContext:
        merged = self.gateway.options.merge(options)
        shared = merged is self.gateway.options and not steps
        key = (surface, provider, caller_key)
        if shared and key in self._contexts:
            return self._contexts[key]  # frozen: one per surface, provider and key use
        context = ErrorContext(
            surface=surface,
            account_id=self.gateway.account_id,
            gateway_id=self.gateway.gateway_id,
            gateway_auth_sent=bool(self.gateway.token),
            provider=provider,
            caller_key=caller_key,
            byok_alias=merged.byok_alias,
            steps=steps,
        )
        if shared:
            self._contexts[key] = context
        return context

    # --- requests ---------------------------------------------------------------------------

    def chat(
        self,
        body: Mapping[str, Any],
        *,
        options: GatewayOptions | None,
        surface: Surface | None,
        api_key: str | None,
        stream: bool,
        extra_headers: Mapping[str, str] | None,
    ) -> PreparedRequest:
        payload = _check_body(body, "chat completions")
        messages = payload.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ValueError("chat completions body needs a non-empty list 'messages'")
        if stream:
            payload["stream"] = True
        elif payload.get("stream"):
            raise ValueError("body has stream=true: use stream_chat_completions() instead")
        chosen = _check_surface(surface or self.surface)
        key = self._key(api_key)
        extra = self._extra(extra_headers)
        headers = self._gateway_headers(options)
        provider = check_chat_model(payload["model"], chosen)
        if chosen == "compat":
            url = self._compat_chat_url or self.gateway.compat_url("chat/completions")
            self._compat_chat_url = url
            if key is not None:
                headers["authorization"] = f"Bearer {key}"
        elif chosen == "rest":
            url = self._rest_headers(headers, key, "chat/completions")
        else:
            # check_chat_model guarantees both for the provider surface
            assert provider is not None
            assert provider.chat_path is not None
            payload["model"] = split_model(payload["model"])[1]
            url = self.gateway.provider_url(provider, provider.chat_path)
            headers.update(auth_headers(provider, key))
        headers.update(extra)
        context = self._context(
            chosen,
            options,
            provider=provider.slug if provider is not None else None,
            caller_key=key is not None or _carries_credential(extra),
        )
        return PreparedRequest(
            "POST", url, headers, payload, self._secrets(api_key, extra), context=context
        )

    def _rest_headers(self, headers: dict[str, str], key: str | None, endpoint: str) -> str:
        if key is not None:
            raise GatewayConfigError(
                "the REST surface supports Unified Billing and BYOK only: do not set api_key "
                "(use surface='compat' or 'provider' to send your own provider key)"
            )
        if not self.gateway.token:
            raise GatewayConfigError(
                "the REST surface needs a Cloudflare API token (Gateway(token=...) or CF_AIG_TOKEN)"
            )
        headers.pop(wire.H_AUTHORIZATION, None)
        headers["authorization"] = f"Bearer {self.gateway.token}"
        if self.gateway.gateway_id:
            headers[wire.H_GATEWAY_ID] = self.gateway.gateway_id
        return self.gateway.rest_url(endpoint)

    def embeddings(
        self,
        body: Mapping[str, Any],
        *,
        options: GatewayOptions | None,
        api_key: str | None,
        extra_headers: Mapping[str, str] | None,
    ) -> PreparedRequest:
        payload = _check_body(body, "embeddings")
        if "input" not in payload:
            raise ValueError("embeddings body needs 'input' (a string or a list of strings)")
        provider_name, model = split_model(payload["model"])
        provider = get_provider(provider_name)
        if provider.embeddings_path is None:
            raise ValueError(
                f"provider {provider.slug!r} has no OpenAI-compatible embeddings path; the "
                "unified /compat endpoint has no embeddings either"
            )
        payload["model"] = model
        key = self._key(api_key)
        extra = self._extra(extra_headers)
        headers = self._gateway_headers(options)
        headers.update(auth_headers(provider, key))
        headers.update(extra)
        url = self.gateway.provider_url(provider, provider.embeddings_path)
        context = self._context(
            "provider",
            options,
            provider=provider.slug,
            caller_key=key is not None or _carries_credential(extra),
        )
        return PreparedRequest(
            "POST", url, headers, payload, self._secrets(api_key, extra), context=context
        )

    def universal(
        self,
        steps: Sequence[UniversalStep | Mapping[str, Any]],
        *,
        options: GatewayOptions | None,
        extra_headers: Mapping[str, str] | None,
    ) -> PreparedRequest:
        from .universal import UniversalStep  # here: only fallback requests need it

        if isinstance(steps, (str, bytes, Mapping)) or not steps:
            raise ValueError("steps must be a non-empty sequence of UniversalStep")
        body: list[dict[str, Any]] = []
        extra = self._extra(extra_headers)
        secrets = list(self._secrets(None, extra))
        step_context: list[tuple[str, bool]] = []
        for i, step in enumerate(steps):
            if isinstance(step, Mapping):
                try:
                    step = UniversalStep(**step)
                except TypeError as exc:
                    raise ValueError(f"steps[{i}] is not a valid step: {exc}") from exc
            if not isinstance(step, UniversalStep):
                raise TypeError(f"steps[{i}] must be a UniversalStep, not {type(step).__name__}")
            body.append(step.to_dict())
            secrets.extend(secret_values(step.headers, self.secret_headers))
            step_context.append((step.provider, _carries_credential(step.headers)))
        headers = self._gateway_headers(options)
        headers.update(extra)
        context = self._context("universal", options, steps=tuple(step_context))
        return PreparedRequest(
            "POST",
            self.gateway.universal_url(),
            headers,
            body,
            tuple(dict.fromkeys(secrets)),
            context=context,
        )


def _carries_credential(headers: Mapping[str, str] | None) -> bool:
    """Whether ``headers`` carry a provider credential (any secret header but the gateway's)."""
    return any(
        name.lower() in wire.SECRET_HEADERS and name.lower() != wire.H_AUTHORIZATION
        for name in headers or {}
    )
