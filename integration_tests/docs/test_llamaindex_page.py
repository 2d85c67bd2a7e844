"""Every Python sample of ``docs/llamaindex.md`` runs on its own (fresh file, fresh interpreter,
warnings as errors) against a local emulator; see ``integration_tests/docs_samples.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration_tests.docs_samples import ROOT, DocSample, python_blocks, run_sample

DOC = ROOT / "docs" / "llamaindex.md"
SAMPLES = python_blocks(DOC)

# Warnings LlamaIndex itself emits that no sample can avoid, by the module they come from:
WARNING_FILTERS = (
    # 0.12 / 0.13 with pydantic 2.12+: importing llama_index.core warns that a Field()
    # attribute has no effect (UnsupportedFieldAttributeWarning)
    "ignore::UserWarning:pydantic._internal._generate_schema",
    # building a workflow agent: llama-index-workflows reads deprecated pydantic attributes
    # through inspect.getmembers (PydanticDeprecatedSince20/211), every line
    "ignore::DeprecationWarning:inspect",
    # llama-index-workflows 1.x (the 0.12 / 0.13 lines): "ServiceManager is deprecated"
    "ignore::DeprecationWarning:workflows.workflow",
    # 0.14 on Python 3.12+: its sync token estimate calls asyncio.get_event_loop() with no
    # loop running (llama_index.core.async_utils.asyncio_run)
    "ignore:There is no current event loop:DeprecationWarning:llama_index.core.async_utils",
)

pytestmark = pytest.mark.emulator_only


def test_the_page_has_samples() -> None:
    assert len(SAMPLES) >= 12


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_sample_runs(sample: DocSample, docs_env: dict[str, str], tmp_path: Path) -> None:
    run_sample(sample, docs_env, tmp_path, warning_filters=WARNING_FILTERS)
