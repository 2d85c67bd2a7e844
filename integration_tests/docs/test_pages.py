"""Every Python sample of every page runs: the site's pages (``docs/**/*.md``), the README and
each distribution's README (its PyPI page). Each block on its own, in a fresh file and a fresh
interpreter with warnings as errors, against a local emulator, with the environment the docs
tell readers to set (``integration_tests/docs_samples.py``).

A page whose samples need more (feature detection per framework line, a fresh emulator, the
framework's own warnings) has a test module of its own that names it as ``"docs" / "<page>"``
(``test_langchain_page.py``, ``test_core_pages.py``, an adapter's ``test_docs.py``); this
module runs every other page, so a new page is covered the moment it exists. Also here: the
generated reference pages cover every header and error code of ``cf_ai_gateway.wire``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("cf_ai_gateway_emulator.testing")

from integration_tests.docs_samples import ROOT, DocSample, python_blocks, run_sample

pytestmark = pytest.mark.emulator_only

_NAMED = re.compile(r"""["']docs["']\s*/\s*["']([\w.-]+\.md)["']""")


def _pages() -> list[Path]:
    return sorted(
        [
            *(ROOT / "docs").rglob("*.md"),
            ROOT / "README.md",
            *ROOT.glob("packages/*/README.md"),
        ]
    )


def _pages_with_own_tests() -> dict[str, Path]:
    """Page name -> the test module that runs it (it names ``"docs" / "<page>"``)."""
    owned: dict[str, Path] = {}
    for module in sorted((ROOT / "integration_tests").rglob("test_*.py")):
        if module.resolve() == Path(__file__).resolve():
            continue
        for name in _NAMED.findall(module.read_text(encoding="utf-8")):
            owned[name] = module
    return owned


OWNED = _pages_with_own_tests()
PAGES = [p for p in _pages() if not (p.parent == ROOT / "docs" and p.name in OWNED)]
SAMPLES = [sample for page in PAGES for sample in python_blocks(page)]
# samples that run pytest: pytest-asyncio (in this test environment, not the sample's) warns
# about its own unset option
_PYTEST_SAMPLE = ('ignore:The configuration option "asyncio_default_fixture_loop_scope"',)
WARNING_FILTERS: dict[str, tuple[str, ...]] = {
    "testing.md": _PYTEST_SAMPLE,
    "reliability.md": _PYTEST_SAMPLE,
}


def test_every_page_is_run_here_or_by_its_own_module() -> None:
    assert OWNED, "the page-owning test modules were not found"
    for name, module in OWNED.items():
        page = ROOT / "docs" / name
        if page.is_file():  # an adapter's module may land before or after its page
            assert python_blocks(page), f"{name} (owned by {module.name}) has no samples"
    covered = {p.name for p in PAGES if p.parent == ROOT / "docs"} | set(OWNED)
    for page in (ROOT / "docs").rglob("*.md"):
        assert page.name in covered, page


def test_the_new_pages_have_samples() -> None:
    for name in ("index.md", "installation.md", "quickstart.md", "testing.md"):
        assert python_blocks(ROOT / "docs" / name), name


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: f"{s.doc.parent.name}/{s}")
def test_sample_runs(sample: DocSample, docs_env: dict[str, str], tmp_path: Path) -> None:
    run_sample(sample, docs_env, tmp_path, warning_filters=WARNING_FILTERS.get(sample.doc.name, ()))


# --- the generated reference pages --------------------------------------------------------------


@pytest.fixture(scope="module")
def reference() -> object:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import docs_reference
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return docs_reference


def test_the_options_reference_has_every_header_and_option(reference: object) -> None:
    from cf_ai_gateway import wire
    from cf_ai_gateway.options import GatewayOptions

    text = reference.options_reference()  # type: ignore[attr-defined]
    for name, value in vars(wire).items():
        if name.startswith("H_"):
            assert f"`{value}`" in text, name
    for field in GatewayOptions.__dataclass_fields__:
        assert f"| `{field}` |" in text, field


def test_the_error_reference_has_every_code_and_class(reference: object) -> None:
    from cf_ai_gateway import errors, wire

    text = reference.errors_reference()  # type: ignore[attr-defined]
    for name, value in vars(wire).items():
        if name.startswith("CODE_"):
            assert f"| `{value}` | `{name}` |" in text, name
    for name in errors.__all__:
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, errors.GatewayError):
            assert f"### {name}\n" in text, name
