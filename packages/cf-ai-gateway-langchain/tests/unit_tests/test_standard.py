"""The langchain-tests standard unit suites."""

from __future__ import annotations

from typing import Any

from cf_ai_gateway_langchain import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings
from langchain_tests.unit_tests import ChatModelUnitTests, EmbeddingsUnitTests

GATEWAY = {"account_id": "acc123", "gateway_id": "unit-gw"}


class TestChatCloudflareAIGatewayUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatCloudflareAIGateway]:
        return ChatCloudflareAIGateway

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "openai/gpt-4o-mini", **GATEWAY}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {
                "CF_ACCOUNT_ID": "acc-from-env",
                "CF_GATEWAY_ID": "gw-from-env",
                "CF_AIG_TOKEN": "token-from-env",
                "CF_AIG_PROVIDER_API_KEY": "key-from-env",
            },
            {"model": "openai/gpt-4o-mini"},
            {
                "account_id": "acc-from-env",
                "gateway_id": "gw-from-env",
                "cf_aig_token": "token-from-env",
                "api_key": "key-from-env",
            },
        )

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True


class TestCloudflareAIGatewayEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[CloudflareAIGatewayEmbeddings]:
        return CloudflareAIGatewayEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "openai/text-embedding-3-small", **GATEWAY}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {
                "CF_ACCOUNT_ID": "acc-from-env",
                "CF_GATEWAY_ID": "gw-from-env",
                "CF_AIG_TOKEN": "token-from-env",
            },
            {"model": "openai/text-embedding-3-small"},
            {
                "account_id": "acc-from-env",
                "gateway_id": "gw-from-env",
                "cf_aig_token": "token-from-env",
            },
        )
