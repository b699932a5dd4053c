"""Month-end commands: submit a ledger, consolidate a folder into the report, the liaison-group notice."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .cli import EXIT_ERRORS, EXIT_OK, UsageError, print_json, parse_now
from .commands import finding_line, check_file
from .periods import Period
from .progress import for_args


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


def run_consolidation(folder: Path, period: Period, conf, now, progress=None):
    """collect + consolidate; progress: a progress.Progress-like object (on_file, step), or None."""
    from .collect import collect
    from .consolidate import consolidate
    collected = collect(folder, period, conf, now, on_file=progress.on_file if progress else None)
    if progress:
        progress.step(f"已读取 {len(collected.sources)} 个窗口的文件，共 {sum(len(s.rows) for s in collected.sources)} 行，正在汇总……")
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


def consolidate(args) -> int:
    from .report import write_report
    conf = args.config_obj
    now = parse_now(args.now)
    period = _period(args)
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"报表文件 {out} 应以 .xlsx 结尾")
    progress = for_args(args)
    try:
        collected, cons = run_consolidation(Path(args.dir), period, conf, now, progress)
        show = args.show_personal_info or not conf.policy["mask_personal_info"]
        out.parent.mkdir(parents=True, exist_ok=True)
        progress.step(f"正在写报表 {out.name}（{len(cons.details)} 行明细）……")
        info = write_report(out, consolidation=cons, collected=collected, config=conf, now=now,
                            show_personal_info=show)
        data = summary_json(collected, cons, info, out, conf)
        pdf_note = None
        if args.pdf:
            from .pdf import PdfUnavailable, export_pdf
            progress.step("正在用 LibreOffice 导出 PDF……")
            try:
                data["pdf"] = str(export_pdf(out))
            except PdfUnavailable as e:
                pdf_note = str(e)
                data["pdf_error"] = pdf_note
    finally:
        progress.done()
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
    if "pdf" in data:
        print(f"  PDF：{data['pdf']}")
    if pdf_note:
        print(f"  {pdf_note}")
    return EXIT_OK


def notice(args) -> int:
    from .notice import notice_text
    conf = args.config_obj
    now = parse_now(args.now)
    progress = for_args(args)
    try:
        collected, cons = run_consolidation(Path(args.dir), _period(args), conf, now, progress)
    finally:
        progress.done()
    print(notice_text(collected, cons, conf, now))
    return EXIT_OK
