"""The README demo as a newcomer runs it: two months for every window, end to end, with a CJK PDF."""
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from support.cli import run


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
