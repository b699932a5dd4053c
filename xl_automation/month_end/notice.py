"""Plain text for the WeChat liaison group: who has not submitted, and open requests past 2 hours."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

from xl_automation.month_end.collect import Collected
from xl_automation.model.config import Config
from xl_automation.model.labels import NEWEST_UNUSABLE
from xl_automation.rules.consolidate import Consolidation
from xl_automation.rules.periods import due_day
from xl_automation.rules.masking import is_organisation, mask_name
from xl_automation.rules.phones import mask_phone
from xl_automation.rules.sla import OVERDUE_OPEN, describe_minutes


_BREAKS = re.compile(r"\s+")


def one_line(value) -> str:
    """A value quoted from a ledger or the archive on its item's line: a line break typed into the cell
    (Alt+Enter) would start a line of its own in the pasted notice, reading like the centre's words."""
    return _BREAKS.sub(" ", str(value)).strip()


def notice_text(collected: Collected, consolidation: Consolidation, config: Config, now: datetime) -> str:
    period = consolidation.period
    due = period.due_date(due_day(config.policy))
    lines = [f"【综合受理提醒】{period.label} 统计周期（{period.describe()}），截至 {now:%m月%d日 %H:%M}"]
    submitted = {s.window for s in collected.sources}
    missing = [w for w in config.windows if w.code not in submitted]
    if missing:
        when = "已过报送截止日" if now.date() >= due else f"请于 {due:%m月%d日}前报送"
        lines.append(f"未报送窗口（{len(missing)} 个，{when}）：" + "、".join(w.name for w in missing))
    else:
        lines.append("各窗口均已报送。")
    overdue: dict[str, list] = defaultdict(list)
    for d in consolidation.details:
        if d.clock.status == OVERDUE_OPEN:
            overdue[d.window].append(d)
    if overdue:
        total = sum(len(v) for v in overdue.values())
        lines.append(f"超过 2 小时仍未联系办事群众的需求（{total} 件）：")
        for w in config.windows:
            items = sorted(overdue.get(w.code, []), key=lambda d: d.values["received_at"])
            if not items:
                continue
            lines.append(f"· {w.name}（{len(items)} 件）：")
            for d in items:
                v = d.values
                name = mask_name(v.get("applicant") or "", is_organisation(v.get("applicant") or "", config))
                lines.append(f"  {one_line(v.get('request_id') or '（无编号）')} {one_line(name)} "
                             f"{one_line(mask_phone(v.get('phone') or ''))}"
                             f" {v['received_at']:%m-%d %H:%M} 受理，已 {describe_minutes(d.clock.minutes)}")
        lines.append("请首问责任人立即联系办事群众，并在群内回复对接情况。")
    else:
        lines.append("目前没有超过 2 小时未联系的需求。")
    lines += dropped_open_lines(consolidation, config)
    lines += resubmission_lines(collected, consolidation, config)
    lines += [f"提醒：{w}" for w in consolidation.warnings]
    return "\n".join(lines)


def dropped_open_lines(consolidation: Consolidation, config: Config) -> list[str]:
    """未续报: open requests a window reported earlier and left out this time (the notice: 不得走过场)."""
    dropped = getattr(consolidation, "dropped_open", [])
    if not dropped:
        return []
    lines = [f"往期仍在办理、本期报送中却没有的需求（未续报，{len(dropped)} 件）："]
    for w in config.windows:
        mine = [x for x in dropped if x.window == w.code]
        if mine:
            lines.append(f"· {w.name}：" + "、".join(f"{one_line(x.request_id)}（最后报送 {x.last_period}）" for x in mine))
    lines.append("请相关窗口说明办理结果，或在台账中继续结转。")
    return lines


def resubmission_lines(collected: Collected, consolidation: Consolidation, config: Config) -> list[str]:
    """Requests an earlier submission of the period held and the window's resubmission no longer does (not
    counted: the last submission is the window's word), and superseded copies that could not be compared."""
    missing = getattr(consolidation, "resubmission_missing", [])
    unread = getattr(collected, "superseded_unread", [])
    newest = getattr(collected, "newest_unusable", [])
    lines = []
    for x in newest:
        name = config.window(x["window"]).name if config.window(x["window"]) else x["window"]
        lines.append(f"· {name}：{NEWEST_UNUSABLE}：{one_line(x['file'])}（{one_line(x['reason'])}），"
                     f"本期采用 {one_line(x['in_force'])}")
    if not missing and not unread:
        return lines
    if missing:
        lines.append(f"重新报送后不再出现的需求（此前的报送中有、最后一次报送中没有，未计入，{len(missing)} 件）：")
        for w in config.windows:
            mine = [m for m in missing if m.window == w.code]
            if mine:
                lines.append(f"· {w.name}：" + "、".join(
                    f"{one_line(m.request_id or '（无编号）')}（{one_line(m.file)} 第 {m.row} 行）" for m in mine))
    for x in unread:
        name = config.window(x["window"]).name if config.window(x["window"]) else x["window"]
        lines.append(f"· {name}：被替换的报送 {one_line(x['file'])} 无法读取，未能与最后一次报送核对")
    lines.append("请相关窗口核对是否误删；确需计入的，请补登后重新报送。")
    return lines
