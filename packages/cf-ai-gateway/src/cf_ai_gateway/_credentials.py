"""Credentials and headers given by the caller: checked once, at construction, and known by
value so that every text the core renders can redact them.

- :func:`check_credential`: a token or key must be a non-empty, single-line, printable ASCII
  string (HTTP header values are ASCII). A trailing newline read from a file, a non-ASCII
  character pasted from a document: refused with a message that describes the value's shape
  and never echoes it (so a traceback cannot print the key).
- :func:`check_headers`: header names are HTTP tokens, values printable ASCII; a bad header
  fails before any request (httpx or h11 would otherwise fail at send time, the failure would
  be retried as a connection error, and h11's message would quote the value).
- :func:`is_secret_header` / :func:`secret_values`: which headers carry credentials (the
  registry's ``wire.SECRET_HEADERS``, names that look like one such as ``x-my-api-key``, and
  names the caller marks secret) and the values to redact (a ``Bearer``, ``Token`` or ``Key``
  scheme's value too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from . import wire

__all__ = [
    "check_credential",
    "check_headers",
    "is_secret_header",
    "looks_like_credential",
    "secret_values",
    "shape_of",
]

_CREDENTIAL_NAME = re.compile(
    r"(?i)(api[_-]?key|secret|passw(or)?d|credential|(^|[_-])token$|(^|[_-])auth(orization)?$"
    r"|bearer|private[_-]?key)"
)
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SCHEMES = ("bearer ", "token ", "key ", "basic ")


def looks_like_credential(name: str) -> bool:
    """Whether a parameter, body key or header name looks like it carries a credential
    (``openai_api_key``, ``x-api-key``, ``access_token``, ``client_secret``, ...); chat
    parameters such as ``max_tokens`` or ``logit_bias`` do not.

    >>> [n for n in ("openai_api_key", "max_tokens", "gateway_token", "top_logprobs")
    ...  if looks_like_credential(n)]
    ['openai_api_key', 'gateway_token']
    """
    return bool(_CREDENTIAL_NAME.search(name))


def shape_of(value: object) -> str:
    """What a refused secret looked like, without its characters."""
    if not isinstance(value, str):
        return f"a {type(value).__name__}"
    return f"a {len(value)}-character string"


def _bad_character(value: str) -> str | None:
    if any(c in value for c in "\r\n"):
        return "a line break (CR or LF: often a trailing newline read from a file)"
    if not value.isascii():
        return "a non-ASCII character (HTTP header values are ASCII)"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value if c != "\t"):
        return "a control character"
    return None


def check_credential(value: object, what: str) -> str:
    """``value`` if it can travel in a header; else ``ValueError`` naming ``what`` and the
    rule, never the value."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string (got {shape_of(value)})")
    problem = _bad_character(value)
    if problem is not None:
        raise ValueError(f"{what} contains {problem}; got {shape_of(value)} (not shown)")
    return value


def is_secret_header(name: str, marked: Iterable[str] = ()) -> bool:
    """Whether header ``name`` carries a credential (see the module docstring)."""
    lower = name.lower()
    return (
        lower in wire.SECRET_HEADERS
        or lower in {m.lower() for m in marked}
        or looks_like_credential(lower)
    )


def check_headers(
    headers: Mapping[str, str] | None, what: str, marked: Iterable[str] = ()
) -> dict[str, str]:
    """A copy of ``headers`` after checking each name and value (see the module docstring).
    The value of a header that carries a credential is never echoed."""
    checked: dict[str, str] = {}
    marked = tuple(marked)
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ValueError(f"{what}: {name!r} is not a valid HTTP header name")
        secret = is_secret_header(name, marked)
        if not isinstance(value, str):
            raise ValueError(f"{what}[{name!r}] must be a string, not {type(value).__name__}")
        problem = _bad_character(value)
        if problem is not None:
            shown = shape_of(value) + " (not shown)" if secret else repr(value)
            raise ValueError(f"{what}[{name!r}] contains {problem}; got {shown}")
        checked[name] = value
    return checked


def secret_values(headers: Mapping[str, str] | None, marked: Iterable[str] = ()) -> list[str]:
    """The credential values in ``headers``: each secret header's value, and the value after
    an authorization scheme (``Bearer sk-...`` gives ``sk-...`` too)."""
    values: list[str] = []
    marked = tuple(marked)
    for name, value in (headers or {}).items():
        if not isinstance(value, str) or not is_secret_header(name, marked):
            continue
        values.append(value)
        lower = value.lower()
        for scheme in _SCHEMES:
            if lower.startswith(scheme) and value[len(scheme) :].strip():
                values.append(value[len(scheme) :].strip())
    return values
