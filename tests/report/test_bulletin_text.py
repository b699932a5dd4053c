"""The 通报's sentences alone (bulletin_text), without a document: the whole 通报 is read back in test_bulletin.py."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from hypothesis import given, strategies as st

from xl_automation.model import config as cfg
from xl_automation.report import bulletin_text as text
from xl_automation.rules.sla import LATE, OVERDUE_OPEN

CONFIG = cfg.load()
START = datetime(2026, 11, 1, 8)


def _detail(status: str, minutes: float | None, hours_after: int, request_id: str):
    return SimpleNamespace(window="ZLS02", file="台账.xlsx", source_row=3,
                           clock=SimpleNamespace(status=status, minutes=minutes, overdue=True),
                           values={"request_id": request_id, "received_at": START + timedelta(hours=hours_after)})


details = st.lists(st.tuples(st.sampled_from([LATE, OVERDUE_OPEN]), st.integers(121, 5000), st.integers(0, 600)),
                   min_size=1, max_size=12)


@given(details)
def test_the_most_serious_overdue_items_come_first(items):
    ds = [_detail(s, m if s == LATE else None, h, f"ZLS02-{i:03d}") for i, (s, m, h) in enumerate(items)]
    ordered = sorted(ds, key=text.seriousness)
    statuses = [d.clock.status for d in ordered]
    assert statuses == sorted(statuses, key=lambda s: s == LATE)           # never answered before answered late
    late = [d.clock.minutes for d in ordered if d.clock.status == LATE]
    assert late == sorted(late, reverse=True)                              # then the longest waits


@given(details)
def test_a_window_names_at_most_two_items_and_says_how_many(items):
    ds = [_detail(s, m if s == LATE else None, h, f"ZLS02-{i:03d}") for i, (s, m, h) in enumerate(items)]
    status = SimpleNamespace(code="ZLS02", name="张店窗口", supervisor="张店分公司")
    opening, units = text.overdue(ds, SimpleNamespace(statuses=[status]), [], len(ds))
    assert f"共{len(ds)}件" in opening
    (unit,) = units
    assert unit.startswith(f"张店分公司：张店窗口超时{len(ds)}件：")
    assert sum(unit.count(d.values["request_id"]) for d in ds) == min(len(ds), text.ITEMS_PER_WINDOW)
    assert unit.endswith("等。") == (len(ds) > text.ITEMS_PER_WINDOW)


def test_no_overdue_item_is_said_in_one_sentence():
    assert text.overdue([], SimpleNamespace(statuses=[]), [], 0) == ("本期没有超过2小时未联系的业务。", [])


@given(st.text("淄博市水务集团有限公司", min_size=1), st.sampled_from(["集团营销服务中心", "营销服务中心", ""]))
def test_the_sender_never_says_the_group_twice(name, centre):
    signed = text.signature({"name": "淄博" + name + "集团", "centre": centre})
    assert signed.startswith("淄博" + name + "集团") and signed.endswith(centre.removeprefix("集团"))
    assert "集团集团" not in signed.replace("淄博" + name + "集团", "", 1)


@given(st.sets(st.integers(0, 7)), st.sets(st.integers(0, 7)), st.sets(st.integers(0, 7)))
def test_the_submission_sentence_names_exactly_the_missing_late_and_resubmitted(missing, late, again):
    statuses = [SimpleNamespace(name=f"窗口{i}", missing=i in missing, late=i in late, resubmitted=i in again)
                for i in range(8)]
    said = text.submissions(SimpleNamespace(statuses=statuses), CONFIG, [])
    for names, label, none in ((missing, "未报送的窗口：", "各窗口均已报送"), (late, "逾期报送的窗口：", "无逾期报送"),
                               (again, "重新报送的窗口：", "无重新报送")):
        if names:
            assert label + "、".join(f"窗口{i}" for i in sorted(names)) in said
        else:
            assert none in said and label not in said


def test_the_submission_sentence_says_what_a_resubmission_dropped_and_who_is_counted_by_an_older_copy():
    statuses = [SimpleNamespace(name="窗口1", missing=False, late=False, resubmitted=True)]
    said = text.submissions(SimpleNamespace(statuses=statuses), CONFIG, [], 3, ["窗口2"])
    assert "重新报送后不再出现的需求3件" in said and "窗口2较晚的报送无法使用，本期按其较早的报送汇总" in said
    quiet = text.submissions(SimpleNamespace(statuses=statuses), CONFIG, [])
    assert "不再出现" not in quiet and "较晚的报送" not in quiet
