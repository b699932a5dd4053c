"""Parsed rows of submission copies kept in the archive by sha256: re-running a period after one window
resubmits reads only the file that changed. A copy is immutable (its sha256 is in the manifest), so
the same hash always means the same rows.

Rows are stored as JSON arrays in schema order; a value JSON cannot carry is a string starting with
NUL (never present in a workbook: XML cannot hold it) and a tag: D datetime, O DateOnly, I Invalid, S text.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .ledger import _KEYS, LedgerRow, RowValues
from .normalize import DateOnly, Invalid

MARK = "\x00"
FORMAT = 1


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
    return json.dumps({"format": FORMAT, "keys": list(_KEYS), "rows": [
        [r.excel_row, int(r.hidden), [encode(v) for v in tuple.__iter__(r.values)]] for r in rows]},
        ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> list[LedgerRow] | None:
    data = json.loads(text)
    if data.get("format") != FORMAT or data.get("keys") != list(_KEYS):
        return None           # another version's columns: read the file again
    return [LedgerRow(excel_row, RowValues(decode(v) for v in values), bool(hidden))
            for excel_row, hidden, values in data["rows"]]


class RowCache:
    """get() reads from the archive now; put() is written by flush() inside the period's transaction."""

    def __init__(self, archive):
        self.archive = archive
        self.pending: dict[str, list[LedgerRow]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, sha256: str) -> list[LedgerRow] | None:
        found = self.archive.cached_text(sha256)
        rows = loads(found) if found else None
        if rows is None:
            self.misses += 1
        else:
            self.hits += 1
        return rows

    def put(self, sha256: str, rows: list[LedgerRow]) -> None:
        self.pending[sha256] = rows

    def flush(self, when: datetime) -> None:
        for sha256, rows in self.pending.items():
            self.archive.cache_text(sha256, dumps(rows), when)
        self.pending.clear()
