"""The 说明 sheet: the period, the rules applied, and the row counts reconciled from each ledger to the report."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from xl_automation import __version__
from xl_automation.model.labels import INFO_WINDOW_CODE as WINDOW
from xl_automation.month_end.collect import Collected
from xl_automation.report.list_table import Lists
from xl_automation.report.report_summary import clock_line
from xl_automation.rules.consolidate import Consolidation, fate_key
from xl_automation.rules.periods import due_day

NOTES_SHEET = "说明"


def reconcile(src, fate: dict[str, int]) -> list[Any]:
    """One window's rows from its own ledger to the report; a loss anywhere upstream shows as 不相符."""
    m = src.manifest or {}
    read = len(src.rows)
    ledger_rows = m.get("rows_in_ledger", read)
    declared = m.get("rows", read)
    left = m.get("left_out")
    left_n = len(left) if isinstance(left, list) else None
    checks = [declared == read, fate.get("rows_in", read) == read,
              read == fate.get("details", 0) + fate.get("merged", 0) + fate.get("excluded", 0)]
    if left_n is not None:
        checks.append(ledger_rows == left_n + declared)
    verdict = "相符" if all(checks) else "不相符：有行在报送或读取时丢失，请核对该窗口的台账和报送件"
    if left_n is None and ledger_rows != declared:
        verdict = f"旧版报送清单未逐行列明报送时未报送的 {ledger_rows - declared} 行"
    return [src.window, src.path.name, ledger_rows, left_n if left_n is not None else ledger_rows - declared, declared,
            read, fate.get("details", 0), fate.get("merged", 0), fate.get("excluded", 0), verdict]


def write_notes(lists: Lists, consolidation: Consolidation, collected: Collected, now: datetime, due: datetime) -> None:
    p, period = lists.config.policy, consolidation.period
    ws = lists.book.sheet(NOTES_SHEET, [22, 70, 20, 12, 18, 10])
    ws.write_string(0, 0, "说明", lists.book.title)
    items = [
        ("统计周期", period.label),
        ("周期起止", f"{period.start:%Y-%m-%d %H:%M} 至 {period.end:%Y-%m-%d %H:%M}（不含），即 {period.describe()}"),
        ("时限口径", clock_line(lists.config)),
        ("时限（分钟）", f"{float(p['sla_minutes']):g}"), ("临近超时提示（分钟）", f"{float(p['warn_minutes']):g}"),
    ]
    if p.get("clock") == "working-hours":
        items.append(("工作时间", "、".join(f"{a}–{b}" for a, b in p.get("working_hours", []))))
    items += [
        ("统计周期起始日", f"每月 {p.get('period_start_day', 25)} 日"),
        ("报送截止", f"每月 {due_day(p)} 日之前（本期 {due:%Y-%m-%d %H:%M} 前）"),
        ("个人信息", "完整显示（按要求未脱敏）" if lists.book.show_personal_info else "已脱敏：姓名、联系方式（单位名称不脱敏）"),
        ("生成时间", now), ("程序版本", f"xl_automation {__version__}"), ("配置", lists.config.source),
    ]
    items += [("提醒", w) for w in consolidation.warnings]
    r = lists.table(ws, 1, ["项目", "内容"], items)
    c = consolidation
    rows_excluded = len(c.excluded)
    read_details = len(c.details) - c.from_archive      # origins rebuilt from the archive were not read now
    balanced = c.rows_in == read_details + c.merged + rows_excluded
    ws.write_string(r + 1, 0, "行数核对", lists.book.section)
    r = lists.table(ws, r + 2, ["读入行数", "明细行数（不含归档重建的原受理记录）+ 合并的转办行 + 未计入本期的行", "结果"], [[
        c.rows_in, f"{read_details} + {c.merged} + {rows_excluded} = {read_details + c.merged + rows_excluded}",
        "相符" if balanced else "不相符：请检查汇总程序"]])
    ws.write_string(r + 1, 0, "逐窗口行数核对：台账行数 = 报送时未报送 + 报送件行数；报送件行数 = 明细 + 合并 + 未计入本期",
                    lists.book.section)
    r = lists.table(ws, r + 2, [WINDOW, "文件", "台账行数", "报送时未报送", "报送件行数", "读入行数", "计入明细",
                               "转办合并", "未计入本期", "结果"],
                   (reconcile(src, c.fate.get(fate_key(src), {}))
                    for src in collected.sources + list(getattr(collected, "earlier", ()))))
    ws.write_string(r + 1, 0, "输入文件", lists.book.section)
    sources = [(s, "采用") for s in collected.sources] + [(s, f"{s.for_period} 补交（按归档计补报）")
                                                          for s in getattr(collected, "earlier", ())] \
        + [(s, "已被重新报送替换") for s in collected.superseded]
    lists.table(ws, r + 2, [WINDOW, "文件", "sha256", "类型", "报送时间", "状态"], (
        [s.window, s.path.name, s.sha256, "报送件" if s.kind == "submission" else "台账", s.submitted_at, state]
        for s, state in sources))
