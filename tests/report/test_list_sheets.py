"""The report's list sheets, each module on its own: the shared table (list_table) and one list
(list_requests' 超时清单), written to a real workbook and read back."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xl_automation.model import config as cfg
from xl_automation.model.schema import COLUMNS
from xl_automation.report import report_book
from xl_automation.report.list_requests import OVERDUE_SHEET, write_overdue
from xl_automation.report.list_table import NONE_ROW, Lists
from xl_automation.report.report_book import Book
from xl_automation.rules.consolidate import Detail
from xl_automation.rules.sla import LATE, ON_TIME, OVERDUE_OPEN, RowClock

CONFIG = cfg.Config(cfg.default_data(), "测试配置")
CREATED = datetime(2026, 11, 25, 10, 0)


def sheet_rows(path: Path, name: str) -> list[list]:
    ws = openpyxl.load_workbook(path)[name]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def with_table(path: Path, rows: list[list], start: int = 2) -> int:
    book = Book(path, CONFIG, False, created=CREATED)
    lists = Lists(book, CONFIG)
    ws = book.sheet("表", [10, 10, 10])
    after = lists.table(ws, start, ["甲", "乙", "丙"], iter(rows))
    book.close()
    return after


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.one_of(st.integers(-1000, 1000), st.text("张王李abc ", min_size=1, max_size=6)),
                              min_size=3, max_size=3), max_size=8))
def test_a_table_is_its_header_then_its_rows_or_one_none_row(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("table") / "t.xlsx"
    after = with_table(path, rows)
    got = sheet_rows(path, "表")
    assert got[2] == ["甲", "乙", "丙"]
    body = [[v for v in line] for line in got[3:]]
    if rows:
        assert after == 3 + len(rows)
        assert body == [[v if v != "" else None for v in r] for r in rows]
    else:
        assert after == 4 and body == [[NONE_ROW, None, None]]


def test_a_table_longer_than_a_sheet_says_how_many_rows_were_left_out(tmp_path, monkeypatch):
    monkeypatch.setattr(report_book, "MAX_ROWS", 8)
    path = tmp_path / "t.xlsx"
    after = with_table(path, [[i, i, i] for i in range(20)], start=0)
    got = sheet_rows(path, "表")
    assert after == 8 and [r[0] for r in got[1:7]] == list(range(6))
    assert got[7][0] == "另有 14 行未列出：超过 Excel 工作表 8 行的上限"


def detail(window: str, hour: int, status: str, applicant: str, phone: str) -> Detail:
    values = {c.key: None for c in COLUMNS} | {"request_id": f"{window}-{hour:02d}", "applicant": applicant,
                                               "phone": phone, "received_at": datetime(2026, 11, 3, hour)}
    return Detail(window, values, RowClock(150.0, -30.0, status), "x.xlsx", "0" * 64, hour)


def test_the_overdue_list_holds_only_overdue_requests_by_window_then_time_masked(tmp_path):
    first, second = CONFIG.windows[0].code, CONFIG.windows[1].code
    details = [detail(second, 9, LATE, "王小明", "13912345678"), detail(first, 11, OVERDUE_OPEN, "李四", "13800001111"),
               detail(first, 10, ON_TIME, "赵六", "13700002222"), detail(first, 8, LATE, "张三", "13600003333")]
    path = tmp_path / "r.xlsx"
    book = Book(path, CONFIG, False, created=CREATED)
    write_overdue(Lists(book, CONFIG), details)
    book.close()
    got = sheet_rows(path, OVERDUE_SHEET)
    assert [(r[0], r[2]) for r in got[1:]] == [(first, f"{first}-08"), (first, f"{first}-11"), (second, f"{second}-09")]
    assert [(r[9], r[10]) for r in got[1:]] == [("张*", "136****3333"), ("李*", "138****1111"), ("王*明", "139****5678")]
    assert got[1][1] == CONFIG.windows[0].name and got[1][6] == 30


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(st.sampled_from(list("淄博市有限责任公司监督考核中心甲乙'[]:*?/\\ ab") + ["\x01"]),
                        min_size=1, max_size=45), min_size=1, max_size=6, unique=True))
def test_every_supervising_unit_gets_a_sheet_excel_accepts(tmp_path_factory, units):
    """The 考核-<unit> sheets come from the configuration's supervisor names: one ending in an apostrophe,
    or two alike in their first 28 characters, stopped the report (XlsxWriter refuses such sheet names).
    Each unit gets its own name of at most 31 characters that a workbook can hold."""
    from xl_automation.report.report_breakdown import unit_sheet_names
    names = unit_sheet_names(units)
    assert len(names) == len(units) and len({n.lower() for n in names}) == len(names)
    path = tmp_path_factory.mktemp("units") / "units.xlsx"
    wb = report_book.new_workbook(path)
    for name in names:
        wb.add_worksheet(name)
    wb.close()
    assert openpyxl.load_workbook(path).sheetnames == names
    assert all(n.startswith("考核-") and len(n) <= 31 and not n.endswith("'") and "\x01" not in n for n in names)
