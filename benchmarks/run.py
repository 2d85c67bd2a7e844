"""Run the benchmarks and print one table per benchmark (``nox -s bench``).

    python benchmarks/run.py                    # everything (a few minutes)
    python benchmarks/run.py calls streams      # some of them
    python benchmarks/run.py --smoke            # a few iterations of each: CI's smoke run
    python benchmarks/run.py --markdown out.md  # the tables as Markdown too (docs/benchmarks.md)

Each benchmark reports medians with their spread and ratios to a baseline measured in the
same run; targets are shown as met or missed and never fail the run. See
``docs/benchmarks.md`` for what each table measures.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from _harness import Budget, Table, machine, versions

BENCHMARKS = ("calls", "streams", "concurrency", "imports", "emulator")
DISTRIBUTIONS = (
    "cf-ai-gateway",
    "httpx",
    "httpx-sse",
    "openai",
    "langchain-core",
    "langchain-openai",
    "llama-index-core",
    "llama-index-llms-openai-like",
    "litellm",
    "starlette",
    "uvicorn",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmarks", nargs="*", choices=[[], *BENCHMARKS], default=[])
    parser.add_argument("--smoke", action="store_true", help="a few iterations of everything")
    parser.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown")
    args = parser.parse_args(argv)
    budget = Budget(smoke=args.smoke)
    chosen = args.benchmarks or list(BENCHMARKS)
    started = time.perf_counter()
    before = machine()
    print(
        "cf-ai-gateway benchmarks"
        + (" (smoke run: the numbers mean nothing)" if args.smoke else "")
    )
    for key, value in before.items():
        print(f"  {key}: {value}")
    print(f"  {versions(*DISTRIBUTIONS)}")
    tables: list[Table] = []
    for name in chosen:
        t0 = time.perf_counter()
        module = importlib.import_module(name)
        for table in module.run(budget):
            print(table.text(), flush=True)
            tables.append(table)
        print(f"   ({name}: {time.perf_counter() - t0:.0f} s)", flush=True)
    after = machine()["load average (1, 5, 15 min)"]
    elapsed = time.perf_counter() - started
    print(f"\nload average after the run: {after}; the run took {elapsed:.0f} s")
    if args.markdown:
        lines = ["## Machine", ""]
        lines += [f"- {k}: {v}" for k, v in before.items()]
        lines += [f"- load average after the run: {after}", f"- {versions(*DISTRIBUTIONS)}", ""]
        lines += [t.markdown() for t in tables]
        Path(args.markdown).write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
