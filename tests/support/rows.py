"""Plain ledger rows for core tests: a valid row and an in-memory Ledger with every column."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from xl_automation.model.ledger import Ledger, LedgerRow
from xl_automation.model.labels import LEDGER_SHEET
from xl_automation.model.schema import COLUMNS

HEADER_ROW = 3


def good_row(**changes):
    """A complete, valid, on-time, closed request; keyword arguments override values."""
    values = {c.key: "" if c.kind in ("text", "enum") else None for c in COLUMNS}
    values.update({c.key: False for c in COLUMNS if c.kind == "tick"})
    values.update(
        request_id="ZLS01-20261103-001", received_at=datetime(2026, 11, 3, 9, 5), channel="窗口现场",
        svc_water=True, install_type="民用", applicant="张三", phone="13853312345", district="张店区",
        address="张店区马尚街道人民西路88号", enterprise="淄博市自来水有限责任公司", first_responder="李四",
        posted_at=datetime(2026, 11, 3, 9, 10), replied_at=datetime(2026, 11, 3, 10, 0), on_site="否",
        result="已办结", closed_at=datetime(2026, 11, 5, 16, 0))
    values.update(changes)
    return values


def ledger_of(*value_dicts, missing=(), path="台账.xlsx") -> Ledger:
    """A Ledger as the reader would give it: header on row 3, data from row 4, schema column order."""
    keys = [c.key for c in COLUMNS if c.key not in missing]
    columns = {k: i for i, k in enumerate(keys, start=1)}
    rows = [LedgerRow(HEADER_ROW + 1 + i, {k: v for k, v in vals.items() if k in columns})
            for i, vals in enumerate(value_dicts)]
    return Ledger(Path(path), LEDGER_SHEET, HEADER_ROW, columns, rows, info={"窗口编码": "ZLS01"})
