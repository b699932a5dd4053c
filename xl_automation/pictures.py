"""Pictures for the README, rendered by LibreOffice from what the program really writes, never drawn.

render_first_page turns a workbook, document or PDF into a PNG of its first printed page
(LibreOffice → PDF → pdftoppm); build_pictures makes docs/台账示例.png: the ledger template filled
with a window's demo rows and checked with 校验 (validate --annotate), as a clerk sees it when printed.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from .config import Config
from .pdf import PdfUnavailable, export_pdf

LEDGER_PICTURE = "台账示例.png"
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
    from .annotate import annotate
    from .fill import fill_ledger
    from .periods import Period
    from .reader import read_ledger
    from .sample import sample_rows
    from .template import build_ledger
    from .validate import check_ledger
    window = config.window(WINDOW)
    period = Period.parse(PERIOD, config.policy["period_start_day"])
    build_ledger(path, config=config, window=window, period=period)
    fill_ledger(path, sample_rows(window, period, config, n=ROWS, now=NOW, mistakes=True))
    ledger = read_ledger(path, config=config)
    check = check_ledger(ledger, config, NOW)
    annotate(ledger, check.findings, check.clocks, now=NOW)
    return path


def build_pictures(out: str | Path, config: Config) -> list[Path]:
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="xl_pictures_") as tmp:
        book = ledger_example(Path(tmp, f"{WINDOW}-{PERIOD}.xlsx"), config)
        return [render_first_page(book, out / LEDGER_PICTURE)]
