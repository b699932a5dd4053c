"""PDF export of a workbook through LibreOffice headless, when it is installed."""
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
            raise PdfUnavailable(f"LibreOffice 转换 PDF 失败：{(done.stderr or done.stdout).strip()[:200]}")
        target = workbook.with_suffix(".pdf")
        shutil.move(str(produced), target)
    return target
