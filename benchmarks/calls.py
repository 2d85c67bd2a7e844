"""1. Per-call overhead: one non-streaming chat call, against an instant local server.

Every contender sends the same request to the same ``instant`` server (its own process, so its
CPU is not counted) and holds the same answer. Measured per contender, in batches interleaved
round by round: the client's CPU per call (``time.process_time``: every thread of this process)
and the wall time per call. Ratios are to raw httpx (the floor of any client); each adapter is
also compared with raw httpx plus its framework's own no-I/O floor, and with what users of that
framework pick today.

"Raw httpx plus the floor" is measured two ways: the sum of the two measured apart, and both in
one call (the floor's model, then a raw httpx call), which is what an adapter does at least.
The second is the larger: two code paths run together leave each other colder CPU caches than
each finds when it runs alone in a loop. The adapter target is taken against the second.
"""

from __future__ import annotations

from _contenders import Contender, calls, missing_frameworks
from _harness import Budget, Samples, Table, interleaved, per_call, ratio, server

RAW = "raw httpx"
CORE = "core GatewayClient.chat_completions"


def run(budget: Budget) -> list[Table]:
    rounds, batch = budget.n(21, 2), budget.n(20, 2)
    with server("instant") as port:
        contenders = {c.name: c for c in calls(f"http://127.0.0.1:{port}/v1/acc/gw")}
        for contender in contenders.values():  # pools, imports, first-call setup
            for _ in range(budget.n(20, 1)):
                if not contender.run():
                    raise RuntimeError(f"{contender.name} answered nothing")
        cpu, wall = Samples(), Samples()
        for _, name in interleaved(list(contenders), rounds):
            c, w = per_call(contenders[name].run, batch)
            cpu.add(name, c)
            wall.add(name, w)
    return [_table(contenders, cpu, wall, rounds, batch)]


def _table(
    contenders: dict[str, Contender], cpu: Samples, wall: Samples, rounds: int, batch: int
) -> Table:
    base = cpu.spread(RAW).median
    table = Table(
        "Per-call overhead (sync, non-streaming)",
        f"Client CPU per call in microseconds: median of {rounds} rounds of {batch} calls per "
        "contender (p25-p75 in brackets), contenders interleaved; wall time per call and "
        "calls/s on one thread; the server is an instant local server in its own process. "
        "'vs raw + floor': against raw httpx plus the framework's own no-I/O floor, measured "
        "apart (their sum) and in one call (the floor's model, then a raw httpx call).",
        [
            "contender",
            "role",
            "CPU/call us",
            "vs raw httpx",
            "vs raw + floor (apart)",
            "vs raw + floor (one call)",
            "wall/call us",
            "calls/s",
        ],
    )
    floors = {
        c.framework: cpu.spread(c.name).median for c in contenders.values() if c.role == "floor"
    }
    together = {
        c.framework: cpu.spread(c.name).median for c in contenders.values() if c.role == "raw+floor"
    }
    for name, c in contenders.items():
        m = cpu.spread(name).median
        compared = c.role in ("adapter", "today") and c.framework in floors
        w = wall.spread(name).median
        table.row(
            name,
            c.role,
            cpu.spread(name).show(1e6),
            ratio(m, base),
            ratio(m, base + floors[c.framework]) if compared else "",
            ratio(m, together[c.framework]) if compared else "",
            f"{w * 1e6:,.0f}",
            f"{1 / w:,.0f}" if w else "-",
        )
    core = cpu.spread(CORE).median
    table.target("core <= 1.1x raw httpx (CPU/call)", ratio(core, base), core <= 1.1 * base)
    for framework in ("langchain", "llamaindex", "litellm"):
        if framework in missing_frameworks():
            table.target(f"{framework} adapter", "framework not installed", None)
            continue
        ours = next(
            c.name for c in contenders.values() if c.framework == framework and c.role == "adapter"
        )
        today = next(
            c.name for c in contenders.values() if c.framework == framework and c.role == "today"
        )
        o, t, floor = cpu.spread(ours).median, cpu.spread(today).median, floors[framework]
        one = together[framework]
        table.target(
            f"{ours} <= 1.25x (raw httpx + framework floor, in one call)",
            f"{ratio(o, one)} ({ratio(o, base + floor)} of the two measured apart)",
            o <= 1.25 * one,
        )
        table.target(f"{ours} faster than {today}", ratio(o, t), o < t)
    return table
