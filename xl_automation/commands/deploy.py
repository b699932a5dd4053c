"""The deployment commands: bundle (the offline kit), doctor (环境检查), install-excel (called by 安装.cmd)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from xl_automation.commands.edge import print_json
from xl_automation.commands.progress import Progress
from xl_automation.model.exits import EXIT_ERRORS, EXIT_OK, UsageError


def bundle(out: Path, pythons: list[str], *, cache: Path | None = None, refresh: bool = False,
           progress: Progress | None = None) -> int:
    from xl_automation.deploy.bundle import BundleError, build_bundle
    progress = progress or Progress(None)
    try:
        done = build_bundle(Path(out), pythons, cache=Path(cache) if cache else None,
                            refresh=refresh, progress=progress.step)
    except BundleError as e:
        raise UsageError(f"安装包未生成：{e}") from None
    finally:
        progress.done()
    print(f"已生成离线安装包：{done.folder}")
    print(f"  压缩包：{done.zip}")
    print(f"  Python {'、'.join(done.pythons)}（Windows 64 位），wheel {len(done.wheels)} 个")
    print("  在目标电脑上解压后双击 安装.cmd；说明见其中的 安装说明.txt")
    return EXIT_OK


def doctor_targets(paths: list[str]) -> list[Path]:
    """The paths given, else the folder 安装.cmd set (XL_AUTOMATION_HOME), else the current folder."""
    if paths:
        return [Path(p) for p in paths]
    home = os.environ.get("XL_AUTOMATION_HOME")
    return [Path(home)] if home else [Path.cwd()]


def doctor(targets: list[Path], *, json: bool = False, config: str | None = None) -> int:
    """One line per check, ✓/✗ and what to do; exit 1 if any check failed (a configuration the other commands
    would refuse is one of those lines, not a stop)."""
    from xl_automation.deploy.doctor import marks_for, run_checks
    from xl_automation.deploy.winenv import SystemMachine
    checks = run_checks(SystemMachine(), targets, config=config)
    failed = [c for c in checks if c.ok is False]
    if json:
        print_json({"ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        marks = marks_for(sys.stdout.encoding)
        for c in checks:
            print(c.line(marks))
        print(f"{len(failed)} 项未通过，请按提示处理。" if failed else "全部通过。")
    return EXIT_ERRORS if failed else EXIT_OK


def install_excel(source: Path, target: Path) -> int:
    from xl_automation.deploy.install_excel import InstallError, install
    from xl_automation.deploy.winenv import SystemMachine
    try:
        done = install(Path(source), Path(target), SystemMachine(), sys.executable)
    except InstallError as e:
        raise UsageError(str(e)) from None
    print(f"已复制 {len(done.copied)} 个文件到 {Path(target)}" +
          (f"，其中 {len(done.unblocked)} 个已去掉“来自互联网”标记" if done.unblocked else ""))
    for conf in done.settings:
        print(f"  Excel 按钮使用 {sys.executable}（已写入 {conf}）")
    return EXIT_OK
