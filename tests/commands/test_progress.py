"""Progress on a terminal's stderr (a real pty), silence in pipes and with --quiet, JSON never mixed in;
the 汇总 button's status bar steps bounded by the files read, not the rows."""
from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from xl_automation.excel import buttons
from xl_automation.xlsx.ledger_check import check_file
from xl_automation.xlsx.fill import fill_ledger
from xl_automation.excel.group_workbook import build_group_workbook
from xl_automation.rules.periods import Period
from xl_automation.commands.progress import MIN_INTERVAL, Progress, file_step, for_args
from xl_automation.demo.sample import sample_rows
from xl_automation.excel.sheetport import FilePort
from xl_automation.month_end.submission import submit
from xl_automation.xlsx.template import build_ledger, default_config

NOW = datetime(2026, 11, 24, 12, 0)
PERIOD = Period.parse("2026-11")
CONF = default_config()


def inbox(folder: Path, rows: int, windows=("ZLS01", "ZLS02", "ZLS03")) -> Path:
    box = folder / "报送"
    for code in windows:
        ledger = build_ledger(folder / f"{code}.xlsx", config=CONF, window=CONF.window(code), period=PERIOD)
        fill_ledger(ledger, sample_rows(CONF.window(code), PERIOD, CONF, n=rows, now=NOW, mistakes=False))
        check, _ = check_file(ledger, CONF, NOW, annotate=False)
        submit(check, box, CONF, NOW)
    return box


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_not_when_quiet():
    class Args:
        quiet = False
    assert for_args(Args(), Tty()).enabled
    assert not for_args(Args(), io.StringIO()).enabled
    Args.quiet = True
    assert not for_args(Args(), Tty()).enabled


def test_file_steps_are_throttled_but_the_first_and_last_always_show():
    ticks = iter([0.0, 0.01, 0.02, 0.03, 0.04 + MIN_INTERVAL, 0.05 + MIN_INTERVAL])
    stream = Tty()
    p = Progress(stream, clock=lambda: next(ticks))
    for n in range(1, 7):
        p.on_file(n, 6, f"文件{n}.xlsx")
    assert p.shown == [file_step(1, 6, "文件1.xlsx"), file_step(5, 6, "文件5.xlsx"), file_step(6, 6, "文件6.xlsx")]
    p.done()
    assert stream.getvalue().endswith("\r") and "\n" not in stream.getvalue()


def run_with_tty_stderr(*args: str) -> tuple[int, str, str]:
    """The CLI with stdout a pipe and stderr a real terminal (a pty), as when a user redirects only stdout."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "xl_automation", *args], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read()
    proc.wait(timeout=300)
    os.close(master)
    return proc.returncode, out.decode("utf-8"), b"".join(chunks).decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def box(tmp_path_factory) -> Path:
    return inbox(tmp_path_factory.mktemp("progress"), rows=8)


def test_consolidate_shows_steps_on_a_terminal_and_keeps_json_clean(box, tmp_path):
    code, out, err = run_with_tty_stderr("consolidate", str(box), "--period", "2026-11", "--out",
                                         str(tmp_path / "月报.xlsx"), "--json", "--now", "2026-11-25 10:00")
    assert code == 0, err
    data = json.loads(out)                                   # stdout is JSON and nothing else
    assert data["rows_in"] == 24
    assert "正在读取报送文件 1/3" in err and "正在读取报送文件 3/3" in err
    assert "共 24 行" in err and "正在生成报表 月报.xlsx" in err      # one wording for command and button


def test_quiet_and_pipes_show_no_progress(box, tmp_path):
    args = ("consolidate", str(box), "--period", "2026-11", "--out", str(tmp_path / "月报.xlsx"), "--now", "2026-11-25 10:00")
    code, out, err = run_with_tty_stderr(*args, "--quiet")
    assert code == 0 and "汇总完成" in out and err == ""
    code, out, err = run_with_tty_stderr("--quiet", "notice", str(box), "--period", "2026-11")
    assert code == 0 and out.strip() and err == ""
    done = subprocess.run([sys.executable, "-m", "xl_automation", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stderr == ""


@pytest.mark.libreoffice
def test_pdf_export_is_a_step_too(box, tmp_path):
    code, out, err = run_with_tty_stderr("consolidate", str(box), "--period", "2026-11", "--out",
                                         str(tmp_path / "月报.xlsx"), "--pdf", "--now", "2026-11-25 10:00")
    assert code == 0 and "正在把通报导出为 PDF" in err and "PDF：" in out


def button_statuses(tmp_path: Path, rows: int) -> list:
    tmp_path.mkdir()
    box = inbox(tmp_path, rows=rows, windows=("ZLS01", "ZLS02"))
    group = build_group_workbook(tmp_path / "集团汇总.xlsx")
    import openpyxl
    from xl_automation.excel.group_workbook import PERIOD as PERIOD_LABEL, SETTINGS, SHEET, SUBMIT_DIR
    wb = openpyxl.load_workbook(group)
    row = {label: i for i, (label, _, _) in enumerate(SETTINGS, start=3)}
    wb[SHEET][f"B{row[PERIOD_LABEL]}"] = "2026-11"
    wb[SHEET][f"B{row[SUBMIT_DIR]}"] = box.name
    wb.save(group)
    port = FilePort(group, now=NOW)
    buttons.run_consolidate(port, CONF, NOW)
    assert port.reports and "汇总" in port.reports[0][0]
    return port.statuses


def test_the_button_status_bar_steps_per_file_not_per_row(tmp_path):
    few, many = button_statuses(tmp_path / "a", rows=2), button_statuses(tmp_path / "b", rows=60)
    assert len(few) == len(many)
    assert "集团汇总：正在读取报送文件 1/2：" in "\n".join(many) and any("共 120 行" in s for s in many)
    assert [s for s in many if "正在生成报表" in s]
