"""What every benchmark shares: servers in their own processes, contenders interleaved in
rounds, medians with their spread, ratios to a baseline of the same run, and the tables.

A benchmark returns :class:`Table` objects; ``run.py`` prints them (and writes them as
Markdown with ``--markdown``). Nothing here judges a number: targets are shown next to the
measurements as met or missed, and the run never fails on them.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Budget:
    """How much of everything a run does: the full run, or the smoke run CI makes (a few
    iterations, so the scripts cannot rot; its numbers mean nothing)."""

    smoke: bool = False

    def n(self, full: int, smoke: int = 1) -> int:
        return smoke if self.smoke else full

    def seconds(self, full: float, smoke: float = 0.05) -> float:
        return smoke if self.smoke else full


# --- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """A median with its interquartile range (the spread across rounds or samples)."""

    median: float
    p25: float
    p75: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            return cls(float("nan"), float("nan"), float("nan"), 0)
        ordered = sorted(values)
        return cls(
            statistics.median(ordered),
            _quantile(ordered, 0.25),
            _quantile(ordered, 0.75),
            len(ordered),
        )

    def show(self, scale: float = 1.0, digits: int = 0) -> str:
        """``median (p25-p75)``, scaled (``1e6``: seconds shown as microseconds)."""
        if self.n == 0:
            return "-"
        m, lo, hi = (f"{v * scale:,.{digits}f}" for v in (self.median, self.p25, self.p75))
        return m if self.n < 3 else f"{m} ({lo}-{hi})"


def _quantile(ordered: Sequence[float], q: float) -> float:
    if len(ordered) == 1:
        return ordered[0]
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, interpolated; NaN when there are none."""
    return _quantile(sorted(values), q) if values else float("nan")


def ratio(value: float, base: float) -> str:
    if not base or base != base or value != value:
        return "-"
    return f"{value / base:.2f}x"


# --- rounds ----------------------------------------------------------------------------------


@dataclass
class Samples:
    """Per-contender samples of one measurement, filled round by round."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(value)

    def spread(self, name: str) -> Spread:
        return Spread.of(self.values.get(name, []))


def interleaved(names: Sequence[str], rounds: int) -> Iterator[tuple[int, str]]:
    """``(round, name)`` for every contender in every round, the order rotated each round so
    that no contender always runs right after the same one (machine noise hits all alike)."""
    for r in range(rounds):
        shift = r % len(names) if names else 0
        for name in [*names[shift:], *names[:shift]]:
            yield r, name


def per_call(call: Callable[[], Any], calls: int) -> tuple[float, float]:
    """Run ``call`` ``calls`` times; (client CPU seconds per call, wall seconds per call).
    CPU is ``time.process_time``: every thread of this process, none of the server's."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(calls):
        call()
    return (time.process_time() - cpu0) / calls, (time.perf_counter() - wall0) / calls


# --- servers in their own processes ----------------------------------------------------------


@contextlib.contextmanager
def server(*args: str, env: dict[str, str] | None = None) -> Iterator[int]:
    """Start ``_servers.py ARGS`` (or, when ``args[0]`` is ``-m``, that module) in its own
    process; yield its port once it listens; stop it afterwards."""
    if args[0] == "-m":
        command = [sys.executable, *args]
    else:
        command = [sys.executable, str(HERE / "_servers.py"), *args]
    errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=errors, text=True, env={**os.environ, **(env or {})}
    )
    try:
        yield _port_of(proc, errors)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        errors.close()


def _port_of(proc: subprocess.Popen[str], errors: IO[str]) -> int:
    assert proc.stdout is not None
    for line in proc.stdout:
        words = line.split()
        if words[:1] == ["listening"]:
            return int(words[1])
        if "listening on" in line:  # cf-ai-gateway-emulator serve
            return int(line.rsplit(":", 1)[1])
    errors.seek(0)
    raise RuntimeError(f"the server {proc.args!r} did not start:\n{errors.read()[-2000:]}")


# --- tables ----------------------------------------------------------------------------------


@dataclass
class Table:
    """One table of results: a title, a note on what was measured, column headers, rows."""

    title: str
    note: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    targets: list[tuple[str, str, bool | None]] = field(default_factory=list)
    """``(target, measured, met)``; ``met`` is ``None`` when it could not be measured."""

    def row(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def target(self, what: str, measured: str, met: bool | None) -> None:
        self.targets.append((what, measured, met))

    def text(self) -> str:
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
        lines = [f"\n== {self.title}", *_wrap(self.note, "   ")]
        lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=False)))
        lines.append("  ".join("-" * w for w in widths))
        for row in self.rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)))
        for what, measured, met in self.targets:
            lines.append(f"   target {_verdict(met)}: {what}: {measured}")
        return "\n".join(lines)

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", self.note, ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
        if self.targets:
            lines += ["", "| target | measured | |", "|---|---|---|"]
            for what, measured, met in self.targets:
                lines.append(f"| {what} | {measured} | {_verdict(met)} |")
        return "\n".join(lines) + "\n"


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "not measured"}[met]


def _wrap(text: str, indent: str, width: int = 96) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width - len(indent):
            lines.append(indent + current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(indent + current)
    return lines


# --- the machine -----------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load average (1, 5, 15 min)": load,
    }


def versions(*distributions: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for dist in distributions:
        try:
            out.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            out.append(f"{dist} (not installed)")
    return ", ".join(out)
