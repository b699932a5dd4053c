"""Ledger workbooks built from the schema: drop-downs, hints, live overdue colours, print setup."""
from __future__ import annotations

import sys
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import xlsxwriter

from xl_automation import TEMPLATE_VERSION

from xl_automation.model import labels

from xl_automation.model import schema

from xl_automation.rules import sla
from xl_automation.model.config import Config, Window, check, default_data
from xl_automation.xlsx.contact_form import LAST_COL as LAST_FORM_COL, add_form_sheet
from xl_automation.model.ledger import column_letter
from xl_automation.rules.periods import Period
from xl_automation.model.schema import BY_KEY, Column

HEADER_ROW = 3                      # 1-based, as Excel shows it
LEDGER_FIRST_DATA_ROW = 4
PREPARED_ROWS = 10000               # rows that carry drop-downs, hints and overdue colouring (a busy hall's month)
LEDGER_LAST_PREPARED_ROW = LEDGER_FIRST_DATA_ROW + PREPARED_ROWS - 1
FROZEN_COLUMNS = 2                  # 受理编号 and 受理时间 stay visible while scrolling right

TEMPLATE_FILE = "综合受理台账模板.xlsx"
CONFIG_FILE = "default_config.json"
TEMPLATE_CREATED = datetime(2026, 11, 1)   # fixed docProps date: the committed template rebuilds byte for byte

# 宋体 ships with every Chinese Windows and WPS, older Office included (等线 only since Office 2016).
FONT_NAME = "宋体"
FONT: dict[str, Any] = {"font_name": FONT_NAME, "font_size": 11, "font_charset": 134, "font_scheme": "none"}
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_MIN, DATE_MAX = datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59)
ENTERPRISE_LIST = "服务企业列表"     # defined names of the hidden lookup lists
WINDOW_CODE_LIST = "窗口编码列表"
PROGRAM_COLUMN_NOTE = "由程序填写，请勿手工修改"
BUTTON_WIDTH = 128                  # px: two buttons fit the frozen columns A:B
FILLS = {sla.OVERDUE_OPEN: ("#FFC7CE", "#9C0006"),   # red: still waiting after the limit
         sla.LATE: ("#F8CBAD", "#843C0C"),           # orange: replied, but late
         sla.NEAR: ("#FFEB9C", "#7F6000")}           # amber: waiting, limit approaching


def _col(key: str) -> int:
    """0-based column index of a schema key in the ledger."""
    return schema.COLUMNS.index(BY_KEY[key])


def _number(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else str(float(value))


def overdue_formulas(policy: dict[str, Any], row: int = LEDGER_FIRST_DATA_ROW) -> dict[str, str]:
    """sla status -> conditional-format formula for `row`; mutually exclusive, like sla.Clock.row.

    Elapsed clock only: a worksheet formula cannot follow the working-hours calendar, so that
    clock is applied by the program, which writes the 时限状态 column.
    """
    received = f"${column_letter(_col('received_at') + 1)}{row}"
    replied = f"${column_letter(_col('replied_at') + 1)}{row}"
    limit, warn = _number(policy["sla_minutes"]), _number(policy["warn_minutes"])
    # minutes rounded to 2 places as sla.Clock does, so exactly 120 minutes is on time
    # N() keeps a text time from turning the whole AND into #VALUE!
    waiting = f"ROUND((NOW()-N({received}))*1440,2)"
    taken = f"ROUND((N({replied})-N({received}))*1440,2)"
    return {
        sla.OVERDUE_OPEN: f'AND(ISNUMBER({received}),{replied}="",{waiting}>{limit})',
        sla.LATE: f"AND(ISNUMBER({received}),ISNUMBER({replied}),{taken}>{limit})",
        sla.NEAR: f'AND(ISNUMBER({received}),{replied}="",{waiting}>{warn},{waiting}<={limit})',
    }


def _duration(minutes: Any) -> str:
    m = float(minutes)
    return f"{_number(m / 60)} 小时" if m % 60 == 0 else f"{_number(m)} 分钟"


def usage_notes(policy: dict[str, Any]) -> tuple[str, ...]:
    """The short Chinese usage note printed on the info sheet."""
    limit, warn = _duration(policy["sla_minutes"]), _duration(policy["warn_minutes"])
    return (
        "使用说明",
        f"1. 首次使用请在上方填写{labels.INFO_WINDOW_CODE}、{labels.INFO_WINDOW_NAME}和{labels.INFO_COMPANY}；",
        "    A 列的项目名称请勿修改，B 列填写内容。",
        f"2. 每项办事需求在“{labels.LEDGER_SHEET}”表填写一行，从第 {LEDGER_FIRST_DATA_ROW} 行开始；",
        "    表头请勿修改、删除或调换顺序。",
        "3. 有下拉箭头的单元格请从列表选择；办事需求各列需要时选“√”。",
        "    时间请按 2026-11-03 09:05 的格式填写。",
        f"4. 红色：受理超过 {limit}仍未回复对接。",
        f"5. 橙色：回复对接晚于受理后 {limit}。",
        f"6. 黄色：受理已过 {warn}，尚未回复对接。",
        "7. 颜色按自然时间实时计算；如规定按工作时间计时，",
        f"    以程序校验后写入的“{BY_KEY['sla_status'].header}”列为准。",
        f"8. 灰色表头的列{PROGRAM_COLUMN_NOTE}。",
        f"9. “{labels.FORM_SHEET}”表可打印给办事群众填写。",
    )


def _validation(column: Column, *, enterprises: bool) -> dict[str, Any]:
    """Data validation options for a column: the drop-down or check, always with the input hint."""
    hint = {"input_title": column.header, "input_message": column.input_message or column.header}
    if column.program_written:
        return {"validate": "any", **hint}     # no drop-down: a list would invite hand edits
    if column.kind == "enum":
        # Excel moves inline lists of 255+ characters to an extension record older versions drop
        assert len(",".join(column.enum)) < 255, f"{column.header} 的下拉列表过长"
        return {"validate": "list", "source": list(column.enum), **hint, "error_title": "请从列表选择",
                "error_message": f"{column.header}只能填：{'、'.join(column.enum)}"}
    if column.kind == "tick":
        return {"validate": "list", "source": [labels.TICK], "error_type": "warning", **hint,
                "error_title": "请选择 √", "error_message": f"需要{column.header}服务时请选择“{labels.TICK}”，不需要时留空。"}
    if column.kind == "datetime":
        return {"validate": "date", "criteria": "between", "minimum": DATE_MIN, "maximum": DATE_MAX, **hint,
                "error_title": "时间格式不对",
                "error_message": f"{column.header}请填写日期和时间，如 2026-11-03 09:05（年份 2000–2099）。"}
    if column.key == "enterprise" and enterprises:
        return {"validate": "list", "source": f"={ENTERPRISE_LIST}", "error_type": "information", **hint,
                "error_title": "不在列表中", "error_message": "该企业不在列表中；确认无误可点“确定”保留。"}
    return {"validate": "any", **hint}


def _checked(ws: Any, first_row: int, col: int, last_row: int, options: dict[str, Any]) -> None:
    # XlsxWriter only warns and drops a validation it finds invalid: make that loud here
    if ws.data_validation(first_row, col, last_row, col, options) != 0:
        raise ValueError(f"{ws.name} 第 {col + 1} 列的数据验证无效：{options}")


def _info_values(window: Window | None, period: Period | None) -> dict[str, str]:
    return {
        labels.INFO_WINDOW_CODE: window.code if window else "",
        labels.INFO_WINDOW_NAME: window.name if window else "",
        labels.INFO_COMPANY: window.company_name if window else "",
        labels.INFO_PERIOD: period.label if period else "",
        labels.INFO_PERIOD_RANGE: period.describe() if period else "",
        labels.INFO_TEMPLATE_VERSION: TEMPLATE_VERSION,
    }


def _meta_line(info: dict[str, str]) -> tuple[str, str]:
    """Row 2 as a formula over the info sheet (so filling that sheet updates it) and its current value."""
    def ref(key: str) -> str:
        return f"'{labels.INFO_SHEET}'!$B${labels.INFO_KEYS.index(key) + 1}"
    code, name, per, rng, ver = (ref(k) for k in (labels.INFO_WINDOW_CODE, labels.INFO_WINDOW_NAME,
                                                  labels.INFO_PERIOD, labels.INFO_PERIOD_RANGE,
                                                  labels.INFO_TEMPLATE_VERSION))
    missing = f"（未填写，见“{labels.INFO_SHEET}”表）"
    formula = (f'="窗口："&IF({code}="","{missing}",{code}&" "&{name})'
               f'&"　　{labels.INFO_PERIOD}："&IF({per}="","{missing}",{per}&"（"&{rng}&"）")'
               f'&"　　{labels.INFO_TEMPLATE_VERSION}："&{ver}')
    i = info
    window = f"{i[labels.INFO_WINDOW_CODE]} {i[labels.INFO_WINDOW_NAME]}" if i[labels.INFO_WINDOW_CODE] else missing
    period = f"{i[labels.INFO_PERIOD]}（{i[labels.INFO_PERIOD_RANGE]}）" if i[labels.INFO_PERIOD] else missing
    value = (f"窗口：{window}　　{labels.INFO_PERIOD}：{period}"
             f"　　{labels.INFO_TEMPLATE_VERSION}：{i[labels.INFO_TEMPLATE_VERSION]}")
    return formula, value


def _ledger_sheet(wb: Any, ws: Any, *, info: dict[str, str], policy: dict[str, Any], enterprises: bool,
                  buttons: list[tuple[str, str]] = ()) -> None:
    last_col = len(schema.COLUMNS) - 1
    first0, last0, header0 = LEDGER_FIRST_DATA_ROW - 1, LEDGER_LAST_PREPARED_ROW - 1, HEADER_ROW - 1
    title = wb.add_format({**FONT, "bold": True, "font_size": 18, "align": "center", "valign": "vcenter"})
    # with buttons over A1:B2 the row-2 line is centred, so that they do not hide its start
    meta = wb.add_format({**FONT, "font_size": 10, "align": "center" if buttons else "left", "valign": "vcenter"})
    head = {**FONT, "bold": True, "border": 1, "text_wrap": True, "align": "center", "valign": "vcenter"}
    header = wb.add_format({**head, "bg_color": "#DDEBF7"})
    program_header = wb.add_format({**head, "bg_color": "#D9D9D9", "font_color": "#595959"})
    cell = wb.add_format({**FONT, "border": 1, "valign": "vcenter"})
    when = wb.add_format({**FONT, "border": 1, "valign": "vcenter", "num_format": DATETIME_FORMAT})
    program_cell = wb.add_format({**FONT, "border": 1, "valign": "vcenter", "bg_color": "#F2F2F2"})

    ws.set_row(0, 32)
    ws.merge_range(0, 0, 0, last_col, labels.LEDGER_TITLE, title)
    ws.set_row(1, 28 if buttons else 20)
    _buttons(ws, buttons)
    formula, value = _meta_line(info)
    ws.merge_range(1, 0, 1, last_col, None, meta)
    ws.write_formula(1, 0, formula, meta, value)
    ws.set_row(header0, 36)
    for c, column in enumerate(schema.COLUMNS):
        # column formats carry borders and number formats to rows typed later without printing empty rows
        fmt = program_cell if column.program_written else when if column.kind == "datetime" else cell
        ws.set_column(c, c, column.width, fmt)
        ws.write_string(header0, c, column.header, program_header if column.program_written else header)
        if column.program_written:
            ws.write_comment(header0, c, PROGRAM_COLUMN_NOTE, {"font_name": FONT_NAME, "font_size": 10, "x_scale": 1.4})
        _checked(ws, first0, c, last0, _validation(column, enterprises=enterprises))

    for status, formula in overdue_formulas(policy).items():
        bg, fg = FILLS[status]
        ws.conditional_format(first0, 0, last0, last_col, {
            "type": "formula", "criteria": "=" + formula, "stop_if_true": True,
            "format": wb.add_format({"bg_color": bg, "font_color": fg})})

    ws.freeze_panes(HEADER_ROW, FROZEN_COLUMNS)
    ws.autofilter(header0, 0, last0, last_col)
    ws.set_landscape()
    ws.set_paper(9)                       # A4
    # 27 columns on one A4 width print at ~35 %: two pages wide stay readable, with the id and time repeated
    ws.fit_to_pages(2, 0)
    ws.repeat_rows(0, header0)
    ws.repeat_columns(0, FROZEN_COLUMNS - 1)
    ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.7)
    ws.set_header("&L&A&R" + labels.LEDGER_TITLE)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.hide_gridlines(1)                  # gridlines on screen only; printed lines come from borders
    ws.activate()


def _buttons(ws: Any, buttons: list[tuple[str, str]]) -> None:
    """Form buttons two by two over A1:B2, inside the frozen corner so they stay in view."""
    for i, (macro, caption) in enumerate(buttons):
        row, col = divmod(i, 2)
        ws.insert_button(row, 0, {"macro": macro, "caption": caption, "width": BUTTON_WIDTH, "height": 30,
                                  "x_offset": 4 + col * (BUTTON_WIDTH + 4), "y_offset": 6 if row == 0 else 3})


def _info_sheet(wb: Any, ws: Any, *, info: dict[str, str], policy: dict[str, Any], has_codes: bool) -> None:
    key = wb.add_format({**FONT, "bold": True, "border": 1, "bg_color": "#DDEBF7"})
    value = wb.add_format({**FONT, "border": 1, "num_format": "@"})
    note_title = wb.add_format({**FONT, "bold": True})
    note = wb.add_format({**FONT, "font_size": 10})
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 44)
    for r, (k, v) in enumerate(info.items()):
        ws.write_string(r, 0, k, key)
        ws.write_string(r, 1, v, value)
    if has_codes:
        _checked(ws, 0, 1, 0, {"validate": "list", "source": f"={WINDOW_CODE_LIST}", "error_type": "information",
                                "input_title": labels.INFO_WINDOW_CODE, "input_message": "从列表选择本窗口的编码"})
    # the note sits in column D so that columns A/B hold nothing but the key/value pairs the reader takes
    ws.set_column(2, 2, 3)
    ws.set_column(3, 3, 80)
    for r, line in enumerate(usage_notes(policy)):
        ws.write_string(r, 3, line, note_title if r == 0 else note)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _lookup_sheet(wb: Any, ws: Any, lists: dict[str, tuple[str, list[str]]]) -> None:
    """One column per list, header in row 1, and a workbook name over its values."""
    for c, (name, (header, values)) in enumerate(lists.items()):
        ws.write_string(0, c, header)
        ws.write_column(1, c, values)
        letter = column_letter(c + 1)
        wb.define_name(name, f"='{labels.LOOKUP_SHEET}'!${letter}$2:${letter}${len(values) + 1}")
    ws.hide()


def build_ledger(path: str | Path, *, config: Config, window: Window | None = None,
                 period: Period | None = None, created: datetime | None = None,
                 buttons: dict[str, list[tuple[str, str]]] | None = None,
                 settings: dict[str, tuple[str, str]] | None = None) -> Path:
    """Write a ledger workbook; without a window it is the blank template a branch fills in.

    buttons: sheet name -> [(macro, caption)] form buttons (the macro-enabled ledger; the VBA project is
    added afterwards); settings: extra info-sheet rows, label -> (value, input hint).
    """
    buttons = buttons or {}
    settings = settings or {}
    path = Path(path)
    enterprises = config.enterprise_names()
    codes = [w.code for w in config.windows]
    info = _info_values(window, period) | {label: value for label, (value, _) in settings.items()}
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "default_format_properties": dict(FONT)})
    properties = {"title": labels.LEDGER_TITLE, "comments": f"{labels.INFO_TEMPLATE_VERSION} {TEMPLATE_VERSION}"}
    if created is not None:
        properties["created"] = created
    wb.set_properties(properties)
    ledger = wb.add_worksheet(labels.LEDGER_SHEET)

    def validation(column: Column) -> dict[str, Any]:
        return _validation(column, enterprises=bool(enterprises))

    form = add_form_sheet(wb, font=FONT, validation=validation)
    for i, (macro, caption) in enumerate(buttons.get(labels.FORM_SHEET, ())):
        # right of the printed area, so the button never prints on the form
        form.insert_button(1 + 2 * i, LAST_FORM_COL + 2, {"macro": macro, "caption": caption, "width": 120, "height": 36})
    info_ws = wb.add_worksheet(labels.INFO_SHEET)
    lookup = wb.add_worksheet(labels.LOOKUP_SHEET)
    _ledger_sheet(wb, ledger, info=info, policy=config.policy, enterprises=bool(enterprises),
                  buttons=buttons.get(labels.LEDGER_SHEET, []))
    _info_sheet(wb, info_ws, info=info, policy=config.policy, has_codes=bool(codes))
    for label, (_, hint) in settings.items():
        row = list(info).index(label)
        _checked(info_ws, row, 1, row, {"validate": "any", "input_title": label, "input_message": hint})
    lists = {}
    if enterprises:
        lists[ENTERPRISE_LIST] = (BY_KEY["enterprise"].header, enterprises)
    if codes:
        lists[WINDOW_CODE_LIST] = (labels.INFO_WINDOW_CODE, codes)
    _lookup_sheet(wb, lookup, lists)
    wb.close()
    return path


def build_templates(out_dir: str | Path, *, config: Config) -> list[Path]:
    """Write the committed files: the blank ledger template and a copy of the default configuration."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ledger = build_ledger(out / TEMPLATE_FILE, config=config, created=TEMPLATE_CREATED)
    config_copy = out / CONFIG_FILE
    config_copy.write_bytes(resources.files("xl_automation.model.data").joinpath(CONFIG_FILE).read_bytes())
    return [ledger, config_copy]


def default_config() -> Config:
    """The shipped defaults only: committed templates must not depend on a user's config file."""
    data = default_data()
    check(data, "默认配置")
    return Config(data)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "templates"
    for written in build_templates(target, config=default_config()):
        print(written)
