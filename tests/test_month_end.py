"""submit, consolidate and notice as users run them, on real files, and the demo end to end."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from xl_automation.model import config as cfg
from xl_automation.xlsx.fill import fill_ledger
from xl_automation.rules.periods import Period
from xl_automation.demo.sample import sample_rows

ROOT = Path(__file__).resolve().parents[1]
CONF = cfg.load()
PERIOD = Period.parse("2026-11")


def run(*args):
    return subprocess.run([sys.executable, "-m", "xl_automation", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)


def make_ledger(folder: Path, code: str, now: datetime, *, mistakes=False, n=20, extra=()) -> Path:
    path = folder / f"{code}.xlsx"
    assert run("new-ledger", "--window", code, "--period", "2026-11", "--out", path).returncode == 0
    rows = sample_rows(CONF.window(code), PERIOD, CONF, n=n, now=now, mistakes=mistakes) + list(extra)
    fill_ledger(path, rows)
    return path


def test_submit_refuses_a_ledger_with_errors_and_writes_nothing(tmp_path):
    ledger = make_ledger(tmp_path, "ZLS01", datetime(2026, 11, 20, 12), mistakes=True)
    done = run("submit", ledger, "--to", tmp_path / "inbox", "--now", "2026-11-20 12:00")
    assert done.returncode == 1 and "不能报送" in done.stdout and "受理台账!" in done.stdout
    assert not (tmp_path / "inbox").exists() or not any((tmp_path / "inbox").iterdir())


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


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    """A month folder: on time, late, resubmitted, missing windows, a plain ledger, a bad file, a transfer."""
    work = tmp_path_factory.mktemp("month")
    inbox = work / "inbox"
    now = datetime(2026, 11, 24, 10)
    a = make_ledger(work, "ZLS01", now)
    rid = "ZLS01-20261110-777"
    base = sample_rows(CONF.window("ZLS01"), PERIOD, CONF, n=1, now=now, mistakes=False)[0]
    give = dict(base, request_id=rid, received_at=datetime(2026, 11, 10, 9), posted_at=None, replied_at=None,
                result="已转办", transferred_to="张店分公司", closed_at=None, unresolved_reason="")
    take = dict(give, channel="联络群转入", received_at=datetime(2026, 11, 10, 9, 30), transferred_to="",
                replied_at=datetime(2026, 11, 10, 10, 30), result="已办结", closed_at=datetime(2026, 11, 11, 9))
    fill_ledger(a, [give])
    b = make_ledger(work, "ZLS02", now, extra=[take])
    c = make_ledger(work, "ZLS03", now)
    assert run("submit", a, "--to", inbox, "--now", "2026-11-24 09:00").returncode == 0
    assert run("submit", b, "--to", inbox, "--now", "2026-11-25 00:00").returncode == 0       # late: on the 25th
    assert run("submit", c, "--to", inbox, "--now", "2026-11-20 09:00").returncode == 1       # rows after that moment
    assert run("submit", c, "--to", inbox, "--now", "2026-11-24 10:00").returncode == 0
    shutil.copy(c, inbox / "ZLS03-again.xlsx")            # a plain ledger of the same window: newest wins
    stamp = datetime(2026, 11, 24, 12).timestamp()        # handed in when last saved
    os.utime(inbox / "ZLS03-again.xlsx", (stamp, stamp))
    (inbox / "坏文件.xlsx").write_bytes(b"not a workbook")
    (inbox / "~$ZLS01.xlsx").write_bytes(b"lock")
    (inbox / ".hidden.xlsx").write_bytes(b"x")
    return inbox


def consolidate_json(inbox, out, *extra):
    done = run("consolidate", inbox, "--period", "2026-11", "--out", out, "--json", "--now", "2026-11-25 10:00", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


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
    from test_report import SHEETS
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
def test_demo_runs_end_to_end_with_a_cjk_pdf(tmp_path):
    if not shutil.which("soffice") or not shutil.which("pdffonts"):
        pytest.skip("LibreOffice or poppler-utils not installed (tests/run.sh installs them)")
    done = run("demo", "--out", tmp_path / "demo")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "demo" / "报表" / "汇总结果-2026-11.json").read_text(encoding="utf-8"))
    assert summary["rows_in"] == summary["rows_in_details"] + summary["rows_merged"] + summary["rows_excluded"]
    assert len(summary["windows_missing"]) == 1 and len(summary["windows_late"]) == 1
    assert len(summary["windows_resubmitted"]) == 1 and len(summary["files_rejected"]) == 1
    assert summary["rows_merged"] == 2
    fonts = subprocess.run(["pdffonts", summary["pdf"]], capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if any(k in line for k in ("WenQuanYi", "Noto", "CJK", "Zen"))]
    assert cjk and all(" yes " in line for line in cjk), fonts
    assert "报表：" in done.stdout
    # --pdf is the 通报 (a few pages a leader reads), not every sheet of the workbook
    bulletin = tmp_path / "demo" / "报表" / "综合受理月报-2026-11.通报.docx"
    assert f"通报：{bulletin.resolve()}" in done.stdout and summary["bulletin"] == str(bulletin)
    assert Path(summary["pdf"]) == bulletin.with_suffix(".pdf")
    info = subprocess.run(["pdfinfo", summary["pdf"]], capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert 1 <= pages <= 4, info
    # the second month (issue 9): 补报 of the request typed in after November's submission, 未续报 of the
    # window that started December blank, 结转, and 上期 figures from the archive
    dec = json.loads((tmp_path / "demo" / "报表" / "汇总结果-2026-12.json").read_text(encoding="utf-8"))
    assert dec["archive"]["used"] and "ZLS02-20261124-960" in {x["request_id"] for x in dec["late_reported"]}
    assert dec["dropped_open"] and {x["window"] for x in dec["dropped_open"]} == {"JY01"}
    assert sum(w["carried_over"] for w in dec["windows"]) > 0
    book = openpyxl.load_workbook(tmp_path / "demo" / "报表" / "综合受理月报-2026-12.xlsx", read_only=True)
    rows = [r for r in book["汇总"].iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] and str(r[0]).startswith("与上期比较"))
    header = rows[start + 1]
    group = next(r for r in rows[start:] if r[0] == "GROUP")
    assert group[header.index("上期受理")] == summary["received"]
    assert group[header.index("本年累计受理")] == summary["received"] + dec["received"]
    trend = [r[0] for r in book["趋势"].iter_rows(values_only=True)]
    assert "2026-11" in trend and "2026-12" in trend


@pytest.mark.libreoffice
def test_libreoffice_recalculation_of_the_report_equals_the_json_summary(inbox, tmp_path):
    """The figures a spreadsheet engine computes from 明细 are the ones the command printed."""
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice (soffice) is not installed (tests/run.sh installs it)")
    from test_report import RECALC_ON_LOAD
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
