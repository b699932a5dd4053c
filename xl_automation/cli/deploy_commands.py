"""The deployment commands' adapters (bundle, doctor, install-excel, called by 安装.cmd) and build-pictures
(the README pictures are made by the demo package from synthetic rows)."""
from __future__ import annotations

import argparse
from pathlib import Path

from xl_automation.commands import deploy as D
from xl_automation.model.exits import EXIT_OK, UsageError


def add_commands(command) -> None:
    """Register the commands with cli.build_parser's `command(name, func, help, example)`."""
    from xl_automation.deploy.doctor import SUPPORTED_PYTHONS
    sp = command("bundle", bundle, "生成离线安装包（文件夹和 zip）：本程序及全部依赖的 Windows 64 位 wheel、工作簿、安装.cmd",
                 "xl-automation bundle --out 离线安装包 --python 3.11 3.12 3.13")
    sp.add_argument("--out", required=True, help="安装包文件夹（同时生成同名 .zip）")
    sp.add_argument("--python", nargs="+", default=list(SUPPORTED_PYTHONS), choices=SUPPORTED_PYTHONS,
                    help=f"目标电脑的 Python 版本，默认 {' '.join(SUPPORTED_PYTHONS)}")
    sp.add_argument("--cache", help="下载缓存文件夹，默认 ~/.cache/xl-automation-bundle")
    sp.add_argument("--refresh", action="store_true", help="不用缓存，重新联网解析依赖")
    sp.set_defaults(reads_config=False)
    sp = command("doctor", doctor, "环境检查：逐项检查本机能否使用 Excel 按钮，每项一行 ✓/✗ 并写明处理办法",
                 "xl-automation doctor D:\\综合受理")
    sp.add_argument("paths", nargs="*", help="工作簿或工作簿文件夹，默认为 安装.cmd 设置的文件夹（XL_AUTOMATION_HOME）或当前文件夹")
    sp.add_argument("--json", action="store_true", help="以 JSON 输出")
    sp.set_defaults(reads_config=False)      # it checks the configuration as one of its lines
    sp = command("install-excel", install_excel, "（由 安装.cmd 调用）复制工作簿到指定文件夹、解除锁定，并让按钮使用本 Python",
                 "xl-automation install-excel --from 安装包\\workbook --to D:\\综合受理")
    sp.add_argument("--from", dest="source", required=True, help="安装包中的 workbook 文件夹")
    sp.add_argument("--to", dest="target", required=True, help="工作簿文件夹（建议设为 Excel 受信任位置）")
    sp.set_defaults(reads_config=False)
    sp = command("build-pictures", build_pictures, "用 LibreOffice 渲染说明图片（职员看到的台账、通报第一页）",
                 "xl-automation build-pictures docs")
    sp.add_argument("out", nargs="?", default="docs", help="输出文件夹，默认 docs")


def bundle(args: argparse.Namespace) -> int:
    from xl_automation.commands.progress import for_args
    return D.bundle(Path(args.out), args.python, cache=Path(args.cache) if args.cache else None,
                    refresh=args.refresh, progress=for_args(args))


def doctor(args: argparse.Namespace) -> int:
    return D.doctor(D.doctor_targets(args.paths), json=args.json, config=args.config)


def install_excel(args: argparse.Namespace) -> int:
    return D.install_excel(Path(args.source), Path(args.target))


def build_pictures(args: argparse.Namespace) -> int:
    from xl_automation.report.pdf import PdfUnavailable
    from xl_automation.demo.pictures import build_pictures as build
    try:
        for path in build(Path(args.out), args.config_obj):
            print(f"已生成 {path}")
    except PdfUnavailable as e:
        raise UsageError(str(e)) from None
    return EXIT_OK
