"""The report's fast paths give exactly what the plain ones give, for every kind of value a consolidated
request can hold: the 明细 sheet's whole-row path (one spool call per request) writes what the cell-by-cell
path writes (value, type, number format, style), and stats.figures' single pass counts what one pass per
figure counts."""
from __future__ import annotations

import statistics
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xl_automation.model import config as cfg
from xl_automation.report import report_detail
from xl_automation.rules import stats
from xl_automation.rules.assessment import explained
from xl_automation.rules.consolidate import on_time_rate, round_half_up
from xl_automation.rules.consolidate import Detail
from xl_automation.model.ledger import RowValues
from xl_automation.rules.normalize import DateOnly, Invalid
from xl_automation.report.report_book import Book
from xl_automation.report.report_detail import DETAIL_SHEET, write_detail
from xl_automation.model.schema import BY_KEY, COLUMNS, SERVICE_COLUMNS
from xl_automation.rules.sla import STATUSES, RowClock

CREATED = datetime(2026, 11, 25, 10, 0)
TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from([*BY_KEY["install_type"].enum, *BY_KEY["channel"].enum, *BY_KEY["result"].enum]),
    st.sampled_from(["<r>x</r>", "<r>", " 前后空格 ", "_x0041_", "a&b<c>", "张三", "13912345678", "淄博市张店区",
                     "有限公司", "\x01控制", "是", "√", "无", "客户拒绝", "已转办", "无法办理"]),
)
MOMENT = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1))
VALUE = st.one_of(
    st.none(), st.just(""), st.booleans(), TEXT, MOMENT,
    MOMENT.map(lambda m: DateOnly(m.replace(hour=0, minute=0, second=0, microsecond=0))),
    st.builds(Invalid, st.one_of(st.none(), st.just(""), TEXT, st.integers(-5, 99999)), st.just("")),
    st.integers(-10, 10 ** 9), st.floats(allow_nan=False, allow_infinity=False, width=32),
)
# as sla.Clock makes them: no status without a receipt time, minutes whenever there is a status
CLOCK = st.one_of(st.builds(RowClock, st.none(), st.none(), st.sampled_from([None, ""])),
                  st.builds(RowClock, st.one_of(st.floats(0, 10 ** 5, width=32), st.integers(0, 10 ** 5)),
                            st.none(), st.sampled_from(STATUSES)))
CONFIG = cfg.Config(cfg.default_data(), "测试配置")
CODES = [w.code for w in CONFIG.windows] + ["ZZ", "<r>Q</r>"]
NAMES = st.lists(TEXT.filter(bool), max_size=2).map(tuple)


@st.composite
def details(draw):
    out = []
    for _ in range(draw(st.integers(1, 6))):
        values = [draw(VALUE) for _ in COLUMNS]
        as_dict = draw(st.booleans())      # a reader row (RowValues) or a plain dict (tests, archive)
        row = {c.key: v for c, v in zip(COLUMNS, values)} if as_dict else RowValues(values)
        out.append(Detail(draw(st.sampled_from(CODES)), row, draw(CLOCK), draw(TEXT), draw(TEXT),
                          draw(st.integers(1, 10 ** 6)), draw(st.booleans()), draw(st.booleans()),
                          handled_by=draw(NAMES), merged_rows=draw(NAMES), duplicates=draw(NAMES)))
    return out


def cells(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)[DETAIL_SHEET]
    return [(c.coordinate, c.value, c.data_type, c.number_format, c.style_id)
            for row in ws.iter_rows() for c in row if c.value is not None]


def written(path: Path, rows: list[Detail], personal: bool) -> list[tuple]:
    book = Book(path, CONFIG, personal, created=CREATED)
    write_detail(book, rows, CONFIG)
    book.close()
    return cells(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=details(), personal=st.booleans())
def test_whole_rows_write_what_cells_write(tmp_path_factory, monkeypatch, rows, personal):
    folder = tmp_path_factory.mktemp("detail")
    fast = written(folder / "fast.xlsx", rows, personal)
    with monkeypatch.context() as m:
        m.setattr(report_detail, "_plain_line", lambda *a: None)     # every row cell by cell
        slow = written(folder / "slow.xlsx", rows, personal)
    assert fast == slow


def test_usual_rows_take_the_whole_row_path(tmp_path, monkeypatch):
    """The property above holds trivially if no row ever takes the fast path: the usual one does."""
    calls = []
    monkeypatch.setattr(report_detail, "_write_cells", lambda *a: calls.append(a))
    values = {c.key: None for c in COLUMNS} | {"request_id": "W01-20261101-001", "applicant": "张三",
                                               "phone": "13912345678", "received_at": datetime(2026, 11, 1, 9)}
    row = Detail(CONFIG.windows[0].code, RowValues(values[c.key] for c in COLUMNS), RowClock(12.5, 107.5, "按时"),
                 "W01.xlsx", "ab" * 32, 4)
    assert written(tmp_path / "r.xlsx", [row], False) and calls == []


def list_cells(path: Path, rows: list[list], monkeypatch=None) -> list[tuple]:
    book = Book(path, CONFIG, False, created=CREATED)
    ws = book.spool(book.sheet("清单", [10] * 8), 1)
    ws.write_string(1, 0, "表头")
    for r, values in enumerate(rows, start=2):
        book.row(ws, r, values)
    book.close()
    sheet = openpyxl.load_workbook(path)["清单"]
    return [(c.coordinate, c.value, c.data_type, c.number_format, c.style_id)
            for row in sheet.iter_rows() for c in row if c.value is not None]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(VALUE, min_size=1, max_size=8), max_size=6))
def test_a_list_row_in_one_call_writes_what_its_cells_write(tmp_path_factory, monkeypatch, rows):
    """Book.row on a spooled list sheet: a row of plain values goes to the spool whole, as its cells would."""
    from xl_automation.report import report_book
    folder = tmp_path_factory.mktemp("lists")
    fast = list_cells(folder / "fast.xlsx", rows)
    with monkeypatch.context() as m:
        m.setattr(report_book, "_PLAIN", frozenset())           # every row cell by cell
        slow = list_cells(folder / "slow.xlsx", rows)
    assert fast == slow


def figures_one_pass_each(details, refusals):
    """stats.figures as first written: a pass over the requests per figure (the oracle)."""
    carried = [d for d in details if d.carried]
    details = [d for d in details if not d.carried]
    f = {"received": len(details)}
    for c in SERVICE_COLUMNS:
        f[f"svc:{c.key}"] = sum(1 for d in details if d.values.get(c.key) is True)
    for t in stats.INSTALL_TYPES:
        f[f"type:{t}"] = sum(1 for d in details if d.values.get("install_type") == t)
    for ch in stats.CHANNELS:
        f[f"channel:{ch}"] = sum(1 for d in details if d.values.get("channel") == ch)
    statuses = [d.clock.status for d in details]
    f["on_time"] = statuses.count(stats.ON_TIME)
    f["on_time_rate"] = on_time_rate(d.clock for d in details)
    minutes = [d.clock.minutes for d in details if d.clock.status in stats.REPLIED]
    f["avg_minutes"] = round_half_up(sum(minutes) / len(minutes), 2) if minutes else None
    f["median_minutes"] = round_half_up(statistics.median(minutes), 2) if minutes else None
    f["max_minutes"] = max(minutes) if minutes else None
    f["overdue"] = statuses.count(stats.LATE) + statuses.count(stats.OVERDUE_OPEN)
    for r in stats.RESULTS:
        f[f"result:{r}"] = sum(1 for d in details if d.values.get("result") == r)
    f["on_site"] = sum(1 for d in details if d.values.get("on_site") == "是")
    f["late"] = statuses.count(stats.LATE)
    f["overdue_open"] = statuses.count(stats.OVERDUE_OPEN)
    f["unable_with_reason"] = sum(1 for d in details if d.values.get("result") == "无法办理"
                                  and explained(d.values.get("unresolved_reason"), refusals))
    f["transferred"] = sum(1 for d in details if d.handled_by or d.values.get("result") == "已转办")
    f["carried_over"] = len(carried)
    f["carried_closed"] = sum(1 for d in carried if d.values.get("result") == stats.CLOSED)
    return f


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(details(), max_size=4).map(lambda groups: [d for g in groups for d in g]),
       refusals=st.sampled_from([(), ("客户拒绝",)]))
def test_figures_in_one_pass_count_what_a_pass_per_figure_counts(rows, refusals):
    got = stats.figures(iter(rows), refusals)       # any iterable, read once
    want = figures_one_pass_each(rows, refusals)
    assert list(got) == list(want) and got == want
    assert got["received"] + got["carried_over"] == len(rows)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(details(), max_size=5).map(lambda groups: [d for g in groups for d in g]),
       refusals=st.sampled_from([(), ("客户拒绝",)]), seed=st.randoms(use_true_random=False))
def test_figures_of_every_scope_from_one_pass_are_each_scopes_own_figures(rows, refusals, seed):
    """Windows, companies (their windows in configuration order) and the group from one pass over the
    requests: what stats.figures gives over each scope's requests, the average's float sum included."""
    seed.shuffle(rows)
    by_window: dict[str, list] = {}
    for d in rows:
        by_window.setdefault(d.window, []).append(d)
    companies = {"A": [CODES[0], CODES[2], "无此窗口"], "B": [CODES[1], CODES[-1]], "C": []}
    windows, per_company, group = stats.figures_by_window(by_window, rows, companies, refusals)
    assert windows == {code: stats.figures(mine, refusals) for code, mine in by_window.items()}
    for company, codes in companies.items():
        mine = [d for code in codes for d in by_window.get(code, ())]
        assert list(per_company[company].items()) == list(stats.figures(mine, refusals).items())
    assert list(group.items()) == list(stats.figures(rows, refusals).items())


if __name__ == "__main__":
    pytest.main([__file__])
