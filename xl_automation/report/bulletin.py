"""The monthly 通报 a leader reads: an editable Word document in the official layout, written from the
consolidation's figures (bulletin_figures) so that every number equals the JSON summary's.

History is optional: with a previous period the text gives 环比 and a trend chart; without it, it says
nothing about them rather than invent them. 未续报 items come from the archive when it has them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from xl_automation.report import bulletin_text as text
from xl_automation.rules.breakdown import COUNTS
from xl_automation.report.bulletin_charts import NoCjkFont, count_chart, rate_chart, trend_chart
from docx.shared import Pt

from xl_automation.report.bulletin_docx import LINE_PT, OfficialDocument
from xl_automation.rules.bulletin_figures import PeriodFigures, bulletin_figures, pct, trend_points
from xl_automation.model.config import Config
from xl_automation.rules.consolidate import Consolidation

from xl_automation.rules.report_info import ReportInfo, Unrenewed  # noqa: F401  (offered here too)

NUMERALS = "一二三四五六七八九十"
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
                   unrenewed: Sequence[Unrenewed] = (), rejected: Sequence[dict[str, str]] = (),
                   newest_unusable: Sequence[dict[str, str]] = ()) -> Bulletin:
    """newest_unusable: collect's entries of windows counted by an earlier submission (their later one
    could not be used), said in 报送情况 with rejected."""
    figs = bulletin_figures(consolidation, info, config.data, previous)
    w = _Writer(OfficialDocument(), figs, consolidation, info, config)
    w.write(now, previous, history, unrenewed, rejected, newest_unusable)
    partial = path.with_name(f".~{path.stem}.partial.docx")
    try:
        w.doc.save(partial)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Bulletin(path, figs, w.notes)


class _Writer:
    """The document's layout: numbered headings, paragraphs, tables and charts, section by section; the
    sentences come from bulletin_text."""

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

    def write(self, now, previous, history, unrenewed, rejected, newest_unusable=()) -> None:
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
        self.heading("报送情况")
        names = {w.code: w.name for w in self.config.windows}
        self.doc.paragraph(text.submissions(self.info, self.config, rejected,
                                            len(getattr(self.cons, "resubmission_missing", ())),
                                            list(dict.fromkeys(names.get(x["window"], x["window"])
                                                               for x in newest_unusable))))
        self.units()
        self.heading("工作要求")
        for paragraph in text.requirements(f, self.config):
            self.doc.paragraph(paragraph)
        signed = text.signature(self.config.data.get("group", {}))
        self.doc.paragraph(signed, indent=False, align_right=True).paragraph_format.space_before = Pt(LINE_PT)
        self.doc.paragraph(f"{now.year}年{now.month}月{now.day}日", indent=False, align_right=True)

    # --- 一、总体情况 --------------------------------------------------------------
    def overall(self, previous: PeriodFigures | None, history: Sequence[PeriodFigures]) -> None:
        f = self.figs
        self.heading("总体情况")
        for paragraph in text.overall(f, previous):
            self.doc.paragraph(paragraph)
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
        self.doc.paragraph(text.ranking_intro(rows))
        self.doc.table(["排名", "窗口", "受理数", "按时率", "办结率", "得分", "档次"], [
            [w["rank"], w["name"], w["received"], pct(w["on_time_rate"]), pct(w["closure_rate"]),
             f"{w['score']:.1f}", w["band"]] for w in rows], [1.3, 5.7, 1.5, 1.8, 1.8, 1.7, 1.6])

    # --- 三、业务分类情况（通知三.5） ----------------------------------------------------
    def business(self) -> None:
        b = self.info.breakdown
        self.heading("业务分类办理情况")
        if b is None:
            return
        totals = [row for row in b.by_service if row[1] == "合计"]
        self.doc.table(["业务类型"] + [label for _, label in COUNTS],
                       [[svc] + [c[k] for k, _ in COUNTS] for svc, _, c in totals]
                       + [["全部受理"] + [b.total[k] for k, _ in COUNTS]], [2.6] + [2.1] * len(COUNTS))
        for paragraph in text.business(b, self.figs):
            self.doc.paragraph(paragraph)

    # --- 四、超时及未续报事项 ----------------------------------------------------------
    def overdue(self, unrenewed: Sequence[Unrenewed]) -> None:
        self.heading("超时及未续报事项")
        opening, units = text.overdue(self.cons.details, self.info, unrenewed, self.figs["overdue"])
        self.doc.paragraph(opening)
        for paragraph in units:
            self.doc.paragraph(paragraph, size=12)

    # --- 六、各监督考核单位考核情况（通知三.3） ---------------------------------------------
    def units(self) -> None:
        self.heading("各监督考核单位考核情况")
        weights = self.config.data["assessment"]["weights"]
        rows = self.figs["ranking"]
        order = {s.code: i for i, s in reversed(list(enumerate(self.info.statuses)))}
        for i, unit in enumerate(dict.fromkeys(s.supervisor for s in self.info.statuses)):
            mine = [w for w in sorted(rows, key=lambda w: order[w["code"]]) if w["supervisor"] == unit]
            average = sum(w["score"] for w in mine) / len(mine)
            self.doc.heading(f"（{NUMERALS[i]}）{unit}", level=2)
            self.doc.table(["窗口"] + [f"{UNIT_HEADERS[k]}\n（{weights[k]:g}）" for k in UNIT_HEADERS] + ["总分", "档次"],
                           [[w["name"]] + [f"{w[k]:.1f}" for k in UNIT_HEADERS] + [f"{w['score']:.1f}", w["band"]]
                            for w in mine] + [[f"平均（{len(mine)}个窗口）", "", "", "", "", f"{average:.1f}", ""]],
                           [5.6, 1.8, 1.8, 1.8, 1.8, 1.4, 1.4])
