"""PDF export of a document (the 通报) through LibreOffice headless, when it is installed; and a page of a
PDF as a PNG picture (poppler's pdftoppm)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


class PdfUnavailable(Exception):
    """LibreOffice is missing or failed; the report itself is still written."""


# where the Windows installer puts it (it does not add itself to PATH)
SOFFICE_WINDOWS = (r"C:\Program Files\LibreOffice\program\soffice.exe",
                   r"C:\Program Files (x86)\LibreOffice\program\soffice.exe")


def soffice() -> str | None:
    return (shutil.which("soffice") or shutil.which("libreoffice")
            or next((p for p in SOFFICE_WINDOWS if Path(p).is_file()), None))


def export_pdf(workbook: Path, timeout: int = 300) -> Path:
    """workbook.pdf beside the file (a .docx needs LibreOffice Writer, an .xlsx Calc)."""
    exe = soffice()
    if not exe:
        raise PdfUnavailable("未找到 LibreOffice（soffice），未生成 PDF；安装 LibreOffice 后加 --pdf 重新运行")
    workbook = Path(workbook).resolve()
    with tempfile.TemporaryDirectory(prefix="xl_pdf_") as tmp:
        profile = Path(tmp, "profile").as_uri()
        cmd = [exe, f"-env:UserInstallation={profile}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", tmp, str(workbook)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PdfUnavailable(f"LibreOffice 转换 PDF 超时（{timeout} 秒），未生成 PDF") from None
        produced = Path(tmp, workbook.stem + ".pdf")
        if done.returncode != 0 or not produced.exists():
            hint = ("；打开 Word 文档需要 LibreOffice Writer（Debian：apt-get install libreoffice-writer）"
                    if workbook.suffix.lower() == ".docx" else "")
            raise PdfUnavailable(f"LibreOffice 转换 PDF 失败：{(done.stderr or done.stdout).strip()[:200]}{hint}")
        target = workbook.with_suffix(".pdf")
        shutil.move(str(produced), target)
    return target


def render_page(pdf: Path, png: Path, page: int = 1, dpi: int = 110) -> Path:
    """One page of a PDF as a PNG (for a picture of the 通报 in the README); needs poppler-utils."""
    exe = shutil.which("pdftoppm")
    if not exe:
        raise PdfUnavailable("未找到 pdftoppm（Debian：poppler-utils），无法把 PDF 页面转成图片")
    png = Path(png)
    stem = png.with_suffix("")
    subprocess.run([exe, "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem)],
                   check=True, capture_output=True, timeout=120)
    return stem.with_suffix(".png")
