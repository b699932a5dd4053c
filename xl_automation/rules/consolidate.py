"""Consolidation of a period's ledgers: provenance, period rules, transfers counted once, duplicates.

Pure functions over already-read sources; reading files is collect.py's job.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from xl_automation.model.config import Config
from xl_automation.model.findings import Finding, make
from xl_automation.rules.normalize import DateOnly, clean_text
from xl_automation.model.ledger import LedgerRow, gc_paused
from xl_automation.rules.periods import Period
from xl_automation.rules.phones import check_phone
from xl_automation.model.schema import SERVICE_COLUMNS
from xl_automation.model.text import id_key
from xl_automation.rules.sla import LATE, ON_TIME, OVERDUE_OPEN, Clock, RowClock

TRANSFER_CHANNEL = "联络群转入"
OPEN_RESULTS = ("办理中", "")
EXCLUDED_LATER = "受理时间晚于本统计周期（属于下一统计周期）"
EXCLUDED_EARLIER = "受理时间早于本统计周期，且在本周期开始前已办结"
EXCLUDED_NO_TIME = "受理时间缺失或无法识别"
EXCLUDED_SAME_WINDOW = "本窗口本期报送中已有同一受理编号（以较新的报送为准）"


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
    for_period: str | None = None          # a late submission for an earlier period, found in this period's folder


def fate_key(src: Source) -> str:
    """The key of a source's row accounting in Consolidation.fate: the window for the period's own
    submission, window and file for a late one of an earlier period (a window may have both)."""
    return src.window if not src.for_period else f"{src.window} {src.path.name}"


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


SAME_ID = "同一受理编号（未经联络群转入）"
ID_CONFLICT = "受理编号冲突（转入记录与原受理记录不是同一申请人）"
SAME_PHONE = "同一电话同一服务（跨窗口）"
SAME_PHONE_WINDOW = "同一电话同一服务（本窗口不同日期）"


@dataclass
class Suspect:
    """Two rows that may be one request counted twice, or one 受理编号 used for two requests; both are kept."""
    kind: str
    window: str
    request_id: str
    file: str
    source_row: int
    other_window: str
    other_file: str
    other_row: int
    index: int = -1                         # positions in Consolidation.details once consolidated
    other_index: int = -1


@dataclass
class Consolidation:
    period: Period
    details: list[Detail]
    excluded: list[Excluded]
    merged: int
    rows_in: int
    suspects: list[Suspect] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # per source (fate_key: the window, or window and file for a late submission of an earlier period):
    # {"rows_in", "details", "merged", "excluded"}; rows_in = details + merged + excluded
    fate: dict[str, dict[str, int]] = field(default_factory=dict)
    fate_keys: dict[tuple[str, str], str] = field(default_factory=dict)   # (window, file) → fate key, late ones
    from_archive: int = 0                  # requests rebuilt from the archive (origins of late transfers)
    dropped_open: list = field(default_factory=list)    # cross_month.Dropped: 未续报
    archive_used: bool = False             # False: this period's rows only (first run or --no-archive)
    # resubmission.Missing: requests a superseded copy held and the window's newest copy does not (not counted)
    resubmission_missing: list = field(default_factory=list)

    @property
    def overdue(self) -> int:
        """Overdue among this period's receipts (a carried-over request was counted in its own period)."""
        return sum(1 for d in self.details if d.clock.overdue and not d.carried)

    @property
    def on_time_rate(self) -> float | None:
        return on_time_rate(d.clock for d in self.details if not d.carried)


def on_time_rate(clocks) -> float | None:
    """Share on time among requests whose outcome is known (replied, or open past the limit)."""
    decided = [c.status for c in clocks if c.status in (ON_TIME, LATE, OVERDUE_OPEN)]
    return on_time_share(decided.count(ON_TIME), len(decided))


def on_time_share(on_time: int, decided: int) -> float | None:
    """The on-time rate from its counts (None when nothing is decided)."""
    return round_half_up(on_time / decided, 4) if decided else None


def round_half_up(x: float, digits: int) -> float:
    """Rounding as Excel's ROUND does it (halves away from zero), so cached and recalculated values agree."""
    from decimal import ROUND_HALF_UP, Decimal
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def moment(value: Any) -> datetime | None:
    """The point in time a date-time cell stands for; a date without a time counts from its midnight."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, DateOnly):
        return value.value
    return None


def period_verdict(row: LedgerRow, period: Period) -> str | None:
    """None when the row belongs to the period, 'carried' for earlier open rows, else the exclusion reason.

    A receipt written as a date only belongs to the period of that date: it is counted, without a clock.
    """
    received = moment(row.values.get("received_at"))
    if received is None:
        return EXCLUDED_NO_TIME
    if received >= period.end:
        return EXCLUDED_LATER
    if received >= period.start:
        return None
    closed = moment(row.values.get("closed_at"))
    still_open = (row.values.get("result") or "") in OPEN_RESULTS
    if still_open or (closed is not None and closed >= period.start):
        return "carried"
    return EXCLUDED_EARLIER


@gc_paused()     # a request per row of the month: none holds a cycle, and GC passes over them cost a third
def consolidate(sources: list[Source], period: Period, config: Config, now: datetime) -> Consolidation:
    clock = Clock(config.policy, now)
    candidates: list[tuple[Source, LedgerRow, bool]] = []
    excluded: list[Excluded] = []
    rows_in = 0
    newer_ids = _newer_ids(sources)
    for src in sources:
        shadowed = newer_ids.get(id(src))
        for row in src.rows:
            rows_in += 1
            verdict = period_verdict(row, period)
            if shadowed and verdict in (None, "carried", EXCLUDED_EARLIER) and _rid(row) in shadowed:
                verdict = EXCLUDED_SAME_WINDOW
            if verdict in (None, "carried"):
                candidates.append((src, row, verdict == "carried"))
            else:
                excluded.append(Excluded(src.window, src.path.name, row.excel_row,
                                         row.values.get("request_id") or "", verdict))
    names = {w.code: (w.code, w.name) for w in config.windows}
    details, absorbed, suspects = _merge_transfers(candidates, clock, names)
    suspects += _flag_duplicates(details, int(config.policy.get("duplicate_window_days", 3)))
    warnings = [calendar_warning(year) for year in sorted(clock.calendar.uncovered_years)]
    fate = {fate_key(src): {"rows_in": len(src.rows), "details": 0, "merged": 0, "excluded": 0} for src in sources}
    keys = {(src.window, src.path.name): fate_key(src) for src in sources if src.for_period}
    for x in excluded:
        fate[keys.get((x.window, x.file), x.window)]["excluded"] += 1
    for i, (src, _, _) in enumerate(candidates):
        fate[fate_key(src)]["merged" if i in absorbed else "details"] += 1
    return Consolidation(period, details, excluded, len(absorbed), rows_in, suspects, warnings, fate, fate_keys=keys)


def _rid(row: LedgerRow) -> str:
    """The row's 受理编号 as requests are told apart (model.text.id_key); "" without one."""
    rid = row.values.get("request_id")
    return id_key(rid) if isinstance(rid, str) else ""


def _newer_ids(sources: list[Source]) -> dict[int, set[str]]:
    """For each late submission of an earlier period (Source.for_period): the 受理编号 that a newer source of
    the same window already brings (the period's own submission first, then later periods' late ones).
    Its rows with those ids are the same requests in an older state: counted once, from the newer one."""
    out: dict[int, set[str]] = {}
    by_window: dict[str, list[Source]] = {}
    for src in sources:
        by_window.setdefault(src.window, []).append(src)
    for group in by_window.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda s: s.for_period or "9999-99", reverse=True)   # own period first, then newest
        seen: set[str] = set()
        for src in group:
            if src.for_period:
                out[id(src)] = set(seen)
            seen.update(r for r in map(_rid, src.rows) if r)
    return out


def calendar_warning(year: int) -> str:
    """The calendar-uncovered finding as one line: the clock was computed, but not from real holidays."""
    f = make("calendar-uncovered", year=year)
    return f"{f.message}。{f.hint}"


def _detail(src: Source, row: LedgerRow, carried: bool, clock: Clock) -> Detail:
    values = row.values   # shared, not copied: a million rows must fit; _absorb copies before changing
    return Detail(src.window, values, clock.row(values.get("received_at"), values.get("replied_at")),
                  src.path.name, src.sha256, row.excel_row, carried)


def _merge_transfers(candidates, clock: Clock, names: dict[str, tuple[str, str]]):
    """Same 受理编号 in two windows with 联络群转入 on the receiving side: one request, owned by the acceptor.

    A receiving row merges only when it is plausibly the same request (same phone or applicant, or the
    accepting row says 已转办 to that window); otherwise both stay and the 受理编号 conflict is listed. The
    same 受理编号 in two windows without 联络群转入 is never merged: it is listed as a likely duplicate.
    """
    by_id = _collisions(_rid(row) for _, row, _ in candidates)
    absorbed: dict[int, int] = {}
    suspects: list[Suspect] = []
    for rid, idxs in by_id.items():
        windows = {candidates[i][0].window for i in idxs}
        if len(windows) < 2:
            continue            # the same id twice in one ledger: validation's duplicate-id finding
        receiving = [i for i in idxs if candidates[i][1].values.get("channel") == TRANSFER_CHANNEL]
        accepting = [i for i in idxs if i not in receiving]
        by_time = sorted(accepting or receiving, key=lambda i: _sort_time(candidates[i][1]))
        owner = by_time[0]
        # accepting rows of other windows: a likely duplicate. With no accepting row (its window did not
        # submit, or it closed before the period) the first receipt owns it and the other receiving rows
        # go through the merge below (merged, or a 受理编号 conflict), never both
        for other in (by_time[1:] if accepting else ()):
            if candidates[other][0].window != candidates[owner][0].window:
                suspects.append(_suspect(SAME_ID, candidates, other, owner))
        # each accepting row heads its own request (two windows may have used one number: a likely duplicate
        # above); a receiving row joins the first, in receipt order, it is plausibly part of
        groups = [[head] for head in by_time] if accepting else [[owner]]
        for i in sorted((i for i in receiving if i != owner), key=lambda i: _sort_time(candidates[i][1])):
            if candidates[i][0].window == candidates[owner][0].window:
                continue
            group = next((g for g in groups if candidates[g[0]][0].window != candidates[i][0].window
                          and any(_plausible(candidates[m], candidates[i], names) for m in g)), None)
            if group is not None:
                absorbed[i] = group[0]
                group.append(i)
            else:
                suspects.append(_suspect(ID_CONFLICT, candidates, i, owner))
    details: list[Detail | None] = [None if i in absorbed else _detail(src, row, carried, clock)
                                    for i, (src, row, carried) in enumerate(candidates)]
    for i, owner in absorbed.items():
        _absorb(details[owner], candidates[i][0], candidates[i][1], clock)
    positions = {id(d): n for n, d in enumerate(x for x in details if x is not None)}
    kept = [d for d in details if d is not None]
    for s in suspects:          # the two rows of a suspect pair point at each other in 明细's 疑似重复
        a, b = details[s.index], details[s.other_index]
        a.duplicates += (f"{s.kind}：{_ref(b)}",)
        b.duplicates += (f"{s.kind}：{_ref(a)}",)
        s.index, s.other_index = positions[id(a)], positions[id(b)]
    return kept, absorbed, suspects


def _sort_time(row: LedgerRow) -> datetime:
    return moment(row.values.get("received_at")) or datetime.max


def _plausible(origin, taker, names: dict[str, tuple[str, str]]) -> bool:
    """Whether a 联络群转入 row is the same applicant's request as an accepted one."""
    (_, o_row, _), (t_src, t_row, _) = origin, taker
    o, t = o_row.values, t_row.values
    o_phone, t_phone = _dial(o.get("phone")), _dial(t.get("phone"))
    if o_phone and o_phone == t_phone:
        return True
    o_name, t_name = clean_text(o.get("applicant")), clean_text(t.get("applicant"))
    if o_name and o_name == t_name:
        return True
    target = clean_text(o.get("transferred_to"))
    return o.get("result") == "已转办" and bool(target) and any(
        n and n in target for n in names.get(t_src.window, (t_src.window,)))


def _suspect(kind: str, candidates, i: int, other: int) -> "Suspect":
    (src, row, _), (o_src, o_row, _) = candidates[i], candidates[other]
    return Suspect(kind, src.window, row.values.get("request_id") or "", src.path.name, row.excel_row,
                   o_src.window, o_src.path.name, o_row.excel_row, i, other)


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
    detail.clock = clock.row(detail.values.get("received_at"), detail.values.get("replied_at"))


def _flag_duplicates(details: list[Detail], days: int) -> list["Suspect"]:
    """Same phone and a shared service within `days` days: in two windows, or in one window on different
    days (the same day in one window is one visit asking for several things). Flagged, never merged."""
    by_phone = _collisions(_phone_key(d) for d in details)
    index = [[i for i in idxs if details[i].values.get(col.key) is True]
             for idxs in by_phone.values() for col in SERVICE_COLUMNS]
    span = timedelta(days=days)
    pairs: set[tuple[int, int]] = set()
    for idxs in index:
        idxs.sort(key=lambda i: details[i].values["received_at"])
        for a_pos, a in enumerate(idxs):
            ta = details[a].values["received_at"]
            for b in idxs[a_pos + 1:]:
                tb = details[b].values["received_at"]
                if tb - ta > span:
                    break
                if details[a].window != details[b].window or ta.date() != tb.date():
                    pairs.add((a, b))
    out = []
    for a, b in sorted(pairs):
        kind = SAME_PHONE if details[a].window != details[b].window else SAME_PHONE_WINDOW
        details[a].duplicates += (f"{kind}：{_ref(details[b])}",)
        details[b].duplicates += (f"{kind}：{_ref(details[a])}",)
        da, db = details[a], details[b]
        out.append(Suspect(kind, db.window, db.values.get("request_id") or "", db.file, db.source_row,
                           da.window, da.file, da.source_row, b, a))
    return out


def _dial(phone: Any) -> str:
    """The number a phone cell dials; a plain 11-digit mobile is its own key (no parsing, no new string)."""
    if not phone or not isinstance(phone, str):
        return ""
    if len(phone) == 11 and phone.isdigit():
        return phone
    return check_phone(phone).digits or ""


def _phone_key(d: Detail) -> str:
    if not isinstance(d.values.get("received_at"), datetime):
        return ""
    return _dial(d.values.get("phone"))


def _ref(d: Detail) -> str:
    return f"{d.window} {d.values.get('request_id') or '第' + str(d.source_row) + '行'}"
