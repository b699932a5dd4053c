"""The 三.5 breakdown's rules, for every input (hypothesis), and the wording of 环比."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from hypothesis import given, settings, strategies as st

from xl_automation.model import config as cfg
from xl_automation.rules.breakdown import (COUNTS, NO_TYPE, OTHER_CATEGORY, Breakdown, breakdown, categorise,
                                           counts_of, handling_hours, handling_of, reason_groups, service_rows,
                                           transfers_of)
from xl_automation.model.ledger import RowValues
from xl_automation.model.schema import COLUMNS
from xl_automation.rules.bulletin_figures import change_text
from xl_automation.rules.consolidate import Detail
from xl_automation.model.schema import BY_KEY, SERVICE_COLUMNS
from xl_automation.rules.sla import LATE, ON_TIME, OVERDUE_OPEN, RowClock

CONF = cfg.load()
RULES = CONF.data["reason_categories"]["rules"]
START = datetime(2026, 10, 25)

reasons = st.one_of(st.just(""), st.text(max_size=12),
                    st.sampled_from([p for r in RULES for p in r["patterns"]]).map(lambda p: f"因{p}暂缓"))


@st.composite
def details(draw):
    values = {c.key: draw(st.booleans()) for c in SERVICE_COLUMNS}
    values["install_type"] = draw(st.sampled_from((*BY_KEY["install_type"].enum, None, "")))
    values["result"] = draw(st.sampled_from((*BY_KEY["result"].enum, None, "")))
    received = START + timedelta(minutes=draw(st.integers(0, 40_000)))
    values["received_at"] = received
    values["closed_at"] = draw(st.one_of(st.none(), st.integers(-600, 20_000).map(lambda m: received + timedelta(minutes=m))))
    values["unresolved_reason"] = draw(reasons)
    status = draw(st.sampled_from((ON_TIME, LATE, OVERDUE_OPEN, None)))
    handled = tuple(draw(st.lists(st.sampled_from(["ZLS02", "ZLS03"]), max_size=2)))
    return Detail(draw(st.sampled_from(["ZLS01", "ZLS02", "JY01"])), values, RowClock(30.0, 90.0, status),
                  "f.xlsx", "0" * 64, 4, handled_by=handled)


WINDOWS = [(w.code, w.name) for w in CONF.windows]


def breakdown_pass_by_pass(details, window_names, rules) -> Breakdown:
    """breakdown as first written, a pass per part over the requests (the oracle)."""
    by_window: dict[str, list] = {}
    for d in details:
        by_window.setdefault(d.window, []).append(d)
    return Breakdown(
        by_service=service_rows(details), total=counts_of(details),
        handling_by_window=[handling_of(f"{code} {name}", by_window.get(code, ())) for code, name in window_names],
        handling_by_service=[handling_of(c.header, (d for d in details if d.values.get(c.key) is True))
                             for c in SERVICE_COLUMNS],
        handling_total=handling_of("合计", details),
        bounced=[d for d in details if transfers_of(d) > 1], reasons=reason_groups(details, rules))


@settings(max_examples=200, deadline=None)
@given(st.lists(details(), max_size=40), st.booleans())
def test_breakdown_in_one_pass_is_what_each_part_gives_on_its_own(ds, as_reader_rows):
    if as_reader_rows:      # a reader row (RowValues, read by position) instead of a dict
        ds = [Detail(d.window, RowValues(d.values.get(c.key) for c in COLUMNS), d.clock, d.file, d.sha256,
                     d.source_row, handled_by=d.handled_by) for d in ds]
    assert breakdown(ds, WINDOWS, RULES) == breakdown_pass_by_pass(ds, WINDOWS, RULES)


@settings(max_examples=150, deadline=None)
@given(st.lists(details(), max_size=40))
def test_breakdown_rows_add_up_and_nothing_is_lost(ds):
    b = breakdown(ds, WINDOWS, RULES)
    keys = [k for k, _ in COUNTS]
    assert b.total["received"] == len(ds)
    # every request has exactly one of the four outcomes (a blank result is still 办理中)
    moved = sum(1 for d in ds if d.values["result"] == "已转办")
    assert b.total["closed"] + b.total["unable"] + b.total["in_progress"] + moved == len(ds)
    for col in SERVICE_COLUMNS:
        rows = [c for svc, kind, c in b.by_service if svc == col.header]
        total, parts = rows[0], rows[1:]
        assert total["received"] == sum(1 for d in ds if d.values[col.key])
        for k in keys:                   # install types (and 未填) partition the service's requests
            assert sum(p[k] for p in parts) == total[k]
    assert {kind for _, kind, _ in b.by_service} <= {"合计", NO_TYPE, *BY_KEY["install_type"].enum}
    # reasons: each 无法办理 request once, under a configured category or 其他
    unable = [d for d in ds if d.values["result"] == "无法办理"]
    assert sum(g.count for g in b.reasons) == len(unable) == b.total["unable"]
    assert sum(sum(g.raw.values()) for g in b.reasons) == len(unable)
    assert {g.category for g in b.reasons} <= {r["category"] for r in RULES} | {OTHER_CATEGORY}
    assert set(map(id, b.bounced)) == {id(d) for d in ds if transfers_of(d) >= 2}
    timed = [h for d in ds if (h := handling_hours(d)) is not None]
    assert b.handling_total.closed == len(timed) and all(h >= 0 for h in timed)
    assert sum(h.closed for h in b.handling_by_window) == sum(1 for d in ds if handling_hours(d) is not None
                                                              and d.window in dict(WINDOWS))


@given(reasons)
def test_a_reason_falls_in_the_first_rule_it_matches(reason):
    category = categorise(reason, RULES)
    matching = [r["category"] for r in RULES if any(p in reason for p in r["patterns"])]
    assert category == (matching[0] if matching else OTHER_CATEGORY)


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_change_in_counts_reads_right(now, before):
    text = change_text(now, before, percent_points=False)
    if now == before:
        assert text == "与上期持平"
    else:
        assert ("增加" in text) == (now > before) and ("减少" in text) == (now < before)
        assert re.search(rf"(?<!\d){abs(now - before)} 件", text)
        assert ("%" in text) == (before > 0)


@given(st.floats(0, 1), st.floats(0, 1))
def test_change_in_rates_reads_in_percentage_points(now, before):
    text = change_text(now, before, percent_points=True)
    if text == "与上期持平":
        assert abs(now - before) * 100 < 0.05 + 1e-9
    else:
        assert ("上升" in text) == (now > before) and ("下降" in text) == (now < before)
        shown = float(re.search(r"([\d.]+) 个百分点", text).group(1))
        assert abs(shown - abs(now - before) * 100) <= 0.05 + 1e-9
    assert change_text(None, before, percent_points=True) == "" == change_text(now, None, percent_points=True)
