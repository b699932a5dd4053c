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

from xl_automation.model.ledger import Picker
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
    """service_rows, counts_of, handling_of per window, per service and in all, the bounced requests and
    reason_groups, with each request's values read once (a month has a million): what calling each of them
    on its own gives."""
    tallies: dict[tuple[str, str], Counter] = defaultdict(Counter)   # (service, type or 合计) -> outcomes
    total: Counter = Counter()
    hours_by_window: dict[str, list[float]] = defaultdict(list)
    hours_by_service: dict[str, list[float]] = defaultdict(list)
    hours_total: list[float] = []
    bounced: list[Detail] = []
    for d in details:
        picked = _PICK(d.values)
        result = picked[_RESULT]
        outcome = (result or "办理中", result == "已转办" or bool(d.handled_by), bool(d.clock.overdue))
        total[outcome] += 1
        kind = picked[_INSTALL]
        kind = kind if kind in INSTALL_TYPES else NO_TYPE
        hours = _hours(result, picked[_RECEIVED], picked[_CLOSED])
        for header, ticked in zip(_SERVICE_HEADERS, picked):
            if ticked is True:
                tallies[(header, "合计")][outcome] += 1
                tallies[(header, kind)][outcome] += 1
                if hours is not None:
                    hours_by_service[header].append(hours)
        if hours is not None:
            hours_by_window[d.window].append(hours)
            hours_total.append(hours)
        if len(d.handled_by) + (result == "已转办") > 1:
            bounced.append(d)
    by_service = []
    for header in _SERVICE_HEADERS:
        by_service.append((header, "合计", _counts(tallies.get((header, "合计"), Counter()))))
        for t in (*INSTALL_TYPES, NO_TYPE):
            if tallies.get((header, t)):
                by_service.append((header, t, _counts(tallies[(header, t)])))
    return Breakdown(
        by_service=by_service,
        total=_counts(total),
        handling_by_window=[_handling(f"{code} {name}", hours_by_window.get(code, [])) for code, name in window_names],
        handling_by_service=[_handling(header, hours_by_service.get(header, [])) for header in _SERVICE_HEADERS],
        handling_total=_handling("合计", hours_total),
        bounced=bounced,
        reasons=reason_groups(details, rules),
    )


def _counts(outcomes: Counter) -> dict[str, int]:
    """counts_of, from the requests' (result, transferred, overdue) tallied."""
    c = dict.fromkeys((k for k, _ in COUNTS), 0)
    for (result, transferred, overdue), n in outcomes.items():
        c["received"] += n
        c["closed"] += n * (result == "已办结")
        c["unable"] += n * (result == "无法办理")
        c["in_progress"] += n * (result == "办理中")
        c["transferred"] += n * transferred
        c["overdue"] += n * overdue
    return c


def _hours(result: Any, received: Any, closed: Any) -> float | None:
    """handling_hours from the three values it reads."""
    if result != "已办结" or not isinstance(received, datetime) or not isinstance(closed, datetime):
        return None
    if closed < received:
        return None
    return (closed - received).total_seconds() / 3600


def _handling(label: str, hours: list[float]) -> Handling:
    """handling_of, from the hours already worked out (in the requests' order)."""
    if not hours:
        return Handling(label, 0, None, None)
    return Handling(label, len(hours), round_half_up(sum(hours) / len(hours), 1),
                    round_half_up(statistics.median(hours), 1))


# the values breakdown reads: the service ticks first, then the four below
_KEYS = (*(c.key for c in SERVICE_COLUMNS), "result", "install_type", "received_at", "closed_at")
_RESULT, _INSTALL, _RECEIVED, _CLOSED = range(len(SERVICE_COLUMNS), len(_KEYS))
_PICK = Picker(_KEYS)
_SERVICE_HEADERS = tuple(c.header for c in SERVICE_COLUMNS)
