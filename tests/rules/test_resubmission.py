"""A resubmission against the copies it superseded, proven for every input: every request of a superseded
copy (by 受理编号 as model.text.id_key folds it, else receipt minute and phone) is either held by the window's
newest copy or listed, exactly once, and named by the latest superseded copy that held it. The generator
keeps, removes and re-orders rows, re-types ids in the other case and with spaces, and mixes rows without an id."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings, strategies as st

from xl_automation.model.ledger import LedgerRow
from xl_automation.rules.consolidate import Source
from xl_automation.rules.cross_month import request_key
from xl_automation.rules.resubmission import missing_rows

from support.rows import good_row

WINDOWS = ["ZLS01", "ZLS02"]
T0 = datetime(2026, 11, 20, 12)


def _request(window: str, i: int, with_id: bool) -> dict:
    received = datetime(2026, 11, 1, 9) + timedelta(minutes=37 * i)
    phone = f"1390533{i:04d}"
    rid = f"{window.lower()}-20261101-{i:03d}" if with_id else None
    return good_row(request_id=rid, received_at=received, phone=phone, result="办理中")


def _retyped(values: dict, how: int) -> dict:
    rid = values.get("request_id")
    if not rid:
        return dict(values)
    return dict(values, request_id=[rid, rid.upper(), f"  {rid.upper()} ", rid.swapcase()][how])


def _copy(window: str, n: int, requests: list[dict], at: datetime) -> Source:
    rows = [LedgerRow(4 + i, v) for i, v in enumerate(requests)]
    return Source(window, Path(f"{window}_2026-11_{n}.xlsx"), f"{n:064x}", rows, "submission", at)


@st.composite
def windows(draw):
    """Per window: its superseded copies (oldest first) and the newest, each a subset of a small pool."""
    superseded, newest = [], []
    for w in WINDOWS:
        pool = [_request(w, i, draw(st.booleans())) for i in range(draw(st.integers(1, 8)))]
        copies = draw(st.integers(1, 3))
        versions = []
        for n in range(copies + 1):
            kept = [v for v in pool if draw(st.booleans())]
            kept = draw(st.permutations(kept))
            versions.append([_retyped(v, draw(st.integers(0, 3))) for v in kept])
        # a row typed twice in one copy, now and then
        if versions[0] and draw(st.booleans()):
            versions[0].append(_retyped(versions[0][0], 1))
        made = [_copy(w, n, v, T0 + timedelta(minutes=5 * n)) for n, v in enumerate(versions)]
        superseded += made[:-1]
        newest.append(made[-1])
    return draw(st.permutations(superseded)), newest


@settings(max_examples=300, deadline=None)
@given(windows())
def test_every_request_of_a_superseded_copy_is_in_the_newest_or_listed_exactly_once(case):
    superseded, newest = case
    missing = missing_rows(superseded, newest)
    listed = Counter((m.window, m.key) for m in missing)
    assert all(n == 1 for n in listed.values())
    for w in WINDOWS:
        now = next(s for s in newest if s.window == w)
        held = {request_key(r.values) for r in now.rows}
        old = sorted((s for s in superseded if s.window == w), key=lambda s: s.submitted_at)
        keys = {request_key(r.values) for s in old for r in s.rows}
        assert {k for (win, k) in listed if win == w} == keys - held      # each one either held or listed
        for m in (m for m in missing if m.window == w):
            latest = [s for s in old if any(request_key(r.values) == m.key for r in s.rows)][-1]
            row = next(r for r in latest.rows if r.excel_row == m.row)
            assert (m.file, request_key(row.values), m.newest) == (latest.path.name, m.key, now.path.name)
            assert m.request_id == (row.values.get("request_id") or "").strip()
            assert (m.received_at, m.result) == (row.values["received_at"], row.values["result"])


def test_ids_retyped_in_the_other_case_are_the_same_request():
    a = _request("ZLS01", 1, True)
    old = _copy("ZLS01", 0, [a, _request("ZLS01", 2, False)], T0)
    new = _copy("ZLS01", 1, [_retyped(a, 3)], T0 + timedelta(minutes=5))
    [m] = missing_rows([old], [new])
    assert (m.request_id, m.row, m.file) == ("", 5, "ZLS01_2026-11_0.xlsx")


def test_a_superseded_copy_of_a_window_or_period_with_nothing_in_force_has_nothing_to_compare():
    old = _copy("ZLS01", 0, [_request("ZLS01", 1, True)], T0)
    other = _copy("ZLS02", 1, [], T0 + timedelta(minutes=5))
    assert missing_rows([old], [other]) == []
