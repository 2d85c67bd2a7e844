"""``CloudflareAIGatewayLLM``: the ``litellm.CustomLLM`` behind ``cloudflare-ai-gateway/...``
models, and :func:`register`.

Importing this module imports LiteLLM (seconds); ``import cf_ai_gateway_litellm`` does not.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx
import litellm
import litellm.litellm_core_utils.default_encoding
from cf_ai_gateway import ChatCall, ChatReply, Gateway, GatewayError
from cf_ai_gateway.chat import check_timeout
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import EmbeddingResponse, GenericStreamingChunk, ModelResponse

from ._bridge import AsyncRelay, run_on_io_loop
from ._config import ProviderOptions, ProviderSettings, Target
from ._convert import ChunkFolder, embedding_response, model_response
from ._cost import answered_model_cost, ensure_priced
from ._errors import PROVIDER, litellm_error
from ._params import CallParams, read_params

if TYPE_CHECKING:
    from typing_extensions import Unpack

# LiteLLM 1.80 hands every custom provider's call a tiktoken encoding, and without the import
# above it would download the tokenizer from the internet on first use (later lines set up
# their bundled copy themselves). The import points TIKTOKEN_CACHE_DIR at the copy inside
# LiteLLM's wheel, unless CUSTOM_TIKTOKEN_CACHE_DIR says otherwise.

__all__ = ["PROVIDER", "CloudflareAIGatewayLLM", "register"]

_CHECK_ERRORS = (GatewayError, ValueError, TypeError)
_REGISTER_LOCK = threading.Lock()


def _user(logging_obj: Any) -> str | None:
    """``user`` as the caller passed it: LiteLLM drops it from a custom provider's params but
    keeps it on the logging object; the built-in ``openai/`` route sends it."""
    details = getattr(logging_obj, "model_call_details", None)
    user = details.get("user") if isinstance(details, Mapping) else None
    return user if isinstance(user, str) and user else None


class _Prepared:
    """One chat call, checked and resolved: where it goes and what it sends."""

    __slots__ = ("call", "model", "target", "timeout")

    def __init__(
        self, model: str, target: Target, call: ChatCall, timeout: float | httpx.Timeout | None
    ):
        self.model = model  # as LiteLLM gave it (it prices and logs under this name)
        self.target = target
        self.call = call
        self.timeout = timeout


class _ChunkStream:
    """The sync chunk iterator LiteLLM wraps (``info`` is known before the first chunk)."""

    def __init__(self, prepared: _Prepared, stream: Any) -> None:
        self.info = stream.info
        self._model = prepared.model
        self._stream = stream
        self._chunks = self._fold()

    def _fold(self) -> Generator[GenericStreamingChunk, None, None]:
        folder = ChunkFolder(self.info)
        try:
            for delta in self._stream:
                yield from folder.feed(delta)
        except _CHECK_ERRORS as err:
            raise litellm_error(err, self._model) from err
        finally:
            self._stream.close()
        yield folder.finish()

    def __iter__(self) -> _ChunkStream:
        return self

    def __next__(self) -> GenericStreamingChunk:
        return next(self._chunks)

    def close(self) -> None:
        self._chunks.close()


async def _fold_async(stream: Any, model: str) -> AsyncIterator[GenericStreamingChunk]:
    folder = ChunkFolder(stream.info)
    try:
        async for delta in stream:
            for chunk in folder.feed(delta):
                yield chunk
    except _CHECK_ERRORS as err:
        raise litellm_error(err, model) from err
    finally:
        await stream.aclose()
    yield folder.finish()


class _LazyAsyncChunks:
    """An async chunk stream opened at the first ``async for`` (when ``astreaming`` is called
    on a thread whose event loop is running, so nothing may block)."""

    def __init__(self, prepared: _Prepared) -> None:
        self.info: Any = None
        self._prepared = prepared
        self._chunks: AsyncIterator[GenericStreamingChunk] | None = None

    def __aiter__(self) -> _LazyAsyncChunks:
        return self

    async def __anext__(self) -> GenericStreamingChunk:
        if self._chunks is None:
            p = self._prepared
            try:
                client = p.target.clients.async_client()
                stream = await client.stream_chat(p.call, timeout=p.timeout)
            except _CHECK_ERRORS as err:
                raise litellm_error(err, p.model) from err
            self.info = stream.info
            self._chunks = _fold_async(stream, p.model)
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        close = getattr(self._chunks, "aclose", None)
        if close is not None:
            await close()


class CloudflareAIGatewayLLM(CustomLLM):
    """LiteLLM's provider for Cloudflare AI Gateway: models
    ``cloudflare-ai-gateway/{provider}/{model}`` (``openai/gpt-4o-mini``,
    ``workers-ai/@cf/meta/llama-3.1-8b-instruct``, ``custom-{slug}/...``) and
    ``cloudflare-ai-gateway/dynamic/{route}``, through the gateway's unified endpoint (or the
    universal endpoint with ``fallback_models``).

    Usually you call :func:`register` instead of building one. ``gateway`` (a
    :class:`cf_ai_gateway.Gateway` or a gateway URL) and the keyword arguments
    (:class:`~cf_ai_gateway_litellm.ProviderOptions`: ``token``, ``api_key``,
    ``gateway_options``, ``fallback_models``, ``surface``, ``max_retries``, ``http_client``,
    ``http_async_client``) are the defaults of every call; per call, LiteLLM's ``api_base`` (a
    pasted gateway URL), ``api_key`` (the provider key), ``timeout`` and ``max_retries``, the
    ``gateway_options=`` and ``fallback_models=`` keywords and ``cf-aig-*`` entries of
    ``extra_headers`` apply on top. Every argument is optional: the gateway then comes from the
    environment (``CF_AIG_URL`` or ``CF_ACCOUNT_ID`` + ``CF_GATEWAY_ID``, ``CF_AIG_TOKEN``) or
    from each call's ``api_base``, which is how the proxy's ``custom_handler`` uses it. Without
    a provider key none is sent (BYOK / Unified Billing); ``OPENAI_API_KEY`` is never read.
    """

    def __init__(
        self, gateway: Gateway | str | None = None, **options: Unpack[ProviderOptions]
    ) -> None:
        super().__init__()
        self.settings = ProviderSettings(gateway, **options)

    def __repr__(self) -> str:
        return f"CloudflareAIGatewayLLM({self.settings!r})"

    # --- shared preparation -------------------------------------------------------------

    def _params(
        self,
        optional_params: dict[str, Any] | None,
        headers: Mapping[str, str] | None,
        logging_obj: Any,
    ) -> CallParams:
        return read_params(
            optional_params if optional_params is not None else {},
            headers,
            default_options=self.settings.options,
            default_fallbacks=self.settings.fallback_models,
            user=_user(logging_obj),
        )

    def _target(
        self, model: str, params: CallParams, api_base: str | None, api_key: str | None
    ) -> Target:
        return self.settings.target(
            model,
            api_base=api_base,
            api_key=api_key or params.api_key,
            token=params.token,
            max_retries=params.max_retries,
        )

    def _prepare(self, model: str, messages: list[Any], kw: dict[str, Any]) -> _Prepared:
        try:
            params = self._params(
                kw.get("optional_params"), kw.get("headers"), kw.get("logging_obj")
            )
            target = self._target(model, params, kw.get("api_base"), kw.get("api_key"))
            call = ChatCall(
                target.model,
                {"messages": messages, **params.body},
                options=params.options,
                fallback_models=params.fallback_models,
                extra_headers=params.extra_headers or None,
            )
            timeout = check_timeout(kw.get("timeout"))  # an httpx.Timeout is kept whole
        except _CHECK_ERRORS as err:
            raise litellm_error(err, model) from err
        ensure_priced(model, target.model)
        return _Prepared(model, target, call, timeout)

    def _response(self, prepared: _Prepared, reply: ChatReply) -> ModelResponse:
        response = model_response(reply)
        if reply.info.cache_hit:
            # answered from the gateway's cache: the provider was not called, nothing to pay
            response._hidden_params["response_cost"] = 0.0
        elif reply.model != prepared.target.model:
            # a fallback step or a dynamic route answered: price the model that did
            cost = answered_model_cost(reply.model, response)
            if cost is not None:
                response._hidden_params["response_cost"] = cost
        return response

    # --- chat ---------------------------------------------------------------------------

    def completion(  # type: ignore[override]
        self, model: str, messages: list[Any], **kw: Any
    ) -> ModelResponse:
        prepared = self._prepare(model, messages, kw)
        try:
            reply = prepared.target.clients.sync().chat(prepared.call, timeout=prepared.timeout)
        except _CHECK_ERRORS as err:
            raise litellm_error(err, model) from err
        return self._response(prepared, reply)

    async def acompletion(  # type: ignore[override]
        self, model: str, messages: list[Any], **kw: Any
    ) -> ModelResponse:
        prepared = self._prepare(model, messages, kw)
        try:
            client = prepared.target.clients.async_client()
            reply = await client.chat(prepared.call, timeout=prepared.timeout)
        except _CHECK_ERRORS as err:
            raise litellm_error(err, model) from err
        return self._response(prepared, reply)

    def streaming(  # type: ignore[override]
        self, model: str, messages: list[Any], **kw: Any
    ) -> Iterator[GenericStreamingChunk]:
        """Opens the stream before returning (errors are raised at call time, as for the
        built-in routes); chunks are yielded as they arrive."""
        prepared = self._prepare(model, messages, kw)
        try:
            client = prepared.target.clients.sync()
            stream = client.stream_chat(prepared.call, timeout=prepared.timeout)
        except _CHECK_ERRORS as err:
            raise litellm_error(err, model) from err
        return _ChunkStream(prepared, stream)

    def astreaming(  # type: ignore[override]
        self, model: str, messages: list[Any], **kw: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        """An async chunk stream. Called (as LiteLLM does) from a worker thread, it opens the
        stream before returning, on the I/O loop of ``_bridge`` (see there why); called on a
        thread whose event loop is running, it opens at the first ``async for``."""
        prepared = self._prepare(model, messages, kw)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            return _LazyAsyncChunks(prepared)

        async def open_stream() -> AsyncRelay:
            try:
                client = prepared.target.clients.async_client()
                stream = await client.stream_chat(prepared.call, timeout=prepared.timeout)
            except _CHECK_ERRORS as err:
                raise litellm_error(err, model) from err
            return AsyncRelay(_fold_async(stream, model), stream.info)

        return run_on_io_loop(open_stream())

    # --- embeddings ---------------------------------------------------------------------

    def _embedding_request(
        self, model: str, input: Any, kw: dict[str, Any]
    ) -> tuple[Target, dict[str, Any], dict[str, Any]]:
        """Where an embeddings call goes, its body, and the keywords of the core's
        ``embeddings()`` (the same for the sync and the async client)."""
        params = self._params(kw.get("optional_params"), None, kw.get("logging_obj"))
        params.body.pop("user", None)  # LiteLLM refuses `user` for embeddings of ours
        target = self._target(model, params, kw.get("api_base"), kw.get("api_key"))
        ensure_priced(model, target.model)
        body = {"model": target.model, "input": input, **params.body}
        send = {
            "options": params.options,
            "extra_headers": params.extra_headers or None,
            "timeout": check_timeout(kw.get("timeout")),
        }
        return target, body, send

    def embedding(  # type: ignore[override]
        self, model: str, input: Any, model_response: EmbeddingResponse, **kw: Any
    ) -> EmbeddingResponse:
        try:
            target, body, send = self._embedding_request(model, input, kw)
            result = target.clients.sync().embeddings(body, **send)
        except _CHECK_ERRORS as err:
            raise litellm_error(err, model) from err
        return embedding_response(result.data, result.info, target.model, model_response)

    async def aembedding(  # type: ignore[override]
        self, model: str, input: Any, model_response: EmbeddingResponse, **kw: Any
    ) -> EmbeddingResponse:
        try:
            target, body, send = self._embedding_request(model, input, kw)
            result = await target.clients.async_client().embeddings(body, **send)
        except _CHECK_ERRORS as err:
            raise litellm_error(err, model) from err
        return embedding_response(result.data, result.info, target.model, model_response)


def register(
    gateway: Gateway | str | None = None, **options: Unpack[ProviderOptions]
) -> CloudflareAIGatewayLLM:
    """Register the ``cloudflare-ai-gateway`` provider with LiteLLM and return its handler.

    After ``register()``, ``litellm.completion("cloudflare-ai-gateway/openai/gpt-4o-mini",
    ...)``, ``acompletion``, streams, ``embedding`` and ``Router`` deployments of such models
    go through the gateway. The arguments are those of :class:`CloudflareAIGatewayLLM` (all
    optional: the gateway is read from the environment on first use). Calling it again
    replaces the handler (other custom providers are kept).

    >>> import cf_ai_gateway_litellm, litellm                              # doctest: +SKIP
    >>> cf_ai_gateway_litellm.register(gateway="https://gateway.ai.cloudflare.com/v1/ACC/GW")
    >>> litellm.completion("cloudflare-ai-gateway/openai/gpt-4o-mini", messages=[...])
    """
    from litellm.utils import custom_llm_setup

    handler = CloudflareAIGatewayLLM(gateway, **options)
    with _REGISTER_LOCK:
        # exactly one entry for our provider: 1.80 uses the last duplicate, later lines the first
        others = [e for e in litellm.custom_provider_map if e.get("provider") != PROVIDER]
        litellm.custom_provider_map = [*others, {"provider": PROVIDER, "custom_handler": handler}]
        # 1.80's Router resolves providers without running this itself
        custom_llm_setup()  # type: ignore[no-untyped-call, unused-ignore]
    return handler
