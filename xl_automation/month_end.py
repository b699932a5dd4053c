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
        if args.json:
            print_json({"file": str(check.ledger.path), "submitted": False, "errors": check.errors,
                        "findings": [f.as_dict() for f in check.findings if f.severity == "error"]})
            return EXIT_ERRORS
        print(f"{check.ledger.path.name}：有 {check.errors} 条错误，不能报送。请改正后再提交：")
        for f in check.findings:
            if f.severity == "error":
                print(finding_line(f))
        return EXIT_ERRORS
    try:
        done = write_submission(check, Path(args.to), conf, now, args.period)
    except SubmitError as e:
        if args.json:
            print_json({"file": str(check.ledger.path), "submitted": False, "error": str(e)})
        else:
            print(str(e))
        return EXIT_ERRORS
    if args.json:
        print_json({"window": done.window, "period": done.period, "rows_in_ledger": done.rows_in_ledger,
                    "rows_submitted": done.rows, "rows_period": done.rows_period, "rows_carried": done.rows_carried,
                    "left_out": list(done.left_out), "copy": str(done.copy), "manifest": str(done.manifest)})
        return EXIT_OK
    print(f"已报送 {done.window} {done.period}：台账 {done.rows_in_ledger} 行，报送 {done.rows} 行（本期 {done.rows_period}，"
          f"往期未办结结转 {done.rows_carried}），未报送 {len(done.left_out)} 行，提醒 {check.warnings} 条")
    for x in done.left_out:
        print(f"  未报送：第 {x['row']} 行 {x['request_id'] or '（无受理编号）'}：{x['reason']}")
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
        "received": info.figures["group"]["received"],
        "carried_over": info.figures["group"]["carried_over"],
        "overdue": info.figures["group"]["overdue"],
        "on_time_rate": info.figures["group"]["on_time_rate"],
        "windows": window_rows(info, conf),
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


def consolidate(args) -> int:
    from .report import write_report
    conf = args.config_obj
    now = parse_now(args.now)
    period = _period(args)
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"报表文件 {out} 应以 .xlsx 结尾")
    collected, cons = run_consolidation(Path(args.dir), period, conf, now)
    show = args.show_personal_info or not conf.policy["mask_personal_info"]
    out.parent.mkdir(parents=True, exist_ok=True)
    info = write_report(out, consolidation=cons, collected=collected, config=conf, now=now,
                        show_personal_info=show)
    data = summary_json(collected, cons, info, out, conf)
    if args.pdf:
        from .pdf import PdfUnavailable, export_pdf
        try:
            data["pdf"] = str(export_pdf(out))
        except PdfUnavailable as e:
            data["pdf_error"] = str(e)
    if data["rows_in"] != data["rows_in_details"] + data["rows_merged"] + data["rows_excluded"]:
        raise AssertionError("行数不守恒：汇总程序有缺陷，请联系维护人员")
    if args.json:
        print_json(data)
        return EXIT_OK
    from .group_workbook import summary_body
    print(f"{period.label}（{period.describe()}）汇总完成：{out}")
    for line in summary_body(data):
        print(f"  {line}")
    return EXIT_OK


def notice(args) -> int:
    from .notice import notice_text
    conf = args.config_obj
    now = parse_now(args.now)
    collected, cons = run_consolidation(Path(args.dir), _period(args), conf, now)
    print(notice_text(collected, cons, conf, now))
    return EXIT_OK
