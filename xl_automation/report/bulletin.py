"""The monthly 通报 a leader reads: an editable Word document in the official layout, written from the
consolidation's figures (bulletin_figures) so that every number equals the JSON summary's.

History is optional: with a previous period the text gives 环比 and a trend chart; without it, it says
nothing about them rather than invent them. 未续报 items come from the archive when it has them.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from xl_automation.rules.breakdown import COUNTS, transfers_of
from xl_automation.report.bulletin_charts import NoCjkFont, count_chart, rate_chart, trend_chart
from docx.shared import Pt

from xl_automation.report.bulletin_docx import LINE_PT, OfficialDocument
from xl_automation.rules.bulletin_figures import PeriodFigures, bulletin_figures, change_text, failing_band, pct, trend_points
from xl_automation.model.config import Config
from xl_automation.rules.consolidate import Consolidation, Detail
from xl_automation.rules.masking import mask_numbers_in_text
from xl_automation.rules.sla import LATE, describe_minutes

from xl_automation.rules.report_info import ReportInfo, Unrenewed  # noqa: F401  (offered here too)

NUMERALS = "一二三四五六七八九十"
ITEMS_PER_WINDOW = 2            # the most serious overdue items named per window; all are in the 超时清单
SERVICE_LINE = "水电气暖信有线电视"
UNIT_HEADERS = {"timeliness": "及时联系", "closure": "办结", "reasons": "原因说明", "submission": "按时报送"}


@dataclass
class Bulletin:
    path: Path
    figures: dict[str, Any]
    notes: list[str] = field(default_factory=list)     # e.g. charts left out for want of a CJK font


def bulletin_path(report: Path) -> Path:
    return report.with_name(f"{report.stem}.通报.docx")


def title_of(period_label: str) -> str:
    year, month = period_label.split("-")
    return f"关于{int(year)}年{int(month)}月{SERVICE_LINE}综合受理工作情况的通报"


def write_bulletin(path: Path, *, consolidation: Consolidation, info: "ReportInfo", config: Config, now: datetime,
                   previous: PeriodFigures | None = None, history: Sequence[PeriodFigures] = (),
                   unrenewed: Sequence[Unrenewed] = (), rejected: Sequence[dict[str, str]] = ()) -> Bulletin:
    figs = bulletin_figures(consolidation, info, config.data, previous)
    w = _Writer(OfficialDocument(), figs, consolidation, info, config)
    w.write(now, previous, history, unrenewed, rejected)
    partial = path.with_name(f".~{path.stem}.partial.docx")
    try:
        w.doc.save(partial)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Bulletin(path, figs, w.notes)


class _Writer:
    def __init__(self, doc: OfficialDocument, figs: dict[str, Any], cons: Consolidation, info: "ReportInfo",
                 config: Config):
        self.doc, self.figs, self.cons, self.info, self.config = doc, figs, cons, info, config
        self.section_no = 0
        self.notes: list[str] = []

    def heading(self, text: str) -> None:
        self.doc.heading(f"{NUMERALS[self.section_no]}、{text}")
        self.section_no += 1

    def charts(self, *drawings) -> None:
        """(draw, args…) tuples rendered side by side; left out with a note when no CJK font exists."""
        try:
            pngs = [draw(*args) for draw, *args in drawings]
        except NoCjkFont as e:
            if str(e) not in self.notes:
                self.notes.append(str(e))
            return
        self.doc.images(pngs)

    def write(self, now, previous, history, unrenewed, rejected) -> None:
        f, period = self.figs, self.cons.period
        units = list(dict.fromkeys(s.supervisor for s in self.info.statuses))
        self.doc.title(title_of(f["period"]))
        self.doc.addressee("、".join(units) + "，各综合受理窗口：")
        year, month = f["period"].split("-")
        self.doc.paragraph(f"现将{int(year)}年{int(month)}月（统计周期 {period.describe()}）{SERVICE_LINE}"
                           f"综合受理工作情况通报如下：")
        self.overall(previous, history)
        self.ranking()
        self.business()
        self.overdue(unrenewed)
        self.submissions(rejected)
        self.units()
        self.requirements()
        group = self.config.data.get("group", {})
        centre = group.get("centre", "")
        name = group.get("name", "")
        signed = name + (centre.removeprefix("集团") if "集团" in name else centre)   # not 集团…集团营销服务中心
        self.doc.paragraph(signed, indent=False, align_right=True).paragraph_format.space_before = Pt(LINE_PT)
        self.doc.paragraph(f"{now.year}年{now.month}月{now.day}日", indent=False, align_right=True)

    # --- 一、总体情况 --------------------------------------------------------------
    def overall(self, previous: PeriodFigures | None, history: Sequence[PeriodFigures]) -> None:
        f = self.figs
        self.heading("总体情况")
        services = "、".join(f"{k}{n}件" for k, n in f["services"].items() if n)
        prev_received = change_text(f["received"], previous.received, percent_points=False) if previous else ""
        text = (f"本期应报送窗口{f['windows_expected']}个，已报送{f['windows_submitted']}个。"
                f"全集团共受理业务{f['received']}件" + (f"，{prev_received}" if prev_received else "")
                + (f"；按业务分：{services}（多项业务分别计数）" if services else "") + "。")
        self.doc.paragraph(text)
        if f["on_time_rate"] is None:
            timely = "本期没有可计算按时率的业务（既无已联系的，也无超时未联系的）。"
        else:
            prev_rate = change_text(f["on_time_rate"], previous.on_time_rate, percent_points=True) if previous else ""
            timely = (f"2小时内联系对接{f['on_time']}件，按时率{pct(f['on_time_rate'])}"
                      + (f"，{prev_rate}" if prev_rate else "") + f"；超时{f['overdue']}件。")
        r = f["results"]
        prev_close = change_text(f["closure_rate"], previous.closure_rate, percent_points=True) if previous else ""
        result = (f"已办结{r['已办结']}件，无法办理{r['无法办理']}件，已转办{r['已转办']}件，办理中{r['办理中']}件；"
                  f"办结率{pct(f['closure_rate'])}" + (f"，{prev_close}" if prev_close else "")
                  + "（已办结、无法办理、已转办均计为有办理结果）。")
        if not f["received"]:
            timely, result = "", "本期没有受理业务。"
        if f["carried_over"]:
            result += f"另有往期结转未办结业务{f['carried_over']}件，本期办结{f['carried_closed']}件（不计入本期受理数）。"
        self.doc.paragraph(timely + result)
        points = trend_points(history or ([previous] if previous else []), f)
        if len(points) > 1:
            self.charts((trend_chart, [p[0] for p in points], [p[1] for p in points], [p[2] for p in points]))
        top = [w for w in f["ranking"] if w["status"] != "未报送"]
        services = list(f["services"])
        drawings = []
        if top:
            drawings.append((rate_chart, [w["name"].replace("（待更名）", "") for w in top],
                             [w["on_time_rate"] for w in top], [w["code"] in f["below_pass"] for w in top],
                             "各窗口2小时内联系按时率", 7.8))
        if any(f["services"].values()):
            drawings.append((count_chart, services, [f["services"][s] for s in services], "各项业务受理件数", 7.8))
        if drawings:
            self.charts(*drawings)

    # --- 二、考核排名 --------------------------------------------------------------
    def ranking(self) -> None:
        rows = self.figs["ranking"]
        self.heading("各窗口考核排名")
        top = [w for w in rows if w["status"] != "未报送"]
        if not top:
            self.doc.paragraph("本期没有窗口报送台账，各窗口考核均记0分。")
        else:
            best = top[0]
            self.doc.paragraph(f"按月度考核办法（2小时内联系、办结、无法办理原因说明、按时报送）评分，"
                               f"{best['name']}以{best['score']:.1f}分列第一。各窗口得分及排名如下：")
        self.doc.table(["排名", "窗口", "受理数", "按时率", "办结率", "得分", "档次"], [
            [w["rank"], w["name"], w["received"], pct(w["on_time_rate"]), pct(w["closure_rate"]),
             f"{w['score']:.1f}", w["band"]] for w in rows], [1.3, 5.7, 1.5, 1.8, 1.8, 1.7, 1.6])

    # --- 三、业务分类情况（通知三.5） ----------------------------------------------------
    def business(self) -> None:
        b, f = self.info.breakdown, self.figs
        self.heading("业务分类办理情况")
        if b is None:
            return
        totals = [row for row in b.by_service if row[1] == "合计"]
        self.doc.table(["业务类型"] + [label for _, label in COUNTS],
                       [[svc] + [c[k] for k, _ in COUNTS] for svc, _, c in totals]
                       + [["全部受理"] + [b.total[k] for k, _ in COUNTS]], [2.6] + [2.1] * len(COUNTS))
        kinds = defaultdict(int)
        for svc, kind, c in b.by_service:
            if kind != "合计":
                kinds[kind] += c["received"]
        parts = []
        if kinds:
            parts.append("按报装类型分（按业务项计）：" + "、".join(f"{k}{n}件" for k, n in kinds.items()) + "。")
        h = f.get("handling_hours", {})
        if h.get("average") is not None:
            parts.append(f"已办结业务{h['closed']}件，受理至办结平均用时{h['average']:.1f}小时，中位数{h['median']:.1f}小时"
                         + self._slowest(b) + "。")
        parts.append(f"转办两次及以上的业务{f.get('bounced', 0)}件" + self._bounced(b) + "。")
        self.doc.paragraph("".join(parts))
        if b.reasons:
            groups = []
            for g in b.reasons:
                raw = "；".join(f"{mask_numbers_in_text(text)}（{n}件）" if n > 1 else mask_numbers_in_text(text)
                               for text, n in sorted(g.raw.items(), key=lambda x: (-x[1], x[0]))[:3])
                more = f"等{len(g.raw)}种" if len(g.raw) > 3 else ""
                groups.append(f"{g.category}{g.count}件（{raw}{more}）")
            self.doc.paragraph(f"无法办理的{sum(g.count for g in b.reasons)}件，按原因分类：" + "；".join(groups) + "。")

    def _slowest(self, b) -> str:
        timed = [h for h in b.handling_by_window if h.average is not None]
        if len(timed) < 2:
            return ""
        slow = max(timed, key=lambda h: h.average)
        return f"；平均用时最长的是{slow.label.split(' ', 1)[-1]}（{slow.average:.1f}小时）"

    def _bounced(self, b) -> str:
        if not b.bounced:
            return ""
        named = "、".join(f"{d.values.get('request_id') or self._row(d)}（{transfers_of(d)}次）" for d in b.bounced[:5])
        return f"：{named}" + ("等" if len(b.bounced) > 5 else "")

    @staticmethod
    def _row(d: Detail) -> str:
        return f"{d.file}第{d.source_row}行"

    # --- 四、超时及未续报事项 ----------------------------------------------------------
    def overdue(self, unrenewed: Sequence[Unrenewed]) -> None:
        self.heading("超时及未续报事项")
        by_window: dict[str, list[Detail]] = defaultdict(list)
        for d in self.cons.details:
            if d.clock.overdue:
                by_window[d.window].append(d)
        missed: dict[str, list[Unrenewed]] = defaultdict(list)
        for u in unrenewed:
            missed[u.window].append(u)
        if not by_window and not missed:
            self.doc.paragraph("本期没有超过2小时未联系的业务。")
            return
        self.doc.paragraph(f"本期超过2小时联系或至统计时仍未联系的业务共{self.figs['overdue']}件"
                           + (f"，上期未办结、本期未续报的{len(unrenewed)}件" if unrenewed else "")
                           + "，按单位列示如下（完整清单见月报“超时清单”表）：")
        for unit in dict.fromkeys(s.supervisor for s in self.info.statuses):
            lines = []
            for s in (s for s in self.info.statuses if s.supervisor == unit):
                items = sorted(by_window.get(s.code, []), key=_seriousness)
                text = ""
                if items:
                    shown = "；".join(self._overdue_item(d) for d in items[:ITEMS_PER_WINDOW])
                    text = f"超时{len(items)}件：{shown}" + ("等" if len(items) > ITEMS_PER_WINDOW else "")
                if missed.get(s.code):
                    ids = "、".join(u.request_id for u in missed[s.code][:ITEMS_PER_WINDOW])
                    text += ("；" if text else "") + f"未续报{len(missed[s.code])}件：{ids}"
                if text:
                    lines.append(f"{s.name}{text}")
            if lines:
                self.doc.paragraph(f"{unit}：" + "。".join(lines) + "。", size=12)

    def _overdue_item(self, d: Detail) -> str:
        rid = d.values.get("request_id") or self._row(d)
        at = d.values["received_at"]
        when = f"{at.month}月{at.day}日受理"
        if d.clock.status == LATE:
            return f"{rid}（{when}，{describe_minutes(d.clock.minutes)}后联系）"
        return f"{rid}（{when}，至统计时未联系）"

    # --- 五、报送情况 --------------------------------------------------------------
    def submissions(self, rejected: Sequence[dict[str, str]]) -> None:
        self.heading("报送情况")
        st = self.info.statuses
        due_day = self.config.policy.get("submission_due_day", 25)
        missing = [s.name for s in st if s.missing]
        late = [s.name for s in st if s.late]
        again = [s.name for s in st if s.resubmitted]
        parts = [f"截至报送期限（每月{due_day}日前），"]
        parts.append(f"未报送的窗口：{'、'.join(missing)}；" if missing else "各窗口均已报送；")
        parts.append(f"逾期报送的窗口：{'、'.join(late)}；" if late else "无逾期报送；")
        parts.append(f"重新报送的窗口：{'、'.join(again)}（以最后一次报送为准）。" if again else "无重新报送。")
        if rejected:
            parts.append(f"另有{len(rejected)}个文件无法读取，未计入：" + "、".join(r.get("file", "") for r in rejected) + "。")
        self.doc.paragraph("".join(parts))

    # --- 六、各监督考核单位考核情况（通知三.3） ---------------------------------------------
    def units(self) -> None:
        self.heading("各监督考核单位考核情况")
        weights = self.config.data["assessment"]["weights"]
        rows = self.figs["ranking"]
        for i, unit in enumerate(dict.fromkeys(s.supervisor for s in self.info.statuses)):
            mine = [w for w in sorted(rows, key=lambda w: self._order(w["code"])) if w["supervisor"] == unit]
            average = sum(w["score"] for w in mine) / len(mine)
            self.doc.heading(f"（{NUMERALS[i]}）{unit}", level=2)
            self.doc.table(["窗口"] + [f"{UNIT_HEADERS[k]}\n（{weights[k]:g}）" for k in UNIT_HEADERS] + ["总分", "档次"],
                           [[w["name"]] + [f"{w[k]:.1f}" for k in UNIT_HEADERS] + [f"{w['score']:.1f}", w["band"]]
                            for w in mine] + [[f"平均（{len(mine)}个窗口）", "", "", "", "", f"{average:.1f}", ""]],
                           [5.6, 1.8, 1.8, 1.8, 1.8, 1.4, 1.4])

    def _order(self, code: str) -> int:
        return next(i for i, s in enumerate(self.info.statuses) if s.code == code)

    # --- 七、工作要求 --------------------------------------------------------------
    def requirements(self) -> None:
        self.heading("工作要求")
        fail = failing_band(self.config.data)
        low = [w for w in self.figs["ranking"] if w["code"] in self.figs["below_pass"]]
        sla = float(self.config.policy["sla_minutes"])
        due_day = self.config.policy.get("submission_due_day", 25)
        self.doc.paragraph(f"（一）严格落实首问负责制和无差别受理要求，受理后{sla:g}分钟内联系对接办事群众，"
                           f"不得以不属于本单位业务为由推脱；确实无法办理的，要在台账中写明原因。"
                           f"（二）各监督考核单位于每月{due_day}日前完成所辖窗口的考核并报送台账，"
                           f"逾期或未报送的按考核办法扣分。")
        if low:
            names = "、".join(f"{w['name']}（{w['score']:.1f}分）" for w in low)
            self.doc.paragraph(f"（三）本期考核{fail}的窗口：{names}。请所属监督考核单位督促整改，"
                               f"整改情况随下期台账一并报集团营销服务中心。")
        else:
            self.doc.paragraph(f"（三）本期没有考核{fail}的窗口，各窗口要保持并继续提升服务质量。")


def _seriousness(d: Detail) -> tuple:
    """Still unanswered first, then the longest waits, then the earliest."""
    return (d.clock.status == LATE, -(d.clock.minutes or 0), d.values["received_at"])
