"""What a report run found about each window and the whole: plain data, shared by the report's sheets,
the 通报 and its figures (so none of them needs the report writer, and the writer needs none of them back)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from xl_automation.rules.assessment import Score
from xl_automation.rules.breakdown import Breakdown

SUBMITTED, LATE_SUBMITTED, MISSING = "已报送", "逾期报送", "未报送"


@dataclass(frozen=True)
class WindowStatus:
    """Whether and when a configured window submitted this period, and what its file held."""
    code: str
    name: str
    company: str
    supervisor: str
    submitted: bool
    late: bool = False
    resubmitted: bool = False
    superseded_files: tuple[str, ...] = ()
    file: str = ""
    sha256: str = ""
    kind: str = ""                      # "submission" | "ledger" | ""
    submitted_at: datetime | None = None
    rows: int = 0
    errors: int = 0
    warnings: int = 0

    @property
    def missing(self) -> bool:
        return not self.submitted

    @property
    def label(self) -> str:
        return MISSING if not self.submitted else LATE_SUBMITTED if self.late else SUBMITTED

    @property
    def kind_label(self) -> str:
        return {"submission": "报送件", "ledger": "台账"}.get(self.kind, "")


@dataclass
class ReportInfo:
    path: Path
    figures: dict[str, Any]             # {"windows": {code: figs}, "companies": {code: figs}, "group": figs}
    statuses: list[WindowStatus]        # every configured window, in configuration order
    scores: dict[str, Score] = field(default_factory=dict)
    breakdown: Breakdown | None = None  # the notice's 三.5 figures, as the 业务分类 sheet shows them


@dataclass(frozen=True)
class Unrenewed:
    """A request the archive expected again this period (open last period) that no window reported: 未续报."""
    window: str
    request_id: str
    note: str = ""
