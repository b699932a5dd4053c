"""An OOXML package opened for patching: parts decompressed only when asked for, edited parts replaced,
every other zip entry copied as its raw compressed bytes (so parts no library models stay byte-identical)."""
from __future__ import annotations

import copy
import posixpath
import struct
import zipfile
from pathlib import Path

from lxml import etree

from xl_automation.xlsx import fileio
from xl_automation.model.ledger import LedgerError

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
# branch workbooks are untrusted: no entities, no network, but sheets of a million rows are fine
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=False)
_ZIP64_EXTRA = 1
_DATA_DESCRIPTOR = 0x08
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_CHUNK = 1 << 20


def q(tag: str, ns: str = MAIN_NS) -> str:
    return f"{{{ns}}}{tag}"


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class Package:
    """The parts of one workbook file; read() decompresses, put() replaces, write() patches the zip."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise LedgerError("file-corrupt", self.path, detail=str(exc)[:200]) from exc
        self.infos = {i.filename: i for i in self._zip.infolist() if not i.filename.endswith("/")}
        self.changed: dict[str, bytes] = {}
        self.decompressed: list[str] = []     # parts this run had to inflate (tests: big drawings never are)
        self._xml: dict[str, etree._Element] = {}

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- parts ----------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self.changed or name in self.infos

    def read(self, name: str) -> bytes:
        if name in self.changed:
            return self.changed[name]
        self.decompressed.append(name)
        try:
            return self._zip.read(name)
        except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
            raise LedgerError("file-corrupt", self.path, detail=f"{name}：{str(exc)[:160]}") from exc
        except Exception as exc:   # zlib.error and friends: a damaged entry
            raise LedgerError("file-corrupt", self.path, detail=f"{name}：{type(exc).__name__}") from exc

    def xml(self, name: str) -> etree._Element:
        """The part parsed once (edits to the tree are written by save_xml)."""
        if name not in self._xml:
            try:
                self._xml[name] = etree.fromstring(self.read(name), PARSER)
            except etree.XMLSyntaxError as exc:
                raise LedgerError("file-corrupt", self.path, detail=f"{name} 不是有效的 XML（{exc}）") from exc
        return self._xml[name]

    def put(self, name: str, data: bytes) -> None:
        self.changed[name] = data

    def save_xml(self, name: str, root: etree._Element | None = None) -> None:
        root = self._xml[name] if root is None else root
        self._xml[name] = root
        self.changed[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    def new_name(self, pattern: str) -> str:
        """The first free part name of the form pattern % n (n from 1)."""
        n = 1
        while self.has(pattern % n):
            n += 1
        return pattern % n

    # -- relationships ----------------------------------------------------------------------
    @staticmethod
    def rels_name(part: str) -> str:
        folder, base = posixpath.split(part)
        return posixpath.join(folder, "_rels", base + ".rels")

    def rels(self, part: str) -> list[tuple[str, str, str, str]]:
        """(Id, Type, absolute target, TargetMode) of a part's relationships."""
        name = self.rels_name(part)
        if not self.has(name):
            return []
        folder = posixpath.dirname(part)
        out = []
        for rel in self.xml(name).iter(q("Relationship", PKG_REL_NS)):
            target, mode = rel.get("Target", ""), rel.get("TargetMode", "")
            if mode != "External":
                target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(folder, target))
            out.append((rel.get("Id", ""), rel.get("Type", ""), target, mode))
        return out

    def target(self, part: str, kind: str) -> str | None:
        """The first internal part related to `part` by a relationship type ending in /kind."""
        return next((t for _, rtype, t, mode in self.rels(part)
                     if rtype.rsplit("/", 1)[-1] == kind and mode != "External"), None)

    def add_rel(self, part: str, kind: str, target: str) -> str:
        """Relate part to target (absolute part name); returns the new relationship id."""
        name = self.rels_name(part)
        if self.has(name):
            root = self.xml(name)
        else:
            root = etree.Element(q("Relationships", PKG_REL_NS), nsmap={None: PKG_REL_NS})
            self._xml[name] = root
            self.set_default("rels", "application/vnd.openxmlformats-package.relationships+xml")
        ids = {rel.get("Id") for rel in root}
        n = len(ids) + 1
        while f"rId{n}" in ids:
            n += 1
        rel = etree.SubElement(root, q("Relationship", PKG_REL_NS))
        rel.set("Id", f"rId{n}")
        rel.set("Type", REL_TYPE + kind)
        rel.set("Target", posixpath.relpath(target, posixpath.dirname(part) or "."))
        self.save_xml(name)
        return f"rId{n}"

    # -- content types --------------------------------------------------------------------
    def _types(self) -> etree._Element:
        return self.xml("[Content_Types].xml")

    def set_override(self, part: str, content_type: str) -> None:
        root = self._types()
        for el in root.iter(q("Override", CT_NS)):
            if el.get("PartName", "").lstrip("/") == part:
                return
        el = etree.SubElement(root, q("Override", CT_NS))
        el.set("PartName", "/" + part)
        el.set("ContentType", content_type)
        self.save_xml("[Content_Types].xml")

    def set_default(self, extension: str, content_type: str) -> None:
        root = self._types()
        if any(el.get("Extension", "").lower() == extension for el in root.iter(q("Default", CT_NS))):
            return
        el = etree.Element(q("Default", CT_NS))
        el.set("Extension", extension)
        el.set("ContentType", content_type)
        root.insert(0, el)
        self.save_xml("[Content_Types].xml")

    # -- writing ------------------------------------------------------------------------------
    def write(self, target: Path, *, mode_from: Path) -> None:
        """The package with the changed parts, atomically; untouched entries keep their compressed bytes."""
        book_info = self.infos.get("xl/workbook.xml") or next(iter(self.infos.values()))
        with fileio.atomic_target(target, mode_from=mode_from) as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as out:
                for name, info in self.infos.items():
                    if name in self.changed:
                        _write_new(out, name, self.changed[name], info.date_time)
                    else:
                        self._copy_raw(info, out)
                for name in sorted(set(self.changed) - set(self.infos)):
                    # new parts carry a date from the file itself, never the clock: equal runs, equal bytes
                    _write_new(out, name, self.changed[name], book_info.date_time)
            self.close()   # before the replace: Windows cannot replace a file that is open

    def _copy_raw(self, info: zipfile.ZipInfo, out: zipfile.ZipFile) -> None:
        src = self._zip.fp
        src.seek(info.header_offset)
        head = src.read(_LOCAL_HEADER.size)
        fields = _LOCAL_HEADER.unpack(head) if len(head) == _LOCAL_HEADER.size else None
        if fields is None or fields[0] != b"PK\x03\x04":
            raise LedgerError("file-corrupt", self.path, detail=f"压缩包中 {info.filename} 的记录头损坏")
        src.seek(info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1])
        entry = copy.copy(info)
        entry.flag_bits &= ~_DATA_DESCRIPTOR    # sizes and CRC are known: write them in the header
        entry.extra = _strip_zip64(info.extra)
        entry.header_offset = out.fp.tell()
        zip64 = entry.file_size > zipfile.ZIP64_LIMIT or entry.compress_size > zipfile.ZIP64_LIMIT
        out.fp.write(entry.FileHeader(zip64))
        left = info.compress_size
        while left:
            chunk = src.read(min(_CHUNK, left))
            if not chunk:
                raise LedgerError("file-corrupt", self.path, detail=f"压缩包中 {info.filename} 不完整")
            out.fp.write(chunk)
            left -= len(chunk)
        out.filelist.append(entry)
        out.NameToInfo[entry.filename] = entry
        out.start_dir = out.fp.tell()


def _write_new(out: zipfile.ZipFile, name: str, data: bytes, date_time) -> None:
    info = zipfile.ZipInfo(name, date_time=tuple(date_time))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    out.writestr(info, data)


def _strip_zip64(extra: bytes) -> bytes:
    """The extra field without its zip64 record (FileHeader adds a fresh one when needed)."""
    out, i = b"", 0
    while i + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, i)
        if kind != _ZIP64_EXTRA:
            out += extra[i:i + 4 + size]
        i += 4 + size
    return out
