"""The group's monthly report workbook, written for real and read back with openpyxl (and LibreOffice)."""
from __future__ import annotations

import copy
import re
import shutil
import subprocess
import zipfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import openpyxl

import pytest

from xl_automation.model import config as cfg
from xl_automation.model import findings as F
from xl_automation.month_end.collect import Collected
from xl_automation.rules.consolidate import EXCLUDED_LATER, consolidate
from xl_automation.report.workbook import window_statuses, write_report
from xl_automation.report.report_detail import DETAIL_COLUMNS, detail_letter
from xl_automation.report.list_assessment import ASSESSMENT_FIGURES
from xl_automation.report.report_summary import Formulas
from xl_automation.model.schema import INPUT_COLUMNS
from xl_automation.rules.stats import figure_list, figures

from support.report_month import BAD_PHONE, CONFIG, INJECTED_NAME, INJECTED_REMARK, MERGED_ID, NAME, NOW, PERIOD, PHONE, RAW_XML, SHEETS, month, req, source, write
from support.libreoffice import RECALC_ON_LOAD


@pytest.fixture(scope="module")
def masked(tmp_path_factory):
    path = tmp_path_factory.mktemp("masked") / "月报.xlsx"
    info, cons = write(path)
    return path, info, cons


@pytest.fixture(scope="module")
def shown(tmp_path_factory):
    path = tmp_path_factory.mktemp("shown") / "月报.xlsx"
    info, cons = write(path, show_personal_info=True)
    return path, info, cons


def xml_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def rows_of(ws, first=1):
    return [list(r) for r in ws.iter_rows(min_row=first, values_only=True)]


def find_row(ws, column: int, value):
    return next(r for r in ws.iter_rows(min_row=1) if r[column - 1].value == value)


# --- structure -----------------------------------------------------------------------------

def test_sheets_in_order_and_every_detail_in_detail_sheet(masked):
    path, info, cons = masked
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS
    ws = wb["明细"]
    assert [c.value for c in ws[1]] == [h for _, h, _ in DETAIL_COLUMNS]
    assert ws.max_row - 1 == len(cons.details)
    assert [ws.cell(r, 4).value for r in range(2, ws.max_row + 1)] == [d.values["request_id"] or None for d in cons.details]
    assert ws.freeze_panes == "D2" and ws.auto_filter.ref == f"A1:{ws.cell(1, len(DETAIL_COLUMNS)).column_letter}{ws.max_row}"
    assert ws.print_title_rows == "$1:$1" and wb["超时清单"].print_title_rows == "$1:$1"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9


def test_detail_values_are_typed_and_carry_provenance(masked):
    path, _, cons = masked
    ws = openpyxl.load_workbook(path)["明细"]
    col = {h: i for i, (_, h, _) in enumerate(DETAIL_COLUMNS, start=1)}
    row = find_row(ws, col["受理编号"], "ZLS01-20261104-002")
    d = next(d for d in cons.details if d.values["request_id"] == "ZLS01-20261104-002")
    assert row[col["受理时间"] - 1].value == datetime(2026, 11, 4, 9, 0)
    assert row[col["受理时间"] - 1].number_format == "yyyy-mm-dd hh:mm"
    assert row[col["用水"] - 1].value == "√" and row[col["用电"] - 1].value is None
    assert row[col["响应用时(分钟)"] - 1].value == 210 and row[col["时限状态"] - 1].value == "超时"
    assert row[col["来源文件"] - 1].value == "ZLS01_2026-11.xlsx" and row[col["来源sha256"] - 1].value == d.sha256
    assert row[col["来源行"] - 1].value == d.source_row == 5
    assert row[col["所属公司"] - 1].value == CONFIG.window("ZLS01").company_name
    merged = find_row(ws, col["受理编号"], MERGED_ID)
    assert merged[col["办理窗口"] - 1].value == "ZLS03" and "ZLS03" in merged[col["合并行"] - 1].value
    carried = find_row(ws, col["受理编号"], "ZLS01-20261020-010")
    assert carried[col["结转"] - 1].value == "是"
    fonts = {c.font.name for r in ws.iter_rows(max_row=3) for c in r if c.value is not None}
    assert fonts == {"等线"}


def test_every_input_column_comes_from_the_schema():
    headers = [h for _, h, _ in DETAIL_COLUMNS]
    assert headers[3:3 + len(INPUT_COLUMNS)] == [c.header for c in INPUT_COLUMNS]


# --- personal information ------------------------------------------------------------------

def test_masking_on_hides_names_and_phones_everywhere(masked):
    path, _, _ = masked
    text = xml_text(path)
    for secret in (NAME, PHONE, BAD_PHONE):
        assert secret not in text
    assert "欧**娜" in text and "139****7654" in text and "****765" in text
    assert "淄博鑫源化工有限公司" in text           # organisations are not personal information
    assert "李四" in text                             # the clerk is staff, not an applicant
    wb = openpyxl.load_workbook(path)
    notes = {r[0]: r[1] for r in rows_of(wb["说明"], 2) if r[0]}
    assert notes["个人信息"].startswith("已脱敏")


def test_masking_off_shows_them(shown):
    path, _, _ = shown
    text = xml_text(path)
    assert NAME in text and PHONE in text and BAD_PHONE in text
    notes = {r[0]: r[1] for r in rows_of(openpyxl.load_workbook(path)["说明"], 2) if r[0]}
    assert notes["个人信息"].startswith("完整显示")


# --- untrusted text ------------------------------------------------------------------------

def test_formula_and_markup_injection_stay_text(shown):
    path, _, _ = shown
    ws = openpyxl.load_workbook(path)["明细"]
    col = {h: i for i, (_, h, _) in enumerate(DETAIL_COLUMNS, start=1)}
    row = find_row(ws, col["受理编号"], "ZLS01-20261105-003")
    applicant, remarks, address = (row[col[h] - 1] for h in ("单位名称或用户姓名", "其他需要说明的情况", "详细地址"))
    assert (applicant.value, applicant.data_type) == (INJECTED_NAME, "s")
    assert (remarks.value, remarks.data_type) == (INJECTED_REMARK, "s")
    assert (address.value, address.data_type) == (RAW_XML, "s")
    with zipfile.ZipFile(path) as z:
        formulas = [f for n in z.namelist() if n.startswith("xl/worksheets/")
                    for f in re.findall(r"<f[^>]*>(.*?)</f>", z.read(n).decode())]
    assert formulas and not [f for f in formulas if "HYPERLINK" in f or "SUM(1)" in f or "1+1" in f]


# --- 汇总 -----------------------------------------------------------------------------------

def expected_rows(cons, conf):
    """(code, figures) for every 汇总 row, computed here from the details, independent of the report."""
    by_window = defaultdict(list)
    for d in cons.details:
        by_window[d.window].append(d)
    out = [(w.code, figures(by_window[w.code])) for w in conf.windows]
    for c in conf.data["companies"]:
        out.append((c["code"], figures(d for w in conf.windows if w.company == c["code"] for d in by_window[w.code])))
    return out + [("集团合计", figures(cons.details))]


def assert_summary_matches(ws, cons, conf=CONFIG):
    labels = [f.label for f in figure_list()]
    assert [c.value for c in ws[3]][2:2 + len(labels)] == labels
    for i, (code, figs) in enumerate(expected_rows(cons, conf), start=4):
        assert ws.cell(i, 1).value == code
        for j, fig in enumerate(figure_list(), start=3):
            got, want = ws.cell(i, j).value, figs[fig.key]
            where = f"{code} {fig.label}"
            if want is None:
                assert got in (None, ""), where
            elif isinstance(want, float) or fig.key.endswith(("rate", "minutes")):
                assert got == pytest.approx(want, abs=1e-9), where
            else:
                assert got == want, where


def test_summary_formulas_cache_python_figures(masked):
    path, info, cons = masked
    assert_summary_matches(openpyxl.load_workbook(path, data_only=True)["汇总"], cons)
    assert info.figures["group"] == figures(cons.details, tuple(CONFIG.policy["refusal_phrases"]))
    assert info.figures["windows"]["ZLS04"]["received"] == 0 and info.figures["windows"]["ZLS04"]["on_time_rate"] is None


def test_summary_formulas_are_bounded_and_array_where_needed(masked):
    path, _, cons = masked
    ws = openpyxl.load_workbook(path)["汇总"]
    last = len(cons.details) + 1
    col = {f.key: j for j, f in enumerate(figure_list(), start=3)}
    received = ws.cell(4, col["received"]).value
    carried = f"'明细'!${detail_letter('carried')}$2:${detail_letter('carried')}${last}"
    assert received == f"=COUNTIFS('明细'!$A$2:$A${last},\"ZLS01\",{carried},\"<>是\")"
    group = ws.cell(4 + len(CONFIG.windows) + len(CONFIG.data["companies"]), col["received"]).value
    assert group == f"=COUNTIFS('明细'!$A$2:$A${last},\"<>\",{carried},\"<>是\")"
    assert ws.cell(4, col["carried_over"]).value == f"=COUNTIFS('明细'!$A$2:$A${last},\"ZLS01\",{carried},\"是\")"
    median = ws.cell(4, col["median_minutes"]).value
    assert isinstance(median, openpyxl.worksheet.formula.ArrayFormula) and "MEDIAN(IF(" in median.text
    assert ws.cell(4, col["on_time_rate"]).number_format == "0.0%"
    title = ws["A1"].value
    assert CONFIG.data["group"]["name"] in title and "2026-11" in title and PERIOD.describe() in title
    assert "自然时间" in ws["A2"].value and "120" in ws["A2"].value
    assert len(ws._charts) == 2


def test_empty_month_still_has_bounded_ranges(tmp_path):
    cons = consolidate([], PERIOD, CONFIG, NOW)
    path = tmp_path / "空.xlsx"
    info = write_report(path, consolidation=cons, collected=Collected([]), config=CONFIG, now=NOW)
    ws = openpyxl.load_workbook(path)["汇总"]
    assert "'明细'!$A$2:$A$2" in ws["C4"].value
    assert all(s.missing for s in info.statuses)
    assert Formulas(0).last == 2


def test_every_figure_has_a_formula():
    fx = Formulas(10)
    for fig in figure_list():
        for flt in (("window", "ZLS01"), ("company", "x"), None):
            formula, _ = fx.formula(fig.key, flt)
            assert formula.lstrip("{").startswith("=")


def test_working_hours_clock_is_named_in_the_title(tmp_path):
    conf = cfg.Config(copy.deepcopy(CONFIG.data))
    conf.data["policy"]["clock"] = "working-hours"
    path = tmp_path / "工作时间.xlsx"
    write(path, conf)
    line = openpyxl.load_workbook(path)["汇总"]["A2"].value
    assert "工作时间" in line and "08:30–12:00" in line


# --- LibreOffice recomputes the same figures -----------------------------------------------


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """The report written without cached values, opened and saved by LibreOffice with recalculation forced.

    A company name with COUNTIFS wildcards (* ? ~) proves the criteria match it literally."""
    conf = cfg.Config(copy.deepcopy(CONFIG.data))
    conf.data["companies"][1]["name"] = "津源供水*有限?公司~博山"
    tmp = tmp_path_factory.mktemp("lo")
    src = tmp / "in" / "月报.xlsx"
    src.parent.mkdir()
    _, cons = write(src, conf, cached_values=False)
    profile = tmp / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ON_LOAD, encoding="utf-8")
    out = tmp / "out"
    subprocess.run([shutil.which("soffice"), f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), str(src)], check=True, capture_output=True, timeout=300)
    return src, out / src.name, cons, conf


needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


@pytest.mark.libreoffice
@needs_soffice
def test_libreoffice_computes_the_same_figures(recalculated):
    src, converted, cons, conf = recalculated
    cached = openpyxl.load_workbook(src, data_only=True)["汇总"]
    assert cached.cell(4, 3).value in (None, "")                  # really nothing cached to fall back on
    assert_summary_matches(openpyxl.load_workbook(converted, data_only=True)["汇总"], cons, conf)


# --- lists ---------------------------------------------------------------------------------

def test_overdue_list_sorted_by_window_then_time(masked):
    path, _, cons = masked
    rows = [r for r in rows_of(openpyxl.load_workbook(path)["超时清单"], 2) if r[0]]
    overdue = [d for d in cons.details if d.clock.overdue]
    assert len(rows) == len(overdue) > 3
    order = [w.code for w in CONFIG.windows]
    assert [(order.index(r[0]), r[3]) for r in rows] == sorted((order.index(r[0]), r[3]) for r in rows)
    late = next(r for r in rows if r[2] == "ZLS01-20261104-002")
    assert late[5] == 210 and late[6] == 90 and late[7] == "超时" and late[8] == "李四"
    assert late[9] == "淄博鑫源化工有限公司" and late[10] == "138****2345"


def test_unresolved_grouped_by_reason_with_refusals_marked(masked):
    path, _, cons = masked
    rows = rows_of(openpyxl.load_workbook(path)["未办结及原因"], 4)
    table = {r[0]: r[1:5] for r in rows[:rows.index([None] * len(rows[0]))]}
    refused = sum(1 for d in cons.details if d.values.get("unresolved_reason") == "不属于本单位业务")
    assert table["不属于本单位业务"] == [0, refused, refused, "是"] and refused >= 2
    assert table["管网未覆盖"][1:] == [1, 1, None]
    blanks = sum(1 for d in cons.details if d.values.get("result") in ("办理中", "无法办理")
                 and not d.values.get("unresolved_reason"))
    assert table["（未填写原因）"][2] == blanks >= 2
    total = sum(1 for d in cons.details if d.values.get("result") in ("办理中", "无法办理"))
    assert sum(v[2] for v in table.values()) == total
    listed = [r for r in rows if r[2] and str(r[2]).startswith(("ZLS", "JY"))]
    assert len(listed) == total


def test_transfers_list_merged_and_transferred(masked):
    path, _, cons = masked
    rows = rows_of(openpyxl.load_workbook(path)["跨辖区转办"])
    merged = next(r for r in rows if r[2] == MERGED_ID)
    assert merged[0] == "ZLS01" and merged[4] == "ZLS03" and merged[6] == "已办结"
    moved = [r for r in rows if r[4] == "国网淄博供电公司" and r[0] == "ZLS01"]
    assert len(moved) == 1 and moved[0][2] == "ZLS01-20261108-007"
    transferred = sum(1 for d in cons.details if d.values.get("result") == "已转办")
    assert sum(1 for r in rows if r[2] and r[0] in {w.code for w in CONFIG.windows}) == 1 + transferred


def test_submission_sheet_shows_missing_late_and_resubmitted(masked):
    path, info, _ = masked
    rows = rows_of(openpyxl.load_workbook(path)["报送情况"], 4)
    by_code = {r[0]: r for r in rows[:len(CONFIG.windows)]}
    assert list(by_code) == [w.code for w in CONFIG.windows]
    assert by_code["ZLS01"][3] == "已报送" and by_code["ZLS01"][5] == "否" and by_code["ZLS01"][10] == 10
    assert by_code["ZLS01"][11:13] == [2, 0]
    assert by_code["ZLS02"][3:7] == ["逾期报送", datetime(2026, 11, 25), "是", "ZLS02_2026-11.xlsx"]
    assert by_code["ZLS02"][7] == "ZLS02_2026-11_重报.xlsx"
    assert by_code["ZLS03"][3] == "已报送"                                   # 23:59 on the 24th is in time
    assert by_code["ZLS04"][3] == "未报送" and by_code["ZLS04"][7] is None
    flat = [v for r in rows for v in r if v is not None]
    assert "坏文件.xlsx" in flat and "文件已损坏" in flat and "说明.docx" in flat
    assert EXCLUDED_LATER in flat and flat[flat.index(EXCLUDED_LATER) - 1] == 1
    assert [s.label for s in info.statuses] == [by_code[w.code][3] for w in CONFIG.windows]


def test_window_statuses_due_boundary():
    cons, collected = month()
    statuses = {s.code: s for s in window_statuses(collected, PERIOD, CONFIG)}
    assert [s.code for s in window_statuses(collected, PERIOD, CONFIG)] == [w.code for w in CONFIG.windows]
    assert statuses["ZLS02"].late and statuses["ZLS02"].resubmitted
    assert statuses["ZLS02"].superseded_files == ("ZLS02_2026-11.xlsx",)
    assert not statuses["ZLS03"].late and statuses["ZLS04"].missing and not statuses["ZLS04"].submitted
    assert (statuses["ZLS01"].file, statuses["ZLS01"].rows, statuses["ZLS01"].errors) == ("ZLS01_2026-11.xlsx", 10, 2)
    conf = cfg.Config(copy.deepcopy(CONFIG.data))
    # due day 24 with periods starting on the 25th: the first 24th after 2026-11-24 is 2026-12-24
    conf.data["policy"]["submission_due_day"] = 24
    assert {s.code for s in window_statuses(collected, PERIOD, conf) if s.late} == set()


def test_findings_carried_with_severity_and_masked_values(masked):
    path, _, _ = masked
    rows = [r for r in rows_of(openpyxl.load_workbook(path)["校验问题"], 2) if r[0]]
    assert len(rows) == 2
    phone = next(r for r in rows if r[4] == "L5")
    assert phone[:6] == ["ZLS01", "ZLS01_2026-11.xlsx", "错误", 5, "L5", "联系方式"]
    assert phone[6] == "****765" and "****765" in phone[7] and phone[8]


def test_notes_give_policy_fingerprints_and_conservation(masked):
    path, _, cons = masked
    rows = rows_of(openpyxl.load_workbook(path)["说明"], 2)
    notes = {r[0]: r[1] for r in rows if r[0]}
    assert notes["统计周期"] == "2026-11" and notes["生成时间"] == NOW
    assert notes["时限（分钟）"] == "120" and "每月 25 日" in notes["统计周期起始日"]
    assert notes["程序版本"].startswith("xl_automation ")
    balance = next(r for r in rows if r[0] == cons.rows_in)
    assert cons.rows_in == len(cons.details) + cons.merged + len(cons.excluded)
    assert balance[1].endswith(f"= {cons.rows_in}") and balance[2] == "相符"
    files = {(r[0], r[1]): r for r in rows if r[1] and str(r[1]).endswith(".xlsx")}
    assert files[("ZLS02", "ZLS02_2026-11.xlsx")][5] == "已被重新报送替换"
    assert files[("ZLS05", "ZLS05_2026-11.xlsx")][3] == "台账"
    assert len(files[("ZLS01", "ZLS01_2026-11.xlsx")][2]) == 64


# --- 考核 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("share, total, band", [(1 / 3, 90.0, "优秀"), (4.9 / 15, 89.9, "良好")])
def test_assessment_band_boundaries(tmp_path, share, total, band):
    """Every other part full marks; a late submission earns 15 × share: 5.0 → 90, 4.9 → 89.9."""
    conf = cfg.Config(copy.deepcopy(CONFIG.data))
    conf.data["assessment"]["late_submission_share"] = share
    src = source("ZLS01", [req("ZLS01-20261103-001", 3)], datetime(2026, 11, 25, 8, 0))
    cons = consolidate([src], PERIOD, conf, NOW)
    path = tmp_path / "考核.xlsx"
    info = write_report(path, consolidation=cons, collected=Collected([src]), config=conf, now=NOW)
    ws = openpyxl.load_workbook(path)["考核"]
    row = next(r for r in rows_of(ws, 5) if r[0] == "ZLS01")
    n = len(ASSESSMENT_FIGURES)
    figs = dict(zip([k for k, _ in ASSESSMENT_FIGURES], row[4:4 + n]))
    assert row[3] == "逾期报送" and figs["received"] == 1 and figs["on_time_rate"] == 1 and figs["carried_over"] == 0
    assert row[4 + n:8 + n] == [40, 30, 15, round(15 * share, 1)]
    assert (row[8 + n], row[9 + n]) == (total, band) == (info.scores["ZLS01"].total, info.scores["ZLS01"].band)
    assert row[2] == CONFIG.window("ZLS01").supervisor
    weights = ws["A2"].value
    assert "2小时内联系 40 分" in weights and "按时报送 15 分" in weights
    missing = next(r for r in rows_of(ws, 5) if r[0] == "ZLS04")
    assert missing[3] == "未报送" and missing[8 + n:10 + n] == [0, "不合格"]


# --- failure -------------------------------------------------------------------------------

def test_a_failed_write_leaves_no_workbook(tmp_path, monkeypatch):
    from xl_automation.report import workbook
    def boom(*a, **k):
        raise RuntimeError("磁盘已满")
    monkeypatch.setattr(workbook, "write_notes", boom)
    path = tmp_path / "月报.xlsx"
    with pytest.raises(RuntimeError):
        write(path)
    assert list(tmp_path.iterdir()) == []


def test_more_details_than_a_sheet_holds_is_refused(tmp_path, monkeypatch):
    from xl_automation.report import workbook as report
    monkeypatch.setattr(report, "MAX_ROWS", 10)
    with pytest.raises(report.ReportError, match="上限"):
        write(tmp_path / "月报.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_long_lists_are_cut_at_the_sheet_limit_with_a_note(tmp_path, monkeypatch):
    from xl_automation.report import report_book
    monkeypatch.setattr(report_book, "MAX_ROWS", 6)
    path = tmp_path / "月报.xlsx"
    _, cons = write(path)
    rows = rows_of(openpyxl.load_workbook(path)["超时清单"], 2)
    overdue = sum(1 for d in cons.details if d.clock.overdue)
    assert len(rows) == 5 and all(r[2] and r[6] > 0 for r in rows[:4])
    assert rows[4][0] == f"另有 {overdue - 4} 行未列出：超过 Excel 工作表 6 行的上限"


# --- printing ----------------------------------------------------------------------------------

def printed_cm(width: float) -> float:
    """An Excel column of `width` characters on paper at 100 %: at most 10 px a character plus 5 px, at 96 dpi
    (LibreOffice without 等线 measures about 9.6 px; Excel's digit is 7–8 px)."""
    return (width * 10 + 5) / 96 * 2.54


A4_LANDSCAPE_CM = 29.7 - 2 * 0.4 * 2.54


def column_widths(ws) -> dict[int, float]:
    """Column number -> width; one <col> element may cover a span of equal columns."""
    out = {}
    for dim in ws.column_dimensions.values():
        for c in range(dim.min, dim.max + 1):
            out[c] = dim.width
    return out


def test_every_sheet_prints_legibly_with_titles_page_numbers_and_the_period(masked):
    path = masked[0]
    wb = openpyxl.load_workbook(path)
    for ws in wb:
        widths = list(column_widths(ws).values())
        fitted = ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage
        scale = A4_LANDSCAPE_CM / sum(printed_cm(w) for w in widths) * 100 if fitted else ws.page_setup.scale
        assert scale >= 60, (ws.title, scale)
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.print_title_rows and ws.print_title_rows.startswith("$1:"), ws.title
        assert PERIOD.label in ws.oddHeader.left.text and ws.title in ws.oddHeader.right.text
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text


def test_summary_prints_in_whole_groups_beside_code_and_name(masked):
    ws = openpyxl.load_workbook(masked[0])["汇总"]
    assert ws.print_title_cols == "$A:$B" and ws.print_title_rows == "$1:$3" and ws.page_setup.scale >= 60
    breaks = [b.id for b in ws.col_breaks.brk]
    assert breaks, "29 figures do not fit one page at a legible scale"
    widths = column_widths(ws)
    width = lambda c: printed_cm(widths[c])  # noqa: E731
    fixed = width(1) + width(2)
    edges = [3] + [b + 1 for b in breaks] + [ws.max_column + 1]
    for start, stop in zip(edges, edges[1:]):
        assert (fixed + sum(width(c) for c in range(start, stop))) * ws.page_setup.scale / 100 <= A4_LANDSCAPE_CM
    headers = [c.value for c in ws[3]]
    services = [headers.index(c) for c in ("用水", "有线电视")]
    assert not any(services[0] < b < services[1] for b in breaks)        # a group is never split


def test_detail_prints_with_the_readers_first_columns_on_every_page(masked):
    ws = openpyxl.load_workbook(masked[0])["明细"]
    assert ws.print_title_rows == "$1:$1"
    cols = ws.print_title_cols
    last = openpyxl.utils.column_index_from_string(cols.split(":")[1].strip("$"))
    assert [c.value for c in ws[1]][:last][-1] == "受理编号" and ws.page_setup.scale >= 60
    assert ws.print_options is not None and ws.page_setup.pageOrder == "overThenDown"


@pytest.mark.libreoffice
def test_libreoffice_prints_summary_groups_whole_and_detail_titles_on_every_page(masked, tmp_path):
    """LibreOffice as the independent engine: its PDF of the workbook keeps each group of 汇总 figures on
    one page, repeats 明细's title row and first columns on every page, and heads each page with the period."""
    if not shutil.which("soffice") or not shutil.which("pdftotext"):
        pytest.skip("LibreOffice or poppler-utils not installed (tests/run.sh installs them)")
    from xl_automation.report.pdf import export_pdf
    source = tmp_path / "月报.xlsx"
    shutil.copy(masked[0], source)
    pdf = export_pdf(source)
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")[:-1]
    by_sheet = defaultdict(list)
    for page in pages:
        head = page.strip().splitlines()[0]
        assert PERIOD.label in head and re.search(r"第 \d+ 页，共 \d+ 页", page), head
        by_sheet[head.split()[-1]].append(page)
    groups = [["用水", "用电", "用气", "用暖", "通信", "有线电视"], ["报装-民用", "报装-工业", "报装-商业", "报装-农业"],
              ["渠道-窗口现场", "渠道-电话", "渠道-线上平台", "渠道-联络群转入", "渠道-上门"],
              ["2小时内联系", "按时率", "平均响应(分钟)", "响应中位数(分钟)", "最长响应(分钟)", "超时"]]
    # the header line of each page across (code and name repeated on each)
    headers = [set(line.split()) for page in by_sheet["汇总"] for line in page.splitlines()
               if line.split()[:2] == ["编码", "名称"]]
    assert len(headers) >= 2
    for group in groups:
        holding = [h for h in headers if h & set(group)]
        assert len(holding) == 1 and set(group) <= holding[0], group
    assert len(by_sheet["明细"]) > 1 and all("受理编号" in page for page in by_sheet["明细"])


def test_phone_numbers_typed_into_reasons_and_transfer_targets_are_masked_on_every_sheet(tmp_path):
    """未办结原因 and 转办去向 are free text like 备注: a clerk writes the applicant's number there too. The
    通报 masked it; 明细, 未办结及原因, 跨辖区转办, 业务分类 and 校验问题 showed it whole."""
    cons, collected = month()
    unable = next(d for d in cons.details if d.values.get("result") == "无法办理")
    unable.values = dict(unable.values, unresolved_reason="用户电话13953381234无人接听，身份证370302199001011234")
    moved = next(d for d in cons.details if d.values.get("result") == "已转办")
    moved.values = dict(moved.values, transferred_to="国网淄博供电公司 王经理 13611112222")
    zls01 = collected.sources[0]
    zls01.findings.append(F.make("refusal-not-allowed", sheet="受理台账", row=9, column="未办结原因", cell="W9",
                                 value="不属于本单位业务，已告知用户13953381234"))
    path = tmp_path / "月报.xlsx"
    write_report(path, consolidation=cons, collected=collected, config=CONFIG, now=NOW)
    wb = openpyxl.load_workbook(path)
    shown = {ws.title: "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
             for ws in wb.worksheets}
    leaked = {name for name, text in shown.items()
              if "13953381234" in text or "13611112222" in text or "370302199001011234" in text}
    assert leaked == set()
    for sheet in ("明细", "未办结及原因", "业务分类"):
        assert "用户电话139****1234无人接听，身份证3703**********1234" in shown[sheet], sheet
    for sheet in ("明细", "跨辖区转办"):
        assert "国网淄博供电公司 王经理 136****2222" in shown[sheet], sheet
    assert "已告知用户139****1234" in shown["校验问题"]
