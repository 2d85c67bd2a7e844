"""Text helpers of the mock: a stable stand-in tokenizer, word pieces, snippets, digests."""

from __future__ import annotations

import hashlib
import json
import math
import re

__all__ = ["count_tokens", "digest", "snippet", "split_evenly", "word_pieces"]

_PIECE = re.compile(r"\S+\s*")
_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """Words and punctuation marks: a stable stand-in for a tokenizer."""
    return len(_TOKEN.findall(text))


def word_pieces(text: str) -> list[str]:
    """``text`` as words with their trailing whitespace (what the mock counts as output tokens)."""
    return _PIECE.findall(text)


def snippet(text: str, words: int = 12) -> str:
    """The first ``words`` words of ``text``, with `` ...`` when there were more."""
    parts = text.split()
    out = " ".join(parts[:words])
    return out + (" ..." if len(parts) > words else "")


def split_evenly(text: str, parts: int) -> list[str]:
    """``text`` in at most ``parts`` pieces of equal length (``[""]`` for no text)."""
    if not text:
        return [""]
    size = max(1, math.ceil(len(text) / parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


_DIGEST_JSON = json.JSONEncoder(sort_keys=True, default=str)
"""``json.dumps(..., sort_keys=True, default=str)`` without building an encoder per call."""


def digest(*parts: object) -> str:
    """A stable hex digest of JSON-able ``parts`` (ids and seeds of deterministic answers)."""
    return hashlib.sha256(_DIGEST_JSON.encode(parts).encode()).hexdigest()
