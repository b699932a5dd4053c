"""User-facing names that are not column headers or finding messages: sheets, titles, info keys."""

LEDGER_SHEET = "受理台账"
FORM_SHEET = "联系单"
INFO_SHEET = "台账信息"
LOOKUP_SHEET = "下拉列表"
ANNOTATION_SHEET = "_校验标注"   # very hidden: what the last annotation changed, to undo it

LEDGER_TITLE = "水电气暖信有线电视综合受理台账"
FORM_TITLE = "水电气暖信有线电视报装服务联系单"

# info sheet: key cells the reader uses (column A label, column B value)
INFO_WINDOW_CODE = "窗口编码"
INFO_WINDOW_NAME = "窗口名称"
INFO_COMPANY = "所属公司"
INFO_PERIOD = "统计周期"
INFO_PERIOD_RANGE = "周期起止"
INFO_TEMPLATE_VERSION = "模板版本"
INFO_SUBMIT_DIR = "报送目录"      # the macro-enabled ledger only: where the 提交 button writes
INFO_KEYS = (INFO_WINDOW_CODE, INFO_WINDOW_NAME, INFO_COMPANY, INFO_PERIOD,
             INFO_PERIOD_RANGE, INFO_TEMPLATE_VERSION)

SEVERITY_ZH = {"error": "错误", "warning": "提醒"}
# a window whose latest submission could not be used: the month counts it by an earlier one (report, console,
# notice say so, with the file, why, and the submission in force)
NEWEST_UNUSABLE = "较晚的报送无法使用、本期按较早的报送汇总（请该窗口重新报送）"
TICK = "√"


def file_step(n: int, total: int, name: str) -> str:
    """The one wording of "reading file n of N", shared by the terminal and Excel's status bar."""
    return f"正在读取报送文件 {n}/{total}：{name}"
