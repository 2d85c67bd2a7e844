"""The langchain-tests standard integration suites, against the emulator's mock LLM
(recorded) or the cassettes (replayed)."""

from __future__ import annotations

from typing import Any

import pytest
from cf_ai_gateway import Gateway
from cf_ai_gateway_langchain import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings
from langchain_core.messages import AIMessage
from langchain_tests.integration_tests import (
    ChatModelIntegrationTests,
    EmbeddingsIntegrationTests,
)

from .conftest import gateway_for

pytestmark = pytest.mark.vcr


class TestChatCloudflareAIGatewayStandard(ChatModelIntegrationTests):
    gateway: Gateway | None = None

    @pytest.fixture(autouse=True)
    def _gateway(self, lc_emulator: Any) -> None:
        type(self).gateway = gateway_for(lc_emulator, "lc-standard")

    @property
    def chat_model_class(self) -> type[ChatCloudflareAIGateway]:
        return ChatCloudflareAIGateway

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "openai/gpt-4o-mini", "gateway": self.gateway, "temperature": 0}

    # Capabilities: what the model does through the gateway's OpenAI-schema surfaces.
    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True  # Anthropic-style blocks are converted (tool_use, thinking, image source)

    @property
    def enable_vcr_tests(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "openai/gpt-4.1-mini"

    @property
    def supported_usage_metadata_details(self) -> dict[str, list[str]]:  # type: ignore[override]
        return {
            "invoke": ["cache_read_input", "reasoning_output"],
            "stream": ["cache_read_input", "reasoning_output"],
        }

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        return self._invoke_for_details("Summarise caching in one line.", stream=stream)

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        return self._invoke_for_details("Think step by step: what is 2 + 2?", stream=stream)

    def _invoke_for_details(self, prompt: str, *, stream: bool) -> AIMessage:
        llm = ChatCloudflareAIGateway(**self.chat_model_params)
        if not stream:
            return llm.invoke(prompt)
        full: Any = None
        for chunk in llm.stream(prompt):
            full = chunk if full is None else full + chunk
        return full  # type: ignore[no-any-return]


class TestCloudflareAIGatewayEmbeddingsStandard(EmbeddingsIntegrationTests):
    gateway: Gateway | None = None

    @pytest.fixture(autouse=True)
    def _gateway(self, lc_emulator: Any) -> None:
        type(self).gateway = gateway_for(lc_emulator, "lc-standard")

    @property
    def embeddings_class(self) -> type[CloudflareAIGatewayEmbeddings]:
        return CloudflareAIGatewayEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "openai/text-embedding-3-small", "gateway": self.gateway}
