"""``ChatCloudflareAIGateway``: a LangChain chat model that talks to Cloudflare AI Gateway
through the ``cf_ai_gateway`` core client (no OpenAI SDK).

>>> from cf_ai_gateway_langchain import ChatCloudflareAIGateway
>>> llm = ChatCloudflareAIGateway(model="openai/gpt-4o-mini")     # doctest: +SKIP
>>> llm.invoke("Hello").response_metadata["cf_aig"]["cache_status"]  # doctest: +SKIP
'MISS'
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from cf_ai_gateway import (
    ChatCall,
    ChatDelta,
    ChatReply,
    GatewayError,
    GatewayOptions,
    ModelCapabilities,
    check_chat_model,
    merge_options,
    model_capabilities,
    model_for_base_url,
    options_from_value,
    parse_base_url,
)
from cf_ai_gateway import wire as _wire
from cf_ai_gateway.chat import (
    StreamAccumulator,
    check_fallback_model,
    looks_like_credential,
    tool_choice_param,
)
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.chat_models import agenerate_from_stream, generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, ensure_config
from langchain_core.tools import BaseTool
from pydantic import Field, field_validator, model_validator

from . import _compat
from ._config import (
    GatewaySettings,
    Surface,
    accepted_names,
    check_body_keys,
    credential_hint,
)
from ._convert import (
    ai_chunk_from_delta,
    ai_message_from_dict,
    messages_to_dicts,
    usage_metadata,
)
from ._errors import langchain_errors
from ._structured import (
    StructuredMethod,
    format_tools,
    response_format_for,
    structured_output_parser,
    tool_name_of,
    with_raw,
)

__all__ = ["ChatCloudflareAIGateway"]

_CHARS_PER_TOKEN = 4.0

_NOT_CARRIED_OVER = {
    "use_responses_api": "this class speaks Chat Completions; the Responses API is not supported",
    "organization": "send it as default_headers={'OpenAI-Organization': ...} if you need it",
    "openai_organization": "send it as default_headers={'OpenAI-Organization': ...} if you need it",
    "openai_proxy": "pass http_client=httpx.Client(proxy=...) and http_async_client= instead",
    "default_query": "a gateway URL takes no query string; use gateway_options= for gateway "
    "controls",
    "tiktoken_model_name": "token counts are approximate (about 4 characters per token); pass "
    "custom_get_token_ids= for exact counts",
    "include_response_headers": "the gateway's response headers are in response_metadata['cf_aig']",
}
"""``ChatOpenAI`` arguments that mean nothing here; refused by name rather than sent as body
fields."""
_BODY_OWNED = ("model", "messages", "stream")
_SURFACES: tuple[Surface, ...] = ("compat", "provider", "rest")
_URL_SURFACES: dict[str, Surface] = {
    "compat": "compat",
    "provider": "provider",
    "rest": "rest",
    "universal": "compat",
}
_PROFILES_MADE: set[tuple[tuple[str, Any], ...]] = set()
"""Every profile this module made, so one carried over by a rebuild for another model
(``configurable_fields`` passes every field on) is recognised and remade."""


def _profile_of(caps: ModelCapabilities | None) -> dict[str, Any] | None:
    """langchain-core's ``ModelProfile`` keys for what the core knows (unknown values are left
    out, so LangChain's own defaults apply)."""
    if caps is None:
        return None
    pairs = (
        ("max_input_tokens", caps.context_window),
        ("max_output_tokens", caps.max_output_tokens),
        ("tool_calling", caps.tool_calling),
        ("structured_output", caps.structured_output),
        ("image_inputs", caps.image_input),
        ("reasoning_output", caps.reasoning),
    )
    profile = {k: v for k, v in pairs if v is not None}
    _PROFILES_MADE.add(tuple(sorted(profile.items())))
    return profile


def _check_header_names(where: str, headers: Mapping[str, str] | None) -> None:
    for name in headers or {}:
        lower = str(name).lower()
        if lower in _wire.SECRET_HEADERS or looks_like_credential(lower):
            raise ValueError(
                f"{where} must not carry the credential header {name!r}: {credential_hint(lower)}"
            )


def _check_extra_body(where: str, extra_body: Any) -> None:
    if extra_body is None:
        return
    if not isinstance(extra_body, Mapping):
        raise ValueError(f"{where} must be a dict of request body fields")
    check_body_keys(where, dict(extra_body))
    owned = [k for k in _BODY_OWNED if k in extra_body]
    if owned:
        raise ValueError(
            f"{where} must not set {owned}: the model, the messages and streaming are set by "
            "the call (model=, the input, stream())"
        )


_RUN_ID: ContextVar[UUID | None] = ContextVar("cf_aig_langchain_run_id", default=None)
"""The run id of the call being started, for the paths where langchain-core calls
``_stream`` / ``_astream`` without a run manager (``stream()``, ``astream()``, and ``invoke()``
when callbacks want tokens). Set only while the call is being started."""


def _run_id(
    run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None,
) -> UUID | None:
    return run_manager.run_id if run_manager is not None else _RUN_ID.get()


def _config_with_run_id(config: RunnableConfig | None) -> tuple[RunnableConfig, UUID]:
    """``config`` with a run id (yours if you set one): LangChain uses it for the run, and
    we know it before the request is built."""
    config = ensure_config(config)
    run_id = config.get("run_id")
    if run_id is None:
        run_id = config["run_id"] = _compat.new_run_id()
    return config, run_id


class _StreamState:
    """Turns the core's stream deltas into LangChain generation chunks: the gateway info on
    the first chunk, the model that answered on the finishing chunk, usage on the final one
    (``AIMessageChunk`` addition sums usage, and some upstreams repeat cumulative usage).

    A chunk is handed on as soon as it arrives (:meth:`release`), so the caller holds each
    piece of text while the model is still writing the next. Only a finishing chunk (one with
    a ``finish_reason``: after it come at most usage and the end of the stream) is held until
    the next chunk or the end shows whether it is the final one; a stream that ends on
    anything else gets an empty final chunk for the usage (:meth:`last`)."""

    def __init__(self, accumulator: StreamAccumulator) -> None:
        self.accumulator = accumulator
        self.model_named = False
        self.held: ChatGenerationChunk | None = None
        self.released = False

    def release(self, chunk: ChatGenerationChunk) -> Iterator[ChatGenerationChunk]:
        """The chunks to hand on now that ``chunk`` has arrived."""
        if self.held is not None:
            yield self.held
            self.held = None
        if (chunk.generation_info or {}).get("finish_reason"):
            self.held = chunk
        else:
            self.released = True
            yield chunk

    def last(self) -> ChatGenerationChunk | None:
        """The final chunk, at the end of the stream: the held finishing chunk, else an empty
        one (``None`` when the stream had no chunk at all)."""
        if self.held is not None:
            return self.finish(self.held)
        if self.released:
            return self.finish(ChatGenerationChunk(message=AIMessageChunk(content="")))
        return None

    def response_metadata(self) -> dict[str, Any]:
        acc = self.accumulator
        meta: dict[str, Any] = {"model_name": acc.model}
        if _compat.HAS_MODEL_PROVIDER:
            meta["model_provider"] = _compat.MODEL_PROVIDER
        if acc.system_fingerprint:
            meta["system_fingerprint"] = acc.system_fingerprint
        return meta

    def convert(self, delta: ChatDelta) -> ChatGenerationChunk | None:
        info: dict[str, Any] = {}
        if not delta.has_choice:
            if not delta.first:
                return None
            message = AIMessageChunk(content="")  # carries cf_aig (a usage-only stream)
        else:
            message = ai_chunk_from_delta(delta)
            if delta.finish_reason:
                info["finish_reason"] = delta.finish_reason
                if not self.model_named:
                    info.update(self.response_metadata())
                    self.model_named = True
            if delta.logprobs:
                info["logprobs"] = delta.logprobs
        if delta.first:
            info["cf_aig"] = self.accumulator.info.to_dict()
        return ChatGenerationChunk(message=message, generation_info=info or None)

    def finish(self, last: ChatGenerationChunk) -> ChatGenerationChunk:
        """Put the usage on the final chunk, name the model if no chunk did, and mark the final
        chunk (langchain-core 1.x)."""
        usage = usage_metadata(self.accumulator.usage)
        if usage is not None and isinstance(last.message, AIMessageChunk):
            last.message.usage_metadata = usage
        if not self.model_named:
            info = dict(last.generation_info or {})
            info.update(self.response_metadata())
            last = ChatGenerationChunk(message=last.message, generation_info=info)
            self.model_named = True
        if _compat.HAS_CHUNK_POSITION and isinstance(last.message, AIMessageChunk):
            last.message.chunk_position = "last"  # type: ignore[attr-defined,unused-ignore]
        return last


class ChatCloudflareAIGateway(BaseChatModel, GatewaySettings):
    """Chat model for Cloudflare AI Gateway: any provider behind one OpenAI-schema API.

    Drop-in for ``ChatOpenAI``: ``ChatCloudflareAIGateway(model="openai/gpt-4o-mini")`` works in
    every chain, agent (``create_agent``) and LangGraph graph, and a ``ChatOpenAI(...)`` call
    carries over with its own spellings: ``base_url=``/``openai_api_base=`` (a pasted gateway
    URL, parsed; ``model="gpt-4o-mini"`` with ``.../openai`` means ``"openai/gpt-4o-mini"``),
    ``api_key=``/``openai_api_key=``, ``extra_body``, ``default_headers``,
    ``max_completion_tokens``, ``reasoning_effort``, ``logprobs``/``top_logprobs``,
    ``logit_bias``, ``parallel_tool_calls``, ``service_tier``, ``stream_usage``,
    ``max_retries``, ``timeout``/``request_timeout``. An argument, ``model_kwargs`` key,
    ``extra_body`` key or header that looks like a credential is refused, so a key is only
    ever sent in the provider's credential header. The gateway comes from arguments
    (``account_id``, ``gateway_id``, ``cf_aig_token``), a pasted ``gateway_url`` or
    ``base_url``, a ``gateway=Gateway(...)``, or the environment (``CF_AIG_URL`` or
    ``CF_ACCOUNT_ID`` and ``CF_GATEWAY_ID``, ``CF_AIG_TOKEN``).

    - ``model``: ``"{provider}/{model}"`` (``"openai/gpt-4o-mini"``,
      ``"workers-ai/@cf/meta/llama-3.1-8b-instruct"``, ``"custom-acme/my-model"``) or
      ``"dynamic/{route}"``; per call with ``invoke(..., model=...)``.
    - ``surface``: ``"compat"`` (the unified endpoint, default), ``"provider"`` (the
      provider's own OpenAI-compatible path) or ``"rest"`` (Cloudflare's REST API).
    - ``api_key``: the provider key; leave it unset for BYOK / Unified Billing (then no provider
      credential is sent at all).
    - ``gateway_options``: default :class:`cf_ai_gateway.GatewayOptions` (cache, metadata,
      retries, ...); per call ``invoke(..., gateway_options=GatewayOptions(...))`` or
      ``.bind(gateway_options=...)``, merged over the defaults.
    - ``fallback_models``: extra models tried by the gateway, server-side, in one universal
      request; ``response_metadata["cf_aig"]["step"]`` says which one answered.

    Every response carries ``response_metadata["cf_aig"]``: the core
    :class:`~cf_ai_gateway.GatewayResponseInfo` as a plain dict (``cache_status``, ``log_id``,
    ``event_id``, ``step``, ...). The LangChain run id is sent as the gateway event id
    (``run_id_as_event_id=False`` turns that off; an event id you set wins), so
    ``cf_aig["event_id"]`` joins the gateway's log with the LangChain trace. Known models get a
    langchain-core ``profile`` (1.1+) from the core's capability data. Errors are the core's
    typed ``cf_ai_gateway.GatewayError`` subclasses.

    Example::

        from cf_ai_gateway import GatewayOptions
        from cf_ai_gateway_langchain import ChatCloudflareAIGateway

        llm = ChatCloudflareAIGateway(
            model="openai/gpt-4o-mini",
            gateway_options=GatewayOptions(cache_ttl=3600),
        )
        reply = llm.invoke("Hi", gateway_options=GatewayOptions(metadata={"user": "u-1"}))
        reply.response_metadata["cf_aig"]["log_id"]
    """

    model: str = Field(alias="model_name")
    """``"{provider}/{model}"`` or ``"dynamic/{route}"``."""
    surface: Surface = "compat"
    temperature: float | None = None
    max_tokens: int | None = Field(default=None)
    top_p: float | None = None
    stop: list[str] | str | None = Field(default=None, alias="stop_sequences")
    seed: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    n: int | None = None
    streaming: bool = False
    """Stream internally even for ``invoke`` (callbacks get tokens as they arrive)."""
    stream_usage: bool = True
    """Ask for usage on streams (``stream_options.include_usage``); it arrives on the last
    chunk."""
    max_completion_tokens: int | None = None
    """Sent as ``max_completion_tokens`` (OpenAI reasoning models need it instead of
    ``max_tokens``); set one of the two."""
    reasoning_effort: str | None = None
    """``"minimal"``, ``"low"``, ``"medium"``, ``"high"`` for reasoning models."""
    logprobs: bool | None = None
    top_logprobs: int | None = None
    logit_bias: dict[int, int] | None = None
    parallel_tool_calls: bool | None = None
    """Sent only with tools (``bind_tools(..., parallel_tool_calls=)`` wins)."""
    service_tier: str | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra Chat Completions body fields. A key that looks like a credential is refused."""
    extra_body: dict[str, Any] | None = None
    """Fields merged into the top level of every request body last, as the OpenAI SDK does
    (also per call: ``invoke(..., extra_body={...})``). A key that looks like a credential is
    refused."""
    fallback_models: list[str] | None = None
    """Models the gateway falls back to (in order) when the primary fails."""
    run_id_as_event_id: bool = True
    """Send each LangChain run id as ``cf-aig-event-id`` (unless you set an event id), so a
    gateway log joins its LangChain trace; ``response_metadata["cf_aig"]["event_id"]`` carries
    it back. ``False`` sends no event id of ours."""

    @model_validator(mode="before")
    @classmethod
    def _build_extra(cls, values: Any) -> Any:
        """Unknown constructor arguments go to ``model_kwargs`` with a warning (as
        ``ChatOpenAI`` does), except credentials and ``ChatOpenAI`` arguments that mean nothing
        here, which are refused by name."""
        if not isinstance(values, dict):
            return values
        known = accepted_names(cls)
        values = dict(values)
        check_body_keys("model_kwargs", values.get("model_kwargs"))
        if not values.get("use_responses_api", True):
            del values["use_responses_api"]  # False is what this class does anyway
        extra = dict(values.get("model_kwargs") or {})
        for key in list(values):
            if key in known:
                continue
            if isinstance(key, str) and looks_like_credential(key):
                raise ValueError(
                    f"{key!r} looks like a credential but is not a parameter of "
                    f"{cls.__name__} (unknown arguments are sent in the request body, which the "
                    f"provider receives and the gateway logs): {credential_hint(key)}"
                )
            if key in _NOT_CARRIED_OVER:
                raise ValueError(f"{key}= is a ChatOpenAI argument: {_NOT_CARRIED_OVER[key]}")
            if key in extra:
                raise ValueError(f"{key!r} was given both directly and in model_kwargs")
            warnings.warn(
                f"{key!r} is not a ChatCloudflareAIGateway field; it is sent in the "
                "request body (put it in model_kwargs to silence this warning)",
                UserWarning,
                stacklevel=2,
            )
            extra[key] = values.pop(key)
        overlap = set(known) & set(extra)
        if overlap:
            raise ValueError(f"pass {sorted(overlap)} as arguments, not in model_kwargs")
        if extra:
            values["model_kwargs"] = extra
        _check_extra_body("extra_body", values.get("extra_body"))
        if values.get("max_tokens") is not None and values.get("max_completion_tokens") is not None:
            raise ValueError("set max_tokens or max_completion_tokens, not both")
        url_key = next((k for k in ("base_url", "openai_api_base") if values.get(k)), None)
        if url_key and "surface" not in values:
            # a pasted URL that names a path keeps using it (ChatOpenAI sent requests there)
            values["surface"] = _URL_SURFACES[parse_base_url(values[url_key], url_key).surface]
        return values

    @field_validator("surface", mode="before")
    @classmethod
    def _check_surface(cls, value: Any) -> Any:
        if value not in _SURFACES:
            # named here: validation errors do not show their input (it may hold keys)
            raise ValueError(f"surface={value!r} must be one of {', '.join(_SURFACES)}")
        return value

    @model_validator(mode="after")
    def _check_model(self) -> Any:
        check_chat_model(self.model, self.surface)
        if self.fallback_models:
            for model in (self.model, *self.fallback_models):
                check_fallback_model(model)
        if self.surface == "rest" and self.api_key is not None:
            raise ValueError(
                "surface='rest' supports Unified Billing and BYOK only: do not set api_key "
                "(or CF_AIG_PROVIDER_API_KEY); use surface='compat' to send your own key"
            )
        if self.n is not None and self.n < 1:
            raise ValueError("n must be at least 1")
        if self.n is not None and self.n > 1 and self.streaming:
            raise ValueError("n must be 1 when streaming")
        if _compat.HAS_PROFILE:
            current = self.profile
            if current is None or (
                tuple(sorted(current.items())) in _PROFILES_MADE
                and dict(current) != self._resolve_model_profile()
            ):
                self.profile = self._resolve_model_profile()  # type: ignore[assignment,unused-ignore]
        return self

    def _resolve_model_profile(self) -> Any:
        """What the core knows about the model (and every fallback model), as a LangChain
        ``profile``; ``None`` for a model the core does not know (langchain-core 1.1+)."""
        return _profile_of(model_capabilities(self.model, *(self.fallback_models or ())))

    # --- LangChain plumbing -------------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "cloudflare-ai-gateway-chat"

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"cf_aig_token": "CF_AIG_TOKEN", "api_key": "CF_AIG_PROVIDER_API_KEY"}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        # langchain-core's `load()` only revives classes on its own allowlist
        # (`langchain_core.load.mapping`), so a partner class cannot round-trip; `dumpd` gives
        # a "not implemented" stub whose repr masks every secret.
        return False

    @property
    def _default_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "seed": self.seed,
            "frequency_penalty": self.frequency_penalty,
            "presence_penalty": self.presence_penalty,
            "n": self.n,
            "max_completion_tokens": self.max_completion_tokens,
            "reasoning_effort": self.reasoning_effort,
            "logprobs": self.logprobs,
            "top_logprobs": self.top_logprobs,
            "logit_bias": self.logit_bias,
            "service_tier": self.service_tier,
        }
        return {k: v for k, v in params.items() if v is not None} | self.model_kwargs

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "surface": self.surface,
            "account_id": self.account_id,
            "gateway_id": self.gateway_id,
            "fallback_models": self.fallback_models,
            "parallel_tool_calls": self.parallel_tool_calls,
            **self._default_params,
            **(self.extra_body or {}),
        }

    def _stop_list(self, stop: list[str] | None) -> list[str] | None:
        chosen: list[str] | str | None = stop if stop is not None else self.stop
        if isinstance(chosen, str):
            chosen = [chosen]
        return list(chosen) if chosen else None

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = _compat.MODEL_PROVIDER
        model = kwargs.get("model")
        params["ls_model_name"] = model if isinstance(model, str) and model else self.model
        params["ls_model_type"] = "chat"
        temperature = kwargs.get("temperature", self.temperature)
        if isinstance(temperature, (int, float)):
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        if stop_list := self._stop_list(stop):
            params["ls_stop"] = stop_list
        return params

    # --- token counting -----------------------------------------------------------------

    def get_num_tokens(self, text: str) -> int:
        """Approximate token count (about 4 characters per token).

        The gateway fronts many providers with different tokenizers and reports exact counts
        in ``usage_metadata`` after the call. LangChain's default (a GPT-2 tokenizer from
        ``transformers``) would fail without that package, breaking ``trim_messages`` and
        memory helpers. Pass ``custom_get_token_ids=`` for exact counts.
        """
        if self.custom_get_token_ids is not None:
            return super().get_num_tokens(text)
        return math.ceil(len(text) / _CHARS_PER_TOKEN)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Approximate token count of ``messages`` (and ``tools``), as
        ``langchain_core.messages.utils.count_tokens_approximately`` computes it."""
        if self.custom_get_token_ids is not None:
            return super().get_num_tokens_from_messages(messages, tools)
        count = count_tokens_approximately(messages, chars_per_token=_CHARS_PER_TOKEN)
        if tools:
            schema = json.dumps(format_tools(list(tools)), sort_keys=True)
            count += math.ceil(len(schema) / _CHARS_PER_TOKEN)
        return count

    # --- request preparation (shared by every path) -------------------------------------

    def _model_for_call(self, model: Any) -> str:
        chosen = model if isinstance(model, str) and model else self.model
        return model_for_base_url(chosen, self.base_url) if self.base_url else chosen

    def _event_id_options(
        self,
        options: GatewayOptions | None,
        extra_headers: Mapping[str, str] | None,
        run_id: UUID | None,
    ) -> GatewayOptions | None:
        """``options`` with the LangChain run id as the event id, unless turned off or the
        caller set an event id (options at any layer, or a ``cf-aig-event-id`` header)."""
        if not self.run_id_as_event_id or run_id is None:
            return options
        if (options is not None and options.event_id) or self.resolved_gateway.options.event_id:
            return options
        for headers in (self.default_headers, extra_headers):
            if any(str(k).lower() == _wire.H_EVENT_ID for k in headers or {}):
                return options
        return merge_options(options, GatewayOptions(event_id=str(run_id)))

    def _prepare(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        run_id: UUID | None = None,
    ) -> ChatCall:
        kwargs = dict(kwargs)
        model = self._model_for_call(kwargs.pop("model", None))
        call_options = options_from_value(kwargs.pop("gateway_options", None))
        fallbacks = kwargs.pop("fallback_models", None)
        if fallbacks is None:
            fallbacks = self.fallback_models or []
        extra_headers = kwargs.pop("extra_headers", None)
        _check_header_names("extra_headers", extra_headers)
        extra_body = kwargs.pop("extra_body", None)
        _check_extra_body("extra_body", extra_body)
        stream_usage = kwargs.pop("stream_usage", None)
        kwargs.pop("stream", None)
        body: dict[str, Any] = {"messages": messages_to_dicts(messages)}
        body.update(self._default_params)
        body.update(kwargs)
        if (stop_list := self._stop_list(stop)) is not None:
            body["stop"] = stop_list
        if body.get("tools") and self.parallel_tool_calls is not None:
            body.setdefault("parallel_tool_calls", self.parallel_tool_calls)
        body.update(self.extra_body or {})
        body.update(extra_body or {})
        options = merge_options(self.gateway_options, call_options)
        return ChatCall(
            model,
            body,
            options=self._event_id_options(options, extra_headers, run_id),
            fallback_models=tuple(fallbacks),
            extra_headers=extra_headers,
            include_usage=stream_usage if stream_usage is not None else self.stream_usage,
        )

    def _has_fallbacks(self, kwargs: Mapping[str, Any]) -> bool:
        fallbacks = kwargs.get("fallback_models")
        return bool(self.fallback_models if fallbacks is None else fallbacks)

    def _chat_result(self, reply: ChatReply) -> ChatResult:
        usage = usage_metadata(reply.usage)
        cf_aig = reply.info.to_dict()
        data = reply.data
        generations = []
        for choice in reply.choices:
            message = ai_message_from_dict(choice.get("message") or {})
            if usage is not None:
                message.usage_metadata = usage
            generation_info: dict[str, Any] = {
                "finish_reason": choice.get("finish_reason"),
                "model_name": reply.model,
                "cf_aig": cf_aig,
            }
            if _compat.HAS_MODEL_PROVIDER:
                generation_info["model_provider"] = _compat.MODEL_PROVIDER
            if reply.id:
                generation_info["id"] = reply.id
            if data.get("system_fingerprint"):
                generation_info["system_fingerprint"] = data["system_fingerprint"]
            if choice.get("logprobs"):
                generation_info["logprobs"] = choice["logprobs"]
            generations.append(ChatGeneration(message=message, generation_info=generation_info))
        llm_output = {
            "token_usage": data.get("usage") or {},
            "model_name": reply.model,
            "cf_aig": cf_aig,
        }
        return ChatResult(generations=generations, llm_output=llm_output)

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        usage: dict[str, Any] = {}
        model_name = self.model
        for output in llm_outputs:
            if not output:
                continue
            model_name = output.get("model_name", model_name)
            for key, value in (output.get("token_usage") or {}).items():
                if isinstance(value, int):
                    usage[key] = usage.get(key, 0) + value
        return {"token_usage": usage, "model_name": model_name}

    # --- the run id, known before the request (it becomes the gateway event id) ---------

    def invoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        if not self.run_id_as_event_id:
            return super().invoke(input, config, stop=stop, **kwargs)
        config, run_id = _config_with_run_id(config)
        token = _RUN_ID.set(run_id)
        try:
            return super().invoke(input, config, stop=stop, **kwargs)
        finally:
            _RUN_ID.reset(token)

    async def ainvoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        if not self.run_id_as_event_id:
            return await super().ainvoke(input, config, stop=stop, **kwargs)
        config, run_id = _config_with_run_id(config)
        token = _RUN_ID.set(run_id)
        try:
            return await super().ainvoke(input, config, stop=stop, **kwargs)
        finally:
            _RUN_ID.reset(token)

    def stream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        if not self.run_id_as_event_id:
            yield from super().stream(input, config, stop=stop, **kwargs)
            return
        config, run_id = _config_with_run_id(config)
        chunks = super().stream(input, config, stop=stop, **kwargs)
        try:
            # the request is built while the first chunk is awaited: only then is the run
            # id needed (set no longer, so interleaved streams never see each other's)
            token = _RUN_ID.set(run_id)
            try:
                first = next(chunks, None)
            finally:
                _RUN_ID.reset(token)
            if first is None:
                return
            yield first
            yield from chunks
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    async def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        if not self.run_id_as_event_id:
            async for chunk in super().astream(input, config, stop=stop, **kwargs):
                yield chunk
            return
        config, run_id = _config_with_run_id(config)
        chunks = super().astream(input, config, stop=stop, **kwargs)
        try:
            token = _RUN_ID.set(run_id)
            try:
                first = await chunks.__anext__()
            except StopAsyncIteration:
                return
            finally:
                _RUN_ID.reset(token)
            yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    def _generate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # generate() and every path through it: when the call streams, langchain-core calls
        # _stream without the run manager it holds here, so its run id goes by _RUN_ID
        if not self.run_id_as_event_id or run_manager is None:
            return super()._generate_with_cache(messages, stop, run_manager, **kwargs)
        token = _RUN_ID.set(run_manager.run_id)
        try:
            return super()._generate_with_cache(messages, stop, run_manager, **kwargs)
        finally:
            _RUN_ID.reset(token)

    async def _agenerate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if not self.run_id_as_event_id or run_manager is None:
            return await super()._agenerate_with_cache(messages, stop, run_manager, **kwargs)
        token = _RUN_ID.set(run_manager.run_id)
        try:
            return await super()._agenerate_with_cache(messages, stop, run_manager, **kwargs)
        finally:
            _RUN_ID.reset(token)

    # --- sync ---------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if kwargs.get("stream", self.streaming) and not self._has_fallbacks(kwargs):
            # langchain-core 0.3 does not route `streaming=True` to `_stream` by itself.
            return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
        with langchain_errors():
            call = self._prepare(messages, stop, kwargs, _run_id(run_manager))
            return self._chat_result(self._get_sync_client(self.surface).chat(call))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with langchain_errors():
            call = self._prepare(messages, stop, kwargs, _run_id(run_manager))
            stream = self._get_sync_client(self.surface).stream_chat(call)
            state = _StreamState(stream.accumulator)
            with stream:
                try:
                    for delta in stream:
                        converted = state.convert(delta)
                        if converted is not None:
                            for chunk in state.release(converted):
                                yield self._emit(chunk, run_manager)
                except GatewayError:
                    # deliver what arrived before the cut, then the typed error
                    if state.held is not None:
                        yield self._emit(state.held, run_manager)
                    raise
            last = state.last()
            if last is not None:
                yield self._emit(last, run_manager)

    @staticmethod
    def _emit(
        chunk: ChatGenerationChunk, run_manager: CallbackManagerForLLMRun | None
    ) -> ChatGenerationChunk:
        if run_manager:
            run_manager.on_llm_new_token(
                chunk.text, chunk=chunk, logprobs=(chunk.generation_info or {}).get("logprobs")
            )
        return chunk

    # --- async --------------------------------------------------------------------------

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if kwargs.get("stream", self.streaming) and not self._has_fallbacks(kwargs):
            return await agenerate_from_stream(self._astream(messages, stop, run_manager, **kwargs))
        with langchain_errors():
            call = self._prepare(messages, stop, kwargs, _run_id(run_manager))
            return self._chat_result(await self._get_async_client(self.surface).chat(call))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        with langchain_errors():
            call = self._prepare(messages, stop, kwargs, _run_id(run_manager))
            stream = await self._get_async_client(self.surface).stream_chat(call)
            state = _StreamState(stream.accumulator)
            async with stream:
                try:
                    async for delta in stream:
                        converted = state.convert(delta)
                        if converted is not None:
                            for chunk in state.release(converted):
                                yield await self._aemit(chunk, run_manager)
                except GatewayError:
                    if state.held is not None:
                        yield await self._aemit(state.held, run_manager)
                    raise
            last = state.last()
            if last is not None:
                yield await self._aemit(last, run_manager)

    @staticmethod
    async def _aemit(
        chunk: ChatGenerationChunk, run_manager: AsyncCallbackManagerForLLMRun | None
    ) -> ChatGenerationChunk:
        if run_manager:
            await run_manager.on_llm_new_token(
                chunk.text, chunk=chunk, logprobs=(chunk.generation_info or {}).get("logprobs")
            )
        return chunk

    # --- tools and structured output ----------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, functions, pydantic classes, TypedDicts, OpenAI dicts).

        ``tool_choice``: ``"auto"``, ``"none"``, ``"any"``/``"required"`` (some tool), a tool
        name, ``True`` (the only tool) or an OpenAI ``tool_choice`` dict. ``strict`` asks for
        schema-exact arguments where the provider supports it.
        """
        formatted = format_tools(tools, strict=strict)
        choice = tool_choice_param(tool_choice, formatted)
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredMethod = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """Return output matching ``schema`` (a pydantic class, TypedDict or JSON schema).

        ``method``: ``"json_schema"`` (OpenAI structured outputs, ``response_format``; the
        default), ``"function_calling"`` (a forced tool call; for providers without
        ``json_schema`` support) or ``"json_mode"`` (``{"type": "json_object"}``; describe the
        keys in the prompt). ``include_raw=True`` returns ``{"raw", "parsed",
        "parsing_error"}``.
        """
        if kwargs:
            raise ValueError(f"unexpected arguments {sorted(kwargs)}")
        if method not in ("json_schema", "function_calling", "json_mode"):
            raise ValueError(
                f"method={method!r} must be 'json_schema', 'function_calling' or 'json_mode'"
            )
        if schema is None and method != "json_mode":
            raise ValueError(f"schema is required for method={method!r}")
        ls_format = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        llm: Runnable[Any, Any]
        if method == "function_calling":
            assert schema is not None
            name = tool_name_of(schema)
            llm = self.bind_tools(
                [schema],
                tool_choice=name,
                strict=strict,
                parallel_tool_calls=False,
                ls_structured_output_format=ls_format,
            )
        elif method == "json_mode":
            llm = self.bind(
                response_format={"type": "json_object"},
                ls_structured_output_format=ls_format if schema is not None else None,
            )
        else:
            llm = self.bind(
                response_format=response_format_for(schema, strict),
                ls_structured_output_format=ls_format,
            )
        parser = structured_output_parser(schema, method) if schema is not None else None
        if parser is None:
            from langchain_core.output_parsers import JsonOutputParser

            parser = JsonOutputParser()
        if include_raw:
            return with_raw(llm, parser)
        return llm | parser
