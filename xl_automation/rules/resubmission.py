"""A resubmission against the copies it superseded: every request an earlier copy of the window's period
held and the newest one no longer does. Those rows are not counted (the newest submission is the window's
word); they are listed so that a person can check that none was deleted by mistake."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from xl_automation.rules.consolidate import Source
from xl_automation.rules.cross_month import request_key


@dataclass(frozen=True, slots=True)
class Missing:
    """A request of a superseded copy that the window's newest copy does not hold."""
    window: str
    request_id: str            # as typed in the superseded copy ("" for a row without one)
    key: str                   # cross_month.request_key: the id (model.text.id_key), else receipt minute and phone
    file: str                  # the superseded copy
    row: int                   # its Excel row there
    received_at: Any
    result: str
    newest: str                # the copy in force
    period: str | None = None  # a late submission's earlier period (None: the period's own submission)

    def as_json(self, received: str | None, period: str) -> dict[str, Any]:
        return {"window": self.window, "request_id": self.request_id, "file": self.file, "row": self.row,
                "received_at": received, "result": self.result, "newest": self.newest,
                "period": self.period or period}


def _order(src: Source) -> tuple[datetime, str]:
    """Submissions in the order collect ranks them: submission time, then file name."""
    return src.submitted_at or datetime.min, src.path.name


def missing_rows(superseded: Sequence[Source], in_force: Sequence[Source]) -> list[Missing]:
    """Every request (by request_key) of a window's superseded copies that its copy in force does not hold,
    once: named by the latest superseded copy that held it (the window's last word before it went). A
    superseded copy of a window with nothing in force, or of another period, has nothing to compare with."""
    newest = {(s.window, s.for_period): s for s in in_force}
    out: list[Missing] = []
    listed: set[tuple[str, str | None, str]] = set()
    held: dict[tuple[str, str | None], set[str]] = {}
    for old in sorted(superseded, key=_order, reverse=True):
        scope = (old.window, old.for_period)
        now = newest.get(scope)
        if now is None or now is old:
            continue
        keys = held.get(scope)
        if keys is None:
            keys = held[scope] = {request_key(r.values) for r in now.rows}
        for r in old.rows:
            key = request_key(r.values)
            if key in keys or (*scope, key) in listed:
                continue
            listed.add((*scope, key))
            rid = r.values.get("request_id")
            result = r.values.get("result")
            out.append(Missing(old.window, rid.strip() if isinstance(rid, str) else "", key, old.path.name,
                               r.excel_row, r.values.get("received_at"), result if isinstance(result, str) else "",
                               now.path.name, old.for_period))
    return sorted(out, key=lambda m: (m.window, m.file, m.row))
