"""A plain ledger's 统计周期 as people type it: "2027-1" is the period 2027-01 (Period.parse, validate and
submit all read it so), not a later one than the folder's; the folder's period decides by the real order
of periods, never by comparing the text."""
from datetime import datetime

from support.archive_files import consolidate, ledger
from support.archive_world import row_values

AT = datetime(2026, 12, 26, 8)


def test_an_unpadded_period_label_is_its_period_not_a_later_one(tmp_path):
    inbox = tmp_path / "报送"
    rows = [row_values("ZLS01", "ZLS01-20261225-001", datetime(2026, 12, 25, 10), None, AT, "窗口现场", 1)]
    ledger(inbox / "2027-01", "ZLS01", "2027-1", rows, AT)
    data = consolidate(inbox, "2027-01", "--no-archive")
    assert data["files_skipped"] == []
    assert {w["code"]: w["received"] for w in data["windows"]}["ZLS01"] == 1


def test_an_unpadded_earlier_period_in_a_later_folder_is_a_late_file_not_a_later_one(tmp_path):
    inbox = tmp_path / "报送"
    rows = [row_values("ZLS01", "ZLS01-20260910-001", datetime(2026, 9, 10, 10), None, AT, "窗口现场", 1)]
    ledger(inbox / "2026-10", "ZLS01", "2026-9", rows, AT)
    data = consolidate(inbox, "2026-10", "--no-archive")
    (skipped,) = data["files_skipped"]
    assert "晚于本期" not in skipped["reason"] and "2026-09 统计周期报送" in skipped["reason"], skipped
