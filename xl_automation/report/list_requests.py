"""The report's lists of requests: 超时清单, 未办结及原因, 跨辖区转办 (a row per consolidated request)."""
from __future__ import annotations

from collections import Counter, defaultdict

from xl_automation.model.labels import INFO_WINDOW_CODE as WINDOW, INFO_WINDOW_NAME as WINDOW_NAME
from xl_automation.report.list_table import H, Lists
from xl_automation.report.report_detail import CARRIED, YES
from xl_automation.rules.consolidate import Detail
from xl_automation.rules.reasons import is_placeholder, is_refusal

OVERDUE_SHEET, UNRESOLVED_SHEET, TRANSFER_SHEET = "超时清单", "未办结及原因", "跨辖区转办"
NO_REASON = "（未填写原因）"


def write_overdue(lists: Lists, details: list[Detail]) -> None:
    headers = [WINDOW, WINDOW_NAME, H["request_id"], H["received_at"], H["replied_at"], H["response_minutes"],
               "超时(分钟)", H["sla_status"], H["first_responder"], H["applicant"], H["phone"], CARRIED]
    ws = lists.book.sheet(OVERDUE_SHEET, [9, 14, 20, 16, 16, 10, 10, 10, 10, 22, 15, 6], header_row=0)
    ws.freeze_panes(1, 0)
    rows = sorted((d for d in details if d.clock.overdue), key=lists.by_window_time)
    ws.autofilter(0, 0, max(1, len(rows)), len(headers) - 1)
    ws = lists.book.spool(ws, 0)       # as long as the month's overdue requests: the fast path
    lists.table(ws, 0, headers, (
        [d.window, lists.name_of(d.window), d.values.get("request_id"), d.values.get("received_at"),
         d.values.get("replied_at"), d.clock.minutes, -d.clock.margin, d.clock.status,
         d.values.get("first_responder"), *lists.personal(d), YES if d.carried else None] for d in rows))


def write_unresolved(lists: Lists, details: list[Detail]) -> None:
    refusals = tuple(lists.config.policy.get("refusal_phrases", ()))
    open_ = [d for d in details if d.values.get("result") in ("办理中", "无法办理")]
    # a number quoted in a reason is masked before grouping: reasons differing in it alone are one row
    reason = {id(d): NO_REASON if is_placeholder(d.values.get("unresolved_reason"))
              else lists.book.masked("unresolved_reason", str(d.values["unresolved_reason"]).strip()) for d in open_}
    counts: dict[str, Counter] = defaultdict(Counter)
    for d in open_:
        counts[reason[id(d)]][d.values["result"]] += 1
    ranked = sorted(counts, key=lambda k: (-sum(counts[k].values()), k))
    refusal = {k: "是" if k != NO_REASON and is_refusal(k, refusals) else "" for k in ranked}
    ws = lists.book.spool(lists.book.sheet(UNRESOLVED_SHEET, [36, 14, 20, 16, 10, 36, 8, 10, 22, 15]), 0)
    ws.write_string(0, 0, "未办结及原因（办理中、无法办理）", lists.book.title)
    ws.write_string(1, 0, "“属推脱”为“是”的原因以业务范围推脱，违反无差别受理要求", lists.book.subtitle)
    r = lists.table(ws, 2, [H["unresolved_reason"], "办理中", "无法办理", "合计", "属推脱"], (
        [k, counts[k]["办理中"], counts[k]["无法办理"], sum(counts[k].values()), refusal[k]] for k in ranked))
    rank = {k: i for i, k in enumerate(ranked)}
    rows = sorted(open_, key=lambda d: (rank[reason[id(d)]], *lists.by_window_time(d)))
    ws.write_string(r + 1, 0, "逐条明细", lists.book.section)
    lists.table(ws, r + 2, [WINDOW, WINDOW_NAME, H["request_id"], H["received_at"], H["result"],
                           H["unresolved_reason"], "属推脱", H["first_responder"], H["applicant"], H["phone"]], (
        [d.window, lists.name_of(d.window), d.values.get("request_id"), d.values.get("received_at"),
         d.values.get("result"), reason[id(d)], refusal[reason[id(d)]], d.values.get("first_responder"),
         *lists.personal(d)] for d in rows))


def write_transfers(lists: Lists, details: list[Detail]) -> None:
    ws = lists.book.spool(lists.book.sheet(TRANSFER_SHEET, [10, 14, 20, 16, 16, 40, 10, 10]), 0)
    ws.write_string(0, 0, "跨辖区转办", lists.book.title)
    ws.write_string(1, 0, "联络群转入：同一受理编号在几个窗口登记，按首问负责合并为受理窗口的一条", lists.book.section)
    merged = sorted((d for d in details if d.handled_by), key=lists.by_window_time)
    r = lists.table(ws, 2, ["受理窗口", WINDOW_NAME, H["request_id"], H["received_at"], "办理窗口", "合并行",
                           H["result"], H["sla_status"]], (
        [d.window, lists.name_of(d.window), d.values.get("request_id"), d.values.get("received_at"),
         "、".join(d.handled_by), "；".join(d.merged_rows), d.values.get("result"), d.clock.status]
        for d in merged))
    ws.write_string(r + 1, 0, "办理结果为“已转办”", lists.book.section)
    moved = sorted((d for d in details if d.values.get("result") == "已转办"), key=lists.by_window_time)
    lists.table(ws, r + 2, ["受理窗口", WINDOW_NAME, H["request_id"], H["received_at"], H["transferred_to"],
                           H["first_responder"], H["sla_status"]], (
        [d.window, lists.name_of(d.window), d.values.get("request_id"), d.values.get("received_at"),
         lists.book.masked("transferred_to", d.values.get("transferred_to")), d.values.get("first_responder"),
         d.clock.status] for d in moved))
