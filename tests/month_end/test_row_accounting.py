"""Every ledger row is accounted for, row by row, from the branch's ledger to the group's report.

Property-based: hypothesis generates ledgers for two windows with receipt times on the period's edges,
at midnight, as text, as dates without a time, missing; replies before and after the limit; transfers
between the windows. For every generated month: each ledger row is either in the submission copy or named
in the submission's left-out list, never both; each row of each copy is in 明细, folded into a merged
transfer, or listed in 未计入本期 of the written report, exactly once.
"""
from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings, strategies as st

from xl_automation.model import config as cfg
from xl_automation.month_end.collect import collect
from xl_automation.rules.consolidate import consolidate
from xl_automation.rules.normalize import DateOnly
from xl_automation.rules.periods import Period
from xl_automation.xlsx.reader import read_ledger
from xl_automation.report.workbook import write_report
from xl_automation.report.report_detail import DETAIL_INDEX
from xl_automation.month_end.submission import submit
from xl_automation.rules.validate import check_ledger
from xl_automation.xlsx.values_ledger import write_values_ledger

from support.rows import good_row

CONF = cfg.load()
PERIOD = Period.parse("2026-11")
SUBMIT_AT = datetime(2026, 11, 25, 8, 0)
REPORT_AT = datetime(2026, 11, 25, 10, 0)
WINDOWS = ("ZLS01", "ZLS02")
MINUTES = st.integers(min_value=-3, max_value=3)


def _edge(base: datetime):
    return st.builds(lambda m, s: base + timedelta(minutes=m, seconds=s), MINUTES, st.sampled_from([0, 0, 59]))


def _twelve_hour(moment: datetime) -> str:
    """上午12:30 is 00:30, 下午12:30 is 12:30, as clerks write them."""
    h = moment.hour
    return f"{'上午' if h < 12 else '下午'}{(h % 12) or 12}:{moment:%M}"


def _text(moment: datetime, form: int) -> str:
    return (f"{moment:%Y年}{moment.month}月{moment.day}日 {moment.hour}:{moment:%M}",
            f"{moment:%Y/%m/%d %H:%M}", f"{moment:%Y-%m-%d %H:%M:%S}", f"{moment:%Y%m%d %H:%M}",
            f"{moment:%Y年}{moment.month}月{moment.day}日 {_twelve_hour(moment)}")[form]


received_moments = st.one_of(
    _edge(PERIOD.start), _edge(PERIOD.end), _edge(PERIOD.end - timedelta(hours=2)),
    st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2026, 12, 31)).map(lambda d: d.replace(microsecond=0)),
    st.dates(min_value=datetime(2026, 10, 1).date(), max_value=datetime(2026, 12, 5).date()).map(
        lambda d: datetime(d.year, d.month, d.day)),                                        # midnights
)
received = st.one_of(
    received_moments,
    st.tuples(received_moments, st.integers(0, 4)).map(lambda t: _text(*t)),               # typed as text
    received_moments.map(lambda d: DateOnly(datetime(d.year, d.month, d.day))),           # a date only
    st.just(None), st.just("昨天上午"),                                                    # missing, not a time
)


@st.composite
def request(draw, window: str, n: int):
    when = draw(received)
    base = when.value if isinstance(when, DateOnly) else when if isinstance(when, datetime) else PERIOD.start
    reply = draw(st.one_of(st.none(), st.integers(-30, 400)))
    result = draw(st.sampled_from(["已办结", "办理中", "无法办理", "已转办"]))
    closed = base + timedelta(days=draw(st.integers(0, 40))) if result == "已办结" else None
    return good_row(
        request_id=f"{window}-{n:03d}", received_at=when, posted_at=None,
        replied_at=None if reply is None else base + timedelta(minutes=reply), result=result, closed_at=closed,
        unresolved_reason="等待踏勘" if result in ("办理中", "无法办理") else "",
        transferred_to=CONF.window(WINDOWS[1]).name if result == "已转办" else "",
        remarks=f"MARK-{window}-{n:03d}")


@st.composite
def month(draw):
    ledgers = {}
    for w in WINDOWS:
        k = draw(st.integers(1, 8))
        ledgers[w] = [draw(request(w, i)) for i in range(k)]
    # transfers: a row of the second window takes over a row of the first (same 受理编号, 联络群转入)
    for i in draw(st.lists(st.integers(0, len(ledgers[WINDOWS[0]]) - 1), max_size=2, unique=True)):
        origin = ledgers[WINDOWS[0]][i]
        taker = dict(origin, channel="联络群转入", remarks=f"MARK-{WINDOWS[1]}-T{i}", transferred_to="")
        if draw(st.booleans()):
            taker.update(phone="13900000000", applicant="另一位申请人")   # not plausibly the same request
        ledgers[WINDOWS[1]].append(taker)
    return ledgers


def _marks_of_sheet(ws, header_row: int, column: int) -> list[str]:
    return [r[column] for r in ws.iter_rows(min_row=header_row + 1, values_only=True) if r[column]]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(month(), st.booleans())
def test_every_row_is_submitted_or_named_and_every_submitted_row_is_reported_once(ledgers, plain):
    """`plain`: the second window drops its ledger itself in the folder, so consolidation sorts its rows."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inbox = tmp / "inbox"
        copy_marks: dict[str, list[str]] = {}
        for code, rows in ledgers.items():
            w = CONF.window(code)
            path = tmp / f"{code}.xlsx"
            write_values_ledger(path, rows, {"窗口编码": code, "窗口名称": w.name, "统计周期": PERIOD.label},
                                constant_memory=False)
            if plain and code == WINDOWS[1]:
                inbox.mkdir(exist_ok=True)
                path = path.rename(inbox / path.name)
                os.utime(path, (SUBMIT_AT.timestamp(), SUBMIT_AT.timestamp()))
                copy_marks[code] = [r.values["remarks"] for r in read_ledger(path, config=CONF).rows]
                continue
            check = check_ledger(read_ledger(path, config=CONF), CONF, SUBMIT_AT)
            done = submit(check, inbox, CONF, SUBMIT_AT)
            copy_rows = read_ledger(done.copy, config=CONF).rows
            marks = [r.values["remarks"] for r in copy_rows]
            left = {x["row"] for x in done.left_out}
            ledger_rows = {r.excel_row: r.values["remarks"] for r in check.ledger.rows}
            # the ledger's rows = the copy's rows + the left-out rows, each exactly once
            assert len(ledger_rows) == len(rows) == done.rows_in_ledger
            assert left.isdisjoint(r for r, m in ledger_rows.items() if m in marks)
            assert sorted(marks + [ledger_rows[r] for r in left]) == sorted(ledger_rows.values())
            assert len(marks) == done.rows == len(set(marks))
            copy_marks[code] = marks
        collected = collect(inbox, PERIOD, CONF, REPORT_AT)
        assert not collected.rejected and len(collected.sources) == len(WINDOWS)
        cons = consolidate(collected.sources, PERIOD, CONF, REPORT_AT)
        report = tmp / "report.xlsx"
        write_report(report, consolidation=cons, collected=collected, config=CONF, now=REPORT_AT)
        wb = openpyxl.load_workbook(report, read_only=True)
        # where each copy row went, read back from the written report: (file, Excel row) -> places
        places: dict[tuple[str, int], list[str]] = {}
        detail = wb["明细"]
        f, r, merged = DETAIL_INDEX["file"], DETAIL_INDEX["source_row"], DETAIL_INDEX["merged_rows"]
        for row in detail.iter_rows(min_row=2, values_only=True):
            places.setdefault((row[f], int(row[r])), []).append("明细")
            for ref in (row[merged] or "").split("；"):
                if ref:
                    _, file, n = re.fullmatch(r"(\S+) (.+) 第(\d+)行", ref).groups()
                    places.setdefault((file, int(n)), []).append("合并")
        for row in wb["未计入本期"].iter_rows(min_row=4, values_only=True):
            if row[2]:
                places.setdefault((row[2], int(row[3])), []).append("未计入")
        wb.close()
        expected = {(src.path.name, row.excel_row) for src in collected.sources for row in src.rows}
        assert set(places) == expected
        assert all(len(v) == 1 for v in places.values()), {k: v for k, v in places.items() if len(v) != 1}
        assert cons.rows_in == sum(len(m) for m in copy_marks.values())
