"""Storage (SQLite: WAL, log limits, cache expiry, threads) and ids (UUIDv7)."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest
from cf_ai_gateway_emulator.ids import uuid7
from cf_ai_gateway_emulator.storage import Storage


def _log(i: int) -> dict[str, object]:
    return {"id": f"log-{i}", "n": i}


def test_file_database_uses_wal(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "emu.sqlite3"
    storage = Storage(db)
    assert storage.journal_mode == "wal"
    storage.insert_log("a", "g", _log(1), None, None)
    # Another connection sees the database in WAL mode too (the mode is persistent).
    other = sqlite3.connect(db)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert other.execute("SELECT COUNT(*) FROM logs").fetchone()[0] == 1
    other.close()
    storage.close()
    assert Storage(":memory:").journal_mode == "memory"


def test_search_counts_only_the_gateways_logs_and_old_databases_are_rewritten(
    tmp_path: Path,
) -> None:
    """A search alone is counted from ``log_search``, which keeps each log's gateway; a
    database whose ``log_search`` predates that gets it written again by the next listing."""
    from cf_ai_gateway_emulator import log_query

    path = tmp_path / "emu.sqlite3"
    storage = Storage(path)
    for i in range(3):
        storage.insert_log("a", "g", {"id": f"log-{i}", "model": "llama"}, None, None)
        storage.insert_log("a", "other", {"id": f"other-{i}", "model": "llama"}, None, None)
    search = log_query.selection([], "llama", "created_at", "desc")
    assert search.count is not None
    page, total = storage.select_logs("a", "g", search, limit=2, offset=0)
    assert (len(page), total) == (2, 3)
    storage.close()
    old = sqlite3.connect(path)
    old.executescript(
        "DROP TABLE log_search; "
        "CREATE TABLE log_search (seq INTEGER PRIMARY KEY, text TEXT NOT NULL);"
    )
    old.close()
    reopened = Storage(path)
    page, total = reopened.select_logs("a", "other", search, limit=5, offset=0)
    assert ([log["id"] for log in page], total) == (["other-2", "other-1", "other-0"], 3)
    assert reopened.delete_logs("a", "g") == 3  # the trigger finds the new table
    reopened.close()


@pytest.mark.parametrize(
    ("strategy", "kept"),
    [("STOP_INSERTING", [0, 1, 2]), ("DELETE_OLDEST", [7, 8, 9])],
)
def test_log_limit_strategies(strategy: str, kept: list[int]) -> None:
    storage = Storage()
    results = [
        storage.insert_log("a", "g", _log(i), None, None, limit=3, strategy=strategy)
        for i in range(10)
    ]
    assert [log["n"] for log in storage.logs("a", "g")] == kept
    assert results == ([True] * 3 + [False] * 7 if strategy == "STOP_INSERTING" else [True] * 10)
    # Other gateways do not count against the limit.
    assert storage.insert_log("a", "other", _log(99), None, None, limit=3, strategy=strategy)


def test_delete_oldest_after_the_limit_was_lowered() -> None:
    storage = Storage()
    for i in range(5):
        storage.insert_log("a", "g", _log(i), None, None)
    storage.insert_log("a", "g", _log(5), None, None, limit=2, strategy="DELETE_OLDEST")
    assert [log["n"] for log in storage.logs("a", "g")] == [4, 5]


def test_cache_expiry_is_exclusive() -> None:
    storage = Storage()
    storage.cache_put("a", "g", "k", (200, {"x": "y"}, b"body"), expires_at=100.0)
    assert storage.cache_get("a", "g", "k", now=99.999) == (200, {"x": "y"}, b"body")
    assert storage.cache_get("a", "g", "k", now=100.0) is None
    assert storage.cache_get("a", "g", "k", now=0.0) is None  # the expired entry was deleted


@pytest.mark.parametrize("db", ["memory", "file"])
def test_threads_never_lose_a_row(tmp_path: Path, db: str) -> None:
    storage = Storage(":memory:" if db == "memory" else tmp_path / "emu.sqlite3")
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(50):
                storage.insert_log("a", "g", {"id": f"{t}-{i}"}, "req", "resp")
                storage.logs("a", "g")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(storage.logs("a", "g")) == 400


def test_uuid7_format_and_order() -> None:
    before_ms = time.time_ns() // 1_000_000
    ids = [uuid7() for _ in range(5000)]
    after_ms = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)  # time-ordered, also within one millisecond
    for text in [*ids[::97], ids[-1]]:
        assert text == text.lower()
        value = uuid.UUID(text)
        assert str(value) == text
        assert value.version == 7
        assert value.variant == uuid.RFC_4122  # variant bits 10
        assert before_ms <= value.int >> 80 <= after_ms + 1
