"""The Auto Router through LangChain: the adapter reports the model the router chose
(``cf-aig-routed-model``) as the model that answered, in ``response_metadata["model_name"]``,
on ``invoke`` and on streams, without any adapter code of its own (the core kit does it).
Recorded against the emulator, replayed from ``cassettes/langchain/test_auto_router/``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cf_ai_gateway import Gateway, GatewayOptions, wire
from cf_ai_gateway_langchain import ChatCloudflareAIGateway
from langchain_core.messages import AIMessageChunk

pytestmark = [pytest.mark.vcr, pytest.mark.emulator_only]

ONLY = GatewayOptions(allowed_models=["openai/gpt-5.6-luna"])
"""One allowed model: the emulator's (and Cloudflare's) router has no choice to make."""


@pytest.fixture
def auto(gateway_factory: Callable[..., Gateway]) -> ChatCloudflareAIGateway:
    return ChatCloudflareAIGateway(
        model=wire.AUTO_MODEL, gateway=gateway_factory(), gateway_options=ONLY
    )


def test_invoke_reports_the_routed_model(auto: ChatCloudflareAIGateway) -> None:
    reply = auto.invoke("Say hello.")
    assert reply.response_metadata["model_name"] == "openai/gpt-5.6-luna"
    cf_aig = reply.response_metadata["cf_aig"]
    assert cf_aig["routed_model"] == "openai/gpt-5.6-luna"
    assert cf_aig["routing_reason"] == "forced_by_candidate_pool"
    assert cf_aig["routing_decision_id"]


def test_streams_report_the_routed_model(auto: ChatCloudflareAIGateway) -> None:
    chunks = list(auto.stream("Say hello."))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert isinstance(merged, AIMessageChunk)
    assert merged.response_metadata["model_name"] == "openai/gpt-5.6-luna"
