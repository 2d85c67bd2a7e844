"""``python -m demo [--only NAME ...]``: run the tour against an in-process emulator."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time

from rich.console import Console
from rich.rule import Rule

from demo import SECTIONS, DemoContext

SECTION_MODULES = (
    "demo.core_tour",
    "demo.langchain_tour",
    "demo.llamaindex_tour",
    "demo.litellm_tour",
)
"""Tour modules, in order; missing modules are simply not there yet."""


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--only", nargs="*", metavar="NAME", help="run only these sections")
    args = parser.parse_args(argv)
    console = Console()
    for module in SECTION_MODULES:
        if _available(module):
            importlib.import_module(module)

    from cf_ai_gateway_emulator.testing import run_emulator

    started = time.perf_counter()
    with run_emulator(stream_chunk_delay_ms=25) as emulator:
        console.print(Rule("[bold]cf-ai-gateway tour[/]"))
        console.print(
            f"Emulator running at [cyan]{emulator.base_url}[/] "
            f"(account [cyan]{emulator.account_id}[/]); no network besides 127.0.0.1."
        )
        ctx = DemoContext(console, emulator)
        for sec in SECTIONS:
            if args.only and sec.name not in args.only:
                continue
            missing = [m for m in sec.requires if not _available(m)]
            console.print(Rule(f"[bold]{sec.title}[/]"))
            if missing:
                console.print(f"[yellow]skipped: install {', '.join(missing)}[/]")
                continue
            sec.run(ctx)
    console.print(Rule())
    console.print(f"[green]Tour finished in {time.perf_counter() - started:.1f} s.[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
