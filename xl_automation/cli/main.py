"""Command line: the parser, and each command's arguments handed to xl_automation.commands through the
one-line error edge (commands.edge.guarded). The same actions as the Excel buttons, on saved files."""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from xl_automation import __version__
from xl_automation.commands.edge import guarded, plain_console
from xl_automation.model import config as cfg
from xl_automation.model.exits import EXIT_ERRORS, EXIT_OK, EXIT_UNUSABLE  # noqa: F401  (offered here too)


def build_parser() -> argparse.ArgumentParser:
    from xl_automation.cli import commands as c
    p = argparse.ArgumentParser(
        prog="xl-automation", description="综合受理窗口台账：校验、标记超时、报送与汇总。",
        epilog="示例：xl-automation validate 台账.xlsx --annotate")
    p.add_argument("--config", help="配置文件（JSON），默认使用内置配置或环境变量 XL_AUTOMATION_CONFIG")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--quiet", "-q", action="store_true", help="不在终端显示进度")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func: Callable, help_text: str, example: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_text, description=help_text, epilog=f"示例：{example}")
        sp.set_defaults(func=func)
        sp.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                        help="不在终端显示进度（输出到文件或管道时本来就不显示）")
        return sp

    sp = command("new-ledger", c.new_ledger, "为窗口生成某统计周期的空白台账",
                 "xl-automation new-ledger --window ZLS02 --period 2026-11 --out 张店分公司-2026-11.xlsx")
    sp.add_argument("--window", help="窗口编码（见 config 命令）；有 --from 时默认沿用上期台账的")
    sp.add_argument("--period", help="统计周期 YYYY-MM；有 --from 时默认为上期的下一个周期")
    sp.add_argument("--out", required=True, help="输出文件 .xlsx")
    sp.add_argument("--from", dest="from_ledger", help="上期台账：带入其中未办结的需求、报送后（最晚最后一天 0 点起）受理或办结的行；从未报送的台账带入全部行")
    sp.add_argument("--since", help="与 --from 一起：从这个时刻起登记的行都带入（如上期的报送时间）；默认上期最后一天 0 点"
                                    "与找到的最近一次报送时间中较早的一个；找不到这个台账的报送记录时带入全部行")
    sp.add_argument("--submitted-in", action="append", metavar="DIR",
                    help="与 --from 一起：到这个文件夹（及其下两层）查找上期台账的报送清单，可写多次；"
                         "另外总会查找台账信息表的报送目录和台账所在的文件夹")
    for name, func, text in (("validate", c.validate, "校验台账：列出每个错误和提醒"),
                             ("flag", c.flag, "标记超时：计算每条需求的响应用时和时限状态")):
        sp = command(name, func, text, f"xl-automation {name} 台账.xlsx --annotate --now '2026-11-20 12:00'")
        sp.add_argument("file", help="台账文件 .xlsx/.xlsm")
        sp.add_argument("--json", action="store_true", help="以 JSON 输出结果")
        sp.add_argument("--annotate", action="store_true", help="把标注、批注和程序列写回工作簿")
        sp.add_argument("--now", help="当前时间，默认取系统时间，如 '2026-11-20 12:00'")
    from xl_automation.cli import month_end as m
    sp = command("submit", m.submit, "报送：校验通过后生成本期报送文件和清单",
                 "xl-automation submit 张店分公司-2026-11.xlsx --to 报送/2026-11")
    sp.add_argument("file", help="台账文件")
    sp.add_argument("--to", required=True, help="报送目录（集团营销服务中心收取的文件夹）")
    sp.add_argument("--period", help="统计周期 YYYY-MM，默认取台账信息表中的统计周期")
    sp.add_argument("--json", action="store_true", help="以 JSON 输出报送结果（含逐行列出的未报送行）")
    sp.add_argument("--now", help="当前时间，默认取系统时间")
    sp = command("consolidate", m.consolidate, "汇总：读取报送目录中的全部报送文件，生成集团月度报表",
                 "xl-automation consolidate 报送/2026-11 --period 2026-11 --out 月报-2026-11.xlsx --pdf")
    sp.add_argument("dir", help="报送目录")
    sp.add_argument("--period", required=True, help="统计周期 YYYY-MM")
    sp.add_argument("--out", required=True, help="报表文件 .xlsx")
    sp.add_argument("--json", action="store_true", help="以 JSON 输出汇总结果")
    sp.add_argument("--now", help="当前时间，默认取系统时间")
    sp.add_argument("--show-personal-info", action="store_true", help="报表中显示完整姓名和电话（默认脱敏）")
    sp.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 把通报导出为 PDF（工作簿本身不转 PDF）")
    archive_options(sp)
    sp = command("notice", m.notice, "生成可直接粘贴到联络群的提醒文字",
                 "xl-automation notice 报送/2026-11 --period 2026-11")
    sp.add_argument("dir", help="报送目录")
    sp.add_argument("--period", required=True, help="统计周期 YYYY-MM")
    sp.add_argument("--now", help="当前时间，默认取系统时间")
    archive_options(sp)
    sp = command("history", m.history, "历史：归档中各窗口各期的数据（受理、按时率、办结率、考核），导出与重复来件",
                 "xl-automation history 报送 --export 历史.xlsx")
    sp.add_argument("place", nargs="?", help="存放各期报送目录的文件夹（其中有 综合受理归档.sqlite），或归档文件本身")
    sp.add_argument("--archive", help="归档数据库文件")
    sp.add_argument("--periods", type=int, default=12, help="最近多少个统计周期，默认 12；0 为全部")
    sp.add_argument("--period", help="截至哪个统计周期 YYYY-MM，默认最新")
    sp.add_argument("--window", action="append", help="只看这个窗口（可重复）")
    sp.add_argument("--export", help="导出到 .xlsx 或 .csv（CSV 另写一个 -重复来件.csv）")
    sp.add_argument("--json", action="store_true", help="以 JSON 输出")
    sp.add_argument("--show-personal-info", action="store_true", help="显示完整联系电话（默认脱敏）")
    sp = command("config", c.show_config, "显示正在使用的配置", "xl-automation config --json")
    sp.add_argument("--json", action="store_true", help="以 JSON 输出完整配置")
    sp = command("build-templates", c.build_templates, "重新生成 templates/ 下的模板文件",
                 "xl-automation build-templates templates")
    sp.add_argument("out", nargs="?", default="templates", help="输出目录，默认 templates")
    sp = command("build", c.build, "重新生成 templates/ 和 workbook/（带按钮的台账、集团汇总工作簿、功能区加载项）",
                 "xl-automation build .")
    sp.add_argument("root", nargs="?", default=".", help="项目根目录，其下写 templates/ 和 workbook/，默认当前目录")
    sp.add_argument("--macros", help="VBA 源文件目录，默认 <根目录>/macros")
    sp.set_defaults(reads_config=False)
    sp = command("demo", c.demo, "用合成样例数据完整运行一遍（演示）", "xl-automation demo --out demo-output")
    sp.add_argument("--out", default="demo-output", help="输出目录，默认 demo-output")
    from xl_automation.cli.deploy_commands import add_commands
    add_commands(command)
    return p


def archive_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--archive", help="归档数据库文件，默认为报送目录上一级的 综合受理归档.sqlite（或配置 archive.path）")
    sp.add_argument("--no-archive", action="store_true", help="不使用归档：只按本期报送数据汇总，不做跨月核对")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_UNUSABLE

    def run() -> int:
        # a command that reads no setting (install-excel, bundle, build) runs whatever the user's file says:
        # 安装.cmd must not stop half way over an earlier version's configuration
        args.config_obj = cfg.load(args.config) if getattr(args, "reads_config", True) else None
        return args.func(args)
    with plain_console():       # nothing read from a file reaches the terminal as a control sequence
        return guarded(run, json_output=getattr(args, "json", False))


if __name__ == "__main__":
    sys.exit(main())
