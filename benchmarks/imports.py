"""4. Import time: each package against its framework alone, and against what users import
today for the same framework.

Each sample is a fresh interpreter running ``python -X importtime -c STATEMENT``; a statement's
import time is the sum of the cumulative times of its top-level imports. The statements of a
group alternate sample by sample, so machine noise hits them alike. Everything is
byte-compiled first, as an installed wheel is (``PYTHONDONTWRITEBYTECODE`` is dropped for the
samples), so no sample pays for compiling source.

Besides the time, each adapter's imports are checked against its framework's: the top-level
packages importing the adapter adds beyond the framework and the core (none expected: an
adapter imports no heavy package its framework does not already require).
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import statistics
import subprocess
import sys
import sysconfig
from pathlib import Path

from _contenders import missing_frameworks
from _harness import Budget, Spread, Table

_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_ENV["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

CORE = "import cf_ai_gateway"
GROUPS: list[tuple[str, str | None, list[tuple[str, str, str]]]] = [
    # (title, framework key in _contenders.FRAMEWORKS, [(label, role, statement)])
    (
        "core",
        None,
        [
            ("httpx", "baseline", "import httpx"),
            ("cf_ai_gateway", "ours", CORE),
        ],
    ),
    (
        "LangChain",
        "langchain",
        [
            (
                "langchain_core BaseChatModel",
                "framework",
                "from langchain_core.language_models import BaseChatModel",
            ),
            (
                "cf_ai_gateway_langchain",
                "ours",
                "from cf_ai_gateway_langchain import ChatCloudflareAIGateway",
            ),
            ("langchain_openai ChatOpenAI", "today", "from langchain_openai import ChatOpenAI"),
        ],
    ),
    (
        "LlamaIndex",
        "llamaindex",
        [
            (
                "llama_index.core FunctionCallingLLM",
                "framework",
                "from llama_index.core.llms.function_calling import FunctionCallingLLM",
            ),
            (
                "cf_ai_gateway_llamaindex",
                "ours",
                "from cf_ai_gateway_llamaindex import CloudflareAIGatewayLLM",
            ),
            (
                "llama_index.llms.openai_like OpenAILike",
                "today",
                "from llama_index.llms.openai_like import OpenAILike",
            ),
        ],
    ),
    (
        "LiteLLM",
        "litellm",
        [
            ("litellm (its openai/ route is built in)", "framework", "import litellm"),
            (
                "cf_ai_gateway_litellm, registered",
                "ours",
                "import litellm, cf_ai_gateway_litellm; cf_ai_gateway_litellm.register",
            ),
        ],
    ),
]
_REGISTERED = "import litellm, cf_ai_gateway_litellm.provider"
"""What ``register`` imports (the provider module), timed in place of the attribute access."""


def _compile_everything() -> None:
    """Byte-compile the environment's packages and ours (incremental: quick once done)."""
    roots = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    ours = ("", "_emulator", "_langchain", "_llamaindex", "_litellm")
    for name in (f"cf_ai_gateway{suffix}" for suffix in ours):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin is not None:
            roots.add(str(Path(spec.origin).parent.parent))
    for root in sorted(roots):
        compileall.compile_dir(root, quiet=2, workers=os.cpu_count() or 1)


def _import_us(statement: str) -> int:
    """Microseconds ``statement`` spends importing: its top-level imports' cumulative times."""
    code = _REGISTERED if statement.endswith(".register") else statement
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=_ENV,
    )
    total = 0
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        # a top-level import: its name is not indented under another module's
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2][1:].startswith(" "):
            total += int(parts[1])
    return total


def _packages_added(framework: str, ours: str) -> list[str]:
    """Top-level packages ``ours`` imports beyond ``framework``, the core and the core's own
    dependencies (httpx-sse loads with the core's stream classes, on first use)."""
    code = (
        "import sys\n"
        "def tops(): return {m.split('.')[0] for m in sys.modules}\n"
        f"{CORE}\n"
        "import httpx, httpx_sse\n"
        f"{framework}\n"
        "before = tops()\n"
        f"{_REGISTERED if ours.endswith('.register') else ours}\n"
        "print(' '.join(sorted(tops() - before)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_ENV
    )
    return [p for p in proc.stdout.split() if not p.startswith(("cf_ai_gateway", "_"))]


def run(budget: Budget) -> list[Table]:
    if not budget.smoke:
        _compile_everything()
    table = Table(
        "Import time",
        "Milliseconds to import, in a fresh interpreter (python -X importtime; everything "
        "byte-compiled first): median of the samples (p25-p75), the statements of a group "
        "alternating. 'added' is beyond the group's baseline or framework; 'packages added' "
        "lists the top-level packages the adapter imports beyond its framework and the core.",
        ["group", "import", "role", "ms", "added ms", "samples", "packages added"],
    )
    missing = missing_frameworks()
    groups = GROUPS[:2] if budget.smoke else GROUPS
    for title, framework, statements in groups:
        if framework in missing:
            table.target(f"{title} imports", "framework not installed", None)
            continue
        samples = budget.n(15 if framework is None else (3 if framework == "litellm" else 5), 1)
        times: dict[str, list[int]] = {label: [] for label, _, _ in statements}
        for _ in range(samples):
            for label, _, statement in statements:
                times[label].append(_import_us(statement))
        base = statistics.median(times[statements[0][0]])
        for label, role, statement in statements:
            spread = Spread.of([t / 1e6 for t in times[label]])
            added = (
                ""
                if role in ("baseline", "framework")
                else f"{(spread.median - base / 1e6) * 1e3:+.1f}"
            )
            extra = ""
            if role == "ours" and framework is not None:
                extra = ", ".join(_packages_added(statements[0][2], statement)) or "none"
            table.row(title, label, role, spread.show(1e3, 1), added, samples, extra)
            if role == "ours" and framework is None:
                table.target(
                    "core import <= httpx + 20 ms",
                    f"{(spread.median - base / 1e6) * 1e3:+.1f} ms",
                    spread.median - base / 1e6 <= 0.020,
                )
            elif role == "ours":
                table.target(
                    f"{label} imports nothing heavy beyond its framework",
                    f"packages added: {extra}",
                    extra == "none",
                )
    return [table]
