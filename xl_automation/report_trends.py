"""The report's 趋势 sheet: the last 12 periods per window and the group (received, on-time rate, closure
rate, 考核 score) from the archive plus this period, each as a table with a line chart beside it."""
from __future__ import annotations

from typing import Any

import pandas as pd

from .cross_month import GROUP_CODE
from .report_cross_month import GROUP_LABEL
from .trends import MEASURES, RATES, pivot

TREND_SHEET = "趋势"
PERIODS = 12


def write_trends(lists, period_label: str, history: Any, current: list[dict[str, Any]]) -> None:
    """history: earlier periods' figures (pandas frame, may be None); current: this period's figure rows."""
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
