"""CLI commands for deployment: bundle, doctor, install-excel (called by 安装.cmd), build-pictures."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xl_automation.cli.exits import EXIT_ERRORS, EXIT_OK, UsageError, print_json


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
    sp = command("doctor", doctor, "环境检查：逐项检查本机能否使用 Excel 按钮，每项一行 ✓/✗ 并写明处理办法",
                 "xl-automation doctor D:\\综合受理")
    sp.add_argument("paths", nargs="*", help="工作簿或工作簿文件夹，默认为 安装.cmd 设置的文件夹（XL_AUTOMATION_HOME）或当前文件夹")
    sp.add_argument("--json", action="store_true", help="以 JSON 输出")
    sp = command("install-excel", install_excel, "（由 安装.cmd 调用）复制工作簿到指定文件夹、解除锁定，并让按钮使用本 Python",
                 "xl-automation install-excel --from 安装包\\workbook --to D:\\综合受理")
    sp.add_argument("--from", dest="source", required=True, help="安装包中的 workbook 文件夹")
    sp.add_argument("--to", dest="target", required=True, help="工作簿文件夹（建议设为 Excel 受信任位置）")
    sp = command("build-pictures", build_pictures, "用 LibreOffice 渲染说明图片（职员看到的台账、通报第一页）",
                 "xl-automation build-pictures docs")
    sp.add_argument("out", nargs="?", default="docs", help="输出文件夹，默认 docs")


def bundle(args: argparse.Namespace) -> int:
    from xl_automation.deploy.bundle import BundleError, build_bundle
    from xl_automation.cli.progress import for_args
    progress = for_args(args)
    try:
        done = build_bundle(Path(args.out), args.python, cache=Path(args.cache) if args.cache else None,
                            refresh=args.refresh, progress=progress.step)
    except BundleError as e:
        raise UsageError(f"安装包未生成：{e}") from None
    finally:
        progress.done()
    print(f"已生成离线安装包：{done.folder}")
    print(f"  压缩包：{done.zip}")
    print(f"  Python {'、'.join(done.pythons)}（Windows 64 位），wheel {len(done.wheels)} 个")
    print("  在目标电脑上解压后双击 安装.cmd；说明见其中的 安装说明.txt")
    return EXIT_OK


def _targets(paths: list[str]) -> list[Path]:
    import os
    if paths:
        return [Path(p) for p in paths]
    home = os.environ.get("XL_AUTOMATION_HOME")
    return [Path(home)] if home else [Path.cwd()]


def doctor(args: argparse.Namespace) -> int:
    from xl_automation.deploy.doctor import marks_for, run_checks
    from xl_automation.deploy.winenv import SystemMachine
    checks = run_checks(SystemMachine(), _targets(args.paths))
    failed = [c for c in checks if c.ok is False]
    if args.json:
        print_json({"ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        marks = marks_for(sys.stdout.encoding)
        for c in checks:
            print(c.line(marks))
        print(f"{len(failed)} 项未通过，请按提示处理。" if failed else "全部通过。")
    return EXIT_ERRORS if failed else EXIT_OK


def install_excel(args: argparse.Namespace) -> int:
    from xl_automation.deploy.install_excel import InstallError, install
    from xl_automation.deploy.winenv import SystemMachine
    try:
        done = install(Path(args.source), Path(args.target), SystemMachine(), sys.executable)
    except InstallError as e:
        raise UsageError(str(e)) from None
    print(f"已复制 {len(done.copied)} 个文件到 {Path(args.target)}" +
          (f"，其中 {len(done.unblocked)} 个已去掉“来自互联网”标记" if done.unblocked else ""))
    for conf in done.settings:
        print(f"  Excel 按钮使用 {sys.executable}（已写入 {conf}）")
    return EXIT_OK


def build_pictures(args: argparse.Namespace) -> int:
    from xl_automation.report.pdf import PdfUnavailable
    from xl_automation.report.pictures import build_pictures as build
    try:
        for path in build(Path(args.out), args.config_obj):
            print(f"已生成 {path}")
    except PdfUnavailable as e:
        raise UsageError(str(e)) from None
    return EXIT_OK
