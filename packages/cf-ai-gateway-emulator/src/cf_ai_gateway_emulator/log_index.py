"""The columns kept next to every stored log so the logs API lists without parsing logs.

``logs.data`` holds each log as JSON and is what the API returns. Next to it, written in the
same transaction (``storage``) and deleted with it (a trigger):

- ``log_fields``: one narrow row per log, two columns per field of :data:`FIELDS`:
  ``v_<field>``, the value as SQLite holds it (``NULL``, a number, ``0``/``1`` for a bool,
  text), and ``t_<field>``, the value's text as the logs API compares it
  (``str(value).lower()``), stored only where SQL cannot derive it from ``v_`` (a bool, a
  float: Python's ``repr`` is not SQLite's, text whose lowercase differs: SQLite lowers ASCII
  only), with an index per order a listing can ask for (:data:`ORDERED`) and the text of
  :data:`INDEXED` indexed;
- ``log_text``: the long text fields of :data:`TEXT_FIELDS` the same way, so that scans of
  ``log_fields`` stay narrow; ``log_search``: the text the API's ``search`` looks in, with
  the log's account and gateway (a listing that only searches counts its logs from this
  table alone);
- ``log_metadata``: one row per metadata entry (key, value, the value as text), indexed by
  value and by key and value.

``log_query`` turns the API's filters into SQL over these columns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cf_ai_gateway import wire

__all__ = [
    "FIELDS",
    "LOG_FIELDS",
    "NOT_ORDERED",
    "ORDERED",
    "SCHEMA",
    "TEXT_FIELDS",
    "Column",
    "Rows",
    "column",
    "metadata_entries",
    "rows",
    "value_text",
]

FIELDS = (
    "created_at",
    "provider",
    "model",
    "model_type",
    "success",
    "status_code",
    "cached",
    "duration",
    "tokens_in",
    "tokens_out",
    "cost",
    "custom_cost",
    "step",
    "request_type",
    "feedback",
    "score",
    "credential_source",
    "byok_alias",
)
"""Fields kept in ``log_fields`` (every field a listing can be ordered by is one)."""
TEXT_FIELDS = ("id", "path", "metadata", "event_id", "request_id")
"""Long text fields, kept in ``log_text``."""
LOG_FIELDS = (*FIELDS, *TEXT_FIELDS)
"""Every field of a log (``pipeline.logs.write_log`` writes exactly these); a filter on any
other key finds it absent (``None``) in every log."""
SEARCHED = ("id", "provider", "model", "path", "event_id", "metadata")
"""The fields the logs API's ``search`` looks in, as a JSON list."""

NOT_ORDERED = ("feedback",)
"""Orders Cloudflare's logs API documents that the emulator refuses (a 400)."""
ORDERED = tuple(f for f in wire.LOG_ORDER_BY if f not in NOT_ORDERED)
"""The fields a listing can be ordered by (``wire.LOG_ORDER_BY`` less :data:`NOT_ORDERED`),
each with an index in that order."""
INDEXED = ("provider", "model")
"""Fields whose text is indexed: ``eq`` on them reads the index, not every row."""


def derived_text(value: str, text: str) -> str:
    """The SQL of ``str(value).lower()`` from a value column and its sparse text column."""
    return (
        f"COALESCE({text}, CASE typeof({value}) WHEN 'null' THEN 'none' "
        f"WHEN 'text' THEN {value} ELSE CAST({value} AS TEXT) END)"
    )


_FIELD_COLUMNS = ", ".join(f"v_{f}, t_{f} TEXT" for f in FIELDS)
_TEXT_INDEXES = "\n".join(
    f"CREATE INDEX IF NOT EXISTS log_fields_{f} ON log_fields ({derived_text(f'v_{f}', f't_{f}')});"
    for f in INDEXED
)
_ORDER_INDEXES = "\n".join(
    f"CREATE INDEX IF NOT EXISTS log_fields_by_{f} ON log_fields "
    f"(account, gateway, NULLIF(v_{f}, '') IS NULL, NULLIF(v_{f}, ''), seq);"
    for f in ORDERED
)
_TEXT_COLUMNS = ", ".join(f"v_{f}, t_{f} TEXT" for f in TEXT_FIELDS)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS log_fields (
    seq INTEGER PRIMARY KEY, account TEXT NOT NULL, gateway TEXT NOT NULL, {_FIELD_COLUMNS}
);
{_ORDER_INDEXES}
{_TEXT_INDEXES}
CREATE TABLE IF NOT EXISTS log_text (seq INTEGER PRIMARY KEY, {_TEXT_COLUMNS});
CREATE TABLE IF NOT EXISTS log_search (
    seq INTEGER PRIMARY KEY, account TEXT NOT NULL, gateway TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_metadata (
    seq INTEGER NOT NULL,
    key TEXT NOT NULL,
    key_lower TEXT NOT NULL,
    value,
    value_str TEXT NOT NULL,
    value_text TEXT NOT NULL,
    PRIMARY KEY (seq, key)
);
CREATE INDEX IF NOT EXISTS log_metadata_value ON log_metadata (value_str);
CREATE INDEX IF NOT EXISTS log_metadata_key_value ON log_metadata (key, value_text);
CREATE TRIGGER IF NOT EXISTS logs_deleted AFTER DELETE ON logs BEGIN
    DELETE FROM log_fields WHERE seq = old.seq;
    DELETE FROM log_text WHERE seq = old.seq;
    DELETE FROM log_search WHERE seq = old.seq;
    DELETE FROM log_metadata WHERE seq = old.seq;
END;
"""
"""The tables, after ``logs`` (its trigger deletes their rows with the log's)."""

INSERT_FIELDS = (
    f"INSERT OR REPLACE INTO log_fields VALUES ({', '.join('?' * (3 + 2 * len(FIELDS)))})"
)
INSERT_TEXT = (
    f"INSERT OR REPLACE INTO log_text VALUES ({', '.join('?' * (1 + 2 * len(TEXT_FIELDS)))})"
)
INSERT_SEARCH = "INSERT OR REPLACE INTO log_search VALUES (?, ?, ?, ?)"
INSERT_METADATA = "INSERT OR REPLACE INTO log_metadata VALUES (?, ?, ?, ?, ?, ?)"


def value_text(value: Any) -> str:
    """A value's text as the logs API compares it: ``str(value).lower()`` (``"none"``,
    ``"true"``, ``"0.5"``, ...)."""
    return str(value).lower()


def _columns(value: Any) -> tuple[Any, str | None]:
    """A value's ``v_`` and ``t_`` columns (see the module docstring): ``v_`` ``NULL`` for
    anything but a scalar (log values are scalars), ``t_`` only where it cannot be derived."""
    kind = type(value)
    if value is None or kind is int:
        return value, None
    if kind is str:
        lowered = value.lower()
        return value, None if lowered == value else lowered
    if kind is bool:
        return value, "true" if value else "false"
    if kind is float:
        return value, str(value).lower()
    # a subclass of a scalar (its text is its own) or a non-scalar
    return (value if isinstance(value, (str, int, float)) else None), value_text(value)


def metadata_entries(log: Mapping[str, Any]) -> dict[str, Any]:
    """A log's metadata entries (its ``metadata`` field is a JSON object, or nothing)."""
    try:
        data = json.loads(log.get("metadata") or "{}")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Rows:
    """The rows of one log in each table."""

    fields: list[Any]
    text: list[Any]
    search: tuple[int, str, str, str]
    metadata: list[tuple[Any, ...]]


def rows(seq: int, account: str, gateway: str, log: Mapping[str, Any]) -> Rows:
    """The rows of a log (computed for every stored log: kept to plain loops)."""
    get = log.get
    fields: list[Any] = [seq, account, gateway]
    for name in FIELDS:
        fields += _columns(get(name))
    text: list[Any] = [seq]
    for name in TEXT_FIELDS:
        text += _columns(get(name))
    search = (seq, account, gateway, json.dumps([get(f) for f in SEARCHED]).lower())
    entries = metadata_entries(log) if get("metadata") else {}
    metadata = [
        (seq, key, key.lower(), _columns(v)[0], str(v), value_text(v)) for key, v in entries.items()
    ]
    return Rows(fields, text, search, metadata)


@dataclass(frozen=True)
class Column:
    """How SQL reads one value: ``value`` (SQLite's), ``text`` (a column holding
    ``str(value).lower()``, in full or, when ``sparse``, only where it cannot be derived from
    ``value``), and ``table``: the table to look it up in by ``seq`` (``None``: ``log_fields``,
    the listing's own rows)."""

    value: str
    text: str
    sparse: bool = True
    table: str | None = None

    def full_text(self) -> str:
        """The SQL of ``str(value).lower()``."""
        return derived_text(self.value, self.text) if self.sparse else self.text


METADATA_VALUE = Column("x.value", "x.value_text", sparse=False, table="log_metadata")
"""A metadata entry's value (over ``log_metadata``, where its text is kept in full)."""


def column(field: str) -> Column:
    """Where a field of :data:`LOG_FIELDS` is kept."""
    return Column(f"v_{field}", f"t_{field}", table="log_text" if field in TEXT_FIELDS else None)
