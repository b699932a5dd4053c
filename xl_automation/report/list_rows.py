"""The report's lists of rows not counted as they came: 未计入本期 (read but of another period) and 疑似重复."""
from __future__ import annotations

from xl_automation.model.labels import INFO_WINDOW_CODE as WINDOW, INFO_WINDOW_NAME as WINDOW_NAME
from xl_automation.report.list_table import H, Lists
from xl_automation.rules.consolidate import Consolidation

EXCLUDED_SHEET, SUSPECTS_SHEET = "未计入本期", "疑似重复"


def write_excluded(lists: Lists, consolidation: Consolidation) -> None:
    """Every row read but not counted in this period, by name: a loss is never only a total."""
    ws = lists.book.sheet(EXCLUDED_SHEET, [9, 14, 30, 7, 20, 48], header_row=2)
    ws.write_string(0, 0, f"未计入本期的行 {consolidation.period.label}（{consolidation.period.describe()}）",
                    lists.book.title)
    ws.write_string(1, 0, "报送文件中读到、但不属于本统计周期的行；报送时未报送的行见“说明”的行数核对",
                    lists.book.subtitle)
    rows = sorted(consolidation.excluded, key=lambda x: (lists.order.get(x.window, len(lists.order)), x.file,
                                                         x.source_row))
    ws.freeze_panes(3, 0)
    ws = lists.book.spool(ws, 2)
    lists.table(ws, 2, [WINDOW, WINDOW_NAME, "文件", "行", H["request_id"], "原因"], (
        [x.window, lists.name_of(x.window), x.file, x.source_row, x.request_id, x.reason] for x in rows))


def write_suspects(lists: Lists, consolidation: Consolidation) -> None:
    ws = lists.book.sheet(SUSPECTS_SHEET, [30, 9, 14, 20, 28, 7, 9, 28, 7], header_row=2)
    ws.write_string(0, 0, "疑似重复及受理编号冲突", lists.book.title)
    ws.write_string(1, 0, "两条记录都已计入明细，未合并：请核实是否同一申请重复登记，或受理编号用重", lists.book.subtitle)
    ws.freeze_panes(3, 0)
    ws = lists.book.spool(ws, 2)
    lists.table(ws, 2, ["类型", WINDOW, WINDOW_NAME, H["request_id"], "文件", "行", "另一条的窗口", "另一条的文件",
                       "另一条的行"], (
        [x.kind, x.window, lists.name_of(x.window), x.request_id, x.file, x.source_row, x.other_window,
         x.other_file, x.other_row] for x in consolidation.suspects))
