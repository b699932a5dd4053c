"""Three consecutive periods of requests and the windows' submissions of them, for the archive tests.

A request is received by one window at some moment (often on a period edge or the 24th evening), may be
transferred to a second window (联络群转入 minutes later, across the boundary), closes some time later or
never, and may be dropped from its window's ledger while still open. Each window submits once per period
(a moment near the period end, sometimes after it, sometimes resubmitting later) — or skips a period
(`missing`), or submits it late into the NEXT period's folder (`late_file_at`, loss path 1 of issue 9).
A window keeps one running ledger (its submission holds every row received before that moment and not
dropped) or one file per month (`monthly`): each month's file starts with `new-ledger --from` last month's,
i.e. cross_month.rows_to_carry with the cut-off of the submissions of that file known at that moment —
every row when none is (loss path 2). Rows are closed only if closed by the moment they are looked at.
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
from xl_automation.rules.cross_month import carry_since, rows_to_carry
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
    monthly: frozenset[int] = frozenset()                 # windows keeping one file per month
    late_file_at: dict[tuple[int, int], datetime] = field(default_factory=dict)   # into the next period's folder

    def submitted(self, w: int, k: int) -> bool:
        return (w, k) in self.submit_at


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
    submit_at, resubmit_at, late_file_at = {}, {}, {}
    for w in range(len(WINDOWS)):
        for k, p in enumerate(PERIODS):
            when = draw(st.sampled_from(["24th-afternoon", "24th-morning", "late", "24th-afternoon", "missing",
                                         "late-file"]))
            if when == "late-file" and k + 1 < len(PERIODS):
                late_file_at[(w, k)] = p.end + timedelta(hours=draw(st.integers(1, 200)))
            if when in ("missing", "late-file"):
                continue
            at = {"24th-afternoon": p.end - timedelta(hours=7), "24th-morning": p.end - timedelta(hours=14),
                  "late": p.end + timedelta(hours=30)}[when]
            submit_at[(w, k)] = at
            if draw(st.integers(0, 4)) == 0:
                resubmit_at[(w, k)] = at + timedelta(hours=draw(st.integers(1, 40)))
    monthly = frozenset(w for w in range(len(WINDOWS)) if draw(st.booleans()))
    return World(requests, submit_at, resubmit_at, monthly, late_file_at)


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


def entries(world: World, w: int):
    """Every row window w ever writes: (request index, request, channel, receipt)."""
    for n, r in enumerate(world.requests):
        if r.window == w:
            yield n, r, "窗口现场", r.received
        if r.transfer_to == w:
            yield n, r, "联络群转入", r.received + timedelta(minutes=r.transfer_delay)


def _kept(r: Request, channel: str, k: int) -> bool:
    """Whether the window still writes the row in period k's ledger (an open request it drops, it leaves out)."""
    return not (channel != "联络群转入" and r.dropped_from is not None and r.dropped_from <= k)


def _row(world: World, w: int, entry, at: datetime) -> dict[str, Any]:
    n, r, channel, receipt = entry
    return row_values(WINDOWS[w], r.rid, receipt, r.closed, at, channel, n)


def monthly_ledgers(world: World, w: int) -> list[list]:
    """The entries of each month's file: its own period's rows and what new-ledger --from carried in at
    00:00 of the period's start, with the cut-off of the previous file's submissions known by then."""
    everything = list(entries(world, w))
    ledgers: list[list] = []
    for k, p in enumerate(PERIODS):
        own = [e for e in everything if (k == 0 or e[3] >= p.start) and e[3] < p.end]
        carried = []
        if k:
            previous = ledgers[k - 1]
            rows = [LedgerRow(i, _row(world, w, e, p.start)) for i, e in enumerate(previous)]
            known = [m for m in (world.submit_at.get((w, k - 1)), world.resubmit_at.get((w, k - 1)),
                                 world.late_file_at.get((w, k - 1))) if m is not None and m < p.start]
            carried = [previous[row.excel_row] for row in
                       rows_to_carry(rows, carry_since(PERIODS[k - 1], known), p.start_day).rows]
        ledgers.append([e for e in carried + own if _kept(e[1], e[2], k)])
    return ledgers


def ledger_rows(world: World, w: int, k: int, at: datetime) -> list[dict[str, Any]]:
    """Period k's ledger of window w as it stands at moment `at`."""
    if w in world.monthly:
        chosen = monthly_ledgers(world, w)[k]
    else:
        chosen = [e for e in entries(world, w) if _kept(e[1], e[2], k)]
    return [_row(world, w, e, at) for e in chosen if e[3] < at]


def submission_rows(world: World, w: int, k: int, at: datetime) -> list[dict[str, Any]]:
    return ledger_rows(world, w, k, at)


def sources(world: World, k: int, *, resubmitted: bool = True) -> list[Source]:
    out = []
    for w, code in enumerate(WINDOWS):
        if not world.submitted(w, k):
            continue
        at = world.resubmit_at.get((w, k)) if resubmitted else None
        at = at or world.submit_at[(w, k)]
        rows = [LedgerRow(i + 4, v) for i, v in enumerate(submission_rows(world, w, k, at))]
        out.append(Source(code, Path(f"{code}_{PERIODS[k].label}_{at:%Y%m%d%H%M}.xlsx"), f"{w}{k}{at:%d%H}",
                          rows, "submission", at))
    return out


def late_files(world: World, k: int) -> list[Source]:
    """Submissions of period k-1 made after its end and put in period k's folder (submit keeps the rows
    received before k-1's end)."""
    out = []
    for w, code in enumerate(WINDOWS):
        at = world.late_file_at.get((w, k - 1)) if k else None
        if at is None:
            continue
        rows = [LedgerRow(i + 4, v) for i, v in enumerate(
            v for v in ledger_rows(world, w, k - 1, at) if v["received_at"] < PERIODS[k - 1].end)]
        out.append(Source(code, Path(f"{code}_{PERIODS[k - 1].label}_{at:%Y%m%d%H%M}.xlsx"), f"L{w}{k}{at:%d%H}",
                          rows, "submission", at, for_period=PERIODS[k - 1].label))
    return out


def collected(world: World, k: int, *, resubmitted: bool = True):
    from xl_automation.month_end.collect import Collected
    return Collected(sources(world, k, resubmitted=resubmitted), earlier=late_files(world, k))


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


def window_source(window: str, period: str, *rows) -> Source:
    """A window's submission of a month holding these rows (from Excel row 4), for the cross-month examples."""
    return Source(window, Path(f"{window}-{period}.xlsx"), f"{window}{period}".ljust(64, "0"),
                  [LedgerRow(4 + i, dict(r)) for i, r in enumerate(rows)], "submission", datetime(2026, 11, 24, 17))


def run_months(tmp_path: Path, months: list[tuple[str, list[Source]]], earlier: tuple[list[Source], ...] = (),
               now: datetime = datetime(2026, 12, 1, 10)):
    """Consolidate each month in order through a real archive file (tmp_path/a.sqlite): each month's
    (consolidation, report info, figures); earlier[k]: late submissions of an earlier period in month k's folder."""
    from xl_automation.month_end.archive import open_archive
    from xl_automation.month_end.collect import Collected
    from xl_automation.month_end.month_archive import consolidate_period
    archive = open_archive(tmp_path / "a.sqlite")
    try:
        return [consolidate_period(Collected(srcs, earlier=list(earlier[k]) if k < len(earlier) else []),
                                   Period.parse(p), CONF, now, archive, figures_only)
                for k, (p, srcs) in enumerate(months)]
    finally:
        archive.close()


def link_result(links, i: int, at: datetime) -> str:
    """办理结果 of link i of a transfer chain (window, receipt, outcome, closing time) as its row stands at
    moment `at`: 已办结 once closed, 已转办 once the next link has received it, else 办理中."""
    _, _, outcome, closes = links[i]
    if outcome == "已办结" and closes < at:
        return "已办结"
    if outcome == "已转办" and links[i + 1][1] < at:
        return "已转办"
    return "办理中"
