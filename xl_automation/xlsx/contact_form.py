"""The contact form 联系单 (the notice's attachment) as an A4 sheet whose value cells never move."""
from __future__ import annotations

from typing import Any, Callable

from xl_automation.model import labels

from xl_automation.model import schema
from xl_automation.model.schema import BY_KEY, Column

# Texts printed on the form as the notice's attachment words them (they differ from ledger headers).
SERVICE_LABEL = "办事需求"
FIELD_LABELS: dict[str, str] = {
    "received_at": "提交时间",
    "applicant": "单位名称(或用户姓名)",
    "phone": "联系方式",
    "install_type": "报装类型",
    "address": "详细地址\n(**区**镇**路交叉口，或门牌号)",
    "enterprise": "所属水电气暖信有线电视服务企业",
    "remarks": "其他需要说明的情况",
}
FORM_NOTE = "填表说明：办事需求可多选，在所需项目右侧格内选择“√”；提交时间请写到时、分。"
DATE_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'

TITLE_ROW = 1          # 1-based, as Excel shows them
SERVICE_ROW = 3
FIRST_FIELD_ROW = 4
_ROW_HEIGHTS = {"address": 56, "enterprise": 48, "remarks": 150}   # room to write by hand
_LABEL_WIDTH, _SERVICE_WIDTH, _TICK_WIDTH = 24, 8.5, 5
LAST_COL = 2 * len(schema.SERVICE_COLUMNS)          # 0-based: label column + (name, tick) per service


def _letter(col0: int) -> str:
    return chr(65 + col0)


def _form_cells() -> dict[str, str]:
    cells = {c.key: f"{_letter(2 + 2 * i)}{SERVICE_ROW}" for i, c in enumerate(schema.SERVICE_COLUMNS)}
    for i, key in enumerate(FIELD_LABELS):
        cells[key] = f"B{FIRST_FIELD_ROW + i}"
    return cells


FORM_CELLS: dict[str, str] = _form_cells()
"""Schema key -> the value cell on the form (merged ranges start there); fixed so a filled form can be read."""
FORM_NAMES: dict[str, str] = {key: f"{labels.FORM_SHEET}_{BY_KEY[key].header}" for key in FORM_CELLS}
"""Schema key -> workbook-level defined name of that value cell, e.g. 联系单_用水."""
NOTE_ROW = FIRST_FIELD_ROW + len(FIELD_LABELS) + 1
PRINT_AREA = f"A{TITLE_ROW}:{_letter(LAST_COL)}{NOTE_ROW}"


def add_form_sheet(workbook: Any, *, font: dict[str, Any],
                   validation: Callable[[Column], dict[str, Any]]) -> Any:
    """Add the 联系单 sheet; `validation(column)` gives the same drop-down/hint the ledger column has."""
    ws = workbook.add_worksheet(labels.FORM_SHEET)
    border = {**font, "border": 1, "valign": "vcenter", "text_wrap": True}
    title = workbook.add_format({**font, "bold": True, "font_size": 18, "align": "center", "valign": "vcenter"})
    label = workbook.add_format({**border, "bold": True, "align": "center"})
    centre = workbook.add_format({**border, "align": "center"})
    tick = workbook.add_format({**border, "align": "center", "font_size": 14})
    value = workbook.add_format({**border, "align": "left"})
    when = workbook.add_format({**border, "align": "left", "num_format": DATE_FORMAT})
    note = workbook.add_format({**font, "font_size": 9, "text_wrap": True, "valign": "top"})

    ws.set_column(0, 0, _LABEL_WIDTH)
    for i in range(len(schema.SERVICE_COLUMNS)):
        ws.set_column(1 + 2 * i, 1 + 2 * i, _SERVICE_WIDTH)
        ws.set_column(2 + 2 * i, 2 + 2 * i, _TICK_WIDTH)
    ws.set_row(TITLE_ROW - 1, 40)
    ws.merge_range(TITLE_ROW - 1, 0, TITLE_ROW - 1, LAST_COL, labels.FORM_TITLE, title)

    ws.set_row(SERVICE_ROW - 1, 40)
    ws.write_string(SERVICE_ROW - 1, 0, SERVICE_LABEL, label)
    for i, col in enumerate(schema.SERVICE_COLUMNS):
        ws.write_string(SERVICE_ROW - 1, 1 + 2 * i, col.header, centre)
        ws.write_blank(SERVICE_ROW - 1, 2 + 2 * i, None, tick)

    for i, (key, text) in enumerate(FIELD_LABELS.items()):
        row0 = FIRST_FIELD_ROW - 1 + i
        ws.set_row(row0, _ROW_HEIGHTS.get(key, 40))
        ws.write_string(row0, 0, text, label)
        fmt = when if BY_KEY[key].kind == "datetime" else value
        ws.merge_range(row0, 1, row0, LAST_COL, None, fmt)

    ws.set_row(NOTE_ROW - 1, 30)
    ws.merge_range(NOTE_ROW - 1, 0, NOTE_ROW - 1, LAST_COL, FORM_NOTE, note)

    for key, cell in FORM_CELLS.items():
        options = validation(BY_KEY[key])
        if ws.data_validation(cell, options) != 0:
            raise ValueError(f"{labels.FORM_SHEET}!{cell} 的数据验证无效：{options}")
        workbook.define_name(FORM_NAMES[key], f"='{labels.FORM_SHEET}'!${cell[0]}${cell[1:]}")

    ws.hide_gridlines(2)
    ws.set_portrait()
    ws.set_paper(9)                       # A4
    ws.center_horizontally()
    ws.set_margins(left=0.6, right=0.6, top=0.8, bottom=0.8)
    ws.fit_to_pages(1, 1)
    ws.print_area(PRINT_AREA)
    return ws
