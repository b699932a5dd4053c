"""Parsed rows of submission copies kept in the archive by sha256: re-running a period after one window
resubmits reads only the file that changed. A copy is immutable (its sha256 is in the manifest), so
the same hash always means the same rows.

Rows are stored column by column in schema order; a value JSON cannot carry is a string starting with
NUL (never present in a workbook: XML cannot hold it) and a tag: D datetime, O DateOnly, I Invalid, S text.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from xl_automation.model.ledger import _KEYS, LedgerRow, RowValues
from xl_automation.rules.normalize import DateOnly, Invalid
from xl_automation.model.schema import DATETIME_KEYS

MARK = "\x00"
FORMAT = 2
KEEP_DAYS = 400           # a year of periods and some: a resubmission of any of them still hits
_DT_COLUMNS = [i for i, k in enumerate(_KEYS) if k in DATETIME_KEYS]
_DT_SET = frozenset(_DT_COLUMNS)


def encode(v: Any) -> Any:
    t = type(v)
    if v is None or t is bool or t is int or t is float:
        return v
    if t is str:
        return v if not v.startswith(MARK) else MARK + "S" + v
    if t is datetime:
        return MARK + "D" + v.isoformat()
    if t is DateOnly:
        return MARK + "O" + v.value.isoformat()
    if t is Invalid:
        raw = v.raw if isinstance(v.raw, (str, int, float, bool)) or v.raw is None else str(v.raw)
        return MARK + "I" + json.dumps([raw, v.reason], ensure_ascii=False)
    return str(v)


def decode(v: Any) -> Any:
    if type(v) is not str or not v.startswith(MARK):
        return v
    tag, body = v[1], v[2:]
    if tag == "D":
        return datetime.fromisoformat(body)
    if tag == "O":
        return DateOnly(datetime.fromisoformat(body))
    if tag == "I":
        raw, reason = json.loads(body)
        return Invalid(raw, reason)
    return body


def dumps(rows: list[LedgerRow]) -> str:
    """Column-wise: a datetime column is ISO strings (decoded by one C call each), other plain values as they
    are; anything else (a date without time, an unreadable cell, NUL-led text) listed apart by position."""
    columns = list(zip(*(tuple.__iter__(r.values) for r in rows))) if rows else [() for _ in _KEYS]
    out, special = [], []
    for c, column in enumerate(columns):
        is_dt = c in _DT_SET
        encoded = []
        for r, v in enumerate(column):
            t = type(v)
            if v is None:
                encoded.append(None)
            elif is_dt and t is datetime:
                encoded.append(v.isoformat())
            elif not is_dt and (t is bool or t is int or t is float or (t is str and not v.startswith(MARK))):
                encoded.append(v)
            else:
                encoded.append(None)
                special.append([r, c, encode(v)])
        out.append(encoded)
    return json.dumps({"format": FORMAT, "keys": list(_KEYS), "excel_rows": [r.excel_row for r in rows],
                       "hidden": [int(r.hidden) for r in rows], "columns": out, "special": special},
                      ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> list[LedgerRow] | None:
    data = json.loads(text)
    if data.get("format") != FORMAT or data.get("keys") != list(_KEYS):
        return None           # another version's columns: read the file again
    columns = data["columns"]
    parse = datetime.fromisoformat
    for c in _DT_COLUMNS:
        columns[c] = [None if v is None else parse(v) for v in columns[c]]
    for r, c, v in data["special"]:
        columns[c][r] = decode(v)
    return [LedgerRow(excel_row, RowValues(values), bool(hidden))
            for excel_row, hidden, values in zip(data["excel_rows"], data["hidden"], zip(*columns))]


class RowCache:
    """get() reads from the archive now; put() is written by flush() inside the period's transaction."""

    def __init__(self, archive):
        self.archive = archive
        self.pending: dict[str, list[LedgerRow]] = {}
        self.used: list[str] = []
        self.hits = 0
        self.misses = 0

    def get(self, sha256: str) -> list[LedgerRow] | None:
        found = self.archive.cached_text(sha256)
        rows = loads(found) if found else None
        if rows is None:
            self.misses += 1
        else:
            self.hits += 1
            self.used.append(sha256)
        return rows

    def put(self, sha256: str, rows: list[LedgerRow]) -> None:
        self.pending[sha256] = rows

    def flush(self, when: datetime) -> None:
        """Write new entries, mark the ones used, drop those unused for KEEP_DAYS (their files are long gone)."""
        for sha256, rows in self.pending.items():
            self.archive.cache_text(sha256, dumps(rows), when)
        self.pending.clear()
        self.archive.touch_cache(self.used, when, when - timedelta(days=KEEP_DAYS))
