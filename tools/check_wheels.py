"""Check the wheelhouse that ``nox -s wheels`` builds (``dist/``) against the repository.

From the wheels' and sdists' own metadata, never from the source tree's pyprojects:

- every distribution in ``packages/`` was built, as a wheel and an sdist, at ``VERSION``;
- its metadata is complete: summary, license expression and license file, Python range,
  classifiers for every supported Python and ``Typing :: Typed``, project URLs, the README as
  a Markdown long description without links that only work inside the repository, a
  ``py.typed`` in every top-level package;
- the core requires nothing but httpx and httpx-sse (no framework, outside its extras);
- every requirement on a distribution of this repository pins ``==VERSION``;
- the core has one extra per other distribution (``cf-ai-gateway-langchain`` ->
  ``[langchain]``) requiring exactly it, and ``[all]`` requires everything every other extra
  does.

Usage: ``python tools/check_wheels.py [DIST]`` (default ``dist``); exit status 1 on a problem.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from email.message import Message
from email.parser import Parser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from version import ROOT, distribution_names, read_version

CORE = "cf-ai-gateway"
CORE_ALLOWED = {"httpx", "httpx-sse"}
PROJECT_URLS = {"Homepage", "Documentation", "Repository", "Issues", "Changelog"}
_RELATIVE_LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)\s]+)\)")


@dataclass
class Built:
    """One distribution's wheel and what its METADATA says."""

    wheel: Path
    meta: Message
    files: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return normalise(self.meta["Name"])

    @property
    def requires(self) -> list[str]:
        return self.meta.get_all("Requires-Dist") or []


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalise(re.split(r"[\s;<>=!~\[(]", requirement.strip(), maxsplit=1)[0])


def _extra_of(requirement: str) -> str | None:
    match = re.search(r"""extra\s*==\s*['"]([^'"]+)['"]""", requirement)
    return match.group(1) if match else None


def _requirement_only(requirement: str) -> str:
    return requirement.split(";", 1)[0].strip().replace(" ", "")


def read_wheel(wheel: Path) -> Built:
    with zipfile.ZipFile(wheel) as zf:
        files = zf.namelist()
        name = next(n for n in files if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(name).decode("utf-8"))
    return Built(wheel, meta, files)


def check_metadata(built: Built, version: str, pythons: list[str]) -> list[str]:
    meta, where = built.meta, built.wheel.name
    found = []
    if meta["Version"] != version:
        found.append(f"{where}: version {meta['Version']}, VERSION says {version}")
    for key in ("Summary", "Requires-Python", "License-Expression"):
        if not meta.get(key):
            found.append(f"{where}: no {key}")
    if meta.get("Description-Content-Type") != "text/markdown":
        found.append(f"{where}: the long description is not the Markdown README")
    description = meta.get_payload()
    if not isinstance(description, str) or len(description.strip()) < 200:
        found.append(f"{where}: the long description (README) is missing or a stub")
    else:
        for link in _RELATIVE_LINK.findall(description):
            found.append(f"{where}: README link {link!r} only works inside the repository")
    urls = {u.split(",", 1)[0].strip() for u in meta.get_all("Project-URL") or []}
    if PROJECT_URLS - urls:
        found.append(f"{where}: project URLs missing: {sorted(PROJECT_URLS - urls)}")
    classifiers = set(meta.get_all("Classifier") or [])
    for needed in ["Typing :: Typed", *(f"Programming Language :: Python :: {p}" for p in pythons)]:
        if needed not in classifiers:
            found.append(f"{where}: classifier {needed!r} missing")
    if not any("/licenses/LICENSE" in f for f in built.files):
        found.append(f"{where}: no license file")
    top_levels = {f.split("/", 1)[0] for f in built.files if "/" in f and ".dist-info" not in f}
    for package in sorted(top_levels):
        if f"{package}/py.typed" not in built.files:
            found.append(f"{where}: {package}/py.typed missing")
    return found


def check_requirements(built: Built, version: str, ours: set[str]) -> list[str]:
    found = []
    for req in built.requires:
        name = requirement_name(req)
        if built.name == CORE and _extra_of(req) is None and name not in CORE_ALLOWED:
            found.append(f"{built.wheel.name}: the core requires {req!r} outside its extras")
        if name in ours and not _requirement_only(req).endswith(f"=={version}"):
            found.append(f"{built.wheel.name}: {req!r} does not pin =={version}")
    return found


def check_extras(core: Built, ours: set[str]) -> list[str]:
    """One extra per other distribution, and ``all`` covering every other extra."""
    by_extra: dict[str, set[str]] = {}
    for req in core.requires:
        extra = _extra_of(req)
        if extra is not None:
            by_extra.setdefault(extra, set()).add(_requirement_only(req))
    declared = set(core.meta.get_all("Provides-Extra") or [])
    found = []
    for dist in sorted(ours - {CORE}):
        extra = dist.removeprefix(f"{CORE}-")
        if extra not in declared or {requirement_name(r) for r in by_extra.get(extra, ())} != {
            dist
        }:
            found.append(f"the core has no extra [{extra}] requiring exactly {dist}")
    everything = set().union(*(reqs for extra, reqs in by_extra.items() if extra != "all"))
    missing = everything - by_extra.get("all", set())
    if "all" not in declared or missing:
        found.append(f"the core's [all] lacks {sorted(missing) or 'everything'}")
    return found


def check_sdist(sdist: Path, import_name: str) -> list[str]:
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    needed = {"PKG-INFO", "pyproject.toml", "README.md", "LICENSE", f"src/{import_name}/py.typed"}
    return [f"{sdist.name}: {n} missing" for n in sorted(needed - names)]


def main(dist: Path) -> int:
    version = read_version()
    ours = distribution_names()
    pythons = sorted(
        {
            m
            for p in ROOT.glob("packages/*/pyproject.toml")
            for m in re.findall(r"Programming Language :: Python :: (3\.\d+)", p.read_text())
        }
    )
    problems: list[str] = []
    built: dict[str, Built] = {}
    for wheel in sorted(dist.glob("*.whl")):
        b = read_wheel(wheel)
        if b.name in ours and b.meta["Version"] == version:
            built[b.name] = b
    for name in sorted(ours):
        stem = name.replace("-", "_")
        if name not in built:
            problems.append(f"no wheel of {name} {version} in {dist}")
            continue
        b = built[name]
        problems += check_metadata(b, version, pythons)
        problems += check_requirements(b, version, ours)
        sdist = dist / f"{stem}-{version}.tar.gz"
        if sdist.is_file():
            problems += check_sdist(sdist, stem)
        else:
            problems.append(f"no sdist {sdist.name} in {dist}")
        print(f"checked {b.wheel.name}: {len(b.requires)} requirement(s)")
    if CORE in built:
        problems += check_extras(built[CORE], ours)
    for problem in problems:
        print(f"FAIL {problem}")
    if not problems:
        print(f"ok: {len(built)} distributions at {version}, metadata complete, pins in step")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "dist")))
