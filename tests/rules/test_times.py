"""Times that are real times: midnight in date-time cells, date-only cells, text times as clerks type them."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from xl_automation.rules.normalize import DateOnly, Invalid, clock_hour, parse_datetime
from xl_automation.xlsx.number_formats import format_shows_time
from xl_automation.xlsx.reader import read_ledger

from support.ledger_files import Formatted, sample_row, write_ledger

DATE_ONLY_FORMATS = ("yyyy-mm-dd", 'yyyy"年"m"月"d"日"', "m/d/yyyy", "[$-804]yyyy/m/d;@")
DATETIME_FORMATS = ("yyyy-mm-dd hh:mm", 'yyyy"年"m"月"d"日" hh:mm', "m/d/yyyy h:mm AM/PM",
                    "yyyy/m/d h:mm:ss", 'yyyy-mm-dd h"时"mm"分"', '[$-804]yyyy/m/d 上午/下午h"时"mm"分"')
_HALF_TO_FULL = {i: i + 0xFEE0 for i in range(0x21, 0x7F)}


def _dian(d: datetime) -> str:
    minute = {0: "", 30: "半", 15: "一刻", 45: "三刻"}.get(d.minute, f"{d.minute:02d}")
    return f"{d.hour}点{minute}"


def _twelve(d: datetime, morning: str, evening: str) -> str:
    h = d.hour % 12 or 12
    return f"{morning if d.hour < 12 else evening}{h}:{d.minute:02d}"


def _night(d: datetime) -> str:
    if 17 <= d.hour <= 23:
        return f"晚上{d.hour - 12}点{d.minute:02d}分"
    if d.hour < 6:
        return f"凌晨{d.hour % 12 or 12}:{d.minute:02d}"
    return f"{d.hour}:{d.minute:02d}"


# every text form a clerk may type: (name, date part, time part)
DATE_FORMS = {
    "iso": lambda d: f"{d:%Y-%m-%d}", "chinese": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "slash": lambda d: f"{d.year}/{d.month}/{d.day}", "dots": lambda d: f"{d.year}.{d.month}.{d.day}",
    "compact": lambda d: f"{d:%Y%m%d}", "hao": lambda d: f"{d.year}年{d.month}月{d.day}号",
    "all-characters": lambda d: "".join(_CN[int(c)] for c in str(d.year)).replace("零", "〇")
    + f"年{_cn(d.month)}月{_cn(d.day)}日",
}
TIME_FORMS = {
    "hh:mm": lambda d: f"{d:%H:%M}", "h:mm": lambda d: f"{d.hour}:{d.minute:02d}",
    "seconds": lambda d: f"{d:%H:%M:%S}", "dian": _dian, "shi-fen": lambda d: f"{d.hour}时{d.minute}分",
    "shang-xia-wu": lambda d: _twelve(d, "上午", "下午"), "am-pm": lambda d: f"{d.hour % 12 or 12}:{d.minute:02d} "
    + ("AM" if d.hour < 12 else "PM"), "night": _night,
    "afternoon-24h": lambda d: f"下午{d:%H:%M}" if d.hour >= 12 else f"{d:%H:%M}",
    "chinese-numerals": lambda d: _chinese_numerals(d),
}
_CN = "零一二三四五六七八九"


def _cn(n: int) -> str:
    """12 as 十二, 20 as 二十, 5 as 五: the way clerks write hours and minutes in characters."""
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else _CN[tens]) + "十" + (_CN[ones] if ones else "")) if tens else _CN[ones]


def _chinese_numerals(d: datetime) -> str:
    word = "上午" if d.hour < 12 else "下午"
    hour = d.hour % 12 or 12
    minute = {0: "", 30: "半", 15: "一刻", 45: "三刻"}.get(d.minute, f"零{_CN[d.minute]}" if d.minute < 10
                                                        else _cn(d.minute) + "分")
    return f"{word}{_cn(hour)}点{minute}"


moments = st.one_of(
    st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31)).map(lambda d: d.replace(microsecond=0)),
    st.builds(lambda day, t: datetime.combine(day, t), st.dates(date(2020, 1, 1), date(2030, 12, 31)),
              st.sampled_from([time(0, 0), time(0, 1), time(0, 30), time(11, 59), time(12, 0), time(12, 30),
                               time(23, 59), time(0, 0, 59), time(12, 0, 1)])))


@st.composite
def text_case(draw):
    d = draw(moments)
    form = draw(st.sampled_from(sorted(TIME_FORMS)))
    if form != "seconds":
        d = d.replace(second=0)
    date_form = draw(st.sampled_from(sorted(DATE_FORMS)))
    day = DATE_FORMS[date_form](d)
    # clerks write 3日9:05 without a space, and a space (or ISO's T) after digits
    seps = [" ", "  "] + ([""] if day.endswith(("日", "号")) else []) + (["T"] if date_form == "iso" else [])
    text = day + draw(st.sampled_from(seps)) + TIME_FORMS[form](d)
    if draw(st.booleans()):
        text = text.translate(_HALF_TO_FULL)
    return text, d


@st.composite
def cell_case(draw):
    """A value written into a date-time column, and what reading it must give."""
    kind = draw(st.sampled_from(["text", "datetime-cell", "date-cell", "time-in-date-format", "date-text"]))
    if kind == "text":
        return draw(text_case())
    d = draw(moments).replace(second=0)
    if kind == "datetime-cell":
        return Formatted(d, draw(st.sampled_from(DATETIME_FORMATS))), d
    day = datetime.combine(d.date(), time())
    if kind == "date-cell":
        return Formatted(day, draw(st.sampled_from(DATE_ONLY_FORMATS))), DateOnly(day)
    if kind == "date-text":
        return DATE_FORMS[draw(st.sampled_from(sorted(DATE_FORMS)))](d), DateOnly(day)
    # a time of day in a cell whose format hides it: the value is still that time
    d = d if d.time() != time() else d + timedelta(minutes=1)
    return Formatted(d, draw(st.sampled_from(DATE_ONLY_FORMATS))), d


@given(text_case())
@settings(max_examples=400, deadline=None)
def test_every_text_form_parses_to_its_moment(case):
    text, moment = case
    assert parse_datetime(text) == moment, text


@given(st.lists(cell_case(), min_size=1, max_size=6), st.sampled_from(["xlsxwriter", "openpyxl"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_cells_and_text_read_back_exactly(tmp_path_factory, cases, engine):
    rows = [sample_row(i) | {"received_at": value, "replied_at": value} for i, (value, _) in enumerate(cases)]
    path = write_ledger(tmp_path_factory.mktemp("t") / "t.xlsx", rows, engine=engine)
    read = read_ledger(path).rows
    assert [r.values["received_at"] for r in read] == [want for _, want in cases]
    assert [r.values["replied_at"] for r in read] == [want for _, want in cases]


@pytest.mark.parametrize("word, hour, expected", [
    ("上午", 12, 0), ("凌晨", 12, 0), ("早上", 7, 7), ("上午", 11, 11), ("中午", 12, 12), ("中午", 1, 13),
    ("下午", 12, 12), ("下午", 3, 15), ("下午", 15, 15), ("晚上", 8, 20), ("PM", 12, 12), ("AM", 12, 0),
    (None, 0, 0), (None, 23, 23), ("上午", 15, None), ("晚上", 12, None), ("晚上", 2, None), (None, 24, None),
])
def test_twelve_hour_words(word, hour, expected):
    assert clock_hour(word, hour) == expected


@pytest.mark.parametrize("text, reason", [
    ("9:05", "只有时刻"), ("下午3点", "只有时刻"), ("2026-11-03 晚上12点", "歧义"), ("2026-11-03 上午15:00", "不符"),
    ("2026-11-03 24:00", "超过 23"), ("2026-11-03 9:75", "超过 59"), ("2026-02-30 9:00", "不存在"),
])
def test_times_that_cannot_be_read_say_why(text, reason):
    value = parse_datetime(text)
    assert isinstance(value, Invalid) and reason in value.reason


@pytest.mark.parametrize("code, shows", [
    ("yyyy-mm-dd hh:mm", True), ("yyyy-mm-dd", False), ('yyyy"年"m"月"d"日"', False), ("m/d/yyyy h:mm AM/PM", True),
    ('yyyy"h"mm', False), ("[h]:mm", True), ("[$-804]yyyy/m/d;@", False), ('yyyy/m/d "hs"', False),
    ("yyyy-mm-dd\\ hh:mm:ss", True), ('上午/下午h"时"', True),
])
def test_number_format_shows_time(code, shows):
    assert format_shows_time(code) is shows


def test_midnight_in_xls_decided_by_its_column(tmp_path):
    """.xls has no styles part to read: a date in a column whose other cells carry times is midnight."""
    from support.ledger_files import convert_with_soffice
    import shutil
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice (soffice) is not installed: tests/run.sh installs it")
    rows = [sample_row(0) | {"received_at": datetime(2026, 11, 3, 0, 0)}, sample_row(1)]
    xlsx = write_ledger(tmp_path / "t.xlsx", rows)
    ledger = read_ledger(convert_with_soffice(xlsx, "xls", tmp_path))
    assert ledger.rows[0].values["received_at"] == datetime(2026, 11, 3, 0, 0)
    assert isinstance(ledger.rows[0].values["received_at"], datetime)


@pytest.mark.parametrize("kept", [True, False], ids=["xml-kept-by-the-hidden-row-scan", "xml-read-again"])
def test_formats_found_across_chunk_boundaries(tmp_path, monkeypatch, kept):
    """The sheet is searched in chunks: a cell reference split between two chunks is still found, in the
    XML the hidden-row scan kept and in the XML read again when it kept none (a sheet too large)."""
    import xl_automation.xlsx.number_formats as nf
    import xl_automation.xlsx.xlsx_probe as xp
    monkeypatch.setattr(nf, "_CHUNK", 97)
    monkeypatch.setattr(xp, "_CHUNK", 89)
    if not kept:
        monkeypatch.setattr(xp, "KEEP_XML_BYTES", 500)
    seen = []
    real = nf.cells_showing_time
    monkeypatch.setattr(xp, "cells_showing_time", lambda *a: seen.append(a[-1] is not None) or real(*a))
    midnight, day = datetime(2026, 11, 3, 0, 0), datetime(2026, 11, 4)
    rows = [sample_row(i) | {"received_at": Formatted(midnight if i % 2 else day, "yyyy-mm-dd hh:mm" if i % 2
                                                      else "yyyy-mm-dd")} for i in range(40)]
    read = read_ledger(write_ledger(tmp_path / "t.xlsx", rows)).rows
    assert [r.values["received_at"] for r in read] == [midnight if i % 2 else DateOnly(day) for i in range(40)]
    assert seen == [kept]


@pytest.mark.parametrize("near", [64, 4096])
def test_formats_found_from_near_their_rows(tmp_path, monkeypatch, near):
    """A wanted cell is looked for from near its row, found by halving the XML on row numbers: midnights
    and whole days far apart in a long sheet, several in one row, each told apart by its own format."""
    import xl_automation.xlsx.number_formats as nf
    monkeypatch.setattr(nf, "_NEAR", near)
    midnight, day, stamp = datetime(2026, 11, 3, 0, 0), datetime(2026, 11, 4), datetime(2026, 11, 5, 9, 30)

    def cell(i: int, k: int):
        if (i + k) % 37 == 0:
            return Formatted(midnight, "yyyy-mm-dd hh:mm")
        if (i + k) % 41 == 0:
            return Formatted(day, "yyyy-mm-dd")
        return stamp + timedelta(minutes=i)
    keys = ("received_at", "posted_at", "replied_at")
    rows = [sample_row(i) | {key: cell(i, k) for k, key in enumerate(keys)} for i in range(1500)]
    read = read_ledger(write_ledger(tmp_path / "t.xlsx", rows)).rows
    want = [[midnight if (i + k) % 37 == 0 else DateOnly(day) if (i + k) % 41 == 0 else stamp + timedelta(minutes=i)
             for k in range(len(keys))] for i in range(1500)]
    assert [[r.values[key] for key in keys] for r in read] == want
