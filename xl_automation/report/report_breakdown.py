"""The report's 三.5 sheet (business by type and result, handling times, bounced cases, reasons) and one
assessment sheet per supervising unit (三.3)."""
from __future__ import annotations


from xl_automation.rules.assessment import Score
from xl_automation.rules.breakdown import COUNTS, Breakdown, Handling, transfers_of
from xl_automation.model.labels import INFO_WINDOW_CODE as WINDOW, INFO_WINDOW_NAME as WINDOW_NAME
from xl_automation.report.list_assessment import write_assessment
from xl_automation.report.list_table import Lists, H

from xl_automation.rules.report_info import WindowStatus

BREAKDOWN_SHEET = "业务分类"
UNIT_SHEET_PREFIX = "考核-"


def unit_sheet_name(supervisor: str) -> str:
    """Excel allows 31 characters, no []:*?/\\ and no apostrophe at either end in a sheet name; the unit's
    name shortened to fit (control characters dropped)."""
    name = supervisor
    for long, short in (("淄博市博山区", ""), ("淄博市", ""), ("有限责任公司", "")):
        name = name.replace(long, short)
    name = "".join(ch for ch in name if ch not in "[]:*?/\\" and not (ch < " " or "\x7f" <= ch <= "\x9f"))
    return (UNIT_SHEET_PREFIX + name)[:31].rstrip("'")


def unit_sheet_names(units: list[str]) -> list[str]:
    """A sheet name for each unit, none the same as another (Excel compares them ignoring case): units
    alike in their shortened names are told apart by (2), (3), …"""
    names: list[str] = []
    taken: set[str] = set()
    for unit in units:
        base = name = unit_sheet_name(unit)
        n = 1
        while name.lower() in taken:
            n += 1
            name = base[:31 - len(f"({n})")].rstrip("'") + f"({n})"
        taken.add(name.lower())
        names.append(name)
    return names


def write_breakdown(lists: Lists, b: Breakdown) -> None:
    book = lists.book
    ws = book.sheet(BREAKDOWN_SHEET, [14, 16, 9, 9, 9, 9, 9, 9, 40, 9], header_row=None)
    ws.write_string(0, 0, "业务分类统计（通知三.5）：按业务类型和报装类型的受理及办理结果", book.title)
    ws.write_string(1, 0, "本期受理的业务（结转的往期业务在受理当期统计）；一件同时申请几项业务的，分别计入各项业务；"
                          "“转办”含已转办和经联络群由其他窗口办理的", book.subtitle)
    r = lists.table(ws, 2, ["业务类型", "报装类型"] + [label for _, label in COUNTS], (
        [svc, kind] + [c[k] for k, _ in COUNTS] for svc, kind, c in b.by_service))
    book.row(ws, r, ["全部受理", "合计"] + [b.total[k] for k, _ in COUNTS], book.total_int)
    r += 2
    ws.write_string(r, 0, "办理用时（受理→办结，小时；仅计已办结且两个时间齐全的）", book.section)
    r = _handling(lists, ws, r + 1, "窗口", b.handling_by_window + [b.handling_total])
    r = _handling(lists, ws, r + 1, "业务类型", b.handling_by_service)
    ws.write_string(r + 1, 0, f"多次转办（转办两次及以上）：{len(b.bounced)} 件", book.section)
    r = lists.table(ws, r + 2, [WINDOW, WINDOW_NAME, H["request_id"], H["received_at"], "转办次数", "办理窗口",
                                H["transferred_to"], H["result"]], (
        [d.window, lists.name_of(d.window), d.values.get("request_id"), d.values.get("received_at"),
         transfers_of(d), "、".join(d.handled_by), book.masked("transferred_to", d.values.get("transferred_to")),
         d.values.get("result")]
        for d in sorted(b.bounced, key=lists.by_window_time)))
    ws.write_string(r + 1, 0, "无法办理原因分类（分类规则见配置 reason_categories）", book.section)
    rows = []
    for g in b.reasons:
        rows.append([g.category, "", g.count])
        rows += [["", book.masked("unresolved_reason", raw), n] for raw, n in sorted(g.raw.items(), key=lambda x: (-x[1], x[0]))]
    lists.table(ws, r + 2, ["类别", "原因原文", "件数"], rows)


def _handling(lists: Lists, ws, r: int, label: str, rows: list[Handling]) -> int:
    return lists.table(ws, r, [label, "已办结", "平均(小时)", "中位数(小时)"], (
        [h.label, h.closed, h.average, h.median] for h in rows))


def write_unit_assessments(lists: Lists, statuses: list["WindowStatus"], scores: dict[str, Score],
                           figs: dict[str, dict]) -> list[str]:
    """The 考核 table once per supervising unit, for its own windows (三.3); returns the sheet names."""
    units = list(dict.fromkeys(s.supervisor for s in statuses))
    names = unit_sheet_names(units)
    for unit, name in zip(units, names):
        write_assessment(lists, [s for s in statuses if s.supervisor == unit], scores, figs, sheet=name,
                         title=f"{unit} 月度考核表")
    return names
