"""Exactly once across months: what the archive knows turns one period's consolidation into its report.

Pure: the consolidation, its sources and what earlier periods reported (`known`, from the archive) are
arguments; nothing here reads a file or the clock. Also what `new-ledger --from` carries into a new ledger.
- a request counts as received in exactly one report, the first that sees it; one of an earlier period
  first reported now is 补报 (late_reported), counted as received here;
- one already counted earlier is 结转 (carried) while open or closed inside this period, or when the last
  report had it open (the report that brings its outcome carries it), else excluded;
- a 联络群转入 whose origin another window reported earlier merges with that origin (owner the first
  window, clock from the first receipt);
- an open request a window reported earlier and no longer reports is 未续报 (dropped_open).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

from xl_automation.model.text import id_key
from xl_automation.rules.periods import Period

OPEN_RESULTS = ("办理中", "")
TRANSFER_CHANNEL = "联络群转入"
ARCHIVE_FILE = "（归档）"
GROUP_CODE = "GROUP"                      # the group as a scope in the archive's figures


class Known(NamedTuple):
    """One request as earlier periods' reports left it."""
    window: str
    key: str
    request_id: str
    first_period: str          # the period whose report counted it as received
    last_period: str           # the last period whose report listed it
    open: bool                 # still open in that report
    ref: int                   # the archive's row, for its values


@dataclass(frozen=True)
class Dropped:
    window: str
    request_id: str
    last_period: str
    key: str


def request_key(values: Mapping[str, Any]) -> str:
    """受理编号 (model.text.id_key); without one, the receipt minute and phone (a plain ledger may lack the id)."""
    rid = id_key(values.get("request_id") or "") if isinstance(values.get("request_id"), str) else ""
    if rid:
        return rid
    received = values.get("received_at")
    stamp = f"{received:%Y%m%d%H%M}" if isinstance(received, datetime) else "?"
    return f"#{stamp}#{values.get('phone') or ''}"


def is_open(values: Mapping[str, Any]) -> bool:
    return (values.get("result") or "") in OPEN_RESULTS


def already_known_late_reason(first_period: str) -> str:
    return f"补交的往期报送中的这一行已在 {first_period} 期报表中计入：是否结转以本窗口本期报送为准"


def already_counted_reason(first_period: str) -> str:
    return f"已在 {first_period} 期报表中计入，且在本周期开始前已办结"


def apply(cons, sources, known: Mapping[tuple[str, str], Known], values_of: Callable[[Known], dict],
          clock, names: Mapping[str, tuple[str, str]] | None = None) -> None:
    """Adjust a consolidation (consolidate.Consolidation) in place by what earlier periods reported.
    `names`: window code → (code, name), to recognise a 已转办 naming the receiving window."""
    from xl_automation.rules.consolidate import EXCLUDED_EARLIER, Detail, Source, _detail, _plausible
    from xl_automation.model.ledger import LedgerRow
    by_pos = {(s.window, s.path.name, r.excel_row): (s, r) for s in sources for r in s.rows}
    ids: dict[str, list[Known]] = {}
    for k in known.values():
        ids.setdefault(k.key, []).append(k)

    names = names or {}
    start = cons.period.start
    renumbered: set[tuple[str, str]] = set()    # rows told apart from the request an earlier report knew
    matched: set[tuple[str, str]] = set()       # rows found to be the request an earlier report knew

    def same_request(origin_window: str, origin_values, window: str, values) -> bool:
        """The same 受理编号 in two windows is one request when plausibly the same applicant's (as within a month)."""
        return _plausible((Source(origin_window, Path(ARCHIVE_FILE), "", [], "archive"), LedgerRow(0, origin_values),
                           False), (Source(window, Path(""), "", [], "submission"), LedgerRow(0, values), False), names)

    def lookup(window: str, values) -> Known | None:
        """Known under this window, or under another when it is plausibly the same request (a transfer). A row
        received inside this period that an earlier report knew under its number (receipt since corrected, or
        the number given again) is that request only when plausibly the same applicant's."""
        key = request_key(values)
        own = known.get((window, key))
        if own is not None and (_moment(values.get("received_at")) or start) >= start \
                and not same_request(window, values_of(own), window, values):
            renumbered.add((window, key))
            own = None
        elif own is not None:
            matched.add((window, key))
        return own or next(
            (k for k in ids.get(key, ()) if k.window != window and same_request(k.window, values_of(k), window, values)),
            None)
    # 1. earlier rows excluded as closed before the period: new to the group → 补报
    still_excluded = []
    revived: set[int] = set()          # rows the month's own merge did not see (closed before the period)
    for ex in cons.excluded:
        if ex.reason == EXCLUDED_EARLIER:
            src, row = by_pos[(ex.window, ex.file, ex.source_row)]
            k = lookup(ex.window, row.values)
            if k is None:
                d = _detail(src, row, False, clock)
                d.late_reported = True
                cons.details.append(d)
                revived.add(id(d))
                _move(cons, ex.window, ex.file, "excluded", "details")
                continue
            if k.open and k.window == ex.window:
                # reported open, closed since then (before this period began): the report that brings its
                # outcome carries it (结转, closed), else the archive would keep it open and call it 未续报
                d = _detail(src, row, True, clock)
                cons.details.append(d)
                revived.add(id(d))
                _move(cons, ex.window, ex.file, "excluded", "details")
                continue
            ex.reason = already_counted_reason(k.first_period)
        still_excluded.append(ex)
    cons.excluded = still_excluded
    # 2. the period's own and carried rows: carried when counted earlier, 补报 when earlier and new. A late
    # submission of an earlier period (Source.for_period) brings what the group has not heard of and
    # outcomes; a request it shows still open that the group knows is the window's current submission's
    # to carry (or to leave out: 未续报), not the older file's
    late_files = set(getattr(cons, "fate_keys", {}))
    details = []
    for d in cons.details:
        if d.late_reported:
            details.append(d)
            continue
        k = lookup(d.window, d.values)
        received = d.values.get("received_at")
        if k is not None and (d.window, d.file) in late_files and is_open(d.values) and not d.merged_rows:
            from xl_automation.rules.consolidate import Excluded
            cons.excluded.append(Excluded(d.window, d.file, d.source_row, d.values.get("request_id") or "",
                                          already_known_late_reason(k.first_period)))
            _move(cons, d.window, d.file, "details", "excluded")
            continue
        if k is not None:
            d.carried = True
        elif d.carried or (isinstance(received, datetime) and received < start):
            d.carried, d.late_reported = False, True
        details.append(d)
    cons.details = details
    # 3. a late 联络群转入 of a request another window reported earlier: merged with that origin. Its origin
    # may be in this run too without the normal merge having seen both: one of them was closed before the
    # period (brought back by 1.), or the receiving row was counted first in an earlier period
    present = {(d.window, request_key(d.values)) for d in cons.details}
    keep: list[Detail] = []
    origins: dict[tuple[str, str], Detail] = {}
    here: dict[str, list[Detail]] = {}
    for d in cons.details:
        here.setdefault(request_key(d.values), []).append(d)
    position = {id(d): n for n, d in enumerate(cons.details)}

    def first_receipt(o: Detail) -> tuple:
        return _moment(o.values.get("received_at")) or datetime.max, position[id(o)]
    folded: set[int] = set()
    for d in cons.details:
        rid = request_key(d.values)
        origin = None
        # a 联络群转入 that owns other windows' 联络群转入 of this month (a chain without its accepting row
        # this month) merges with its origin too, bringing them along
        if d.values.get("channel") == TRANSFER_CHANNEL:
            counted = (d.window, rid) in known
            # the normal merge decided every pair it saw (merged, or listed as a conflict): only a pair one of
            # which it did not see (brought back by 1.) is merged here. Into the acceptor's row first; into
            # another 联络群转入 only when that was received first (it owns the chain, as within a month).
            # Carried when either was counted before
            late = min((o for o in here.get(rid, ()) if o.window != d.window and id(o) not in folded
                        and (id(o) in revived or id(d) in revived)
                        and not (first_receipt(o) > first_receipt(d) and o.values.get("channel") == TRANSFER_CHANNEL)
                        and same_request(o.window, o.values, d.window, d.values)),
                       key=lambda o: (o.values.get("channel") == TRANSFER_CHANNEL, first_receipt(o)), default=None)
            if late is not None:      # its origin brought in now too (补报, or its outcome): one request, the acceptor's
                _fold(late, d, clock)
                folded.add(id(d))
                if late.carried or d.carried:
                    late.carried, late.late_reported = True, False
                cons.merged += 1
                _move(cons, d.window, d.file, "details", "merged")
                continue
            if not counted:
                origin = lookup(d.window, d.values)
        if origin is None:
            keep.append(d)
            continue
        owner = next((o for o in keep if (o.window, request_key(o.values)) == (origin.window, origin.key)), None)
        if owner is None and (origin.window, origin.key) in present:
            keep.append(d)            # the origin's own row comes later in the list: the normal merge saw both
            continue
        if owner is None:
            owner = origins.get((origin.window, origin.key))
        if owner is None:
            src = Source(origin.window, Path(ARCHIVE_FILE), "", [], "archive")
            row = LedgerRow(0, values_of(origin))
            owner = _detail(src, row, True, clock)
            owner.from_archive = origin.last_period
            origins[(origin.window, origin.key)] = owner
            keep.append(owner)
            cons.from_archive += 1
        _fold(owner, d, clock)
        owner.carried, owner.late_reported = True, False
        cons.merged += 1
        _move(cons, d.window, d.file, "details", "merged")
    cons.details = keep
    # 4. open requests reported earlier and missing now from a window that did submit
    # (still carried: in the window's own submission, or brought to a close by a late file of an earlier period)
    own = [s for s in sources if not getattr(s, "for_period", None)]
    submitted = {s.window for s in own}            # a window with only a late file did not submit: 未报送
    seen = {(s.window, request_key(r.values)) for s in own for r in s.rows}
    seen |= {(d.window, request_key(d.values)) for d in cons.details}
    seen -= renumbered - matched                # only another request under its number: the known one is missing
    seen_ids = {request_key(r.values) for s in own for r in s.rows
                if r.values.get("channel") == TRANSFER_CHANNEL}
    def moved_on(k: Known) -> bool:
        """A later report listed the same request under another window (a 联络群转入 counted first, merged
        with its origin once that was reported): that report's state is the request's, not this one."""
        return any(o.window != k.window and o.last_period > k.last_period
                   and same_request(o.window, values_of(o), k.window, values_of(k)) for o in ids.get(k.key, ()))
    cons.dropped_open = sorted(
        (Dropped(k.window, k.request_id, k.last_period, k.key) for k in known.values()
         if k.open and k.window in submitted and (k.window, k.key) not in seen and k.key not in seen_ids
         and not moved_on(k)),
        key=lambda x: (x.window, x.last_period, x.request_id))
    cons.archive_used = True


def _fold(owner, d, clock) -> None:
    """Merge request d (a 联络群转入, maybe already holding other windows' rows) into its origin `owner`."""
    from xl_automation.rules.consolidate import Source, _absorb
    from xl_automation.model.ledger import LedgerRow
    _absorb(owner, Source(d.window, Path(d.file), d.sha256, [], "submission"), LedgerRow(d.source_row, d.values), clock)
    owner.handled_by += tuple(w for w in d.handled_by if w != owner.window)
    owner.merged_rows += d.merged_rows


def _move(cons, window: str, file: str, away: str, to: str) -> None:
    """Keep the per-source row reconciliation (read = details + merged + excluded) true."""
    key = getattr(cons, "fate_keys", {}).get((window, file), window)
    fate = getattr(cons, "fate", {}).get(key)
    if fate is not None:
        fate[away] -= 1
        fate[to] += 1


def _moment(value: Any) -> datetime | None:
    from xl_automation.rules.consolidate import moment
    return moment(value)


def role(d) -> str:
    return "late_reported" if d.late_reported else "carried" if d.carried else "received"


# --- new-ledger --from: what the next period's ledger starts with ------------------------------------
# Every request still open (any period), every row received or closed on the last day of the last period or
# later (entered around or after its submission: the archive tells 补报 from known; one the group saw open
# and that closed since must reach it closed, not as 未续报), and every row whose receipt time cannot be
# read (never dropped silently). `since` overrides the cut-off, e.g. with the submission time.
# A ledger never submitted (no submission of that file is known: carry_since gives None) hands on EVERY
# row: none of it reached the group, and the archive counts each as 补报 once (or knows it already).


@dataclass(frozen=True)
class Carried:
    rows: list                 # ledger.LedgerRow
    open: int
    recent: int
    no_time: int
    since: datetime | None     # None: the ledger was never submitted, every row is carried
    closed_unsubmitted: int = 0                       # closed rows carried because nothing was submitted
    by_period: tuple[tuple[str, int], ...] = ()       # the carried rows' receipt periods (None time: "?")


def next_period(period: Period) -> Period:
    y, m = (period.year + 1, 1) if period.month == 12 else (period.year, period.month + 1)
    return Period(y, m, period.start_day)


def default_since(last: Period) -> datetime:
    """00:00 of the last period's final day (the 24th): submissions are made on it or before."""
    return last.end - timedelta(days=1)


def _after(value: Any, since: datetime) -> bool:
    moment = _moment(value)
    return moment is not None and moment >= since


def carry_since(last: Period, submitted: list[datetime]) -> datetime | None:
    """The cut-off for a ledger of period `last` whose known submissions (of this very file) were made at
    `submitted`: rows received after the latest one, and on the last day, are carried. None when no
    submission is known: the ledger never reached the group, so every row is carried."""
    if not submitted:
        return None
    return min(default_since(last), max(submitted))


def rows_to_carry(rows: list, since: datetime | None, start_day: int = 25) -> Carried:
    kept, n_open, n_recent, n_none, n_unsubmitted = [], 0, 0, 0, 0
    by_period: dict[str, int] = {}
    for row in rows:
        received = _moment(row.values.get("received_at"))
        if received is None:
            n_none += 1
        elif is_open(row.values):
            n_open += 1
        elif since is None:
            n_unsubmitted += 1
        elif received >= since or _after(row.values.get("closed_at"), since):
            n_recent += 1          # received, or closed, after the cut-off: the group has not seen it as it is
        else:
            continue
        kept.append(row)
        label = Period.containing(received, start_day).label if received is not None else "?"
        by_period[label] = by_period.get(label, 0) + 1
    return Carried(kept, n_open, n_recent, n_none, since, n_unsubmitted, tuple(sorted(by_period.items())))
