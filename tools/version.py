"""The one version of every distribution in ``packages/``.

The version lives in the repository's ``VERSION`` file. Every ``packages/*/pyproject.toml``
reads it at build time (``dynamic = ["version"]`` and ``[tool.hatch.version] path =
"../../VERSION"``; an sdist carries it in its ``PKG-INFO``). What cannot be read from there is
written out and checked here:

- every requirement on a distribution of this repository (the adapters' and the emulator's
  ``cf-ai-gateway==...``, the core's extras, dependency groups) pins ``==VERSION``;
- every ``__version__ = "..."`` in ``packages/*/src`` says ``VERSION`` (a literal, because
  ``importlib.metadata`` would add tens of milliseconds to ``import cf_ai_gateway``).

``python tools/version.py`` prints the version, ``check`` fails naming every place that
drifted (``nox -s lint`` runs it), ``set 0.2.0`` rewrites all of them and checks (then run
``uv lock`` to refresh the lock file's pins).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
VERSION_FILE = ROOT / "VERSION"
HATCH_VERSION = {"path": "../../VERSION"}
_VERSION_LITERAL = re.compile(r'^(__version__\s*=\s*)"([^"]*)"', re.M)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def read_version() -> str:
    return VERSION_FILE.read_text(encoding="utf-8").strip()


def pyprojects() -> list[Path]:
    return sorted(ROOT.glob("packages/*/pyproject.toml"))


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def distribution_names() -> set[str]:
    """The names of the distributions in ``packages/`` (normalised)."""
    return {_normalise(_load(p)["project"]["name"]) for p in pyprojects()}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(data: dict[str, Any]) -> list[tuple[str, str]]:
    """``(where, requirement)`` for every requirement string of a pyproject."""
    project = data.get("project", {})
    found = [("dependencies", r) for r in project.get("dependencies", [])]
    for extra, reqs in project.get("optional-dependencies", {}).items():
        found += [(f"optional-dependencies.{extra}", r) for r in reqs]
    for group, reqs in data.get("dependency-groups", {}).items():
        found += [(f"dependency-groups.{group}", r) for r in reqs if isinstance(r, str)]
    return found


def problems(version: str | None = None) -> list[str]:
    """Every place that does not follow ``VERSION`` (empty when all do)."""
    version = version or read_version()
    ours = distribution_names()
    found: list[str] = []
    if not re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?", version):
        found.append(f"VERSION: {version!r} is not a release version (X.Y.Z)")
    for path in [*pyprojects(), ROOT / "pyproject.toml"]:
        rel = path.relative_to(ROOT)
        data = _load(path)
        project = data.get("project", {})
        if path.parent.parent == ROOT / "packages":
            if "version" in project or "version" not in project.get("dynamic", []):
                found.append(
                    f'{rel}: the version must be read from VERSION: dynamic = ["version"] '
                    "and no version = ..."
                )
            hatch = data.get("tool", {}).get("hatch", {}).get("version", {})
            if hatch.get("path") != HATCH_VERSION["path"]:
                found.append(f'{rel}: needs [tool.hatch.version] path = "{HATCH_VERSION["path"]}"')
        else:  # the workspace root: never built; its requirements come from the workspace
            if project.get("version") != version:
                found.append(f"{rel}: version = {project.get('version')!r}, VERSION says {version}")
            continue
        for where, req in _requirements(data):
            match = _NAME.match(req)
            if match is None or _normalise(match.group(1)) not in ours:
                continue
            spec = req[match.end() :].split(";", 1)[0].strip()
            spec = re.sub(r"^\[[^\]]*\]\s*", "", spec)
            if spec != f"=={version}":
                found.append(f"{rel}: {where}: {req!r} must pin =={version}")
    for source in sorted(ROOT.glob("packages/*/src/**/*.py")):
        for match in _VERSION_LITERAL.finditer(source.read_text(encoding="utf-8")):
            if match.group(2) != version:
                found.append(
                    f"{source.relative_to(ROOT)}: __version__ = {match.group(2)!r}, "
                    f"VERSION says {version}"
                )
    return found


def set_version(new: str) -> list[Path]:
    """Write ``new`` into VERSION, every pin of our distributions and every ``__version__``."""
    old = read_version()
    names = "|".join(re.escape(n) for n in sorted(distribution_names(), key=len, reverse=True))
    pin = re.compile(rf"(?i)((?:{names})(?:\[[^\]]*\])?\s*==\s*){re.escape(old)}(?![\w.])")
    changed = []
    VERSION_FILE.write_text(new + "\n", encoding="utf-8")
    for path in [*pyprojects(), ROOT / "pyproject.toml"]:
        text = path.read_text(encoding="utf-8")
        updated = pin.sub(rf"\g<1>{new}", text)
        if path == ROOT / "pyproject.toml":
            updated = re.sub(r'(?m)^version = "[^"]*"', f'version = "{new}"', updated, count=1)
        if updated != text:
            path.write_text(updated, encoding="utf-8")
            changed.append(path)
    for source in sorted(ROOT.glob("packages/*/src/**/*.py")):
        text = source.read_text(encoding="utf-8")
        updated = _VERSION_LITERAL.sub(rf'\g<1>"{new}"', text)
        if updated != text:
            source.write_text(updated, encoding="utf-8")
            changed.append(source)
    return changed


def main(argv: list[str]) -> int:
    if not argv:
        print(read_version())
        return 0
    if argv[0] == "check" and len(argv) == 1:
        found = problems()
        for problem in found:
            print(f"FAIL {problem}")
        if not found:
            print(f"ok: every distribution, pin and __version__ says {read_version()}")
        return 1 if found else 0
    if argv[0] == "set" and len(argv) == 2:
        for path in set_version(argv[1]):
            print(f"updated {path.relative_to(ROOT)}")
        return main(["check"])
    print("usage: python tools/version.py [check | set X.Y.Z]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
