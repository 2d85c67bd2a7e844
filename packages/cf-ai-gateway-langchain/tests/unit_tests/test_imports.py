import importlib
import sys

import pytest
from cf_ai_gateway_langchain import __all__

EXPECTED_ALL = [
    "ChatCloudflareAIGateway",
    "CloudflareAIGatewayEmbeddings",
    "__version__",
]


def test_all_imports() -> None:
    assert sorted(EXPECTED_ALL) == sorted(__all__)


def test_missing_langchain_core_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain_core", None)  # "not installed"
    for name in [m for m in sys.modules if m.startswith("cf_ai_gateway_langchain")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ImportError, match=r'install "cf-ai-gateway\[langchain\]"'):
        importlib.import_module("cf_ai_gateway_langchain")
