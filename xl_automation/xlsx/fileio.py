"""Writing beside the user's file safely: lock files, atomic replace, and what openpyxl would lose."""
from __future__ import annotations

import io
import os
import posixpath
import re
import stat
import tempfile
import zipfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator
from xml.etree import ElementTree as ET

from xl_automation.model.ledger import LedgerError

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
VML_X = "{urn:schemas-microsoft-com:office:excel}"
UI_2006 = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
UI_2007 = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
MACRO_SUFFIXES = (".xlsm", ".xltm")
# openpyxl copies these parts verbatim when keep_vba=True (openpyxl/writer/excel.py _merge_vba)
_OPENPYXL_VBA_PARTS = re.compile("|".join(
    ("xl/vba", r"xl/drawings/.*vmlDrawing\d\.vml", "xl/ctrlProps", "customUI", "xl/activeX", r"xl/media/.*\.emf")))


def lock_files(path: Path | str) -> list[Path]:
    """Lock files that Excel, WPS or LibreOffice keep beside a workbook while it is open."""
    path = Path(path)
    names = [f"~${path.name}"]
    if len(path.stem) > 2:   # Excel drops the first two characters of long names
        names.append(f"~${path.name[2:]}")
    names.append(f".~lock.{path.name}#")
    return [path.with_name(n) for n in names]


def check_not_open(path: Path | str) -> None:
    """Refuse to write a workbook that an office program has open: the user's next save would undo ours."""
    for lock in lock_files(path):
        if lock.exists():
            raise LedgerError("file-locked", path, lock=lock.name)


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_target(path: Path | str, *, mode_from: Path | str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`, on failure it is removed.

    The result keeps the permission bits of the file it replaces (or of `mode_from`).
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f"{path.suffix}.tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        source = path if path.exists() else (Path(mode_from) if mode_from else None)
        mode = stat.S_IMODE(source.stat().st_mode) if source and source.exists() else _default_mode()
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path | str, data: bytes, *, mode_from: Path | str | None = None) -> None:
    with atomic_target(path, mode_from=mode_from) as tmp:
        tmp.write_bytes(data)


def write_package(path: Path | str, parts: dict[str, bytes], when: datetime,
                  *, mode_from: Path | str | None = None) -> None:
    """Write a zip package atomically, parts in a stable order with one timestamp, so equal input gives equal bytes."""
    first = [n for n in ("[Content_Types].xml", "_rels/.rels") if n in parts]
    order = first + sorted(n for n in parts if n not in first)
    stamp = max(when.replace(tzinfo=None), datetime(1980, 1, 1)).timetuple()[:6]   # zip dates start in 1980
    with atomic_target(path, mode_from=mode_from) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as z:
            for name in order:
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, parts[name])


# ---- reading a package ---------------------------------------------------------------

def read_parts(path: Path | str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if not n.endswith("/")}


def rels_of(parts: dict[str, bytes], part: str) -> list[tuple[str, str, str, str]]:
    """(Id, Type, absolute target part, TargetMode) of a part's relationships."""
    folder, base = posixpath.split(part)
    data = parts.get(posixpath.join(folder, "_rels", base + ".rels"))
    if data is None:
        return []
    out = []
    for rel in ET.fromstring(data).iter(PKG_REL + "Relationship"):
        target, mode = rel.get("Target", ""), rel.get("TargetMode", "")
        if mode != "External":
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.append((rel.get("Id", ""), rel.get("Type", ""), target, mode))
    return out


def workbook_part(parts: dict[str, bytes]) -> str:
    for _, rtype, target, _ in rels_of(parts, ""):
        if rtype.endswith("/officeDocument"):
            return target
    return "xl/workbook.xml"


def sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name -> part name, for worksheets and chart sheets, in workbook order."""
    wb = workbook_part(parts)
    targets = {rid: target for rid, _, target, _ in rels_of(parts, wb)}
    root = ET.fromstring(parts[wb])
    return {s.get("name"): targets.get(s.get(REL + "id"), "") for s in root.iter(MAIN + "sheet")}


def content_types(parts: dict[str, bytes]) -> dict[str, str]:
    """Part name -> content type."""
    root = ET.fromstring(parts["[Content_Types].xml"])
    defaults = {d.get("Extension", "").lower(): d.get("ContentType", "") for d in root.iter(CT + "Default")}
    overrides = {o.get("PartName", "").lstrip("/"): o.get("ContentType", "") for o in root.iter(CT + "Override")}
    return {n: overrides.get(n) or defaults.get(n.rsplit(".", 1)[-1].lower(), "") for n in parts}


def pt_or_px(value: str) -> float | None:
    m = re.fullmatch(r"\s*([\d.]+)\s*(pt|px)?\s*", value)
    if not m:
        return None
    return float(m.group(1)) * (4 / 3 if m.group(2) == "pt" else 1)


def vml_shapes(data: bytes) -> list[dict]:
    """The shapes of a VML drawing: object type, 0-based row/column, size in px, shape id, visibility."""
    root = ET.fromstring(data)
    out = []
    for shape in root.iter("{urn:schemas-microsoft-com:vml}shape"):
        client = shape.find(VML_X + "ClientData")
        style = dict(kv.split(":", 1) for kv in (shape.get("style") or "").replace(" ", "").split(";") if ":" in kv)
        out.append({
            "type": client.get("ObjectType") if client is not None else None,
            "row": int(client.findtext(VML_X + "Row") or -1) if client is not None else -1,
            "column": int(client.findtext(VML_X + "Column") or -1) if client is not None else -1,
            "width": pt_or_px(style.get("width", "")), "height": pt_or_px(style.get("height", "")),
            "id": shape.get("id"),
            "visible": client is not None and client.find(VML_X + "Visible") is not None,
        })
    return out


def sheet_vml(parts: dict[str, bytes], sheet_part: str) -> str | None:
    for _, rtype, target, _ in rels_of(parts, sheet_part):
        if rtype.endswith("/vmlDrawing") and target in parts:
            return target
    return None


# ---- what openpyxl cannot carry through load + save ------------------------------------

# worksheet children openpyxl reads and writes back (openpyxl/worksheet/_reader.py, _writer.py)
_SHEET_KEPT = {"sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetProtection",
               "autoFilter", "mergeCells", "conditionalFormatting", "dataValidations", "hyperlinks",
               "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
               "legacyDrawing", "tableParts", "scenarios"}
# dropped, but nothing the user would miss: phonetic guides, green-triangle suppressions, sort memory
_SHEET_HARMLESS = {"phoneticPr", "ignoredErrors", "sheetCalcPr", "sortState"}
_SHEET_LOST = {
    "drawing": "图表、图片或形状",
    "controls": "表单控件或 ActiveX 控件",
    "oleObjects": "嵌入的对象（OLE）",
    "legacyDrawingHF": "页眉页脚中的图片",
    "picture": "工作表背景图片",
    "customSheetViews": "自定义视图",
    "protectedRanges": "“允许编辑区域”设置",
    "extLst": "Excel 2010 以后的扩展内容",
}
_EXT_LOST = {
    "{78C0D931-6437-407D-A8EE-F0AAD7539E65}": "扩展条件格式（数据条、图标集等）",
    "{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}": "引用其他工作表的下拉列表（扩展数据验证）",
    "{05C60535-1F16-4FD2-B633-F4F36F0B64E0}": "迷你图",
    "{A8765BA9-456A-4DAB-B4F3-ACF838C121DE}": "切片器",
    "{3A4CF648-6AED-40F4-86FF-DC5316D8AED3}": "切片器",
    "{7E03D99C-DC04-49D9-9315-930204A7B6E9}": "日程表",
    "{FC87AEE6-9EDD-4A0A-B7FB-166176984837}": "“允许编辑区域”设置",
    "{F7C9EE02-42E1-4005-9D12-6889AFFD525C}": "Office 加载项",
}
_WORKBOOK_LOST = {"fileSharing": "“修改权限密码”或“建议只读”设置", "customWorkbookViews": "自定义视图",
                  "functionGroups": "自定义函数分组", "webPublishObjects": "网页发布设置"}
# content types openpyxl reads and writes back; rels, media and sheet-anchored parts are judged elsewhere
_CT_KEPT = ("sheet.main+xml", "sheet.macroEnabled.main+xml", "template.main+xml", "template.macroEnabled.main+xml",
            "worksheet+xml", "sharedStrings+xml", "styles+xml", "theme+xml", "core-properties+xml",
            "extended-properties+xml", "custom-properties+xml", "comments+xml", "table+xml",
            "pivotTable+xml", "pivotCacheDefinition+xml", "pivotCacheRecords+xml", "externalLink+xml",
            "relationships+xml")
_CT_HARMLESS = ("calcChain+xml", "printerSettings", "image/", "thumbnail", "vmlDrawing")
_CT_ANCHORED = ("drawing+xml", "drawingml.chart", "chartstyle+xml", "chartcolorstyle+xml", "controlproperties+xml",
                "activeX", "oleObject", "slicer+xml", "slicerCache+xml", "timeline+xml", "timelineCache+xml",
                "person+xml", "vbaProject")
_CT_LOST = {
    "chartsheet+xml": "图表工作表", "threadedcomment": "会话式批注（新版批注）",
    "sheetMetadata+xml": "动态数组公式等单元格元数据", "connections+xml": "外部数据连接",
    "queryTable+xml": "外部数据查询表", "dialogsheet+xml": "对话框工作表", "macrosheet+xml": "宏表（Excel 4.0 宏）",
    "customXmlProperties+xml": "自定义 XML 数据（如 Power Query 查询）", "webextension": "Office 加载项",
    "vbaProjectSignature": "VBA 数字签名", "rdrichvalue": "单元格内图片", "richStyles": "单元格内图片",
}


_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b[^>]*?(/>|>)")


def _without_cells(data: bytes) -> bytes:
    """The worksheet XML with an empty <sheetData>: the cells are most of the bytes and none of the question."""
    m = _SHEET_DATA.search(data)
    if not m or m.group(2) == b"/>":
        return data
    end = data.find(b"</" + (m.group(1) or b"") + b"sheetData>", m.end())
    return data if end < 0 else data[:m.end()] + data[end:]


def _sheet_losses(data: bytes) -> list[str]:
    data = _without_cells(data)
    found = []
    depth = 0
    for event, el in ET.iterparse(io.BytesIO(data), events=("start", "end")):
        if event == "start":
            depth += 1
            continue
        depth -= 1
        if depth == 1:
            tag = el.tag.rsplit("}", 1)[-1]
            if tag in _SHEET_KEPT or tag in _SHEET_HARMLESS:
                pass
            elif tag == "extLst":
                found += [_EXT_LOST.get((e.get("uri") or "").upper(), _SHEET_LOST["extLst"]) for e in el]
            elif tag == "AlternateContent":   # Excel wraps <controls> and <oleObjects> in mc:AlternateContent
                inner = {c.tag.rsplit("}", 1)[-1] for c in el.iter()} & set(_SHEET_LOST)
                found += [_SHEET_LOST[t] for t in sorted(inner)] or ["兼容性标记中的内容（AlternateContent）"]
            else:
                found.append(_SHEET_LOST.get(tag, f"工作表中的 <{tag}> 内容"))
            el.clear()
    return found


def lossy_parts(path: Path | str, *, keep_vba: bool | None = None) -> list[str]:
    """Chinese descriptions of workbook content that openpyxl would drop or damage on load + save."""
    path = Path(path)
    if keep_vba is None:
        keep_vba = path.suffix.lower() in MACRO_SUFFIXES
    try:
        parts = read_parts(path)
        types = content_types(parts)
        sheets = sheet_parts(parts)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError):
        return []   # not a readable package: loading it will say so
    found: list[str] = []
    for name, part in sheets.items():
        if types.get(part, "").endswith("chartsheet+xml"):
            found.append(f"图表工作表“{name}”")
        elif part in parts:
            losses = _sheet_losses(parts[part])
            if _SHEET_LOST["drawing"] in losses and _pictures_only(parts, part):
                losses.remove(_SHEET_LOST["drawing"])
            found += [f"工作表“{name}”：{what}" for what in losses]
            found += _vml_losses(parts, part, name, keep_vba)
    found += _workbook_losses(parts)
    for _, rtype, target, _ in rels_of(parts, ""):
        if rtype == UI_2007 or (rtype == UI_2006 and not (keep_vba and _OPENPYXL_VBA_PARTS.match(target))):
            found.append("自定义功能区（customUI）")
    sheet_set = set(sheets.values())
    for name, ctype in sorted(types.items()):
        if name in sheet_set or name.endswith(".rels") or name == "[Content_Types].xml":
            continue
        ctype = ctype.lower()   # writers differ in the case of content types
        lost = next((text for key, text in _CT_LOST.items() if key.lower() in ctype), None)
        if lost:
            found.append(lost)
        elif name.startswith("customXml/"):
            found.append(_CT_LOST["customXmlProperties+xml"])
        elif not any(k.lower() in ctype for k in _CT_KEPT + _CT_HARMLESS + _CT_ANCHORED) and not name.startswith(
                ("xl/media/", "xl/embeddings/", "customUI/", "docProps/", "xl/printerSettings/", "xl/calcChain")):
            found.append(f"程序无法保留的文件部件 {name}")
    return list(dict.fromkeys(found))


_DRAWING_NS = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
_ANCHORS = {"twoCellAnchor", "oneCellAnchor", "absoluteAnchor"}


def _pictures_only(parts: dict[str, bytes], sheet_part: str) -> bool:
    """A drawing of plain pictures only: openpyxl reads and writes those back when Pillow is installed
    (matplotlib, a dependency, brings it); shapes, charts, groups and anything else it drops."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    drawings = [t for _, rtype, t, _ in rels_of(parts, sheet_part) if rtype.endswith("/drawing")]
    if not drawings:
        return False
    for drawing in drawings:
        if drawing not in parts:
            return False
        root = ET.fromstring(parts[drawing])
        for anchor in root:
            if anchor.tag.rsplit("}", 1)[-1] not in _ANCHORS:
                return False
            content = [c.tag for c in anchor if c.tag.rsplit("}", 1)[-1] not in ("from", "to", "pos", "ext", "clientData")]
            if content != [_DRAWING_NS + "pic"]:
                return False
    return True


def _vml_losses(parts: dict[str, bytes], sheet_part: str, sheet: str, keep_vba: bool) -> list[str]:
    vml = sheet_vml(parts, sheet_part)
    if vml is None:
        return []
    try:
        shapes = vml_shapes(parts[vml])
    except (ET.ParseError, ValueError):
        return [f"工作表“{sheet}”：无法解析的批注或控件绘图"]
    out = []
    others = [s for s in shapes if s["type"] != "Note"]
    if others and not (keep_vba and _OPENPYXL_VBA_PARTS.match(vml)):
        out.append(f"工作表“{sheet}”：表单控件（按钮、复选框等）")
    if any(s["type"] == "Note" and s["visible"] for s in shapes):
        out.append(f"工作表“{sheet}”：始终显示的批注（会变为隐藏）")
    return out


def _workbook_losses(parts: dict[str, bytes]) -> list[str]:
    root = ET.fromstring(parts[workbook_part(parts)])
    return [_WORKBOOK_LOST[t] for t in (c.tag.rsplit("}", 1)[-1] for c in root) if t in _WORKBOOK_LOST]


# ---- openpyxl output, repaired -----------------------------------------------------------

def workbook_parts(wb, modified: datetime) -> dict[str, bytes]:
    """An openpyxl workbook serialised to parts, stamped `modified` (openpyxl would stamp the clock)."""
    from openpyxl.writer.excel import ExcelWriter
    if modified.tzinfo is not None:
        modified = modified.astimezone(timezone.utc).replace(tzinfo=None)
    wb.properties.modified = modified
    buf = io.BytesIO()
    archive = zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    try:
        ExcelWriter(wb, archive).save()
    except BaseException:
        archive.fp = None   # abandon the half-written archive: closing it later would fail noisily
        raise
    with zipfile.ZipFile(buf) as z:
        return {n: z.read(n) for n in z.namelist()}


def note_boxes(parts: dict[str, bytes]) -> dict[str, dict[tuple[int, int], tuple[float, float | None]]]:
    """Sheet name -> {(0-based row, column): (width, height) in px} of its notes, read from the VML."""
    out = {}
    for name, part in sheet_parts(parts).items():
        vml = sheet_vml(parts, part) if part in parts else None
        try:
            shapes = vml_shapes(parts[vml]) if vml is not None else []
        except (ET.ParseError, ValueError):   # Excel's VML is not always well-formed XML
            continue
        out[name] = {(s["row"], s["column"]): (s["width"], s["height"])
                     for s in shapes if s["type"] == "Note" and s["width"]}
    return out


# openpyxl writes a formula cell as <c r=".." s=".."><f>..</f><v /></c>: its cached result is gone
# openpyxl writes an empty <v /> with the standard library's XML writer and <v></v> with lxml (which
# python-docx brings in): both are an empty cached value
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+\d+)"((?: [a-z]+="[^"]*")*)>(<f[^>]*/>|<f[^>]*>.*?</f>)(?:<v ?/>|<v></v>)</c>', re.S)


def restore_cached_values(original: dict[str, bytes], parts: dict[str, bytes]) -> None:
    """Put back the last calculated formula results openpyxl drops, so readers of cached values see them."""
    before, after = sheet_parts(original), sheet_parts(parts)
    for name, part in after.items():
        source = before.get(name)
        if not source or source not in original or part not in parts or b"<f" not in original[source]:
            continue
        cached = _cached_results(original[source])

        def put(m: re.Match) -> bytes:
            hit = cached.get(m.group(1).decode())
            if hit is None:
                return m.group(0)
            kind, value = hit
            attrs = m.group(2) + (f' t="{kind}"'.encode() if kind in ("str", "b", "e") else b"")
            escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            return b'<c r="%s"%s>%s<v>%s</v></c>' % (m.group(1), attrs, m.group(3), escaped.encode())
        parts[part] = _FORMULA_CELL.sub(put, parts[part])


def _cached_results(data: bytes) -> dict[str, tuple[str, str]]:
    out = {}
    for _, el in ET.iterparse(io.BytesIO(data)):
        if el.tag == MAIN + "c":
            f, v = el.find(MAIN + "f"), el.find(MAIN + "v")
            if f is not None and v is not None and v.text is not None:
                out[el.get("r")] = (el.get("t", "n"), v.text)
            el.clear()
    return out


_SHAPE_TAG = re.compile(rb"<(?:\w+:)?shape\b[^>]*>")
_SHAPE_ID = re.compile(rb'\bid="_x0000_s(\d+)"')
_NOTE_TYPE = b'type="#_x0000_t202"'


def renumber_note_shapes(parts: dict[str, bytes]) -> None:
    """openpyxl numbers notes from 1026 even when kept buttons use those ids; give notes ids of their own."""
    for name, data in parts.items():
        if not name.endswith(".vml") or _NOTE_TYPE not in data:
            continue
        tags = _SHAPE_TAG.findall(data)
        taken = [int(m) for t in tags if _NOTE_TYPE not in t for m in _SHAPE_ID.findall(t)]
        if not taken:
            continue
        ids = iter(range(max(taken) + 1, 10 ** 9))

        def renumber(m: re.Match) -> bytes:
            tag = m.group(0)
            if _NOTE_TYPE not in tag:
                return tag
            return _SHAPE_ID.sub(lambda _: b'id="_x0000_s%d"' % next(ids), tag, count=1)
        parts[name] = _SHAPE_TAG.sub(renumber, data)
