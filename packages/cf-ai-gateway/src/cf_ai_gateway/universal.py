"""Steps of a universal (server-side fallback) request.

The gateway tries the steps in order and answers with the first success; the response header
``cf-aig-step`` is the 0-based index of the step that answered.

>>> body = {"messages": [{"role": "user", "content": "hi"}]}
>>> step = UniversalStep.chat("openai/gpt-4o-mini", body)
>>> step.to_dict()["endpoint"], step.to_dict()["query"]["model"]
('chat/completions', 'gpt-4o-mini')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ._credentials import check_credential, check_headers, is_secret_header
from .options import GatewayOptions
from .providers import auth_headers, check_step_model, get_provider, split_model

__all__ = ["UniversalStep"]

_CONFIG_KEYS = {
    "request_timeout_ms": "requestTimeout",
    "max_attempts": "maxAttempts",
    "retry_delay_ms": "retryDelay",
    "backoff": "backoff",
}


@dataclass(frozen=True)
class UniversalStep:
    """One step: a provider, its endpoint, the provider-native body (``query``), per-step
    headers (the provider credential goes here), and per-step gateway ``options``.

    The retry/timeout fields of ``options`` become the step's ``config`` object; the rest
    become ``cf-aig-*`` step headers (step headers beat the outer request's headers). Header
    names and values are checked when the step is built (a key with a line break or a
    non-ASCII character is refused without being echoed), and ``repr`` masks the value of
    every credential header.
    """

    provider: str
    endpoint: str
    query: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    options: GatewayOptions | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "provider", get_provider(self.provider).slug)
        if not isinstance(self.endpoint, str) or not self.endpoint.strip("/"):
            raise ValueError(f"endpoint={self.endpoint!r} must be a non-empty path")
        if not isinstance(self.query, Mapping):
            raise ValueError(
                f"query must be a mapping (the provider's request body), "
                f"not {type(self.query).__name__}"
            )
        if not isinstance(self.headers, Mapping):
            raise ValueError(f"headers must be a mapping, not {type(self.headers).__name__}")
        for key, value in self.headers.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"step header {key!r} must map a string to a string")
        checked = check_headers(self.headers, "step headers")
        object.__setattr__(self, "headers", MappingProxyType(checked))
        if self.options is not None and not isinstance(self.options, GatewayOptions):
            raise ValueError(f"options must be GatewayOptions, not {type(self.options).__name__}")

    def __repr__(self) -> str:
        headers = {k: "***" if is_secret_header(k) else v for k, v in self.headers.items()}
        return (
            f"UniversalStep(provider={self.provider!r}, endpoint={self.endpoint!r}, "
            f"query={dict(self.query)!r}, headers={headers!r}, options={self.options!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # headers is a MappingProxyType (neither picklable nor deep-copyable).
        return (
            _rebuild_step,
            (self.provider, self.endpoint, dict(self.query), dict(self.headers), self.options),
        )

    @classmethod
    def chat(
        cls,
        model: str,
        body: Mapping[str, Any],
        *,
        api_key: str | None = None,
        options: GatewayOptions | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> UniversalStep:
        """A chat-completions step from a unified model name (``"openai/gpt-4o-mini"``).

        ``api_key=None`` sends no credential, so BYOK / Unified Billing applies to the step.
        """
        if api_key is not None:
            check_credential(api_key, "api_key")
        provider = check_step_model(model)
        endpoint = provider.chat_path
        assert endpoint is not None  # check_step_model guarantees a chat path
        _, model_name = split_model(model)
        step_headers = auth_headers(provider, api_key)
        step_headers.update(headers or {})
        return cls(
            provider.slug,
            endpoint,
            {**body, "model": model_name},
            MappingProxyType(step_headers),
            options,
        )

    def to_dict(self) -> dict[str, Any]:
        """The step as the gateway expects it in the JSON array."""
        headers = dict(self.headers)
        step: dict[str, Any] = {
            "provider": self.provider,
            "endpoint": self.endpoint.strip("/"),
            "headers": headers,
            "query": dict(self.query),
        }
        if self.options is not None:
            config: dict[str, Any] = {}
            rest: dict[str, Any] = {}
            for name in ("request_timeout_ms", "max_attempts", "retry_delay_ms", "backoff"):
                value = getattr(self.options, name)
                if value is not None:
                    config[_CONFIG_KEYS[name]] = value
                    rest[name] = None
            headers.update(replace(self.options, **rest).to_headers())
            if config:
                step["config"] = config
        return step


def _rebuild_step(
    provider: str,
    endpoint: str,
    query: dict[str, Any],
    headers: dict[str, str],
    options: GatewayOptions | None,
) -> UniversalStep:
    return UniversalStep(provider, endpoint, query, headers, options)
