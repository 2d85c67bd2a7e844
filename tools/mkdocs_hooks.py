"""mkdocs hooks (``hooks:`` in ``mkdocs.yml``): the pages of the site that are generated at
build time, so none of them can drift from the code or from the repository.

- ``reference/options.md`` and ``reference/errors.md``: from the core's single source of truth
  (``tools/docs_reference.py``);
- ``reference/api/<distribution>.md``: one API page per distribution in ``packages/``
  (mkdocstrings renders the docstrings), listed in the nav under "Reference";
- ``changelog.md``: ``CHANGELOG.md`` as it is;
- ``benchmarks.md`` / ``reliability.md``: a placeholder only while ``docs/`` has no such page;
- ``quickstart.md``: its ``<!-- adapter quickstarts -->`` marker becomes the "Quickstart"
  section of every adapter's page (``docs/<adapter>.md`` for each
  ``packages/cf-ai-gateway-<adapter>``), so each framework's quickstart is the one its own page
  tests;
- the nav: an adapter page named in ``mkdocs.yml`` but not in ``docs/`` yet (``PENDING``) is
  left out instead of failing the build; any other missing page still fails it.

Every Python sample in these pages lives in a hand-written page of ``docs/`` (or in
docstrings), where ``integration_tests/docs`` runs it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import docs_reference  # noqa: E402

PENDING = {"llamaindex.md", "litellm.md"}
"""Adapter pages that arrive with their adapters; until then the nav skips them."""
QUICKSTART_MARKER = "<!-- adapter quickstarts -->"
CORE = "cf-ai-gateway"
API_MODULES: dict[str, tuple[str, ...]] = {
    CORE: (
        "cf_ai_gateway.config",
        "cf_ai_gateway.client",
        "cf_ai_gateway.options",
        "cf_ai_gateway.response_info",
        "cf_ai_gateway.errors",
        "cf_ai_gateway.retry",
        "cf_ai_gateway.universal",
        "cf_ai_gateway.chat",
        "cf_ai_gateway.client_pool",
        "cf_ai_gateway.management",
        "cf_ai_gateway.management_models",
        "cf_ai_gateway.cache_key",
        "cf_ai_gateway.capabilities",
        "cf_ai_gateway.providers",
        "cf_ai_gateway.testing",
        "cf_ai_gateway.wire",
    ),
    f"{CORE}-emulator": ("cf_ai_gateway_emulator.testing", "cf_ai_gateway_emulator.pytest_plugin"),
}
"""What each distribution's API page documents; an adapter's default is its package (its
``__all__``)."""
PLACEHOLDERS = {
    "benchmarks.md": (
        "# Benchmarks\n\nMeasured by `nox -s bench`: each benchmark is reported as a ratio "
        "against a baseline measured in the same run (for example the import cost of "
        "`cf_ai_gateway` against `httpx` alone). The numbers and how to read them will be "
        "published on this page.\n"
    ),
    "reliability.md": (
        "# Reliability\n\nHow the clients behave when things fail (retries and the server's "
        "retry signals, timeouts, interrupted streams, fallbacks) is described in "
        "[Retries](core.md#retries) and the [error reference](reference/errors.md). This "
        "page will collect the measured behaviour under injected faults (the emulator's "
        "[fault injection](emulator.md#fault-injection)).\n"
    ),
}


def distributions() -> list[tuple[str, str]]:
    """``(distribution, import name)`` of every package in ``packages/``, the core first."""
    found = []
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        name = re.search(r'(?m)^name = "([^"]+)"', pyproject.read_text(encoding="utf-8"))
        if name:
            found.append((name.group(1), name.group(1).replace("-", "_")))
    return sorted(found, key=lambda d: (d[0] != CORE, d[0]))


def adapters() -> list[str]:
    """``langchain``, ``llamaindex``, ...: every distribution but the core and the emulator."""
    return [
        dist.removeprefix(f"{CORE}-")
        for dist, _ in distributions()
        if dist not in (CORE, f"{CORE}-emulator")
    ]


def _prune(nav: list[Any], docs_dir: Path) -> list[Any]:
    kept: list[Any] = []
    for item in nav:
        if isinstance(item, dict):
            (title, value), *_ = item.items()
            if isinstance(value, list):
                kept.append({title: _prune(value, docs_dir)})
            elif value in PENDING and not (docs_dir / value).is_file():
                continue
            else:
                kept.append(item)
        else:
            kept.append(item)
    return kept


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    docs_dir = Path(config.docs_dir)
    nav = _prune(config.nav or [], docs_dir)
    api = [
        {dist: f"reference/api/{dist}.md"} for dist, _ in distributions()
    ]  # one API page per distribution, in the "Reference" section
    for item in nav:
        if isinstance(item, dict) and "Reference" in item:
            item["Reference"] = [*item["Reference"], {"API": api}]
            break
    else:
        raise ValueError("mkdocs.yml: the nav has no 'Reference' section for the API pages")
    config.nav = nav
    return config


def _api_page(dist: str, import_name: str) -> str:
    modules = API_MODULES.get(dist, (import_name,))
    lines = [
        f"# `{dist}` API",
        "",
        f"Rendered from the docstrings of `{dist}` when the site is built.",
        "",
    ]
    for module in modules:
        lines += [f"::: {module}", ""]
    return "\n".join(lines)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    generated = {
        "reference/options.md": docs_reference.options_reference(),
        "reference/errors.md": docs_reference.errors_reference(),
        "changelog.md": (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"),
    }
    for dist, import_name in distributions():
        generated[f"reference/api/{dist}.md"] = _api_page(dist, import_name)
    for name, text in PLACEHOLDERS.items():
        if files.get_file_from_path(name) is None:
            generated[name] = text
    for src_uri, content in generated.items():
        if files.get_file_from_path(src_uri) is not None:
            raise ValueError(f"docs/{src_uri} is generated at build time: remove the file")
        files.append(File.generated(config, src_uri, content=content))
    return files


def _quickstart_section(adapter: str, docs_dir: Path) -> str:
    page = docs_dir / f"{adapter}.md"
    if not page.is_file():
        raise ValueError(f"packages/{CORE}-{adapter} has no docs page docs/{adapter}.md")
    text = page.read_text(encoding="utf-8")
    title = text.splitlines()[0].lstrip("# ").strip()
    section: list[str] | None = None
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"#{1,2} ", line):  # a heading of level 1 or 2
            if section is not None:
                break
            if line.strip() == "## Quickstart":
                section = []
                continue
        if section is not None:
            section.append(line)
    if section is None:
        raise ValueError(f"docs/{adapter}.md has no '## Quickstart' section")
    body = "\n".join(section).strip()
    body = re.sub(r"\]\(#", f"]({adapter}.md#", body)  # its anchors live on its own page
    return f"## {title}\n\n{body}\n\nThe full guide: [{title}]({adapter}.md).\n"


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if QUICKSTART_MARKER not in markdown:
        return markdown
    docs_dir = Path(config.docs_dir)
    sections = [_quickstart_section(adapter, docs_dir) for adapter in adapters()]
    return markdown.replace(QUICKSTART_MARKER, "\n".join(sections))


_ROLE = re.compile(r":(?:class|meth|func|data|attr|mod):<code>~?(?:[\w.]+\.)?(\w+)</code>")


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Docstrings use reST roles (``:class:`~cf_ai_gateway.RetryPolicy```); show the name."""
    return _ROLE.sub(r"<code>\1</code>", html)
