"""Findings as values, and the one catalogue of their codes, Chinese messages and fix hints."""
from __future__ import annotations

from datetime import datetime
from dataclasses import asdict, dataclass
from typing import Any

ERROR, WARNING = "error", "warning"

# code: (severity, message template, fix hint template)
CATALOGUE: dict[str, tuple[str, str, str]] = {
    # file and structure
    "file-not-found": (ERROR, "找不到文件", "检查路径和文件名"),
    "file-is-folder": (ERROR, "这是一个文件夹，不是台账文件", "请选择（或拖放）文件夹中的台账文件 .xlsx/.xlsm"),
    "file-empty": (ERROR, "文件是空的（0 字节）", "用台账模板重新填写，或从备份中恢复"),
    "file-not-xlsx": (ERROR, "不是 Excel 工作簿（.xlsx/.xlsm），无法读取", "在 Excel 或 WPS 中打开后“另存为”Excel 工作簿（.xlsx）"),
    "file-old-xls": (ERROR, "旧版 .xls 格式无法写回标注", "在 Excel 或 WPS 中“另存为”Excel 工作簿（.xlsx）后再运行"),
    "file-encrypted": (ERROR, "文件设置了打开密码，程序无法读取", "在 Excel 中“文件 › 信息 › 保护工作簿 › 用密码进行加密”清空密码后保存"),
    "file-corrupt": (ERROR, "文件已损坏，无法读取：{detail}", "用 Excel 打开并修复后另存，或从备份中恢复"),
    "file-unreadable": (ERROR, "无法读取文件：{detail}", "检查文件的读取权限；网盘文件请先下载到本地"),
    "file-too-large": (ERROR, "{detail}，远超任何台账，已拒绝读取", "确认文件来源；正常台账请删除数据区以外的多余内容（在 Excel 中按 Ctrl+End 可找到最后一个单元格），另存为 .xlsx 后再运行；台账确实这么大时，可在配置 limits 中放宽上限"),
    "file-parse-crashed": (ERROR, "读取文件时解析程序异常终止（{detail}），文件可能已损坏或由不常见的软件生成", "用 Excel 打开后另存为 .xlsx 再试；仍不行请把文件交给维护人员"),
    "file-timeout": (ERROR, "读取文件超过 {seconds} 秒仍未完成，已停止读取", "用 Excel 打开后另存为 .xlsx 再试；台账确实很大时，可在配置 limits.seconds_per_file 中放宽时限"),
    "memory-limit-unavailable": (WARNING, "本机无法为读取文件的进程设置内存上限（{detail}），只限制读取时间", "在 Windows 或 Linux 上运行可获得内存上限保护"),
    "file-locked": (ERROR, "文件正在被 Excel/WPS 打开（发现锁文件 {lock}）", "先在 Excel/WPS 中保存并关闭此文件，再运行"),
    "write-refused": (ERROR, "文件含有程序写回时会丢失的内容（{detail}），未写入", "在 Excel 中用台账里的按钮操作，或手工填写"),
    "file-strict": (ERROR, "文件是“Strict Open XML 电子表格”格式，程序无法写回标注", "在 Excel 中“另存为”，保存类型选“Excel 工作簿(*.xlsx)”后再运行"),
    "annotate-protected": (WARNING, "“{sheet}”工作表设有保护：保护保持不变，标注照常写入", "如需修改标出的单元格，先在 Excel/WPS 中“审阅 › 撤销工作表保护”"),
    "annotate-failed": (ERROR, "无法把标注写回工作簿：{detail}", "校验结果不受影响：不写回标注再运行即可查看结果，并把此文件交给维护人员排查"),
    "sheet-missing": (ERROR, "找不到“{sheet}”工作表，也没有哪个工作表含有台账表头", "使用台账模板，或把台账工作表改名为“{sheet}”并保留表头行"),
    "sheet-fallback": (WARNING, "没有“{expected}”工作表，已按表头识别使用“{sheet}”", "把工作表改名为“{expected}”"),
    "column-missing": (ERROR, "缺少必需的列：{columns}", "在表头行补上这些列（可从台账模板复制表头）"),
    "column-optional-missing": (WARNING, "缺少列：{columns}，这些信息将视为空", "从台账模板复制完整表头"),
    "column-alias": (WARNING, "列名“{alias}”按“{header}”识别", "把表头改为标准列名“{header}”"),
    "column-duplicate": (ERROR, "“{header}”列出现了不止一次（{cells}），只使用第一列", "删除或改名重复的列"),
    "header-missing": (ERROR, "“{sheet}”工作表前 {rows} 行中找不到表头行（至少要有 {minimum} 个标准列名）", "从台账模板复制表头行，放在数据的上方"),
    "header-merged": (WARNING, "表头行有合并单元格（{ranges}）", "取消表头合并，每列一个列名"),
    "calendar-uncovered": (WARNING, "{year} 年的法定节假日和调休数据缺失，工作时间按周一至周五计算", "在配置的节假日调整表中补录 {year} 年的休/班日期"),
    "cell-error": (ERROR, "单元格显示的是公式错误值 {value}，程序读不到内容，当作空白", "改正该单元格的公式，或删除公式直接填写内容"),
    "row-hidden": (WARNING, "第 {rows} 行被隐藏，仍作为台账数据校验", "取消隐藏并核对；不需要的行请删除"),
    # values
    "required-missing": (ERROR, "“{header}”未填写", "填写{header}"),
    "id-missing": (ERROR, "受理编号未填写", "可使用建议编号 {proposal}"),
    "id-duplicate": (ERROR, "受理编号“{value}”与第 {other_row} 行重复", "为其中一条改用新编号，如 {proposal}"),
    "enum-invalid": (ERROR, "“{value}”不是“{header}”的可选值", "从下拉列表选择：{choices}"),
    "tick-invalid": (ERROR, "“{value}”无法识别为勾选", "需要此项服务填 √，不需要留空"),
    "service-none": (ERROR, "六项办事需求（用水、用电、用气、用暖、通信、有线电视）一项也没有勾选", "在需要的服务下填 √"),
    "datetime-invalid": (ERROR, "“{value}”不是有效的日期时间{reason}", "按 2026-11-03 09:05 的格式填写"),
    "datetime-no-time": (WARNING, "“{header}”只有日期，没有具体时刻：按该日期计入统计周期，但不计算 2 小时时限，不计入按时率", "补上时刻，如 2026-11-03 09:05，2 小时时限按时刻计算"),
    "row-before-period": (WARNING, "受理编号“{request_id}”的受理时间 {value} 不在本台账统计周期 {period}（{range}）内：{reason}，不随本期报送", "该需求已在所属周期报送，无需处理；如受理时间填错，请更正"),
    "row-after-period": (WARNING, "受理编号“{request_id}”的受理时间 {value} 不在本台账统计周期 {period}（{range}）内：{reason}，不随本期报送", "登记到 {next} 的台账；如受理时间填错，请更正"),
    "period-invalid": (WARNING, "台账信息中的统计周期“{value}”无法识别，未检查各行是否属于本期", "在“{sheet}”工作表填写统计周期，如 2026-11"),
    "time-before-received": (ERROR, "“{header}”{value} 早于受理时间 {received}", "核对受理时间和{header}"),
    "time-in-future": (ERROR, "“{header}”{value} 晚于当前时间 {now}", "核对日期，不能填写未来的时间"),
    "phone-invalid": (ERROR, "联系方式“{value}”不是有效的电话号码", "填写 11 位手机号，或带区号的固定电话如 0533-2165111，分机写“转123”"),
    "phone-short": (WARNING, "联系方式“{value}”是服务短号，不是办事群众本人的电话", "填写办事群众的手机号或固定电话"),
    "closed-without-time": (ERROR, "办理结果为“已办结”但未填写办结时间", "填写办结时间"),
    "unable-without-reason": (ERROR, "办理结果为“无法办理”但未写明原因", "在“未办结原因”中写明无法办理的原因（“无”“/”“—”等不算原因）"),
    "transfer-without-target": (ERROR, "办理结果为“已转办”但未填写转办去向", "填写转交的窗口或服务企业（“无”“/”“—”等不算去向）"),
    "closed-time-without-closed": (WARNING, "填写了办结时间，但办理结果不是“已办结”", "核对办理结果"),
    "refusal-not-allowed": (WARNING, "未办结原因“{value}”属于以业务范围推脱，违反无差别受理要求", "市域内水电气暖信有线电视报装须无差别受理：记录需求并发送联络群，由对应企业办理"),
    "visit-required": (WARNING, "企事业单位报装需求（{reason}）未安排上门服务", "按要求为企事业单位提供上门服务，并在“上门服务”填“是”"),
    "district-mismatch": (WARNING, "地址中的“{town}”属于{town_district}，与所属区县“{district}”不一致", "核对所属区县或详细地址"),
    "district-named-mismatch": (WARNING, "地址中写的是“{named}”，与所属区县“{district}”不一致", "核对所属区县或详细地址"),
    "address-no-district": (WARNING, "详细地址中没有区县或镇街名称", "按“**区**镇（街道）**路交叉口，或门牌号”填写"),
    "likely-duplicate": (WARNING, "与第 {other_row} 行疑似重复（同一电话、同一服务、同一天）", "确认是否重复登记；重复的删除其中一行"),
}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    sheet: str | None
    row: int | None
    column: str | None
    cell: str | None
    value: Any
    message: str
    hint: str

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["value"] = _jsonable(self.value)
        return d


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if hasattr(value, "isoformat"):   # a date, or a time of day without a date (a clerk typed only 10:00)
        return value.isoformat()
    return str(value)


def make(code: str, *, sheet: str | None = None, row: int | None = None, column: str | None = None,
         cell: str | None = None, value: Any = None, **params: Any) -> Finding:
    """Build a finding from the catalogue; params fill the message and hint templates."""
    severity, message, hint = CATALOGUE[code]
    fields = {"value": _jsonable(value) if value is not None else "", "header": column or "",
              "sheet": sheet or "", "row": row or "", "cell": cell or "", **params}
    return Finding(code, severity, sheet, row, column, cell, value,
                   message.format(**fields), hint.format(**fields))


def finding_line(f: Finding) -> str:
    """A finding as one indented line of the command line's and the buttons' text."""
    from xl_automation.model.labels import SEVERITY_ZH
    where = f"{f.sheet}!{f.cell}" if f.cell else (f"{f.sheet} 第 {f.row} 行" if f.row else (f.sheet or "文件"))
    column = f" {f.column}" if f.column else ""
    return f"  [{SEVERITY_ZH[f.severity]}] {where}{column}：{f.message}。处理：{f.hint}"


def count(findings, severity: str) -> int:
    return sum(1 for f in findings if f.severity == severity)
