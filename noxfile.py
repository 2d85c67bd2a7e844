"""Sessions for the cf-ai-gateway monorepo.

``nox`` (no arguments) runs what CI runs: lint, typecheck, the core/emulator tests on every
supported Python, a minute of load on the emulator, real clients against the emulator, every
adapter on each framework line it supports, the docs (every sample run, the site built with
``--strict``), the lowest-dependency checks, the package check, the demo and a smoke run of the
benchmarks. ``nox -s demo`` runs the offline tour; ``nox -s bench`` the benchmarks (a few
minutes; it prints the tables); ``nox -s record`` re-records the cassettes against the local
emulator; ``nox -t langchain`` runs one framework's legs; ``nox -s wheels`` builds the
wheelhouse ``dist/`` that ``pip install --find-links dist "cf-ai-gateway[langchain]"`` installs
from.

Adapters are data: a row of ``ADAPTERS`` (its package, its framework lines with their test
stacks, its integration and cassette folders) gives it its test legs, its ``record`` leg, its
``minimums`` leg and its place in ``typecheck``, ``docs`` and the demo. Extras are data too:
``package`` smoke-tests every extra the core's pyproject declares. Adding an adapter is a row
and an extra.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nox
from packaging.requirements import Requirement
from packaging.version import Version

nox.needs_version = ">=2026.8.10"  # sessions in parallel (allow_parallel)
nox.options.default_venv_backend = "uv|virtualenv"
# Every session's interpreters write bytecode into their venvs: a machine-wide
# PYTHONDONTWRITEBYTECODE made each fresh interpreter (docs samples, subprocess tests, the
# LiteLLM proxy) compile LiteLLM, LlamaIndex and LangChain again, about ten seconds each time.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))
# Two sessions at a time (PARALLEL below marks those that may share the machine: one core each
# is all their timing bounds need); the core suites, whose bounds are tighter, and the load
# test run alone.
nox.options.parallel = max(1, min(2, os.cpu_count() or 1))
nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "load",
    "clients",
    "adapters",
    "docs",
    "minimums",
    "package",
    "demo",
    "bench_smoke",
]

ROOT = Path(__file__).parent
PARALLEL = True
"""``allow_parallel`` of the sessions that may run beside another one (``nox`` runs two at a
time): those that check no timing, and the adapters' legs (one pytest process each; their fault
matrices' bounds are several times what a case takes on one core). The core's suites on two
workers each (``tests``, ``minimums``) and ``load`` run alone."""
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
CORE = "packages/cf-ai-gateway"
EMULATOR = "packages/cf-ai-gateway-emulator"
CORE_PYPROJECT = nox.project.load_toml(ROOT / CORE / "pyproject.toml")
PYTHONS = nox.project.python_versions(CORE_PYPROJECT)
"""Every Python the core declares (its classifiers); the other distributions declare the same."""
EXTRAS = tuple(CORE_PYPROJECT["project"]["optional-dependencies"])
"""The core's extras (``cf-ai-gateway[langchain]``, ``[emulator]``, ``[cli]``, ``[all]``, ...):
``package`` installs each one from the wheelhouse and smoke-tests it."""
WHEELHOUSE = ROOT / "dist"
TOOLS = ("tomli>=2; python_version < '3.11'",)
"""What ``tools/*.py`` need beyond the standard library."""
# Sessions without a python= run on the interpreter that runs nox, so the demo and the
# checks work on any machine with one supported Python.


@dataclass(frozen=True)
class Line:
    """One framework line an adapter is tested on, with the test stack that fits it."""

    id: str
    python: str
    requires: tuple[str, ...]
    record: str | None = None
    """``nox -s record`` re-records on this line too: ``"all"``, or a ``-k`` expression for the
    tests whose requests differ on this line (their cassettes carry a line suffix)."""
    paths: tuple[str, ...] = ()
    """Run only these test paths on this line (default: the adapter's unit and integration
    tests), for a line that exists for one thing (a server extra, say)."""


@dataclass(frozen=True)
class Adapter:
    """A framework adapter: its distribution, framework lines and test folders."""

    name: str
    package: str
    framework: str
    """The framework distribution whose lines ``lines`` are (its version is printed per leg)."""
    lines: tuple[Line, ...]
    minimum_requires: tuple[str, ...] | None = None
    """The test stack ``minimums`` installs next to the framework at its declared lower bound;
    default: the oldest line's requirements other than the framework itself. It must fit
    that lowest version (the session fails if the framework moves)."""

    @property
    def integration(self) -> str:
        return f"integration_tests/{self.name}"

    @property
    def cassettes(self) -> str:
        return f"cassettes/{self.name}"

    @property
    def test_paths(self) -> list[str]:
        return [f"{self.package}/tests", self.integration]

    @property
    def unit_tests(self) -> str:
        unit = f"{self.package}/tests/unit_tests"
        return unit if (ROOT / unit).is_dir() else f"{self.package}/tests"

    def lower_bound(self) -> Version:
        """The lowest ``framework`` version the package's pyproject allows (its ``>=``)."""
        project = nox.project.load_toml(ROOT / self.package / "pyproject.toml")["project"]
        for line in project["dependencies"]:
            req = Requirement(line)
            if req.name == self.framework:
                bounds = [Version(s.version) for s in req.specifier if s.operator in (">=", "==")]
                if bounds:
                    return max(bounds)
        raise ValueError(f"{self.package} declares no lower bound for {self.framework}")

    def minimum_stack(self) -> tuple[str, ...]:
        if self.minimum_requires is not None:
            return self.minimum_requires
        oldest = self.lines[0].requires
        return tuple(r for r in oldest if Requirement(r).name != self.framework)


ADAPTERS = (
    Adapter(
        "langchain",
        "packages/cf-ai-gateway-langchain",
        "langchain-core",
        (
            Line(
                "lc-0.3",
                PYTHONS[0],
                ("langchain-core>=0.3.60,<0.4", "langchain-tests>=0.3.21,<0.4", "langgraph>=0.3"),
                record="agent_loop or image_inputs or anthropic_inputs",
            ),
            Line(
                "lc-1.x",
                "3.12",
                (
                    "langchain-core>=1.0,<2",
                    "langchain-tests>=1.0,<2",
                    "langgraph>=0.3",
                    # create_agent (tests and docs samples skip it where it is absent)
                    "langchain>=1.0,<2",
                ),
                record="all",
            ),
        ),
        # langchain-tests 0.3.21+ needs langchain-core 0.3.75; 0.3.19 is the newest that runs
        # the standard suites on 0.3.60, the adapter's lower bound
        minimum_requires=("langchain-tests>=0.3.19,<0.4", "langgraph>=0.3"),
    ),
    Adapter(
        "llamaindex",
        "packages/cf-ai-gateway-llamaindex",
        "llama-index-core",
        (
            # no extra test stack: LlamaIndex has no standard test suite; the same cassettes
            # replay on every line (requests are pinned), so only the newest line records
            Line("li-0.12", PYTHONS[0], ("llama-index-core>=0.12.52.post1,<0.13",)),
            Line("li-0.13", "3.11", ("llama-index-core>=0.13.6,<0.14",)),
            Line("li-0.14", PYTHONS[-1], ("llama-index-core>=0.14,<0.15",), record="all"),
        ),
    ),
    Adapter(
        "litellm",
        "packages/cf-ai-gateway-litellm",
        "litellm",
        (
            Line("1.80", PYTHONS[0], ("litellm>=1.80,<1.81",)),
            # the real LiteLLM proxy, as its own process; [proxy] resolves to an older 1.x than
            # plain litellm where the newest proxy extras are not published, so it is its own leg
            Line(
                "proxy",
                "3.12",
                ("litellm[proxy]>=1.80,<2",),
                paths=("integration_tests/litellm/test_proxy.py",),
            ),
            Line("1.x", PYTHONS[-1], ("litellm>=1.80,<2",), record="all"),
        ),
    ),
)
# Sessions take an adapter's name and a line's id, not the rows: nox writes every session's
# parameters into a JSON report (each parallel session's own nox process does).
ADAPTER_LEGS = [
    nox.param(
        line.python, adapter.name, line.id, id=f"{adapter.name}-{line.id}", tags=[adapter.name]
    )
    for adapter in ADAPTERS
    for line in adapter.lines
]


def _adapter(name: str) -> Adapter:
    return next(a for a in ADAPTERS if a.name == name)


def _line(adapter: Adapter, line_id: str) -> Line:
    return next(line for line in adapter.lines if line.id == line_id)


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


def _editable(*paths: str) -> list[str]:
    args: list[str] = []
    for path in paths:
        args += ["-e", path]
    return args


ALL_PACKAGES = (CORE, EMULATOR, *(a.package for a in ADAPTERS))


@nox.session(allow_parallel=PARALLEL)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository, and one version
    everywhere (``tools/version.py check``: every pin and ``__version__`` says ``VERSION``)."""
    session.install(*_group("lint"), *TOOLS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("python", "tools/version.py", "check")


@nox.session(allow_parallel=PARALLEL)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on every package's source (each adapter on its newest framework line)."""
    newest = [req for a in ADAPTERS for req in a.lines[-1].requires]
    session.install(*_editable(*ALL_PACKAGES), *newest, *_group("typecheck"))
    session.run("mypy", *(f"{pkg}/src" for pkg in ALL_PACKAGES))


@nox.session(python=PYTHONS[1:])
def tests(session: nox.Session) -> None:
    """Core and emulator unit tests, core doctests, and the core scenarios replayed from
    cassettes, at the newest dependencies. The oldest Python runs the same suites at the
    lowest dependencies (``minimums(core)``; the adapters' oldest lines run on it with the
    newest), so the suite is not run twice on one Python."""
    session.install(*_editable(CORE, EMULATOR), *_group("test"), *_group("integration"))
    session.run(
        "pytest",
        f"{CORE}/tests",
        f"{EMULATOR}/tests",
        "integration_tests/core",
        "integration_tests/test_cassettes.py",
        "integration_tests/test_docs_samples.py",
        "integration_tests/test_packaging.py",
        # two workers: many cases wait on purpose (timeouts, backoff, dripped bytes)
        "-n",
        "2",
        *session.posargs,
    )
    session.run("pytest", "--doctest-modules", f"{CORE}/src", "-q", "-p", "no:randomly")


@nox.session(python=PYTHONS[-1])
def load(session: nox.Session) -> None:
    """About a minute of load on the emulator (its CLI server, its own process): 64 core
    clients, then exact log rows, exact rate limits and bounded memory
    (``tests/test_load.py``; ``CF_AIG_LOAD_SECONDS`` sets the traffic's duration)."""
    session.install(*_editable(CORE, EMULATOR), *_group("test"))
    session.run(
        "pytest",
        f"{EMULATOR}/tests/test_load.py",
        "-q",
        "-rA",
        *session.posargs,
        env={"CF_AIG_LOAD_TEST": "1"},
    )


CLIENTS = (
    "openai>=1.68",
    "anthropic>=0.49",
    "google-genai>=1.10",
    "litellm>=1.60",
    "langchain-openai>=0.3",
    "numpy",  # langchain-core's InMemoryVectorStore, for the retriever test
)
"""The real clients ``clients`` runs unchanged against the emulator (one venv for all)."""


@nox.session(allow_parallel=PARALLEL)
def clients(session: nox.Session) -> None:
    """Real clients no one here wrote (the openai, anthropic and google-genai SDKs, LiteLLM,
    langchain-openai) against the in-process emulator, with only their base URL changed.
    Offline: only 127.0.0.1 is reachable, and LiteLLM uses its bundled model cost map."""
    session.install(*_editable(CORE, EMULATOR), *CLIENTS, *_group("test"), *_group("integration"))
    session.run(
        "python",
        "-c",
        "from importlib.metadata import version as v; print(*(f'{d} {v(d)}' for d in "
        "('openai', 'anthropic', 'google-genai', 'litellm', 'langchain-openai')), sep=', ')",
    )
    session.run(
        "pytest",
        "integration_tests/clients",
        *session.posargs,
        env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )


@nox.session(allow_parallel=PARALLEL)
@nox.parametrize(("python", "adapter_name", "line_id"), ADAPTER_LEGS)
def adapters(session: nox.Session, adapter_name: str, line_id: str) -> None:
    """One adapter on one framework line: its unit tests (with the framework's standard
    suites) and its integration tests replayed from the same cassettes on every line."""
    adapter = _adapter(adapter_name)
    line = _line(adapter, line_id)
    session.install(
        *_editable(CORE, EMULATOR, adapter.package),
        *line.requires,
        *_group("test"),
        *_group("integration"),
    )
    session.run(
        "python",
        "-c",
        f"from importlib.metadata import version; print({adapter.framework!r}, "
        f"version({adapter.framework!r}))",
    )
    session.run("pytest", *(line.paths or adapter.test_paths), *session.posargs)


DOCS_SAMPLES = ("anthropic>=0.49", "google-genai>=1.10")
"""What the docs' samples import beyond our packages and the adapters' frameworks (the
emulator guide points the official SDKs at the emulator)."""


@nox.session(allow_parallel=PARALLEL)
def docs(session: nox.Session) -> None:
    """The documentation site and every sample on it. ``mkdocs build --strict`` (into
    ``site/``) fails on a broken link, a missing page or a reference page that cannot be
    generated; then every Python sample of every page (and of the READMEs) runs on its own (a
    fresh file, a fresh interpreter, warnings as errors) against a local emulator, each adapter
    on its newest framework line, two at a time."""
    newest = [req for a in ADAPTERS for req in a.lines[-1].requires]
    session.install(
        *_editable(*ALL_PACKAGES),
        *newest,
        *DOCS_SAMPLES,
        *_group("test"),
        *_group("integration"),
        *_group("docs"),
        "pytest-xdist>=3",
    )
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        str(ROOT / "site"),
        env={"NO_MKDOCS_2_WARNING": "1"},  # Material's banner about its future, on every build
    )
    session.run("pytest", "integration_tests/docs", "-n", "2", *session.posargs)


MINIMUM_TARGETS = [nox.param(None, id="core")] + [
    nox.param(adapter.name, id=adapter.name, tags=[adapter.name]) for adapter in ADAPTERS
]


@nox.session(python=PYTHONS[0], reuse_venv=False)
@nox.parametrize("adapter_name", MINIMUM_TARGETS)
def minimums(session: nox.Session, adapter_name: str | None) -> None:
    """Our distributions on the lowest versions their lower bounds allow, so a too-loose bound
    fails here rather than on a user's machine: ``minimums(core)`` runs the core and emulator
    suites, ``minimums(<adapter>)`` an adapter's unit tests with its framework at exactly its
    declared lower bound. A fresh venv every time (a reused one would keep newer versions)."""
    adapter = None if adapter_name is None else _adapter(adapter_name)
    packages = (CORE, EMULATOR) if adapter is None else (CORE, EMULATOR, adapter.package)
    # Only our packages' own dependencies go lowest; the test tools installed afterwards may
    # not move them (the frozen set is a constraint).
    session.install("--resolution=lowest-direct", *_editable(*packages))
    frozen = Path(session.create_tmp()) / "lowest.txt"
    freeze = session.run(
        "uv",
        "pip",
        "freeze",
        "--exclude-editable",
        "--python",
        str(Path(session.bin) / "python"),
        silent=True,
        external=True,
    )
    pins = [line for line in str(freeze).splitlines() if "==" in line and " " not in line]
    frozen.write_text("\n".join(pins) + "\n")
    stack = () if adapter is None else adapter.minimum_stack()
    session.install("-c", str(frozen), *stack, *_group("test"), *_group("integration"))
    if adapter is None:
        session.run(
            "python",
            "-c",
            "import httpx, httpx_sse, starlette, uvicorn; print('httpx',"
            " httpx.__version__, 'starlette', starlette.__version__)",
        )
        session.run(
            "pytest",
            f"{CORE}/tests",
            f"{EMULATOR}/tests",
            "integration_tests/core",
            "-n",
            "2",
            *session.posargs,
        )
        return
    bound = adapter.lower_bound()
    installed = Version(
        (
            session.run(
                "python",
                "-c",
                f"from importlib.metadata import version; print(version({adapter.framework!r}))",
                silent=True,
            )
            or ""
        ).strip()
    )
    print(f"{adapter.framework} {installed} (declared lower bound {bound})")
    if bound not in (installed, Version(installed.base_version)):
        session.error(
            f"{adapter.framework} {installed} is installed, not the declared lower bound "
            f"{bound}: raise the bound in {adapter.package}/pyproject.toml, or fit "
            "minimum_requires to it"
        )
    session.run("pytest", adapter.unit_tests, *session.posargs)


def _build_wheelhouse(session: nox.Session) -> Path:
    """Every distribution (its sdist, then the wheel built from the sdist) into ``dist/``,
    checked (``tools/check_wheels.py``)."""
    shutil.rmtree(WHEELHOUSE, ignore_errors=True)
    session.run("uv", "build", "--all-packages", "--out-dir", str(WHEELHOUSE), "-q", external=True)
    session.run("python", str(ROOT / "tools" / "check_wheels.py"), str(WHEELHOUSE))
    return WHEELHOUSE


@nox.session
def wheels(session: nox.Session) -> None:
    """Build the wheelhouse ``dist/`` (a wheel and an sdist of every distribution, metadata
    checked). Then, with plain pip and no uv:
    ``pip install --find-links dist "cf-ai-gateway[langchain]"``."""
    session.install(*TOOLS)
    dist = _build_wheelhouse(session)
    print(f"\n{dist}: pip install --find-links {dist} 'cf-ai-gateway[EXTRA]'")


@nox.session(allow_parallel=PARALLEL)
def package(session: nox.Session) -> None:
    """Build and check the wheelhouse (``twine check --strict`` too), then, for every extra
    of the core, a fresh venv that installs ``cf-ai-gateway[EXTRA]`` (and ``[emulator]``)
    from the wheels alone and runs ``tools/smoke.py`` from outside the repository: the
    installed distributions are the wheels, the core and each adapter make one call and one
    stream against the installed emulator, configured from the environment."""
    session.install("twine", *TOOLS)
    dist = _build_wheelhouse(session)
    built = sorted(str(p) for p in dist.iterdir() if p.suffix in (".whl", ".gz"))
    session.run("twine", "check", "--strict", *built)
    tmp = Path(session.create_tmp()).resolve()
    smoke = tmp / "smoke.py"
    shutil.copy(ROOT / "tools" / "smoke.py", smoke)
    base_python = str(Path(session.bin) / "python")
    # uv's cache may hold an older build of the same name and version: never use it for ours
    refresh = [
        arg
        for wheel in sorted(dist.glob("*.whl"))
        for arg in ("--refresh-package", wheel.name.split("-", 1)[0].replace("_", "-"))
    ]
    for extra in EXTRAS:
        venv = tmp / f"venv-{extra}"
        shutil.rmtree(venv, ignore_errors=True)
        session.run("uv", "venv", "-q", "--python", base_python, str(venv), external=True)
        python = str(venv / "bin" / "python")
        session.run(
            "uv",
            "pip",
            "install",
            "-q",
            "--python",
            python,
            "--find-links",
            str(dist),
            *refresh,
            f"cf-ai-gateway[{extra}]",
            "cf-ai-gateway[emulator]",
            external=True,
        )
        with session.chdir(tmp):
            session.run(python, "-I", str(smoke), extra, str(dist), external=True)


@nox.session(allow_parallel=PARALLEL)
def demo(session: nox.Session) -> None:
    """The main job: start the local emulator and run the tour (offline, no credentials)."""
    session.install(*_editable(*ALL_PACKAGES))
    session.run("python", "-m", "demo", *session.posargs)


BENCH_ALTERNATIVES = ("openai", "langchain-openai", "llama-index-llms-openai-like")
"""What users pick today for the same endpoint, which ``bench`` measures next to ours."""


def _bench_install(session: nox.Session, *, compile_bytecode: bool = True) -> None:
    """Every package, each adapter's framework on its newest line (the framework alone, not
    its test stack) and the alternatives, byte-compiled at install (as wheels install), so no
    import pays for compiling source (the smoke run skips that: it measures nothing)."""
    frameworks = [
        req
        for a in ADAPTERS
        for req in a.lines[-1].requires
        if Requirement(req).name == a.framework
    ]
    session.install(
        *_editable(*ALL_PACKAGES),
        *frameworks,
        *BENCH_ALTERNATIVES,
        env={"UV_COMPILE_BYTECODE": "1" if compile_bytecode else "0"},
    )


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks (``benchmarks/run.py``): per-call overhead, streaming, async
    concurrency, import time and the emulator, each reported as medians with their spread and
    ratios to a baseline measured in the same run, with the issue's targets marked met or
    missed (never failing the run). ``nox -s bench -- calls streams`` runs some of them,
    ``-- --markdown FILE`` also writes the tables as Markdown (``docs/benchmarks.md``)."""
    _bench_install(session)
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(name="bench_smoke", allow_parallel=PARALLEL)
def bench_smoke(session: nox.Session) -> None:
    """Every benchmark with a few iterations, so the scripts cannot rot (CI runs it; its
    numbers mean nothing and are not judged)."""
    _bench_install(session, compile_bytecode=False)
    session.run("python", "benchmarks/run.py", "--smoke", *session.posargs)


RECORD_TARGETS = [nox.param(None, id="core")] + [
    nox.param(adapter.name, id=adapter.name) for adapter in ADAPTERS
]


@nox.session
@nox.parametrize("adapter_name", RECORD_TARGETS)
def record(session: nox.Session, adapter_name: str | None) -> None:
    """Re-record cassettes against a local in-process emulator: ``nox -s record`` does every
    folder, ``nox -s "record(langchain)"`` one adapter's. Extra arguments narrow the selection
    (``nox -s "record(core)" -- -k cache``)."""
    adapter = None if adapter_name is None else _adapter(adapter_name)
    packages = (CORE, EMULATOR) if adapter is None else (CORE, EMULATOR, adapter.package)
    session.install(*_editable(*packages), *_group("test"), *_group("integration"))
    if adapter is None:
        session.run("pytest", "integration_tests/core", "--record-mode=rewrite", *session.posargs)
    else:
        package_cassette_tests = [
            p for p in (f"{adapter.package}/tests/integration_tests",) if (ROOT / p).is_dir()
        ]
        # the newest line records everything; an older line re-records only what differs on it
        for line in reversed(adapter.lines):
            if line.record is None or (session.posargs and line.record != "all"):
                continue
            session.install(*line.requires)
            selection = [] if line.record == "all" else ["-k", line.record]
            session.run(
                "pytest",
                adapter.integration,
                *package_cassette_tests,
                "--record-mode=rewrite",
                *selection,
                *session.posargs,
            )
    session.run("pytest", "integration_tests/test_cassettes.py", "-q")


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run this file with nox")
