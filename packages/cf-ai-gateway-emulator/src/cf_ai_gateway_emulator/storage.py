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

Listing logs parses only the logs of the page: next to each log (``logs.data``, returned as
is) its fields are kept as columns (``log_index``), and ``log_query`` turns a listing's filters
into SQL over them. The columns are written by the first listing after a log was stored, not
by the request that stored it, so the request path pays one insert per log, as before.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import log_index

__all__ = ["CachedResponse", "LogSelection", "Storage"]

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

_INSERT_LOG = (
    "INSERT INTO logs (id, account, gateway, data, request_body, response_body) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)

CachedResponse = tuple[int, dict[str, str], bytes]


@lru_cache(maxsize=256)
def _cached_headers(text: str) -> dict[str, str]:
    """A cache entry's stored headers, parsed once per distinct text (entries of one upstream
    mostly share them); callers get a copy."""
    headers: dict[str, str] = json.loads(text)
    return headers


@dataclass(frozen=True)
class LogSelection:
    """Which logs of a gateway a listing selects, and in which order, as SQL over
    ``log_fields AS f`` (``where`` is AND-ed to the gateway's rows; ``order`` is an ``ORDER BY``
    list). ``log_query`` builds it from the logs API's parameters."""

    where: str = "1"
    params: tuple[Any, ...] = ()
    order: str = "f.seq DESC"
    probe: str | None = None
    """``where`` written to test one row at a time (``EXISTS`` where ``where`` reads a set:
    ``IN (SELECT ...)``), for the page, which stops once it has its logs; same parameters."""
    count: str | None = None
    """A query counting the same logs without ``log_fields`` (``None``: count over it), taking
    ``params``, then the account and the gateway (plain ``?`` placeholders: numbered ones with a
    sequence are deprecated, an error from Python 3.14)."""


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
        searched = [r[1] for r in self._db.execute("PRAGMA table_info(log_search)")]
        if searched and "account" not in searched:
            # a database from before the search text kept its log's gateway: written again
            # by the next listing, as for one from before the columns existed
            self._db.execute("DROP TABLE log_search")
        self._db.executescript(_SCHEMA + log_index.SCHEMA)

    def _index_new_logs(self) -> None:
        """Write the columns of the logs stored since the last listing (under the lock).

        A listing pays for this, not the request that stored the log: a log costs its
        insert on the request path and nothing more until someone lists logs (a database
        from before the columns existed is indexed by its first listing the same way)."""
        (last,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM log_search").fetchone()
        pending = self._db.execute(
            "SELECT seq, account, gateway, data FROM logs WHERE seq > ? ORDER BY seq", (last,)
        ).fetchall()
        if not pending:
            return
        written = [
            log_index.rows(seq, account, gateway, json.loads(data))
            for seq, account, gateway, data in pending
        ]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._write_rows(written)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        if len(written) >= 1000:
            # statistics, so that SQLite picks the right index for many logs (sampled: a few
            # milliseconds at any size)
            self._db.execute("PRAGMA analysis_limit = 1000")
            self._db.execute("ANALYZE")

    def _write_rows(self, written: list[log_index.Rows]) -> None:
        self._db.executemany(log_index.INSERT_FIELDS, [r.fields for r in written])
        self._db.executemany(log_index.INSERT_TEXT, [r.text for r in written])
        self._db.executemany(log_index.INSERT_SEARCH, [r.search for r in written])
        self._db.executemany(log_index.INSERT_METADATA, [m for r in written for m in r.metadata])

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
        row = (log["id"], account, gateway, json.dumps(log), request_body, response_body)
        if limit is None:  # one statement is its own transaction (the request path)
            with self._lock:
                self._db.execute(_INSERT_LOG, row)
            return True
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
                self._db.execute(_INSERT_LOG, row)
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

    def select_logs(
        self, account: str, gateway: str, selection: LogSelection, *, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the logs ``selection`` picks (``limit`` from ``offset``), and how many
        it picks in all."""
        params = (account, gateway, *selection.params)
        # The page walks the index of its order until it has its logs, probing the filters
        # row by row; the count reads the gateway's rows in table order (a ``+`` keeps
        # SQLite from walking an index of them and looking up every row) unless nothing is
        # filtered (then an index of them is all it reads).
        mine = "f.account = ? AND f.gateway = ?"
        page_where = f"{mine} AND ({selection.probe or selection.where})"
        scan = "+f.account = ? AND +f.gateway = ?"
        count_where = mine if selection.where == "1" else f"{scan} AND ({selection.where})"
        with self._lock:
            self._index_new_logs()
            # the page's seqs first, so the sort carries no log bodies; then their logs
            seqs = [
                seq
                for (seq,) in self._db.execute(
                    f"SELECT f.seq FROM log_fields AS f WHERE {page_where} "
                    f"ORDER BY {selection.order} LIMIT ? OFFSET ?",
                    (*params, limit, offset),
                )
            ]
            data = dict(
                self._db.execute(
                    f"SELECT seq, data FROM logs WHERE seq IN ({', '.join('?' * len(seqs))})",
                    seqs,
                ).fetchall()
            )
            if selection.count is None:
                count = f"SELECT COUNT(*) FROM log_fields AS f WHERE {count_where}"
                count_params = params
            else:
                count, count_params = selection.count, (*selection.params, account, gateway)
            (total,) = self._db.execute(count, count_params).fetchone()
        return [json.loads(data[seq]) for seq in seqs], int(total)

    def delete_selected(self, account: str, gateway: str, selection: LogSelection) -> int:
        """Delete the logs ``selection`` picks; how many there were."""
        with self._lock:
            self._index_new_logs()
            return self._db.execute(
                "DELETE FROM logs WHERE seq IN (SELECT f.seq FROM log_fields AS f WHERE "
                f"f.account = ? AND f.gateway = ? AND ({selection.where}))",
                (account, gateway, *selection.params),
            ).rowcount

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
                "SELECT seq, data FROM logs WHERE account=? AND gateway=? AND id=?",
                (account, gateway, log_id),
            ).fetchone()
            if row is None:
                return None
            data = {**json.loads(row[1]), **changes}
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("UPDATE logs SET data=? WHERE seq=?", (json.dumps(data), row[0]))
                # a log already indexed gets its columns again (a later one is indexed from
                # its new JSON by the next listing)
                indexed = self._db.execute(
                    "SELECT 1 FROM log_search WHERE seq = ?", (row[0],)
                ).fetchone()
                if indexed:
                    self._db.execute("DELETE FROM log_metadata WHERE seq = ?", (row[0],))
                    self._write_rows([log_index.rows(row[0], account, gateway, data)])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
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
        return row[0], dict(_cached_headers(row[1])), bytes(row[2])

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
