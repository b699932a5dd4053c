"""Pictures for the README, rendered by LibreOffice from what the program really writes, never drawn.

render_first_page turns a workbook, document or PDF into a PNG of its first printed page
(LibreOffice → PDF → pdftoppm); build_pictures makes docs/台账示例.png: the ledger template filled
with a window's demo rows and checked with 校验 (validate --annotate), as a clerk sees it when printed;
and docs/通报示例.png: the first page of a synthetic month's 通报 as the group marketing centre sends it.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from xl_automation.model.config import Config
from xl_automation.demo.sample import sample_rows
from xl_automation.report.pdf import PdfUnavailable, export_pdf

LEDGER_PICTURE = "台账示例.png"
BULLETIN_PICTURE = "通报示例.png"
BULLETIN_ROWS = 30
BULLETIN_NOW = datetime(2026, 11, 25, 10, 0)
DPI = 120
WINDOW, PERIOD, ROWS = "ZLS02", "2026-11", 32
NOW = datetime(2026, 11, 20, 16, 0)


def render_first_page(source: str | Path, png: str | Path, *, dpi: int = DPI, timeout: int = 300) -> Path:
    """The first page of a PDF or office file (.xlsx/.xlsm/.docx/…) as a PNG; the source is not touched."""
    source, png = Path(source), Path(png)
    exe = shutil.which("pdftoppm")
    if not exe:
        raise PdfUnavailable("未找到 pdftoppm（Debian/Ubuntu：apt-get install poppler-utils），不能生成图片")
    with tempfile.TemporaryDirectory(prefix="xl_picture_") as tmp:
        if source.suffix.lower() == ".pdf":
            pdf = source
        else:
            copy = Path(tmp, "page" + source.suffix.lower())
            shutil.copyfile(source, copy)
            pdf = export_pdf(copy, timeout=timeout)
        prefix = Path(tmp, "first")
        done = subprocess.run([exe, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf), str(prefix)],
                              capture_output=True, text=True, timeout=timeout)
        made = prefix.with_suffix(".png")
        if done.returncode != 0 or not made.exists():
            raise PdfUnavailable(f"pdftoppm 渲染失败：{done.stderr.strip()[:200]}")
        png.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(made), png)
    return png


def ledger_example(path: Path, config: Config) -> Path:
    """A window's ledger as the clerk keeps it: the template, demo rows (a few mistakes), after 校验."""
    from xl_automation.xlsx.annotate import annotate
    from xl_automation.xlsx.fill import fill_ledger
    from xl_automation.rules.periods import Period
    from xl_automation.xlsx.reader import read_ledger
    from xl_automation.xlsx.template import build_ledger
    from xl_automation.rules.validate import check_ledger
    window = config.window(WINDOW)
    period = Period.parse(PERIOD, config.policy["period_start_day"])
    build_ledger(path, config=config, window=window, period=period)
    fill_ledger(path, sample_rows(window, period, config, n=ROWS, now=NOW, mistakes=True))
    ledger = read_ledger(path, config=config)
    check = check_ledger(ledger, config, NOW)
    annotate(ledger, check.findings, check.clocks, now=NOW)
    return path


def bulletin_example(folder: Path, config: Config) -> Path:
    """The first page of a month's 通报 as the group sends it: every window but one submits a synthetic month."""
    import os
    from xl_automation.report.month_report import consolidate_folder
    from xl_automation.rules.periods import Period
    from xl_automation.xlsx.values_ledger import write_values_ledger
    period = Period.parse(PERIOD, config.policy["period_start_day"])
    inbox = folder / "报送"
    inbox.mkdir(parents=True)
    for i, w in enumerate(config.windows[:-1]):
        path = inbox / f"{w.code}-{w.name}-{PERIOD}.xlsx"
        rows = sample_rows(w, period, config, n=BULLETIN_ROWS, seed=11 + i, now=BULLETIN_NOW, mistakes=False)
        write_values_ledger(path, rows, {"窗口编码": w.code, "窗口名称": w.name, "统计周期": PERIOD})
        saved = (BULLETIN_NOW - timedelta(days=1, hours=i)).timestamp()   # handed in before the 25th
        os.utime(path, (saved, saved))
    data = consolidate_folder(inbox, period, config, BULLETIN_NOW, folder / f"综合受理月报-{PERIOD}.xlsx",
                              show_personal_info=False, no_archive=True)      # one month: nothing to compare
    return Path(data["bulletin"])


def build_pictures(out: str | Path, config: Config) -> list[Path]:
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="xl_pictures_") as tmp:
        book = ledger_example(Path(tmp, f"{WINDOW}-{PERIOD}.xlsx"), config)
        bulletin = bulletin_example(Path(tmp, "通报"), config)
        return [render_first_page(book, out / LEDGER_PICTURE), render_first_page(bulletin, out / BULLETIN_PICTURE)]
