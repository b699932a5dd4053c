"""The 汇总 sheet: per window, company and group, live formulas over 明细 with Python values cached."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xl_automation.model.config import Config
from xl_automation.model.labels import TICK
from xl_automation.model.ledger import column_letter
from xl_automation.rules.periods import Period
from xl_automation.report.report_book import PRINTABLE_CM, Book, column_cm
from xl_automation.report.report_detail import DETAIL_SHEET, YES, detail_letter
from xl_automation.model.schema import SERVICE_COLUMNS
from xl_automation.rules.sla import LATE, ON_TIME, OVERDUE_OPEN
from xl_automation.rules.stats import CLOSED, Figure, figure_list

SUMMARY_SHEET = "汇总"
GROUP_TOTAL = "集团合计"
SUBTOTAL = "小计"
FIRST_ROW = 3          # 0-based: title, policy line, header, then the windows
RATE_KEYS = ("on_time_rate",)
MINUTE_KEYS = ("avg_minutes", "median_minutes", "max_minutes")
SIMPLE = {"svc": None, "type": "install_type", "channel": "channel", "result": "result"}
PRINT_SCALE = 75        # 汇总 prints at this scale, code and name repeated, a group of figures never split


@dataclass(frozen=True)
class SummaryRow:
    code: str                       # window or company code; GROUP_TOTAL for the group
    name: str
    filter: tuple[str, str] | None  # (明细 column key, value) or None for the whole group
    figures: dict[str, Any]
    total: bool = False


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _criterion(text: str) -> str:
    """COUNTIFS matches a criterion with wildcards and operators; this one matches the text exactly."""
    text = text.replace("~", "~~").replace("*", "~*").replace("?", "~?")
    return _quote("=" + text if text[:1] in ("=", "<", ">") else text)


class Formulas:
    """Formula text for one figure of one row; ranges are bounded to 明细's data rows.

    Every figure but the two carry-over ones counts this period's receipts only: rows whose 结转 cell is
    not 是 (carried-over requests were received, and counted, in an earlier period).
    """

    def __init__(self, detail_rows: int):
        self.last = max(2, detail_rows + 1)

    def rng(self, key: str) -> str:
        col = detail_letter(key)
        return f"'{DETAIL_SHEET}'!${col}$2:${col}${self.last}"

    def _pairs(self, flt, criteria, carried: bool | None) -> str:
        pairs = ([flt] if flt else []) + list(criteria)
        parts = [f"{self.rng(k)},{_criterion(v)}" for k, v in pairs]
        if not flt:     # the whole group: rows that hold a request ("<>" is "not blank"; an empty 明细 has one blank row)
            parts.insert(0, f'{self.rng("window")},"<>"')
        if carried is not None:
            parts.append(f"{self.rng('carried')},{_quote(YES if carried else '<>' + YES)}")
        return ",".join(parts)

    def count(self, flt, *criteria: tuple[str, str], carried: bool | None = False) -> str:
        return "COUNTIFS(" + self._pairs(flt, criteria, carried) + ")"

    def _sum(self, flt, status: str) -> str:
        return f"SUMIFS({self.rng('response_minutes')}," + self._pairs(flt, [("sla_status", status)], False) + ")"

    def _replied_condition(self, flt) -> str:
        st = self.rng("sla_status")
        cond = f"(({st}={_quote(ON_TIME)})+({st}={_quote(LATE)}))*({self.rng('carried')}<>{_quote(YES)})"
        return f"({self.rng(flt[0])}={_quote(flt[1])})*{cond}" if flt else cond

    def formula(self, key: str, flt) -> tuple[str, bool]:
        """(formula, is_array); array formulas because MEDIAN/MAX with a condition predate MAXIFS."""
        replied = f"({self.count(flt, ('sla_status', ON_TIME))}+{self.count(flt, ('sla_status', LATE))})"
        if key == "received":
            return "=" + self.count(flt), False
        if key == "carried_over":
            return "=" + self.count(flt, carried=True), False
        if key == "carried_closed":
            return "=" + self.count(flt, ("result", CLOSED), carried=True), False
        if key == "on_time":
            return "=" + self.count(flt, ("sla_status", ON_TIME)), False
        if key == "overdue":
            return f"={self.count(flt, ('sla_status', LATE))}+{self.count(flt, ('sla_status', OVERDUE_OPEN))}", False
        if key == "on_time_rate":
            on = self.count(flt, ("sla_status", ON_TIME))
            decided = f"({on}+{self.count(flt, ('sla_status', LATE))}+{self.count(flt, ('sla_status', OVERDUE_OPEN))})"
            return f'=IF({decided}=0,"",ROUND({on}/{decided},4))', False
        if key == "avg_minutes":
            total = f"({self._sum(flt, ON_TIME)}+{self._sum(flt, LATE)})"
            return f'=IF({replied}=0,"",ROUND({total}/{replied},2))', False
        if key in ("median_minutes", "max_minutes"):
            inner = f'IF({self._replied_condition(flt)},{self.rng("response_minutes")},"")'
            agg = f"ROUND(MEDIAN({inner}),2)" if key == "median_minutes" else f"MAX({inner})"
            return f'{{=IF({replied}=0,"",{agg})}}', True
        if key == "on_site":
            return "=" + self.count(flt, ("on_site", "是")), False
        prefix, _, rest = key.partition(":")
        if prefix == "svc":
            return "=" + self.count(flt, (rest, TICK)), False
        if prefix in SIMPLE:
            return "=" + self.count(flt, (SIMPLE[prefix], rest)), False
        raise KeyError(f"汇总没有“{key}”这一项的公式：请在 report_summary.Formulas 中补上")


def clock_line(config: Config) -> str:
    p = config.policy
    sla, warn = float(p["sla_minutes"]), float(p["warn_minutes"])
    limits = f"受理后 {sla:g} 分钟内联系为按时（恰好 {sla:g} 分钟算按时），超过 {warn:g} 分钟未联系为临近超时"
    if p.get("clock") == "working-hours":
        hours = "、".join(f"{a}–{b}" for a, b in p.get("working_hours", []))
        return f"时限口径：工作时间计时（{hours}，法定节假日和调休按日历），{limits}"
    return f"时限口径：自然时间连续计时（含夜间和节假日），{limits}"


def write_summary(book: Book, rows: list[SummaryRow], *, period: Period, config: Config,
                  detail_rows: int, cached_values: bool, window_count: int, warnings: list[str] = (),
                  below=None) -> None:
    """below(ws, row): writes more under the charts (the comparison with the previous period)."""
    figures: list[Figure] = figure_list()
    widths = [10, 36] + [max(6.5, min(12, len(f.label) * 2 + 1)) for f in figures]
    ws = book.sheet(SUMMARY_SHEET, widths, header_row=2, fit_width=False, scale=PRINT_SCALE, repeat_columns=2)
    ws.set_v_pagebreaks(page_breaks(widths, figures, PRINT_SCALE))
    group = config.data.get("group", {}).get("name", "")
    ws.write_string(0, 0, f"{group}综合受理月度汇总 {period.label}（{period.describe()}）", book.title)
    ws.write_string(1, 0, "；".join([clock_line(config), *warnings]), book.subtitle)
    book.headers(ws, 2, ["编码", "名称"] + [f.label for f in figures])
    ws.set_row(2, 30)
    ws.freeze_panes(FIRST_ROW, 2)
    fx = Formulas(detail_rows)
    for i, row in enumerate(rows):
        r = FIRST_ROW + i
        fmt_text = book.total_text if row.total else None
        book.text(ws, r, 0, row.code, fmt_text)
        book.text(ws, r, 1, row.name, fmt_text)
        for c, fig in enumerate(figures, start=2):
            formula, array = fx.formula(fig.key, row.filter)
            fmt = _format(book, fig.key, row.total)
            value = row.figures.get(fig.key) if cached_values else None
            cached = "" if value is None else value
            if array:
                ws.write_array_formula(r, c, r, c, formula, fmt, cached)
            else:
                ws.write_formula(r, c, formula, fmt, cached)
    _charts(book, ws, figures, window_count, FIRST_ROW + len(rows) - 1, FIRST_ROW + len(rows) + 2)
    if below is not None:
        below(ws, FIRST_ROW + len(rows) + 2 + CHART_ROWS)


def _format(book: Book, key: str, total: bool):
    if key in RATE_KEYS:
        return book.total_pct if total else book.pct
    if key in MINUTE_KEYS:
        return book.total_dec1 if total else book.dec1
    return book.total_int if total else None


CHART_ROWS = 18          # the charts are 320 px high: about 16 rows of the default height


def _charts(book: Book, ws, figures: list[Figure], windows: int, group_row: int, at_row: int) -> None:
    """On-time rate per window, and the group's requests per service, both read from the table."""
    if windows == 0:
        return
    font = {"name": book.header.font_name}
    keys = [f.key for f in figures]
    rate_col = keys.index("on_time_rate") + 2
    first, last = FIRST_ROW, FIRST_ROW + windows - 1
    rate = book.wb.add_chart({"type": "column"})
    rate.add_series({"name": "按时率", "categories": [SUMMARY_SHEET, first, 1, last, 1],
                     "values": [SUMMARY_SHEET, first, rate_col, last, rate_col],
                     "data_labels": {"value": True, "num_format": "0%", "font": font}})
    rate.set_title({"name": "各窗口2小时内联系按时率", "name_font": {**font, "size": 12}})
    rate.set_y_axis({"min": 0, "max": 1, "num_format": "0%", "num_font": font})
    rate.set_x_axis({"num_font": font})
    rate.set_legend({"none": True})
    rate.set_size({"width": 720, "height": 320})
    ws.insert_chart(at_row, 1, rate)
    svc = [keys.index(f"svc:{c.key}") + 2 for c in SERVICE_COLUMNS]
    services = book.wb.add_chart({"type": "column"})
    services.add_series({"name": "受理数", "categories": [SUMMARY_SHEET, 2, svc[0], 2, svc[-1]],
                         "values": [SUMMARY_SHEET, group_row, svc[0], group_row, svc[-1]],
                         "data_labels": {"value": True, "font": font}})
    services.set_title({"name": "各项服务受理数（集团合计）", "name_font": {**font, "size": 12}})
    services.set_x_axis({"num_font": font})
    services.set_y_axis({"num_font": font, "min": 0})
    services.set_legend({"none": True})
    services.set_size({"width": 560, "height": 320})
    ws.insert_chart(at_row, 1, services, {"x_offset": 740})


def print_group(key: str) -> str:
    """Figures printed together: services with the total, install types, channels, timeliness, results."""
    prefix = key.partition(":")[0]
    if prefix in ("received", "svc", "type", "channel", "result"):
        return "svc" if prefix == "received" else prefix
    return "time" if key in ("on_time", "on_time_rate", *MINUTE_KEYS, "overdue") else "other"


def page_breaks(widths: list[float], figures: list[Figure], scale: int) -> list[int]:
    """Columns before which a printed page of 汇总 starts, so that each page holds whole groups of figures
    beside the repeated code and name columns at the given scale."""
    room = PRINTABLE_CM * 100 / scale - sum(column_cm(w) for w in widths[:2])
    breaks, used, previous = [], 0.0, None
    for c, f in enumerate(figures, start=2):
        group = print_group(f.key)
        if group != previous:
            size = sum(column_cm(widths[i + 2]) for i, g in enumerate(figures) if print_group(g.key) == group)
            if used and used + size > room:
                breaks.append(c)
                used = 0.0
            previous = group
        used += column_cm(widths[c])
    return breaks


def column_of(key: str) -> str:
    """The 汇总 column letter of a figure (for tests and readers)."""
    return column_letter([f.key for f in figure_list()].index(key) + 3)
