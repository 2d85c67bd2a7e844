"""Import cost of ``cf_ai_gateway`` against ``httpx`` alone, measured in the same run.

Each sample is a fresh interpreter running ``-X importtime``; the two imports alternate so
machine noise hits both alike. Both packages are byte-compiled first (as an installed wheel
is), so neither pays for compiling its source. Reports medians and the ratio (core / httpx).
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import statistics
import subprocess
import sys
from pathlib import Path

_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _compile(package: str) -> None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{package} is not installed")
    compileall.compile_dir(str(Path(spec.origin).parent), quiet=1)


def _cumulative_us(module: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=_ENV,
    )
    for line in reversed(proc.stderr.splitlines()):
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip() == module:
            return int(parts[1])
    raise RuntimeError(f"no importtime line for {module}")


def main(samples: int = 21) -> None:
    for package in ("httpx", "httpx_sse", "cf_ai_gateway"):
        _compile(package)
    baseline: list[int] = []
    core: list[int] = []
    for _ in range(samples):
        baseline.append(_cumulative_us("httpx"))
        core.append(_cumulative_us("cf_ai_gateway"))
    b, c = statistics.median(baseline), statistics.median(core)
    print(f"import httpx          median {b / 1000:7.1f} ms  ({samples} runs)")
    print(f"import cf_ai_gateway  median {c / 1000:7.1f} ms  ({samples} runs)")
    print(f"ratio cf_ai_gateway / httpx = {c / b:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 21)
