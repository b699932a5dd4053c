"""The month-end commands: submit a ledger, consolidate a folder into the report, the liaison-group notice,
the archive's history. Each does its work, prints its text (or JSON) and returns the exit code."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from xl_automation.commands.edge import print_json
from xl_automation.commands.progress import Progress
from xl_automation.model.config import Config
from xl_automation.model.exits import EXIT_ERRORS, EXIT_OK, UsageError
from xl_automation.model.findings import finding_line
from xl_automation.rules.periods import Period
from xl_automation.xlsx.ledger_check import check_file


def submit(conf: Config, file: Path, to: Path, now: datetime, *, period: str | None = None,
           json: bool = False) -> int:
    """The period's submission of a ledger without errors into folder `to`; exit 1 when refused."""
    from xl_automation.month_end.submission import SubmitError, submit as write_submission
    check, _ = check_file(Path(file), conf, now, annotate=False)
    if check.errors:
        if json:
            print_json({"file": str(check.ledger.path), "submitted": False, "errors": check.errors,
                        "findings": [f.as_dict() for f in check.findings if f.severity == "error"]})
            return EXIT_ERRORS
        print(f"{check.ledger.path.name}：有 {check.errors} 条错误，不能报送。请改正后再提交：")
        for f in check.findings:
            if f.severity == "error":
                print(finding_line(f))
        return EXIT_ERRORS
    try:
        done = write_submission(check, Path(to), conf, now, period)
    except SubmitError as e:
        if json:
            print_json({"file": str(check.ledger.path), "submitted": False, "error": str(e)})
        else:
            print(str(e))
        return EXIT_ERRORS
    if json:
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


def _period(conf: Config, text: str) -> Period:
    return Period.parse(text, conf.policy["period_start_day"])


def consolidate(conf: Config, folder: Path, period: str, out: Path, now: datetime, *, json: bool = False,
                pdf: bool = False, show_personal_info: bool = False, archive: str | None = None,
                no_archive: bool = False, progress: Progress | None = None) -> int:
    """A folder of submissions into the group's report (and its 通报), with the archive unless no_archive."""
    from xl_automation.report.month_report import consolidate_folder
    term = _period(conf, period)
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"报表文件 {out} 应以 .xlsx 结尾")
    progress = progress or Progress(None)
    try:
        data = consolidate_folder(Path(folder), term, conf, now, out,
                                  show_personal_info=show_personal_info or not conf.policy["mask_personal_info"],
                                  pdf=pdf, archive=archive, no_archive=no_archive, progress=progress)
    finally:
        progress.done()
    if json:
        print_json(data)
        return EXIT_OK
    from xl_automation.excel.group_workbook import summary_body
    print(f"{term.label}（{term.describe()}）汇总完成：{out}")
    for line in summary_body(data):
        print(f"  {line}")
    return EXIT_OK


def _existing_archive(folder: Path, archive: str | None, no_archive: bool, conf: Config):
    """The archive for reading only, when there is one (notice never creates it)."""
    from xl_automation.month_end.archive import open_archive, resolve_path
    if no_archive:
        return None
    path = resolve_path(folder, archive, conf.data.get("archive", {}).get("path"))
    return open_archive(path, create=False) if path.exists() else None


def notice(conf: Config, folder: Path, period: str, now: datetime, *, archive: str | None = None,
           no_archive: bool = False, progress: Progress | None = None) -> int:
    """The text to paste into the liaison group: who has not submitted, who is late, what is overdue."""
    from xl_automation.month_end.collect import collect
    from xl_automation.month_end.month_archive import consolidate_known
    from xl_automation.month_end.notice import notice_text
    folder = Path(folder)
    term = _period(conf, period)
    progress = progress or Progress(None)
    store = _existing_archive(folder, archive, no_archive, conf)
    try:
        collected = collect(folder, term, conf, now, on_file=progress.on_file)
        progress.step(collected.read_line())
        # as consolidate counts (the late files of earlier periods included), without recording anything
        cons = consolidate_known(collected, term, conf, now, store)
    finally:
        progress.done()
        if store is not None:
            store.close()
    print(notice_text(collected, cons, conf, now))
    return EXIT_OK


def history(conf: Config, place: str | None = None, *, archive: str | None = None, periods: int = 12,
            period: str | None = None, windows: list[str] | None = None, export: str | None = None,
            json: bool = False, show_personal_info: bool = False) -> int:
    """Figures per window and period from the archive, repeat requests; exported when asked."""
    from xl_automation.month_end.history import archive_path, export as write_export, load_history
    if period is not None:
        period = Period.parse(period).label            # 2026-1x is a message, not an empty history
    if periods < 0:
        raise UsageError(f"--periods {periods} 应为 0 或正整数（最近多少个统计周期；0 为全部）")
    unknown = [code for code in windows or () if conf.window(code) is None]
    if unknown:
        raise UsageError(f"--window {'、'.join(unknown)} 不是配置中的窗口编码；可用：{'、'.join(w.code for w in conf.windows)}")
    path = archive_path(conf, place, archive)
    shown = load_history(conf, path, upto=period, last=periods, codes=windows, show_personal_info=show_personal_info)
    if export:
        write_export(Path(export), shown.frame, shown.repeats, shown.runs, shown.order)
    if json:
        print_json(shown.as_json(export))
        return EXIT_OK
    for line in shown.lines(export):
        print(line)
    return EXIT_OK
