"""Consolidation over generated sources, proven for every input: each row read is in exactly one place (a
request of 明细, merged into one, or excluded with a reason), the per-source reconciliation adds up, every
suspect pair points at two requests of 明细, and the figures count this period's receipts once.

The generator leans on what breaks counting: a small pool of 受理编号 shared by several windows (transfer
chains A→B→C with or without the accepting row, the same id without 联络群转入, twice in one file), receipt
times on the period edges and at midnight, dates without a time, missing times, replies before receipt."""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from xl_automation.model import config as cfg
from xl_automation.model.ledger import LedgerRow
from xl_automation.rules.consolidate import EXCLUDED_EARLIER, Source, _plausible, consolidate, fate_key, moment
from xl_automation.rules.cross_month import request_key
from xl_automation.rules.normalize import DateOnly
from xl_automation.rules.periods import Period
from xl_automation.rules.stats import figures

from support.rows import good_row

CONFIG = cfg.load()
PERIOD = Period.parse("2026-11")
NOW = datetime(2026, 11, 26, 9, 0)
WINDOWS = [w.code for w in CONFIG.windows[:3]]
NAMES = {w.code: w.name for w in CONFIG.windows[:3]}

EDGES = [PERIOD.start, PERIOD.end, PERIOD.start - timedelta(days=31), datetime(2026, 11, 10)]


@st.composite
def moments(draw):
    base = draw(st.sampled_from(EDGES))
    t = base + timedelta(seconds=draw(st.sampled_from([-86400, -3600, -1, 0, 1, 59, 3600, 7200, 86399])))
    kind = draw(st.sampled_from(["time", "time", "time", "date", "none"]))
    if kind == "none":
        return None
    return DateOnly(datetime(t.year, t.month, t.day)) if kind == "date" else t


@st.composite
def rows(draw):
    received = draw(moments())
    base = received.value if isinstance(received, DateOnly) else received
    result = draw(st.sampled_from(["已办结", "办理中", "已转办", "无法办理", ""]))
    closed = None
    if result not in ("办理中", "") and base is not None:
        closed = base + timedelta(minutes=draw(st.sampled_from([-5, 0, 60, 60 * 24 * 20, 60 * 24 * 40])))
    replied = None
    if base is not None and draw(st.booleans()):
        replied = base + timedelta(minutes=draw(st.sampled_from([-1, 0, 119, 120, 121, 600])))
    transferred_to = NAMES[draw(st.sampled_from(WINDOWS))] if result == "已转办" else ""
    return good_row(request_id=draw(st.sampled_from(["T-1", "T-2", "T-3", " T-1 ", "t-1", ""])),
                    channel=draw(st.sampled_from(["窗口现场", "联络群转入", "电话"])),
                    received_at=received, replied_at=replied, result=result, closed_at=closed,
                    transferred_to=transferred_to, unresolved_reason="无法办理原因" if result == "无法办理" else "",
                    phone=draw(st.sampled_from(["13853312345", "13900001111"])),
                    applicant=draw(st.sampled_from(["张三", "李四"])))


@st.composite
def sources(draw):
    out = []
    for n, window in enumerate(WINDOWS):
        for f in range(draw(st.integers(0, 2))):
            # a second file of a window: a late submission of the earlier period found in this folder
            late = f == 1
            values = draw(st.lists(rows(), max_size=5))
            out.append(Source(window, Path(f"{window}-{f}.xlsx"), f"{n}{f}" * 32,
                              [LedgerRow(4 + i, dict(v)) for i, v in enumerate(values)], "submission",
                              for_period="2026-10" if late else None))
    return [s for s in out if not s.for_period or any(o.window == s.window and not o.for_period for o in out)] \
        or out


_MERGED = re.compile(r"^(\S+) (\S+) 第(\d+)行$")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources())
def test_every_row_is_in_exactly_one_place_and_the_figures_count_receipts_once(srcs):
    cons = consolidate(srcs, PERIOD, CONFIG, NOW)
    read = Counter((s.window, s.path.name, r.excel_row) for s in srcs for r in s.rows)
    placed = Counter((d.window, d.file, d.source_row) for d in cons.details)
    placed += Counter((m.group(1), m.group(2), int(m.group(3)))
                      for d in cons.details for m in map(_MERGED.match, d.merged_rows))
    placed += Counter((x.window, x.file, x.source_row) for x in cons.excluded)
    assert placed == read
    assert cons.rows_in == sum(read.values()) == len(cons.details) + cons.merged + len(cons.excluded)
    assert cons.merged == sum(len(d.merged_rows) for d in cons.details)
    for s in srcs:
        f = cons.fate[fate_key(s)]
        assert f["rows_in"] == len(s.rows) == f["details"] + f["merged"] + f["excluded"]
    assert all(x.reason for x in cons.excluded)
    for s in cons.suspects:
        a, b = cons.details[s.index], cons.details[s.other_index]
        assert s.index != s.other_index
        assert (a.window, a.file, a.source_row) == (s.window, s.file, s.source_row)
        assert (b.window, b.file, b.source_row) == (s.other_window, s.other_file, s.other_row)
    for d in cons.details:
        received = d.values["received_at"]
        moment = received.value if isinstance(received, DateOnly) else received
        assert moment is not None and moment < PERIOD.end
        assert d.carried == (moment < PERIOD.start)
        # a merged request is one applicant's: no receiving row of another window stays beside its owner
        assert d.window not in d.handled_by
    fig = figures(cons.details)
    receipts = [d for d in cons.details if not d.carried]
    assert fig["received"] == len(receipts)
    assert fig["overdue"] == cons.overdue == sum(1 for d in receipts if d.clock.overdue)
    assert fig["carried_over"] == len(cons.details) - len(receipts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources())
def test_with_an_archive_that_knows_nothing_every_row_is_still_in_one_place_and_nothing_is_carried(srcs):
    """The cross-month rules over an archive with an earlier period and none of these requests: rows closed
    before the period come back as 补报, transfers merge with them; nothing is 结转 (nothing was counted).
    Pairs the month's own merge saw (both rows among its requests) stay as it decided them."""
    from xl_automation.rules.cross_month import apply
    from xl_automation.rules.sla import Clock
    cons = consolidate(srcs, PERIOD, CONFIG, NOW)
    plain = {(d.window, d.file, d.source_row) for d in cons.details}
    revived = {(x.window, x.file, x.source_row) for x in cons.excluded if x.reason == EXCLUDED_EARLIER}
    merged_before = {m for d in cons.details for m in d.merged_rows}
    apply(cons, srcs, {}, lambda k: {}, Clock(CONFIG.policy, NOW), {w.code: (w.code, w.name) for w in CONFIG.windows})
    read = Counter((s.window, s.path.name, r.excel_row) for s in srcs for r in s.rows)
    placed = Counter((d.window, d.file, d.source_row) for d in cons.details)
    placed += Counter((m.group(1), m.group(2), int(m.group(3)))
                      for d in cons.details for m in map(_MERGED.match, d.merged_rows))
    placed += Counter((x.window, x.file, x.source_row) for x in cons.excluded)
    assert placed == read and cons.from_archive == 0
    assert cons.rows_in == len(cons.details) + cons.merged + len(cons.excluded)
    assert cons.merged == sum(len(d.merged_rows) for d in cons.details)
    for s in srcs:
        f = cons.fate[fate_key(s)]
        assert f["rows_in"] == len(s.rows) == f["details"] + f["merged"] + f["excluded"]
    assert not any(d.carried for d in cons.details)
    assert figures(cons.details)["received"] == len(cons.details)
    # one request, one row: no 联络群转入 stays beside another window's row it would merge into when the month's
    # merge did not see the two together (one closed before the period, brought back): an accepting row, or a
    # 联络群转入 received before it, plausibly the same applicant's
    names = {w.code: (w.code, w.name) for w in CONFIG.windows}
    for d in cons.details:
        if d.values.get("channel") != "联络群转入" or not request_key(d.values).strip():
            continue
        twins = [o for o in cons.details if o is not d and o.window != d.window
                 and request_key(o.values) == request_key(d.values)
                 and revived & {(o.window, o.file, o.source_row), (d.window, d.file, d.source_row)}
                 and (o.values.get("channel") != "联络群转入" or _earlier(o, d))
                 and _plausible((o, LedgerRow(0, o.values), False), (d, LedgerRow(0, d.values), False), names)]
        assert twins == [], [(o.window, o.values["channel"], o.late_reported) for o in twins + [d]]

    # and rows the month's merge had kept apart are joined only through a row it never saw (closed before
    # the period, brought back): every request merged anew holds one
    for d in cons.details:
        new = [tuple(_MERGED.match(m).groups()) for m in d.merged_rows if m not in merged_before]
        if new:
            rows = {(d.window, d.file, d.source_row)} | {(w, f, int(r)) for w, f, r in new}
            assert rows & revived, (d.window, d.source_row, d.merged_rows)
            assert (d.window, d.file, d.source_row) in revived | plain


def _earlier(a, b) -> bool:
    ta, tb = (moment(x.values.get("received_at")) for x in (a, b))
    return ta is not None and tb is not None and ta < tb
