"""Edits of a workbook's package (zip parts rewritten, XML inserted), tiny parts, and LibreOffice driven through UNO to make features openpyxl cannot write (pivot tables, external links)."""
from __future__ import annotations

import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

SHEET = "xl/worksheets/sheet1.xml"


def rewrite(path: Path, out: Path, edits=None, add=None) -> Path:
    """Copy a package, editing some parts (name -> bytes -> bytes) and adding others."""
    edits, add = edits or {}, add or {}
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, edits[name](data) if name in edits else data)
        for name, data in add.items():
            dst.writestr(name, data)
    return out


def insert_before(marker: bytes, text: str):
    return lambda data: data.replace(marker, text.encode() + marker, 1)


def tiny_png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


UNO_PRELUDE = r'''
import os, shutil, subprocess, sys, tempfile, time
import uno
from com.sun.star.beans import PropertyValue
def prop(n, v):
    p = PropertyValue(); p.Name, p.Value = n, v; return p
def run(body):
    profile = tempfile.mkdtemp(prefix="lo_profile_")
    port = 2002 + os.getpid() % 1000
    proc = subprocess.Popen(["soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
        f"-env:UserInstallation=file://{profile}",
        f"--accept=socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(120):
            try:
                ctx = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.5)
        body(ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx))
    finally:
        proc.terminate(); proc.wait(30); shutil.rmtree(profile, ignore_errors=True)
'''


def run_uno(tmp: Path, body: str, *args: str) -> None:
    """Run a UNO script (the system python has the uno module) against a private headless soffice."""
    script = tmp / "uno_script.py"
    script.write_text(UNO_PRELUDE + body, encoding="utf-8")
    subprocess.run(["/usr/bin/python3", str(script), *args], check=True, timeout=180)


PIVOT_AND_LINK = r'''
from com.sun.star.table import CellAddress, CellRangeAddress
from com.sun.star.sheet.DataPilotFieldOrientation import ROW, DATA
src, dst, other = map(os.path.abspath, sys.argv[1:4])
def body(desktop):
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0, (prop("Hidden", True),))
    sheet = doc.Sheets.getByIndex(0)
    tables = sheet.getDataPilotTables()
    desc = tables.createDataPilotDescriptor()
    area = CellRangeAddress(); area.Sheet, area.StartColumn, area.StartRow, area.EndColumn, area.EndRow = 0, 0, 0, 1, 6
    desc.setSourceRange(area)
    desc.getDataPilotFields().getByIndex(0).Orientation = ROW
    desc.getDataPilotFields().getByIndex(1).Orientation = DATA
    at = CellAddress(); at.Sheet, at.Column, at.Row = 0, 4, 0
    tables.insertNewByName("透视表1", at, desc)
    sheet.getCellByPosition(8, 0).setFormula("='" + uno.systemPathToFileUrl(other) + "'#$Sheet.A1")
    doc.storeToURL(uno.systemPathToFileUrl(dst), (prop("FilterName", "Calc MS Excel 2007 XML"),))
    doc.close(True)
run(body)
'''
