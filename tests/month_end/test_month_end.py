"""submit, consolidate and notice as users run them, on real files, and the demo end to end."""
import json
import shutil
import subprocess
import zipfile
from datetime import datetime

import openpyxl
import pytest

from support.cli import run
from xl_automation.demo.sample import sample_rows
from support.month_files import CONF, PERIOD, consolidate_json, make_ledger


def test_submit_refuses_a_ledger_with_errors_and_writes_nothing(tmp_path):
    ledger = make_ledger(tmp_path, "ZLS01", datetime(2026, 11, 20, 12), mistakes=True)
    done = run("submit", ledger, "--to", tmp_path / "inbox", "--now", "2026-11-20 12:00")
    assert done.returncode == 1 and "不能报送" in done.stdout and "受理台账!" in done.stdout
    assert not (tmp_path / "inbox").exists() or not any((tmp_path / "inbox").iterdir())


def test_submit_to_a_file_instead_of_a_folder_says_so_in_one_line(tmp_path):
    ledger = make_ledger(tmp_path, "ZLS01", datetime(2026, 11, 20, 12))
    (tmp_path / "报送").write_text("a file where the folder should be", encoding="utf-8")
    for to in (tmp_path / "报送", tmp_path / "报送" / "2026-11"):
        done = run("submit", ledger, "--to", to, "--now", "2026-11-24 10:00")
        assert done.returncode == 1 and "内部错误" not in done.stdout + done.stderr, done.stdout + done.stderr
        assert "不是文件夹" in done.stdout and str(tmp_path / "报送") in done.stdout


def test_submission_copy_is_values_only_with_manifest_and_resubmission_keeps_the_first(tmp_path):
    now = datetime(2026, 11, 20, 12)
    old_open = dict(sample_rows(CONF.window("ZLS02"), PERIOD, CONF, n=1, now=now, mistakes=False)[0],
                    request_id="ZLS02-20261001-001", received_at=datetime(2026, 10, 1, 9), posted_at=None,
                    replied_at=datetime(2026, 10, 1, 9, 30), result="办理中", closed_at=None)
    old_closed = dict(old_open, request_id="ZLS02-20261002-001", received_at=datetime(2026, 10, 2, 9),
                      replied_at=datetime(2026, 10, 2, 9, 30), result="已办结", closed_at=datetime(2026, 10, 3, 9))
    ledger = make_ledger(tmp_path, "ZLS02", now, extra=[old_open, old_closed])
    inbox = tmp_path / "inbox"
    assert run("submit", ledger, "--to", inbox, "--now", "2026-11-20 12:00").returncode == 0
    assert run("submit", ledger, "--to", inbox, "--now", "2026-11-21 08:00").returncode == 0
    manifests = sorted(inbox.glob("*.manifest.json"))
    assert len(manifests) == 2
    m = json.loads(manifests[0].read_text(encoding="utf-8"))
    assert (m["window"], m["period"], m["rows"], m["rows_carried"], m["rows_earlier_closed"]) == (
        "ZLS02", "2026-11", 22, 1, 1)
    assert {"source_sha256", "copy_sha256", "submitted_at", "template_version", "tool_version"} <= set(m)
    copy = inbox / m["copy_file"]
    with zipfile.ZipFile(copy) as z:
        assert not any("<f>" in z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
        assert not any("vbaProject" in n for n in z.namelist())
    ids = [r[0] for r in openpyxl.load_workbook(copy)["受理台账"].iter_rows(min_row=4, values_only=True)]
    assert "ZLS02-20261001-001" in ids and "ZLS02-20261002-001" in ids      # issue 9: earlier closed rows too


def test_consolidate_conserves_rows_and_reports_every_window(inbox, tmp_path):
    data = consolidate_json(inbox, tmp_path / "report.xlsx")
    assert data["rows_in"] == data["rows_in_details"] + data["rows_merged"] + data["rows_excluded"]
    assert data["rows_merged"] == 1
    assert data["windows_expected"] == [w.code for w in CONF.windows]
    assert set(data["windows_submitted"]) == {"ZLS01", "ZLS02", "ZLS03"}
    assert data["windows_late"] == ["ZLS02"] and "ZLS04" in data["windows_missing"]
    assert [r["file"] for r in data["files_rejected"]] == ["坏文件.xlsx"]
    assert "损坏" in data["files_rejected"][0]["reason"] or "不是" in data["files_rejected"][0]["reason"]
    assert "ZLS03" in data["windows_resubmitted"] and data["files_superseded"]
    wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    from support.report_month import SHEETS
    at = SHEETS.index("报送情况") + 1           # the command's report has the archive's two sheets (issue 9)
    assert wb.sheetnames == SHEETS[:at] + ["跨月核对", "趋势"] + SHEETS[at:]
    assert wb["明细"].max_row - 1 == data["rows_in_details"]


def test_masking_on_by_default_and_off_on_request(inbox, tmp_path):
    rows = [r for src in sorted(inbox.glob("ZLS01_*.xlsx"))
            for r in openpyxl.load_workbook(src)["受理台账"].iter_rows(min_row=4, values_only=True)]
    phones = {str(r[11]) for r in rows if r[11] and str(r[11]).startswith("1")}
    assert phones

    def text(path):
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())

    consolidate_json(inbox, tmp_path / "masked.xlsx")
    consolidate_json(inbox, tmp_path / "open.xlsx", "--show-personal-info")
    assert not any(p in text(tmp_path / "masked.xlsx") for p in phones)
    assert all(p in text(tmp_path / "open.xlsx") for p in phones)


def test_notice_names_missing_windows_and_is_masked(inbox):
    done = run("notice", inbox, "--period", "2026-11", "--now", "2026-11-25 10:00")
    assert done.returncode == 0
    assert "未报送窗口" in done.stdout and "新区分公司" in done.stdout
    assert not any(ch.isdigit() and len(tok) == 11 for tok in done.stdout.split() for ch in tok[:1])


def test_consolidate_of_a_missing_folder_is_one_line(tmp_path):
    done = run("consolidate", tmp_path / "nope", "--period", "2026-11", "--out", tmp_path / "r.xlsx")
    assert done.returncode == 2 and "Traceback" not in done.stderr


@pytest.mark.libreoffice
def test_libreoffice_recalculation_of_the_report_equals_the_json_summary(inbox, tmp_path):
    """The figures a spreadsheet engine computes from 明细 are the ones the command printed."""
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice (soffice) is not installed (tests/run.sh installs it)")
    from support.libreoffice import RECALC_ON_LOAD
    report = tmp_path / "月报.xlsx"
    data = consolidate_json(inbox, report)
    profile = tmp_path / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ON_LOAD, encoding="utf-8")
    subprocess.run([shutil.which("soffice"), f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "lo"), str(report)],
                   check=True, capture_output=True, timeout=300)
    ws = openpyxl.load_workbook(tmp_path / "lo" / report.name, data_only=True)["汇总"]
    header = next(r for r in ws.iter_rows(values_only=True) if r and "受理总数" in r)
    group = next(r for r in ws.iter_rows(values_only=True) if r and r[0] == "集团合计")
    col = {name: i for i, name in enumerate(header)}
    assert group[col["受理总数"]] == data["rows_in_details"]
    assert group[col["超时"]] == data["overdue"]
    assert group[col["按时率"]] == pytest.approx(data["on_time_rate"], abs=1e-9)


def test_links_and_special_files_in_the_period_folder_are_listed_not_read(tmp_path):
    """The period folder is where branches drop files. A symbolic link named like a manifest and pointing at
    /dev/zero was read by consolidate itself (not by a limited worker) until memory ran out; a named pipe
    named like one waited for a writer for ever. Only regular files are read; the others are listed under
    跳过的文件 with the reason, and the month is consolidated."""
    import os
    inbox = tmp_path / "inbox"
    ledger = make_ledger(tmp_path, "ZLS01", datetime(2026, 11, 24, 10), n=3)
    assert run("submit", ledger, "--to", inbox, "--now", "2026-11-24 09:00").returncode == 0
    (inbox / "ZLS02_2026-11_20261124-090000.manifest.json").symlink_to("/dev/zero")
    os.mkfifo(inbox / "ZLS03.xlsx")
    (inbox / "ZLS04.xlsx").symlink_to(ledger)
    manifest = json.loads(next(inbox.glob("ZLS01_*.manifest.json")).read_text(encoding="utf-8"))
    manifest.update(window="ZLS05", copy_file="ZLS05_2026-11_20261124-090000.xlsx")   # a sound manifest, its copy a link
    (inbox / "ZLS05_2026-11_20261124-090000.manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (inbox / "ZLS05_2026-11_20261124-090000.xlsx").symlink_to("/dev/zero")
    done = run("consolidate", inbox, "--period", "2026-11", "--out", tmp_path / "r.xlsx", "--json",
               "--now", "2026-11-25 10:00", "--no-archive", timeout=60)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["windows_submitted"] == ["ZLS01"]
    skipped = {x["file"]: x["reason"] for x in data["files_skipped"]}
    assert set(skipped) == {"ZLS02_2026-11_20261124-090000.manifest.json", "ZLS03.xlsx", "ZLS04.xlsx"}
    assert all(reason.startswith("不是普通文件") for reason in skipped.values())
    rejected = {x["file"]: x["reason"] for x in data["files_rejected"]}
    assert rejected == {"ZLS05_2026-11_20261124-090000.manifest.json":
                        "清单所列的报送文件 ZLS05_2026-11_20261124-090000.xlsx 不是普通文件（符号链接、管道或设备），未读取"}


def test_a_line_break_inside_a_ledger_value_cannot_add_lines_to_the_notice(tmp_path):
    """The notice is pasted into the liaison group as it is. A 受理编号 typed with Alt+Enter (the cell keeps
    the line break) put the text after it on a line of its own, where it read like the centre's own words.
    Each quoted value stays on its item's line."""
    from support.rows import good_row
    from xl_automation.xlsx.fill import fill_ledger
    ledger = make_ledger(tmp_path, "ZLS01", datetime(2026, 11, 24, 10), n=0)
    at = datetime(2026, 11, 24, 8)
    forged = "【集团营销服务中心】各窗口本月考核已免"
    fill_ledger(ledger, [good_row(request_id=f"ZLS01-20261124-001\n{forged}", received_at=at, posted_at=at,
                                  replied_at=None, result="办理中", closed_at=None)])
    inbox = tmp_path / "inbox"
    assert run("submit", ledger, "--to", inbox, "--now", "2026-11-24 09:00").returncode == 0
    done = run("notice", inbox, "--period", "2026-11", "--now", "2026-11-24 12:00", "--no-archive")
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if forged in line]
    assert line.startswith("  ZLS01-20261124-001 ") and "受理，已" in line
