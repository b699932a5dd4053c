"""The group's 汇总 as one call: a folder of submissions to the report workbook, the 通报 (and its PDF) and
the JSON summary, with the archive when there is one. The consolidate command, the 汇总 button and the
README pictures all run consolidate_folder."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from xl_automation.model.ledger import gc_paused
from xl_automation.rules.periods import Period


def summary_json(collected, cons, info, report: Path, conf) -> dict[str, Any]:
    from xl_automation.month_end.month_archive import received_text
    statuses = info.statuses
    expected = [w.code for w in conf.windows]
    submitted = [s.code for s in statuses if s.submitted]
    missing = getattr(cons, "resubmission_missing", [])
    windows = window_rows(info, conf)
    for entry in windows:
        entry["resubmission_missing"] = sum(1 for m in missing if m.window == entry["code"])
    return {
        "period": cons.period.label,
        "windows_expected": expected,
        "windows_submitted": submitted,
        "windows_missing": [c for c in expected if c not in submitted],
        "windows_late": [s.code for s in statuses if s.late],
        "windows_resubmitted": [s.code for s in statuses if s.resubmitted],
        "files_rejected": collected.rejected,
        "files_skipped": collected.skipped,
        "files_superseded": [s.path.name for s in collected.superseded],
        # requests a superseded copy held and the newest copy does not: listed, not counted
        "resubmission_missing": [m.as_json(received_text({"received_at": m.received_at}), cons.period.label)
                                 for m in missing],
        "resubmission_unchecked": list(getattr(collected, "superseded_unread", [])),
        # a window's later submission that could not be used: the month counts it by an earlier one
        "newest_unusable": list(getattr(collected, "newest_unusable", [])),
        "files_earlier_period": [{"window": s.window, "file": s.path.name, "period": s.for_period, "rows": len(s.rows)}
                                 for s in getattr(collected, "earlier", ())],
        "rows_in": cons.rows_in,
        "rows_in_details": len(cons.details),
        "rows_merged": cons.merged,
        "rows_excluded": len(cons.excluded),
        "received": info.figures["group"]["received"],
        "carried_over": info.figures["group"]["carried_over"],
        "overdue": info.figures["group"]["overdue"],
        "on_time_rate": info.figures["group"]["on_time_rate"],
        "windows": windows,
        "excluded": [{"window": x.window, "file": x.file, "row": x.source_row, "request_id": x.request_id,
                      "reason": x.reason} for x in cons.excluded],
        "likely_duplicates": [{"kind": s.kind, "window": s.window, "request_id": s.request_id, "file": s.file,
                               "row": s.source_row, "other_window": s.other_window, "other_file": s.other_file,
                               "other_row": s.other_row} for s in cons.suspects],
        "warnings": list(cons.warnings),
        "report": str(report),
    }


# the per-window numbers of the JSON summary: (JSON key, figure key); the same as the 考核 sheet's cached values
WINDOW_FIGURES = (("received", "received"), ("carried_over", "carried_over"), ("carried_closed", "carried_closed"),
                  ("on_time", "on_time"), ("late", "late"), ("overdue_open", "overdue_open"),
                  ("on_time_rate", "on_time_rate"), ("closed", "result:已办结"), ("unable", "result:无法办理"),
                  ("unable_with_reason", "unable_with_reason"), ("transferred", "transferred"))


def window_rows(info, conf) -> list[dict[str, Any]]:
    out = []
    for s in info.statuses:
        figs = info.figures["windows"].get(s.code, {})
        score = info.scores[s.code]
        out.append({"code": s.code, "name": s.name, **{k: figs.get(f) for k, f in WINDOW_FIGURES},
                    "score": score.total, "band": score.band})
    return out


def write_documents(out: Path, collected, cons, conf, now, *, show_personal_info: bool, status=lambda text: None,
                    previous=None, history=(), unrenewed=(), archive=None):
    """The report workbook and the 通报 beside it; returns (ReportInfo, the JSON summary with the 通报's figures).
    previous / history (bulletin_figures.PeriodFigures) and unrenewed (bulletin.Unrenewed) come from the
    archive when there is one; without them the 通报 says nothing about 环比 or 未续报. archive: the
    month_archive.ArchiveInfo for the report's 跨月核对, comparison and 趋势 (None: not shown)."""
    from xl_automation.report.bulletin import bulletin_path, write_bulletin
    from xl_automation.report.workbook import write_report
    out.parent.mkdir(parents=True, exist_ok=True)
    info = write_report(out, consolidation=cons, collected=collected, config=conf, now=now,
                        show_personal_info=show_personal_info, archive=archive)
    data = summary_json(collected, cons, info, out, conf)
    status("正在生成通报……")
    bulletin = write_bulletin(bulletin_path(out), consolidation=cons, info=info, config=conf, now=now,
                              rejected=collected.rejected, previous=previous, history=history, unrenewed=unrenewed,
                              newest_unusable=getattr(collected, "newest_unusable", ()))
    data["bulletin"] = str(bulletin.path)
    data["bulletin_figures"] = bulletin.figures
    if bulletin.notes:
        data["bulletin_notes"] = bulletin.notes
    return info, data


def bulletin_pdf(data: dict[str, Any], status=lambda text: None) -> None:
    from xl_automation.report.pdf import PdfUnavailable, export_pdf
    status("正在把通报导出为 PDF……")
    try:
        data["pdf"] = str(export_pdf(Path(data["bulletin"])))
    except PdfUnavailable as e:
        data["pdf_error"] = str(e)


@gc_paused()     # the month's requests hold no cycles; full GC passes over them (in the 通报's charts, the archive's
#                 frames) cost a tenth of a re-run; the charts' few cycles are collected after
def consolidate_folder(folder: Path, period: Period, conf, now, out: Path, *, show_personal_info: bool,
                       pdf: bool = False, archive: str | None = None, no_archive: bool = False,
                       progress=None) -> dict[str, Any]:
    """Collect, consolidate with the archive, write the report and the 通报, record the period (one archive
    transaction), then the 通报's PDF; the JSON summary. The command and the 汇总 button both run this.
    progress: a progress.Progress-like object (on_file, step), or None."""
    from xl_automation.month_end.collect import check_period_folder, collect
    from xl_automation.month_end.month_archive import add_cross_month, bulletin_inputs, consolidate_period, open_for
    from xl_automation.month_end.row_cache import RowCache
    status = progress.step if progress else (lambda text: None)
    folder = check_period_folder(folder)      # a mistyped folder creates no archive beside it
    store = open_for(folder, conf, archive, no_archive)
    written: list[dict[str, Any]] = []
    try:
        cache = RowCache(store) if store is not None else None
        collected = collect(folder, period, conf, now, on_file=progress.on_file if progress else None,
                            rows_cache=cache)
        status(collected.read_line())

        def write(cons, archive_info):
            previous, history, unrenewed = bulletin_inputs(cons, archive_info)
            status(f"正在生成报表 {out.name}（{len(cons.details)} 行明细）……")
            info, data = write_documents(out, collected, cons, conf, now, show_personal_info=show_personal_info,
                                         status=status, previous=previous, history=history, unrenewed=unrenewed,
                                         archive=archive_info)
            written.append(data)
            return info
        cons, archive_info, _ = consolidate_period(collected, period, conf, now, store, write, cache)
    finally:
        if store is not None:
            store.close()
    data = written[0]
    add_cross_month(data, cons, archive_info)
    if data["rows_in"] + cons.from_archive != data["rows_in_details"] + data["rows_merged"] + data["rows_excluded"]:
        raise AssertionError("行数不守恒：汇总程序有缺陷，请联系维护人员")
    if pdf:
        bulletin_pdf(data, status)
    return data
