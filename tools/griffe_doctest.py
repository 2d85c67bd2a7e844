"""A griffe extension for the API reference (``mkdocs.yml``): the docstrings are written for
``help()`` and doctest, so their ``>>>`` examples are plain text; this fences each example
(the prompts, continuations and expected output) as a ``pycon`` code block before
mkdocstrings renders the docstring as Markdown. Nothing else in a docstring changes.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """Wrap every run of ``>>>`` lines (and the output lines after them, up to a blank line)
    in a fenced ``pycon`` block; leave everything else as it is."""
    out: list[str] = []
    in_example = False
    for line in text.splitlines():
        stripped = line.strip()
        if not in_example and stripped.startswith(">>>"):
            if out and out[-1].strip():
                out.append("")
            out.append("```pycon")
            in_example = True
        elif in_example and not stripped:
            out.append("```")
            in_example = False
        out.append(line.strip() if in_example else line)
    if in_example:
        out.append("```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
