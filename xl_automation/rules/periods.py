"""Statistical periods: month M runs from day `start` of M-1 00:00 to day `start` of M 00:00."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{1,2})$")


def due_day(policy: dict) -> int:
    """The configured submission due day (config policy `submission_due_day`)."""
    return int(policy["submission_due_day"])


def _day_in_month(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


class PeriodError(ValueError):
    """A period string that is not YYYY-MM."""


@dataclass(frozen=True)
class Period:
    year: int
    month: int
    start_day: int = 25

    @classmethod
    def parse(cls, text: str, start_day: int = 25) -> "Period":
        m = _PERIOD_RE.match(text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise PeriodError(f"统计周期“{text}”格式不对，应为 YYYY-MM，如 2026-11")
        return cls(int(m.group(1)), int(m.group(2)), start_day)

    @classmethod
    def containing(cls, moment: datetime, start_day: int = 25) -> "Period":
        """The period a moment belongs to."""
        y, m = moment.year, moment.month
        if start_day > 1 and moment.day >= start_day:
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return cls(y, m, start_day)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        if self.start_day == 1:
            return datetime(self.year, self.month, 1)
        y, m = (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)
        return datetime(y, m, self.start_day)

    @property
    def end(self) -> datetime:
        """Exclusive end."""
        if self.start_day == 1:
            y, m = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
            return datetime(y, m, 1)
        return datetime(self.year, self.month, self.start_day)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def due_date(self, due_day: int) -> date:
        """The day reports are due before (the notice: 每月25日之前): the first day numbered `due_day`
        (the month's last day when it is shorter) on or after the day after the period's last day, so a
        period is never due before it ends. Start day 25, due day 25: 2026-11 is due before 2026-11-25;
        start day 1, due day 25: 2026-11 is due before 2026-12-25; start day 25, due day 5: 2026-12-05."""
        end = self.end.date()
        due = _day_in_month(end.year, end.month, due_day)
        if due < end:
            y, m = (end.year + 1, 1) if end.month == 12 else (end.year, end.month + 1)
            due = _day_in_month(y, m, due_day)
        return due

    def describe(self) -> str:
        last = self.end - timedelta(days=1)
        return f"{self.start:%Y-%m-%d} 至 {last:%Y-%m-%d}"
