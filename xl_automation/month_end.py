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
                    "rows_earlier_closed": done.rows_earlier, "rows_by_period": dict(done.rows_by_period),
                    "left_out": list(done.left_out), "copy": str(done.copy), "manifest": str(done.manifest)})
        return EXIT_OK
    print(f"已报送 {done.window} {done.period}：台账 {done.rows_in_ledger} 行，报送 {done.rows} 行（本期 {done.rows_period}，"
          f"往期未办结结转 {done.rows_carried}，往期已办结 {done.rows_earlier}），未报送 {len(done.left_out)} 行，"
          f"提醒 {check.warnings} 条")
    if done.rows_earlier:
        print(f"  往期已办结的 {done.rows_earlier} 行一并报送：集团归档会识别哪些已报过、哪些是补报")
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
        "overdue": cons.overdue,
        "on_time_rate": cons.on_time_rate,
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
    from .collect import collect
    from .month_archive import add_cross_month, consolidate_period, open_for
    from .row_cache import RowCache
    from .report import write_report
    conf = args.config_obj
    now = parse_now(args.now)
    period = _period(args)
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"报表文件 {out} 应以 .xlsx 结尾")
    folder = Path(args.dir)
    archive = open_for(folder, args, conf)
    cache = RowCache(archive) if archive is not None else None
    try:
        collected = collect(folder, period, conf, now, rows_cache=cache)
    except BaseException:
        if archive is not None:
            archive.close()
        raise
    show = args.show_personal_info or not conf.policy["mask_personal_info"]
    out.parent.mkdir(parents=True, exist_ok=True)

    def write(cons, archive_info):
        return write_report(out, consolidation=cons, collected=collected, config=conf, now=now,
                            show_personal_info=show, archive=archive_info)
    try:
        cons, archive_info, info = consolidate_period(collected, period, conf, now, archive, write, cache)
    finally:
        if archive is not None:
            archive.close()
    data = summary_json(collected, cons, info, out, conf)
    add_cross_month(data, cons, archive_info)
    pdf_note = None
    if args.pdf:
        from .pdf import PdfUnavailable, export_pdf
        try:
            data["pdf"] = str(export_pdf(out))
        except PdfUnavailable as e:
            pdf_note = str(e)
            data["pdf_error"] = pdf_note
    if data["rows_in"] + cons.from_archive != data["rows_in_details"] + data["rows_merged"] + data["rows_excluded"]:
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
    print(f"  跨月：补报 {len(data['late_reported'])} 件，未续报 {len(data['dropped_open'])} 件；{archive_info.note}")
    for note in archive_info.notes:
        print(f"  {note}")
    for r in collected.rejected:
        print(f"  未能读取：{r['file']}：{r['reason']}")
    if data["excluded"]:
        print(f"  未计入本期 {len(data['excluded'])} 行（逐行见报表“未计入本期”表）")
    if data["likely_duplicates"]:
        print(f"  疑似重复或受理编号冲突 {len(data['likely_duplicates'])} 对（见报表“疑似重复”表）")
    for w in data["warnings"]:
        print(f"  提醒：{w}")
    if "pdf" in data:
        print(f"  PDF：{data['pdf']}")
    if pdf_note:
        print(f"  {pdf_note}")
    return EXIT_OK


def _existing_archive(folder: Path, args, conf):
    """The archive for reading only, when there is one (notice never creates it)."""
    from .archive import open_archive, resolve_path
    if getattr(args, "no_archive", False):
        return None
    path = resolve_path(folder, getattr(args, "archive", None), conf.data.get("archive", {}).get("path"))
    return open_archive(path, create=False) if path.exists() else None


def notice(args) -> int:
    from .notice import notice_text
    conf = args.config_obj
    now = parse_now(args.now)
    folder = Path(args.dir)
    period = _period(args)
    collected, cons = run_consolidation(folder, period, conf, now)
    archive = _existing_archive(folder, args, conf)
    if archive is not None:
        from .cross_month import apply
        from .sla import Clock
        try:
            if any(p < period.label for p in archive.periods()):
                apply(cons, collected.sources, archive.known_before(period.label), archive.values_of,
                      Clock(conf.policy, now), {w.code: (w.code, w.name) for w in conf.windows})
        finally:
            archive.close()
    print(notice_text(collected, cons, conf, now))
    return EXIT_OK
