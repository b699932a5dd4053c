"""A 补报 whose receipt was written as a date without a time still has a period (the date's, as the
period rules count it): the JSON and the report's 跨月核对 name it."""
from datetime import date, datetime

import openpyxl

from support.archive_files import consolidate, ledger
from support.archive_world import row_values

NOV, DEC = datetime(2026, 11, 24, 17), datetime(2026, 12, 24, 10)
OPEN = ("ZLS01-20261110-001", datetime(2026, 11, 10, 9), None)


def test_a_late_reported_request_received_on_a_date_only_names_its_period(tmp_path):
    inbox = tmp_path / "报送"
    ledger(inbox / "2026-11", "ZLS01", "2026-11", [row_values("ZLS01", *OPEN, NOV, "窗口现场", 1)], NOV)
    consolidate(inbox, "2026-11")
    late = dict(row_values("ZLS01", "ZLS01-20261120-002", datetime(2026, 11, 20, 9), datetime(2026, 11, 21, 9), DEC,
                           "窗口现场", 2), received_at=date(2026, 11, 20), replied_at=None)
    ledger(inbox / "2026-12", "ZLS01", "2026-12", [row_values("ZLS01", *OPEN, DEC, "窗口现场", 1), late], DEC)
    data = consolidate(inbox, "2026-12")
    assert data["late_reported"] == [{"window": "ZLS01", "request_id": "ZLS01-20261120-002",
                                      "received_at": "2026-11-20", "period": "2026-11"}]
    sheet = openpyxl.load_workbook(tmp_path / "月报-2026-12.xlsx", read_only=True)["跨月核对"]
    rows = [r for r in sheet.iter_rows(values_only=True) if "ZLS01-20261120-002" in r]
    assert len(rows) == 1 and "2026-11" in rows[0], rows
