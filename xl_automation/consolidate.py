"""Consolidation of a period's ledgers: provenance, period rules, transfers counted once, duplicates.

Pure functions over already-read sources; reading files is collect.py's job.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .config import Config
from .findings import Finding
from .ledger import LedgerRow
from .periods import Period
from .phones import check_phone
from .schema import SERVICE_COLUMNS
from .sla import LATE, ON_TIME, OVERDUE_OPEN, Clock, RowClock

TRANSFER_CHANNEL = "联络群转入"
OPEN_RESULTS = ("办理中", "")
EXCLUDED_LATER = "受理时间晚于本统计周期"
EXCLUDED_EARLIER = "受理时间早于本统计周期，且在本周期开始前已办结"
EXCLUDED_NO_TIME = "受理时间缺失或无法识别"


@dataclass
class Source:
    """One ledger or submission in force for a window."""
    window: str
    path: Path
    sha256: str
    rows: list[LedgerRow]
    kind: str                              # "submission" | "ledger"
    submitted_at: datetime | None = None
    errors: int = 0
    warnings: int = 0
    findings: list[Finding] = field(default_factory=list)
    manifest: dict[str, Any] | None = None


@dataclass(slots=True)
class Detail:
    """One request in the report, owned by the window that accepted it (首问负责)."""
    window: str
    values: dict[str, Any]
    clock: RowClock
    file: str
    sha256: str
    source_row: int
    carried: bool = False
    late_reported: bool = False            # 补报: an earlier period's request the group hears of first now
    from_archive: str = ""                 # the period it was last reported in, when rebuilt from the archive
    # tuples, shared while empty (nearly always): a list per field per request adds up over a million rows
    handled_by: tuple[str, ...] = ()
    merged_rows: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()


@dataclass
class Excluded:
    window: str
    file: str
    source_row: int
    request_id: str
    reason: str


@dataclass
class Consolidation:
    period: Period
    details: list[Detail]
    excluded: list[Excluded]
    merged: int
    rows_in: int
    from_archive: int = 0                  # requests rebuilt from the archive (origins of late transfers)
    dropped_open: list = field(default_factory=list)    # cross_month.Dropped: 未续报
    archive_used: bool = False             # False: this period's rows only (first run or --no-archive)

    @property
    def overdue(self) -> int:
        return sum(1 for d in self.details if d.clock.overdue)

    @property
    def on_time_rate(self) -> float | None:
        return on_time_rate(d.clock for d in self.details)


def on_time_rate(clocks) -> float | None:
    """Share on time among requests whose outcome is known (replied, or open past the limit)."""
    decided = [c.status for c in clocks if c.status in (ON_TIME, LATE, OVERDUE_OPEN)]
    return round_half_up(decided.count(ON_TIME) / len(decided), 4) if decided else None


def round_half_up(x: float, digits: int) -> float:
    """Rounding as Excel's ROUND does it (halves away from zero), so cached and recalculated values agree."""
    from decimal import ROUND_HALF_UP, Decimal
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def period_verdict(row: LedgerRow, period: Period) -> str | None:
    """None when the row belongs to the period, 'carried' for earlier open rows, else the exclusion reason."""
    received = row.values.get("received_at")
    if not isinstance(received, datetime):
        return EXCLUDED_NO_TIME
    if received >= period.end:
        return EXCLUDED_LATER
    if received >= period.start:
        return None
    closed = row.values.get("closed_at")
    still_open = (row.values.get("result") or "") in OPEN_RESULTS
    if still_open or (isinstance(closed, datetime) and closed >= period.start):
        return "carried"
    return EXCLUDED_EARLIER


def belongs_to_submission(row: LedgerRow, period: Period) -> bool:
    """Rows a submission copy keeps: the period's own, and earlier ones still open at its start."""
    return period_verdict(row, period) in (None, "carried")


def consolidate(sources: list[Source], period: Period, config: Config, now: datetime) -> Consolidation:
    clock = Clock(config.policy, now)
    candidates: list[tuple[Source, LedgerRow, bool]] = []
    excluded: list[Excluded] = []
    rows_in = 0
    for src in sources:
        for row in src.rows:
            rows_in += 1
            verdict = period_verdict(row, period)
            if verdict in (None, "carried"):
                candidates.append((src, row, verdict == "carried"))
            else:
                excluded.append(Excluded(src.window, src.path.name, row.excel_row,
                                         row.values.get("request_id") or "", verdict))
    details, merged = _merge_transfers(candidates, clock)
    _flag_duplicates(details, int(config.policy.get("duplicate_window_days", 3)))
    return Consolidation(period, details, excluded, merged, rows_in)


def _detail(src: Source, row: LedgerRow, carried: bool, clock: Clock) -> Detail:
    values = row.values   # shared, not copied: a million rows must fit; _absorb copies before changing
    return Detail(src.window, values, _row_clock(clock, values.get("received_at"), values.get("replied_at")),
                  src.path.name, src.sha256, row.excel_row, carried)


def _row_clock(clock: Clock, received: Any, replied: Any) -> RowClock:
    if not isinstance(received, datetime) or not (replied is None or isinstance(replied, datetime)):
        return RowClock(None, None, None)
    return clock.row(received, replied)


def _merge_transfers(candidates, clock: Clock) -> tuple[list[Detail], int]:
    """Same 受理编号 in two windows with 联络群转入 on the receiving side: one request, owned by the acceptor."""
    by_id = _collisions((row.values.get("request_id") or "") for _, row, _ in candidates)
    absorbed: dict[int, int] = {}
    for rid, idxs in by_id.items():
        windows = {candidates[i][0].window for i in idxs}
        receiving = [i for i in idxs if candidates[i][1].values.get("channel") == TRANSFER_CHANNEL]
        if len(windows) < 2 or not receiving:
            continue
        accepting = [i for i in idxs if i not in receiving] or receiving[:1]
        owner = min(accepting, key=lambda i: candidates[i][1].values.get("received_at"))
        for i in idxs:
            if i != owner and candidates[i][0].window != candidates[owner][0].window:
                absorbed[i] = owner
    details: list[Detail | None] = [None if i in absorbed else _detail(src, row, carried, clock)
                                    for i, (src, row, carried) in enumerate(candidates)]
    for i, owner in absorbed.items():
        _absorb(details[owner], candidates[i][0], candidates[i][1], clock)
    return [d for d in details if d is not None], len(absorbed)


def _collisions(keys) -> dict[str, list[int]]:
    """{key: positions} for keys met more than once; blank keys ignored. One int per distinct key while
    scanning, not a list: a million distinct ids must stay cheap."""
    first: dict[str, int] = {}
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        if key:
            j = first.setdefault(key, i)
            if j != i:
                groups.setdefault(key, [j]).append(i)
    return groups


def _absorb(detail: Detail, src: Source, row: LedgerRow, clock: Clock) -> None:
    """Fold a handling window's row into the accepted request; the applicant's clock keeps running from receipt."""
    v = row.values
    if not detail.merged_rows:
        detail.values = dict(detail.values)   # the source row itself stays as submitted
    detail.handled_by += (src.window,)
    detail.merged_rows += (f"{src.window} {src.path.name} 第{row.excel_row}行",)
    replies = [t for t in (detail.values.get("replied_at"), v.get("replied_at")) if isinstance(t, datetime)]
    if replies:
        detail.values["replied_at"] = min(replies)
    if detail.values.get("result") in ("已转办", "", None) and v.get("result"):
        for key in ("result", "closed_at", "unresolved_reason"):
            detail.values[key] = v.get(key)
    detail.clock = _row_clock(clock, detail.values.get("received_at"), detail.values.get("replied_at"))


def _flag_duplicates(details: list[Detail], days: int) -> None:
    """Same phone and a shared service within `days` days in different windows: flagged, never merged."""
    by_phone = _collisions(_phone_key(d) for d in details)
    index = [[i for i in idxs if details[i].values.get(col.key) is True]
             for idxs in by_phone.values() for col in SERVICE_COLUMNS]
    span = timedelta(days=days)
    pairs: set[tuple[int, int]] = set()
    for idxs in index:
        idxs.sort(key=lambda i: details[i].values["received_at"])
        for a_pos, a in enumerate(idxs):
            for b in idxs[a_pos + 1:]:
                if details[b].values["received_at"] - details[a].values["received_at"] > span:
                    break
                if details[a].window != details[b].window:
                    pairs.add((a, b))
    for a, b in sorted(pairs):
        details[a].duplicates += (_ref(details[b]),)
        details[b].duplicates += (_ref(details[a]),)


def _phone_key(d: Detail) -> str:
    """The number a phone cell dials; a plain 11-digit mobile is its own key (no parsing, no new string)."""
    phone = d.values.get("phone")
    if not phone or not isinstance(d.values.get("received_at"), datetime):
        return ""
    if len(phone) == 11 and phone.isdigit():
        return phone
    return check_phone(phone).digits or phone


def _ref(d: Detail) -> str:
    return f"{d.window} {d.values.get('request_id') or '第' + str(d.source_row) + '行'}"
