"""Every Python block of ``docs/langchain.md`` runs as written: on its own, copied into a fresh
file, in a fresh interpreter with warnings (deprecations included) as errors, against a local
emulator (``integration_tests/docs_samples.py``; no cassettes: the samples' requests change
whenever the docs do). And the page's compatibility table names exactly the nox legs.

A block that needs what this framework line lacks is skipped with the reason, decided from
what the block uses (feature detection, as the adapter does): ``langchain.agents`` (the
``langchain`` package, 1.x) and ``.profile`` (langchain-core 1.1+). The page's 0.3 block
(LangGraph's ``create_react_agent``) runs everywhere LangGraph is installed, with LangGraph's
own two warnings (see ``LANGGRAPH_WARNINGS``) the only ones not turned into errors.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

from integration_tests.docs_samples import ROOT, DocSample, python_blocks, run_sample

DOC = ROOT / "docs" / "langchain.md"
SAMPLES = python_blocks(DOC)
LANGGRAPH_WARNINGS = (
    # LangGraph 1.x deprecates its prebuilt agent in favour of create_agent (not on 0.3) ...
    "ignore:create_react_agent has been moved:DeprecationWarning",
    # ... and LangGraph 1.0.x warns about its own classes when imported (its filter for them
    # misses the backticks in their messages)
    "ignore:AgentState has been moved:DeprecationWarning",
    "ignore:AgentStatePydantic has been moved:DeprecationWarning",
    "ignore:AgentStateWithStructuredResponse:DeprecationWarning",
    # its checkpointer calls a langchain-core 0.3.8x API that warns about a future default
    "ignore:The default value of `allowed_objects` will change:PendingDeprecationWarning",
)
"""What LangGraph 1.x itself says when the 0.3 block uses it; nothing the page can avoid.
Matched by message: ``-W`` is read before site-packages can be imported, so a category cannot
be named by its own class."""

pytestmark = pytest.mark.emulator_only


def _has(module: str) -> bool:
    try:  # a namespace package left behind by another distribution is not the module
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def _has_profiles() -> bool:
    from langchain_core.language_models import BaseChatModel

    return "profile" in BaseChatModel.model_fields


def _missing(code: str) -> str | None:
    """Why ``code`` cannot run on this framework line, or ``None``."""
    if "from langchain." in code and not _has("langchain.agents"):
        return "needs the langchain package (1.x: create_agent); this line has none"
    if "langgraph" in code and not _has("langgraph.prebuilt"):
        return "needs langgraph"
    if ".profile" in code and not _has_profiles():
        return "model profiles need langchain-core 1.1+"
    return None


def test_the_page_has_samples() -> None:
    assert len(SAMPLES) >= 15  # a silently dropped block (a broken fence) is noticed


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_sample_runs_on_its_own(
    sample: DocSample, docs_env: dict[str, str], tmp_path: Path
) -> None:
    reason = _missing(sample.code)
    if reason:
        pytest.skip(reason)
    filters = list(LANGGRAPH_WARNINGS) if "langgraph" in sample.code else []
    run_sample(sample, docs_env, tmp_path, warning_filters=filters)


# --- the compatibility table is the nox legs ---------------------------------------------


def _nox_lines() -> list[tuple[str, str, list[str]]]:
    """``(leg id, python, requirements)`` of the LangChain rows of ``ADAPTERS`` in
    ``noxfile.py`` (read without running nox: the python of a leg may be ``PYTHONS[0]``, the
    oldest Python the core's classifiers name)."""
    core = (ROOT / "packages" / "cf-ai-gateway" / "pyproject.toml").read_text()
    pythons = sorted(
        set(re.findall(r"Programming Language :: Python :: (3\.\d+)", core)),
        key=lambda v: tuple(map(int, v.split("."))),
    )
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Adapter"):
            continue
        if ast.literal_eval(node.args[0]) != "langchain":
            continue
        for line in node.args[3].elts:  # type: ignore[attr-defined]
            assert isinstance(line, ast.Call)
            leg = ast.literal_eval(line.args[0])
            python_node = line.args[1]
            if isinstance(python_node, ast.Subscript):  # PYTHONS[i]
                python = pythons[ast.literal_eval(python_node.slice)]
            else:
                python = ast.literal_eval(python_node)
            lines.append((leg, python, list(ast.literal_eval(line.args[2]))))
    return lines


def _table_rows() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Compatibility", 1)[1].split("\n## ", 1)[0]
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r"^\| `adapters\(langchain-([^)]+)\)` \|.*$", section, re.M)
    }


def test_compatibility_names_exactly_the_nox_legs() -> None:
    legs = _nox_lines()
    rows = _table_rows()
    assert sorted(rows) == sorted(leg for leg, _, _ in legs)
    for leg, python, requires in legs:
        cells = [c.strip() for c in rows[leg].strip("|").split("|")]
        assert cells[1] == python, (leg, cells)
        for requirement in requires:
            name, spec = re.match(r"([A-Za-z0-9_.-]+)(.*)", requirement).groups()  # type: ignore[union-attr]
            where = cells[2] if name == "langchain-core" else cells[3]
            assert f"`{spec}`" in where, (leg, requirement, where)
            if name != "langchain-core":
                assert f"{name} `{spec}`" in where, (leg, requirement, where)
