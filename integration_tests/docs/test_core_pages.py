"""Every Python sample in ``docs/management.md`` and ``docs/cli.md`` runs on its own (a fresh
file, a fresh interpreter, warnings as errors) against a local emulator, with the environment
the docs tell readers to set (``CF_AIG_URL``, ``CF_AIG_TOKEN``)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("cf_ai_gateway_emulator.testing")

from integration_tests.docs_samples import (
    ROOT,
    DocSample,
    docs_environment,
    python_blocks,
    run_sample,
)

pytestmark = pytest.mark.emulator_only

PAGES = [ROOT / "docs" / "management.md", ROOT / "docs" / "cli.md"]
SAMPLES = [sample for page in PAGES for sample in python_blocks(page)]


def test_every_page_has_samples() -> None:
    for page in PAGES:
        assert python_blocks(page), page.name


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_sample_runs(sample: DocSample, docs_env: dict[str, str], tmp_path: Path) -> None:
    run_sample(sample, docs_env, tmp_path)


def test_the_cache_key_sample_prints_what_it_says(tmp_path: Path) -> None:
    """On a fresh emulator (the shared one has cached the answer already): MISS, then HIT."""
    (sample,) = [s for s in SAMPLES if "cache_key_for(messages" in s.code]
    with docs_environment() as env:
        assert run_sample(sample, env, tmp_path).split() == ["MISS", "HIT"]
