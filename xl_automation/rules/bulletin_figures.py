"""The figures the 通报 prints, as one JSON-ready dict: the consolidation's summary prints the same dict,
so every number in the document can be checked against it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from xl_automation.rules.consolidate import Consolidation, round_half_up
from xl_automation.model.schema import SERVICE_COLUMNS

from xl_automation.rules.report_info import ReportInfo


@dataclass(frozen=True)
class PeriodFigures:
    """One earlier period's group figures (from the archive): what 环比 and the trend chart compare with."""
    label: str                      # 2026-10
    received: int
    on_time_rate: float | None
    closure_rate: float | None = None
    overdue: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PeriodFigures":
        return cls(data["label"], int(data["received"]), data.get("on_time_rate"), data.get("closure_rate"),
                   data.get("overdue"))


RESULTS_WITH_OUTCOME = ("已办结", "无法办理", "已转办")


def outcomes(figs: dict[str, Any]) -> int:
    """This period's receipts that have an outcome (not left 办理中 or blank): the base of 办结率."""
    return sum(figs[f"result:{r}"] for r in RESULTS_WITH_OUTCOME)


def rate(part: int, whole: int) -> float | None:
    return round_half_up(part / whole, 4) if whole else None


def failing_band(config_data: dict[str, Any]) -> str:
    """The lowest band of the assessment (不合格 in the shipped configuration)."""
    return sorted(config_data["assessment"]["bands"], key=lambda b: -b[0])[-1][1]


def bulletin_figures(cons: Consolidation, info: "ReportInfo", config_data: dict[str, Any],
                     previous: PeriodFigures | None = None) -> dict[str, Any]:
    group = info.figures["group"]
    received = group["received"]
    with_outcome = outcomes(group)
    figs: dict[str, Any] = {
        "period": cons.period.label,
        "received": received,
        "services": {c.header: group[f"svc:{c.key}"] for c in SERVICE_COLUMNS},
        "on_time": group["on_time"],
        "on_time_rate": group["on_time_rate"],
        "overdue": group["overdue"],
        "results": {r: group[f"result:{r}"] for r in ("已办结", "无法办理", "办理中", "已转办")},
        "with_outcome": with_outcome,
        "closure_rate": rate(with_outcome, received),
        "carried_over": group.get("carried_over", 0),
        "carried_closed": group.get("carried_closed", 0),
        "windows_submitted": sum(1 for s in info.statuses if s.submitted),
        "windows_expected": len(info.statuses),
    }
    b = info.breakdown
    if b is not None:
        figs["handling_hours"] = {"closed": b.handling_total.closed, "average": b.handling_total.average,
                                  "median": b.handling_total.median}
        figs["bounced"] = len(b.bounced)
        figs["reasons"] = {g.category: g.count for g in b.reasons}
    figs["ranking"] = ranking(info)
    fail = failing_band(config_data)
    figs["below_pass"] = [w["code"] for w in figs["ranking"] if w["band"] == fail]
    if previous is not None:
        figs["previous"] = {"label": previous.label, "received": previous.received,
                            "on_time_rate": previous.on_time_rate, "closure_rate": previous.closure_rate}
    return figs


def ranking(info: "ReportInfo") -> list[dict[str, Any]]:
    """Windows by assessment score (then on-time rate, then configuration order); equal scores share a rank."""
    rows = []
    for order, s in enumerate(info.statuses):
        score = info.scores[s.code]
        f = info.figures["windows"][s.code]
        rows.append({
            "code": s.code, "name": s.name, "supervisor": s.supervisor, "status": s.label,
            "received": f["received"], "on_time_rate": f["on_time_rate"],
            "closure_rate": rate(outcomes(f), f["received"]),
            "timeliness": score.timeliness, "closure": score.closure, "reasons": score.reasons,
            "submission": score.submission, "score": score.total, "band": score.band, "_order": order})
    rows.sort(key=lambda w: (-w["score"], -(w["on_time_rate"] or 0), w["_order"]))
    last, rank = None, 0
    for i, w in enumerate(rows, start=1):
        if w["score"] != last:
            rank, last = i, w["score"]
        w["rank"] = rank
        del w["_order"]
    return rows


def change_text(now: float | int | None, before: float | int | None, *, percent_points: bool) -> str:
    """环比 in words: 增加 12 件（+8.5%） / 上升 2.1 个百分点 / 持平; empty when either side is unknown."""
    if now is None or before is None:
        return ""
    if percent_points:
        diff = round_half_up((now - before) * 100, 1)
        if diff == 0:
            return "与上期持平"
        return f"比上期{'上升' if diff > 0 else '下降'} {abs(diff):.1f} 个百分点"
    diff = now - before
    if diff == 0:
        return "与上期持平"
    share = f"（{diff / before:+.1%}）" if before else ""
    return f"比上期{'增加' if diff > 0 else '减少'} {abs(diff)} 件{share}"


def pct(r: float | None) -> str:
    return "无" if r is None else f"{r:.1%}"


def trend_points(history: Sequence[PeriodFigures], figs: dict[str, Any]) -> list[tuple[str, int, float | None]]:
    points = [(h.label, h.received, h.on_time_rate) for h in history if h.label != figs["period"]]
    return sorted(points)[-11:] + [(figs["period"], figs["received"], figs["on_time_rate"])]
