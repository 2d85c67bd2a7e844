"""``CloudflareAIGatewayLLM``, the LlamaIndex ``FunctionCallingLLM`` of this package.

Requests and answers go through the core's adapter kit (``cf_ai_gateway.chat``: a ``ChatCall``
in, a ``ChatReply`` or stream deltas out) on pooled core clients; this module only turns
LlamaIndex's messages, tools and keywords into a call, and the answers into ``ChatResponse``s.
No OpenAI SDK is involved. Usage::

    llm = CloudflareAIGatewayLLM(model="openai/gpt-4o-mini")
    llm.complete("Hello").additional_kwargs["cf_aig"]["cache_status"]  # 'MISS'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cf_ai_gateway import (
    GatewayResponseInfo,
    Surface,
    check_chat_model,
    merge_options,
    options_from_value,
)
from cf_ai_gateway import chat as kit
from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import Field
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection

from ._convert import (
    message_from_openai,
    messages_to_openai,
    tool_selections,
    tool_spec,
    trim_to_one_tool_call,
)
from ._gateway import GatewayFields
from .responses import GatewayRawResponse

__all__ = ["CloudflareAIGatewayLLM"]

# Per-call keywords that steer the gateway request rather than go into the body.
_CALL_KEYWORDS = ("gateway_options", "fallback_models", "extra_headers", "model")
# Request parameters LlamaIndex passes as None meaning "not set".
_UNSET_WHEN_NONE = frozenset({"tools", "tool_choice", "parallel_tool_calls"})


def _usage_kwargs(usage: kit.Usage | None) -> dict[str, Any]:
    """Token counts where LlamaIndex's consumers (OpenInference, callbacks) look for them."""
    if usage is None:
        return {}
    out: dict[str, Any] = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cached_input_tokens is not None:
        out["cached_tokens"] = usage.cached_input_tokens
    if usage.reasoning_tokens is not None:
        out["reasoning_tokens"] = usage.reasoning_tokens
    return out


def _response_kwargs(
    info: GatewayResponseInfo, model: str, usage: kit.Usage | None, reasoning: str | None
) -> dict[str, Any]:
    out = {**_usage_kwargs(usage), "model": model, "cf_aig": info.to_dict()}
    if reasoning:
        out["reasoning_content"] = reasoning
    return out


class _StreamState:
    """Turns the core's stream deltas into cumulative LlamaIndex ``ChatResponse``s: the message
    so far on every chunk (the last one is complete, as agents expect), the gateway info on
    every chunk, usage once it has arrived (on the last, usage-only chunk)."""

    def __init__(self, accumulator: kit.StreamAccumulator) -> None:
        self.acc = accumulator
        self.cf_aig = accumulator.info.to_dict()

    def response(self, delta: kit.ChatDelta) -> ChatResponse:
        acc = self.acc
        message = message_from_openai(
            acc.content, acc.tool_calls, acc.reasoning or None, streamed=True
        )
        kwargs: dict[str, Any] = {**_usage_kwargs(acc.usage), "cf_aig": self.cf_aig}
        if delta.finish_reason or not delta.has_choice:
            kwargs["model"] = acc.model
        if delta.reasoning:
            kwargs["thinking_delta"] = delta.reasoning
        return ChatResponse(
            message=message,
            delta=delta.content,
            raw=GatewayRawResponse(delta.raw, acc.info),
            additional_kwargs=kwargs,
        )


class CloudflareAIGatewayLLM(FunctionCallingLLM, GatewayFields):
    """LLM for Cloudflare AI Gateway: every provider behind one OpenAI-schema API.

    Drop-in for ``OpenAI(...)`` / ``OpenAILike(...)`` in query engines, chat engines,
    ``FunctionAgent``, ``ReActAgent`` and workflows. The gateway comes from
    ``gateway=Gateway(...)``, a pasted ``gateway_url``, ``account_id``/``gateway_id``/
    ``gateway_token``, or the environment (``CF_ACCOUNT_ID``, ``CF_GATEWAY_ID``,
    ``CF_AIG_TOKEN`` or ``CF_AIG_URL``).

    - ``model``: ``"{provider}/{model}"`` (``"openai/gpt-4o-mini"``,
      ``"workers-ai/@cf/meta/llama-3.1-8b-instruct"``, ``"custom-acme/my-model"``) or
      ``"dynamic/{route}"``.
    - ``surface``: ``"compat"`` (the unified endpoint, default), ``"provider"`` (the
      provider's own OpenAI-compatible path) or ``"rest"`` (Cloudflare's REST API).
    - ``api_key``: the provider key; leave it unset for BYOK / Unified Billing (then no
      provider credential is sent at all; only ``CF_AIG_PROVIDER_API_KEY`` is read).
    - ``gateway_options``: default :class:`cf_ai_gateway.GatewayOptions`; per call
      ``llm.chat(messages, gateway_options=GatewayOptions(...))``, merged over the defaults.
    - ``fallback_models``: models the gateway tries next, server-side, in one universal
      request; ``additional_kwargs["cf_aig"]["step"]`` says which one answered.

    Every response carries ``additional_kwargs["cf_aig"]`` (the core's
    :class:`~cf_ai_gateway.GatewayResponseInfo` as a plain dict), token counts in
    ``additional_kwargs`` and ``raw["usage"]``, and ``raw.info`` (the typed info). Errors are
    the core's typed ``cf_ai_gateway.GatewayError`` subclasses.

    Example::

        from cf_ai_gateway import GatewayOptions
        from cf_ai_gateway_llamaindex import CloudflareAIGatewayLLM

        llm = CloudflareAIGatewayLLM(
            model="openai/gpt-4o-mini", gateway_options=GatewayOptions(cache_ttl=3600)
        )
        reply = llm.complete("Hi", gateway_options=GatewayOptions(metadata={"user": "u-1"}))
        reply.additional_kwargs["cf_aig"]["log_id"]
    """

    model: str = Field(description="'{provider}/{model}' or 'dynamic/{route}'.")
    surface: Surface = Field(default="compat", description="compat, provider or rest.")
    temperature: float | None = Field(
        default=None, description="Sampling temperature (not sent when None)."
    )
    max_tokens: int | None = Field(
        default=None, gt=0, description="Maximum tokens to generate (not sent when None)."
    )
    context_window: int = Field(
        default=DEFAULT_CONTEXT_WINDOW,
        gt=0,
        description="Context window LlamaIndex packs prompts for (the gateway fronts models "
        "of every size: set it to your model's).",
    )
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra Chat Completions body fields (top_p, seed, reasoning_effort, ...); "
        "per call keywords win over them.",
    )
    fallback_models: list[str] = Field(
        default_factory=list,
        description="Models the gateway falls back to (in order) when the primary fails.",
    )

    def __init__(self, **kwargs: Any) -> None:
        kwargs = self._coerce_gateway_kwargs(kwargs)
        for key in kwargs.get("additional_kwargs") or {}:
            if kit.looks_like_credential(str(key)):
                raise ValueError(
                    f"additional_kwargs[{key!r}] looks like a credential and would be sent in "
                    "the request body (and stored in the gateway's logs): pass the provider key "
                    "as api_key="
                )
        super().__init__(**kwargs)
        check_chat_model(self.model, self.surface)
        for model in (self.model, *self.fallback_models) if self.fallback_models else ():
            kit.check_fallback_model(model)
        if self.surface == "rest" and self.api_key is not None:
            raise ValueError(
                "surface='rest' supports Unified Billing and BYOK only: do not set api_key "
                "(or CF_AIG_PROVIDER_API_KEY); use surface='compat' to send your own key"
            )
        self._resolve_gateway()

    @classmethod
    def class_name(cls) -> str:
        return "CloudflareAIGatewayLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens or -1,
            is_chat_model=True,
            is_function_calling_model=True,
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    # --- requests -----------------------------------------------------------------------

    def _chat_call(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> kit.ChatCall:
        """The core call for ``messages``: constructor defaults, then ``additional_kwargs``,
        then the per-call keywords (which win)."""
        kwargs = dict(kwargs)
        steering = {k: kwargs.pop(k, None) for k in _CALL_KEYWORDS}
        kwargs.pop("stream", None)
        body: dict[str, Any] = {"messages": messages_to_openai(messages)}
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        body.update(self.additional_kwargs)
        body.update((k, v) for k, v in kwargs.items() if not (v is None and k in _UNSET_WHEN_NONE))
        fallbacks = steering["fallback_models"]
        return kit.ChatCall(
            steering["model"] or self.model,
            body,
            options=merge_options(
                self.gateway_options, options_from_value(steering["gateway_options"])
            ),
            fallback_models=tuple(self.fallback_models if fallbacks is None else fallbacks),
            extra_headers=steering["extra_headers"],
        )

    @staticmethod
    def _chat_response(reply: kit.ChatReply) -> ChatResponse:
        reasoning = kit.reasoning_of(reply.message)
        return ChatResponse(
            message=message_from_openai(reply.content, reply.tool_calls, reasoning),
            raw=GatewayRawResponse(reply.data, reply.info),
            additional_kwargs=_response_kwargs(reply.info, reply.model, reply.usage, reasoning),
        )

    # Undecorated internals: the public methods below are decorated once each, and the
    # completion variants are built on these, so a call emits one start/end event pair.

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        call = self._chat_call(messages, kwargs)
        return self._chat_response(self._sync_client(self.surface).chat(call))

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        call = self._chat_call(messages, kwargs)
        return self._chat_response(await self._async_client(self.surface).chat(call))

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        call = self._chat_call(messages, kwargs)
        stream = self._sync_client(self.surface).stream_chat(call)  # errors raise here

        def gen() -> ChatResponseGen:
            state = _StreamState(stream.accumulator)
            with stream:
                for delta in stream:
                    yield state.response(delta)

        return gen()

    async def _astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        call = self._chat_call(messages, kwargs)
        stream = await self._async_client(self.surface).stream_chat(call)

        async def gen() -> ChatResponseAsyncGen:
            state = _StreamState(stream.accumulator)
            async with stream:
                async for delta in stream:
                    yield state.response(delta)

        return gen()

    # --- the LlamaIndex endpoints -------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream_chat(messages, **kwargs)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return chat_to_completion_decorator(self._chat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        # a coroutine returning an async generator (not an async generator function): the
        # callback decorator picks its async wrapper only for coroutine functions
        return await self._astream_chat(messages, **kwargs)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        return await achat_to_completion_decorator(self._achat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

    # --- tools --------------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[Any],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The ``chat`` keywords for a tool call. ``tool_choice`` (``"auto"``, ``"none"``,
        ``"required"``, a tool name or an OpenAI dict) wins over ``tool_required``;
        ``parallel_tool_calls=False`` is sent only when parallel calls are not allowed (the
        providers' default is to allow them)."""
        specs = [tool_spec(tool) for tool in tools]
        messages = list(chat_history or [])  # never the caller's list
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        prepared: dict[str, Any] = {"messages": messages, **kwargs}
        if specs:
            choice = tool_choice if tool_choice is not None else "auto"
            if tool_choice is None and tool_required:
                choice = "required"
            prepared["tools"] = specs
            prepared["tool_choice"] = kit.tool_choice_param(choice, specs)
            if not allow_parallel_tool_calls:
                prepared["parallel_tool_calls"] = False
        return prepared

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[Any],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        if not allow_parallel_tool_calls:
            trim_to_one_tool_call(response.message)
        return response

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        selections = tool_selections(response.message)
        if not selections and error_on_no_tool_call:
            raise ValueError("Expected at least one tool call, but got 0 tool calls.")
        return selections
