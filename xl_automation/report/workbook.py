"""The group's monthly report workbook: 汇总 as live formulas over 明细, and the lists behind it.

Written with XlsxWriter in constant-memory mode: each sheet is written once, top to bottom, in the
order it appears, so a million-row 明细 costs one row of cells in memory at a time.
"""
from __future__ import annotations

import os
from collections import defaultdict
from datetime import datetime, time
from pathlib import Path
from typing import Any

from xl_automation.rules.assessment import score_window
from xl_automation.rules.breakdown import breakdown
from xl_automation.month_end.collect import Collected
from xl_automation.model.config import Config
from xl_automation.model.ledger import gc_paused
from xl_automation.rules.consolidate import Consolidation, Detail
from xl_automation.rules.periods import Period, due_day
from xl_automation.report.report_book import MAX_ROWS, Book, ReportError
from xl_automation.report.report_breakdown import write_breakdown, write_unit_assessments
from xl_automation.report.report_detail import write_detail
from xl_automation.report.list_assessment import write_assessment
from xl_automation.report.list_notes import write_notes
from xl_automation.report.list_requests import write_overdue, write_transfers, write_unresolved
from xl_automation.report.list_rows import write_excluded, write_suspects
from xl_automation.report.list_submissions import write_findings, write_submissions
from xl_automation.report.list_table import Lists
from xl_automation.report.report_summary import GROUP_TOTAL, SUBTOTAL, SummaryRow, write_summary
from xl_automation.rules.report_info import ReportInfo, WindowStatus  # noqa: F401  (imported from here too)
from xl_automation.rules.stats import figures, figures_by_window


def due_at(period: Period, config: Config) -> datetime:
    """Reports are due *before* the due day: a submission at 00:00 on that day is already late."""
    return datetime.combine(period.due_date(due_day(config.policy)), time.min)


def window_statuses(collected: Collected, period: Period, config: Config) -> list[WindowStatus]:
    """Every configured window in configuration order, submitted or not."""
    due = due_at(period, config)
    in_force = {s.window: s for s in collected.sources}
    replaced: dict[str, list[str]] = defaultdict(list)
    for s in collected.superseded:
        replaced[s.window].append(s.path.name)
    out = []
    for w in config.windows:
        src = in_force.get(w.code)
        if src is None:
            out.append(WindowStatus(w.code, w.name, w.company_name, w.supervisor, False))
            continue
        at = src.submitted_at
        out.append(WindowStatus(
            w.code, w.name, w.company_name, w.supervisor, True, late=at is not None and at >= due,
            resubmitted=bool(replaced.get(w.code)), superseded_files=tuple(replaced.get(w.code, ())),
            file=src.path.name, sha256=src.sha256, kind=src.kind, submitted_at=at, rows=len(src.rows),
            errors=src.errors, warnings=src.warnings))
    return out


def _summary_rows(details: list[Detail], by_window: dict[str, list[Detail]],
                  config: Config) -> tuple[list[SummaryRow], dict[str, Any]]:
    refusals = tuple(config.policy.get("refusal_phrases", ()))
    companies = {c["code"]: [w.code for w in config.windows if w.company == c["code"]] for c in config.data["companies"]}
    windows, companies_figs, group = figures_by_window(by_window, details, companies, refusals)
    rows, per_window, per_company = [], {}, {}
    for w in config.windows:
        per_window[w.code] = windows[w.code] if w.code in windows else figures((), refusals)
        rows.append(SummaryRow(w.code, w.name, ("window", w.code), per_window[w.code]))
    for c in config.data["companies"]:
        per_company[c["code"]] = companies_figs[c["code"]]
        rows.append(SummaryRow(c["code"], f"{c['name']} {SUBTOTAL}", ("company", c["name"]),
                               per_company[c["code"]], total=True))
    rows.append(SummaryRow(GROUP_TOTAL, config.data.get("group", {}).get("name", ""), None, group, total=True))
    return rows, {"windows": per_window, "companies": per_company, "group": group}


def _comparison(book: Book, archive, rows: list[dict[str, Any]]):
    from xl_automation.report.report_cross_month import write_comparison
    return lambda ws, row: write_comparison(book, ws, row, archive, rows)


@gc_paused()     # the month's requests and the rows written hold no cycles: no GC passes over them
def write_report(path: Path | str, *, consolidation: Consolidation, collected: Collected, config: Config,
                 now: datetime, show_personal_info: bool = False, cached_values: bool = True,
                 archive: Any = None) -> ReportInfo:
    """Write the report to path (via a temporary file beside it, so a failure leaves no half workbook)."""
    path = Path(path)
    period, details = consolidation.period, consolidation.details
    if len(details) > MAX_ROWS - 1:
        raise ReportError(f"本期明细有 {len(details):,} 行，超过 Excel 工作表 {MAX_ROWS:,} 行的上限，无法写成一个报表："
                          f"请按公司分别汇总（把各公司的报送文件放在不同文件夹）")
    statuses = window_statuses(collected, period, config)
    by_window: dict[str, list[Detail]] = defaultdict(list)
    for d in details:
        by_window[d.window].append(d)
    summary_rows, figs = _summary_rows(details, by_window, config)
    scores = {s.code: score_window(by_window.get(s.code, []), s.submitted, s.late, config.data) for s in statuses}
    due = due_at(period, config)
    split = breakdown([d for d in details if not d.carried],        # this period's receipts, as 汇总 counts them
                      [(w.code, w.name) for w in config.windows], reason_rules(config))
    archive_rows = []
    if archive is not None:                 # the archive's figures of this period: 跨月核对, comparison, 趋势
        from xl_automation.month_end.month_archive import figure_rows
        archive_rows = figure_rows(consolidation, figs, scores, config)
    partial = path.with_name(f".~{path.stem}.partial.xlsx")
    book = Book(partial, config, show_personal_info, created=now)
    book.print_title = f"{config.data.get('group', {}).get('name', '')}综合受理月报 {period.label}（{period.describe()}）"
    try:
        write_summary(book, summary_rows, period=period, config=config, detail_rows=len(details),
                      cached_values=cached_values, window_count=len(config.windows), warnings=consolidation.warnings,
                      below=None if archive is None else _comparison(book, archive, archive_rows))
        write_detail(book, details, config)
        lists = Lists(book, config)
        write_overdue(lists, details)
        write_unresolved(lists, details)
        write_transfers(lists, details)
        write_excluded(lists, consolidation)
        write_suspects(lists, consolidation)
        write_breakdown(lists, split)
        write_submissions(lists, statuses, collected, consolidation, due)
        if archive is not None:
            from xl_automation.report.report_cross_month import write_cross_month, write_trends
            write_cross_month(lists, consolidation, archive, archive_rows)
            write_trends(lists, period.label, archive.history, archive_rows)
        write_assessment(lists, statuses, scores, figs["windows"])
        write_unit_assessments(lists, statuses, scores, figs["windows"])
        write_findings(lists, collected)
        write_notes(lists, consolidation, collected, now, due)
        book.close()
        try:
            os.replace(partial, path)
        except PermissionError as e:        # the old report is open in Excel: name the file the user knows
            raise PermissionError(e.errno, e.strerror, str(path)) from e
    except BaseException:
        book.discard()
        partial.unlink(missing_ok=True)
        raise
    return ReportInfo(path, figs, statuses, scores, split)


def reason_rules(config: Config) -> list[dict[str, Any]]:
    return config.data.get("reason_categories", {}).get("rules", [])
