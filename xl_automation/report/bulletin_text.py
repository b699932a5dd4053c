"""The 通报's sentences, from the consolidation's figures: plain strings, no document. bulletin.py lays
them out (headings, tables, charts) in the official layout; each function here can be read and tested alone.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

from xl_automation.model.config import Config
from xl_automation.rules.breakdown import transfers_of
from xl_automation.rules.bulletin_figures import PeriodFigures, change_text, failing_band, pct
from xl_automation.rules.consolidate import Detail
from xl_automation.rules.masking import mask_numbers_in_text
from xl_automation.rules.report_info import ReportInfo, Unrenewed
from xl_automation.rules.sla import LATE, describe_minutes

ITEMS_PER_WINDOW = 2            # the most serious overdue items named per window; all are in the 超时清单


def overall(f: dict[str, Any], previous: PeriodFigures | None) -> list[str]:
    """一、总体情况: windows and requests received; then timeliness and results."""
    services = "、".join(f"{k}{n}件" for k, n in f["services"].items() if n)
    prev_received = change_text(f["received"], previous.received, percent_points=False) if previous else ""
    text = (f"本期应报送窗口{f['windows_expected']}个，已报送{f['windows_submitted']}个。"
            f"全集团共受理业务{f['received']}件" + (f"，{prev_received}" if prev_received else "")
            + (f"；按业务分：{services}（多项业务分别计数）" if services else "") + "。")
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
    return [text, timely + result]


def ranking_intro(rows: list[dict[str, Any]]) -> str:
    top = [w for w in rows if w["status"] != "未报送"]
    if not top:
        return "本期没有窗口报送台账，各窗口考核均记0分。"
    best = top[0]
    return (f"按月度考核办法（2小时内联系、办结、无法办理原因说明、按时报送）评分，"
            f"{best['name']}以{best['score']:.1f}分列第一。各窗口得分及排名如下：")


def business(b, f: dict[str, Any]) -> list[str]:
    """三、业务分类: by kind, handling time, repeated transfers; then 无法办理 by reason (if any)."""
    kinds: dict[str, int] = defaultdict(int)
    for svc, kind, c in b.by_service:
        if kind != "合计":
            kinds[kind] += c["received"]
    parts = []
    if kinds:
        parts.append("按报装类型分（按业务项计）：" + "、".join(f"{k}{n}件" for k, n in kinds.items()) + "。")
    h = f.get("handling_hours", {})
    if h.get("average") is not None:
        parts.append(f"已办结业务{h['closed']}件，受理至办结平均用时{h['average']:.1f}小时，中位数{h['median']:.1f}小时"
                     + _slowest(b) + "。")
    parts.append(f"转办两次及以上的业务{f.get('bounced', 0)}件" + _bounced(b) + "。")
    out = ["".join(parts)]
    if b.reasons:
        groups = []
        for g in b.reasons:
            raw = "；".join(f"{mask_numbers_in_text(text)}（{n}件）" if n > 1 else mask_numbers_in_text(text)
                           for text, n in sorted(g.raw.items(), key=lambda x: (-x[1], x[0]))[:3])
            more = f"等{len(g.raw)}种" if len(g.raw) > 3 else ""
            groups.append(f"{g.category}{g.count}件（{raw}{more}）")
        out.append(f"无法办理的{sum(g.count for g in b.reasons)}件，按原因分类：" + "；".join(groups) + "。")
    return out


def _slowest(b) -> str:
    timed = [h for h in b.handling_by_window if h.average is not None]
    if len(timed) < 2:
        return ""
    slow = max(timed, key=lambda h: h.average)
    return f"；平均用时最长的是{slow.label.split(' ', 1)[-1]}（{slow.average:.1f}小时）"


def _bounced(b) -> str:
    if not b.bounced:
        return ""
    named = "、".join(f"{d.values.get('request_id') or row_of(d)}（{transfers_of(d)}次）" for d in b.bounced[:5])
    return f"：{named}" + ("等" if len(b.bounced) > 5 else "")


def row_of(d: Detail) -> str:
    return f"{d.file}第{d.source_row}行"


def overdue(details: Sequence[Detail], info: ReportInfo, unrenewed: Sequence[Unrenewed], overdue_count: int
            ) -> tuple[str, list[str]]:
    """四、超时及未续报: the opening sentence, and a paragraph per supervising unit naming its windows' items."""
    by_window: dict[str, list[Detail]] = defaultdict(list)
    for d in details:
        if d.clock.overdue:
            by_window[d.window].append(d)
    missed: dict[str, list[Unrenewed]] = defaultdict(list)
    for u in unrenewed:
        missed[u.window].append(u)
    if not by_window and not missed:
        return "本期没有超过2小时未联系的业务。", []
    opening = (f"本期超过2小时联系或至统计时仍未联系的业务共{overdue_count}件"
               + (f"，上期未办结、本期未续报的{len(unrenewed)}件" if unrenewed else "")
               + "，按单位列示如下（完整清单见月报“超时清单”表）：")
    units = []
    for unit in dict.fromkeys(s.supervisor for s in info.statuses):
        lines = []
        for s in (s for s in info.statuses if s.supervisor == unit):
            items = sorted(by_window.get(s.code, []), key=seriousness)
            text = ""
            if items:
                shown = "；".join(overdue_item(d) for d in items[:ITEMS_PER_WINDOW])
                text = f"超时{len(items)}件：{shown}" + ("等" if len(items) > ITEMS_PER_WINDOW else "")
            if missed.get(s.code):
                ids = "、".join(u.request_id for u in missed[s.code][:ITEMS_PER_WINDOW])
                text += ("；" if text else "") + f"未续报{len(missed[s.code])}件：{ids}"
            if text:
                lines.append(f"{s.name}{text}")
        if lines:
            units.append(f"{unit}：" + "。".join(lines) + "。")
    return opening, units


def overdue_item(d: Detail) -> str:
    rid = d.values.get("request_id") or row_of(d)
    at = d.values["received_at"]
    when = f"{at.month}月{at.day}日受理"
    if d.clock.status == LATE:
        return f"{rid}（{when}，{describe_minutes(d.clock.minutes)}后联系）"
    return f"{rid}（{when}，至统计时未联系）"


def seriousness(d: Detail) -> tuple:
    """Still unanswered first, then the longest waits, then the earliest."""
    return (d.clock.status == LATE, -(d.clock.minutes or 0), d.values["received_at"])


def submissions(info: ReportInfo, config: Config, rejected: Sequence[dict[str, str]], dropped: int = 0,
                older_in_force: Sequence[str] = ()) -> str:
    """五、报送情况: missing, late and resubmitted windows; requests a resubmission no longer carries (dropped,
    listed in the workbook, not counted); windows counted by an earlier submission because their later one
    could not be used (older_in_force, their names); files that could not be read."""
    st = info.statuses
    due_day = config.policy.get("submission_due_day", 25)
    missing = [s.name for s in st if s.missing]
    late = [s.name for s in st if s.late]
    again = [s.name for s in st if s.resubmitted]
    parts = [f"截至报送期限（每月{due_day}日前），"]
    parts.append(f"未报送的窗口：{'、'.join(missing)}；" if missing else "各窗口均已报送；")
    parts.append(f"逾期报送的窗口：{'、'.join(late)}；" if late else "无逾期报送；")
    parts.append(f"重新报送的窗口：{'、'.join(again)}（以最后一次报送为准）。" if again else "无重新报送。")
    if dropped:
        parts.append(f"重新报送后不再出现的需求{dropped}件，以最后一次报送为准未计入，请相关窗口核对是否误删"
                     "（逐条见报表“报送情况”表）。")
    if older_in_force:
        parts.append(f"{'、'.join(older_in_force)}较晚的报送无法使用，本期按其较早的报送汇总，请重新报送。")
    if rejected:
        parts.append(f"另有{len(rejected)}个文件无法读取，未计入：" + "、".join(r.get("file", "") for r in rejected) + "。")
    return "".join(parts)


def requirements(f: dict[str, Any], config: Config) -> list[str]:
    """七、工作要求: the standing two, and the windows below the pass band (or that there are none)."""
    fail = failing_band(config.data)
    low = [w for w in f["ranking"] if w["code"] in f["below_pass"]]
    sla = float(config.policy["sla_minutes"])
    due_day = config.policy.get("submission_due_day", 25)
    out = [f"（一）严格落实首问负责制和无差别受理要求，受理后{sla:g}分钟内联系对接办事群众，"
           f"不得以不属于本单位业务为由推脱；确实无法办理的，要在台账中写明原因。"
           f"（二）各监督考核单位于每月{due_day}日前完成所辖窗口的考核并报送台账，"
           f"逾期或未报送的按考核办法扣分。"]
    if low:
        names = "、".join(f"{w['name']}（{w['score']:.1f}分）" for w in low)
        out.append(f"（三）本期考核{fail}的窗口：{names}。请所属监督考核单位督促整改，"
                   f"整改情况随下期台账一并报集团营销服务中心。")
    else:
        out.append(f"（三）本期没有考核{fail}的窗口，各窗口要保持并继续提升服务质量。")
    return out


def signature(group: dict[str, str]) -> str:
    """The sender under the text: the group's name and its centre, not 集团…集团营销服务中心."""
    centre = group.get("centre", "")
    name = group.get("name", "")
    return name + (centre.removeprefix("集团") if "集团" in name else centre)
