"""The reference pages that are generated, not written: the gateway options reference and the
error reference, built from the core's single source of truth at docs build time
(``tools/mkdocs_hooks.py`` calls these), so they cannot drift from the code.

Nothing here restates a rule or a mapping. Every header, limit and error code is read from
``cf_ai_gateway.wire``; every option's header, wire format and rule comes from asking
``GatewayOptions`` itself (a valid value and ``to_headers()``, invalid values and the
``InvalidOptionError`` they raise); every response header's attribute from
``GatewayResponseInfo.from_headers``; every code's and status's class and ``retryable`` from
``error_from_response``; meanings and advice from the docstrings. What is written here is only
which values to probe with, and a generator fails (so the build fails) when the code grows
something it has no probe or note for: a new option field, a new ``H_*`` header constant.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from cf_ai_gateway import errors, options, response_info, wire
from cf_ai_gateway.errors import GatewayError, error_from_response, gateway_error_body
from cf_ai_gateway.options import GatewayOptions, InvalidOptionError

# --- reading the source ---------------------------------------------------------------------


def attribute_docs(module: Any, owner: str | None = None) -> dict[str, str]:
    """``name -> docstring`` of the assignments in ``module`` (or in its class ``owner``): the
    string literal right after the assignment, else the comment on its line."""
    source = Path(inspect.getfile(module)).read_text(encoding="utf-8")
    lines = source.splitlines()
    body = ast.parse(source).body
    if owner is not None:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == owner).body
    docs: dict[str, str] = {}
    for node, after in zip(body, [*body[1:], None], strict=True):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
        else:
            continue
        if (
            isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[name] = " ".join(after.value.value.split())
        elif "#" in lines[node.end_lineno - 1 if node.end_lineno else node.lineno - 1]:
            comment = lines[(node.end_lineno or node.lineno) - 1].split("#", 1)[1].strip()
            if comment and not comment.startswith(("type:", "noqa")):
                docs[name] = comment
    return docs


def _text(doc: str | None) -> str:
    """A docstring as one Markdown paragraph (reST roles and double backticks simplified)."""
    text = " ".join(inspect.cleandoc(doc or "").split())
    text = re.sub(r":(?:class|meth|func|data|attr):`~?(?:[\w.]+\.)?([\w]+)`", r"`\1`", text)
    return text.replace("``", "`").replace("|", "\\|")


def _first_sentence(doc: str | None) -> str:
    text = _text(doc)
    return text.split(". ", 1)[0].rstrip(".") + "." if text else ""


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


# --- the gateway options reference ----------------------------------------------------------

OPTION_PROBES: dict[str, tuple[object, tuple[object, ...]]] = {
    # field: (a valid value, shown on the wire; invalid values, whose errors state the rule)
    "cache_ttl": (3600, (30, 2_592_001, 1.5)),
    "skip_cache": (True, ("yes",)),
    "cache_key": ("faq-42", ("", "tab\there", "é")),
    "collect_log": (False, ("no",)),
    "collect_log_payload": (False, ("no",)),
    "metadata": (
        {"user": "u-42", "tier": 2},
        ({f"k{i}": i for i in range(wire.METADATA_MAX_ENTRIES + 1)}, {"cf.x": 1}, {"k": [1]}),
    ),
    "event_id": ("req-7", ("",)),
    "request_timeout_ms": (5000, (0,)),
    "max_attempts": (3, (0, wire.MAX_ATTEMPTS_MAX + 1)),
    "retry_delay_ms": (200, (-1, wire.RETRY_DELAY_MAX_MS + 1)),
    "backoff": ("exponential", ("random",)),
    "custom_cost": (
        {"per_token_in": 1e-6, "per_token_out": 2e-6},
        ({"per_token_in": 1e-6}, {"total_cost": 1, "per_token_in": 1}, {"price": 1}),
    ),
    "byok_alias": ("production", ("",)),
    "zdr": (True, ("on",)),
    "no_wholesale": (True, ("on",)),
    "allowed_models": (
        ["anthropic/*", "openai/gpt-5-mini"],
        (["*"], ["a, b"], ["openai/x", "openai/x"], []),
    ),
    "allowed_providers": (["openai", "anthropic"], (["openai/gpt"], [])),
    "session_id": ("sess-1", ("",)),
    "turn_id": ("turn-3", ("",)),
    "no_session_affinity": (True, ("yes",)),
}

OTHER_REQUEST_HEADERS: dict[str, str] = {
    # wire constant: what sends it (the constants that are not GatewayOptions fields)
    "H_AUTHORIZATION": "The gateway token of an authenticated gateway: `Gateway(token=...)` / "
    "`CF_AIG_TOKEN`; sent on every gateway request when a token is configured.",
    "H_GATEWAY_ID": 'The gateway on Cloudflare\'s REST API (`surface="rest"`), whose URL names '
    "only the account: `Gateway(gateway_id=...)`.",
    "H_CACHE_TTL_LEGACY": "A deprecated spelling of `cf-aig-cache-ttl` the gateway still "
    "honours; never sent by the clients.",
    "H_SKIP_CACHE_LEGACY": "A deprecated spelling of `cf-aig-skip-cache` the gateway still "
    "honours; never sent by the clients.",
    "H_API_AUTHORIZATION": "The Cloudflare API token on the REST and management APIs "
    "(`Authorization: Bearer ...`), never `cf-aig-authorization`.",
}
RETRY_HEADERS = ("H_RETRY_AFTER", "H_RETRY_AFTER_MS", "H_SHOULD_RETRY")
_RESPONSE_PROBE_VALUES = ("HIT", "1", '{"findings": []}', "probe")


def _rule_of(name: str, value: object) -> str:
    try:
        GatewayOptions(**{name: value})
    except InvalidOptionError as exc:
        return re.sub(r";\s*got .*$", "", exc.rule)
    raise AssertionError(f"GatewayOptions({name}={value!r}) is accepted: fix OPTION_PROBES")


def _type_of(annotation: object) -> str:
    text = str(annotation).replace("wire.", "").replace("Mapping[str, float]", "mapping")
    return re.sub(r"\s*\|\s*None$", "", text)


def option_rows() -> list[dict[str, str]]:
    """One row per ``GatewayOptions`` field: header, type, rule, example, default, meaning."""
    docs = attribute_docs(options, "GatewayOptions")
    rows = []
    for f in fields(GatewayOptions):
        if f.name not in OPTION_PROBES:
            raise AssertionError(
                f"GatewayOptions.{f.name} has no probe in tools/docs_reference.py OPTION_PROBES"
            )
        valid, invalid = OPTION_PROBES[f.name]
        headers = GatewayOptions(**{f.name: valid}).to_headers()
        (header, shown), *_ = headers.items()
        rules = list(dict.fromkeys(_rule_of(f.name, value) for value in invalid))
        default = f.default if f.default is not MISSING else None
        rows.append(
            {
                "field": f.name,
                "header": header,
                "type": _type_of(f.type),
                "rule": "; ".join(rules),
                "example": f"{f.name}={valid!r}",
                "wire": f"{header}: {shown}",
                "default": "not sent (the gateway's own setting applies)"
                if default is None
                else repr(default),
                "meaning": docs.get(f.name, ""),
            }
        )
    return rows


def response_rows() -> list[tuple[str, str, str]]:
    """``(header, GatewayResponseInfo attribute, doc)`` for every response header in wire."""
    rows = []
    docs = attribute_docs(response_info, "GatewayResponseInfo")
    for name in _header_constants():
        header = getattr(wire, name)
        for value in _RESPONSE_PROBE_VALUES:
            info = response_info.GatewayResponseInfo.from_headers({header: value})
            set_fields = [
                k for k, v in info.to_dict().items() if v is not None and k != "status_code"
            ]
            if set_fields:
                rows.append((header, set_fields[0], docs.get(set_fields[0], "")))
                break
    return rows


def _header_constants() -> list[str]:
    return [n for n in vars(wire) if n.startswith("H_") and isinstance(getattr(wire, n), str)]


def options_reference() -> str:
    """The Markdown of the gateway options reference page."""
    rows = option_rows()
    option_headers = {r["header"] for r in rows}
    responses = response_rows()
    response_headers = {h for h, _, _ in responses}
    wire_docs = attribute_docs(wire)
    undocumented = [
        n
        for n in _header_constants()
        if getattr(wire, n) not in option_headers | response_headers
        and n not in OTHER_REQUEST_HEADERS
        and n not in RETRY_HEADERS
    ]
    if undocumented:
        raise AssertionError(
            f"wire headers {undocumented} are in no table: add them to OTHER_REQUEST_HEADERS "
            "(tools/docs_reference.py), or make them an option or a response info field"
        )
    out = [
        "# Gateway options reference",
        "",
        "<!-- generated at build time by tools/docs_reference.py from cf_ai_gateway.wire,"
        " GatewayOptions and GatewayResponseInfo; do not edit -->",
        "",
        "Generated when the site is built, from the code itself: each header comes from "
        "`GatewayOptions(...).to_headers()`, each rule is the message `InvalidOptionError` "
        "gives for a value that breaks it, each limit is a constant of `cf_ai_gateway.wire`. "
        "Options are checked when `GatewayOptions` is built, before any request; every field "
        "defaults to `None`, which sends nothing, so the gateway's own setting applies. "
        "See [the core guide](../core.md#options-gatewayoptions) for layering defaults and "
        "per-call options.",
        "",
        "## Request options: `GatewayOptions`",
        "",
        "| field | header | type | rule (checked before sending) | default |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| `{r['field']}` | `{r['header']}` | `{_cell(r['type'])}` | {_cell(r['rule'])} "
            f"| {r['default']} |"
        )
    out += ["", "### Each option on the wire", ""]
    for r in rows:
        out += [
            f"#### `{r['field']}`",
            "",
            *([_text(r["meaning"]), ""] if r["meaning"] else []),
            f"`GatewayOptions({r['example']})` sends `{r['wire']}`.",
            "",
        ]
    out += [
        "## Other request headers",
        "",
        "| header | what it is |",
        "|---|---|",
        *(f"| `{getattr(wire, n)}` | {note} |" for n, note in OTHER_REQUEST_HEADERS.items()),
        "",
        "## Response headers: `GatewayResponseInfo`",
        "",
        "Every result (`result.info`), stream (`stream.info`, before the first chunk) and "
        "error (`err.info`) carries them; `info.raw` keeps every `cf-aig-*` header as sent.",
        "",
        "| header | attribute |",
        "|---|---|",
        *(f"| `{h}` | `info.{attr}` |" for h, attr, _ in responses),
        "",
        "## Retry signals",
        "",
        "Read on every error response (providers send them too, so they are not `cf-aig-*`); "
        "see [Retries](../core.md#retries).",
        "",
        "| header | meaning |",
        "|---|---|",
        *(f"| `{getattr(wire, n)}` | {_text(wire_docs.get(n))} |" for n in RETRY_HEADERS),
        "",
        "## Limits",
        "",
        "| constant (`cf_ai_gateway.wire`) | value | note |",
        "|---|---|---|",
    ]
    for name, value in vars(wire).items():
        if (
            name.isupper()
            and isinstance(value, int)
            and not isinstance(value, bool)
            and not name.startswith(("CODE_", "LOGS_"))
        ):
            out.append(f"| `{name}` | `{value}` | {_text(wire_docs.get(name))} |")
    out += [
        f"| `BACKOFF_VALUES` | `{', '.join(wire.BACKOFF_VALUES)}` | |",
        f"| `METADATA_RESERVED_PREFIX` | `{wire.METADATA_RESERVED_PREFIX}` | |",
        "",
    ]
    return "\n".join(out)


# --- the error reference ----------------------------------------------------------------------

STATUSES = (400, 401, 402, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529)
"""The HTTP statuses the error table shows (any other maps like its neighbours)."""
_UNKNOWN_CODE = 9999


def error_classes() -> list[tuple[type[GatewayError], int]]:
    """``(class, depth)`` of the hierarchy in ``cf_ai_gateway.errors``, depth first."""
    out: list[tuple[type[GatewayError], int]] = []

    def walk(cls: type[GatewayError], depth: int) -> None:
        out.append((cls, depth))
        for sub in cls.__subclasses__():
            if sub.__module__ == errors.__name__:
                walk(sub, depth + 1)

    walk(GatewayError, 0)
    return out


def _probe(status: int, body: Any, source: errors.ErrorSource = "gateway") -> GatewayError:
    content = json.dumps(body).encode() if body is not None else b""
    return error_from_response(status, {}, content, source=source)


def _gateway_body(code: int, status: int) -> dict[str, Any]:
    return gateway_error_body(code, "probe", status)


def _v4_body(code: int) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": "probe"}]}


def _link(cls: type[GatewayError]) -> str:
    return f"[`{cls.__name__}`](#{cls.__name__.lower()})"


def code_rows() -> list[dict[str, str]]:
    """One row per ``CODE_*`` constant of wire: the class it raises, and whether the code or
    the HTTP status decides it."""
    docs = attribute_docs(wire)
    rows = []
    for name, code in vars(wire).items():
        if not name.startswith("CODE_") or not isinstance(code, int):
            continue
        management = name.startswith("CODE_API_")
        source: errors.ErrorSource = "management" if management else "gateway"
        body = _v4_body if management else (lambda c, s: _gateway_body(c, s))
        at_400 = _probe(400, body(code, 400) if not management else _v4_body(code), source)
        at_500 = _probe(500, body(code, 500) if not management else _v4_body(code), source)
        decided_by_code = type(at_400) is type(at_500)
        rows.append(
            {
                "code": str(code),
                "name": name,
                "api": "management API" if management else "gateway",
                "class": _link(type(at_400)) if decided_by_code else "by HTTP status (below)",
                "retryable": ("yes" if at_400.retryable else "no") if decided_by_code else "-",
                "note": _text(docs.get(name)) or _first_sentence(type(at_400).__doc__),
            }
        )
    return rows


def status_rows() -> list[dict[str, str]]:
    rows = []
    for status in STATUSES:
        plain = _probe(status, {"error": {"message": "probe"}})
        gateway = _probe(status, _gateway_body(_UNKNOWN_CODE, status))
        rows.append(
            {
                "status": str(status),
                "provider": _link(type(plain)),
                "gateway": _link(type(gateway)),
                "retryable": "yes" if plain.retryable else "no",
            }
        )
    return rows


def errors_reference() -> str:
    """The Markdown of the error reference page."""
    model_404 = _probe(
        404, {"error": {"code": wire.MODEL_NOT_FOUND_CODE, "message": "model x does not exist"}}
    )
    out = [
        "# Error reference",
        "",
        "<!-- generated at build time by tools/docs_reference.py from cf_ai_gateway.errors and"
        " cf_ai_gateway.wire; do not edit -->",
        "",
        "Generated when the site is built: every class and what to do come from the class "
        "docstrings, every code from `cf_ai_gateway.wire`, and every class and `retryable` "
        "below from sending that answer through `error_from_response`, the function the "
        "clients use. A gateway error code decides first; without a known code, the HTTP "
        "status does. `except GatewayError` catches all of them. For symptoms rather than "
        "codes, see [Troubleshooting](../troubleshooting.md).",
        "",
        "## By gateway error code",
        "",
        "| code | `wire` constant | answered by | raised as | retryable | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in code_rows():
        out.append(
            f"| `{r['code']}` | `{r['name']}` | {r['api']} | {r['class']} | {r['retryable']} "
            f"| {r['note']} |"
        )
    out += [
        "",
        f"An HTTP 404 whose body says the model does not exist (`error.code: "
        f"{wire.MODEL_NOT_FOUND_CODE}` in OpenAI's schema, a `{wire.MODEL_NOT_FOUND_TYPE}` "
        f"about a model in Anthropic's) is raised as {_link(type(model_404))}.",
        "",
        "## By HTTP status",
        "",
        "When the body has no code the table above knows: a provider's own error (or no body) "
        "on the left, a gateway error body with an unknown code on the right. `retryable` is "
        "what the client's retry policy acts on; an `x-should-retry: true|false` response "
        "header overrides it.",
        "",
        "| status | provider or no body | gateway body, unknown code | retryable |",
        "|---|---|---|---|",
        *(
            f"| `{r['status']}` | {r['provider']} | {r['gateway']} | {r['retryable']} |"
            for r in status_rows()
        ),
        "",
        "## The classes: what each means and what to do",
        "",
        "```",
    ]
    for cls, depth in error_classes():
        retry = " (retryable)" if cls.default_retryable else ""
        out.append(f"{'    ' * depth}{cls.__name__}{retry}")
    out += ["```", ""]
    for cls, _ in error_classes():
        parent = cls.__mro__[1].__name__
        out += [
            f"### {cls.__name__}",
            "",
            f"`cf_ai_gateway.{cls.__name__}`"
            + (f", a `{parent}`" if cls is not GatewayError else "")
            + f". Retryable by default: {'yes' if cls.default_retryable else 'no'}.",
            "",
            _text(cls.__doc__),
            "",
        ]
    out += [
        "## Raised before any request",
        "",
        "Not `GatewayError`s: they mean the code or the configuration is wrong, so nothing "
        "was sent.",
        "",
    ]
    from cf_ai_gateway.config import GatewayConfigError

    for cls in (InvalidOptionError, GatewayConfigError):
        out += [
            f"### {cls.__name__}",
            "",
            f"`cf_ai_gateway.{cls.__name__}`, a `{cls.__mro__[1].__name__}`.",
            "",
            _text(cls.__doc__),
            "",
        ]
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(options_reference())
    print(errors_reference())
