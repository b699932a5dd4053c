"""Cell value normalisation: full-width text, ticks, dates typed as text, Excel serials."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from xl_automation.model.text import clean_text, halfwidth, header_key  # noqa: F401  (offered here too)

TICK_TRUE = frozenset({"√", "✓", "✔", "☑", "是", "y", "yes", "1", "true", "v"})
TICK_FALSE = frozenset({"", "否", "n", "no", "0", "false", "×", "✗", "✘", "-", "—", "□", "☐"})
_EXCEL_EPOCH = {False: datetime(1899, 12, 30), True: datetime(1904, 1, 1)}
_DATE_PART = (r"(?:(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*[日号]?"
              r"|(\d{4})(\d{2})(\d{2})(?=$|[\sT]))")
# a time of day as clerks type it: 9:05, 9:05:30, 9点05, 9点半, 8点一刻, 15时20分, 下午3点, 上午12:30, 9:05 PM
_TIME_PART = (r"(上午|早上|早晨|凌晨|中午|下午|傍晚|晚上|夜里|am|pm)?\s*(\d{1,2})\s*"
              r"(?:[:时点]\s*(?:(\d{1,2})\s*分?|(半)|(一刻|1刻|三刻|3刻))?\s*(?::\s*(\d{1,2})\s*秒?)?)"
              r"\s*(am|pm)?")
_DATE_RE = re.compile(rf"^{_DATE_PART}(?:\s*T?\s*,?\s*{_TIME_PART})?\s*$", re.I)
_TIME_ONLY_RE = re.compile(rf"^{_TIME_PART}$", re.I)
_QUARTERS = {"半": 30, "一刻": 15, "1刻": 15, "三刻": 45, "3刻": 45}
_MORNING = frozenset({"上午", "早上", "早晨", "凌晨", "am"})
_EVENING = frozenset({"下午", "傍晚", "晚上", "夜里", "pm"})
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile("[零〇一二两三四五六七八九十]+")
_NIGHT = frozenset({"晚上", "夜里"})      # 晚上12点 / 晚上2点: midnight or noon? asked, never guessed


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
    if _CN_NUMBER.search(text):
        text = _CN_NUMBER.sub(_arabic, text)      # 二〇二六年十一月三日 下午三点半
    m = _DATE_RE.match(text)
    if m:
        return _from_match(m.groups(), value)
    if _TIME_ONLY_RE.match(text):
        return Invalid(value, "只有时刻，没有日期")
    try:
        number = float(text)
    except ValueError:
        return Invalid(value)
    return parse_datetime(number, date1904)


def _arabic(m: re.Match) -> str:
    """Chinese numerals as clerks write them in dates and times: 二〇二六 (digit by digit), 十一, 二十三,
    零五; 一刻 / 三刻 become 1刻 / 3刻, which the time pattern reads as quarters."""
    text = m.group(0)
    if "十" not in text:
        return "".join(str(_CN_DIGITS[ch]) for ch in text)
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return text
    return str(_CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(ones, 0))


def clock_hour(word: str | None, hour: int) -> int | None:
    """The 24-hour hour of "上午12" (0), "下午3" (15), "下午15" (15); None when the words contradict
    the number (上午15点) or leave it ambiguous (晚上12点 may be midnight or the next day's)."""
    word = (word or "").lower() or None
    if word is None or hour > 12:
        return hour if hour <= 23 and (word is None or word in _EVENING) else None
    if word in _MORNING:
        return 0 if hour == 12 else hour
    if word == "中午":
        return hour if hour in (11, 12) else hour + 12 if 1 <= hour <= 2 else None
    if word in _NIGHT and not 5 <= hour <= 11:
        return None
    return hour if hour == 12 else hour + 12


def _from_match(groups, raw):
    y, mo, d = (int(g) for g in (groups[:3] if groups[0] else groups[3:6]))
    word, hh, mm, half, quarter, ss, suffix = groups[6:]
    if hh is None:
        return _build(y, mo, d, None, 0, 0, raw)
    if word and suffix:
        return Invalid(raw, "上午/下午写了两次")
    hour = clock_hour(word or suffix, int(hh))
    minute = int(mm) if mm else _QUARTERS.get(half or quarter or "", 0)
    if int(hh) > 23:
        return Invalid(raw, "钟点超过 23，午夜请写 00:00")
    if hour is None:
        return Invalid(raw, "钟点与上午/下午/晚上不符或有歧义，请写 24 小时制，如 00:30、15:20")
    if minute > 59 or int(ss or 0) > 59:
        return Invalid(raw, "分钟或秒超过 59")
    return _build(y, mo, d, hour, minute, int(ss or 0), raw)


def _build(y, mo, d, hour, minute, second, raw):
    try:
        if hour is None:
            return DateOnly(datetime(y, mo, d))
        return datetime(y, mo, d, hour, minute, second)
    except ValueError:
        return Invalid(raw, "日期不存在")
