"""Every Python block of ``docs/core.md`` and ``docs/emulator.md`` runs as written: on its own,
copied into a fresh file, in a fresh interpreter with warnings as errors, against a local
emulator with the environment the docs tell readers to set (``CF_AIG_URL``, ``CF_AIG_TOKEN``,
a fake ``OPENAI_API_KEY``; see ``integration_tests/docs_samples.py``).

The emulator page shows real clients (``anthropic``, ``google-genai``) that the ``docs``
session does not install: a block importing a module that is not installed is skipped, saying
which (the ``clients`` session runs those clients against the emulator instead)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from integration_tests.docs_samples import (
    ROOT,
    DocSample,
    docs_environment,
    python_blocks,
    run_sample,
)

pytestmark = pytest.mark.emulator_only

PAGES = [ROOT / "docs" / "core.md", ROOT / "docs" / "emulator.md"]
SAMPLES = [sample for page in PAGES for sample in python_blocks(page)]


def _missing(sample: DocSample) -> list[str]:
    """Top-level modules the block imports that are not installed."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(sample.code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return sorted(name for name in names if importlib.util.find_spec(name) is None)


def test_every_page_has_samples() -> None:
    for page in PAGES:
        assert python_blocks(page), page.name


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_sample_runs(sample: DocSample, docs_env: dict[str, str], tmp_path: Path) -> None:
    missing = _missing(sample)
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (not installed in this session)")
    run_sample(sample, docs_env, tmp_path)


def test_the_byok_sample_prints_the_hint(docs_env: dict[str, str], tmp_path: Path) -> None:
    """Against a gateway without stored keys, the BYOK sample shows the error's advice."""
    (sample,) = [s for s in SAMPLES if 'byok_alias="team-a"' in s.code and s.doc.name == "core.md"]
    out = run_sample(sample, docs_env, tmp_path)
    assert "No key stored for OpenAI under BYOK alias 'team-a'" in out


def test_the_auto_router_sample_prints_the_routing(tmp_path: Path) -> None:
    """On a fresh emulator (the shared one has pinned the sample's session already): the
    cheapest allowed model, chosen; then, in the same turn, pinned."""
    (sample,) = [s for s in SAMPLES if "cloudflare/auto" in s.code and s.doc.name == "core.md"]
    with docs_environment() as env:
        routed, reason, decision = run_sample(sample, env, tmp_path).split()
        assert run_sample(sample, env, tmp_path).split()[:2] == [routed, "pinned_by_turn"]
    assert routed == "openai/gpt-5.6-luna"
    assert reason == "cost_optimal_within_pool"
    assert decision
