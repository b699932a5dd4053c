"""Loss path 1 (issue 9): a window's late submission for an EARLIER period dropped in the next period's folder.

ZLS02 never submitted November. In December its November submission (made with `submit --period 2026-11`)
lies in 报送/2026-12 beside its own December one. With the archive every November request of it that the
group has not heard of is 补报 in December, exactly once (a request in both files counts from the newer);
without an archive the file is listed with what to do. A file of a LATER period is listed too.
"""
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from support.archive_files import consolidate
from support.archive_world import row_values
from support.cli import run
from xl_automation.model import labels
from xl_automation.xlsx.values_ledger import write_values_ledger

A1 = ("ZLS01-20261110-001", datetime(2026, 11, 10, 9), None)
B1 = ("ZLS02-20261105-001", datetime(2026, 11, 5, 9), datetime(2026, 11, 6, 9))       # closed in November
B2 = ("ZLS02-20261120-002", datetime(2026, 11, 20, 9), None)                           # open: in both files
B3 = ("ZLS02-20261203-003", datetime(2026, 12, 3, 9), None)                            # December's own


def ledger(path: Path, code: str, period: str, requests, at: datetime) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [dict(row_values(code, rid, got, closed, at, "窗口现场", n), install_type="民用")
            for n, (rid, got, closed) in enumerate(requests, 1)]
    write_values_ledger(path, rows, {labels.INFO_WINDOW_CODE: code, labels.INFO_PERIOD: period})
    return path


def submit(path: Path, to: Path, period: str, now: str) -> None:
    done = run("submit", path, "--to", to, "--period", period, "--now", now)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("late")
    inbox, desk = root / "报送", root / "窗口"
    submit(ledger(desk / "ZLS01-11.xlsx", "ZLS01", "2026-11", [A1], datetime(2026, 11, 24, 10)),
           inbox / "2026-11", "2026-11", "2026-11-24 10:00")
    consolidate(inbox, "2026-11")
    # ZLS02's November, submitted late and put in December's folder; then its December submission
    submit(ledger(desk / "ZLS02-11.xlsx", "ZLS02", "2026-11", [B1, B2], datetime(2026, 12, 2, 9)),
           inbox / "2026-12", "2026-11", "2026-12-02 09:00")
    submit(ledger(desk / "ZLS02-12.xlsx", "ZLS02", "2026-12", [B2, B3], datetime(2026, 12, 24, 9)),
           inbox / "2026-12", "2026-12", "2026-12-24 09:00")
    submit(ledger(desk / "ZLS01-12.xlsx", "ZLS01", "2026-12", [A1], datetime(2026, 12, 24, 9)),
           inbox / "2026-12", "2026-12", "2026-12-24 09:00")
    # a January ledger dropped in December's folder by mistake
    ledger(inbox / "2026-12" / "ZLS03_2027-01.xlsx", "ZLS03", "2027-01",
           [("ZLS03-20261226-001", datetime(2026, 12, 26, 9), None)], datetime(2026, 12, 26, 10))
    return inbox


def test_late_submission_of_an_earlier_period_becomes_late_reported_exactly_once(inbox):
    dec = consolidate(inbox, "2026-12")
    assert dec["archive"]["used"]
    late = {(x["window"], x["request_id"], x["period"]) for x in dec["late_reported"]}
    assert late == {("ZLS02", B1[0], "2026-11"), ("ZLS02", B2[0], "2026-11")}
    assert [(x["window"], x["period"], x["rows"]) for x in dec["files_earlier_period"]] == [("ZLS02", "2026-11", 2)]
    windows = {w["code"]: w for w in dec["windows"]}
    assert windows["ZLS02"]["received"] == 3 and windows["ZLS02"]["late_reported"] == 2
    assert dec["windows_submitted"] == ["ZLS01", "ZLS02"] and "ZLS02" not in dec["windows_resubmitted"]
    # B2 is in both files: one 明细 row (from December's submission), the November copy accounted as excluded
    book = openpyxl.load_workbook(inbox.parent / "月报-2026-12.xlsx", read_only=True)
    detail = list(book["明细"].iter_rows(values_only=True))
    col = {h: i for i, h in enumerate(detail[0])}
    ids = [r[col["受理编号"]] for r in detail[1:] if r[col["受理编号"]]]
    assert sorted(ids) == sorted([A1[0], B1[0], B2[0], B3[0]])
    notes = [[c for c in row if c is not None] for row in book["说明"].iter_rows(values_only=True)]
    reconciled = [row for row in notes if row and row[0] in ("ZLS01", "ZLS02") and row[-1] in ("相符",)]
    assert len(reconciled) == 3, notes          # ZLS01, ZLS02's December and its late November: all 相符
    assert any("补交" in str(c) for row in notes for c in row)
    # and 报送情况, where the centre looks for who handed in what, names the late file with its period
    sheet = [[c for c in row if c is not None] for row in book["报送情况"].iter_rows(values_only=True)]
    at = next(i for i, row in enumerate(sheet) if row and str(row[0]).startswith("补交的往期报送"))
    assert sheet[at + 2][:2] == ["ZLS02", "2026-11"] and sheet[at + 2][-1] == 2, sheet[at:at + 3]
    skipped = {x["file"]: x["reason"] for x in dec["files_skipped"]}
    assert "晚于本期" in skipped["ZLS03_2027-01.xlsx"] and "2027-01 的报送文件夹" in skipped["ZLS03_2027-01.xlsx"]
    # re-running December does not count them again, nor does January's run
    again = consolidate(inbox, "2026-12")
    assert {(x["window"], x["request_id"]) for x in again["late_reported"]} == {(w, r) for w, r, _ in late}


def test_without_an_archive_the_late_file_is_listed_with_what_to_do(inbox):
    data = consolidate(inbox, "2026-12", "--no-archive")
    assert data["late_reported"] == [] and data["files_earlier_period"] == []
    reasons = [x["reason"] for x in data["files_skipped"] if "2026-11" in x["file"]]
    assert len(reasons) == 1 and "ZLS02 的 2026-11 统计周期报送" in reasons[0] and "补报" in reasons[0], reasons
    assert B1[0] not in json.dumps(data["excluded"], ensure_ascii=False)


def test_the_notice_lists_an_overdue_request_of_a_late_file_as_consolidate_counts_it(tmp_path):
    """The liaison-group notice counts as consolidate does: an open request nobody has contacted, known only
    from a window's late November file in December's folder, is 补报 in the report and overdue in the notice."""
    inbox, desk = tmp_path / "报送", tmp_path / "窗口"
    submit(ledger(desk / "ZLS01-11.xlsx", "ZLS01", "2026-11", [A1], datetime(2026, 11, 24, 10)),
           inbox / "2026-11", "2026-11", "2026-11-24 10:00")
    consolidate(inbox, "2026-11")
    forgotten = "ZLS02-20261120-009"
    late = desk / "ZLS02-11.xlsx"
    row = dict(row_values("ZLS02", forgotten, datetime(2026, 11, 20, 9), None, datetime(2026, 12, 2, 9),
                          "窗口现场", 9), install_type="民用", replied_at=None)
    write_values_ledger(late, [row], {labels.INFO_WINDOW_CODE: "ZLS02", labels.INFO_PERIOD: "2026-11"})
    submit(late, inbox / "2026-12", "2026-11", "2026-12-02 09:00")
    submit(ledger(desk / "ZLS01-12.xlsx", "ZLS01", "2026-12", [A1], datetime(2026, 12, 24, 9)),
           inbox / "2026-12", "2026-12", "2026-12-24 09:00")
    notice = run("notice", inbox / "2026-12", "--period", "2026-12", "--now", "2026-12-25 10:00")
    assert notice.returncode == 0, notice.stderr
    overdue = notice.stdout.split("超过 2 小时仍未联系", 1)
    assert len(overdue) == 2 and forgotten in overdue[1], notice.stdout
    dec = consolidate(inbox, "2026-12")
    assert [x["request_id"] for x in dec["late_reported"]] == [forgotten]
    # without the archive neither counts it: the notice stays silent, as the report does
    alone = run("notice", inbox / "2026-12", "--period", "2026-12", "--now", "2026-12-25 10:00", "--no-archive")
    assert alone.returncode == 0 and forgotten not in alone.stdout, alone.stdout
