"""Run the Python samples of a docs page the way a reader would: each block on its own, copied
into a fresh file, run by a fresh interpreter with warnings (deprecations included) as errors,
against a local emulator.

The environment is what the docs tell users to set: ``CF_AIG_URL`` (the gateway URL) and
``CF_AIG_TOKEN``, plus a fake ``OPENAI_API_KEY`` (for samples that show where a key goes; the
emulator accepts any). ``CF_ACCOUNT_ID``, ``CF_GATEWAY_ID`` and ``CF_AIG_PROVIDER_API_KEY`` are
removed so a sample cannot lean on the developer's own settings. A block preceded by
``<!-- docs-test: skip REASON -->`` is not run; the reason must say why (e.g. it needs
Cloudflare credentials). An adapter's docs test is a few lines::

    from integration_tests.docs_samples import DocSample, python_blocks, run_sample

    DOC = ROOT / "docs" / "llamaindex.md"

    @pytest.mark.parametrize("sample", python_blocks(DOC), ids=str)
    def test_sample_runs(sample: DocSample, docs_env: dict[str, str], tmp_path: Path) -> None:
        run_sample(sample, docs_env, tmp_path)

(``docs_env`` is the fixture in ``integration_tests/conftest.py``.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DocSample", "docs_environment", "python_blocks", "run_sample"]

ROOT = Path(__file__).resolve().parent.parent
_BLOCK = re.compile(
    r"(<!-- docs-test: skip(?P<why>[^>]*)-->\s*\n)?```python\n(?P<code>.*?)```", re.S
)
FAKE_OPENAI_KEY = "sk-docs-not-a-real-key"
SAMPLE_TIMEOUT_S = 180


@dataclass(frozen=True)
class DocSample:
    """One runnable Python block: the page, the line its code starts on, the code."""

    doc: Path
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.doc.name}:{self.line}"


def python_blocks(doc: Path) -> list[DocSample]:
    """Every ``python`` block of ``doc`` that is not marked ``docs-test: skip``. A skip marker
    without a reason is an error (skips must say why)."""
    text = doc.read_text(encoding="utf-8")
    samples = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code")) + 1
        if match.group(1):
            if not match.group("why").strip():
                raise ValueError(f"{doc.name}:{line}: a docs-test skip must give its reason")
            continue
        samples.append(DocSample(doc, line, match.group("code")))
    return samples


@contextmanager
def docs_environment(gateway_id: str = "docs") -> Iterator[dict[str, str]]:
    """Start an emulator with an open gateway ``gateway_id``; yield the environment a sample
    runs in."""
    from cf_ai_gateway_emulator.testing import run_emulator

    with run_emulator() as emulator:
        emulator.create_gateway(gateway_id)
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("CF_ACCOUNT_ID", "CF_GATEWAY_ID", "CF_AIG_PROVIDER_API_KEY")
            and not k.startswith("PYTEST_")
        }
        env.update(
            CF_AIG_URL=emulator.gateway_url(gateway_id),
            CF_AIG_TOKEN=emulator.token,
            OPENAI_API_KEY=FAKE_OPENAI_KEY,
            LITELLM_LOCAL_MODEL_COST_MAP="True",
        )
        # Samples are fresh interpreters importing large frameworks: let the first one write
        # the bytecode the next ones read (a machine-wide PYTHONDONTWRITEBYTECODE would make
        # every sample compile those frameworks from source again).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        yield env


def run_sample(
    sample: DocSample,
    env: Mapping[str, str],
    workdir: Path,
    *,
    warning_filters: Sequence[str] = (),
) -> str:
    """Write ``sample`` into a fresh file in ``workdir`` and run it with ``python -W error``;
    returns its stdout. ``warning_filters`` are extra ``-W`` options placed after ``error``
    (for third-party warnings a page cannot avoid; name the module)."""
    script = workdir / f"{sample.doc.stem}_line_{sample.line}.py"
    script.write_text(sample.code, encoding="utf-8")
    args = [sys.executable, "-W", "error"]
    for spec in warning_filters:
        args += ["-W", spec]
    done = subprocess.run(
        [*args, str(script)],
        cwd=workdir,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=SAMPLE_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"the sample at {sample} failed (exit {done.returncode}) when run on its own:\n"
            f"--- code ---\n{sample.code}--- stderr ---\n{done.stderr[-4000:]}"
        )
    return done.stdout
