"""The report's lists about the files: 报送情况 (every window, on time or not, and the files not used) and
校验问题 (each submission's findings, personal values masked)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from xl_automation.model.labels import INFO_WINDOW_CODE as WINDOW, INFO_WINDOW_NAME as WINDOW_NAME, NEWEST_UNUSABLE, \
    SEVERITY_ZH
from xl_automation.month_end.collect import Collected
from xl_automation.report.list_rows import EXCLUDED_SHEET
from xl_automation.report.list_table import H, Lists
from xl_automation.report.report_book import PERSONAL_HEADERS
from xl_automation.rules.consolidate import Consolidation
from xl_automation.rules.report_info import WindowStatus

SUBMISSION_SHEET, FINDINGS_SHEET = "报送情况", "校验问题"
RESUBMISSION_MISSING = "重新报送后不再出现的需求（被替换的文件中有、最后一次报送中没有；以最后一次报送为准，未计入，请核对是否误删）"
RESUBMISSION_UNCHECKED = "无法核对的被替换报送（文件无法读取，其中的需求未能与最后一次报送比对）"


def write_submissions(lists: Lists, statuses: list["WindowStatus"], collected: Collected, consolidation: Consolidation,
                due: datetime) -> None:
    ws = lists.book.sheet(SUBMISSION_SHEET, [10, 28, 28, 10, 16, 9, 28, 30, 8, 18, 7, 7, 7])
    period = consolidation.period
    ws.write_string(0, 0, f"报送情况 {period.label}", lists.book.title)
    tally = Counter(s.label for s in statuses)
    ws.write_string(1, 0, f"报送截止：{due:%Y-%m-%d %H:%M} 前；应报送 {len(statuses)} 个窗口，"
                          f"按时 {tally['已报送']}，逾期 {tally['逾期报送']}，未报送 {tally['未报送']}",
                    lists.book.subtitle)
    r = lists.table(ws, 2, [WINDOW, WINDOW_NAME, "所属公司", "状态", "报送时间", "重新报送", "被替换的文件", "文件",
                           "类型", "sha256", "行数", "错误数", "提醒数"], (
        [s.code, s.name, s.company, s.label, s.submitted_at, "是" if s.resubmitted else "否" if s.submitted else None,
         "、".join(s.superseded_files), s.file, s.kind_label, s.sha256,
         s.rows if s.submitted else None, s.errors if s.submitted else None,
         s.warnings if s.submitted else None] for s in statuses))
    if collected.superseded or getattr(collected, "superseded_unread", None) \
            or getattr(consolidation, "resubmission_missing", None):
        r = _resubmission_missing(lists, ws, r, collected, consolidation)
    newest_unusable = getattr(collected, "newest_unusable", [])
    if newest_unusable:
        ws.write_string(r + 1, 0, NEWEST_UNUSABLE, lists.book.section)
        r = lists.table(ws, r + 2, [WINDOW, WINDOW_NAME, "无法使用的报送", "原因", "本期采用的报送"], (
            [x["window"], lists.name_of(x["window"]), x["file"], x["reason"], x["in_force"]] for x in newest_unusable))
    if collected.earlier:
        # late submissions of an earlier period found in this folder: their new requests are this report's 补报
        ws.write_string(r + 1, 0, "补交的往期报送（其中未报过的需求计为本期补报）", lists.book.section)
        r = lists.table(ws, r + 2, [WINDOW, "所属周期", "报送时间", "文件", "类型", "sha256", "行数"], (
            [s.window, s.for_period, s.submitted_at, s.path.name, "报送文件" if s.kind == "submission" else "台账",
             s.sha256, len(s.rows)] for s in collected.earlier))
    ws.write_string(r + 1, 0, "未采用的文件", lists.book.section)
    # the small tables start in column B, wide enough for file names; long reasons run on to the right
    r = lists.table(ws, r + 2, ["文件", "原因"], ([x.get("file", ""), x.get("reason", "")] for x in collected.rejected), 1)
    ws.write_string(r + 1, 0, "跳过的文件", lists.book.section)
    r = lists.table(ws, r + 2, ["文件", "原因"], ([x.get("file", ""), x.get("reason", "")] for x in collected.skipped), 1)
    ws.write_string(r + 1, 0, f"未计入本期的行（逐行见“{EXCLUDED_SHEET}”）", lists.book.section)
    excluded = Counter(x.reason for x in consolidation.excluded)
    lists.table(ws, r + 2, ["行数", "原因"], ([n, k] for k, n in excluded.most_common()), 1)


def _resubmission_missing(lists: Lists, ws, r: int, collected: Collected, consolidation: Consolidation) -> int:
    """A resubmission against the copies it superseded: what they held and the newest copy does not, by row."""
    ws.write_string(r + 1, 0, RESUBMISSION_MISSING, lists.book.section)
    missing = sorted(getattr(consolidation, "resubmission_missing", []),
                     key=lambda m: (lists.order.get(m.window, len(lists.order)), m.file, m.row))
    r = lists.table(ws, r + 2, [WINDOW, WINDOW_NAME, "被替换的文件", "行", H["received_at"], H["result"],
                                H["request_id"], "最后一次报送的文件"], (
        [m.window, lists.name_of(m.window), m.file, m.row, m.received_at, m.result, m.request_id, m.newest]
        for m in missing))
    unread = getattr(collected, "superseded_unread", [])
    if unread:
        ws.write_string(r + 1, 0, RESUBMISSION_UNCHECKED, lists.book.section)
        # the newest copy is the window's 文件 above; the reason, long, runs on to the right
        r = lists.table(ws, r + 2, [WINDOW, WINDOW_NAME, "被替换的文件", "原因"], (
            [x["window"], lists.name_of(x["window"]), x["file"], x["reason"]] for x in unread))
    return r


def write_findings(lists: Lists, collected: Collected) -> None:
    headers = [WINDOW, "文件", "严重程度", "行", "单元格", "列", "值", "问题", "处理建议"]
    ws = lists.book.sheet(FINDINGS_SHEET, [9, 28, 8, 6, 8, 14, 20, 50, 44], header_row=0)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(1, sum(len(src.findings) for src in collected.sources)), len(headers) - 1)
    ws = lists.book.spool(ws, 0)
    lists.table(ws, 0, headers, (
        [src.window, src.path.name, SEVERITY_ZH.get(f.severity, f.severity), f.row, f.cell, f.column,
         *_masked_finding(lists, f)] for src in collected.sources for f in src.findings))


def _masked_finding(lists: Lists, f) -> list[Any]:
    """Value, message and hint; a phone or name quoted from a personal column is masked in both."""
    value, message = f.value, f.message
    key = PERSONAL_HEADERS.get(f.column or "")
    if key and not lists.book.show_personal_info and value not in (None, ""):
        raw = str(value)
        value = lists.book.masked(key, raw)
        message = message.replace(raw, value)
    return [value, message, f.hint]
