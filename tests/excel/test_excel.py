"""The Excel buttons without Excel: the button flows through a recording stand-in for xlwings (with a
model of LedgerMarks.bas) and through the file implementation of the boundary, against the CLI."""
from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from unittest import mock

import openpyxl
import pytest

from support import xlwings_fake as F
from support.ledger_files import Formatted, FormulaResult, ledger_layout, write_layout
from support.annotate_books import USER_FILL, build_xlsx
from xl_automation.excel import buttons
from xl_automation.model import labels
from xl_automation.excel import live_marks, live_plan
from xl_automation.model import schema
from xl_automation.excel import app as X
from xl_automation.xlsx.ledger_check import check_file
from xl_automation.xlsx.contact_form import FORM_CELLS
from xl_automation.excel.group_workbook import (PERIOD, RESULT_TOP_LEFT, SETTINGS, SHEET as GROUP_SHEET, SUBMIT_DIR,
                                          build_group_workbook, result_rows)
from xl_automation.model.ledger import column_letter
from xl_automation.rules.periods import Period
from xl_automation.xlsx.reader import read_ledger
from xl_automation.demo.sample import sample_rows
from xl_automation.excel.sheetport import FilePort
from xl_automation.xlsx.template import build_ledger, default_config
from xl_automation.rules.validate import check_ledger

NOW = datetime(2026, 11, 20, 12, 0)
LEDGER = labels.LEDGER_SHEET


def letter(key: str) -> str:
    return column_letter(schema.COLUMNS.index(schema.BY_KEY[key]) + 1)


@pytest.fixture(scope="module")
def conf():
    return default_config()


class _Now(datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW


@contextmanager
def excel_session(book: F.FakeBook, conf):
    """xl_automation.excel.app as RunPython runs it: xlwings replaced by the stand-in, the clock fixed."""
    with mock.patch.object(X, "xw", F.FakeXlwings(book)), mock.patch.object(X, "datetime", _Now), \
            mock.patch.object(X.cfg, "load", lambda *a, **k: conf):
        yield


def press(book: F.FakeBook, conf, entry: str, **kwargs):
    """Click a button: the Sub's PrepareMarks / RunPython / ApplyMarks; returns the message box shown."""
    marks = entry in ("validate", "flag_overdue")
    alerts = len(book.app_.alerts)
    with excel_session(book, conf):
        message = F.click(X, book, entry, marks=marks, **kwargs)
    shown = book.app_.alerts[alerts:]
    assert len(shown) + (message is not None) == 1, f"one message box per click: {shown} {message}"
    return message or shown[0]


def as_cells(rows: list[dict]) -> list[dict]:
    """Sample rows as a clerk types them: ticks as √, unticked services empty."""
    return [{k: (labels.TICK if v is True else None if v is False else v) for k, v in r.items()} for r in rows]


def month(conf, n: int = 40, **options) -> list[dict]:
    rows = sample_rows(conf.window("ZLS01"), Period.parse("2026-11"), conf, n=n, now=NOW, **options)
    return as_cells(rows)


# ---- reading: the live path sees what the CLI sees --------------------------------------------

LEDGERS = {
    "template-like": dict(),
    "hidden rows": dict(hidden_rows=[2, 5]),
    "two-level merged header": dict(two_level=True),
    "other sheet name": dict(sheet="Sheet1"),
    "1904 dates": dict(engine="openpyxl", date1904=True),
    "midnights, date-only columns": dict(midnights=("yyyy-mm-dd", "yyyy/m/d")),
    "midnights, date-time columns": dict(midnights=("yyyy-mm-dd hh:mm", "m/d/yy h:mm")),
    "midnights, mixed formats in a column": dict(midnights=("yyyy-mm-dd", "yyyy-mm-dd hh:mm")),
    "formula error values": dict(errors=True),
}


def with_midnights(rows: list[dict], formats: tuple[str, str]) -> list[dict]:
    """Receipts and closures at exactly 00:00, every fifth row, in the two given number formats: xlwings
    hands Python a midnight datetime for each, and only the format says whether the clerk meant a date only."""
    out = []
    for i, row in enumerate(rows):
        row = dict(row)
        if i % 5 == 0 and isinstance(row.get("received_at"), datetime):
            day = row["received_at"].replace(hour=0, minute=0)
            row["received_at"] = Formatted(day, formats[i % 2])
            for key in ("posted_at", "replied_at"):
                if isinstance(row.get(key), datetime) and row[key] < day:
                    row[key] = None
        out.append(row)
    return out


@pytest.mark.parametrize("name", sorted(LEDGERS))
def test_live_read_finds_exactly_what_the_cli_finds(tmp_path, conf, name):
    options = dict(LEDGERS[name])
    engine, date1904 = options.pop("engine", "xlsxwriter"), options.pop("date1904", False)
    midnights, errors = options.pop("midnights", None), options.pop("errors", False)
    rows = with_midnights(month(conf), midnights) if midnights else month(conf)
    if errors:              # xlwings gives these as None unless asked for their text: they must not read as blank
        rows[1]["replied_at"] = FormulaResult("=1/0", "#DIV/0!")
        rows[2]["phone"] = FormulaResult("=NA()", "#N/A")
        rows[3] = {key: FormulaResult("=#REF!", "#REF!") for key in rows[3]}
    path = write_layout(tmp_path / "台账.xlsx", ledger_layout(rows, **options), engine=engine,
                        date1904=date1904)
    book = F.FakeBook(path)
    F.prepare_marks(book)               # what the button's Sub does before Python runs
    live = X.XlwingsPort(book).read_ledger()
    saved = read_ledger(path)
    assert (live.sheet, live.header_row, live.columns, live.info) == (saved.sheet, saved.header_row,
                                                                      saved.columns, saved.info)
    assert [(r.excel_row, r.values, r.hidden) for r in live.rows] == [(r.excel_row, r.values, r.hidden)
                                                                       for r in saved.rows]
    live_check, file_check = check_ledger(live, conf, NOW), check_ledger(saved, conf, NOW)
    assert [f.as_dict() for f in live_check.findings] == [f.as_dict() for f in file_check.findings]
    assert live_check.findings, "the month has mistakes to find"
    if name == "hidden rows":
        assert {f.row for f in live_check.findings if f.code == "row-hidden"} == {6, 9}
    if name == "two-level merged header":
        assert any(f.code == "header-merged" for f in live_check.findings)
    if midnights:
        date_only = [f for f in live_check.findings if f.code == "datetime-no-time"]
        assert bool(date_only) == (midnights[0] == "yyyy-mm-dd"), "date-only cells are told apart from midnights"
    if name == "other sheet name":
        assert live_check.findings[0].code == "sheet-fallback"
    if errors:
        assert {f.value for f in live_check.findings if f.code == "cell-error"} == {"#DIV/0!", "#N/A", "#REF!"}


# ---- writing: the live marks are the CLI's marks, and each undoes the other's ------------------

def snapshot(path: Path) -> dict:
    """Every value, fill and note of every sheet; the record with its fills compared by meaning."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                fill = (c.fill.fill_type, c.fill.fgColor.rgb) if c.fill is not None and c.fill.fill_type else None
                note = c.comment.text if c.comment else None
                value = c.value
                if ws.title == labels.ANNOTATION_SHEET and c.column == 3 and isinstance(value, str) and \
                        value.startswith("<"):
                    value = live_marks.fill_spec(value)
                if ws.title == labels.ANNOTATION_SHEET and c.column > 5:
                    continue                # the scratch columns: empty once ApplyMarks is done
                if value is not None or fill or note:
                    cells[c.coordinate] = (value, fill, note)
        out[ws.title] = (ws.sheet_state, cells)
    return out


def edit(path_or_book, changes: dict[str, object]) -> None:
    """The user types into the ledger: into the file, or into the workbook open in the stand-in."""
    if isinstance(path_or_book, F.FakeBook):
        for ref, value in changes.items():
            path_or_book.wb[LEDGER][ref] = value
        return
    wb = openpyxl.load_workbook(path_or_book)
    for ref, value in changes.items():
        wb[LEDGER][ref] = value
    wb.save(path_or_book)


def cli_annotate(path: Path, conf) -> None:
    check_file(path, conf, NOW, annotate=True)


def test_live_marks_are_the_cli_marks_and_each_undoes_the_other(tmp_path, conf):
    cli = build_xlsx(tmp_path / "cli.xlsx")
    # findings on cells the user has noted (C5) and filled (L6), and a row without a phone
    slips = {f"{letter('channel')}5": "微信", f"{letter('phone')}6": "12345", f"{letter('phone')}7": None}
    edit(cli, slips)
    live = tmp_path / "live.xlsx"
    shutil.copy(cli, live)
    book = F.FakeBook(live)

    cli_annotate(cli, conf)
    title, text, level = press(book, conf, "validate")
    book.write()
    first = snapshot(cli)
    assert snapshot(live) == first
    ledger_cells = first[LEDGER][1]
    assert ledger_cells["C5"][1:] == (("solid", "FFFFC7CE"), ledger_cells["C5"][2])
    assert ledger_cells["C5"][2].startswith("用户批注：渠道待核实\n" + "—" * 12 + "\n【错误】")
    assert (title, level) == ("校验台账", "warning") and "错误 2 条，提醒 1 条" in text

    fixed = {f"{letter('channel')}5": "电话", f"{letter('phone')}6": "13800000006"}
    edit(cli, fixed)
    edit(book, fixed)
    cli_annotate(cli, conf)
    press(book, conf, "validate")
    book.write()
    second = snapshot(cli)
    assert snapshot(live) == second
    cells = second[LEDGER][1]
    assert cells["C5"][1:] == (None, "用户批注：渠道待核实")            # the user's note and no fill, as before
    assert cells["L6"][1] == ("solid", USER_FILL)                      # the user's own fill is back

    # the other way round: the CLI undoes what the button wrote, the button undoes the CLI
    edit(cli, slips)
    edit(live, slips)
    cli_annotate(cli, conf)
    cli_annotate(live, conf)
    assert snapshot(live) == snapshot(cli)
    edit(cli, fixed)
    edit(live, fixed)
    cli_annotate(cli, conf)
    book = F.FakeBook(live)
    press(book, conf, "validate")
    book.write()
    assert snapshot(live) == snapshot(cli) == second


def test_program_columns_appended_like_the_cli(tmp_path, conf):
    """A ledger without the program columns gets them right of the table, with the header's look."""
    headers = [c.header for c in schema.INPUT_COLUMNS]
    rows = month(conf, n=12)
    cli = write_layout(tmp_path / "cli.xlsx", ledger_layout(rows, headers=headers), engine="openpyxl")
    live = tmp_path / "live.xlsx"
    shutil.copy(cli, live)
    cli_annotate(cli, conf)
    book = F.FakeBook(live)
    press(book, conf, "flag_overdue")
    book.write()
    assert snapshot(live) == snapshot(cli)
    header = [c.value for c in openpyxl.load_workbook(live)[LEDGER][3]]
    assert header[len(headers):len(headers) + 3] == [c.header for c in schema.PROGRAM_COLUMNS]


# ---- what the user is told ------------------------------------------------------------------

def test_validate_and_flag_messages_say_what_the_cli_says(tmp_path, conf):
    path = write_layout(tmp_path / "台账.xlsx", ledger_layout(month(conf)))
    check = check_ledger(read_ledger(path), conf, NOW)
    book = F.FakeBook(path)
    title, text, level = press(book, conf, "validate")
    lines = text.split("\n")
    assert title == "校验台账" and level == "warning"
    assert lines[0] == f"台账.xlsx › {LEDGER}：共 40 行，错误 {check.errors} 条，提醒 {check.warnings} 条。"
    from xl_automation.model.findings import finding_line
    assert lines[1:1 + len(check.findings[:12])] == [finding_line(f).strip() for f in check.findings[:12]]
    assert "已标出" in text
    title, text, level = press(book, conf, "flag_overdue")
    from collections import Counter
    from xl_automation.rules import sla
    counts = Counter(s["status"] for s in buttons.row_statuses(check) if s["status"])
    assert title == "标记超时"
    assert text.split("\n")[1] == "时限状态：" + "，".join(f"{s} {counts.get(s, 0)}" for s in sla.STATUSES)
    overdue = [s for s in buttons.row_statuses(check) if s["status"] in sla.OVERDUE_STATUSES]
    assert overdue and all(f"第 {s['row']} 行" in text for s in overdue[:12])
    assert book.app_.status[-1] is False                      # the status bar is handed back
    assert "法定节假日" not in text


def test_a_newer_error_value_is_a_finding_not_a_number(tmp_path, conf):
    """#SPILL!, #CALC! …: xlwings hands over COM's error code as a plain int, which would read as an Excel
    serial (a date in 1800) or a phone number; the live path names the cell instead."""
    rows = month(conf, n=6)
    rows[2]["received_at"] = FormulaResult("=SEQUENCE(2)", "#SPILL!")
    path = write_layout(tmp_path / "台账.xlsx", ledger_layout(rows))
    book = F.FakeBook(path)
    F.prepare_marks(book)
    live = X.XlwingsPort(book).read_ledger()
    (found,) = [f for f in live.findings if f.code == "cell-error"]
    assert (found.value, found.cell) == ("#SPILL!", f"{letter('received_at')}6")
    assert live.rows[2].values.get("received_at") is None


@pytest.mark.parametrize("name", ["-副本 台账.xlsx", "=台账.xlsx", "+台账.xlsx", "@台账.xlsx"])
def test_a_message_that_starts_with_a_formula_sign_stays_text(tmp_path, conf, name):
    # the box's text reaches LedgerMarks.bas through a cell, and Excel parses text assigned to a cell as if
    # typed: a file named "-副本 台账.xlsx" made the message a broken formula (a COM error, no result shown)
    path = write_layout(tmp_path / name, ledger_layout(month(conf, n=12)))
    title, text, level = press(F.FakeBook(path), conf, "validate")
    assert title == "校验台账" and text.startswith(f"{name} › {LEDGER}：共 12 行")


def test_flag_button_says_when_the_calendar_does_not_cover_a_year(tmp_path, conf):
    import copy
    from xl_automation.model.config import Config
    conf = Config(copy.deepcopy(conf.data))
    conf.data["policy"]["clock"] = "working-hours"
    rows = month(conf, n=6, mistakes=False)
    for r in rows:
        for key in ("received_at", "posted_at", "replied_at", "closed_at"):
            if isinstance(r.get(key), datetime):
                r[key] = r[key].replace(year=2027)
    path = write_layout(tmp_path / "台账.xlsx", ledger_layout(rows))
    title, text, level = press(F.FakeBook(path), conf, "flag_overdue")
    assert "2027 年的法定节假日和调休数据缺失" in text


# ---- the cost of a button in Excel calls --------------------------------------------------

def test_excel_calls_do_not_grow_with_rows(tmp_path, conf):
    counts = {}
    for n in (10, 5000):
        rows = month(conf, n=n, mistakes=False)
        for r in rows[::9]:
            r["phone"] = "1380000"                          # findings to mark, more with more rows
        rows = with_midnights(rows, ("yyyy-mm-dd", "yyyy-mm-dd hh:mm"))   # whole days to tell apart, more too
        path = write_layout(tmp_path / f"台账{n}.xlsx", ledger_layout(rows))
        book = F.FakeBook(path)
        for entry in ("validate", "flag_overdue"):
            before = len(book.rec.calls)
            press(book, conf, entry)
            counts[(n, entry)] = book.rec.calls[before:]
    for entry in ("validate", "flag_overdue"):
        small, large = counts[(10, entry)], counts[(5000, entry)]
        # number formats of whole-day cells: one read per datetime column, then at most FORMAT_LOOKUPS cells
        lookups = ("Sheet.range", "Range.number_format")
        formats = [c.count("Range.number_format") for c in (small, large)]
        datetime_columns = sum(c.kind == "datetime" for c in schema.INPUT_COLUMNS)
        assert 0 < formats[0] <= formats[1] <= datetime_columns + X.FORMAT_LOOKUPS, formats
        small, large = [[c for c in calls if c not in lookups] for calls in (small, large)]
        assert small == large, f"{entry}: {len(small)} calls for 10 rows, {len(large)} for 5,000"
        assert len(small) <= 60
        assert small.count("Range.value") + small.count("Range.formula") <= 5   # whole-range reads


# ---- failures are messages ------------------------------------------------------------------

def test_unusable_workbook_is_a_message_not_a_traceback(tmp_path, conf):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "不是台账"
    wb.save(tmp_path / "x.xlsx")
    book = F.FakeBook(tmp_path / "x.xlsx")
    title, text, mode = press(book, conf, "validate")
    assert (title, mode) == ("校验台账", "critical")
    assert "找不到“受理台账”工作表" in text and "Traceback" not in text


def test_unexpected_error_is_logged_and_said_in_one_line(tmp_path, conf, monkeypatch):
    monkeypatch.setattr(X.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(live_plan, "plan", mock.Mock(side_effect=RuntimeError("boom")))
    book = F.FakeBook(write_layout(tmp_path / "台账.xlsx", ledger_layout(month(conf, n=12))))
    title, text, mode = press(book, conf, "validate")
    log = tmp_path / X.ERROR_LOG
    assert mode == "critical" and text.startswith("程序内部错误（RuntimeError: boom）") and str(log) in text
    assert "Traceback" in log.read_text(encoding="utf-8") and "Traceback" not in text


def test_python_called_without_the_macro_preparation_says_so(tmp_path, conf):
    book = F.FakeBook(write_layout(tmp_path / "台账.xlsx", ledger_layout(month(conf, n=12))))
    with excel_session(book, conf):
        X.validate()                               # RunPython alone, no PrepareMarks before it
    (title, text, mode), = book.app_.alerts
    assert "LedgerMarks" in text and mode == "critical"
    assert labels.ANNOTATION_SHEET not in book.wb.sheetnames


def test_no_excel_at_all_prints_and_returns(capsys, monkeypatch):
    class NoCaller:
        class Book:
            @staticmethod
            def caller():
                raise RuntimeError("Book.caller() must not be called directly")
    monkeypatch.setattr(X, "xw", NoCaller)
    X.submit()
    assert "程序内部错误" in capsys.readouterr().err


# ---- the contact form --------------------------------------------------------------------

def _window_ledger(tmp_path: Path, conf, name="台账.xlsx", rows=3) -> Path:
    path = build_ledger(tmp_path / name, config=conf, window=conf.window("ZLS01"), period=Period.parse("2026-11"),
                        settings={labels.INFO_SUBMIT_DIR: ("报送", "")})
    from xl_automation.xlsx.fill import fill_ledger
    fill_ledger(path, sample_rows(conf.window("ZLS01"), Period.parse("2026-11"), conf, n=rows, now=NOW,
                                  mistakes=False))
    return path


FORM = {"svc_water": "√", "svc_gas": "√", "received_at": datetime(2026, 11, 19, 9, 5), "applicant": "淄博某某食品有限公司",
        "phone": "13800001234", "install_type": "工业", "address": "张店区马尚街道人民西路1号",
        "enterprise": "淄博市自来水有限责任公司", "remarks": "需上门"}


def _fill_form(target, values: dict) -> None:
    if isinstance(target, F.FakeBook):
        ws = target.wb[labels.FORM_SHEET]
        for key, value in values.items():
            F.set_cell(ws[FORM_CELLS[key]], "'" + value if isinstance(value, str) else value)
        return
    wb = openpyxl.load_workbook(target)
    for key, value in values.items():
        wb[labels.FORM_SHEET][FORM_CELLS[key]] = value
    wb.save(target)


@pytest.mark.parametrize("port", ["excel", "file"])
def test_register_from_form_adds_a_numbered_row_and_clears_the_form(tmp_path, conf, port):
    path = _window_ledger(tmp_path, conf)
    before = read_ledger(path)
    taken = [int(r.values["request_id"][-3:]) for r in before.rows
             if r.values["request_id"].startswith("ZLS01-20261119-")]
    expected_id = f"ZLS01-20261119-{max(taken, default=0) + 1:03d}"   # the validator's numbering for that day
    if port == "excel":
        book = F.FakeBook(path)
        _fill_form(book, FORM)
        title, text, mode = press(book, conf, "register_from_form")
        book.write()
    else:
        _fill_form(path, FORM)
        file_port = FilePort(path, now=NOW)
        buttons.run_register(file_port, conf, NOW)
        (title, text, mode), = file_port.reports
    after = read_ledger(path)
    new = after.rows[-1]
    assert (title, mode) == ("登记联系单", "info") and len(after.rows) == len(before.rows) + 1
    assert new.excel_row == before.rows[-1].excel_row + 1
    assert new.values["request_id"] == expected_id
    assert new.values["received_at"] == FORM["received_at"]
    assert (new.values["svc_water"], new.values["svc_gas"], new.values["svc_power"]) == (True, True, False)
    assert new.values["phone"] == "13800001234" and new.values["applicant"] == FORM["applicant"]
    assert f"第 {new.excel_row} 行：受理编号 {expected_id}" in text and "受理渠道" in text
    form = openpyxl.load_workbook(path)[labels.FORM_SHEET]
    assert all(form[ref].value is None for ref in FORM_CELLS.values())
    assert form["A1"].value == labels.FORM_TITLE                      # only the values went


def test_register_refuses_an_empty_or_unreadable_form(tmp_path, conf):
    path = _window_ledger(tmp_path, conf)
    port = FilePort(path, now=NOW)
    buttons.run_register(port, conf, NOW)
    _fill_form(path, {"svc_water": "要", "applicant": "张三"})
    buttons.run_register(port, conf, NOW)
    (_, empty, _), (_, bad, level) = port.reports
    assert "是空的" in empty and level == "warning"
    assert f"{labels.FORM_SHEET}!{FORM_CELLS['svc_water']}（用水）：“要”无法识别为勾选" in bad
    assert len(read_ledger(path).rows) == 3


# ---- month end ----------------------------------------------------------------------------

def test_submit_button_saves_then_submits_like_the_cli(tmp_path, conf):
    path = _window_ledger(tmp_path, conf, rows=8)
    book = F.FakeBook(path)
    title, text, mode = press(book, conf, "submit")
    assert "Book.save" in book.rec.calls
    manifests = sorted((tmp_path / "报送").glob("*.manifest.json"))
    assert (title, mode) == ("报送台账", "info") and len(manifests) == 1
    data = json.loads(manifests[0].read_text(encoding="utf-8"))
    assert (data["window"], data["period"], data["rows"], data["errors"]) == ("ZLS01", "2026-11", 8, 0)
    assert f"报送清单：{manifests[0]}" in text


def test_submit_refuses_errors_and_a_missing_folder(tmp_path, conf):
    path = _window_ledger(tmp_path, conf)
    edit(path, {f"{letter('phone')}4": "1380000"})
    port = FilePort(path, now=NOW)
    buttons.run_submit(port, conf, NOW)
    wb = openpyxl.load_workbook(path)
    wb[labels.INFO_SHEET]["B7"] = None
    wb[LEDGER][f"{letter('phone')}4"] = "13800000000"
    wb.save(path)
    buttons.run_submit(port, conf, NOW)
    (_, errors, _), (_, folder, _) = port.reports
    assert "有 1 条错误，不能报送" in errors and "联系方式“1380000”" in errors
    assert f"请在“{labels.INFO_SHEET}”表填写{labels.INFO_SUBMIT_DIR}" in folder
    assert not (tmp_path / "报送").exists()


def test_unsaved_workbook_cannot_submit(tmp_path, conf):
    book = F.FakeBook(_window_ledger(tmp_path, conf), saved=False)
    title, text, mode = press(book, conf, "submit")
    assert "还没有保存过" in text and "Book.save" not in book.rec.calls


@pytest.mark.parametrize("port", ["excel", "file"])
def test_consolidate_button_writes_the_report_beside_the_group_workbook(tmp_path, conf, port):
    from xl_automation.month_end.collect import collect
    from xl_automation.month_end.submission import submit
    from xl_automation.rules.consolidate import consolidate
    inbox = tmp_path / "报送"
    for code, n in (("ZLS01", 6), ("ZLS02", 4)):
        ledger = build_ledger(tmp_path / f"{code}.xlsx", config=conf, window=conf.window(code),
                              period=Period.parse("2026-11"))
        from xl_automation.xlsx.fill import fill_ledger
        fill_ledger(ledger, sample_rows(conf.window(code), Period.parse("2026-11"), conf, n=n, now=NOW, mistakes=False))
        check, _ = check_file(ledger, conf, NOW, annotate=False)
        submit(check, inbox, conf, NOW)
    group = build_group_workbook(tmp_path / "集团汇总.xlsx")
    wb = openpyxl.load_workbook(group)
    row = {label: i for i, (label, _, _) in enumerate(SETTINGS, start=3)}
    wb[GROUP_SHEET][f"B{row[PERIOD]}"] = "2026-11"
    wb.save(group)
    if port == "excel":
        book = F.FakeBook(group)
        title, text, mode = press(book, conf, "consolidate")
        book.write()
    else:
        file_port = FilePort(group, now=NOW)
        buttons.run_consolidate(file_port, conf, NOW)
        (title, text, mode), = file_port.reports
    report = tmp_path / "综合受理月报-2026-11.xlsx"
    cons = consolidate(collect(inbox, Period.parse("2026-11"), conf, NOW).sources, Period.parse("2026-11"), conf, NOW)
    assert report.exists() and title == "集团汇总"
    bulletin = tmp_path / "综合受理月报-2026-11.通报.docx"          # the same path as `consolidate`
    assert bulletin.exists() and f"通报：{bulletin}" in text
    assert f"读入 {cons.rows_in} = 明细 {len(cons.details)}" in text and "已报 2" in text
    sheet = openpyxl.load_workbook(group)[GROUP_SHEET]
    top = int(RESULT_TOP_LEFT[1:])
    written = [sheet[f"A{r}"].value for r in range(top, top + len(result_rows([])))]
    assert written[:len(text.split("\n"))] == text.split("\n")
    assert sheet[f"B{row[SUBMIT_DIR]}"].value == "报送"          # settings untouched


def test_default_period_is_the_latest_that_has_ended(conf):
    assert buttons.default_period(datetime(2026, 11, 25, 9), conf).label == "2026-11"
    assert buttons.default_period(datetime(2026, 11, 20, 9), conf).label == "2026-10"
    assert buttons.default_period(datetime(2027, 1, 3, 9), conf).label == "2026-12"


def test_file_port_validate_writes_what_the_cli_writes(tmp_path, conf):
    path = write_layout(tmp_path / "a.xlsx", ledger_layout(month(conf)), engine="openpyxl")
    other = tmp_path / "b.xlsx"
    shutil.copy(path, other)
    port = FilePort(path, now=NOW)
    buttons.run_validate(port, conf, NOW)
    check, _ = check_file(other, conf, NOW, annotate=True)
    assert path.read_bytes() == other.read_bytes()
    (_, text, _), = port.reports
    assert f"错误 {check.errors} 条，提醒 {check.warnings} 条" in text


def test_consolidate_in_a_ledger_says_which_workbook_it_needs(tmp_path, conf):
    port = FilePort(_window_ledger(tmp_path, conf), now=NOW)
    buttons.run_consolidate(port, conf, NOW)
    (title, text, level), = port.reports
    assert (title, level) == ("集团汇总", "warning") and f"没有“{GROUP_SHEET}”表" in text


def test_live_buttons_read_from_excel_not_through_a_worker(tmp_path, conf, monkeypatch):
    """The worker isolation (issue 8) is for files; the open workbook is read through xlwings."""
    from xl_automation.xlsx import isolation
    calls = []
    real = isolation.read_many
    monkeypatch.setattr(isolation, "read_many", lambda *a, **k: calls.append(a) or real(*a, **k))
    path = write_layout(tmp_path / "台账.xlsx", ledger_layout(month(conf, n=5)))
    title, _, _ = press(F.FakeBook(path), conf, "validate")
    assert title == "校验台账" and calls == []
    from xl_automation.excel.sheetport import FilePort
    FilePort(path).read_ledger()              # the drag-and-drop path reads a saved file: isolated
    assert len(calls) == 1


@pytest.mark.parametrize("exc", [FileExistsError(17, "File exists", "D:/报送"),
                                 NotADirectoryError(20, "Not a directory", "D:/报送/2026-11"),
                                 IsADirectoryError(21, "Is a directory", "D:/报送")])
def test_a_path_of_the_wrong_kind_is_a_message_for_the_box(exc):
    message = X.failure_message(exc)
    assert "内部错误" not in message and exc.filename in message
