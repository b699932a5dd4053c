"""The notice's 三.5 breakdown: business by type with its results, handling times, bounced cases, reasons.

Pure functions over consolidated details; the workbook sheet (report_breakdown.py) and the 通报 both
print these figures, so they cannot disagree.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from xl_automation.rules.consolidate import Detail, round_half_up
from xl_automation.model.schema import BY_KEY, SERVICE_COLUMNS

INSTALL_TYPES: tuple[str, ...] = BY_KEY["install_type"].enum
NO_TYPE = "（未填报装类型）"
OTHER_CATEGORY = "其他"
NO_REASON = "（未填写原因）"
# the columns of one breakdown row, in the order the sheet and the 通报 print them
COUNTS: tuple[tuple[str, str], ...] = (
    ("received", "受理"), ("closed", "已办结"), ("unable", "无法办理"), ("in_progress", "办理中"),
    ("transferred", "转办"), ("overdue", "超时"))


def counts_of(details: Iterable[Detail]) -> dict[str, int]:
    """Received, closed, unable, in progress, transferred (已转办 or handled by another window), overdue."""
    c = dict.fromkeys((k for k, _ in COUNTS), 0)
    for d in details:
        result = d.values.get("result") or "办理中"
        c["received"] += 1
        c["closed"] += result == "已办结"
        c["unable"] += result == "无法办理"
        c["in_progress"] += result == "办理中"
        c["transferred"] += result == "已转办" or bool(d.handled_by)
        c["overdue"] += bool(d.clock.overdue)
    return c


def transfers_of(d: Detail) -> int:
    """How often a request changed hands: each window that took it over, and a last 已转办 onward."""
    return len(d.handled_by) + (d.values.get("result") == "已转办")


def handling_hours(d: Detail) -> float | None:
    """受理 → 办结 in hours, for a request closed with both times known (a close before receipt is not one)."""
    received, closed = d.values.get("received_at"), d.values.get("closed_at")
    if d.values.get("result") != "已办结" or not isinstance(received, datetime) or not isinstance(closed, datetime):
        return None
    if closed < received:
        return None
    return (closed - received).total_seconds() / 3600


@dataclass(frozen=True)
class Handling:
    label: str
    closed: int                  # requests with a handling time
    average: float | None        # hours, 1 decimal
    median: float | None


def handling_of(label: str, details: Iterable[Detail]) -> Handling:
    hours = [h for d in details if (h := handling_hours(d)) is not None]
    if not hours:
        return Handling(label, 0, None, None)
    return Handling(label, len(hours), round_half_up(sum(hours) / len(hours), 1),
                    round_half_up(statistics.median(hours), 1))


def categorise(reason: str, rules: list[dict[str, Any]]) -> str:
    """The first rule with a pattern found in the reason; 其他 when none matches."""
    for rule in rules:
        if any(p and p in reason for p in rule.get("patterns", ())):
            return rule["category"]
    return OTHER_CATEGORY


@dataclass
class ReasonGroup:
    category: str
    count: int = 0
    raw: Counter = field(default_factory=Counter)     # raw reason text -> requests


@dataclass
class Breakdown:
    by_service: list[tuple[str, str, dict[str, int]]]   # (service, install type or 合计, counts)
    total: dict[str, int]
    handling_by_window: list[Handling]
    handling_by_service: list[Handling]
    handling_total: Handling
    bounced: list[Detail]
    reasons: list[ReasonGroup]


def service_rows(details: list[Detail]) -> list[tuple[str, str, dict[str, int]]]:
    """For each service a 合计 row, then one per install type that has requests (a request with two
    services ticked counts under both)."""
    out = []
    for col in SERVICE_COLUMNS:
        mine = [d for d in details if d.values.get(col.key) is True]
        out.append((col.header, "合计", counts_of(mine)))
        by_type: dict[str, list[Detail]] = defaultdict(list)
        for d in mine:
            t = d.values.get("install_type")
            by_type[t if t in INSTALL_TYPES else NO_TYPE].append(d)
        for t in (*INSTALL_TYPES, NO_TYPE):
            if by_type.get(t):
                out.append((col.header, t, counts_of(by_type[t])))
    return out


def reason_groups(details: Iterable[Detail], rules: list[dict[str, Any]]) -> list[ReasonGroup]:
    """无法办理 requests by category (configured order, 其他 last), each with its raw reasons beneath."""
    order = [r["category"] for r in rules] + [OTHER_CATEGORY]
    groups = {c: ReasonGroup(c) for c in dict.fromkeys(order)}
    for d in details:
        if d.values.get("result") != "无法办理":
            continue
        raw = str(d.values.get("unresolved_reason") or "").strip()
        group = groups[categorise(raw, rules) if raw else OTHER_CATEGORY]
        group.count += 1
        group.raw[raw or NO_REASON] += 1
    return [g for g in groups.values() if g.count]


def breakdown(details: list[Detail], window_names: list[tuple[str, str]], rules: list[dict[str, Any]]) -> Breakdown:
    by_window: dict[str, list[Detail]] = defaultdict(list)
    for d in details:
        by_window[d.window].append(d)
    return Breakdown(
        by_service=service_rows(details),
        total=counts_of(details),
        handling_by_window=[handling_of(f"{code} {name}", by_window.get(code, ())) for code, name in window_names],
        handling_by_service=[handling_of(c.header, (d for d in details if d.values.get(c.key) is True))
                             for c in SERVICE_COLUMNS],
        handling_total=handling_of("合计", details),
        bounced=[d for d in details if transfers_of(d) > 1],
        reasons=reason_groups(details, rules),
    )
