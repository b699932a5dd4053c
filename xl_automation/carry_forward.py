"""new-ledger --from: the next period's ledger starts with what the last one must hand on.

Pure selection: every request still open (any period), every row received on the last day of the last
period or later (entered after or around its submission: the group's archive tells 补报 from known), and
every row whose receipt time cannot be read (never dropped silently). `since` overrides the cut-off, e.g.
with the moment the last ledger was submitted.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .consolidate import OPEN_RESULTS, moment
from .ledger import LedgerRow
from .periods import Period


@dataclass(frozen=True)
class Carried:
    rows: list[LedgerRow]
    open: int
    recent: int
    no_time: int
    since: datetime


def next_period(period: Period) -> Period:
    y, m = (period.year + 1, 1) if period.month == 12 else (period.year, period.month + 1)
    return Period(y, m, period.start_day)


def default_since(last: Period) -> datetime:
    """00:00 of the last period's final day (the 24th): submissions are made on it or before."""
    return last.end - timedelta(days=1)


def rows_to_carry(rows: list[LedgerRow], since: datetime) -> Carried:
    kept, n_open, n_recent, n_none = [], 0, 0, 0
    for row in rows:
        received = moment(row.values.get("received_at"))
        if received is None:
            n_none += 1
        elif (row.values.get("result") or "") in OPEN_RESULTS:
            n_open += 1
        elif received >= since:
            n_recent += 1
        else:
            continue
        kept.append(row)
    return Carried(kept, n_open, n_recent, n_none, since)
