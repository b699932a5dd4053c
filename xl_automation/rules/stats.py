"""Figures per window, company and group over consolidated details (the report's 汇总, as values)."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Iterable

from xl_automation.rules.assessment import explained
from xl_automation.rules.consolidate import Detail, on_time_rate, round_half_up
from xl_automation.model.schema import BY_KEY, SERVICE_COLUMNS
from xl_automation.rules.sla import LATE, ON_TIME, OVERDUE_OPEN

RESULTS = BY_KEY["result"].enum
INSTALL_TYPES = BY_KEY["install_type"].enum
CHANNELS = BY_KEY["channel"].enum
REPLIED = (ON_TIME, LATE)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str


def figure_list() -> list[Figure]:
    """The 汇总 columns in order; labels are the report's Chinese headers."""
    out = [Figure("received", "受理总数")]
    out += [Figure(f"svc:{c.key}", c.header) for c in SERVICE_COLUMNS]
    out += [Figure(f"type:{t}", f"报装-{t}") for t in INSTALL_TYPES]
    out += [Figure(f"channel:{c}", f"渠道-{c}") for c in CHANNELS]
    out += [Figure("on_time", "2小时内联系"), Figure("on_time_rate", "按时率"),
            Figure("avg_minutes", "平均响应(分钟)"), Figure("median_minutes", "响应中位数(分钟)"),
            Figure("max_minutes", "最长响应(分钟)"), Figure("overdue", "超时")]
    out += [Figure(f"result:{r}", r) for r in RESULTS]
    out += [Figure("on_site", "上门服务")]
    out += [Figure("carried_over", CARRIED_LABEL), Figure("carried_closed", CARRIED_CLOSED_LABEL)]
    return out


CARRIED_LABEL = "结转（往期未办结）"
CARRIED_CLOSED_LABEL = "结转本期办结"
CLOSED = "已办结"


def figures(details: Iterable[Detail], refusals: tuple[str, ...] = ()) -> dict[str, Any]:
    """This period's receipts give every figure; carried-over requests (received in an earlier period and
    counted there) only their own two: how many were carried in, and how many of them closed now."""
    details = list(details)
    carried = [d for d in details if d.carried]
    details = [d for d in details if not d.carried]
    f: dict[str, Any] = {"received": len(details)}
    for c in SERVICE_COLUMNS:
        f[f"svc:{c.key}"] = sum(1 for d in details if d.values.get(c.key) is True)
    for t in INSTALL_TYPES:
        f[f"type:{t}"] = sum(1 for d in details if d.values.get("install_type") == t)
    for ch in CHANNELS:
        f[f"channel:{ch}"] = sum(1 for d in details if d.values.get("channel") == ch)
    statuses = [d.clock.status for d in details]
    f["on_time"] = statuses.count(ON_TIME)
    f["on_time_rate"] = on_time_rate(d.clock for d in details)
    minutes = [d.clock.minutes for d in details if d.clock.status in REPLIED]
    f["avg_minutes"] = round_half_up(sum(minutes) / len(minutes), 2) if minutes else None
    f["median_minutes"] = round_half_up(statistics.median(minutes), 2) if minutes else None
    f["max_minutes"] = max(minutes) if minutes else None
    f["overdue"] = statuses.count(LATE) + statuses.count(OVERDUE_OPEN)
    for r in RESULTS:
        f[f"result:{r}"] = sum(1 for d in details if d.values.get("result") == r)
    f["on_site"] = sum(1 for d in details if d.values.get("on_site") == "是")
    f["late"] = statuses.count(LATE)
    f["overdue_open"] = statuses.count(OVERDUE_OPEN)
    f["unable_with_reason"] = sum(1 for d in details if d.values.get("result") == "无法办理"
                                  and explained(d.values.get("unresolved_reason"), refusals))
    f["transferred"] = sum(1 for d in details if d.handled_by or d.values.get("result") == "已转办")
    f["carried_over"] = len(carried)
    f["carried_closed"] = sum(1 for d in carried if d.values.get("result") == CLOSED)
    return f
