"""Month-end commands: submit a ledger, consolidate a folder into the report, the liaison-group notice."""
from __future__ import annotations

from pathlib import Path

from xl_automation.cli.exits import EXIT_ERRORS, EXIT_OK, UsageError, print_json, parse_now
from xl_automation.cli.commands import finding_line, check_file
from xl_automation.rules.periods import Period
from xl_automation.cli.progress import for_args
from xl_automation.report.month_report import run_consolidation, consolidate_folder


def submit(args) -> int:
    from xl_automation.month_end.submission import SubmitError, submit as write_submission
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


def consolidate(args) -> int:
    conf = args.config_obj
    now = parse_now(args.now)
    period = _period(args)
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"报表文件 {out} 应以 .xlsx 结尾")
    progress = for_args(args)
    try:
        data = consolidate_folder(Path(args.dir), period, conf, now, out,
                                  show_personal_info=args.show_personal_info or not conf.policy["mask_personal_info"],
                                  pdf=args.pdf, archive=args.archive, no_archive=args.no_archive, progress=progress)
    finally:
        progress.done()
    if args.json:
        print_json(data)
        return EXIT_OK
    from xl_automation.excel.group_workbook import summary_body
    print(f"{period.label}（{period.describe()}）汇总完成：{out}")
    for line in summary_body(data):
        print(f"  {line}")
    return EXIT_OK


def _existing_archive(folder: Path, args, conf):
    """The archive for reading only, when there is one (notice never creates it)."""
    from xl_automation.month_end.archive import open_archive, resolve_path
    if getattr(args, "no_archive", False):
        return None
    path = resolve_path(folder, getattr(args, "archive", None), conf.data.get("archive", {}).get("path"))
    return open_archive(path, create=False) if path.exists() else None


def notice(args) -> int:
    from xl_automation.month_end.notice import notice_text
    conf = args.config_obj
    now = parse_now(args.now)
    folder = Path(args.dir)
    period = _period(args)
    progress = for_args(args)
    try:
        collected, cons = run_consolidation(folder, period, conf, now, progress)
    finally:
        progress.done()
    archive = _existing_archive(folder, args, conf)
    if archive is not None:
        from xl_automation.rules.cross_month import apply
        from xl_automation.month_end.month_archive import source_keys
        from xl_automation.rules.sla import Clock
        try:
            if any(p < period.label for p in archive.periods()):
                apply(cons, collected.sources, archive.known_before(period.label, source_keys(collected.sources)),
                      archive.values_of,
                      Clock(conf.policy, now), {w.code: (w.code, w.name) for w in conf.windows})
        finally:
            archive.close()
    print(notice_text(collected, cons, conf, now))
    return EXIT_OK
