"""A resubmission that no longer carries a row of the copy it superseded: the request is listed (JSON, the
report's 报送情况, the notice, the console line), never counted and never lost without a word."""
import json
from datetime import datetime

import openpyxl
import pytest

from support.cli import run
from support.month_files import CONF, PERIOD, consolidate_json
from xl_automation.demo.sample import sample_rows
from xl_automation.month_end.submission import MANIFEST_SUFFIX, sha256_of
from xl_automation.report.list_submissions import RESUBMISSION_MISSING, RESUBMISSION_UNCHECKED, SUBMISSION_SHEET
from xl_automation.xlsx.fill import fill_ledger
from xl_automation.model.labels import NEWEST_UNUSABLE

NOW = datetime(2026, 11, 20, 12)


def _ledger(folder, code, rows):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{code}.xlsx"
    assert run("new-ledger", "--window", code, "--period", "2026-11", "--out", path).returncode == 0
    fill_ledger(path, rows)
    return path


def _submit(path, inbox, when):
    done = run("submit", path, "--to", inbox, "--now", when)
    assert done.returncode == 0, done.stdout + done.stderr


def _resubmitted_without_one_row(tmp_path):
    """ZLS01 submits 8 rows, then a few minutes later the same ledger with its 4th row deleted; ZLS02 once."""
    rows = sample_rows(CONF.window("ZLS01"), PERIOD, CONF, n=8, now=NOW, mistakes=False)
    gone = rows[3]
    inbox = tmp_path / "inbox"
    _submit(_ledger(tmp_path / "first", "ZLS01", rows), inbox, "2026-11-20 12:00")
    _submit(_ledger(tmp_path / "second", "ZLS01", rows[:3] + rows[4:]), inbox, "2026-11-20 12:05")
    _submit(_ledger(tmp_path / "other", "ZLS02", sample_rows(CONF.window("ZLS02"), PERIOD, CONF, n=5, now=NOW,
                                                             mistakes=False)), inbox, "2026-11-20 12:00")
    first = min(inbox.glob(f"ZLS01*{MANIFEST_SUFFIX}"), key=lambda p: json.loads(p.read_text("utf-8"))["submitted_at"])
    return inbox, gone, json.loads(first.read_text("utf-8"))


def _bulletin_text(data) -> str:
    import docx
    return "\n".join(p.text for p in docx.Document(data["bulletin"]).paragraphs)


def _section(ws, title):
    """The rows of the table under a section title on the sheet, up to the next blank row."""
    values = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(values) if r[0] == title)
    out = []
    for r in values[at + 2:]:
        if not any(v not in (None, "") for v in r):
            break
        out.append(r)
    return values[at + 1], out


def test_a_row_deleted_before_resubmitting_is_listed_not_counted(tmp_path):
    inbox, gone, first = _resubmitted_without_one_row(tmp_path)
    data = consolidate_json(inbox, tmp_path / "report.xlsx", "--no-archive")
    assert data["windows_resubmitted"] == ["ZLS01"] and data["files_superseded"] == [first["copy_file"]]
    assert [(m["window"], m["request_id"], m["file"], m["row"], m["result"]) for m in data["resubmission_missing"]] == [
        ("ZLS01", gone["request_id"], first["copy_file"], 7, gone["result"])]
    assert data["resubmission_missing"][0]["received_at"] == gone["received_at"].isoformat(sep=" ")
    assert data["resubmission_unchecked"] == []
    counts = {w["code"]: w["resubmission_missing"] for w in data["windows"]}
    assert counts["ZLS01"] == 1 and sum(counts.values()) == 1
    assert data["rows_in"] == 7 + 5        # the newest copy is the window's word: the deleted row is not counted
    assert "重新报送后不再出现的需求1件" in _bulletin_text(data)       # the 通报 sent upward says so too
    ws = openpyxl.load_workbook(tmp_path / "report.xlsx")[SUBMISSION_SHEET]
    header, listed = _section(ws, RESUBMISSION_MISSING)
    assert header[:8] == ("窗口编码", "窗口名称", "被替换的文件", "行", "受理时间", "办理结果", "受理编号", "最后一次报送的文件")
    assert [(r[0], r[2], r[3], r[5], r[6]) for r in listed] == [
        ("ZLS01", first["copy_file"], 7, gone["result"], gone["request_id"])]
    assert listed[0][4] == gone["received_at"]
    # the console line and the liaison-group notice say the same
    text = run("consolidate", inbox, "--period", "2026-11", "--out", tmp_path / "r2.xlsx", "--no-archive",
               "--now", "2026-11-25 10:00")
    assert text.returncode == 0 and "重新报送后不再出现的需求 1 件" in text.stdout, text.stdout
    notice = run("notice", inbox, "--period", "2026-11", "--now", "2026-11-25 10:00", "--no-archive")
    assert notice.returncode == 0 and gone["request_id"] in notice.stdout and "重新报送后不再出现" in notice.stdout


def test_with_the_archive_the_same_rows_are_listed(tmp_path):
    inbox, gone, first = _resubmitted_without_one_row(tmp_path)
    data = consolidate_json(inbox, tmp_path / "report.xlsx", "--archive", tmp_path / "a.sqlite")
    assert [(m["request_id"], m["file"]) for m in data["resubmission_missing"]] == [(gone["request_id"], first["copy_file"])]
    again = consolidate_json(inbox, tmp_path / "report.xlsx", "--archive", tmp_path / "a.sqlite")   # from the cache
    assert again["archive"]["files_read"] == 0 and again["resubmission_missing"] == data["resubmission_missing"]


def test_a_month_without_resubmission_lists_nothing_and_adds_no_section(tmp_path):
    inbox = tmp_path / "inbox"
    _submit(_ledger(tmp_path / "a", "ZLS01", sample_rows(CONF.window("ZLS01"), PERIOD, CONF, n=4, now=NOW,
                                                         mistakes=False)), inbox, "2026-11-20 12:00")
    data = consolidate_json(inbox, tmp_path / "report.xlsx", "--no-archive")
    assert data["resubmission_missing"] == [] and data["resubmission_unchecked"] == []
    ws = openpyxl.load_workbook(tmp_path / "report.xlsx")[SUBMISSION_SHEET]
    assert all(r[0] not in (RESUBMISSION_MISSING, RESUBMISSION_UNCHECKED) for r in ws.iter_rows(values_only=True))


@pytest.mark.parametrize("manifest_follows", [True, False], ids=["damaged", "changed-after-submitting"])
def test_a_damaged_superseded_copy_is_a_note_not_a_failure(tmp_path, manifest_follows):
    inbox, gone, first = _resubmitted_without_one_row(tmp_path)
    copy = inbox / first["copy_file"]
    copy.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    if manifest_follows:       # damaged as submitted: the manifest names the copy as it is now
        manifest = next(p for p in inbox.glob(f"*{MANIFEST_SUFFIX}")
                        if json.loads(p.read_text("utf-8"))["copy_file"] == first["copy_file"])
        manifest.write_text(json.dumps({**first, "copy_sha256": sha256_of(copy)}, ensure_ascii=False), encoding="utf-8")
    data = consolidate_json(inbox, tmp_path / "report.xlsx", "--no-archive")
    assert data["resubmission_missing"] == [] and data["rows_in"] == 12
    assert [(x["window"], x["file"]) for x in data["resubmission_unchecked"]] == [("ZLS01", first["copy_file"])]
    reason = data["resubmission_unchecked"][0]["reason"]
    assert reason and (("sha256" in reason) != manifest_follows)
    assert first["copy_file"] in [r["file"] for r in data["files_rejected"]]
    ws = openpyxl.load_workbook(tmp_path / "report.xlsx")[SUBMISSION_SHEET]
    _, listed = _section(ws, RESUBMISSION_UNCHECKED)
    assert [(r[0], r[2]) for r in listed] == [("ZLS01", first["copy_file"])] and listed[0][3]
    notice = run("notice", inbox, "--period", "2026-11", "--now", "2026-11-25 10:00", "--no-archive")
    assert notice.returncode == 0 and f"{first['copy_file']} 无法读取" in notice.stdout


def test_a_late_file_of_an_earlier_period_resubmitted_without_a_row_lists_it_when_in_use(tmp_path):
    """ZLS02's November, handed in late into December's folder twice, the second time without B1: with the
    archive (November known) the late file is used and B1 is listed, from the first late copy; without it
    neither late copy is used (both listed among the skipped files) and nothing is compared."""
    from support.archive_files import consolidate, ledger
    from support.archive_world import row_values
    inbox = tmp_path / "报送"

    def r(rid, received, n):
        return dict(row_values(rid[:5], rid, received, None, datetime(2026, 11, 24, 9), "窗口现场", n), install_type="民用")
    a1 = r("ZLS01-20261110-001", datetime(2026, 11, 10, 9), 1)
    b1, b2 = r("ZLS02-20261105-001", datetime(2026, 11, 5, 9), 2), r("ZLS02-20261120-002", datetime(2026, 11, 20, 9), 3)
    _submit_period(ledger(tmp_path / "d1", "ZLS01", "2026-11", [a1], datetime(2026, 11, 24, 9)), inbox / "2026-11",
                   "2026-11", "2026-11-24 09:00")
    consolidate(inbox, "2026-11")
    _submit_period(ledger(tmp_path / "d2", "ZLS02", "2026-11", [b1, b2], datetime(2026, 12, 2, 9)), inbox / "2026-12",
                   "2026-11", "2026-12-02 09:00")
    _submit_period(ledger(tmp_path / "d3", "ZLS02", "2026-11", [b2], datetime(2026, 12, 3, 9)), inbox / "2026-12",
                   "2026-11", "2026-12-03 09:00")
    _submit_period(ledger(tmp_path / "d4", "ZLS01", "2026-12", [a1], datetime(2026, 12, 24, 9)), inbox / "2026-12",
                   "2026-12", "2026-12-24 09:00")
    first = min((json.loads(p.read_text("utf-8")) for p in (inbox / "2026-12").glob(f"ZLS02*{MANIFEST_SUFFIX}")),
                key=lambda m: m["submitted_at"])
    dec = consolidate(inbox, "2026-12")
    assert [(m["window"], m["request_id"], m["file"], m["period"]) for m in dec["resubmission_missing"]] == [
        ("ZLS02", b1["request_id"], first["copy_file"], "2026-11")]
    assert {w["code"]: w["resubmission_missing"] for w in dec["windows"]}["ZLS02"] == 1
    alone = consolidate(inbox, "2026-12", "--no-archive")
    assert alone["resubmission_missing"] == [] and first["copy_file"] in [x["file"] for x in alone["files_skipped"]]


def _submit_period(path, inbox, period, when):
    done = run("submit", path, "--to", inbox, "--period", period, "--now", when)
    assert done.returncode == 0, done.stdout + done.stderr


def test_when_the_newest_submission_cannot_be_used_the_report_says_the_older_one_counts(tmp_path):
    """ZLS01 resubmits, and its newest copy is changed after submitting (or damaged): the earlier copy is in
    force. The newest copy was listed under 未采用的文件, but nobody was told that the month counts the window
    by its older submission: the window believes its resubmission counted."""
    inbox, _, first = _resubmitted_without_one_row(tmp_path)
    newest = max(inbox.glob(f"ZLS01*{MANIFEST_SUFFIX}"), key=lambda p: json.loads(p.read_text("utf-8"))["submitted_at"])
    copy = inbox / json.loads(newest.read_text("utf-8"))["copy_file"]
    copy.write_bytes(copy.read_bytes() + b"\0")                      # changed after submitting
    data = consolidate_json(inbox, tmp_path / "report.xlsx", "--no-archive")
    assert data["rows_in"] == 8 + 5                                  # the earlier copy counts
    (entry,) = data["newest_unusable"]
    assert (entry["window"], entry["file"], entry["in_force"]) == ("ZLS01", copy.name, first["copy_file"])
    assert "sha256" in entry["reason"]
    assert f"{CONF.window('ZLS01').name}较晚的报送无法使用，本期按其较早的报送汇总" in _bulletin_text(data)
    ws = openpyxl.load_workbook(tmp_path / "report.xlsx")[SUBMISSION_SHEET]
    header, listed = _section(ws, NEWEST_UNUSABLE)
    assert header[:5] == ("窗口编码", "窗口名称", "无法使用的报送", "原因", "本期采用的报送")
    assert [(r[0], r[2], r[4]) for r in listed] == [("ZLS01", copy.name, first["copy_file"])]
    text = run("consolidate", inbox, "--period", "2026-11", "--out", tmp_path / "r2.xlsx", "--no-archive",
               "--now", "2026-11-25 10:00")
    line = next(x for x in text.stdout.splitlines() if copy.name in x and first["copy_file"] in x)
    assert NEWEST_UNUSABLE in line
    notice = run("notice", inbox, "--period", "2026-11", "--now", "2026-11-25 10:00", "--no-archive")
    assert notice.returncode == 0 and copy.name in notice.stdout and first["copy_file"] in notice.stdout
