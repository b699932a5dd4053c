"""Consolidation rules on in-memory sources: conservation, periods, carry-over, transfers, duplicates."""
from datetime import datetime
from pathlib import Path

import pytest

from xl_automation.model import config as cfg
from xl_automation.rules.consolidate import (EXCLUDED_EARLIER, EXCLUDED_LATER, EXCLUDED_NO_TIME, SAME_PHONE, Source,
                                       consolidate)
from xl_automation.model.ledger import LedgerRow
from xl_automation.rules.normalize import Invalid
from xl_automation.rules.periods import Period
from xl_automation.rules.stats import figures

from support.rows import good_row

CONFIG = cfg.load()
PERIOD = Period.parse("2026-11")
NOW = datetime(2026, 11, 25, 10, 0)


def source(window, *rows, name=None):
    return Source(window, Path(name or f"{window}.xlsx"), "0" * 64,
                  [LedgerRow(4 + i, dict(r)) for i, r in enumerate(rows)], "submission")


def conserved(c):
    return c.rows_in == len(c.details) + c.merged + len(c.excluded)


def test_period_boundaries_with_default_start_day():
    rows = [good_row(request_id="A1", received_at=datetime(2026, 11, 24, 23, 59), replied_at=datetime(2026, 11, 25, 0, 30), closed_at=None, result="办理中"),
            good_row(request_id="A2", received_at=datetime(2026, 11, 25, 0, 0), replied_at=None, closed_at=None, result="办理中"),
            good_row(request_id="A3", received_at=datetime(2026, 10, 25, 0, 0)),
            good_row(request_id="A4", received_at=datetime(2026, 10, 24, 23, 59), closed_at=datetime(2026, 10, 24, 23, 59), replied_at=datetime(2026, 10, 24, 23, 59))]
    c = consolidate([source("ZLS01", *rows)], PERIOD, CONFIG, NOW)
    assert [d.values["request_id"] for d in c.details] == ["A1", "A3"]
    assert {(e.request_id, e.reason) for e in c.excluded} == {("A2", EXCLUDED_LATER), ("A4", EXCLUDED_EARLIER)}
    assert conserved(c)


def test_open_rows_of_earlier_periods_carry_over_marked():
    old_open = good_row(request_id="OLD1", received_at=datetime(2026, 10, 10, 9, 0), replied_at=datetime(2026, 10, 10, 9, 30),
                        posted_at=None, result="办理中", closed_at=None)
    closed_now = good_row(request_id="OLD2", received_at=datetime(2026, 10, 12, 9, 0), replied_at=datetime(2026, 10, 12, 9, 30),
                          posted_at=None, closed_at=datetime(2026, 11, 2, 9, 0))
    c = consolidate([source("ZLS01", old_open, closed_now, good_row())], PERIOD, CONFIG, NOW)
    carried = {d.values["request_id"]: d.carried for d in c.details}
    assert carried == {"OLD1": True, "OLD2": True, "ZLS01-20261103-001": False}


def test_transfer_counts_once_for_accepting_window_and_keeps_its_clock():
    accepted = good_row(request_id="ZLS01-20261110-004", received_at=datetime(2026, 11, 10, 9, 0),
                        replied_at=None, result="已转办", transferred_to="张店分公司", closed_at=None)
    handled = good_row(request_id="ZLS01-20261110-004", channel="联络群转入", received_at=datetime(2026, 11, 10, 10, 30),
                       replied_at=datetime(2026, 11, 10, 11, 30), result="已办结", closed_at=datetime(2026, 11, 11, 9, 0))
    c = consolidate([source("ZLS01", accepted), source("ZLS02", handled)], PERIOD, CONFIG, NOW)
    assert c.merged == 1 and len(c.details) == 1 and conserved(c)
    (d,) = c.details
    assert d.window == "ZLS01" and d.handled_by == ("ZLS02",)
    assert d.clock.minutes == 150.0 and d.clock.status == "超时"   # from the first receipt, not restarted
    assert d.values["result"] == "已办结"
    assert figures(c.details)["received"] == 1


def test_same_id_without_transfer_channel_is_not_merged():
    a, b = good_row(request_id="X-1"), good_row(request_id="X-1", phone="13900001111")
    c = consolidate([source("ZLS01", a), source("ZLS02", b)], PERIOD, CONFIG, NOW)
    assert c.merged == 0 and len(c.details) == 2


def test_cross_window_duplicates_are_flagged_not_merged():
    a = good_row(request_id="A-1", received_at=datetime(2026, 11, 3, 9, 0))
    b = good_row(request_id="B-1", received_at=datetime(2026, 11, 5, 8, 0), phone="138-5331-2345")
    far = good_row(request_id="C-1", received_at=datetime(2026, 11, 9, 9, 0))
    c = consolidate([source("ZLS01", a), source("ZLS02", b), source("ZLS03", far)], PERIOD, CONFIG, NOW)
    dups = {d.values["request_id"]: d.duplicates for d in c.details}
    assert dups == {"A-1": (f"{SAME_PHONE}：ZLS02 B-1",), "B-1": (f"{SAME_PHONE}：ZLS01 A-1",), "C-1": ()}
    assert [(s.kind, s.window, s.other_window) for s in c.suspects] == [(SAME_PHONE, "ZLS02", "ZLS01")]
    assert len(c.details) == 3


def test_rows_without_receipt_time_are_excluded_with_reason():
    c = consolidate([source("ZLS01", good_row(received_at=None), good_row(received_at=Invalid("昨天")))],
                    PERIOD, CONFIG, NOW)
    assert [e.reason for e in c.excluded] == [EXCLUDED_NO_TIME, EXCLUDED_NO_TIME] and conserved(c)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_conservation_on_a_synthetic_month(seed):
    from xl_automation.demo.sample import sample_rows
    sources = []
    for w in CONFIG.windows[:5]:
        rows = sample_rows(w, PERIOD, CONFIG, n=50, seed=seed, now=NOW)
        rows[0]["received_at"] = datetime(2026, 12, 1, 9, 0)        # a later period
        rows[1]["received_at"] = datetime(2026, 9, 1, 9, 0)         # an earlier one
        sources.append(source(w.code, *rows))
    c = consolidate(sources, PERIOD, CONFIG, NOW)
    assert c.rows_in == 250 and conserved(c)
    assert len(c.excluded) >= 5


def test_transfer_chain_whose_accepting_row_is_not_in_the_period_counts_once():
    """A→B→C where A's row is absent (A did not submit, or its row was closed before the period): B and C
    both say 联络群转入. The first receipt owns it, the second merges into it. Found in review:
    consolidation used to crash here (the second row was both merged and listed as a same-id pair)."""
    b = good_row(request_id="T-1", channel="联络群转入", received_at=datetime(2026, 11, 10, 10, 0),
                 result="已转办", transferred_to="ZLS03", closed_at=None)
    c = good_row(request_id="T-1", channel="联络群转入", received_at=datetime(2026, 11, 10, 11, 0))
    cons = consolidate([source("ZLS02", b), source("ZLS03", c)], PERIOD, CONFIG, NOW)
    assert conserved(cons) and cons.merged == 1 and cons.suspects == []
    (d,) = cons.details
    assert (d.window, d.handled_by, d.values["result"]) == ("ZLS02", ("ZLS03",), "已办结")
    assert figures(cons.details)["received"] == 1


def test_a_transfer_joins_the_accepted_request_it_belongs_to_when_two_windows_used_the_same_number():
    """A accepted 张三's request as X-1 and C, by a collision of numbering, 李四's as X-1 a day later; B
    received 李四's through the liaison group. B's row is C's request (same applicant and phone), not a
    受理编号 conflict with A's: it was left standing beside C's row, 李四's request counted twice."""
    a = good_row(request_id="X-1", received_at=datetime(2026, 11, 5, 9), applicant="张三", phone="13800000001")
    c = good_row(request_id="X-1", received_at=datetime(2026, 11, 6, 9), applicant="李四", phone="13900000002")
    b = good_row(request_id="x-1", channel="联络群转入", received_at=datetime(2026, 11, 6, 10), applicant="李四",
                 phone="13900000002")
    cons = consolidate([source("ZLS01", a), source("ZLS02", b), source("ZLS03", c)], PERIOD, CONFIG, NOW)
    assert [(d.window, d.values["applicant"], d.handled_by) for d in cons.details] == [
        ("ZLS01", "张三", ()), ("ZLS03", "李四", ("ZLS02",))]
    assert [(s.kind, s.window, s.other_window) for s in cons.suspects if s.kind != SAME_PHONE] == [
        ("同一受理编号（未经联络群转入）", "ZLS03", "ZLS01")]
    assert conserved(cons) and cons.merged == 1
    # a transfer plausibly neither's stays apart, listed as a conflict with the first acceptor
    stranger = dict(b, applicant="王五", phone="13700000003")
    cons = consolidate([source("ZLS01", a), source("ZLS02", stranger), source("ZLS03", c)], PERIOD, CONFIG, NOW)
    assert len(cons.details) == 3 and cons.merged == 0
    assert ("受理编号冲突（转入记录与原受理记录不是同一申请人）", "ZLS02", "ZLS01") in [
        (s.kind, s.window, s.other_window) for s in cons.suspects]
