"""The group marketing centre's workbook: settings for the 汇总 button, and the last run's summary."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

import xlsxwriter

from xl_automation.model.labels import NEWEST_UNUSABLE
from xl_automation.rules.normalize import clean_text
from xl_automation.rules.periods import Period

SHEET = "集团汇总"
TITLE = "综合受理月度汇总"
SUBMIT_DIR, PERIOD, REPORT_FILE, SHOW_PERSONAL, EXPORT_PDF = "报送目录", "统计周期", "报表文件", "显示个人信息", "导出PDF"
YES, NO = "是", "否"
SETTINGS: tuple[tuple[str, str, str], ...] = (
    (SUBMIT_DIR, "报送", "各窗口报送文件所在的文件夹；相对路径从本工作簿所在的文件夹算起"),
    (PERIOD, "", "如 2026-11；留空则汇总最近一个已结束的统计周期"),
    (REPORT_FILE, "", "留空则在本工作簿旁生成“综合受理月报-统计周期.xlsx”"),
    (SHOW_PERSONAL, NO, "选“是”则报表显示完整姓名和电话（默认脱敏）"),
    (EXPORT_PDF, NO, "选“是”则同时导出 PDF（需要安装 LibreOffice）"),
)
FIRST_SETTING_ROW = 3                                   # 1-based, as Excel shows it
SETTINGS_RANGE = f"A{FIRST_SETTING_ROW}:B{FIRST_SETTING_ROW + len(SETTINGS) - 1}"
RESULT_TITLE_ROW = FIRST_SETTING_ROW + len(SETTINGS) + 1
RESULT_TOP_LEFT = f"A{RESULT_TITLE_ROW + 1}"
RESULT_ROWS = 16                                        # written whole each run, so old lines never linger
BUTTON_CELL = f"E{FIRST_SETTING_ROW}"
FONT: dict[str, Any] = {"font_name": "宋体", "font_size": 11, "font_charset": 134, "font_scheme": "none"}


def read_settings(block: list[list[Any]]) -> dict[str, Any]:
    """Setting label -> the value as Excel gives it (a typed 2026-11 may arrive as a date)."""
    out: dict[str, Any] = {}
    for line in block:
        label = clean_text(line[0]).rstrip("：:") if line else ""
        if label:
            out.setdefault(label, line[1] if len(line) > 1 else None)
    return out


def is_yes(value: Any) -> bool:
    return clean_text(value) in (YES, "1", "true", "True", "TRUE")


def default_report_name(period: Period) -> str:
    return f"综合受理月报-{period.label}.xlsx"


def summary_lines(data: dict[str, Any], period: Period, now: datetime) -> list[str]:
    """The consolidation in the words the CLI prints, for the message box and the sheet."""
    return [f"{period.label}（{period.describe()}）汇总完成（{now:%Y-%m-%d %H:%M}）：{data['report']}",
            *summary_body(data)]


def summary_body(data: dict[str, Any]) -> list[str]:
    """What a consolidation found, line by line (the CLI's text output and the 汇总 button say the same)."""
    rate = "—" if data["on_time_rate"] is None else f"{data['on_time_rate']:.1%}"
    lines = [f"窗口：应报 {len(data['windows_expected'])}，已报 {len(data['windows_submitted'])}，"
             f"未报 {len(data['windows_missing'])}，逾期 {len(data['windows_late'])}，"
             f"重新报送 {len(data['windows_resubmitted'])}"]
    if data["windows_missing"]:
        lines.append(f"未报窗口：{'、'.join(data['windows_missing'])}")
    if data.get("resubmission_missing") or data.get("resubmission_unchecked"):
        lines.append(f"重新报送后不再出现的需求 {len(data['resubmission_missing'])} 件（未计入，逐行见报表“报送情况”表）"
                     + (f"；无法核对的被替换报送 {len(data['resubmission_unchecked'])} 个"
                        if data["resubmission_unchecked"] else ""))
    lines += [f"{NEWEST_UNUSABLE}：{x['window']} {x['file']}（{x['reason']}），本期采用 {x['in_force']}"
              for x in data.get("newest_unusable", ())]
    lines += [f"行数：读入 {data['rows_in']} = 明细 {data['rows_in_details']} + 转办合并 {data['rows_merged']}"
              f" + 不计入本期 {data['rows_excluded']}",
              f"本期受理 {data['received']} 件，往期结转 {data['carried_over']} 件；"
              f"本期受理中超时 {data['overdue']} 件，按时率 {rate}"]
    lines += [f"未能读取：{r['file']}：{r['reason']}" for r in data["files_rejected"]]
    if data["excluded"]:
        lines.append(f"未计入本期 {len(data['excluded'])} 行（逐行见报表“未计入本期”表）")
    if data["likely_duplicates"]:
        lines.append(f"疑似重复或受理编号冲突 {len(data['likely_duplicates'])} 对（见报表“疑似重复”表）")
    lines += [f"提醒：{w}" for w in data["warnings"]]
    if "archive" in data:          # issue 9: what the archive changed, and how it was used
        lines.append(f"跨月：补报 {len(data['late_reported'])} 件，未续报 {len(data['dropped_open'])} 件；"
                     f"{data['archive']['note']}")
        lines += data["archive"]["notes"]
    if "bulletin" in data:
        lines.append(f"通报：{data['bulletin']}")
    lines += data.get("bulletin_notes", [])
    if "pdf" in data:
        lines.append(f"通报 PDF：{data['pdf']}")
    if "pdf_error" in data:
        lines.append(data["pdf_error"])
    return lines


def result_rows(lines: Iterable[str]) -> list[list[Any]]:
    """The result area's rows: one line each, padded with blanks to RESULT_ROWS."""
    lines = list(lines)
    if len(lines) > RESULT_ROWS:
        lines = lines[:RESULT_ROWS - 1] + [f"……另有 {len(lines) - RESULT_ROWS + 1} 行，见报表“报送情况”表"]
    return [[line] for line in lines] + [[None]] * (RESULT_ROWS - len(lines))


def build_group_workbook(path: str | Path, *, buttons: Iterable[tuple[str, str]] = (),
                         created: datetime | None = None) -> Path:
    """The settings sheet with its 汇总 button (macro names only: the VBA project is added by the build)."""
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "default_format_properties": dict(FONT)})
    properties = {"title": TITLE}
    if created is not None:
        properties["created"] = created
    wb.set_properties(properties)
    ws = wb.add_worksheet(SHEET)
    title = wb.add_format({**FONT, "bold": True, "font_size": 16, "valign": "vcenter"})
    head = wb.add_format({**FONT, "bold": True, "border": 1, "bg_color": "#DDEBF7", "align": "center"})
    key = wb.add_format({**FONT, "bold": True, "border": 1, "bg_color": "#DDEBF7"})
    value = wb.add_format({**FONT, "border": 1, "num_format": "@"})
    hint = wb.add_format({**FONT, "font_size": 9, "font_color": "#595959", "text_wrap": True, "valign": "vcenter"})
    result_title = wb.add_format({**FONT, "bold": True})
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 46)
    ws.set_column(3, 3, 2)
    ws.set_column(4, 4, 16)
    ws.set_row(0, 30)
    ws.write_string(0, 0, TITLE, title)
    for c, text in enumerate(("设置", "内容", "说明")):
        ws.write_string(FIRST_SETTING_ROW - 2, c, text, head)
    for i, (label, default, note) in enumerate(SETTINGS):
        row = FIRST_SETTING_ROW - 1 + i
        ws.set_row(row, 30)
        ws.write_string(row, 0, label, key)
        ws.write_string(row, 1, default, value)
        ws.write_string(row, 2, note, hint)
        if default in (YES, NO):
            ws.data_validation(row, 1, row, 1, {"validate": "list", "source": [YES, NO],
                                                "input_title": label, "input_message": note})
        else:
            ws.data_validation(row, 1, row, 1, {"validate": "any", "input_title": label, "input_message": note})
    ws.write_string(RESULT_TITLE_ROW - 1, 0, "上次汇总结果", result_title)
    for i, (macro, caption) in enumerate(buttons):
        ws.insert_button(FIRST_SETTING_ROW - 1 + 2 * i, 4, {"macro": macro, "caption": caption,
                                                            "width": 110, "height": 34, "x_offset": 4})
    ws.hide_gridlines(2)
    ws.activate()
    wb.close()
    return path
