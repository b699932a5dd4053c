"""The 2-hour clock under both policies: elapsed time, and window hours with holidays and 调休."""
from datetime import date, datetime, time

import pytest
from hypothesis import given, settings, strategies as st

from xl_automation.model import config as cfg
from xl_automation.rules.normalize import DateOnly, Invalid
from xl_automation.rules.sla import Clock, RowClock, WorkCalendar, working_minutes
from xl_automation.rules.validate import check_ledger

from support.rows import good_row, ledger_of

BASE = cfg.load().policy


def policy(**changes):
    return {**BASE, "clock": "working-hours", **changes}


def test_elapsed_clock_runs_through_nights():
    clock = Clock(BASE, datetime(2026, 11, 20, 12))
    assert clock.row(datetime(2026, 11, 18, 17, 0), datetime(2026, 11, 19, 8, 30)).minutes == 930


def test_working_hours_skip_the_night_and_lunch():
    clock = Clock(policy(), datetime(2026, 11, 20, 12))
    # 17:00-17:30 on Wednesday, then 08:30-12:00 and 13:30-14:00 on Thursday
    row = clock.row(datetime(2026, 11, 18, 17, 0), datetime(2026, 11, 19, 14, 0))
    assert (row.minutes, row.status) == (30 + 210 + 30, "超时")


def test_national_day_holiday_and_adjusted_working_saturday():
    cal = WorkCalendar()
    assert not cal.is_workday(datetime(2026, 10, 1).date())            # 国庆节
    assert cal.is_workday(datetime(2026, 10, 10).date())               # 调休上班的星期六
    assert not cal.is_workday(datetime(2026, 11, 21).date())           # an ordinary Saturday
    assert cal.uncovered_years == set()


def test_the_override_table_wins_over_the_calendar():
    p = policy(calendar_overrides=[{"date": "2026-11-21", "kind": "班"}, {"date": "2026-11-20", "kind": "休"}])
    cal = WorkCalendar.from_policy(p)
    # Friday made a day off, Saturday made a working day: 16:00 Fri -> 09:00 Sat counts only 08:30-09:00
    assert working_minutes(datetime(2026, 11, 20, 16), datetime(2026, 11, 21, 9), p, cal) == 30


def test_a_year_the_calendar_does_not_cover_is_a_visible_warning_not_a_guess():
    row = good_row(request_id="ZLS01-20270108-001", received_at=datetime(2027, 1, 8, 16, 0), posted_at=None,
                   replied_at=datetime(2027, 1, 11, 9, 0), closed_at=datetime(2027, 1, 12, 9, 0))
    conf = cfg.load()
    conf.data["policy"] = policy()
    check = check_ledger(ledger_of(row), conf, datetime(2027, 1, 20))
    warnings = [f for f in check.findings if f.code == "calendar-uncovered"]
    assert len(warnings) == 1 and "2027" in warnings[0].message and warnings[0].severity == "warning"
    assert check.clocks[4].minutes == 90 + 30          # weekdays still counted, Monday 08:30-09:00


@pytest.mark.parametrize("clock_kind", ["elapsed", "working-hours"])
def test_exactly_the_limit_is_on_time_under_both_clocks(clock_kind):
    clock = Clock({**BASE, "clock": clock_kind}, datetime(2026, 11, 20, 12))
    assert clock.row(datetime(2026, 11, 19, 9, 0), datetime(2026, 11, 19, 11, 0)).status == "按时"
    assert clock.row(datetime(2026, 11, 19, 9, 0), datetime(2026, 11, 19, 11, 1)).status == "超时"


@pytest.mark.parametrize("minutes, text", [(45, "45分"), (125, "2小时5分"), (35788, "24天20小时"), (0.4, "0分")])
def test_durations_read_as_people_say_them(minutes, text):
    from xl_automation.rules.sla import describe_minutes
    assert describe_minutes(minutes) == text


def test_a_reply_before_its_receipt_has_no_status_and_is_an_error():
    received, replied = datetime(2026, 11, 3, 9, 30), datetime(2026, 11, 3, 9, 0)
    assert Clock(BASE, datetime(2026, 11, 20)).row(received, replied) == RowClock(None, None, None)
    check = check_ledger(ledger_of(good_row(received_at=received, posted_at=None, replied_at=replied)),
                         cfg.load(), datetime(2026, 11, 20))
    assert check.clocks[4].status is None
    [f] = [f for f in check.findings if f.code == "time-before-received"]
    assert f.severity == "error" and f.column == "回复对接时间" and "早于受理时间" in f.message


def test_a_date_only_receipt_or_reply_has_no_clock():
    clock = Clock(BASE, datetime(2026, 11, 20))
    day = DateOnly(datetime(2026, 11, 3))
    assert clock.row(day, datetime(2026, 11, 3, 9)) == RowClock(None, None, None)
    assert clock.row(datetime(2026, 11, 3, 9), day) == RowClock(None, None, None)
    assert clock.row(datetime(2026, 11, 3, 9), Invalid("明天")) == RowClock(None, None, None)


times = st.one_of(st.none(), st.datetimes(datetime(2026, 10, 1), datetime(2026, 12, 31)),
                  st.dates(date(2026, 10, 1), date(2026, 12, 31)).map(lambda d: DateOnly(datetime.combine(d, time()))))


@given(times, times, st.sampled_from(["elapsed", "working-hours"]))
@settings(max_examples=300, deadline=None)
def test_a_clock_is_never_negative_and_has_a_status_only_for_real_times(received, replied, kind):
    """For every pair of values: a status exactly when the receipt is a time and the reply is a time
    not before it (or no reply yet); minutes are never negative."""
    row = Clock({**BASE, "clock": kind}, datetime(2026, 12, 31, 23)).row(received, replied)
    real = isinstance(received, datetime) and (replied is None or (isinstance(replied, datetime)
                                                                   and replied >= received))
    assert (row.status is not None) is real
    assert row.minutes is None or row.minutes >= 0
    if replied is not None and row.status is not None:
        assert row.status in ("按时", "超时") and (row.status == "按时") is (row.margin >= 0)
