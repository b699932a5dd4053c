"""The monthly 通报: written for real, read back with python-docx, converted by LibreOffice, checked with poppler."""
from __future__ import annotations

import re
import shutil
import subprocess
import warnings
import zipfile
from collections import Counter
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.shared import Mm, Pt

from xl_automation.report.bulletin import Unrenewed, bulletin_path, title_of, write_bulletin
from xl_automation.report.bulletin_charts import rate_chart
from xl_automation.report.bulletin_docx import BODY_FONT, FALLBACKS, TITLE_FONT
from xl_automation.rules.bulletin_figures import PeriodFigures, pct
from xl_automation.model.schema import SERVICE_COLUMNS
from xl_automation.rules.sla import LATE, OVERDUE_OPEN

from support import report_month as T
from support.month_files import consolidate_json

PHONE_IN_REASON = "13953381234"
PLACEHOLDER = re.compile(r"[{}]|None|nan|NaN|TODO|XXX|待填|占位")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def with_reason_phone(cons):
    """A 无法办理 reason that quotes the applicant's mobile: the 通报 must mask it."""
    d = next(d for d in cons.details if d.values.get("result") == "无法办理")
    d.values = dict(d.values, unresolved_reason=f"用户联系不上，电话{PHONE_IN_REASON}多次未接通")
    return cons


def write(folder: Path, **kw):
    cons, collected = T.month()
    with_reason_phone(cons)
    report = folder / "月报.xlsx"
    info = T.write_report(report, consolidation=cons, collected=collected, config=T.CONFIG, now=T.NOW)
    b = write_bulletin(bulletin_path(report), consolidation=cons, info=info, config=T.CONFIG, now=T.NOW,
                       rejected=collected.rejected, **kw)
    return report, info, cons, b


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return write(tmp_path_factory.mktemp("plain"))


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    previous = PeriodFigures("2026-10", 70, 0.8, 0.9)
    return write(tmp_path_factory.mktemp("history"), previous=previous,
                 history=[PeriodFigures("2026-09", 60, 0.7, None), previous],
                 unrenewed=[Unrenewed("ZLS02", "ZLS02-20261020-099")])


def all_text(path: Path) -> str:
    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    parts += ["|".join(c.text for c in row.cells) for t in d.tables for row in t.rows]
    parts += [p.text for s in d.sections for p in s.footer.paragraphs]
    return "\n".join(parts)


def table_rows(path: Path, first_header: str) -> list[list[str]]:
    """The table whose first header cell reads first_header (the charts sit in a borderless table too)."""
    rows = [[[c.text for c in row.cells] for row in t.rows] for t in docx.Document(str(path)).tables]
    return next(t for t in rows if t[0][0] == first_header)


# --- figures -----------------------------------------------------------------------------

def test_sentences_carry_the_figures_recounted_from_the_details(plain):
    _, info, cons, b = plain
    text, f = all_text(b.path), b.figures
    details = [d for d in cons.details if not d.carried]            # this period's receipts, as 汇总 counts
    carried = [d for d in cons.details if d.carried]
    assert carried, "the month must hold a carried-over request for this test to mean something"
    overdue = sum(1 for d in details if d.clock.overdue)
    decided = [d.clock.status for d in details if d.clock.status in ("按时", LATE, OVERDUE_OPEN)]
    rate = decided.count("按时") / len(decided)
    assert f["received"] == len(details) and f["overdue"] == overdue and f["on_time_rate"] == round(rate, 4)
    closed = sum(1 for d in details if (d.values.get("result") or "办理中") != "办理中")
    assert f["closure_rate"] == round(closed / len(details), 4)
    assert f"共受理业务{len(details)}件" in text
    assert f"按时率{rate:.1%}" in text and f"超时{overdue}件" in text
    assert f"另有往期结转未办结业务{len(carried)}件" in text
    results = Counter(d.values.get("result") for d in details)
    assert (f"已办结{results['已办结']}件，无法办理{results['无法办理']}件，已转办{results['已转办']}件，"
            f"办理中{results['办理中']}件；办结率{closed / len(details):.1%}") in text
    for col in SERVICE_COLUMNS:
        n = sum(1 for d in details if d.values.get(col.key) is True)
        assert (f"{col.header}{n}件" in text) == bool(n)
    missing = [s.name for s in info.statuses if s.missing]
    assert "未报送的窗口：" + "、".join(missing) in text


def test_ranking_table_equals_the_assessment(plain):
    _, info, cons, b = plain
    rows = table_rows(b.path, "排名")
    assert rows[0] == ["排名", "窗口", "受理数", "按时率", "办结率", "得分", "档次"]
    by_name = {s.name: s for s in info.statuses}
    scores = []
    for rank, name, received, rate, closure, score, band in rows[1:]:
        s = info.scores[by_name[name].code]
        mine = [d for d in cons.details if d.window == by_name[name].code and not d.carried]
        assert int(received) == len(mine) and float(score) == s.total and band == s.band
        assert rate == pct(s.basis.get("on_time_rate"))           # the score's own rate: this period's receipts
        done = sum(1 for d in mine if (d.values.get("result") or "办理中") != "办理中")
        assert closure == (f"{done / len(mine):.1%}" if mine else "无")
        scores.append(float(score))
    assert scores == sorted(scores, reverse=True) and len(rows) - 1 == len(T.CONFIG.windows)
    assert rows[1][0] == "1"


def test_each_supervising_unit_has_its_table_with_the_score_components(plain):
    _, info, _, b = plain
    text = all_text(b.path)
    units = list(dict.fromkeys(s.supervisor for s in info.statuses))
    tables = docx.Document(str(b.path)).tables[-len(units):]
    for unit, table in zip(units, tables):
        assert f"{unit}" in text
        mine = [s for s in info.statuses if s.supervisor == unit]
        rows = [[c.text for c in r.cells] for r in table.rows]
        assert [r[0] for r in rows[1:-1]] == [s.name for s in mine]
        for s, row in zip(mine, rows[1:-1]):
            sc = info.scores[s.code]
            assert [float(x) for x in row[1:6]] == [sc.timeliness, sc.closure, sc.reasons, sc.submission, sc.total]
        assert float(rows[-1][5]) == round(sum(info.scores[s.code].total for s in mine) / len(mine), 1)


def test_units_below_pass_are_named_in_the_requirements(plain):
    _, info, _, b = plain
    text = all_text(b.path)
    failing = [s for s in info.statuses if info.scores[s.code].band == "不合格"]
    assert failing and b.figures["below_pass"] == [w["code"] for w in b.figures["ranking"] if w["band"] == "不合格"]
    requirement = next(line for line in text.splitlines() if line.startswith("（三）本期考核不合格的窗口"))
    for s in failing:
        assert f"{s.name}（{info.scores[s.code].total:.1f}分）" in requirement


def test_overdue_items_are_named_per_unit_and_reasons_grouped(plain):
    _, info, cons, b = plain
    text = all_text(b.path)
    for s in info.statuses:
        items = [d for d in cons.details if d.window == s.code and d.clock.overdue and not d.carried]
        if items:
            assert f"{s.name}超时{len(items)}件：" in text
            worst = min(items, key=lambda d: (d.clock.status == LATE, -(d.clock.minutes or 0)))
            assert (worst.values.get("request_id") or "") in text
    assert "按原因分类：" in text and "不具备接入条件" in text and "超出供水范围" in text


def test_no_placeholder_and_personal_information_masked(plain, history):
    for _, _, _, b in (plain, history):
        text = all_text(b.path)
        assert not PLACEHOLDER.search(text), PLACEHOLDER.search(text)
        assert not MOBILE.search(text), MOBILE.search(text)
        assert T.NAME not in text and T.PHONE not in text
    assert "139****1234" in all_text(plain[3].path)        # the phone quoted in a reason, masked


def test_history_gives_change_and_trend_and_unrenewed_items(plain, history):
    plain_text, text = all_text(plain[3].path), all_text(history[3].path)
    assert "上期" not in plain_text and "环比" not in plain_text
    diff = history[3].figures["received"] - 70
    assert f"比上期{'增加' if diff > 0 else '减少'} {abs(diff)} 件" in text
    points = round((history[3].figures["on_time_rate"] - 0.8) * 100, 1)
    assert f"比上期{'上升' if points > 0 else '下降'} {abs(points):.1f} 个百分点" in text
    assert "未续报1件：ZLS02-20261020-099" in text
    assert len(docx.Document(str(history[3].path)).inline_shapes) == 3       # trend + rate + services
    assert len(docx.Document(str(plain[3].path)).inline_shapes) == 2


# --- layout --------------------------------------------------------------------------------

def test_official_layout_fonts_and_page_numbers(plain):
    d = docx.Document(str(plain[3].path))
    s = d.sections[0]
    near = lambda a, b: abs(a - b) < Mm(0.1)           # noqa: E731  (stored in twips)
    assert near(s.page_width, Mm(210)) and near(s.page_height, Mm(297))
    assert all(map(near, (s.top_margin, s.bottom_margin, s.left_margin, s.right_margin), (Mm(37), Mm(35), Mm(28), Mm(26))))
    title = d.paragraphs[0]
    assert title.text == title_of("2026-11") == "关于2026年11月水电气暖信有线电视综合受理工作情况的通报"
    east = lambda run: run._element.rPr.rFonts.get(docx.oxml.ns.qn("w:eastAsia"))  # noqa: E731
    assert east(title.runs[0]) == TITLE_FONT and title.runs[0].font.size == Pt(22)
    body = next(p for p in d.paragraphs if p.text.startswith("本期应报送窗口"))
    assert all(east(r) == BODY_FONT for r in body.runs) and d.styles["Normal"].font.size == Pt(16)
    heading = next(p for p in d.paragraphs if p.text == "一、总体情况")
    assert east(heading.runs[0]) == "黑体"
    footer = s.footer._element.xml
    assert "PAGE" in footer and "— " in s.footer.paragraphs[0].text and 'fldCharType="begin"' in footer
    with zipfile.ZipFile(plain[3].path) as z:
        fonts = z.read("word/fontTable.xml").decode("utf-8")
    for official, fallback in FALLBACKS.items():
        assert f'w:name="{official}"><w:altName w:val="{fallback}"/>' in fonts


def test_charts_are_drawn_in_a_cjk_font_without_missing_glyphs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # matplotlib warns "Glyph … missing" when it would draw boxes
        png = rate_chart(["营销服务中心", "张店分公司"], [0.8, None], [False, True])
    from io import BytesIO

    from PIL import Image, ImageStat
    image = Image.open(BytesIO(png)).convert("L")
    assert max(ImageStat.Stat(image).stddev) > 20


def test_a_window_name_with_dollar_signs_does_not_stop_the_charts():
    """Chart labels are the configuration's window names; matplotlib read "$…$" in one as a formula, so
    "A$\\frac{$B" stopped the 通报 (and with it the month's report) with a parse error."""
    from io import BytesIO

    from PIL import Image
    png = rate_chart(["营销$\\frac{$中心", "张店$100$分公司"], [0.8, 0.5], [False, True])
    assert Image.open(BytesIO(png)).size[0] > 100


def test_without_a_cjk_font_the_charts_are_left_out_with_a_note(tmp_path, monkeypatch):
    from xl_automation.report import bulletin_charts
    monkeypatch.setattr(bulletin_charts, "CJK_FAMILIES", ("无此字体",))
    _, _, _, b = write(tmp_path)
    assert len(docx.Document(str(b.path)).inline_shapes) == 0
    assert b.notes and "中文字体" in b.notes[0]


# --- 三.5 recounted from the written workbook ------------------------------------------------------

def test_breakdown_sheet_recounted_from_the_detail_sheet(plain):
    report = plain[0]
    wb = openpyxl.load_workbook(report)
    detail = list(wb["明细"].iter_rows(values_only=True))
    col = {h: i for i, h in enumerate(detail[0])}
    assert any(r[col["结转"]] == "是" for r in detail[1:])
    detail = [detail[0]] + [r for r in detail[1:] if r[col["结转"]] != "是"]   # this period's receipts only
    services = ["用水", "用电", "用气", "用暖", "通信", "有线电视"]
    expected = {}
    for svc in services:
        mine = [r for r in detail[1:] if r[col[svc]]]
        for kind in ("合计", "民用", "工业", "商业", "农业"):
            rows = mine if kind == "合计" else [r for r in mine if r[col["报装类型"]] == kind]
            if kind != "合计" and not rows:
                continue
            expected[(svc, kind)] = [
                len(rows), sum(r[col["办理结果"]] == "已办结" for r in rows),
                sum(r[col["办理结果"]] == "无法办理" for r in rows),
                sum(r[col["办理结果"]] in ("办理中", None) for r in rows),
                sum(r[col["办理结果"]] == "已转办" or bool(r[col["办理窗口"]]) for r in rows),
                sum(r[col["时限状态"]] in (LATE, OVERDUE_OPEN) for r in rows)]
    sheet = list(wb["业务分类"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(sheet) if r[0] == "业务类型")
    assert list(sheet[start][:8]) == ["业务类型", "报装类型", "受理", "已办结", "无法办理", "办理中", "转办", "超时"]
    got = {}
    for r in sheet[start + 1:]:
        if r[0] == "全部受理":
            assert r[2] == len(detail) - 1
            break
        got[(r[0], r[1])] = list(r[2:8])
    assert got == expected
    # handling time per window: 受理→办结 hours of closed requests
    hours = {}
    for r in detail[1:]:
        if r[col["办理结果"]] == "已办结" and r[col["办结时间"]] and r[col["受理时间"]] and r[col["办结时间"]] >= r[col["受理时间"]]:
            hours.setdefault(r[col["窗口编码"]], []).append((r[col["办结时间"]] - r[col["受理时间"]]).total_seconds() / 3600)
    table = {r[0].split(" ")[0]: r for r in sheet if isinstance(r[0], str) and r[1] is not None
             and r[0].split(" ")[0] in {w.code for w in T.CONFIG.windows}}
    for code, hs in hours.items():
        assert table[code][1] == len(hs) and table[code][2] == pytest.approx(sum(hs) / len(hs), abs=0.05)
    # reasons: every 无法办理 row counted once, under the configured category
    unable = Counter(r[col["未办结原因"]] for r in detail[1:] if r[col["办理结果"]] == "无法办理")
    reason_start = next(i for i, r in enumerate(sheet) if r[0] == "类别")
    listed = {r[1]: r[2] for r in sheet[reason_start + 1:] if r[1]}
    assert listed == dict(unable) and sum(r[2] for r in sheet[reason_start + 1:] if r[0]) == sum(unable.values())


# --- the command: JSON summary and 通报 agree -------------------------------------------------

def test_consolidate_writes_the_bulletin_whose_figures_equal_the_json_summary(inbox, tmp_path):
    report = tmp_path / "月报.xlsx"
    data = consolidate_json(inbox, report)
    f = data["bulletin_figures"]
    assert Path(data["bulletin"]) == report.with_name("月报.通报.docx") and Path(data["bulletin"]).exists()
    # the group row of 汇总 (the workbook the JSON names) holds the same figures
    summary = openpyxl.load_workbook(report, data_only=True)["汇总"]
    header = next(r for r in summary.iter_rows(values_only=True) if r and "受理总数" in r)
    group = next(r for r in summary.iter_rows(values_only=True) if r and r[0] == "集团合计")
    col = {name: i for i, name in enumerate(header)}
    assert (f["received"], f["overdue"], f["on_time_rate"]) == (group[col["受理总数"]], group[col["超时"]],
                                                               group[col["按时率"]])
    # … and the JSON summary's own figures: the group's and each window's
    assert (f["received"], f["overdue"], f["on_time_rate"], f["carried_over"]) == (
        data["received"], data["overdue"], data["on_time_rate"], data["carried_over"])
    windows = {w["code"]: w for w in data["windows"]}
    for w in f["ranking"]:
        j = windows[w["code"]]
        assert (w["received"], w["on_time_rate"], w["score"], w["band"]) == (j["received"], j["on_time_rate"], j["score"], j["band"])
    text = all_text(Path(data["bulletin"]))
    assert f"共受理业务{data['received']}件" in text and f"超时{data['overdue']}件" in text
    assert f"按时率{pct(f['on_time_rate'])}" in text and f"办结率{pct(f['closure_rate'])}" in text
    rows = table_rows(Path(data["bulletin"]), "排名")[1:]
    assert [[str(w["rank"]), w["name"], str(w["received"]), pct(w["on_time_rate"]), pct(w["closure_rate"]),
             f"{w['score']:.1f}", w["band"]] for w in f["ranking"]] == rows
    sheet = openpyxl.load_workbook(report)["考核"]
    scores = {r[0]: r[-2] for r in sheet.iter_rows(min_row=5, values_only=True) if r[0]}
    assert {w["code"]: w["score"] for w in f["ranking"]} == scores
    for code in data["windows_missing"]:
        assert T.CONFIG.window(code).name in text
    assert not (report.with_suffix(".pdf")).exists()


def needs_pdf_tools():
    if not shutil.which("soffice") or not all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdfinfo", "pdftoppm")):
        pytest.skip("LibreOffice or poppler-utils not installed (tests/run.sh installs them)")


def tool(*args) -> str:
    return subprocess.run(list(map(str, args)), capture_output=True, text=True, check=True, timeout=300).stdout


@pytest.mark.libreoffice
def test_pdf_is_the_bulletin_with_cjk_fonts_embedded_and_the_same_figures(inbox, tmp_path):
    needs_pdf_tools()
    report = tmp_path / "月报.xlsx"
    data = consolidate_json(inbox, report, "--pdf")
    pdf = Path(data["pdf"])
    assert pdf == report.with_name("月报.通报.pdf") and pdf.exists(), data
    fonts = tool("pdffonts", pdf)
    cjk = [line for line in fonts.splitlines() if any(k in line for k in ("WenQuanYi", "Noto", "CJK", "Zen", "Song", "Fang"))]
    assert cjk and all(" yes " in line for line in cjk), fonts
    text = re.sub(r"\s+", "", tool("pdftotext", pdf, "-"))
    assert title_of("2026-11") in text
    f = data["bulletin_figures"]
    assert f"共受理业务{f['received']}件" in text and f"按时率{pct(f['on_time_rate'])}" in text
    assert "—1—" in text
    assert not PLACEHOLDER.search(text) and not MOBILE.search(text)
    pages = int(re.search(r"Pages:\s+(\d+)", tool("pdfinfo", pdf)).group(1))
    assert 1 <= pages <= 4


def chart_regions_are_not_blank(pdf: Path, tmp_path: Path) -> int:
    """On each page holding pictures, the largest gap between text lines is the chart row: each half of
    it, as pdftoppm renders it, must have ink (a blank picture would be flat white)."""
    from PIL import Image, ImageStat
    listing = tool("pdfimages", "-list", pdf).splitlines()[2:]
    pages = sorted({int(line.split()[0]) for line in listing})
    checked = 0
    for page in pages:
        xml = tool("pdftotext", "-bbox", "-f", page, "-l", page, pdf, "-")
        boxes = [tuple(float(v) for v in m) for m in re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', xml)]
        height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', xml).group(1))
        width = float(re.search(r'<page width="([\d.]+)"', xml).group(1))
        ys = sorted({(0.0, 0.0), *((b[1], b[3]) for b in boxes), (height, height)})
        gaps = [(ys[i + 1][0] - ys[i][1], ys[i][1], ys[i + 1][0]) for i in range(len(ys) - 1)]
        size, top, bottom = max(gaps)
        assert size > 60, f"page {page}: no room for a chart between the text lines"
        png = tmp_path / f"page{page}"
        subprocess.run(["pdftoppm", "-png", "-r", "72", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(png)],
                       check=True)
        image = Image.open(f"{png}.png").convert("L")
        scale = image.height / height
        left, right = 0.15 * width * scale, 0.85 * width * scale
        mid = (left + right) / 2
        for box in ((left, top * scale, mid, bottom * scale), (mid, top * scale, right, bottom * scale)):
            assert ImageStat.Stat(image.crop(tuple(int(v) for v in box))).stddev[0] > 10, (page, box)
            checked += 1
    return checked


@pytest.mark.libreoffice
def test_libreoffice_converts_the_docx_and_every_chart_area_has_ink(history, tmp_path):
    needs_pdf_tools()
    from xl_automation.report.pdf import export_pdf, render_page
    source = tmp_path / "通报.docx"
    shutil.copy(history[3].path, source)
    pdf = export_pdf(source)
    assert chart_regions_are_not_blank(pdf, tmp_path) >= 2
    png = render_page(pdf, tmp_path / "第1页.png", page=1, dpi=50)
    from PIL import Image
    assert Image.open(png).size[1] > Image.open(png).size[0]          # portrait


@pytest.mark.libreoffice
def test_a_blank_chart_would_be_caught(plain, tmp_path, monkeypatch):
    """The ink check can fail: the same document with white pictures does not pass it."""
    needs_pdf_tools()
    from io import BytesIO

    from PIL import Image

    from xl_automation.report import bulletin
    from xl_automation.report.pdf import export_pdf

    def white(*args, **kw):
        out = BytesIO()
        Image.new("RGB", (1200, 400), "white").save(out, format="PNG")
        return out.getvalue()
    monkeypatch.setattr(bulletin, "rate_chart", white)
    monkeypatch.setattr(bulletin, "count_chart", white)
    _, _, _, b = write(tmp_path)
    pdf = export_pdf(b.path)
    with pytest.raises(AssertionError):
        chart_regions_are_not_blank(pdf, tmp_path)


def test_an_empty_month_reads_as_one(tmp_path):
    """No submission at all: the 通报 says so in words, draws no empty chart and leaves nothing unfilled."""
    from xl_automation.month_end.collect import Collected
    from xl_automation.rules.consolidate import consolidate
    cons = consolidate([], T.PERIOD, T.CONFIG, T.NOW)
    report = tmp_path / "月报.xlsx"
    info = T.write_report(report, consolidation=cons, collected=Collected([], [], [], []), config=T.CONFIG, now=T.NOW)
    b = write_bulletin(bulletin_path(report), consolidation=cons, info=info, config=T.CONFIG, now=T.NOW)
    text = all_text(b.path)
    assert "本期没有受理业务。" in text and "本期没有窗口报送台账" in text and "办结率无" not in text
    assert not PLACEHOLDER.search(text) and len(docx.Document(str(b.path)).inline_shapes) == 0
    assert all(w.name in text for w in T.CONFIG.windows)          # every window named as missing / below 合格


# --- untrusted text in the 通报 ---------------------------------------------------------------

def test_control_characters_from_a_ledger_neither_crash_the_bulletin_nor_vanish(tmp_path):
    """Excel stores a control character typed or pasted into a cell as _x0001_ (fill_ledger too); calamine
    gives it back as the character, which python-docx refuses ("All strings must be XML compatible"): one window's file
    stopped the whole month's report. The 通报 shows it as U+FFFD, where it was."""
    from datetime import datetime
    from support.cli import run
    from support.month_files import make_ledger
    from support.rows import good_row
    from xl_automation.xlsx.fill import fill_ledger
    now = datetime(2026, 11, 24, 10)
    ledger = make_ledger(tmp_path, "ZLS01", now, n=0)
    at = datetime(2026, 11, 5, 9)
    fill_ledger(ledger, [
        good_row(request_id="ZLS01-20261105-\x0101", received_at=at, posted_at=at, replied_at=None,
                 result="办理中", closed_at=None),
        good_row(request_id="ZLS01-20261105-002", received_at=at, posted_at=at, replied_at=at, result="无法办理", closed_at=None,
                 unresolved_reason="管网未覆盖\x02暂无计划")])
    inbox = tmp_path / "inbox"
    assert run("submit", ledger, "--to", inbox, "--now", "2026-11-24 09:00").returncode == 0
    data = consolidate_json(inbox, tmp_path / "月报.xlsx", "--no-archive")
    text = all_text(Path(data["bulletin"]))
    assert "ZLS01-20261105-\ufffd01" in text and "管网未覆盖\ufffd暂无计划" in text
