"""What the CLI prints: plain aligned text with nothing but the standard library, colour and
rich tables when ``rich`` is installed and stdout is a terminal, JSON with ``--json``."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["Output", "Style"]

Style = str
"""One of ``"ok"``, ``"warn"``, ``"fail"``, ``"dim"``, ``"bold"`` or ``""`` (no style)."""

_RICH_STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red", "dim": "dim", "bold": "bold"}


def _rich_console(stream: TextIO) -> Any:
    """A rich ``Console`` on ``stream``, or ``None`` when rich is not installed."""
    try:
        from rich.console import Console
    except ImportError:
        return None
    return Console(file=stream, highlight=False, soft_wrap=False)


class Output:
    """Prints lines, key/value blocks, tables and JSON to ``stream`` (stdout by default).

    ``rich``: ``None`` decides by itself (rich installed and ``stream`` a terminal), ``True``
    or ``False`` force it (``--plain`` is ``False``). Data is never read as rich markup.
    """

    def __init__(
        self, stream: TextIO | None = None, *, json_mode: bool = False, rich: bool | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.json_mode = json_mode
        use_rich = rich if rich is not None else _isatty(self.stream)
        self._console = _rich_console(self.stream) if use_rich and not json_mode else None

    @property
    def rich(self) -> bool:
        return self._console is not None

    # --- text -------------------------------------------------------------------------------

    def line(self, text: str = "", style: Style = "") -> None:
        if self._console is not None:
            from rich.text import Text

            self._console.print(Text(text, style=_RICH_STYLES.get(style, "")))
        else:
            self.stream.write(text + "\n")

    def fields(self, pairs: Sequence[tuple[str, str]], *, indent: int = 0) -> None:
        """``key  value`` lines with the values aligned."""
        width = max((len(k) for k, _ in pairs), default=0)
        pad = " " * indent
        for key, value in pairs:
            if self._console is not None:
                from rich.text import Text

                text = Text(pad)
                text.append(key.ljust(width), style="bold")
                text.append("  " + value)
                self._console.print(text)
            else:
                self.stream.write(f"{pad}{key.ljust(width)}  {value}".rstrip() + "\n")

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        styles: Sequence[Style] | None = None,
        header: bool = True,
        min_widths: Sequence[int] | None = None,
    ) -> None:
        """A table; ``styles`` gives one style per row (``"fail"`` for a failed request...).
        ``header=False`` and ``min_widths`` let rows printed later line up with an earlier
        table (``logs --follow``)."""
        if self._console is not None:
            from rich import box
            from rich.table import Table
            from rich.text import Text

            table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, show_header=header)
            for i, column in enumerate(columns):
                table.add_column(
                    column, overflow="fold", min_width=min_widths[i] if min_widths else None
                )
            for i, row in enumerate(rows):
                style = _RICH_STYLES.get(styles[i], "") if styles else ""
                table.add_row(*(Text(cell) for cell in row), style=style)
            self._console.print(table)
            return
        widths = [len(c) for c in columns]
        if min_widths:
            widths = [max(w, m) for w, m in zip(widths, min_widths, strict=True)]
        for row in rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
        for row in ([list(columns)] if header else []) + [list(r) for r in rows]:
            self.stream.write(
                "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
            )

    def block(self, title: str, text: str) -> None:
        """A titled block of verbatim text (a request or response body)."""
        self.line(title, "bold")
        for line in text.splitlines() or [""]:
            if self._console is not None:
                from rich.text import Text

                self._console.print(Text("  " + line))
            else:
                self.stream.write("  " + line + "\n")

    # --- JSON -------------------------------------------------------------------------------

    def json(self, value: Any, *, compact: bool = False) -> None:
        if compact:
            text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
        else:
            text = json.dumps(value, ensure_ascii=False, default=str, indent=2)
        self.stream.write(text + "\n")
        self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
