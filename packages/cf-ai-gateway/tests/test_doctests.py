"""The docstring examples of the core run (``# doctest: +SKIP`` marks the ones that need a
live gateway). Equivalent: ``pytest --doctest-modules packages/cf-ai-gateway/src``."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import cf_ai_gateway
import pytest

MODULES = sorted(
    m.name for m in pkgutil.iter_modules(cf_ai_gateway.__path__, prefix="cf_ai_gateway.")
)
WITH_EXAMPLES = {
    "cf_ai_gateway.cache_key",
    "cf_ai_gateway.config",
    "cf_ai_gateway.management_models",
    "cf_ai_gateway.options",
    "cf_ai_gateway.providers",
    "cf_ai_gateway.retry",
    "cf_ai_gateway.universal",
}


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0
    if name in WITH_EXAMPLES:
        assert result.attempted > 0


def test_client_examples_are_skipped_not_run() -> None:
    import cf_ai_gateway.client as client

    finder = doctest.DocTestFinder()
    examples = [ex for test in finder.find(client) for ex in test.examples]
    assert examples, "the client module documents its usage"
    live = [ex for ex in examples if "Gateway.from_env()" in ex.source or "client." in ex.source]
    assert live
    assert all(ex.options.get(doctest.SKIP) for ex in live)
