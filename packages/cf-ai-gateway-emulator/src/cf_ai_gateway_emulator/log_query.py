"""The logs API's listing parameters (``filters``, ``search``, ``order_by``) as SQL over the
columns ``storage`` keeps for every log, so a listing never parses the logs it skips.

What a filter matches (``value`` is the log's field, ``wanted`` the filter's value or list of
values, ``text(x)`` is ``str(x).lower()``):

- ``eq``: some ``w`` in ``wanted`` with ``value == w`` or ``text(value) == text(w)``;
  ``neq``: none;
- ``contains``: some ``text(w)`` inside ``str(value or "").lower()``;
- ``gt`` / ``lt``: ``value > wanted[0]`` (``<``), a number against a number (text that reads as
  a number is one) or text against text; anything else does not match;
- ``metadata.<name>``: the same on that metadata entry (absent: ``None``);
  ``metadata.key`` / ``metadata.value``: some entry's key (value), as text, equals ``str(w)``
  (``eq``), none does (``neq``), contains it in any case (``contains``);
- a key that is not a log field (``storage.LOG_FIELDS``) is ``None`` in every log.

``search`` looks for its text, lowered, in the JSON list of a log's id, provider, model, path,
event id and metadata, lowered. ``order_by`` sorts numbers before text, empty values (``None``,
``""``) last, and ties in the order the logs were written; ``desc`` reverses all of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .log_index import LOG_FIELDS, METADATA_VALUE, ORDERED, Column, column, value_text
from .storage import LogSelection

__all__ = ["selection"]

_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class _Condition:
    """One filter as SQL over ``log_fields AS f``: ``where`` reads a set where it needs
    another table (``f.seq IN (SELECT ...)``, for the count), ``probe`` tests one log at a
    time (``EXISTS``, for the page, which stops once it is full); both take ``args``."""

    where: str
    args: list[Any]
    probe: str = ""

    @classmethod
    def row(cls, sql: str, args: list[Any]) -> _Condition:
        """A condition on the log's own row of ``log_fields``."""
        return cls(sql, args, sql)

    @classmethod
    def in_table(
        cls, table: str, inner: str, args: list[Any], *, negated: bool = False
    ) -> _Condition:
        """The logs whose row of ``table`` (``AS x``) matches ``inner`` (or, ``negated``,
        those with no such row)."""
        no = "NOT " if negated else ""
        return cls(
            f"f.seq {no}IN (SELECT x.seq FROM {table} AS x WHERE {inner})",
            args,
            f"{no}EXISTS (SELECT 1 FROM {table} AS x WHERE x.seq = f.seq AND ({inner}))",
        )


def selection(
    filters: Sequence[Mapping[str, Any]], search: str, order_by: str, direction: str
) -> LogSelection:
    """The :class:`~cf_ai_gateway_emulator.storage.LogSelection` of a listing: ``filters``
    already checked (``key``, ``operator``), ``search`` lowered, ``order_by`` one of
    ``log_index.ORDERED``, ``direction`` ``asc`` or ``desc``."""
    if order_by not in ORDERED:
        raise ValueError(f"cannot order by {order_by!r}")
    conditions = [_filter(f) for f in filters]
    count = None
    if search:
        # LIKE finds the text as instr() would (both are lowered: no ASCII letter differs in
        # case; %, _ and \ escaped), and faster
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        like = "x.text LIKE ? ESCAPE '\\'"
        conditions.append(_Condition.in_table("log_search", like, [pattern]))
        if not filters:
            # the search alone: counted from log_search, which keeps each log's gateway (no
            # lookup of every match in log_fields); the text first, which rules most out
            count = (
                "SELECT COUNT(*) FROM log_search AS x "
                "WHERE x.text LIKE ? ESCAPE '\\' AND x.account = ? AND x.gateway = ?"
            )
    d = "DESC" if direction == "desc" else "ASC"
    # empty values (None, "") last, then numbers before text (SQLite's order of types), then
    # the order of writing: the key of the index log_fields_by_<order_by>
    key = f"NULLIF(f.{column(order_by).value}, '')"
    return LogSelection(
        " AND ".join(f"({c.where})" for c in conditions) or "1",
        tuple(a for c in conditions for a in c.args),
        f"{key} IS NULL {d}, {key} {d}, f.seq {d}",
        probe=" AND ".join(f"({c.probe})" for c in conditions) or "1",
        count=count,
    )


def _filter(f: Mapping[str, Any]) -> _Condition:
    raw = f.get("value")
    wanted = list(raw) if isinstance(raw, list) else [raw]
    key, op = f["key"], f["operator"]
    if key in ("metadata.key", "metadata.value"):
        return _metadata_entries(key == "metadata.key", op, wanted)
    if key.startswith("metadata."):
        name = key[9:]
        sql, args = _predicate(METADATA_VALUE, op, wanted)
        present = _Condition.in_table("log_metadata", f"x.key = ? AND ({sql})", [name, *args])
        if not _none_matches(op, wanted):
            return present
        absent = _Condition.in_table("log_metadata", "x.key = ?", [name], negated=True)
        return _Condition(
            f"{present.where} OR {absent.where}",
            [*present.args, *absent.args],
            f"{present.probe} OR {absent.probe}",
        )
    if key not in LOG_FIELDS:
        return _Condition.row("1" if _none_matches(op, wanted) else "0", [])
    col = column(key)
    sql, args = _predicate(col, op, wanted)
    if col.table is None:
        return _Condition.row(sql, args)
    return _Condition.in_table(col.table, sql, args)


def _predicate(col: Column, op: str, wanted: list[Any]) -> tuple[str, list[Any]]:
    """``op`` over one column's values; never ``NULL`` for ``eq``/``neq`` (so ``NOT`` is
    exact)."""
    if op in ("eq", "neq"):
        sql, args = _equals(col, wanted)
        return (sql, args) if op == "eq" else (f"NOT {sql}", args)
    if op == "contains":
        # str(value or ""): a falsy value (None, 0, 0.0, False, "") reads as ""
        v, text = col.value, col.full_text()
        falsy = f"({v} IS NULL AND {text} = 'none') OR {v} IS 0 OR {v} IS ''"
        shown = f"CASE WHEN {falsy} THEN '' ELSE {text} END"
        terms = " OR ".join(f"instr({shown}, ?) > 0" for _ in wanted)
        return terms or "0", [value_text(w) for w in wanted]
    return _compare(col.value, op, wanted)


def _equals(col: Column, wanted: list[Any]) -> tuple[str, list[Any]]:
    """``value == w or text(value) == text(w)`` for some ``w``: the value's text is one of
    the texts, or the value is a number equal to a number ``w`` (``1 == 1.0 == True``).
    Never ``NULL`` (the text never is, ``IS`` is ``0`` or ``1``), so ``NOT`` of it is exact;
    ``text IN (...)`` reads an index where the field has one (``log_index.INDEXED``)."""
    texts = sorted({value_text(w) for w in wanted})
    numbers = [n for n in (_as_bound_number(w) for w in wanted) if n is not None]
    terms = [f"{col.full_text()} IN ({', '.join('?' * len(texts))})"] if texts else []
    terms += [f"{col.value} IS ?" for _ in numbers]
    return f"({' OR '.join(terms) or '0'})", [*texts, *numbers]


def _as_bound_number(w: Any) -> int | float | None:
    """A number ``w`` as SQLite can compare it exactly, or ``None`` when no stored value can
    equal it (not a number, NaN, an integer that no float or int64 holds)."""
    if not isinstance(w, (int, float)):
        return None
    if isinstance(w, float):
        return None if math.isnan(w) else w
    if _INT64[0] <= w <= _INT64[1]:
        return int(w)
    as_float = float(w) if abs(w) < 2**1024 else math.inf
    return as_float if as_float == w else None


def _compare(v: str, op: str, wanted: list[Any]) -> tuple[str, list[Any]]:
    """``value > wanted[0]`` (``<``): numbers against a number (text that reads as one
    counts), text against text; what Python would refuse to compare (``None``, a number
    against text that is no number) does not match. SQLite orders numbers before text before
    blobs, so each is a range."""
    if not wanted:
        return "0", []
    w = wanted[0]
    number: float | int | None
    if isinstance(w, (int, float)):
        number = w if isinstance(w, float) or _INT64[0] <= w <= _INT64[1] else float(w)
    else:
        try:
            number = float(w)
        except (TypeError, ValueError, OverflowError):
            number = None
    terms: list[str] = []
    args: list[Any] = []
    if number is not None and not (isinstance(number, float) and math.isnan(number)):
        terms.append(f"({v} > ? AND {v} < '')" if op == "gt" else f"{v} < ?")
        args.append(number)
    if isinstance(w, str):
        terms.append(f"({v} > ? AND {v} < x'')" if op == "gt" else f"({v} < ? AND {v} >= '')")
        args.append(w)
    return " OR ".join(terms) or "0", args


def _none_matches(op: str, wanted: list[Any]) -> bool:
    """Whether an absent value (``None``) matches."""
    texts = [value_text(w) for w in wanted]
    if op == "eq":
        return "none" in texts
    if op == "neq":
        return "none" not in texts
    if op == "contains":
        return "" in texts
    return False


def _metadata_entries(keys: bool, op: str, wanted: list[Any]) -> _Condition:
    """Cloudflare's ``metadata.key`` / ``metadata.value``: some entry's key (value)."""
    texts = [str(w) for w in wanted]
    if op in ("eq", "neq"):
        column = "x.key" if keys else "x.value_str"
        inner = f"{column} IN ({', '.join('?' * len(texts))})" if texts else "0"
        return _Condition.in_table("log_metadata", inner, texts, negated=op == "neq")
    if op == "contains":
        lowered = "x.key_lower" if keys else "x.value_text"
        inner = " OR ".join(f"instr({lowered}, ?) > 0" for _ in texts) or "0"
        return _Condition.in_table("log_metadata", inner, [t.lower() for t in texts])
    return _Condition.row("0", [])
