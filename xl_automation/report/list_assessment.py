"""The 考核 sheet: each window's figures, its score per weight, total and band (and the same per supervising unit)."""
from __future__ import annotations

from xl_automation.model.labels import INFO_WINDOW_CODE as WINDOW, INFO_WINDOW_NAME as WINDOW_NAME
from xl_automation.report.list_table import Lists
from xl_automation.rules.assessment import Score
from xl_automation.rules.report_info import WindowStatus

ASSESSMENT_SHEET = "考核"
WEIGHT_LABELS = {"timeliness": "2小时内联系", "closure": "办结", "reasons": "无法办理原因说明", "submission": "按时报送"}
# the 考核 sheet's figure columns: the per-window numbers of `consolidate --json`, as cached values
ASSESSMENT_FIGURES = (("received", "本期受理"), ("carried_over", "结转"), ("on_time", "按时联系"),
                      ("late", "超时联系"), ("overdue_open", "超时未联系"), ("on_time_rate", "按时率"),
                      ("result:已办结", "办结"), ("carried_closed", "结转办结"), ("result:无法办理", "无法办理"),
                      ("unable_with_reason", "其中说明原因"), ("transferred", "转办"))


def write_assessment(lists: Lists, statuses: list["WindowStatus"], scores: dict[str, Score], figs: dict[str, dict],
               sheet: str = ASSESSMENT_SHEET, title: str = "月度考核（及时性与办理情况）") -> None:
    """The group's table, or (sheet, title given) one supervising unit's windows only (三.3)."""
    a = lists.config.data["assessment"]
    weights = a["weights"]
    ws = lists.book.sheet(sheet, [10, 22, 30, 9] + [7] * len(ASSESSMENT_FIGURES) + [11] * 4 + [8, 8],
                         repeat_columns=2)
    ws.write_string(0, 0, title, lists.book.title)
    shown = "，".join(f"{WEIGHT_LABELS.get(k, k)} {v:g} 分" for k, v in weights.items())
    ws.write_string(1, 0, f"权重：{shown}（合计折算为百分制）；逾期报送的报送分按 "
                          f"{a.get('late_submission_share', 0.5):.0%} 计；未报送记 0 分。及时性只看本期受理的需求"
                          "（结转的需求已在受理当期考核）；办结和原因说明含结转的需求", lists.book.subtitle)
    bands = "，".join(f"≥{floor:g} {name}" for floor, name in sorted(a["bands"], key=lambda b: -b[0]))
    ws.write_string(2, 0, f"分档：{bands}", lists.book.subtitle)
    keys = list(WEIGHT_LABELS)
    headers = [WINDOW, WINDOW_NAME, "监督考核单位", "报送状态"] + [label for _, label in ASSESSMENT_FIGURES]
    headers += [f"{WEIGHT_LABELS[k]}（{weights.get(k, 0):g}）" for k in keys] + ["总分", "档次"]
    lists.book.headers(ws, 3, headers)
    ws.set_row(3, 30)
    first = 4 + len(ASSESSMENT_FIGURES)
    for r, s in enumerate(statuses, start=4):
        score, f = scores[s.code], figs.get(s.code, {})
        lists.book.row(ws, r, [s.code, s.name, s.supervisor, s.label])
        for c, (key, _) in enumerate(ASSESSMENT_FIGURES, start=4):
            value = f.get(key)
            if value is not None:
                ws.write_number(r, c, value, lists.book.pct if key == "on_time_rate" else None)
        for c, k in enumerate(keys, start=first):
            ws.write_number(r, c, getattr(score, k), lists.book.dec1)
        ws.write_number(r, first + len(keys), score.total, lists.book.dec1)
        ws.write_string(r, first + 1 + len(keys), score.band)
