"""What each button does, written once against a SheetPort: the same core and messages as the CLI."""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from xl_automation.model import labels

from xl_automation.rules import sla
from xl_automation.model.findings import finding_line
from xl_automation.model.config import Config
from xl_automation.xlsx.contact_form import FORM_CELLS, PRINT_AREA
from xl_automation.model.ledger import LedgerError, LedgerRow, RowValues, column_letter
from xl_automation.rules.normalize import DateOnly, Invalid, clean_text, parse_datetime, parse_tick
from xl_automation.rules.periods import Period
from xl_automation.model.schema import BY_KEY, INPUT_COLUMNS
from xl_automation.excel.sheetport import ERROR, INFO, WARN, SheetPort
from xl_automation.rules.validate import CLOCK_WARNINGS, row_statuses

MAX_LINES = 12            # finding lines in a message box; the notes in the cells say the rest
TITLES = {"validate": "校验台账", "flag": "标记超时", "register": "登记联系单", "submit": "报送台账",
          "consolidate": "集团汇总"}


def _more(total: int, shown: int, where: str) -> list[str]:
    return [f"……另有 {total - shown} 条，{where}"] if total > shown else []


def _marked(annotation) -> list[str]:
    notices = [f"{f.message}。{f.hint}" for f in annotation.notices]
    if not annotation.cells_marked:
        return notices
    return notices + [f"已标出 {annotation.cells_marked} 个单元格（红色：错误，黄色：提醒），鼠标移到单元格上可看批注和处理办法。"]


def _check(port: SheetPort, config: Config, now: datetime, title: str):
    """Read, validate and clock the ledger, then write fills, notes and program columns."""
    from xl_automation.rules.validate import check_ledger
    port.status(f"{title}：正在读取台账……")
    ledger = port.read_ledger()
    port.status(f"{title}：正在校验 {len(ledger.rows)} 行……")
    check = check_ledger(ledger, config, now)
    port.status(f"{title}：正在写回标注……")
    annotation = port.annotate(ledger, check.findings, check.clocks, now)
    return check, annotation


def _head(check) -> str:
    ledger = check.ledger
    return (f"{ledger.path.name} › {ledger.sheet}：共 {len(ledger.rows)} 行，"
            f"错误 {check.errors} 条，提醒 {check.warnings} 条。")


def run_validate(port: SheetPort, config: Config, now: datetime) -> None:
    """校验: every finding as the CLI's validate --annotate writes it, and a summary box."""
    check, annotation = _check(port, config, now, TITLES["validate"])
    lines = [_head(check)]
    lines += [finding_line(f).strip() for f in check.findings[:MAX_LINES]]
    lines += _more(len(check.findings), MAX_LINES, "见各单元格的批注")
    lines += _marked(annotation) or (["全部通过。"] if not check.findings else [])
    port.report(TITLES["validate"], "\n".join(lines), WARN if check.errors else INFO)


def run_flag(port: SheetPort, config: Config, now: datetime) -> None:
    """标记超时: each row's response time and 2-hour status, as the CLI's flag --annotate."""
    check, annotation = _check(port, config, now, TITLES["flag"])
    statuses = row_statuses(check)
    counts = Counter(s["status"] for s in statuses if s["status"])
    late = [s for s in statuses if s["status"] in (*sla.OVERDUE_STATUSES, sla.NEAR)]
    lines = [_head(check), "时限状态：" + "，".join(f"{s} {counts.get(s, 0)}" for s in sla.STATUSES)]
    for s in late[:MAX_LINES]:
        over = f"，超出 {-s['margin']:g} 分钟" if s["margin"] is not None and s["margin"] < 0 else ""
        lines.append(f"[{s['status']}] 第 {s['row']} 行 {s['request_id'] or '（无编号）'}：{s['minutes']:g} 分钟{over}")
    lines += _more(len(late), MAX_LINES, f"见“{BY_KEY['sla_status'].header}”列")
    lines += [finding_line(f).strip() for f in check.findings if f.code in CLOCK_WARNINGS]
    if check.errors:
        lines.append(f"另有 {check.errors} 条错误，点“校验”查看。")
    lines += _marked(annotation)
    overdue = sum(counts.get(s, 0) for s in sla.OVERDUE_STATUSES)
    port.report(TITLES["flag"], "\n".join(lines), WARN if overdue or check.errors else INFO)


# ---- the contact form -----------------------------------------------------------------------

def read_form(port: SheetPort) -> dict[str, Any]:
    """The form's values by schema key, in one read of its printed area."""
    first = PRINT_AREA.split(":")[0]
    top, left = int(first[1:]), ord(first[0]) - 64
    block = port.read_values(labels.FORM_SHEET, PRINT_AREA)
    out = {}
    for key, ref in FORM_CELLS.items():
        row, col = int(ref[1:]) - top, ord(ref[0]) - 64 - left
        out[key] = block[row][col] if row < len(block) and col < len(block[row]) else None
    return out


def _form_values(form: dict[str, Any], now: datetime) -> tuple[dict[str, Any], list[str]]:
    """Ledger values from the form, and problems that stop the registration (cell: what is wrong)."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, raw in form.items():
        column, ref = BY_KEY[key], FORM_CELLS[key]
        if column.kind == "tick":
            tick = parse_tick(raw)
            if isinstance(tick, Invalid):
                problems.append(f"{labels.FORM_SHEET}!{ref}（{column.header}）：“{clean_text(raw)}”无法识别为勾选，"
                                f"需要时填“{labels.TICK}”，不需要留空")
            elif tick:
                values[key] = labels.TICK
        elif column.kind == "datetime":
            moment = parse_datetime(raw) if raw not in (None, "") else None
            if isinstance(moment, Invalid):
                problems.append(f"{labels.FORM_SHEET}!{ref}（{column.header}）：“{clean_text(raw)}”不是有效的时间，"
                                "应如 2026-11-03 09:05")
            values[key] = moment if isinstance(moment, datetime) else now.replace(second=0, microsecond=0)
        elif raw not in (None, "") and clean_text(raw):
            values[key] = clean_text(raw)
    return values, problems


def run_register(port: SheetPort, config: Config, now: datetime) -> None:
    """登记联系单: the form becomes a new ledger row with a 受理编号 and 受理时间; the form is cleared."""
    from xl_automation.rules.validate import check_ledger
    title = TITLES["register"]
    port.status(f"{title}：正在读取联系单……")
    form = read_form(port)
    if not any(v not in (None, "") and clean_text(v) for v in form.values()):
        port.report(title, f"“{labels.FORM_SHEET}”是空的：请先填写联系单，再点“{title}”。", WARN)
        return
    values, problems = _form_values(form, now)
    if problems:
        port.report(title, "联系单有以下问题，未登记：\n" + "\n".join(problems), WARN)
        return
    ledger = port.read_ledger()
    window = (ledger.info.get(labels.INFO_WINDOW_CODE) or "").strip()
    if "request_id" not in ledger.columns or not window or config.window(window) is None:
        known = "、".join(w.code for w in config.windows)
        port.report(title, f"请先在“{labels.INFO_SHEET}”表填写本窗口的{labels.INFO_WINDOW_CODE}（{known}），"
                           f"受理编号由它生成。", WARN)
        return
    row = max((r.excel_row for r in ledger.rows), default=ledger.header_row) + 1
    # the id the validator would propose for this row: the same numbering, no second implementation
    typed_values = {k: True if v == labels.TICK and BY_KEY[k].kind == "tick" else v for k, v in values.items()}
    draft = LedgerRow(row, RowValues(typed_values.get(key) for key in BY_KEY))
    proposals = check_ledger(replace(ledger, rows=[*ledger.rows, draft], findings=[]), config, now).proposals
    values["request_id"] = proposals[row]
    present = {k: v for k, v in values.items() if k in ledger.columns}
    missing = [BY_KEY[k].header for k in values if k not in ledger.columns]
    columns = [ledger.columns[c.key] for c in INPUT_COLUMNS if c.key in ledger.columns]
    first, last = min(columns), max(columns)
    by_col = {ledger.columns[k]: v for k, v in present.items()}
    port.write_values(ledger.sheet, f"{column_letter(first)}{row}", [[by_col.get(c) for c in range(first, last + 1)]])
    port.clear_cells(labels.FORM_SHEET, list(FORM_CELLS.values()))
    todo = [c.header for c in INPUT_COLUMNS if c.required and c.key not in present and c.key in ledger.columns]
    lines = [f"已登记到“{ledger.sheet}”第 {row} 行：受理编号 {values['request_id']}，"
             f"受理时间 {values['received_at']:%Y-%m-%d %H:%M}。联系单已清空。"]
    if form.get("received_at") in (None, "") or isinstance(parse_datetime(form.get("received_at")), DateOnly):
        lines.append("联系单未写明提交时刻，受理时间按登记时刻记录；如不对请在台账中改正。")
    if todo:
        lines.append(f"请在台账中补填：{'、'.join(todo)}，然后点“校验”。")
    if missing:
        lines.append(f"台账没有这些列，未登记：{'、'.join(missing)}。")
    port.report(title, "\n".join(lines), INFO)


# ---- month end ------------------------------------------------------------------------------

def _folder(port: SheetPort, text: Any) -> Path:
    path = Path(clean_text(text))
    return path if path.is_absolute() else port.folder() / path


def run_submit(port: SheetPort, config: Config, now: datetime) -> None:
    """提交: save, then exactly `xl-automation submit` on the saved file, to the folder set in 台账信息."""
    from xl_automation.xlsx.ledger_check import check_file
    from xl_automation.month_end.submission import SubmitError, submit
    title = TITLES["submit"]
    port.status(f"{title}：正在保存工作簿……")
    path = port.save()
    port.status(f"{title}：正在校验……")
    check, _ = check_file(path, config, now, annotate=False)
    if check.errors:
        errors = [f for f in check.findings if f.severity == "error"]
        lines = [f"已保存。{path.name}：有 {check.errors} 条错误，不能报送。请改正后再提交（可点“校验”标出位置）："]
        lines += [finding_line(f).strip() for f in errors[:MAX_LINES]] + _more(len(errors), MAX_LINES, "点“校验”查看")
        port.report(title, "\n".join(lines), WARN)
        return
    target = check.ledger.info.get(labels.INFO_SUBMIT_DIR, "")
    if not clean_text(target):
        port.report(title, f"已保存。请在“{labels.INFO_SHEET}”表填写{labels.INFO_SUBMIT_DIR}（集团营销服务中心收取"
                           f"报送文件的文件夹；没有这一行时，在 A 列写“{labels.INFO_SUBMIT_DIR}”、B 列写文件夹），"
                           f"再点“{title}”。", WARN)
        return
    port.status(f"{title}：正在生成报送文件……")
    try:
        done = submit(check, _folder(port, target), config, now)
    except SubmitError as e:
        port.report(title, f"已保存，未报送：{e}", WARN)
        return
    port.report(title, "\n".join([
        f"已保存并报送 {done.window} {done.period}：{done.rows} 行（本期 {done.rows_period}，"
        f"往期未办结结转 {done.rows_carried}），提醒 {check.warnings} 条。",
        f"报送文件：{done.copy}", f"报送清单：{done.manifest}"]), INFO)


def default_period(now: datetime, config: Config) -> Period:
    """The latest statistical period that has ended: what the group consolidates when none is set."""
    start_day = config.policy["period_start_day"]
    return Period.containing(Period.containing(now, start_day).start - timedelta(seconds=1), start_day)


def _setting_period(value: Any, now: datetime, config: Config) -> Period:
    start_day = config.policy["period_start_day"]
    if isinstance(value, datetime):            # Excel turned a typed 2026-11 into a date
        return Period(value.year, value.month, start_day)
    text = clean_text(value)
    return Period.parse(text, start_day) if text else default_period(now, config)


class StatusProgress:
    """The CLI's progress steps in Excel's status bar: one call per file read and per step, never per row."""

    def __init__(self, port: SheetPort, title: str):
        self.port, self.title = port, title

    def step(self, text: str) -> None:
        self.port.status(f"{self.title}：{text}")

    def on_file(self, n: int, total: int, name: str) -> None:
        from xl_automation.model.labels import file_step
        self.step(file_step(n, total, name))


def run_consolidate(port: SheetPort, config: Config, now: datetime) -> None:
    """汇总 in the group workbook: `xl-automation consolidate` with the folder and period of its settings."""
    from xl_automation.excel import group_workbook as G
    from xl_automation.report.month_report import consolidate_folder
    title = TITLES["consolidate"]
    port.status(f"{title}：正在读取设置……")
    try:
        settings = G.read_settings(port.read_values(G.SHEET, G.SETTINGS_RANGE))
    except LedgerError:
        port.report(title, f"“{port.name}”不是集团汇总工作簿（没有“{G.SHEET}”表）：请打开集团汇总工作簿再点“汇总”。", WARN)
        return
    folder_text = settings.get(G.SUBMIT_DIR)
    if not clean_text(folder_text):
        port.report(title, f"请在“{G.SHEET}”表填写{G.SUBMIT_DIR}。", WARN)
        return
    folder = _folder(port, folder_text)
    period = _setting_period(settings.get(G.PERIOD), now, config)
    out_text = clean_text(settings.get(G.REPORT_FILE))
    out = _folder(port, out_text) if out_text else port.folder() / G.default_report_name(period)
    if out.suffix.lower() != ".xlsx":
        port.report(title, f"{G.REPORT_FILE}“{out.name}”应以 .xlsx 结尾。", WARN)
        return
    show = G.is_yes(settings.get(G.SHOW_PERSONAL)) or not config.policy["mask_personal_info"]
    port.status(f"{title}：正在读取 {folder} 中的报送文件……")
    data = consolidate_folder(folder, period, config, now, out, show_personal_info=show,   # with the archive
                              pdf=G.is_yes(settings.get(G.EXPORT_PDF)), progress=StatusProgress(port, title))
    lines = G.summary_lines(data, period, now)
    port.write_values(G.SHEET, G.RESULT_TOP_LEFT, G.result_rows(lines))
    port.report(title, "\n".join(lines), WARN if data["windows_missing"] or data["files_rejected"] else INFO)


FLOWS = {"validate": run_validate, "flag": run_flag, "register": run_register, "submit": run_submit,
         "consolidate": run_consolidate}
__all__ = ["FLOWS", "ERROR", "TITLES", "run_validate", "run_flag", "run_register", "run_submit", "run_consolidate",
           "read_form", "default_period"]
