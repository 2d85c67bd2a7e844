"""Every Python block of ``docs/litellm.md`` runs as written: on its own, in a fresh
interpreter with warnings as errors, against a local emulator
(``integration_tests/docs_samples.py``; no cassettes: the samples' requests change whenever the
docs do), in the ``docs`` session (LiteLLM's newest line). The page's compatibility table names
exactly the nox legs.

LiteLLM's own warnings, which no sample can avoid, are the only ones not turned into errors:
1.80's Pydantic serializer warnings for its own response types (the built-in routes raise them
too), the Router's Pydantic ``ReadOnly`` warning on later lines, and the never-awaited client
cleanup coroutine LiteLLM leaves at interpreter exit."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from integration_tests.docs_samples import ROOT, DocSample, python_blocks, run_sample

DOC = ROOT / "docs" / "litellm.md"
SAMPLES = python_blocks(DOC)
LITELLM_WARNINGS = (
    "ignore:Pydantic serializer warnings:UserWarning",
    "ignore:Items:UserWarning",  # "Items '...' on TypedDict class '...' are using ReadOnly"
    "ignore:coroutine 'close_litellm_async_clients' was never awaited:RuntimeWarning",
)

pytestmark = pytest.mark.emulator_only


def test_the_page_has_samples() -> None:
    assert len(SAMPLES) >= 6  # a silently dropped block (a broken fence) is noticed


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_sample_runs(sample: DocSample, docs_env: dict[str, str], tmp_path: Path) -> None:
    run_sample(sample, docs_env, tmp_path, warning_filters=LITELLM_WARNINGS)


def _nox_legs() -> dict[str, tuple[str, list[str]]]:
    """``leg id -> (python, requirements)`` of the LiteLLM row of ``ADAPTERS``: its ``Line(...)``
    expressions evaluated with ``PYTHONS`` (the Pythons the core's classifiers name) and a
    ``Line`` that keeps its first three arguments (nox itself is not installed here)."""
    core = (ROOT / "packages" / "cf-ai-gateway" / "pyproject.toml").read_text()
    pythons = sorted(
        set(re.findall(r"Programming Language :: Python :: (3\.\d+)", core)),
        key=lambda v: tuple(map(int, v.split("."))),
    )
    row = next(
        node
        for node in ast.walk(ast.parse((ROOT / "noxfile.py").read_text()))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "Adapter"
        and ast.literal_eval(node.args[0]) == "litellm"
    )
    lines = compile(ast.Expression(row.args[3]), "noxfile.py", "eval")
    scope = {"PYTHONS": pythons, "Line": lambda leg, python, requires, **_: (leg, python, requires)}
    return {leg: (python, list(requires)) for leg, python, requires in eval(lines, scope)}


def test_compatibility_names_exactly_the_nox_legs() -> None:
    section = DOC.read_text(encoding="utf-8").split("## Compatibility", 1)[1].split("\n## ")[0]
    rows = {
        m.group(1): [c.strip() for c in m.group(0).strip("|").split("|")]
        for m in re.finditer(r"^\| `adapters\(litellm-([^)]+)\)` \|.*$", section, re.M)
    }
    legs = _nox_legs()
    assert sorted(rows) == sorted(legs)
    for leg, (python, requires) in legs.items():
        cells = rows[leg]
        assert cells[1] == python, (leg, cells)
        litellm_spec = next(r for r in requires if r.startswith("litellm"))
        assert f"`{litellm_spec.removeprefix('litellm')}`" in cells[2], (leg, cells)
