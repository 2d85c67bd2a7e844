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
from typing import Any

from cf_ai_gateway import (
    ChatCall,
    ChatDelta,
    ChatReply,
    GatewayError,
    check_chat_model,
    merge_options,
    options_from_value,
)
from cf_ai_gateway.chat import StreamAccumulator, check_fallback_model, tool_choice_param
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.chat_models import agenerate_from_stream, generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import Field, model_validator

from . import _compat
from ._config import GatewaySettings, Surface
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


class _StreamState:
    """Turns the core's stream deltas into LangChain generation chunks: the gateway info on
    the first chunk, the model that answered on the finishing chunk, usage on the final one
    (``AIMessageChunk`` addition sums usage, and some upstreams repeat cumulative usage)."""

    def __init__(self, accumulator: StreamAccumulator) -> None:
        self.accumulator = accumulator
        self.model_named = False

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
    every chain, agent and LangGraph graph. The gateway comes from arguments
    (``account_id``, ``gateway_id``, ``cf_aig_token``), a pasted ``gateway_url``, a
    ``gateway=Gateway(...)``, or the environment (``CF_ACCOUNT_ID``, ``CF_GATEWAY_ID``,
    ``CF_AIG_TOKEN``).

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
    ``event_id``, ``step``, ...). Errors are the core's typed ``cf_ai_gateway.GatewayError``
    subclasses.

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
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra Chat Completions body fields (``reasoning_effort``, ``logprobs``, ...)."""
    fallback_models: list[str] | None = None
    """Models the gateway falls back to (in order) when the primary fails."""

    @model_validator(mode="before")
    @classmethod
    def _build_extra(cls, values: Any) -> Any:
        """Unknown constructor arguments go to ``model_kwargs`` (as ``ChatOpenAI`` does)."""
        if not isinstance(values, dict):
            return values
        known = set()
        for name, info in cls.model_fields.items():
            known.add(name)
            if info.alias:
                known.add(info.alias)
        extra = dict(values.get("model_kwargs") or {})
        for key in list(values):
            if key not in known:
                if key in extra:
                    raise ValueError(f"{key!r} was given both directly and in model_kwargs")
                warnings.warn(
                    f"{key!r} is not a ChatCloudflareAIGateway field; it is sent in the "
                    "request body (put it in model_kwargs to silence this warning)",
                    UserWarning,
                    stacklevel=2,
                )
                extra[key] = values.pop(key)
        overlap = known & set(extra)
        if overlap:
            raise ValueError(f"pass {sorted(overlap)} as arguments, not in model_kwargs")
        if extra:
            values = {**values, "model_kwargs": extra}
        return values

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
        return self

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
            **self._default_params,
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

    def _prepare(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> ChatCall:
        kwargs = dict(kwargs)
        model = kwargs.pop("model", None) or self.model
        call_options = options_from_value(kwargs.pop("gateway_options", None))
        fallbacks = kwargs.pop("fallback_models", None)
        if fallbacks is None:
            fallbacks = self.fallback_models or []
        extra_headers = kwargs.pop("extra_headers", None)
        stream_usage = kwargs.pop("stream_usage", None)
        kwargs.pop("stream", None)
        body: dict[str, Any] = {"messages": messages_to_dicts(messages)}
        body.update(self._default_params)
        body.update(kwargs)
        if (stop_list := self._stop_list(stop)) is not None:
            body["stop"] = stop_list
        return ChatCall(
            model,
            body,
            options=merge_options(self.gateway_options, call_options),
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
            call = self._prepare(messages, stop, kwargs)
            return self._chat_result(self._get_sync_client(self.surface).chat(call))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with langchain_errors():
            call = self._prepare(messages, stop, kwargs)
            stream = self._get_sync_client(self.surface).stream_chat(call)
            state = _StreamState(stream.accumulator)
            pending: ChatGenerationChunk | None = None
            with stream:
                try:
                    for delta in stream:
                        converted = state.convert(delta)
                        if converted is None:
                            continue
                        if pending is not None:
                            yield self._emit(pending, run_manager)
                        pending = converted
                except GatewayError:
                    # deliver what arrived before the cut, then the typed error
                    if pending is not None:
                        yield self._emit(pending, run_manager)
                    raise
            if pending is not None:
                yield self._emit(state.finish(pending), run_manager)

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
            call = self._prepare(messages, stop, kwargs)
            return self._chat_result(await self._get_async_client(self.surface).chat(call))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        with langchain_errors():
            call = self._prepare(messages, stop, kwargs)
            stream = await self._get_async_client(self.surface).stream_chat(call)
            state = _StreamState(stream.accumulator)
            pending: ChatGenerationChunk | None = None
            async with stream:
                try:
                    async for delta in stream:
                        converted = state.convert(delta)
                        if converted is None:
                            continue
                        if pending is not None:
                            yield await self._aemit(pending, run_manager)
                        pending = converted
                except GatewayError:
                    if pending is not None:
                        yield await self._aemit(pending, run_manager)
                    raise
            if pending is not None:
                yield await self._aemit(state.finish(pending), run_manager)

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
