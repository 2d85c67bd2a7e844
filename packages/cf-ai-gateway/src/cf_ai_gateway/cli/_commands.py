"""The CLI's commands: each takes the parsed arguments, the resolved settings, an output and an
``httpx.Client``, prints, and returns the exit status (0 pass, 1 fail)."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from .. import wire
from ..config import Gateway, GatewayConfigError
from ..errors import BadRequestError
from ..management import ManagementClient
from ..management_models import (
    GatewaySettings,
    LogEntry,
)
from ..providers import get_provider
from ..urls import ParsedGatewayURL, parse_gateway_url
from ._output import Output
from ._settings import Settings
from .doctor import run_doctor

__all__ = [
    "cmd_doctor",
    "cmd_feedback",
    "cmd_gateways",
    "cmd_logs",
    "cmd_logs_show",
    "cmd_url",
    "sdk_base_urls",
]


# --- doctor ----------------------------------------------------------------------------------

_MARKS = {"ok": "ok", "warn": "warn", "fail": "FAIL", "skip": "skip"}


def cmd_doctor(args: argparse.Namespace, s: Settings, out: Output, http: httpx.Client) -> int:
    checks = run_doctor(s, http, model=args.model)
    failed = [c for c in checks if c.status == "fail"]
    if out.json_mode:
        out.json(
            {
                "ok": not failed,
                "gateway_url": s.gateway.root_url if s.gateway else None,
                "checks": [c.to_dict() for c in checks],
            }
        )
        return 1 if failed else 0
    width = max(len(c.name) for c in checks)
    for check in checks:
        mark = _MARKS[check.status]
        out.line(f"{mark:<4}  {check.name:<{width}}  {check.summary}", check.status)
        pad = " " * (width + 8)
        if check.cause:
            out.line(f"{pad}cause: {check.cause}")
        if check.fix:
            out.line(f"{pad}fix:   {check.fix}")
    out.line()
    warned = sum(c.status == "warn" for c in checks)
    if failed:
        out.line(f"{len(failed)} check(s) failed, {warned} warning(s).", "fail")
    else:
        out.line(f"All checks passed ({warned} warning(s)).", "ok")
    return 1 if failed else 0


# --- url -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseURL:
    """Where one SDK or framework points, and how."""

    key: str
    client: str
    setting: str
    url: str
    note: str = ""


def _openai_compatible_base(gw: Gateway, provider: str) -> str | None:
    """``{root}/{segment}[/v1]``: what the OpenAI SDK appends ``/chat/completions`` to."""
    p = get_provider(provider)
    if p.chat_path is None or not p.chat_path.endswith("chat/completions"):
        return None
    full = gw.provider_url(p, p.chat_path)
    return full[: -len("/chat/completions")]


def sdk_base_urls(gw: Gateway, provider: str = "openai") -> list[BaseURL]:
    """The base URL each SDK and framework wants for this gateway: every SDK appends its own
    path (``/chat/completions``, ``/v1/messages``), so none of these ends in a path the SDK
    adds again (never a doubled ``/v1``)."""
    compat = gw.compat_url("")
    rows = [
        BaseURL(
            "gateway",
            "the gateway itself",
            "Gateway.from_url(...)",
            gw.root_url,
            "the universal endpoint; cf-ai-gateway clients take this",
        ),
        BaseURL(
            "openai_sdk",
            "OpenAI SDK, any provider (unified)",
            "OpenAI(base_url=...)",
            compat,
            'model="openai/gpt-4o-mini", "anthropic/...", ...',
        ),
    ]
    native = _openai_compatible_base(gw, provider)
    if native and provider != "openai":
        rows.append(
            BaseURL(
                f"openai_sdk_{get_provider(provider).slug}",
                f"OpenAI SDK, {get_provider(provider).name} native",
                "OpenAI(base_url=...)",
                native,
                "the provider's own model names",
            )
        )
    openai_native = _openai_compatible_base(gw, "openai")
    assert openai_native is not None
    rows += [
        BaseURL(
            "openai_sdk_openai",
            "OpenAI SDK, OpenAI native",
            "OpenAI(base_url=...)",
            openai_native,
            'model="gpt-4o-mini"',
        ),
        BaseURL(
            "anthropic_sdk",
            "Anthropic SDK",
            "Anthropic(base_url=...)",
            gw.provider_url("anthropic"),
            "the SDK adds /v1/messages",
        ),
        BaseURL(
            "langchain",
            "LangChain (cf-ai-gateway[langchain])",
            "ChatCloudflareAIGateway(gateway_url=...)",
            gw.root_url,
            "any URL shape works",
        ),
        BaseURL(
            "langchain_openai",
            "LangChain ChatOpenAI",
            "ChatOpenAI(base_url=...)",
            compat,
            'model="openai/gpt-4o-mini"',
        ),
        BaseURL(
            "llamaindex",
            "LlamaIndex OpenAILike",
            "OpenAILike(api_base=...)",
            compat,
            'model="openai/gpt-4o-mini", is_chat_model=True',
        ),
        BaseURL(
            "litellm",
            "LiteLLM",
            "completion(api_base=...)",
            compat,
            'model="openai/openai/gpt-4o-mini" (LiteLLM strips the first "openai/")',
        ),
    ]
    if gw.account_id and not gw.custom_domain:
        rows.append(
            BaseURL(
                "openai_sdk_rest",
                "OpenAI SDK, REST API",
                "OpenAI(base_url=...)",
                gw.rest_url("").rstrip("/"),
                f"api_key=Cloudflare token, header {wire.H_GATEWAY_ID}: {gw.gateway_id}",
            )
        )
        if gw.gateway_id:
            rows.append(
                BaseURL(
                    "management_api",
                    "management API",
                    "ManagementClient(...)",
                    gw.management_url(f"gateways/{gw.gateway_id}"),
                    "logs, settings",
                )
            )
    return rows


def _parsed_dict(parsed: ParsedGatewayURL) -> dict[str, Any]:
    return {
        "account_id": parsed.account_id,
        "gateway_id": parsed.gateway_id,
        "surface": parsed.surface,
        "provider": parsed.provider,
        "endpoint": parsed.endpoint,
        "custom_domain": parsed.custom_domain,
    }


def cmd_url(args: argparse.Namespace, s: Settings, out: Output, http: httpx.Client) -> int:
    text = args.gateway_url or s.url
    parsed = None
    if text:
        parsed = parse_gateway_url(text)  # ValueError: a usage error, exit 2
        gw = Gateway.from_url(text)
        if args.account_id or args.gateway_id:
            gw = Gateway.from_url(
                text,
                **{
                    k: v
                    for k, v in (("account_id", args.account_id), ("gateway_id", args.gateway_id))
                    if v
                },
            )
    else:
        gw = s.require_gateway()
    provider = args.provider or (parsed.provider if parsed and parsed.provider else "openai")
    get_provider(provider)  # ValueError for an unknown provider
    if not gw.custom_domain and not (gw.account_id and gw.gateway_id):
        raise GatewayConfigError(
            f"{text!r} names no gateway: a REST API URL has the account only; pass --gateway-id"
        )
    rows = sdk_base_urls(gw, provider)
    doubled = bool(text and "/v1/v1" in text.replace("//", "/"))
    if out.json_mode:
        out.json(
            {
                "input": text,
                "parsed": _parsed_dict(parsed) if parsed else None,
                "doubled_v1_in_input": doubled,
                "base_urls": {r.key: r.url for r in rows},
            }
        )
        return 0
    if parsed is not None:
        target = parsed.provider or parsed.surface
        out.line(
            f"{text}\n  account {parsed.account_id or '-'}, gateway {parsed.gateway_id or '-'}, "
            f"points at {target}" + (f" ({parsed.endpoint})" if parsed.endpoint else ""),
            "dim",
        )
        if doubled:
            out.line("  note: the pasted URL has a doubled /v1; the URLs below do not", "warn")
        out.line()
    out.table(
        ["client", "setting", "base URL", "note"],
        [[r.client, r.setting, r.url, r.note] for r in rows],
    )
    return 0


# --- logs ------------------------------------------------------------------------------------


def _metadata_pairs(values: Iterable[str] | None) -> dict[str, str]:
    pairs = {}
    for item in values or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--metadata {item!r} must be KEY=VALUE")
        pairs[key.strip()] = value
    return pairs


def _model_filter(model: str | None) -> tuple[str | None, str | None]:
    """``--model provider/model`` filters on both; a bare model name on the model only."""
    if not model:
        return None, None
    prefix, sep, rest = model.partition("/")
    if sep and rest:
        try:
            return get_provider(prefix).slug, rest
        except ValueError:
            pass
    return None, model


def _log_query(args: argparse.Namespace) -> dict[str, Any]:
    provider, model = _model_filter(args.model)
    if args.provider:
        provider = get_provider(args.provider).slug
    return {
        "provider": provider,
        "model": model,
        "success": args.success,
        "cached": args.cached,
        "metadata": _metadata_pairs(args.metadata) or None,
        "since": args.since,
        "search": args.search,
    }


def _local_time(when: datetime | None) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S") if when else "-"


def _log_row(entry: LogEntry) -> list[str]:
    model = "/".join(p for p in (entry.provider, entry.model) if p) or "-"
    tokens = (
        f"{entry.tokens_in or 0}+{entry.tokens_out or 0}" if entry.total_tokens is not None else "-"
    )
    return [
        _local_time(entry.created_at),
        entry.id,
        model,
        str(entry.status_code) if entry.status_code is not None else "-",
        entry.cache_status,
        str(entry.duration) if entry.duration is not None else "-",
        tokens,
        f"{entry.cost:.6f}" if entry.cost is not None else "-",
        str(entry.step) if entry.step is not None else "",
        " ".join(f"{k}={v}" for k, v in entry.metadata.items()),
    ]


_LOG_COLUMNS = [
    "time",
    "id",
    "model",
    "status",
    "cache",
    "ms",
    "tokens",
    "cost",
    "step",
    "metadata",
]
_FOLLOW_WIDTHS = [19, 36, 26, 6, 5, 6, 8, 8, 4, 0]
"""Column widths for ``--follow``, whose rows arrive one by one under one header."""


def _style(entry: LogEntry) -> str:
    return "fail" if entry.success is False else ""


def cmd_logs(
    args: argparse.Namespace,
    s: Settings,
    out: Output,
    http: httpx.Client,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    query = _log_query(args)
    mgmt = s.management(http)
    if args.follow:
        return _follow(args, mgmt, query, out, sleep)
    entries = list(mgmt.list_logs(**query, direction=args.order, limit=args.limit))
    if out.json_mode:
        out.json([e.to_dict() for e in entries])
        return 0
    if not entries:
        out.line(f"no logs on gateway {mgmt.gateway_id!r} match", "dim")
        return 0
    out.table(_LOG_COLUMNS, [_log_row(e) for e in entries], styles=[_style(e) for e in entries])
    out.line(f"{len(entries)} log(s) on gateway {mgmt.gateway_id!r}", "dim")
    return 0


def _follow(
    args: argparse.Namespace,
    mgmt: ManagementClient,
    query: dict[str, Any],
    out: Output,
    sleep: Callable[[float], None],
) -> int:
    """Print the newest ``--limit`` logs, then poll for new ones every ``--interval``
    seconds (until Ctrl-C, or ``--polls`` polls)."""
    seen: dict[str, None] = {}
    overlap = timedelta(seconds=max(2.0, args.interval))
    first = list(mgmt.list_logs(**query, direction="desc", limit=args.limit))
    last = max((e.created_at for e in first if e.created_at), default=None)
    if last is not None:
        # Older logs inside the overlap window were there before we started: not news.
        seen.update(
            dict.fromkeys(e.id for e in mgmt.list_logs(**{**query, "since": last - overlap}))
        )
    if not out.json_mode:
        out.line(f"following gateway {mgmt.gateway_id!r} (Ctrl-C to stop)", "dim")
        out.table(
            _LOG_COLUMNS,
            [_log_row(e) for e in reversed(first)],
            styles=[_style(e) for e in reversed(first)],
            min_widths=_FOLLOW_WIDTHS,
        )
    for entry in reversed(first):
        seen[entry.id] = None
        if out.json_mode:
            out.json(entry.to_dict(), compact=True)
    polls = 0
    try:
        while args.polls is None or polls < args.polls:
            sleep(args.interval)
            polls += 1
            since = (last - overlap) if last else query["since"]
            fresh = [
                e
                for e in mgmt.list_logs(**{**query, "since": since}, direction="asc")
                if e.id not in seen
            ]
            for entry in fresh:
                seen[entry.id] = None
                if entry.created_at and (last is None or entry.created_at > last):
                    last = entry.created_at
                if out.json_mode:
                    out.json(entry.to_dict(), compact=True)
                else:
                    out.table(
                        _LOG_COLUMNS,
                        [_log_row(entry)],
                        styles=[_style(entry)],
                        header=False,
                        min_widths=_FOLLOW_WIDTHS,
                    )
            while len(seen) > 10_000:  # bounded memory on long tails
                seen.pop(next(iter(seen)))
    except KeyboardInterrupt:
        pass
    return 0


def _pretty(body: Any) -> str:
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return str(body)
    return json.dumps(body, indent=2, ensure_ascii=False, default=str)


def cmd_logs_show(args: argparse.Namespace, s: Settings, out: Output, http: httpx.Client) -> int:
    mgmt = s.management(http)
    entry = mgmt.get_log(args.log_id)
    bodies: dict[str, Any] = {}
    if not args.no_bodies:
        for which, fetch in (
            ("request", mgmt.get_log_request),
            ("response", mgmt.get_log_response),
        ):
            try:
                bodies[which] = fetch(args.log_id)
            except BadRequestError as exc:  # 404: payload collection was off for this request
                bodies[which] = None
                bodies[f"{which}_unavailable"] = exc.message
    if out.json_mode:
        out.json({"log": entry.to_dict(), **bodies})
        return 0
    pairs = [
        (key, str(value))
        for key, value in (
            ("id", entry.id),
            ("time", _local_time(entry.created_at)),
            ("provider", entry.provider),
            ("model", entry.model),
            ("path", entry.path),
            ("status", entry.status_code),
            ("success", entry.success),
            ("cache", entry.cache_status),
            ("duration ms", entry.duration),
            ("tokens in/out", f"{entry.tokens_in}/{entry.tokens_out}"),
            ("cost", f"{entry.cost:.6f}" if entry.cost is not None else None),
            ("step", entry.step),
            ("event id", entry.event_id),
            ("metadata", json.dumps(dict(entry.metadata)) if entry.metadata else None),
            ("feedback", entry.feedback),
            ("score", entry.score),
        )
        if value is not None
    ]
    out.fields(pairs)
    for which in ("request", "response"):
        if which in bodies:
            out.line()
            if bodies[which] is None:
                out.line(f"{which} body: not stored ({bodies[f'{which}_unavailable']})", "dim")
            else:
                out.block(f"{which} body", _pretty(bodies[which]))
    return 0


# --- gateways and feedback -------------------------------------------------------------------


def _gateway_row(g: GatewaySettings) -> list[str]:
    rate = (
        f"{g.rate_limiting_limit}/{g.rate_limiting_interval}s {g.rate_limiting_technique}"
        if g.rate_limiting_limit
        else "off"
    )
    return [
        g.id,
        f"{g.cache_ttl}s" if g.cache_ttl else "off",
        "on" if g.collect_logs else "off",
        "on" if g.authentication else "off",
        rate,
        str(g.retry_max_attempts or 1),
        _local_time(g.created_at),
    ]


def cmd_gateways(args: argparse.Namespace, s: Settings, out: Output, http: httpx.Client) -> int:
    mgmt = s.management(http)
    if args.gateways_command == "get":
        gateway = mgmt.get_gateway(args.id)
        if out.json_mode:
            out.json(gateway.to_dict())
        else:
            out.fields(
                [
                    (k, json.dumps(v) if not isinstance(v, str) else v)
                    for k, v in gateway.to_dict().items()
                ]
            )
        return 0
    gateways = list(mgmt.list_gateways(search=args.search))
    if out.json_mode:
        out.json([g.to_dict() for g in gateways])
        return 0
    out.table(
        ["id", "cache", "logs", "auth", "rate limit", "attempts", "created"],
        [_gateway_row(g) for g in gateways],
    )
    return 0


_FEEDBACK = {"+1": 1, "1": 1, "up": 1, "-1": -1, "down": -1}


def cmd_feedback(args: argparse.Namespace, s: Settings, out: Output, http: httpx.Client) -> int:
    value = _FEEDBACK.get(args.value.strip().lower())
    if value is None:
        raise ValueError(f"feedback {args.value!r} must be +1 or -1 (or up / down)")
    mgmt = s.management(http)
    mgmt.feedback(args.log_id, value)  # type: ignore[arg-type]
    if out.json_mode:
        out.json({"log_id": args.log_id, "feedback": value, "gateway_id": mgmt.gateway_id})
    else:
        out.line(f"feedback {value:+d} recorded on log {args.log_id}", "ok")
    return 0
