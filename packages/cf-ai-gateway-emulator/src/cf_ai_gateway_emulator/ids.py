"""Identifiers: lowercase UUIDv7 strings for log and request ids (as the gateway sends since
2026-10), and small helpers for deterministic ids."""

from __future__ import annotations

import hashlib
import os
import threading
import time

__all__ = ["short_hash", "uuid7"]

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> str:
    """A lowercase RFC 9562 UUIDv7: 48-bit ms timestamp, monotonic within one process."""
    global _last_ms, _counter
    entropy = int.from_bytes(os.urandom(10), "big")  # one read: 62 random bits, 10 of counter
    rand = entropy & ((1 << 62) - 1)
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _counter += 1
            if _counter >= 0x1000:
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _counter = (entropy >> 64) & 0x3FF
        counter = _counter
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def short_hash(*parts: object, length: int = 24) -> str:
    """A stable hex digest of ``parts`` (for tool-call ids, cache keys, ...)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()
    return digest[:length]
