"""Every Python sample in ``docs/langchain.md`` runs, in order, as one script, against a local
emulator (no cassettes: the samples' requests change whenever the docs do).

The environment is what the docs tell users to set (``CF_AIG_URL`` pointing at the gateway,
``CF_AIG_TOKEN``, ``OPENAI_API_KEY``). A block preceded by ``<!-- docs-test: skip ... -->`` is
not run (the reason is in the comment). Top-level ``await`` works, as in a notebook.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "langchain.md"
_BLOCK = re.compile(r"(<!-- docs-test: skip[^>]*-->\s*\n)?```python\n(.*?)```", re.DOTALL)

pytestmark = pytest.mark.emulator_only


def python_blocks() -> list[tuple[int, str]]:
    """``(line number, code)`` of every runnable Python block."""
    text = DOC.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start(2)) + 1, m.group(2))
        for m in _BLOCK.finditer(text)
        if not m.group(1)
    ]


@pytest.fixture
def docs_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    emulator_testing = pytest.importorskip("cf_ai_gateway_emulator.testing")
    pytest.importorskip("langgraph.prebuilt", reason="the docs show a LangGraph agent")
    with emulator_testing.run_emulator() as emulator:
        emulator.create_gateway("docs")
        for name in ("CF_ACCOUNT_ID", "CF_GATEWAY_ID", "CF_AIG_PROVIDER_API_KEY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("CF_AIG_URL", emulator.gateway_url("docs"))
        monkeypatch.setenv("CF_AIG_TOKEN", emulator.token)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-docs-not-a-real-key")
        yield


def test_docs_have_samples() -> None:
    assert len(python_blocks()) >= 8


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::PendingDeprecationWarning")
def test_every_sample_runs(docs_env: None) -> None:
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT

    async def run_all() -> None:
        for line, code in python_blocks():
            compiled = compile(code, f"{DOC.name}:{line}", "exec", flags=flags)
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    result = eval(compiled, namespace)
                    if asyncio.iscoroutine(result):
                        await result
                except Exception as exc:
                    raise AssertionError(
                        f"the sample at {DOC.name}:{line} failed: {type(exc).__name__}: {exc}"
                    ) from exc

    # the samples call sync APIs (which must not run inside a running loop's thread)
    # and use top-level await, so each runs in a fresh loop in this worker thread
    asyncio.run(run_all())
    # a few results the samples produce, so a silently skipped block is noticed
    assert namespace["state"]["messages"][-1].content
    assert namespace["reply"].response_metadata["cf_aig"]["log_id"]
    assert len(namespace["vector"]) == 256
    assert namespace["failed"] == []
