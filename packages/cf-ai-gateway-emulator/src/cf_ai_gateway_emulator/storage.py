"""SQLite storage for logs and the response cache.

One connection guarded by a lock: every operation is short, so request handlers call it
directly, and concurrent requests never lose a row. File databases use WAL journaling;
``":memory:"`` (the default) keeps everything in the process.

Why the handlers call SQLite synchronously instead of through a thread pool: each statement
is an indexed lookup or a single-row insert (well under a millisecond, and ``synchronous=NORMAL``
means a WAL commit does not fsync), the lock is never held across an ``await``, and all work
goes through one connection anyway, so a thread hop would add latency without adding any
parallelism. The lock also serialises the test helpers that read storage from another thread
while uvicorn serves requests in its own.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["CachedResponse", "Storage"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    gateway TEXT NOT NULL,
    data TEXT NOT NULL,
    request_body TEXT,
    response_body TEXT
);
CREATE INDEX IF NOT EXISTS logs_gateway ON logs (account, gateway, seq);
CREATE TABLE IF NOT EXISTS cache (
    account TEXT NOT NULL,
    gateway TEXT NOT NULL,
    key TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (account, gateway, key)
);
"""

CachedResponse = tuple[int, dict[str, str], bytes]


class Storage:
    """Logs and cache entries of every gateway, in one SQLite database."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.journal_mode = "memory"
        """``wal`` for a file database (checked, not assumed), ``memory`` for ``:memory:``."""
        if self.path != ":memory:":
            (mode,) = self._db.execute("PRAGMA journal_mode=WAL").fetchone()
            self.journal_mode = str(mode).lower()
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- logs -------------------------------------------------------------------------------

    def insert_log(
        self,
        account: str,
        gateway: str,
        log: Mapping[str, Any],
        request_body: str | None,
        response_body: str | None,
        *,
        limit: int | None = None,
        strategy: str = "STOP_INSERTING",
    ) -> bool:
        """Store one log; with a ``limit``, stop inserting or delete the oldest first."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if limit is not None:
                    (count,) = self._db.execute(
                        "SELECT COUNT(*) FROM logs WHERE account=? AND gateway=?",
                        (account, gateway),
                    ).fetchone()
                    if count >= limit:
                        if strategy == "STOP_INSERTING":
                            self._db.execute("COMMIT")
                            return False
                        self._db.execute(
                            "DELETE FROM logs WHERE seq IN (SELECT seq FROM logs WHERE "
                            "account=? AND gateway=? ORDER BY seq LIMIT ?)",
                            (account, gateway, count - limit + 1),
                        )
                self._db.execute(
                    "INSERT INTO logs (id, account, gateway, data, request_body, response_body)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (log["id"], account, gateway, json.dumps(log), request_body, response_body),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return True

    def logs(self, account: str, gateway: str) -> list[dict[str, Any]]:
        """Every log of a gateway, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM logs WHERE account=? AND gateway=? ORDER BY seq",
                (account, gateway),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def get_log(self, account: str, gateway: str, log_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM logs WHERE account=? AND gateway=? AND id=?",
                (account, gateway, log_id),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def get_log_body(
        self,
        account: str,
        gateway: str,
        log_id: str,
        which: str,
    ) -> tuple[bool, str | None]:
        """(found, body) for ``which`` in ``request``/``response``."""
        column = "request_body" if which == "request" else "response_body"
        with self._lock:
            row = self._db.execute(
                f"SELECT {column} FROM logs WHERE account=? AND gateway=? AND id=?",
                (account, gateway, log_id),
            ).fetchone()
        return (row is not None, row[0] if row else None)

    def update_log(
        self, account: str, gateway: str, log_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM logs WHERE account=? AND gateway=? AND id=?",
                (account, gateway, log_id),
            ).fetchone()
            if row is None:
                return None
            data = {**json.loads(row[0]), **changes}
            self._db.execute("UPDATE logs SET data=? WHERE id=?", (json.dumps(data), log_id))
        return data

    def delete_logs(self, account: str, gateway: str, ids: Iterable[str] | None = None) -> int:
        with self._lock:
            if ids is None:
                cur = self._db.execute(
                    "DELETE FROM logs WHERE account=? AND gateway=?", (account, gateway)
                )
                return cur.rowcount
            total = 0
            for log_id in ids:
                total += self._db.execute(
                    "DELETE FROM logs WHERE account=? AND gateway=? AND id=?",
                    (account, gateway, log_id),
                ).rowcount
            return total

    # --- cache ------------------------------------------------------------------------------

    def cache_get(
        self,
        account: str,
        gateway: str,
        key: str,
        now: float,
    ) -> CachedResponse | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status, headers, body, expires_at FROM cache WHERE account=? AND "
                "gateway=? AND key=?",
                (account, gateway, key),
            ).fetchone()
            if row is None:
                return None
            if row[3] <= now:
                self._db.execute(
                    "DELETE FROM cache WHERE account=? AND gateway=? AND key=?",
                    (account, gateway, key),
                )
                return None
        return row[0], json.loads(row[1]), bytes(row[2])

    def cache_put(
        self, account: str, gateway: str, key: str, response: CachedResponse, expires_at: float
    ) -> None:
        status, headers, body = response
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO cache (account, gateway, key, status, headers, body, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (account, gateway, key, status, json.dumps(headers), body, expires_at),
            )

    def cache_clear(self, account: str, gateway: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM cache WHERE account=? AND gateway=?", (account, gateway))

    def drop_gateway(self, account: str, gateway: str) -> None:
        self.cache_clear(account, gateway)
        self.delete_logs(account, gateway)
