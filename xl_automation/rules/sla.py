"""The 2-hour clock: response minutes, margin and status per request, elapsed or working hours."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

ON_TIME, LATE, NEAR, WAITING, OVERDUE_OPEN = "按时", "超时", "临近超时", "待回复", "超时未回复"
STATUSES = (ON_TIME, LATE, NEAR, WAITING, OVERDUE_OPEN)
OVERDUE_STATUSES = (LATE, OVERDUE_OPEN)


def describe_minutes(minutes: float) -> str:
    """Minutes as people say them: 45分, 3小时5分, 2天4小时."""
    total = int(round(minutes))
    days, rest = divmod(total, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时"
    return f"{hours}小时{mins}分" if hours else f"{mins}分"


@dataclass(frozen=True, slots=True)
class RowClock:
    minutes: float | None      # response minutes when replied, minutes so far while open
    margin: float | None       # sla - minutes; negative when breached
    status: str | None         # one of STATUSES; None when the receipt time is unknown

    @property
    def overdue(self) -> bool:
        return self.status in OVERDUE_STATUSES


@dataclass
class WorkCalendar:
    """Working days from an override table, then chinesecalendar; uncovered years are recorded."""
    overrides: dict[date, bool] = field(default_factory=dict)   # True = 班 (work), False = 休
    uncovered_years: set[int] = field(default_factory=set)

    @classmethod
    def from_policy(cls, policy: dict[str, Any]) -> "WorkCalendar":
        return cls({date.fromisoformat(o["date"]): o["kind"] == "班"
                    for o in policy.get("calendar_overrides", [])})

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        import chinese_calendar
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            self.uncovered_years.add(day.year)
            return day.weekday() < 5


def _hours(policy: dict[str, Any]) -> list[tuple[time, time]]:
    return [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in policy.get("working_hours", [])]


def working_minutes(start: datetime, end: datetime, policy: dict[str, Any], calendar: WorkCalendar) -> float:
    """Minutes between start and end that fall inside window hours on working days."""
    if end <= start:
        return 0.0
    total = 0.0
    hours = _hours(policy)
    day = start.date()
    while day <= end.date():
        if calendar.is_workday(day):
            for a, b in hours:
                lo = max(start, datetime.combine(day, a))
                hi = min(end, datetime.combine(day, b))
                if hi > lo:
                    total += (hi - lo).total_seconds() / 60
        day += timedelta(days=1)
    return total


class Clock:
    """Computes RowClock values under one policy; `now` is always given."""

    def __init__(self, policy: dict[str, Any], now: datetime):
        self.policy = policy
        self.now = now
        self.sla = float(policy["sla_minutes"])
        self.warn = float(policy["warn_minutes"])
        self.working = policy.get("clock") == "working-hours"
        self.calendar = WorkCalendar.from_policy(policy)

    def minutes_between(self, start: datetime, end: datetime) -> float:
        if self.working:
            return round(working_minutes(start, end, self.policy, self.calendar), 2)
        return round((end - start).total_seconds() / 60, 2)

    def row(self, received: Any, replied: Any) -> RowClock:
        """No status (kept out of every rate and average) without a receipt time of day, with a reply
        that is not a time (a date only, unreadable text) or a reply before the receipt."""
        if not isinstance(received, datetime) or not (replied is None or isinstance(replied, datetime)):
            return RowClock(None, None, None)
        if isinstance(replied, datetime):
            if replied < received:
                return RowClock(None, None, None)
            minutes = self.minutes_between(received, replied)
            return RowClock(minutes, round(self.sla - minutes, 2), ON_TIME if minutes <= self.sla else LATE)
        minutes = self.minutes_between(received, max(received, self.now))
        if minutes > self.sla:
            status = OVERDUE_OPEN
        elif minutes > self.warn:
            status = NEAR
        else:
            status = WAITING
        return RowClock(minutes, round(self.sla - minutes, 2), status)
