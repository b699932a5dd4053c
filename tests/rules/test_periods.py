"""Periods and deadlines for every configuration: start days 1–28, due days 1–31."""
from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from xl_automation.model import config as cfg
from xl_automation.month_end.collect import Collected
from xl_automation.rules.consolidate import Consolidation
from xl_automation.month_end.notice import notice_text
from xl_automation.rules.periods import Period, due_day
from xl_automation.report.workbook import due_at

CONFIG = cfg.load()
start_days = st.integers(1, 28)
due_days = st.integers(1, 31)
periods = st.builds(Period, st.integers(2020, 2035), st.integers(1, 12), start_days)


def conf_with(start: int, due: int) -> cfg.Config:
    conf = cfg.Config(copy.deepcopy(CONFIG.data))
    conf.data["policy"].update(period_start_day=start, submission_due_day=due)
    cfg.check(conf.data, "test")
    return conf


@given(periods, due_days)
@settings(max_examples=2000)
def test_a_period_is_never_due_before_it_ends(period, due):
    last_day = (period.end - timedelta(days=1)).date()
    deadline = period.due_date(due)
    assert deadline > last_day
    assert (deadline - last_day).days <= 31                      # and never a month late
    assert deadline.day == min(due, _month_length(deadline))   # on the configured day (or the month's last)
    # no earlier day with that number lies after the period: it is the first
    earlier = deadline.replace(day=1) - timedelta(days=1)
    assert earlier.replace(day=min(due, earlier.day)) <= last_day


def _month_length(d: date) -> int:
    nxt = d.replace(day=28) + timedelta(days=4)
    return (nxt - timedelta(days=nxt.day)).day


@given(periods)
@settings(max_examples=500)
def test_periods_tile_time_and_contain_their_moments(period):
    nxt = Period.containing(period.end, period.start_day)
    assert nxt.start == period.end and nxt != period
    assert Period.containing(period.start, period.start_day) == period
    assert Period.containing(period.end - timedelta(minutes=1), period.start_day) == period
    assert Period.parse(period.label, period.start_day) == period


@given(start_days, due_days, st.integers(1, 12),
       st.floats(0, 1, exclude_max=True), st.sampled_from(["during", "after"]))
@settings(max_examples=300, deadline=None)
def test_lateness_and_the_notice_agree_with_the_due_date(start, due, month, fraction, when):
    """The report's lateness boundary is 00:00 of the due date; the notice never says the deadline
    passed while the period is still running, and says it exactly from that moment on."""
    conf = conf_with(start, due)
    period = Period(2026, month, start)
    deadline = due_at(period, conf)
    assert deadline == datetime.combine(period.due_date(due_day(conf.policy)), time.min)
    assert deadline >= period.end
    if when == "during":
        now = period.start + timedelta(seconds=int((period.end - period.start).total_seconds() * fraction))
    else:
        now = deadline + timedelta(days=fraction * 20) - timedelta(days=10)
    text = notice_text(Collected([]), Consolidation(period, [], [], 0, 0), conf, now)
    assert ("已过报送截止日" in text) is (now.date() >= deadline.date())
    if when == "during":
        assert "已过报送截止日" not in text and f"请于 {deadline:%m月%d日}前报送" in text


@pytest.mark.parametrize("start, due, label, expected", [
    (25, 25, "2026-11", date(2026, 11, 25)),     # the notice: 每月25日之前, periods 25th to 24th
    (1, 25, "2026-11", date(2026, 12, 25)),      # calendar months: due in the next month
    (25, 5, "2026-11", date(2026, 12, 5)),
    (25, 28, "2026-11", date(2026, 11, 28)),
    (1, 31, "2026-01", date(2026, 2, 28)),       # the last day of a shorter month
    (1, 1, "2026-12", date(2027, 1, 1)),
    (25, 25, "2026-12", date(2026, 12, 25)),
    (10, 9, "2026-01", date(2026, 2, 9)),
])
def test_due_dates_named(start, due, label, expected):
    assert Period.parse(label, start).due_date(due) == expected


def test_the_due_day_is_a_checked_policy_value():
    assert due_day(CONFIG.policy) == 25
    data = copy.deepcopy(CONFIG.data)
    data["policy"]["submission_due_day"] = 32
    with pytest.raises(cfg.ConfigError, match="submission_due_day"):
        cfg.check(data, "x.json")
    del data["policy"]["submission_due_day"]
    with pytest.raises(cfg.ConfigError, match="submission_due_day"):
        cfg.check(data, "x.json")
