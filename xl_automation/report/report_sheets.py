"""The report's list sheets: overdue, unresolved, transfers, submissions, assessment, findings, notes."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, Iterable, Sequence

from xl_automation import __version__

from xl_automation.report import report_book
from xl_automation.rules.assessment import Score
from xl_automation.month_end.collect import Collected
from xl_automation.model.config import Config, Window
from xl_automation.rules.consolidate import Consolidation, Detail, fate_key
from xl_automation.model.labels import INFO_WINDOW_CODE as WINDOW, INFO_WINDOW_NAME as WINDOW_NAME, SEVERITY_ZH
from xl_automation.report.report_book import PERSONAL_HEADERS, Book
from xl_automation.rules.periods import due_day
from xl_automation.rules.reasons import is_placeholder, is_refusal
from xl_automation.report.report_detail import CARRIED, YES
from xl_automation.report.report_summary import clock_line
from xl_automation.model.schema import BY_KEY

from xl_automation.rules.report_info import WindowStatus

OVERDUE_SHEET, UNRESOLVED_SHEET, TRANSFER_SHEET = "超时清单", "未办结及原因", "跨辖区转办"
SUBMISSION_SHEET, ASSESSMENT_SHEET, FINDINGS_SHEET, NOTES_SHEET = "报送情况", "考核", "校验问题", "说明"
EXCLUDED_SHEET, SUSPECTS_SHEET = "未计入本期", "疑似重复"
NO_REASON = "（未填写原因）"
NONE_ROW = "（无）"
WEIGHT_LABELS = {"timeliness": "2小时内联系", "closure": "办结", "reasons": "无法办理原因说明", "submission": "按时报送"}
H = {k: BY_KEY[k].header for k in BY_KEY}
# the 考核 sheet's figure columns: the per-window numbers of `consolidate --json`, as cached values
ASSESSMENT_FIGURES = (("received", "本期受理"), ("carried_over", "结转"), ("on_time", "按时联系"),
                      ("late", "超时联系"), ("overdue_open", "超时未联系"), ("on_time_rate", "按时率"),
                      ("result:已办结", "办结"), ("carried_closed", "结转办结"), ("result:无法办理", "无法办理"),
                      ("unable_with_reason", "其中说明原因"), ("transferred", "转办"))


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


class Lists:
    """Writes the list sheets of one report; holds what they share (windows, order, masking)."""

    def __init__(self, book: Book, config: Config):
        self.book = book
        self.config = config
        self.windows: dict[str, Window] = {w.code: w for w in config.windows}
        self.order = {w.code: i for i, w in enumerate(config.windows)}

    def name_of(self, code: str) -> str:
        w = self.windows.get(code)
        return w.name if w else ""

    def by_window_time(self, d: Detail) -> tuple[int, datetime]:
        received = d.values.get("received_at")
        return self.order.get(d.window, len(self.order)), received if isinstance(received, datetime) else datetime.max

    def table(self, ws, r: int, headers: Sequence[str], rows: Iterable[Sequence[Any]], col: int = 0) -> int:
        """Header and rows from row r; returns the row after the table (a 无 row when empty)."""
        self.book.headers(ws, r, headers, col)
        r += 1
        start = r
        rows = iter(rows)
        for values in rows:
            if r >= report_book.MAX_ROWS - 1:       # keep the sheet's last row for saying what was left out
                left = 1 + sum(1 for _ in rows)
                ws.write_string(r, 0, f"另有 {left} 行未列出：超过 Excel 工作表 {report_book.MAX_ROWS:,} 行的上限")
                return r + 1
            self.book.row(ws, r, values, first_col=col)
            r += 1
        if r == start:
            ws.write_string(r, col, NONE_ROW)
            r += 1
        return r

    def personal(self, d: Detail) -> list[Any]:
        return [self.book.masked("applicant", d.values.get("applicant")),
                self.book.masked("phone", d.values.get("phone"))]

    # --- 超时清单 ---------------------------------------------------------------
    def overdue(self, details: list[Detail]) -> None:
        headers = [WINDOW, WINDOW_NAME, H["request_id"], H["received_at"], H["replied_at"], H["response_minutes"],
                   "超时(分钟)", H["sla_status"], H["first_responder"], H["applicant"], H["phone"], CARRIED]
        ws = self.book.sheet(OVERDUE_SHEET, [9, 14, 20, 16, 16, 10, 10, 10, 10, 22, 15, 6], header_row=0)
        ws.freeze_panes(1, 0)
        rows = sorted((d for d in details if d.clock.overdue), key=self.by_window_time)
        ws.autofilter(0, 0, max(1, len(rows)), len(headers) - 1)
        ws = self.book.spool(ws, 0)       # as long as the month's overdue requests: the fast path
        self.table(ws, 0, headers, (
            [d.window, self.name_of(d.window), d.values.get("request_id"), d.values.get("received_at"),
             d.values.get("replied_at"), d.clock.minutes, -d.clock.margin, d.clock.status,
             d.values.get("first_responder"), *self.personal(d), YES if d.carried else None] for d in rows))

    # --- 未办结及原因 -----------------------------------------------------------
    def unresolved(self, details: list[Detail]) -> None:
        refusals = tuple(self.config.policy.get("refusal_phrases", ()))
        open_ = [d for d in details if d.values.get("result") in ("办理中", "无法办理")]
        reason = {id(d): NO_REASON if is_placeholder(d.values.get("unresolved_reason"))
                  else str(d.values["unresolved_reason"]).strip() for d in open_}
        counts: dict[str, Counter] = defaultdict(Counter)
        for d in open_:
            counts[reason[id(d)]][d.values["result"]] += 1
        ranked = sorted(counts, key=lambda k: (-sum(counts[k].values()), k))
        refusal = {k: "是" if k != NO_REASON and is_refusal(k, refusals) else "" for k in ranked}
        ws = self.book.spool(self.book.sheet(UNRESOLVED_SHEET, [36, 14, 20, 16, 10, 36, 8, 10, 22, 15]), 0)
        ws.write_string(0, 0, "未办结及原因（办理中、无法办理）", self.book.title)
        ws.write_string(1, 0, "“属推脱”为“是”的原因以业务范围推脱，违反无差别受理要求", self.book.subtitle)
        r = self.table(ws, 2, [H["unresolved_reason"], "办理中", "无法办理", "合计", "属推脱"], (
            [k, counts[k]["办理中"], counts[k]["无法办理"], sum(counts[k].values()), refusal[k]] for k in ranked))
        rank = {k: i for i, k in enumerate(ranked)}
        rows = sorted(open_, key=lambda d: (rank[reason[id(d)]], *self.by_window_time(d)))
        ws.write_string(r + 1, 0, "逐条明细", self.book.section)
        self.table(ws, r + 2, [WINDOW, WINDOW_NAME, H["request_id"], H["received_at"], H["result"],
                               H["unresolved_reason"], "属推脱", H["first_responder"], H["applicant"], H["phone"]], (
            [d.window, self.name_of(d.window), d.values.get("request_id"), d.values.get("received_at"),
             d.values.get("result"), reason[id(d)], refusal[reason[id(d)]], d.values.get("first_responder"),
             *self.personal(d)] for d in rows))

    # --- 跨辖区转办 -------------------------------------------------------------
    def transfers(self, details: list[Detail]) -> None:
        ws = self.book.spool(self.book.sheet(TRANSFER_SHEET, [10, 14, 20, 16, 16, 40, 10, 10]), 0)
        ws.write_string(0, 0, "跨辖区转办", self.book.title)
        ws.write_string(1, 0, "联络群转入：同一受理编号在几个窗口登记，按首问负责合并为受理窗口的一条", self.book.section)
        merged = sorted((d for d in details if d.handled_by), key=self.by_window_time)
        r = self.table(ws, 2, ["受理窗口", WINDOW_NAME, H["request_id"], H["received_at"], "办理窗口", "合并行",
                               H["result"], H["sla_status"]], (
            [d.window, self.name_of(d.window), d.values.get("request_id"), d.values.get("received_at"),
             "、".join(d.handled_by), "；".join(d.merged_rows), d.values.get("result"), d.clock.status]
            for d in merged))
        ws.write_string(r + 1, 0, "办理结果为“已转办”", self.book.section)
        moved = sorted((d for d in details if d.values.get("result") == "已转办"), key=self.by_window_time)
        self.table(ws, r + 2, ["受理窗口", WINDOW_NAME, H["request_id"], H["received_at"], H["transferred_to"],
                               H["first_responder"], H["sla_status"]], (
            [d.window, self.name_of(d.window), d.values.get("request_id"), d.values.get("received_at"),
             d.values.get("transferred_to"), d.values.get("first_responder"), d.clock.status] for d in moved))

    # --- 未计入本期 -------------------------------------------------------------
    def excluded(self, consolidation: Consolidation) -> None:
        """Every row read but not counted in this period, by name: a loss is never only a total."""
        ws = self.book.sheet(EXCLUDED_SHEET, [9, 14, 30, 7, 20, 48], header_row=2)
        ws.write_string(0, 0, f"未计入本期的行 {consolidation.period.label}（{consolidation.period.describe()}）",
                        self.book.title)
        ws.write_string(1, 0, "报送文件中读到、但不属于本统计周期的行；报送时未报送的行见“说明”的行数核对",
                        self.book.subtitle)
        rows = sorted(consolidation.excluded, key=lambda x: (self.order.get(x.window, len(self.order)), x.file,
                                                             x.source_row))
        ws.freeze_panes(3, 0)
        ws = self.book.spool(ws, 2)
        self.table(ws, 2, [WINDOW, WINDOW_NAME, "文件", "行", H["request_id"], "原因"], (
            [x.window, self.name_of(x.window), x.file, x.source_row, x.request_id, x.reason] for x in rows))

    # --- 疑似重复 ---------------------------------------------------------------
    def suspects(self, consolidation: Consolidation) -> None:
        ws = self.book.sheet(SUSPECTS_SHEET, [30, 9, 14, 20, 28, 7, 9, 28, 7], header_row=2)
        ws.write_string(0, 0, "疑似重复及受理编号冲突", self.book.title)
        ws.write_string(1, 0, "两条记录都已计入明细，未合并：请核实是否同一申请重复登记，或受理编号用重", self.book.subtitle)
        ws.freeze_panes(3, 0)
        ws = self.book.spool(ws, 2)
        self.table(ws, 2, ["类型", WINDOW, WINDOW_NAME, H["request_id"], "文件", "行", "另一条的窗口", "另一条的文件",
                           "另一条的行"], (
            [x.kind, x.window, self.name_of(x.window), x.request_id, x.file, x.source_row, x.other_window,
             x.other_file, x.other_row] for x in consolidation.suspects))

    # --- 报送情况 ---------------------------------------------------------------
    def submissions(self, statuses: list["WindowStatus"], collected: Collected, consolidation: Consolidation,
                    due: datetime) -> None:
        ws = self.book.sheet(SUBMISSION_SHEET, [10, 28, 28, 10, 16, 9, 28, 30, 8, 18, 7, 7, 7])
        period = consolidation.period
        ws.write_string(0, 0, f"报送情况 {period.label}", self.book.title)
        tally = Counter(s.label for s in statuses)
        ws.write_string(1, 0, f"报送截止：{due:%Y-%m-%d %H:%M} 前；应报送 {len(statuses)} 个窗口，"
                              f"按时 {tally['已报送']}，逾期 {tally['逾期报送']}，未报送 {tally['未报送']}",
                        self.book.subtitle)
        r = self.table(ws, 2, [WINDOW, WINDOW_NAME, "所属公司", "状态", "报送时间", "重新报送", "被替换的文件", "文件",
                               "类型", "sha256", "行数", "错误数", "提醒数"], (
            [s.code, s.name, s.company, s.label, s.submitted_at, "是" if s.resubmitted else "否" if s.submitted else None,
             "、".join(s.superseded_files), s.file, s.kind_label, s.sha256,
             s.rows if s.submitted else None, s.errors if s.submitted else None,
             s.warnings if s.submitted else None] for s in statuses))
        ws.write_string(r + 1, 0, "未采用的文件", self.book.section)
        # the small tables start in column B, wide enough for file names; long reasons run on to the right
        r = self.table(ws, r + 2, ["文件", "原因"], ([x.get("file", ""), x.get("reason", "")] for x in collected.rejected), 1)
        ws.write_string(r + 1, 0, "跳过的文件", self.book.section)
        r = self.table(ws, r + 2, ["文件", "原因"], ([x.get("file", ""), x.get("reason", "")] for x in collected.skipped), 1)
        ws.write_string(r + 1, 0, f"未计入本期的行（逐行见“{EXCLUDED_SHEET}”）", self.book.section)
        excluded = Counter(x.reason for x in consolidation.excluded)
        self.table(ws, r + 2, ["行数", "原因"], ([n, k] for k, n in excluded.most_common()), 1)

    # --- 考核 -------------------------------------------------------------------
    def assessment(self, statuses: list["WindowStatus"], scores: dict[str, Score], figs: dict[str, dict],
                   sheet: str = ASSESSMENT_SHEET, title: str = "月度考核（及时性与办理情况）") -> None:
        """The group's table, or (sheet, title given) one supervising unit's windows only (三.3)."""
        a = self.config.data["assessment"]
        weights = a["weights"]
        ws = self.book.sheet(sheet, [10, 22, 30, 9] + [7] * len(ASSESSMENT_FIGURES) + [11] * 4 + [8, 8],
                             repeat_columns=2)
        ws.write_string(0, 0, title, self.book.title)
        shown = "，".join(f"{WEIGHT_LABELS.get(k, k)} {v:g} 分" for k, v in weights.items())
        ws.write_string(1, 0, f"权重：{shown}（合计折算为百分制）；逾期报送的报送分按 "
                              f"{a.get('late_submission_share', 0.5):.0%} 计；未报送记 0 分。及时性只看本期受理的需求"
                              "（结转的需求已在受理当期考核）；办结和原因说明含结转的需求", self.book.subtitle)
        bands = "，".join(f"≥{floor:g} {name}" for floor, name in sorted(a["bands"], key=lambda b: -b[0]))
        ws.write_string(2, 0, f"分档：{bands}", self.book.subtitle)
        keys = list(WEIGHT_LABELS)
        headers = [WINDOW, WINDOW_NAME, "监督考核单位", "报送状态"] + [label for _, label in ASSESSMENT_FIGURES]
        headers += [f"{WEIGHT_LABELS[k]}（{weights.get(k, 0):g}）" for k in keys] + ["总分", "档次"]
        self.book.headers(ws, 3, headers)
        ws.set_row(3, 30)
        first = 4 + len(ASSESSMENT_FIGURES)
        for r, s in enumerate(statuses, start=4):
            score, f = scores[s.code], figs.get(s.code, {})
            self.book.row(ws, r, [s.code, s.name, s.supervisor, s.label])
            for c, (key, _) in enumerate(ASSESSMENT_FIGURES, start=4):
                value = f.get(key)
                if value is not None:
                    ws.write_number(r, c, value, self.book.pct if key == "on_time_rate" else None)
            for c, k in enumerate(keys, start=first):
                ws.write_number(r, c, getattr(score, k), self.book.dec1)
            ws.write_number(r, first + len(keys), score.total, self.book.dec1)
            ws.write_string(r, first + 1 + len(keys), score.band)

    # --- 校验问题 ---------------------------------------------------------------
    def findings(self, collected: Collected) -> None:
        headers = [WINDOW, "文件", "严重程度", "行", "单元格", "列", "值", "问题", "处理建议"]
        ws = self.book.sheet(FINDINGS_SHEET, [9, 28, 8, 6, 8, 14, 20, 50, 44], header_row=0)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(1, sum(len(src.findings) for src in collected.sources)), len(headers) - 1)
        ws = self.book.spool(ws, 0)
        self.table(ws, 0, headers, (
            [src.window, src.path.name, SEVERITY_ZH.get(f.severity, f.severity), f.row, f.cell, f.column,
             *self._masked_finding(f)] for src in collected.sources for f in src.findings))

    def _masked_finding(self, f) -> list[Any]:
        """Value, message and hint; a phone or name quoted from a personal column is masked in both."""
        value, message = f.value, f.message
        key = PERSONAL_HEADERS.get(f.column or "")
        if key and not self.book.show_personal_info and value not in (None, ""):
            raw = str(value)
            value = self.book.masked(key, raw)
            message = message.replace(raw, value)
        return [value, message, f.hint]

    # --- 说明 -------------------------------------------------------------------
    def notes(self, consolidation: Consolidation, collected: Collected, now: datetime, due: datetime) -> None:
        p, period = self.config.policy, consolidation.period
        ws = self.book.sheet(NOTES_SHEET, [22, 70, 20, 12, 18, 10])
        ws.write_string(0, 0, "说明", self.book.title)
        items = [
            ("统计周期", period.label),
            ("周期起止", f"{period.start:%Y-%m-%d %H:%M} 至 {period.end:%Y-%m-%d %H:%M}（不含），即 {period.describe()}"),
            ("时限口径", clock_line(self.config)),
            ("时限（分钟）", f"{float(p['sla_minutes']):g}"), ("临近超时提示（分钟）", f"{float(p['warn_minutes']):g}"),
        ]
        if p.get("clock") == "working-hours":
            items.append(("工作时间", "、".join(f"{a}–{b}" for a, b in p.get("working_hours", []))))
        items += [
            ("统计周期起始日", f"每月 {p.get('period_start_day', 25)} 日"),
            ("报送截止", f"每月 {due_day(p)} 日之前（本期 {due:%Y-%m-%d %H:%M} 前）"),
            ("个人信息", "完整显示（按要求未脱敏）" if self.book.show_personal_info else "已脱敏：姓名、联系方式（单位名称不脱敏）"),
            ("生成时间", now), ("程序版本", f"xl_automation {__version__}"), ("配置", self.config.source),
        ]
        items += [("提醒", w) for w in consolidation.warnings]
        r = self.table(ws, 1, ["项目", "内容"], items)
        c = consolidation
        rows_excluded = len(c.excluded)
        read_details = len(c.details) - c.from_archive      # origins rebuilt from the archive were not read now
        balanced = c.rows_in == read_details + c.merged + rows_excluded
        ws.write_string(r + 1, 0, "行数核对", self.book.section)
        r = self.table(ws, r + 2, ["读入行数", "明细行数（不含归档重建的原受理记录）+ 合并的转办行 + 未计入本期的行", "结果"], [[
            c.rows_in, f"{read_details} + {c.merged} + {rows_excluded} = {read_details + c.merged + rows_excluded}",
            "相符" if balanced else "不相符：请检查汇总程序"]])
        ws.write_string(r + 1, 0, "逐窗口行数核对：台账行数 = 报送时未报送 + 报送件行数；报送件行数 = 明细 + 合并 + 未计入本期",
                        self.book.section)
        r = self.table(ws, r + 2, [WINDOW, "文件", "台账行数", "报送时未报送", "报送件行数", "读入行数", "计入明细",
                                   "转办合并", "未计入本期", "结果"],
                       (reconcile(src, c.fate.get(fate_key(src), {})) for src in collected.sources + list(getattr(collected, "earlier", ()))))
        ws.write_string(r + 1, 0, "输入文件", self.book.section)
        sources = [(s, "采用") for s in collected.sources] + [(s, f"{s.for_period} 补交（按归档计补报）")
                                                              for s in getattr(collected, "earlier", ())] \
            + [(s, "已被重新报送替换") for s in collected.superseded]
        self.table(ws, r + 2, [WINDOW, "文件", "sha256", "类型", "报送时间", "状态"], (
            [s.window, s.path.name, s.sha256, "报送件" if s.kind == "submission" else "台账", s.submitted_at, state]
            for s, state in sources))
