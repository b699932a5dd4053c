"""Monthly window assessment: a 100-point score from configured weights, and its band."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xl_automation.rules import reasons
from xl_automation.rules.consolidate import Detail, on_time_rate


@dataclass(frozen=True)
class Score:
    timeliness: float
    closure: float
    reasons: float
    submission: float
    total: float
    band: str
    basis: dict[str, Any]


def band_for(total: float, bands: list[list[Any]]) -> str:
    for floor, name in sorted(bands, key=lambda b: -b[0]):
        if total >= floor:
            return name
    return bands[-1][1]


def explained(reason: Any, refusals: tuple[str, ...]) -> bool:
    """A reason for 无法办理 that counts: written (not 无 / — …), and not a refusal on the grounds of
    business or area (the configured phrases and reasons.REFUSAL_PATTERNS)."""
    return reasons.explained(reason, refusals)


def score_window(details: list[Detail], submitted: bool, late: bool, config_data: dict[str, Any]) -> Score:
    """Timeliness (2-hour contact) over this period's receipts only (a carried-over request was scored in
    its own period); closure (not left 办理中) and reasons for 无法办理 over every request the window
    carries this period, carried-over ones included; submission on time."""
    a = config_data["assessment"]
    w = a["weights"]
    if not submitted:
        return Score(0, 0, 0, 0, 0, band_for(0, a["bands"]), {"note": "未报送"})
    rate = on_time_rate(d.clock for d in details if not d.carried)
    total = len(details)
    closed = sum(1 for d in details if (d.values.get("result") or "办理中") != "办理中")
    unable = [d for d in details if d.values.get("result") == "无法办理"]
    refusals = tuple(config_data["policy"].get("refusal_phrases", ()))
    explained_n = sum(1 for d in unable if explained(d.values.get("unresolved_reason"), refusals))
    parts = {
        "timeliness": w["timeliness"] * (1.0 if rate is None else rate),
        "closure": w["closure"] * (closed / total if total else 1.0),
        "reasons": w["reasons"] * (explained_n / len(unable) if unable else 1.0),
        "submission": w["submission"] * (a.get("late_submission_share", 0.5) if late else 1.0),
    }
    parts = {k: round(v, 1) for k, v in parts.items()}
    weight_sum = sum(w.values()) or 1
    total_score = round(sum(parts.values()) * 100 / weight_sum, 1)
    basis = {"on_time_rate": rate, "requests": total, "closed": closed, "unable": len(unable),
             "unable_explained": explained_n, "late": late}
    return Score(**parts, total=total_score, band=band_for(total_score, a["bands"]), basis=basis)
