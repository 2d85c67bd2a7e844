from __future__ import annotations

import cf_ai_gateway_llamaindex


def test_public_names_are_pinned() -> None:
    assert cf_ai_gateway_llamaindex.__all__ == [
        "CloudflareAIGatewayEmbedding",
        "CloudflareAIGatewayLLM",
        "GatewayRawResponse",
        "__version__",
    ]
    for name in cf_ai_gateway_llamaindex.__all__:
        assert hasattr(cf_ai_gateway_llamaindex, name)


def test_version_matches_the_core() -> None:
    import cf_ai_gateway

    assert cf_ai_gateway_llamaindex.__version__ == cf_ai_gateway.__version__
