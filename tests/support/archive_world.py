"""Three consecutive periods of requests and the windows' submissions of them, for the archive tests.

A request is received by one window at some moment (often on a period edge or the 24th evening), may be
transferred to a second window (联络群转入 minutes later, across the boundary), closes some time later or
never, and may be dropped from its window's ledger while still open. Each window submits once per period
(a moment near the period end, sometimes after it, sometimes resubmitting later); its submission holds
every row received before that moment and not dropped, closed only if closed by then.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import strategies as st

from xl_automation.model import config as cfg
from xl_automation.model import labels
from xl_automation.rules.consolidate import Source
from xl_automation.model.ledger import LedgerRow
from xl_automation.rules.periods import Period

PERIODS = [Period.parse(p) for p in ("2026-10", "2026-11", "2026-12")]
WINDOWS = ["ZLS01", "ZLS02", "ZLS03"]
START, END = PERIODS[0].start, PERIODS[-1].end
CONF = cfg.load()
SPAN_MIN = int((END - START).total_seconds() // 60)


@dataclass
class Request:
    rid: str
    window: int
    received: datetime
    closed: datetime | None
    dropped_from: int | None = None          # period index from which its window leaves it out
    transfer_to: int | None = None           # the window that registers it as 联络群转入
    transfer_delay: int = 20                 # minutes


@dataclass
class World:
    requests: list[Request]
    submit_at: dict[tuple[int, int], datetime]            # (window, period index) → moment of submission
    resubmit_at: dict[tuple[int, int], datetime] = field(default_factory=dict)


def _edge_time(draw) -> datetime:
    k = draw(st.integers(0, len(PERIODS) - 1))
    p = PERIODS[k]
    kind = draw(st.sampled_from(["any", "start", "last-minute", "evening"]))
    if kind == "start":
        return p.start + timedelta(minutes=draw(st.integers(0, 30)))
    if kind == "last-minute":
        return p.end - timedelta(minutes=draw(st.integers(1, 15)))
    if kind == "evening":
        return p.end - timedelta(hours=6) + timedelta(minutes=draw(st.integers(0, 350)))
    return START + timedelta(minutes=draw(st.integers(0, SPAN_MIN - 1)))


@st.composite
def worlds(draw, max_requests: int = 14) -> World:
    n = draw(st.integers(1, max_requests))
    requests = []
    for i in range(n):
        received = _edge_time(draw).replace(second=0, microsecond=0)
        window = draw(st.integers(0, len(WINDOWS) - 1))
        closes = draw(st.booleans())
        closed = received + timedelta(hours=draw(st.integers(1, 24 * 70))) if closes else None
        transfer = draw(st.integers(0, len(WINDOWS) - 1)) if draw(st.integers(0, 3)) == 0 else None
        if transfer == window:
            transfer = None
        dropped = None
        if closed is None and transfer is None and draw(st.booleans()):
            dropped = draw(st.integers(1, len(PERIODS) - 1))
        rid = f"{WINDOWS[window]}-{received:%Y%m%d}-{i + 1:03d}"
        requests.append(Request(rid, window, received, closed, dropped, transfer, draw(st.integers(5, 40))))
    submit_at, resubmit_at = {}, {}
    for w in range(len(WINDOWS)):
        for k, p in enumerate(PERIODS):
            when = draw(st.sampled_from(["24th-afternoon", "24th-morning", "late"]))
            at = {"24th-afternoon": p.end - timedelta(hours=7), "24th-morning": p.end - timedelta(hours=14),
                  "late": p.end + timedelta(hours=30)}[when]
            submit_at[(w, k)] = at
            if draw(st.integers(0, 4)) == 0:
                resubmit_at[(w, k)] = at + timedelta(hours=draw(st.integers(1, 40)))
    return World(requests, submit_at, resubmit_at)


def row_values(window: str, rid: str, received: datetime, closed: datetime | None, at: datetime,
               channel: str, n: int) -> dict[str, Any]:
    """The ledger row as it stands at moment `at`."""
    replied = received + timedelta(minutes=30 + n % 150)
    done = closed is not None and closed < at
    values = {"request_id": rid, "received_at": received, "channel": channel, "svc_water": True,
              "install_type": "新装", "applicant": f"王{n}", "phone": f"139{n:08d}", "district": "张店区",
              "address": f"张店区人民西路{n}号", "first_responder": "李娜",
              "replied_at": replied if replied < at else None,
              "result": "已办结" if done else "办理中", "closed_at": closed if done else None}
    return values


def submission_rows(world: World, w: int, k: int, at: datetime) -> list[dict[str, Any]]:
    rows = []
    for n, r in enumerate(world.requests):
        if r.window == w and r.received < at and not (r.dropped_from is not None and r.dropped_from <= k):
            rows.append(row_values(WINDOWS[w], r.rid, r.received, r.closed, at, "窗口现场", n))
        if r.transfer_to == w:
            moved = r.received + timedelta(minutes=r.transfer_delay)
            if moved < at:
                rows.append(row_values(WINDOWS[w], r.rid, moved, r.closed, at, "联络群转入", n))
    return rows


def sources(world: World, k: int, *, resubmitted: bool = True) -> list[Source]:
    out = []
    for w, code in enumerate(WINDOWS):
        at = world.resubmit_at.get((w, k)) if resubmitted else None
        at = at or world.submit_at[(w, k)]
        rows = [LedgerRow(i + 4, v) for i, v in enumerate(submission_rows(world, w, k, at))]
        out.append(Source(code, Path(f"{code}_{PERIODS[k].label}_{at:%Y%m%d%H%M}.xlsx"), f"{w}{k}{at:%d%H}",
                          rows, "submission", at))
    return out


def info(code: str, period: Period) -> dict[str, str]:
    return {labels.INFO_WINDOW_CODE: code, labels.INFO_PERIOD: period.label}


def figures_only(cons, _info):
    """The report's figures without writing the workbook (what the archive records of a period)."""
    from collections import defaultdict
    from xl_automation.report.workbook import _summary_rows
    by_window = defaultdict(list)
    for d in cons.details:
        by_window[d.window].append(d)
    return SimpleNamespace(figures=_summary_rows(cons.details, by_window, CONF)[1], scores={})
