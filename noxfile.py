"""Sessions for the cf-ai-gateway monorepo.

``nox`` (no arguments) runs what CI runs: lint, typecheck, the core/emulator tests on every
supported Python, the LangChain legs on both langchain-core lines, the package check and the
demo. ``nox -s demo`` runs the offline tour; ``nox -s record`` re-records the cassettes
against the local emulator; ``nox -t langchain`` runs one framework's legs.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))
nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "tests_langchain",
    "minimums",
    "package",
    "demo",
]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
# Sessions without a python= run on the interpreter that runs nox, so the demo and the
# checks work on any machine with one supported Python.

CORE = "packages/cf-ai-gateway"
EMULATOR = "packages/cf-ai-gateway-emulator"
LANGCHAIN = "packages/cf-ai-gateway-langchain"

# Each langchain-core line with the langchain-tests release that fits it.
LANGCHAIN_LEGS = [
    nox.param(
        "3.10",
        "langchain-core>=0.3.60,<0.4",
        "langchain-tests>=0.3.21,<0.4",
        id="lc-0.3",
        tags=["langchain"],
    ),
    nox.param(
        "3.12",
        "langchain-core>=1.0,<2",
        "langchain-tests>=1.0,<2",
        id="lc-1.x",
        tags=["langchain"],
    ),
]


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


def _editable(*paths: str) -> list[str]:
    args: list[str] = []
    for path in paths:
        args += ["-e", path]
    return args


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the core."""
    session.install(*_editable(CORE), *_group("typecheck"))
    session.run("mypy", f"{CORE}/src")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Core and emulator unit tests, core doctests, and the core scenarios replayed from
    cassettes."""
    session.install(*_editable(CORE, EMULATOR), *_group("test"), *_group("integration"))
    session.run(
        "pytest",
        f"{CORE}/tests",
        f"{EMULATOR}/tests",
        "integration_tests/core",
        "integration_tests/test_cassettes.py",
        *session.posargs,
    )
    session.run("pytest", "--doctest-modules", f"{CORE}/src", "-q", "-p", "no:randomly")


@nox.session(python=PYTHONS[0])
def minimums(session: nox.Session) -> None:
    """The core and emulator suites on the lowest versions their lower bounds allow, so a
    too-loose bound fails here rather than on a user's machine."""
    # Only our packages' own dependencies go lowest; the test tools installed afterwards keep
    # them (uv does not upgrade what already satisfies them).
    session.install("--resolution=lowest-direct", *_editable(CORE, EMULATOR))
    session.install(*_group("test"), *_group("integration"))
    session.run(
        "python",
        "-c",
        "import httpx, httpx_sse, starlette, uvicorn; print('httpx',"
        " httpx.__version__, 'starlette', starlette.__version__)",
    )
    session.run(
        "pytest", f"{CORE}/tests", f"{EMULATOR}/tests", "integration_tests/core", *session.posargs
    )


@nox.session
@nox.parametrize(("python", "core_spec", "tests_spec"), LANGCHAIN_LEGS)
def tests_langchain(session: nox.Session, core_spec: str, tests_spec: str) -> None:
    """The LangChain adapter on one langchain-core line: unit tests (standard suite) and the
    integration tests replayed from the same cassettes on every leg."""
    session.install(
        *_editable(CORE, EMULATOR, LANGCHAIN),
        core_spec,
        tests_spec,
        "langgraph>=0.3",
        *_group("test"),
        *_group("integration"),
    )
    session.run(
        "python", "-c", "import langchain_core; print('langchain-core', langchain_core.__version__)"
    )
    session.run(
        "pytest",
        f"{LANGCHAIN}/tests",
        "integration_tests/langchain",
        *session.posargs,
    )


@nox.session
def package(session: nox.Session) -> None:
    """Build every distribution and check the core's metadata pulls in no framework."""
    session.install("build", "twine")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for pkg in sorted((ROOT / "packages").iterdir()):
        if (pkg / "pyproject.toml").exists():
            session.run("python", "-m", "build", "--outdir", str(dist), str(pkg), silent=True)
    session.run("twine", "check", "--strict", *map(str, sorted(dist.iterdir())))
    session.run("python", str(ROOT / "tools" / "check_wheels.py"), str(dist))


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: start the local emulator and run the tour (offline, no credentials)."""
    session.install(*_editable(CORE, EMULATOR, LANGCHAIN))
    session.run("python", "-m", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks, each reported as a ratio against a baseline measured in the same run."""
    session.install(*_editable(CORE))
    session.run("python", "benchmarks/import_time.py", *session.posargs)


@nox.session
def record(session: nox.Session) -> None:
    """Re-record every cassette against a local in-process emulator (one command).

    Extra arguments narrow the selection (``nox -s record -- -k cache``). Three standard
    LangChain tests send other prompts under langchain-tests 0.3; a full run re-records their
    ``*.lc03.yaml`` cassettes on that line too.
    """
    session.install(
        *_editable(CORE, EMULATOR, LANGCHAIN),
        *_group("test"),
        *_group("integration"),
        "langchain-core>=1.0,<2",
        "langchain-tests>=1.0,<2",
        "langgraph>=0.3",
    )
    lc_standard = f"{LANGCHAIN}/tests/integration_tests"
    session.run(
        "pytest", "integration_tests", lc_standard, "--record-mode=rewrite", *session.posargs
    )
    if not session.posargs:
        session.install("langchain-core>=0.3.60,<0.4", "langchain-tests>=0.3.21,<0.4")
        session.run(
            "pytest",
            lc_standard,
            "--record-mode=rewrite",
            "-k",
            "agent_loop or image_inputs or anthropic_inputs",
        )
    session.run("pytest", "integration_tests/test_cassettes.py", "-q")


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run this file with nox")
