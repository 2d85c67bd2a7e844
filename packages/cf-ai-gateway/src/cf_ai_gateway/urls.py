"""Parse any gateway URL a user may paste into its parts, without ever doubling ``/v1``.

Recognised shapes (any host; ``…`` is ``https://gateway.ai.cloudflare.com``):

- ``…/v1/{account}/{gateway}`` (the gateway root, the universal endpoint)
- ``…/v1/{account}/{gateway}/compat`` and ``…/compat/chat/completions``
- ``…/v1/{account}/{gateway}/{provider}``, ``…/{provider}/v1``, ``…/{provider}/chat/completions``
- ``https://api.cloudflare.com/client/v4/accounts/{account}/ai/v1[/chat/completions]``
- ``…/client/v4/accounts/{account}/ai-gateway/gateways/{gateway}[/...]`` (management API)
- ``https://{custom-domain}[/prefix][/compat|/{provider}...]`` (the host names account+gateway)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import wire
from .providers import is_provider_segment
from .wire import URLSurface

__all__ = ["ParsedGatewayURL", "display_url", "parse_gateway_url"]

_USERINFO = re.compile(r"^(?P<scheme>[^/?#@]*//)[^/?#]*@")
"""The user info of a URL, up to the authority's last ``@`` (as ``urlsplit`` reads it), after
any scheme, a malformed one or none (``//user:pass@host``)."""


def display_url(url: str) -> str:
    """``url`` as it may be shown (reprs, messages, logs): user info, where credentials
    hide, becomes ``***``.

    >>> display_url("https://user:s3cret@gw.example.com/v1")
    'https://***@gw.example.com/v1'
    """
    return _USERINFO.sub(lambda m: m["scheme"] + "***@", url) if isinstance(url, str) else url


_REST_RE = re.compile(
    r"^(?P<prefix>.*?/client/v4)/accounts/(?P<account>[^/]+)/ai(?:/v1)?(?:/(?P<rest>.*))?$"
)
_MGMT_RE = re.compile(
    r"^(?P<prefix>.*?/client/v4)/accounts/(?P<account>[^/]+)/ai-gateway/gateways/"
    r"(?P<gateway>[^/]+)(?:/.*)?$"
)


@dataclass(frozen=True, repr=False)  # its own __repr__ (repr=False: not generated)
class ParsedGatewayURL:
    """The parts of a pasted gateway URL.

    ``base_url`` is the gateway host plus version prefix (``https://gateway.ai.cloudflare.com/v1``)
    or, for a custom domain, the gateway root itself; ``api_base_url`` is set for REST URLs.
    ``surface``/``provider``/``endpoint`` say what the URL pointed at, for callers that want to
    keep using it that way: a :data:`~cf_ai_gateway.URLSurface`, which besides the client
    surfaces can be ``"universal"`` (the gateway root).
    """

    base_url: str | None
    api_base_url: str | None
    account_id: str | None
    gateway_id: str | None
    custom_domain: bool
    surface: URLSurface
    provider: str | None = None
    endpoint: str | None = None

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={display_url(value) if isinstance(value, str) else value!r}"
            if name.endswith("url")
            else f"{name}={value!r}"
            for name, value in vars(self).items()
        )
        return f"ParsedGatewayURL({shown})"


def _is_surface_segment(segment: str) -> bool:
    return segment == "compat" or is_provider_segment(segment)


def _tail(segments: list[str]) -> tuple[URLSurface, str | None, str | None]:
    """Surface, provider and endpoint named by the path after the gateway root."""
    if not segments:
        return "universal", None, None
    head, rest = segments[0], segments[1:]
    if head == "compat":
        if rest[:1] == ["v1"]:
            rest = rest[1:]
        return "compat", None, "/".join(rest) or None
    # Keep a "v1" that the provider's own paths carry; drop a bare trailing one.
    endpoint = "/".join(rest) or None
    if endpoint == "v1":
        endpoint = None
    return "provider", head, endpoint


def parse_gateway_url(url: str) -> ParsedGatewayURL:
    """Split a gateway URL of any supported shape; raises ``ValueError`` naming the URL."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"gateway URL {url!r} must be a non-empty string")
    shown = display_url(url)
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise ValueError(f"gateway URL {shown!r} is not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"gateway URL {shown!r} must be an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError(
            f"gateway URL {shown!r} must not carry a query string or fragment; pass options "
            "as GatewayOptions instead"
        )
    origin = f"{parts.scheme}://{parts.netloc}"
    path = re.sub(r"/+", "/", parts.path).rstrip("/")

    m = _MGMT_RE.match(path)
    if m:
        return ParsedGatewayURL(
            None, origin + m["prefix"], m["account"], m["gateway"], False, "rest"
        )
    m = _REST_RE.match(path)
    if m:
        return ParsedGatewayURL(
            None,
            origin + m["prefix"],
            m["account"],
            None,
            False,
            "rest",
            endpoint=m["rest"] or None,
        )

    segments = [s for s in path.split("/") if s]
    # Gateway host shape: [prefix...]/v1/{account}/{gateway}[/tail...]
    for i, segment in enumerate(segments):
        if _is_surface_segment(segment):
            # A surface segment comes first (``/openai/v1/chat/completions`` on a custom
            # domain): a later "v1" belongs to the provider path, not to the gateway host.
            break
        if segment == "v1" and len(segments) >= i + 3 and not _is_surface_segment(segments[i + 1]):
            base = origin + "/" + "/".join(segments[: i + 1])
            account, gateway = segments[i + 1], segments[i + 2]
            surface, provider, endpoint = _tail(segments[i + 3 :])
            return ParsedGatewayURL(
                base, None, account, gateway, False, surface, provider, endpoint
            )
    if parts.hostname == wire.GATEWAY_HOST:
        raise ValueError(
            f"gateway URL {shown!r} must look like "
            f"{wire.DEFAULT_BASE_URL}/{{account_id}}/{{gateway_id}}[/...]"
        )
    # A custom domain: the root is everything before the first surface segment.
    for i, segment in enumerate(segments):
        if _is_surface_segment(segment):
            surface, provider, endpoint = _tail(segments[i:])
            base = origin + "".join("/" + s for s in segments[:i])
            return ParsedGatewayURL(base, None, None, None, True, surface, provider, endpoint)
    return ParsedGatewayURL(
        origin + "".join("/" + s for s in segments), None, None, None, True, "universal"
    )
