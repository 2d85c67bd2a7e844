"""The logs API's listing as SQL (``log_query`` over ``storage``'s log columns) selects and
orders exactly what the Python it replaced did: that Python is kept here as the reference, and
generated logs and filters must give the same pages and counts both ways."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping
from typing import Any

from cf_ai_gateway_emulator import log_query
from cf_ai_gateway_emulator.log_index import LOG_FIELDS, ORDERED
from cf_ai_gateway_emulator.storage import Storage
from emulator_helpers import ACCOUNT, CHAT, Emu
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# --- the reference: the logs API's filters as they were evaluated in Python --------------------


def _metadata(log: Mapping[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(log.get("metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _field(log: Mapping[str, Any], key: str) -> Any:
    if key.startswith("metadata."):
        return _metadata(log).get(key[9:])
    return log.get(key)


def _match_metadata(log: Mapping[str, Any], which: str, op: str, wanted: list[Any]) -> bool:
    entries = _metadata(log)
    found = [str(v) for v in (entries if which == "key" else entries.values())]
    texts = [str(w) for w in wanted]
    if op == "eq":
        return any(f == w for f in found for w in texts)
    if op == "neq":
        return not any(f == w for f in found for w in texts)
    if op == "contains":
        return any(w.lower() in f.lower() for f in found for w in texts)
    return False


def _match(log: Mapping[str, Any], f: Mapping[str, Any]) -> bool:
    wanted = f.get("value")
    wanted = wanted if isinstance(wanted, list) else [wanted]
    op = f["operator"]
    if f["key"] in ("metadata.key", "metadata.value"):
        return _match_metadata(log, f["key"][9:], op, wanted)
    value = _field(log, f["key"])
    if op == "eq":
        return any(value == w or str(value).lower() == str(w).lower() for w in wanted)
    if op == "neq":
        return all(value != w and str(value).lower() != str(w).lower() for w in wanted)
    if op == "contains":
        return any(str(w).lower() in str(value or "").lower() for w in wanted)
    try:
        w = wanted[0]
        if isinstance(value, (int, float)) and not isinstance(w, (int, float)):
            w = float(w)
        return bool(value > w) if op == "gt" else bool(value < w)
    except (TypeError, ValueError, IndexError):
        return False


def _order_key(log: Mapping[str, Any], field: str, seq: int) -> tuple[Any, ...]:
    value = log.get(field)
    if value is None or value == "":
        return (2, "", seq)
    if isinstance(value, (int, float)):
        return (0, value, seq)
    return (1, str(value), seq)


def _reference(
    logs: list[dict[str, Any]],
    filters: list[dict[str, Any]],
    search: str,
    order_by: str,
    direction: str,
) -> list[str]:
    picked = []
    for seq, log in enumerate(logs):
        searched = json.dumps(
            [log.get(k) for k in ("id", "provider", "model", "path", "event_id", "metadata")]
        ).lower()
        if all(_match(log, f) for f in filters) and (not search or search in searched):
            picked.append((_order_key(log, order_by, seq), log["id"]))
    picked.sort(reverse=direction == "desc")
    return [log_id for _, log_id in picked]


# --- generated logs and filters ----------------------------------------------------------------

TRICKY: list[Any] = [
    None,
    True,
    False,
    *(0, 1, -1, 2, 200, 503, 10**12),
    *(0.0, 0.5, 1.0, 0.1 + 0.2, 1e-5, 2.5e-7, -3.25, 1e16, math.inf),
    *("", "a", "A", "abc", "ABC", "gpt-4o", "GPT-4o-mini", "groq", "none", "None", "true"),
    *("0", "1", "1.0", "0.5", "1e-05", "inf", "nan", " 2 ", "İstanbul", "ß", "false"),
    *("ǅ", "Ω", "é", "É", "x y", "[1]", '{"a": 1}', "2026-01-01T00:00:00Z"),
]
"""Values that tell the semantics apart: numbers equal across types, falsy values, text that
reads as a number, Unicode whose lowercase SQLite does not know."""
SCALARS = st.sampled_from(TRICKY)
KEYS = st.sampled_from(
    [
        *LOG_FIELDS,
        "metadata.user",
        "metadata.n",
        "metadata.",
        "metadata.key",
        "metadata.value",
        "unknown",
        "n",
    ]
)
METADATA = st.one_of(
    st.none(),
    st.just("not json"),
    st.just("[1, 2]"),
    st.dictionaries(st.sampled_from(["user", "n", "User", "", "é"]), SCALARS, max_size=3).map(
        json.dumps
    ),
)


@st.composite
def logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=0, max_value=12))
    out = []
    for i in range(count):
        log: dict[str, Any] = {field: draw(SCALARS) for field in LOG_FIELDS}
        log["id"] = f"log-{i}"
        log["metadata"] = draw(METADATA)
        out.append(log)
    return out


FILTERS = st.lists(
    st.fixed_dictionaries(
        {
            "key": KEYS,
            "operator": st.sampled_from(["eq", "neq", "contains", "gt", "lt"]),
            "value": st.one_of(SCALARS, st.lists(SCALARS, max_size=3)),
        }
    ),
    max_size=3,
)
ORDER_BY = st.sampled_from(ORDERED)


def _stored(entries: list[dict[str, Any]]) -> Storage:
    storage = Storage()
    for log in entries:
        storage.insert_log("acc", "gw", log, None, None)
    storage.insert_log("acc", "other", {"id": "elsewhere"}, None, None)
    return storage


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=logs(),
    filters=FILTERS,
    search=st.sampled_from(
        ["", "gpt", "log-1", '"', "é", "none", "%", "_", "\\", "o_1", "\\u00e9", "else"]
    ),
    order_by=ORDER_BY,
    direction=st.sampled_from(["asc", "desc"]),
)
def test_sql_listing_selects_and_orders_as_the_python_did(
    entries: list[dict[str, Any]],
    filters: list[dict[str, Any]],
    search: str,
    order_by: str,
    direction: str,
) -> None:
    storage = _stored(entries)
    stored = storage.logs("acc", "gw")  # as JSON gives them back (inf stays inf)
    expected = _reference(stored, filters, search, order_by, direction)
    chosen = log_query.selection(filters, search, order_by, direction)
    page, total = storage.select_logs("acc", "gw", chosen, limit=1000, offset=0)
    assert [log["id"] for log in page] == expected
    assert total == len(expected)
    second, _ = storage.select_logs("acc", "gw", chosen, limit=2, offset=2)
    assert [log["id"] for log in second] == expected[2:4]
    assert storage.delete_selected("acc", "gw", chosen) == len(expected)
    assert len(storage.logs("acc", "gw")) == len(stored) - len(expected)
    assert [log["id"] for log in storage.logs("acc", "other")] == ["elsewhere"]


def test_every_tricky_value_against_every_operator() -> None:
    """Each tricky value as the field of one log, each as the filter's value, every operator,
    on a log field, a metadata entry, the metadata keys and values, and an unknown key."""
    entries = [
        {
            **dict.fromkeys(LOG_FIELDS, value),
            "id": f"log-{i}",
            "metadata": json.dumps({"user": value}),
        }
        for i, value in enumerate(TRICKY)
    ]
    storage = _stored(entries)
    stored = storage.logs("acc", "gw")
    keys = ["model", "cost", "success", "metadata.user", "metadata.value", "metadata.key", "x"]
    for key in keys:
        for op in ("eq", "neq", "contains", "gt", "lt"):
            for wanted in [*TRICKY, []]:
                filters = [{"key": key, "operator": op, "value": wanted}]
                expected = _reference(stored, filters, "", "cost", "asc")
                chosen = log_query.selection(filters, "", "cost", "asc")
                page, total = storage.select_logs("acc", "gw", chosen, limit=1000, offset=0)
                assert [log["id"] for log in page] == expected, (key, op, wanted)
                assert total == len(expected)


def test_fields_follow_updates_and_deletes() -> None:
    storage = _stored([{"id": "a", "model": "m1"}, {"id": "b", "model": "m2"}])
    by_user = log_query.selection(
        [{"key": "metadata.user", "operator": "eq", "value": ["u-1"]}], "", "created_at", "desc"
    )
    assert storage.select_logs("acc", "gw", by_user, limit=10, offset=0)[1] == 0
    storage.update_log("acc", "gw", "b", {"metadata": json.dumps({"user": "u-1"})})
    assert [
        log["id"] for log in storage.select_logs("acc", "gw", by_user, limit=10, offset=0)[0]
    ] == ["b"]
    storage.delete_logs("acc", "gw", ["b"])
    assert storage.select_logs("acc", "gw", by_user, limit=10, offset=0)[1] == 0
    assert storage._db.execute("SELECT COUNT(*) FROM log_metadata").fetchone()[0] == 0


def test_a_database_from_before_the_log_columns_is_filled_in(tmp_path: Any) -> None:
    path = tmp_path / "old.sqlite3"
    storage = Storage(path)
    storage.insert_log("acc", "gw", {"id": "old", "model": "gpt-4o"}, None, None)
    storage.close()
    old = sqlite3.connect(path)  # as a database from before the columns existed
    old.executescript("DROP TABLE log_fields; DROP TABLE log_text; DROP TABLE log_metadata")
    old.close()
    reopened = Storage(path)
    gpt = log_query.selection(
        [{"key": "model", "operator": "contains", "value": "GPT"}], "", "created_at", "desc"
    )
    page, total = reopened.select_logs("acc", "gw", gpt, limit=10, offset=0)
    assert ([log["id"] for log in page], total) == (["old"], 1)
    reopened.close()


async def test_the_gateway_writes_exactly_the_stored_fields(emu: Emu) -> None:
    """A field the gateway starts writing must become a column too (``LOG_FIELDS``)."""
    await emu.compat("demo")
    await emu.compat("demo", {**CHAT, "model": "openai/fail-503"})
    for log in emu.state.logs(ACCOUNT, "demo"):
        assert sorted(log) == sorted(LOG_FIELDS)
