"""The adapter kit: what every framework adapter needs to speak OpenAI-schema chat through the
gateway, once, with no framework type in it.

An adapter converts its framework's messages into OpenAI Chat Completions dicts, builds a
:class:`ChatCall`, sends it with ``client.chat(call)`` / ``client.stream_chat(call)`` (the
client picks the unified endpoint or, with ``fallback_models``, the universal endpoint), and
converts the :class:`ChatReply` or the stream's :class:`ChatDelta` objects back. Everything in
between lives here:

- :class:`ChatCall`: a validated request (body, gateway options, server-side fallbacks) that
  knows its universal steps and which model answered (from ``cf-aig-step``);
- :class:`ChatReply` and :class:`Usage`: the answer, the qualified model that answered, usage
  with cached and reasoning tokens;
- :class:`StreamAccumulator`: folds streamed chunks (content, tool-call deltas merged by index,
  finish reason, usage on the final chunk); :class:`ChatStream` / :class:`AsyncChatStream`
  iterate a stream as :class:`ChatDelta` objects;
- tool and structured-output helpers (:func:`function_tool`, :func:`tool_choice_param`,
  :func:`json_schema_response_format`), :func:`looks_like_credential`, and
  :func:`options_from_headers` (raw ``cf-aig-*`` headers a framework passed through, read
  back into validated :class:`~cf_ai_gateway.GatewayOptions`).

>>> call = ChatCall("openai/gpt-4o-mini", {"messages": [{"role": "user", "content": "Hi"}]},
...                 fallback_models=("workers-ai/@cf/meta/llama-3.1-8b-instruct",))
>>> [s.provider for s in call.universal_steps(api_key=None)]
['openai', 'workers-ai']
>>> call.answered_model(GatewayResponseInfo(step=1))
'workers-ai/@cf/meta/llama-3.1-8b-instruct'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from . import wire
from ._credentials import looks_like_credential
from ._deadline import check_deadline_seconds, check_timeout
from ._streams import destreamed_chunk
from .errors import InvalidResponseError
from .options import GatewayOptions, InvalidOptionError
from .providers import DYNAMIC_PREFIX, check_step_model, get_provider, split_model
from .response_info import GatewayResponseInfo
from .universal import UniversalStep

__all__ = [
    "AsyncChatStream",
    "ChatCall",
    "ChatDelta",
    "ChatReply",
    "ChatStream",
    "StreamAccumulator",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "check_deadline_seconds",
    "check_fallback_model",
    "check_timeout",
    "function_tool",
    "json_schema_response_format",
    "looks_like_credential",
    "options_from_headers",
    "qualified_model_name",
    "reasoning_of",
    "routed_model_name",
    "text_of",
    "tool_choice_param",
]

# --- credentials never travel in a body -----------------------------------------------------
# ``looks_like_credential`` (re-exported here for the adapters) refuses credential-shaped
# parameter and body key names before they can reach a request body, a log or a repr.


# --- timeouts and deadlines -------------------------------------------------------------------
# ``check_timeout`` and ``check_deadline_seconds`` (re-exported here for the adapters): the
# rules every client and model applies to ``timeout`` (seconds, an ``httpx.Timeout`` or its
# ``as_dict()`` form) and ``deadline`` (seconds), checked before any request.


# --- gateway options that arrived as raw headers -------------------------------------------

_OPTION_OF_HEADER: dict[str, tuple[str, str]] = {
    # header -> (GatewayOptions field, how the gateway reads the value)
    wire.H_CACHE_TTL: ("cache_ttl", "int"),
    wire.H_CACHE_TTL_LEGACY: ("cache_ttl", "int"),
    wire.H_SKIP_CACHE: ("skip_cache", "bool"),
    wire.H_SKIP_CACHE_LEGACY: ("skip_cache", "bool"),
    wire.H_CACHE_KEY: ("cache_key", "str"),
    wire.H_COLLECT_LOG: ("collect_log", "bool"),
    wire.H_COLLECT_LOG_PAYLOAD: ("collect_log_payload", "bool"),
    wire.H_METADATA: ("metadata", "json"),
    wire.H_EVENT_ID: ("event_id", "str"),
    wire.H_REQUEST_TIMEOUT: ("request_timeout_ms", "int"),
    wire.H_MAX_ATTEMPTS: ("max_attempts", "int"),
    wire.H_RETRY_DELAY: ("retry_delay_ms", "int"),
    wire.H_BACKOFF: ("backoff", "str"),
    wire.H_CUSTOM_COST: ("custom_cost", "json"),
    wire.H_BYOK_ALIAS: ("byok_alias", "str"),
    wire.H_ZDR: ("zdr", "bool"),
    wire.H_NO_WHOLESALE: ("no_wholesale", "bool"),
    wire.H_ALLOWED_MODELS: ("allowed_models", "list"),
    wire.H_ALLOWED_PROVIDERS: ("allowed_providers", "list"),
    wire.H_SESSION_ID: ("session_id", "str"),
    wire.H_TURN_ID: ("turn_id", "str"),
    wire.H_NO_SESSION_AFFINITY: ("no_session_affinity", "bool"),
}
"""Every ``GatewayOptions`` field's header (the inverse of ``GatewayOptions.to_headers``; a
test fails when a field has none here)."""
_NOT_OPTION_HEADERS = frozenset({wire.H_AUTHORIZATION, wire.H_GATEWAY_ID})
"""``cf-aig-*`` request headers that are not options: returned with the other headers."""


def _header_value(header: str, field_name: str, kind: str, value: object) -> Any:
    if not isinstance(value, str):
        raise InvalidOptionError(field_name, value, f"header {header!r} must be a string")
    text = value.strip()
    if kind == "int":
        if not re.fullmatch(r"-?[0-9]+", text):
            raise InvalidOptionError(field_name, value, f"header {header!r} must be an integer")
        return int(text)
    if kind == "bool":
        flag = {"true": True, "false": False}.get(text.lower())
        if flag is None:
            raise InvalidOptionError(field_name, value, f"header {header!r} must be true or false")
        return flag
    if kind == "json":
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise InvalidOptionError(field_name, value, f"header {header!r} must be a JSON object")
        return parsed
    if kind == "list":
        return [entry.strip() for entry in text.split(wire.LIST_SEPARATOR)]
    return text


def options_from_headers(
    headers: Mapping[str, str] | None,
) -> tuple[GatewayOptions | None, dict[str, str]]:
    """Read the gateway options out of raw request headers a framework passed through (an
    OpenAI-style ``extra_headers`` / ``default_headers``), so they are validated like typed
    :class:`~cf_ai_gateway.GatewayOptions` instead of being sent unchecked.

    Returns the options (``None`` when there were none) and the remaining headers. Names are
    matched case-insensitively; the deprecated ``cf-cache-ttl`` / ``cf-skip-cache`` are read
    as ``cache_ttl`` / ``skip_cache``. Values are read as the gateway reads them (``true`` /
    ``false``, integers, JSON objects for ``cf-aig-metadata`` and ``cf-aig-custom-cost``,
    comma-separated lists for ``cf-aig-allowed-models`` / ``-providers``). A
    value that does not parse or breaks a gateway rule, two spellings of one option with
    different values, or an unknown ``cf-aig-*`` request header (a typo would otherwise be
    silently ignored by the gateway) raises :class:`~cf_ai_gateway.InvalidOptionError`.
    ``cf-aig-authorization`` and ``cf-aig-gateway-id`` are not options: they stay in the
    remaining headers, for the caller to route.

    >>> opts, rest = options_from_headers({"cf-aig-cache-ttl": "3600", "x-trace": "t-1",
    ...                                   "cf-aig-metadata": '{"user": "u-1"}'})
    >>> opts
    GatewayOptions(cache_ttl=3600, metadata={'user': 'u-1'})
    >>> rest
    {'x-trace': 't-1'}
    """
    values: dict[str, Any] = {}
    seen: dict[str, str] = {}
    rest: dict[str, str] = {}
    for name, value in (headers or {}).items():
        lower = str(name).strip().lower()
        entry = _OPTION_OF_HEADER.get(lower)
        if entry is None:
            if lower.startswith(wire.HEADER_PREFIX) and lower not in _NOT_OPTION_HEADERS:
                known = sorted(_OPTION_OF_HEADER)
                raise InvalidOptionError(
                    "headers", name, f"is not a gateway request header; known: {known}"
                )
            rest[name] = value
            continue
        field_name, kind = entry
        parsed = _header_value(lower, field_name, kind, value)
        if field_name in values and values[field_name] != parsed:
            raise InvalidOptionError(
                field_name,
                value,
                f"header {lower!r} contradicts {seen[field_name]!r}; send one of them",
            )
        values[field_name] = parsed
        seen[field_name] = lower
    return (GatewayOptions(**values) if values else None), rest


# --- usage ----------------------------------------------------------------------------------


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return int(value)


@dataclass(frozen=True)
class Usage:
    """Token usage of one answer, normalised from an OpenAI ``usage`` object.

    ``cached_input_tokens`` (``prompt_tokens_details.cached_tokens``), ``reasoning_tokens``
    (``completion_tokens_details.reasoning_tokens``) and the audio counts are ``None`` when the
    upstream did not report them (not ``0``: unknown is not zero).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    input_audio_tokens: int | None = None
    output_audio_tokens: int | None = None

    @classmethod
    def from_openai(cls, usage: Any) -> Usage | None:
        """Read an OpenAI ``usage`` mapping; ``None`` when there is none. Values that are not
        numbers count as absent, so a malformed usage never raises."""
        if not isinstance(usage, Mapping):
            return None
        input_tokens = _count(usage.get("prompt_tokens")) or 0
        output_tokens = _count(usage.get("completion_tokens")) or 0
        total = _count(usage.get("total_tokens"))
        prompt = usage.get("prompt_tokens_details")
        prompt = prompt if isinstance(prompt, Mapping) else {}
        completion = usage.get("completion_tokens_details")
        completion = completion if isinstance(completion, Mapping) else {}
        return cls(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            total_tokens=total if total is not None else input_tokens + output_tokens,
            cached_input_tokens=_count(prompt.get("cached_tokens")),
            reasoning_tokens=_count(completion.get("reasoning_tokens")),
            input_audio_tokens=_count(prompt.get("audio_tokens")),
            output_audio_tokens=_count(completion.get("audio_tokens")),
        )

    def to_openai(self) -> dict[str, Any]:
        """Back to an OpenAI ``usage`` dict (details only where known)."""
        out: dict[str, Any] = {
            "prompt_tokens": self.input_tokens,
            "completion_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
        }
        prompt = {
            k: v
            for k, v in (
                ("cached_tokens", self.cached_input_tokens),
                ("audio_tokens", self.input_audio_tokens),
            )
            if v is not None
        }
        completion = {
            k: v
            for k, v in (
                ("reasoning_tokens", self.reasoning_tokens),
                ("audio_tokens", self.output_audio_tokens),
            )
            if v is not None
        }
        if prompt:
            out["prompt_tokens_details"] = prompt
        if completion:
            out["completion_tokens_details"] = completion
        return out


# --- models: fallbacks and which one answered ----------------------------------------------


def check_fallback_model(model: str) -> None:
    """A ``fallback_models`` entry (and the primary model of a call that has fallbacks) must be
    a chat step of the universal endpoint; raises ``ValueError`` naming the entry."""
    try:
        check_step_model(model)
    except ValueError as exc:
        raise ValueError(
            f"fallback_models entry {model!r}: {exc} (models that cannot be a universal step "
            "need client-side fallbacks, such as your framework's own fallback wrapper)"
        ) from exc


def _known_provider(name: str) -> bool:
    try:
        get_provider(name)
    except ValueError:
        return False
    return True


def qualified_model_name(
    requested: str, response_model: str | None, info: GatewayResponseInfo | None = None
) -> str:
    """The answering model as ``"{provider}/{model}"``, so it can be fed back as a model.

    The Auto Router names what it chose in ``cf-aig-routed-model`` and dynamic routes in
    ``cf-aig-provider``/``cf-aig-model``: those win. Otherwise the upstream's own ``model``
    field is prefixed with the requested provider. A model name without a known provider
    prefix (a REST API catalogue name) is returned as given.

    >>> qualified_model_name("openai/gpt-4o-mini", "gpt-4o-mini-2024-07-18")
    'openai/gpt-4o-mini-2024-07-18'
    >>> qualified_model_name("cloudflare/auto", "claude-sonnet-5",
    ...                      GatewayResponseInfo(routed_model="anthropic/claude-sonnet-5"))
    'anthropic/claude-sonnet-5'
    """
    if info is not None and info.routed_model:
        return routed_model_name(info.routed_model)
    if requested == wire.AUTO_MODEL:
        return response_model or requested  # no routing header: the upstream's word only
    provider, _, rest = requested.partition("/")
    if info is not None and info.model:
        prov = info.provider or (provider if provider != DYNAMIC_PREFIX else None)
        if prov and not info.model.startswith(f"{prov}/"):
            return f"{prov}/{info.model}"
        return info.model
    name = response_model or rest or requested
    if provider == DYNAMIC_PREFIX:
        if info is not None and info.provider and not name.startswith(f"{info.provider}/"):
            return f"{info.provider}/{name}"
        return name if response_model else requested
    if not rest or not _known_provider(provider):
        return response_model or requested
    if name.startswith(f"{provider}/"):
        return name
    return f"{provider}/{name}"


_WORKERS_AI_MODEL = ("@cf/", "@hf/")


def routed_model_name(routed: str) -> str:
    """A ``cf-aig-routed-model`` value as a model name to send again: ``provider/model`` as
    sent, a Workers AI catalogue name (``@cf/...``) under ``workers-ai/``."""
    return f"workers-ai/{routed}" if routed.startswith(_WORKERS_AI_MODEL) else routed


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class ChatCall:
    """One validated chat request, independent of any framework.

    - ``model``: ``"{provider}/{model}"`` or ``"dynamic/{route}"`` (the body's ``model``);
    - ``body``: the rest of the OpenAI Chat Completions body (``messages``, ``temperature``,
      ``tools``, ...); ``model`` and ``stream`` are set by the client;
    - ``options``: the gateway options of this call (already merged over defaults);
    - ``fallback_models``: models the gateway tries next, server-side, through the universal
      endpoint (the answering one is :meth:`answered_model`);
    - ``include_usage``: ask for usage on streams (``stream_options.include_usage``).

    A top-level body key that looks like a credential (``api_key``, ``openai_api_key``, ...)
    is refused: keys travel in headers only.
    """

    model: str
    body: Mapping[str, Any]
    options: GatewayOptions | None = None
    fallback_models: tuple[str, ...] = ()
    extra_headers: Mapping[str, str] | None = None
    include_usage: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(
                f"model={self.model!r}: expected '{{provider}}/{{model}}' or 'dynamic/{{route}}'"
            )
        if not isinstance(self.body, Mapping):
            raise TypeError(f"body must be a mapping, not {type(self.body).__name__}")
        messages = self.body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ValueError("a chat call needs a non-empty list of messages")
        for key in self.body:
            if isinstance(key, str) and looks_like_credential(key):
                raise ValueError(
                    f"body key {key!r} looks like a credential and would be sent to the "
                    "provider and stored in the gateway's logs; pass the provider key as "
                    "api_key (it travels in the credential header only)"
                )
        fallbacks = tuple(self.fallback_models or ())
        object.__setattr__(self, "fallback_models", fallbacks)
        if fallbacks:
            for model in (self.model, *fallbacks):
                check_fallback_model(model)

    @property
    def models(self) -> tuple[str, ...]:
        """The primary model followed by the fallbacks, in the order the gateway tries them."""
        return (self.model, *self.fallback_models)

    def request_body(self, *, stream: bool) -> dict[str, Any]:
        """The Chat Completions body for the unified endpoint (model included)."""
        body = {k: v for k, v in self.body.items() if k not in ("model", "stream")}
        body = {"model": self.model, **body}
        if stream:
            if self.include_usage and "stream_options" not in body:
                body["stream_options"] = {"include_usage": True}
        else:
            body.pop("stream_options", None)
        return body

    def universal_steps(self, api_key: str | None) -> list[UniversalStep]:
        """One chat step per model. The provider key goes only to steps of the primary
        model's provider; the other steps carry no credential (BYOK / Unified Billing)."""
        primary = get_provider(split_model(self.model)[0]).slug
        body = self.request_body(stream=False)
        del body["model"]
        steps = []
        for model in self.models:
            provider = get_provider(split_model(model)[0]).slug
            steps.append(
                UniversalStep.chat(model, body, api_key=api_key if provider == primary else None)
            )
        return steps

    def answered_model(self, info: GatewayResponseInfo) -> str:
        """The model that answered: the one the Auto Router routed to (``cf-aig-routed-model``,
        for ``cloudflare/auto``), the fallback step named by ``cf-aig-step``, else the primary
        model.

        >>> ChatCall(wire.AUTO_MODEL, {"messages": [{"role": "user", "content": "Hi"}]}
        ...          ).answered_model(GatewayResponseInfo(routed_model="openai/gpt-5-mini"))
        'openai/gpt-5-mini'
        """
        if info.routed_model:
            return routed_model_name(info.routed_model)
        if not self.fallback_models:
            return self.model
        step = info.step if info.step is not None else 0
        return self.models[step] if 0 <= step < len(self.models) else self.model


# --- answers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    """One complete tool call: ``arguments`` is the JSON text exactly as the model sent it."""

    id: str | None
    name: str
    arguments: str

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict (``{}`` for empty arguments); ``ValueError`` naming the
        tool when they are not a JSON object."""
        text = self.arguments.strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ValueError(
                f"tool call {self.name!r} has arguments that are not JSON: {exc}"
            ) from exc
        if not isinstance(value, dict):
            raise ValueError(
                f"tool call {self.name!r} has arguments that are not a JSON object: "
                f"{type(value).__name__}"
            )
        return value

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    @classmethod
    def from_openai(cls, value: Any) -> ToolCall | None:
        """A tool call from an OpenAI ``tool_calls`` entry in any shape a framework keeps it:
        a dict, or an object with ``id`` and ``function.name``/``function.arguments``
        attributes (``openai`` SDK objects, pydantic models). Arguments that are not a
        string are JSON-encoded; ``None`` when ``value`` is not a function tool call.

        >>> ToolCall.from_openai({"id": "c1", "function": {"name": "f", "arguments": {"x": 1}}})
        ToolCall(id='c1', name='f', arguments='{"x": 1}')
        """
        if isinstance(value, Mapping):
            kind, call_id, function = value.get("type"), value.get("id"), value.get("function")
        else:
            kind = getattr(value, "type", None)
            call_id = getattr(value, "id", None)
            function = getattr(value, "function", None)
        if kind not in (None, "function") or function is None:
            return None
        if isinstance(function, Mapping):
            name, arguments = function.get("name"), function.get("arguments")
        else:
            name = getattr(function, "name", None)
            arguments = getattr(function, "arguments", None)
        if not isinstance(arguments, str):
            arguments = "" if arguments is None else json.dumps(arguments, ensure_ascii=False)
        return cls(id=_str_or_none(call_id), name=str(name or ""), arguments=arguments)


def _tool_calls_of(message: Mapping[str, Any]) -> tuple[ToolCall, ...]:
    calls = []
    for raw in message.get("tool_calls") or []:
        if not isinstance(raw, Mapping):
            continue
        call = ToolCall.from_openai({**raw, "type": None, "function": raw.get("function") or {}})
        if call is not None:
            calls.append(call)
    return tuple(calls)


def reasoning_of(message: Mapping[str, Any]) -> str | None:
    """The reasoning text of a message or delta: ``reasoning_content`` (DeepSeek, OpenAI
    compatible servers) or ``reasoning`` (Workers AI, OpenRouter), whichever is there."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def text_of(content: Any) -> str:
    """The text of a message ``content``: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (
            p.get("text") if isinstance(p, Mapping) and p.get("type") == "text" else p
            for p in content
        )
        return "".join(p for p in parts if isinstance(p, str))
    return ""


@dataclass(frozen=True)
class ChatReply:
    """A chat completion with what the gateway said about it.

    ``data`` is the OpenAI ``chat.completion`` as received; ``model`` the qualified model that
    answered (after fallbacks and dynamic routes); ``usage`` normalised (``None`` when the
    upstream sent none).
    """

    data: Mapping[str, Any]
    info: GatewayResponseInfo
    model: str
    usage: Usage | None

    @classmethod
    def from_response(cls, call: ChatCall, data: Any, info: GatewayResponseInfo) -> ChatReply:
        """Check that ``data`` is a chat completion and name the model that answered."""
        if not isinstance(data, Mapping) or not isinstance(data.get("choices"), list):
            raise InvalidResponseError(
                "the gateway answered without a 'choices' list (not a chat completion)",
                status_code=info.status_code,
                info=info,
            )
        model = qualified_model_name(
            call.answered_model(info), _str_or_none(data.get("model")), info
        )
        return cls(data, info, model, Usage.from_openai(data.get("usage")))

    @property
    def choices(self) -> list[Mapping[str, Any]]:
        return [c if isinstance(c, Mapping) else {} for c in self.data.get("choices") or []]

    @property
    def message(self) -> Mapping[str, Any]:
        """The first choice's assistant message (``{}`` when there is no choice)."""
        choices = self.choices
        message = choices[0].get("message") if choices else None
        return message if isinstance(message, Mapping) else {}

    @property
    def content(self) -> str:
        return text_of(self.message.get("content"))

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return _tool_calls_of(self.message)

    @property
    def finish_reason(self) -> str | None:
        choices = self.choices
        return _str_or_none(choices[0].get("finish_reason")) if choices else None

    @property
    def id(self) -> str | None:
        return _str_or_none(self.data.get("id"))


# --- streams --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a streamed tool call: ``index`` says which call it extends."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str | None = None


@dataclass(frozen=True)
class ChatDelta:
    """What one streamed chunk adds (first choice only; streams carry one choice).

    ``usage`` is set on the chunk that carried it; ``first`` marks the first delta of the
    stream (adapters put the gateway info there); ``raw`` is the chunk as received.
    """

    content: str = ""
    reasoning: str | None = None
    tool_calls: tuple[ToolCallDelta, ...] = ()
    finish_reason: str | None = None
    role: str | None = None
    refusal: str | None = None
    logprobs: Any = None
    usage: Usage | None = None
    first: bool = False
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def has_choice(self) -> bool:
        """Whether the chunk had a choice (a usage-only chunk has none)."""
        return bool(self.raw.get("choices"))

    @property
    def message_delta(self) -> Mapping[str, Any]:
        """The first choice's ``delta`` as received (``{}`` for a usage-only chunk), for the
        fields this class does not lift (``audio``, ``function_call``, vendor extensions)."""
        choices = self.raw.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else None
        delta = choice.get("delta") if isinstance(choice, Mapping) else None
        return delta if isinstance(delta, Mapping) else {}


@dataclass
class _PartialToolCall:
    id: str | None = None
    name: list[str] = field(default_factory=list)
    arguments: list[str] = field(default_factory=list)

    def to_call(self) -> ToolCall:
        return ToolCall(self.id, "".join(self.name), "".join(self.arguments))


class StreamAccumulator:
    """Folds streamed ``chat.completion.chunk`` dicts into :class:`ChatDelta` objects and the
    whole answer: content, reasoning, tool calls merged by index, finish reason, the latest
    usage (some upstreams repeat cumulative usage) and the model that answered.

    Text is kept as pieces and joined when read, so folding a stream costs the same per chunk
    however long the answer grows (appending to one string copied it on every chunk).
    """

    def __init__(self, call: ChatCall, info: GatewayResponseInfo) -> None:
        self.call = call
        self.info = info
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.response_model: str | None = None
        self.response_id: str | None = None
        self.system_fingerprint: str | None = None
        self._tools: dict[int, _PartialToolCall] = {}
        self._count = 0

    @property
    def model(self) -> str:
        """The qualified model that answered (see :func:`qualified_model_name`)."""
        return qualified_model_name(
            self.call.answered_model(self.info), self.response_model, self.info
        )

    @property
    def content(self) -> str:
        """The answer's text so far."""
        return _joined(self._content)

    @property
    def reasoning(self) -> str:
        """The reasoning text so far (``""`` when the model streamed none)."""
        return _joined(self._reasoning)

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(call.to_call() for _, call in sorted(self._tools.items()))

    def add(self, chunk: Mapping[str, Any]) -> ChatDelta | None:
        """Fold one chunk; ``None`` for a chunk that adds nothing (no choice, no usage)."""
        if not isinstance(chunk, Mapping):
            raise InvalidResponseError(
                f"a stream event is not a JSON object ({type(chunk).__name__})",
                status_code=self.info.status_code,
                info=self.info,
            )
        usage = Usage.from_openai(chunk.get("usage"))
        if usage is not None:
            self.usage = usage
        if _str_or_none(chunk.get("model")):
            self.response_model = chunk["model"]
        if _str_or_none(chunk.get("id")) and self.response_id is None:
            self.response_id = chunk["id"]
        if _str_or_none(chunk.get("system_fingerprint")):
            self.system_fingerprint = chunk["system_fingerprint"]
        choices = chunk.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else None
        if not isinstance(choice, Mapping):
            if usage is None:
                return None
            return self._delta(ChatDelta(usage=usage, raw=chunk))
        delta = choice.get("delta")
        delta = delta if isinstance(delta, Mapping) else {}
        content = text_of(delta.get("content"))
        reasoning = reasoning_of(delta)
        if content:
            self._content.append(content)
        if reasoning:
            self._reasoning.append(reasoning)
        tool_deltas = []
        for position, raw in enumerate(delta.get("tool_calls") or []):
            if not isinstance(raw, Mapping):
                continue
            function = raw.get("function")
            function = function if isinstance(function, Mapping) else {}
            index = raw.get("index")
            index = index if isinstance(index, int) and not isinstance(index, bool) else position
            arguments = function.get("arguments")
            if arguments is not None and not isinstance(arguments, str):
                arguments = json.dumps(arguments, ensure_ascii=False)
            piece = ToolCallDelta(
                index=index,
                id=_str_or_none(raw.get("id")),
                name=_str_or_none(function.get("name")),
                arguments=arguments,
            )
            partial = self._tools.setdefault(index, _PartialToolCall())
            partial.id = partial.id or piece.id
            if piece.name:
                partial.name.append(piece.name)
            if piece.arguments:
                partial.arguments.append(piece.arguments)
            tool_deltas.append(piece)
        finish = _str_or_none(choice.get("finish_reason"))
        if finish:
            self.finish_reason = finish
        return self._delta(
            ChatDelta(
                content=content,
                reasoning=reasoning,
                tool_calls=tuple(tool_deltas),
                finish_reason=finish,
                role=_str_or_none(delta.get("role")),
                refusal=_str_or_none(delta.get("refusal")),
                logprobs=choice.get("logprobs") or None,
                usage=usage,
                raw=chunk,
            )
        )

    def _delta(self, delta: ChatDelta) -> ChatDelta:
        if self._count == 0:
            delta = replace(delta, first=True)
        self._count += 1
        return delta

    def message(self) -> dict[str, Any]:
        """The accumulated assistant message in OpenAI form."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self._tools:
            message["tool_calls"] = [call.to_openai() for call in self.tool_calls]
        if self.reasoning:
            message["reasoning_content"] = self.reasoning
        return message

    def reply(self) -> ChatReply:
        """The whole streamed answer as a :class:`ChatReply` (a ``chat.completion`` dict)."""
        data: dict[str, Any] = {
            "id": self.response_id,
            "object": "chat.completion",
            "model": self.response_model,
            "choices": [
                {"index": 0, "message": self.message(), "finish_reason": self.finish_reason}
            ],
        }
        if self.usage is not None:
            data["usage"] = self.usage.to_openai()
        return ChatReply(data, self.info, self.model, self.usage)


def _joined(pieces: list[str]) -> str:
    """The pieces as one string, kept as the only piece (read again, it is not joined again)."""
    if len(pieces) > 1:
        pieces[:] = ["".join(pieces)]
    return pieces[0] if pieces else ""


def _folded(accumulator: StreamAccumulator, chunk: Mapping[str, Any]) -> ChatDelta | None:
    """``accumulator.add(chunk)``, where a chunk the folding cannot read is the server's
    fault: ``InvalidResponseError``, never a bare exception."""
    try:
        return accumulator.add(chunk)
    except InvalidResponseError:
        raise
    except Exception as exc:
        raise InvalidResponseError(
            f"a stream chunk could not be read ({type(exc).__name__})",
            status_code=accumulator.info.status_code,
            info=accumulator.info,
        ) from exc


class ChatStream:
    """A chat stream as :class:`ChatDelta` objects; ``info`` is known before the first one.

    Iterate it (``for delta in stream``); :attr:`accumulator` holds the answer so far and
    :meth:`reply` the whole answer once the stream is done. Close it early with ``close()`` or
    a ``with`` block. A call with ``fallback_models`` is answered in one piece by the universal
    endpoint, so its stream is one delta.
    """

    def __init__(
        self,
        call: ChatCall,
        info: GatewayResponseInfo,
        chunks: Iterator[Mapping[str, Any]],
        close: Callable[[], None] = lambda: None,
    ) -> None:
        self.info = info
        self.accumulator = StreamAccumulator(call, info)
        self._chunks = chunks
        self._close = close

    def __iter__(self) -> Iterator[ChatDelta]:
        try:
            for chunk in self._chunks:
                delta = _folded(self.accumulator, chunk)
                if delta is not None:
                    yield delta
        finally:
            self.close()

    def reply(self) -> ChatReply:
        return self.accumulator.reply()

    def close(self) -> None:
        self._close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncChatStream:
    """The async twin of :class:`ChatStream` (``async for`` / ``async with``)."""

    def __init__(
        self,
        call: ChatCall,
        info: GatewayResponseInfo,
        chunks: AsyncIterator[Mapping[str, Any]],
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.info = info
        self.accumulator = StreamAccumulator(call, info)
        self._chunks = chunks
        self._close = close

    async def __aiter__(self) -> AsyncIterator[ChatDelta]:
        try:
            async for chunk in self._chunks:
                delta = _folded(self.accumulator, chunk)
                if delta is not None:
                    yield delta
        finally:
            await self.aclose()

    def reply(self) -> ChatReply:
        return self.accumulator.reply()

    async def aclose(self) -> None:
        if self._close is not None:
            await self._close()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def _one(chunk: Mapping[str, Any]) -> AsyncIterator[Mapping[str, Any]]:
    yield chunk


def stream_of_reply(call: ChatCall, reply: ChatReply) -> ChatStream:
    """A whole answer as a one-delta :class:`ChatStream` (fallback streams)."""
    return ChatStream(call, reply.info, iter([destreamed_chunk(reply.data)]))


def async_stream_of_reply(call: ChatCall, reply: ChatReply) -> AsyncChatStream:
    """A whole answer as a one-delta :class:`AsyncChatStream` (fallback streams)."""
    return AsyncChatStream(call, reply.info, _one(destreamed_chunk(reply.data)))


# --- tools and structured output ------------------------------------------------------------


def function_tool(
    name: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    description: str | None = None,
    strict: bool | None = None,
) -> dict[str, Any]:
    """An OpenAI function tool from a name and a JSON schema of its parameters."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise ValueError(
            f"tool name {name!r} must be 1-64 letters, digits, '_' or '-' (OpenAI's rule)"
        )
    function: dict[str, Any] = {
        "name": name,
        "parameters": dict(parameters or {"type": "object", "properties": {}}),
    }
    if description:
        function["description"] = description
    if strict is not None:
        function["strict"] = strict
    return {"type": "function", "function": function}


def _tool_names(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    names = []
    for tool in tools:
        function = tool.get("function") if tool.get("type", "function") == "function" else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            names.append(function["name"])
    return names


def tool_choice_param(
    choice: str | bool | Mapping[str, Any] | None, tools: Sequence[Mapping[str, Any]]
) -> str | dict[str, Any] | None:
    """A ``tool_choice`` in OpenAI form from the vocabularies frameworks use.

    ``"auto"``, ``"none"``, ``"required"`` and OpenAI dicts pass through; ``"any"`` (and
    ``True`` with several tools) means some tool: ``"required"``; a tool name (or ``True`` with
    one tool) forces that tool; ``None``/``False`` leave it unset. A name that is not one of
    ``tools`` raises ``ValueError``.

    >>> tool_choice_param("any", [function_tool("lookup")])
    'required'
    >>> tool_choice_param(True, [function_tool("lookup")])
    {'type': 'function', 'function': {'name': 'lookup'}}
    """
    names = _tool_names(tools)
    if choice is None or choice is False:
        return None
    if choice is True:
        if len(names) == 1:
            return {"type": "function", "function": {"name": names[0]}}
        return "required"
    if isinstance(choice, str):
        if choice == "any":
            return "required"
        if choice in ("auto", "none", "required"):
            return choice
        if names and choice not in names:
            raise ValueError(f"tool_choice={choice!r} is not one of the bound tools {names}")
        return {"type": "function", "function": {"name": choice}}
    if isinstance(choice, Mapping):
        return dict(choice)
    raise ValueError(f"unrecognised tool_choice {choice!r}")


def json_schema_response_format(
    schema: Mapping[str, Any],
    *,
    name: str,
    description: str | None = None,
    strict: bool | None = None,
) -> dict[str, Any]:
    """The ``response_format`` of OpenAI structured outputs for a JSON schema.

    >>> json_schema_response_format({"type": "object"}, name="Person")["json_schema"]["name"]
    'Person'
    """
    if not isinstance(schema, Mapping):
        raise TypeError(f"schema must be a JSON schema mapping, not {type(schema).__name__}")
    json_schema: dict[str, Any] = {"name": name, "schema": dict(schema)}
    if description:
        json_schema["description"] = description
    if strict is not None:
        json_schema["strict"] = strict
    return {"type": "json_schema", "json_schema": json_schema}
