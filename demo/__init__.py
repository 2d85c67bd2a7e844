"""The project tour: ``python -m demo`` (from the repository root, with the workspace venv).

It starts the local emulator in-process on a free 127.0.0.1 port and runs the registered
sections in order. The core section lives in ``demo/core_tour.py``; an adapter adds its own
``demo/<adapter>_tour.py`` that registers a section with :func:`section`, naming the modules it
needs in ``requires`` so it is skipped (with a note) when they are not installed::

    from demo import DemoContext, section

    @section("langchain", "LangChain through the gateway", requires=("cf_ai_gateway_langchain",))
    def tour(ctx: DemoContext) -> None:
        ctx.console.print(...)

and lists its module in ``demo.__main__.SECTION_MODULES``. No credentials, no network
besides 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SECTIONS", "DemoContext", "DemoError", "Section", "section"]


class DemoError(AssertionError):
    """The tour saw something the gateway should not have done."""


@dataclass
class DemoContext:
    """What a section gets: a rich ``console`` and the running ``emulator`` handle."""

    console: Any
    emulator: Any
    notes: list[str] = field(default_factory=list)

    def gateway(self, gateway_id: str = "demo", **kw: Any) -> Any:
        """A ``cf_ai_gateway.Gateway`` for one of the emulator's gateways."""
        return self.emulator.gateway(gateway_id, **kw)

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            raise DemoError(message)


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    run: Callable[[DemoContext], None]
    requires: tuple[str, ...] = ()


SECTIONS: list[Section] = []


def section(
    name: str, title: str, *, requires: tuple[str, ...] = ()
) -> Callable[[Callable[[DemoContext], None]], Callable[[DemoContext], None]]:
    """Register a tour section (runs in registration order)."""

    def register(fn: Callable[[DemoContext], None]) -> Callable[[DemoContext], None]:
        SECTIONS.append(Section(name, title, fn, requires))
        return fn

    return register
