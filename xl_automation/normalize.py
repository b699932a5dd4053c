"""Cell value normalisation: full-width text, ticks, dates typed as text, Excel serials."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
TICK_TRUE = frozenset({"√", "✓", "✔", "☑", "是", "y", "yes", "1", "true", "v"})
TICK_FALSE = frozenset({"", "否", "n", "no", "0", "false", "×", "✗", "✘", "-", "—", "□", "☐"})
_EXCEL_EPOCH = {False: datetime(1899, 12, 30), True: datetime(1904, 1, 1)}
_DATE_RE = re.compile(
    r"^(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*[日号]?"
    r"(?:\s*[T\s]?\s*(上午|下午|晚上|早上)?\s*(\d{1,2})\s*[:时点]\s*(\d{1,2})?\s*分?"
    r"(?:\s*[:：]?\s*(\d{1,2})\s*秒?)?)?\s*$")
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


@dataclass(frozen=True)
class Invalid:
    """A cell value that could not be understood; kept so the finding can quote it."""
    raw: Any
    reason: str = ""

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class DateOnly:
    """A date with no time of day, where a time was expected."""
    value: datetime


def halfwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def clean_text(value: Any) -> str:
    """Text as the user meant it: half-width, trimmed, inner runs of spaces folded."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = halfwidth(str(value)).replace("\u00a0", " ").replace("\r", "")
    return re.sub(r"[ \t]+", " ", text).strip()


def header_key(text: Any) -> str:
    """Header text compared without spaces, line breaks, brackets' width or '*' required marks."""
    t = clean_text(text).replace("\n", "").replace(" ", "").replace("*", "")
    return t.replace("（", "(").replace("）", ")")


def parse_tick(value: Any) -> bool | Invalid:
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, (int, float)):
        return True if value == 1 else False if value == 0 else Invalid(value)
    text = clean_text(value).lower()
    if text in TICK_TRUE:
        return True
    if text in TICK_FALSE:
        return False
    return Invalid(value)


def excel_serial_to_datetime(serial: float, date1904: bool = False) -> datetime:
    # round to the second: Excel stores times as binary fractions of a day
    return _EXCEL_EPOCH[date1904] + timedelta(seconds=round(serial * 86400))


def parse_datetime(value: Any, date1904: bool = False) -> datetime | DateOnly | Invalid | None:
    """A datetime from a cell: a datetime, a serial, or text such as 2026年11月3日 9:05."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        # round, not truncate: Excel shows 08:29:59.994 as 08:30
        return (value + timedelta(microseconds=500_000)).replace(microsecond=0, tzinfo=None)
    if isinstance(value, date):
        return DateOnly(datetime.combine(value, time()))
    if isinstance(value, time):
        return Invalid(value, "只有时刻，没有日期")
    if isinstance(value, bool):
        return Invalid(value)
    if isinstance(value, (int, float)):
        if 1 <= value < 2958466:
            return excel_serial_to_datetime(float(value), date1904)
        return Invalid(value)
    text = clean_text(value)
    if not text:
        return None
    m = _DATE_RE.match(text)
    if m:
        y, mo, d, ampm, hh, mm, ss = m.groups()
        hour = int(hh) if hh else None
        if hour is not None and ampm in ("下午", "晚上") and hour < 12:
            hour += 12
        return _build(int(y), int(mo), int(d), hour, int(mm or 0), int(ss or 0), value)
    m = _COMPACT_RE.match(text)
    if m:
        y, mo, d, hh, mm, ss = m.groups()
        return _build(int(y), int(mo), int(d), int(hh) if hh else None, int(mm or 0), int(ss or 0), value)
    try:
        number = float(text)
    except ValueError:
        return Invalid(value)
    return parse_datetime(number, date1904)


def _build(y, mo, d, hour, minute, second, raw):
    try:
        if hour is None:
            return DateOnly(datetime(y, mo, d))
        return datetime(y, mo, d, hour, minute, second)
    except ValueError:
        return Invalid(raw, "日期不存在")
