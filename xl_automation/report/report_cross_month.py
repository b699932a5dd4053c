"""The report's pages from the archive: 跨月核对 (per window new, 补报, 结转, 未续报 and the lists), 汇总's
comparison with the previous period, and 趋势 (the last 12 periods, tables and line charts)."""
from __future__ import annotations

from typing import Any

from xl_automation.rules.consolidate import Consolidation, Detail, moment
from xl_automation.rules.cross_month import GROUP_CODE, request_key
from xl_automation.model.labels import INFO_WINDOW_CODE as WINDOW, INFO_WINDOW_NAME as WINDOW_NAME
from xl_automation.month_end.month_archive import ArchiveInfo
from xl_automation.rules.periods import Period
from xl_automation.report.report_detail import LATE_REPORTED as LATE_HEADER
from xl_automation.model.schema import BY_KEY

CROSS_MONTH_SHEET = "跨月核对"
GROUP_LABEL = "全集团"
CARRIED_HEADER, DROPPED_HEADER = "往期结转", "未续报"
NO_PREVIOUS = "归档中没有上期数据"
DROPPED_HINT = "往期报送时仍在办理中，本期报送中没有这条：请窗口说明办理结果，或在台账中继续结转"
H = {k: BY_KEY[k].header for k in BY_KEY}


def change(now: Any, before: Any) -> float | None:
    """环比: the relative change, None when there is nothing to compare with."""
    if now is None or before in (None, 0):
        return None
    return round((now - before) / before, 4)


def _shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every window and the group (the companies are in the archive and in history, not on these pages)."""
    return [dict(r, name=GROUP_LABEL) if r["scope"] == "group" else r for r in rows if r["scope"] != "company"]


COMPARISON = [("本期受理", "received", None), ("上期受理", "received", "prev"), ("受理环比", "received", "change"),
              ("本年累计受理", "received", "year"), ("按时率", "on_time_rate", None),
              ("上期按时率", "on_time_rate", "prev"), ("按时率变化（百分点）", "on_time_rate", "diff"),
              ("办结率", "closure_rate", None), ("上期办结率", "closure_rate", "prev"), ("超时", "overdue", None),
              ("上期超时", "overdue", "prev")]
PERCENT_KEYS = ("on_time_rate", "closure_rate")


def write_comparison(book, ws, row: int, info: ArchiveInfo, rows: list[dict[str, Any]]) -> None:
    """汇总's block against the previous period (上期, 环比) and the year so far (本年累计), from the archive."""
    ws.write_string(row, 0, "与上期比较（上期数据取自归档）" if info.previous else f"与上期比较：{info.note or NO_PREVIOUS}",
                    book.section)
    book.headers(ws, row + 1, ["编码", "名称"] + [label for label, _, _ in COMPARISON])
    for r, f in enumerate(_shown(rows), start=row + 2):
        code, name = f["code"], f["name"]
        prev = info.previous.get(code, {})
        book.text(ws, r, 0, code)
        book.text(ws, r, 1, name)
        for c, (_, key, how) in enumerate(COMPARISON, start=2):
            now = f.get(key)
            value = {None: now, "prev": prev.get(key), "change": change(now, prev.get(key)),
                     "year": info.year_to_date.get(code, 0) + (now or 0),
                     "diff": None if now is None or prev.get(key) is None else round(now - prev[key], 4)}[how]
            if value is not None:
                ws.write_number(r, c, value, book.pct if key in PERCENT_KEYS or how == "change" else None)


def write_cross_month(lists, cons: Consolidation, info: ArchiveInfo, figures: list[dict[str, Any]]) -> None:
    book = lists.book
    ws = book.sheet(CROSS_MONTH_SHEET, [10, 16, 12, 10, 10, 10, 10])
    ws.write_string(0, 0, f"跨月核对 {cons.period.label}", book.title)
    ws.write_string(1, 0, info.note or "", book.subtitle)
    headers = [WINDOW, WINDOW_NAME, "本期受理", f"其中{LATE_HEADER}", CARRIED_HEADER, DROPPED_HEADER, "经手合计"]
    rows = [[f["code"], f["name"], f["received"], f["late_reported"], f["carried_over"], f["dropped_open"],
             f["handled"]] for f in _shown(figures)]
    book.headers(ws, 3, headers)
    ws.set_row(3, 30)
    for r, values in enumerate(rows, start=4):
        book.row(ws, r, values)
    r = 4 + len(rows) + 1
    ws.write_string(r, 0, f"{LATE_HEADER}清单（往期受理、本期首次报送，计入本期受理）", book.section)
    late = sorted((d for d in cons.details if d.late_reported), key=lambda d: (lists.order.get(d.window, 99),
                                                                             request_key(d.values)))
    r = lists.table(ws, r + 1, [WINDOW, WINDOW_NAME, H["request_id"], H["received_at"], "所属周期", H["result"],
                                H["applicant"], H["phone"], "文件", "行"], (
        [d.window, lists.name_of(d.window), d.values.get("request_id"), d.values.get("received_at"),
         _period_of(d, cons.period), d.values.get("result"), *lists.personal(d), d.file, d.source_row]
        for d in late))
    ws.write_string(r + 1, 0, f"{DROPPED_HEADER}清单（{DROPPED_HINT}）", book.section)
    lists.table(ws, r + 2, [WINDOW, WINDOW_NAME, H["request_id"], "最后报送周期"], (
        [x.window, lists.name_of(x.window), x.request_id, x.last_period] for x in cons.dropped_open))


def _period_of(d: Detail, period: Period) -> str:
    """The period it was received in (a date without a time: that date's, as the period rules count)."""
    received = moment(d.values.get("received_at"))
    return Period.containing(received, period.start_day).label if received is not None else ""


# --- 趋势: the last 12 periods from the archive plus this one, tables and line charts -----------------
TREND_SHEET = "趋势"
PERIODS = 12


def write_trends(lists, period_label: str, history: Any, current: list[dict[str, Any]]) -> None:
    """history: earlier periods' figures (pandas frame, may be None); current: this period's figure rows."""
    import pandas as pd                     # here: pandas costs ~0.5 s to import, only this sheet needs it
    from xl_automation.month_end.trends import MEASURES, RATES, pivot
    book, config = lists.book, lists.config
    now = pd.DataFrame(current).assign(period=period_label)
    frames = [f for f in (history, now) if f is not None and not f.empty]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame = frame[frame["scope"].isin(["window", "group"])]
    frame = frame[frame["period"].isin(sorted(frame["period"].unique())[-PERIODS:])]
    order = [w.code for w in config.windows] + [GROUP_CODE]
    labels = [w.name for w in config.windows] + [GROUP_LABEL]
    ws = book.sheet(TREND_SHEET, [10] + [11] * len(order))
    ws.write_string(0, 0, f"趋势：最近 {frame['period'].nunique()} 个统计周期（归档中的往期 + 本期 {period_label}）", book.title)
    r = 2
    for measure, title in MEASURES.items():
        table = pivot(frame, measure, order)
        ws.write_string(r, 0, title, book.section)
        book.headers(ws, r + 1, ["统计周期"] + [labels[order.index(c)] for c in table.columns])
        first = r + 2
        for i, (period, values) in enumerate(table.iterrows()):
            ws.write_string(first + i, 0, str(period))
            for c, v in enumerate(values, start=1):
                if pd.notna(v):
                    ws.write_number(first + i, c, float(v), book.pct if measure in RATES else None)
        last = first + len(table) - 1
        _chart(book, ws, title, table.columns, first, last, r + 1, len(order) + 2, measure in RATES)
        r = max(last + 3, r + 18)


def _chart(book, ws, title: str, columns, first: int, last: int, header_row: int, at_col: int, rate: bool) -> None:
    chart = book.wb.add_chart({"type": "line"})
    for c, code in enumerate(columns, start=1):
        chart.add_series({
            "name": [ws.name, header_row, c], "categories": [ws.name, first, 0, last, 0],
            "values": [ws.name, first, c, last, c], "marker": {"type": "circle", "size": 4},
            "line": {"width": 2.5 if code == GROUP_CODE else 1.25}})
    chart.set_title({"name": title, "name_font": {"name": "等线", "size": 11}})
    chart.set_y_axis({"num_format": "0%" if rate else "0", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "right", "font": {"name": "等线", "size": 8}})
    chart.set_size({"width": 720, "height": 300})
    ws.insert_chart(header_row, at_col, chart)
