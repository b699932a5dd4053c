"""Month-end commands: submit a ledger, consolidate a folder into the report, the liaison-group notice."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .cli import EXIT_ERRORS, EXIT_OK, UsageError, print_json, parse_now
from .commands import finding_line, check_file
from .periods import Period


def submit(args) -> int:
    from .submission import SubmitError, submit as write_submission
    conf = args.config_obj
    now = parse_now(args.now)
    check, _ = check_file(Path(args.file), conf, now, annotate=False)
    if check.errors:
        print(f"{check.ledger.path.name}：有 {check.errors} 条错误，不能报送。请改正后再提交：")
        for f in check.findings:
            if f.severity == "error":
                print(finding_line(f))
        return EXIT_ERRORS
    try:
        done = write_submission(check, Path(args.to), conf, now, args.period)
    except SubmitError as e:
        print(str(e))
        return EXIT_ERRORS
    print(f"已报送 {done.window} {done.period}：{done.rows} 行（本期 {done.rows_period}，"
          f"往期未办结结转 {done.rows_carried}），提醒 {check.warnings} 条")
    print(f"  报送文件：{done.copy}")
    print(f"  报送清单：{done.manifest}")
    return EXIT_OK


def _period(args) -> Period:
    return Period.parse(args.period, args.config_obj.policy["period_start_day"])


def run_consolidation(folder: Path, period: Period, conf, now):
    from .collect import collect
    from .consolidate import consolidate
    collected = collect(folder, period, conf, now)
    return collected, consolidate(collected.sources, period, conf, now)


def summary_json(collected, cons, info, report: Path, conf) -> dict[str, Any]:
    statuses = info.statuses
    expected = [w.code for w in conf.windows]
    submitted = [s.code for s in statuses if s.submitted]
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
        "rows_in": cons.rows_in,
        "rows_in_details": len(cons.details),
        "rows_merged": cons.merged,
        "rows_excluded": len(cons.excluded),
        "overdue": cons.overdue,
        "on_time_rate": cons.on_time_rate,
        "report": str(report),
    }


def write_outputs(out: Path, collected, cons, conf, now, *, show_personal_info: bool, pdf: bool,
                  status=lambda text: None, previous=None, history=(), unrenewed=()) -> dict[str, Any]:
    """The report workbook, the 通报 beside it and, when asked, the 通报 as PDF: the one path that both
    `consolidate` and the 汇总 button take. Returns the JSON summary (with the 通报's figures).
    previous / history (bulletin_figures.PeriodFigures) and unrenewed (bulletin.Unrenewed) come from the
    archive when there is one; without them the 通报 says nothing about 环比 or 未续报."""
    from .bulletin import bulletin_path, write_bulletin
    from .report import write_report
    out.parent.mkdir(parents=True, exist_ok=True)
    info = write_report(out, consolidation=cons, collected=collected, config=conf, now=now,
                        show_personal_info=show_personal_info)
    data = summary_json(collected, cons, info, out, conf)
    status("正在生成通报……")
    bulletin = write_bulletin(bulletin_path(out), consolidation=cons, info=info, config=conf, now=now,
                              rejected=collected.rejected, previous=previous, history=history, unrenewed=unrenewed)
    data["bulletin"] = str(bulletin.path)
    data["bulletin_figures"] = bulletin.figures
    if bulletin.notes:
        data["bulletin_notes"] = bulletin.notes
    if pdf:
        from .pdf import PdfUnavailable, export_pdf
        status("正在把通报导出为 PDF……")
        try:
            data["pdf"] = str(export_pdf(bulletin.path))
        except PdfUnavailable as e:
            data["pdf_error"] = str(e)
    return data


def consolidate(args) -> int:
    conf = args.config_obj
    now = parse_now(args.now)
    period = _period(args)
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"报表文件 {out} 应以 .xlsx 结尾")
    collected, cons = run_consolidation(Path(args.dir), period, conf, now)
    show = args.show_personal_info or not conf.policy["mask_personal_info"]
    data = write_outputs(out, collected, cons, conf, now, show_personal_info=show, pdf=args.pdf)
    pdf_note = data.get("pdf_error")
    if data["rows_in"] != data["rows_in_details"] + data["rows_merged"] + data["rows_excluded"]:
        raise AssertionError("行数不守恒：汇总程序有缺陷，请联系维护人员")
    if args.json:
        print_json(data)
        return EXIT_OK
    rate = "—" if data["on_time_rate"] is None else f"{data['on_time_rate']:.1%}"
    print(f"{period.label}（{period.describe()}）汇总完成：{out}")
    print(f"  窗口：应报 {len(data['windows_expected'])}，已报 {len(data['windows_submitted'])}，"
          f"未报 {len(data['windows_missing'])}，逾期 {len(data['windows_late'])}，重新报送 {len(data['windows_resubmitted'])}")
    print(f"  行数：读入 {data['rows_in']} = 明细 {data['rows_in_details']} + 转办合并 {data['rows_merged']}"
          f" + 不计入本期 {data['rows_excluded']}")
    print(f"  超时 {data['overdue']} 件，按时率 {rate}")
    for r in collected.rejected:
        print(f"  未能读取：{r['file']}：{r['reason']}")
    print(f"  通报：{data['bulletin']}")
    for note in data.get("bulletin_notes", ()):
        print(f"  {note}")
    if "pdf" in data:
        print(f"  通报 PDF：{data['pdf']}")
    if pdf_note:
        print(f"  {pdf_note}")
    return EXIT_OK


def notice(args) -> int:
    from .notice import notice_text
    conf = args.config_obj
    now = parse_now(args.now)
    collected, cons = run_consolidation(Path(args.dir), _period(args), conf, now)
    print(notice_text(collected, cons, conf, now))
    return EXIT_OK
