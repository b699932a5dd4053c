"""What a workbook file is, before calamine reads it: format, 1904 dates, hidden rows."""
from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from xl_automation.model.ledger import LedgerError, column_letter
from xl_automation.xlsx.number_formats import cells_showing_time
from xl_automation.xlsx.ole_probe import MAX_SHEETS, check_biff, check_container

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REL_OFFICE_DOC = "/officeDocument"
_ROOT_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet\b")
_ROW_NUMBER = re.compile(rb'\sr="(\d+)"')
_HIDDEN_TRUE = re.compile(rb'\shidden="(?:1|true)"')
_CHUNK = 1 << 20
# a cell holding an error value (t="e"), its reference and the value Excel saved (#N/A, #DIV/0! …)
_ERROR_CELL = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\bt=["\']e["\'][^>]*>')
_CELL_REF = re.compile(rb'\sr=["\']([A-Z]{1,3})(\d+)["\']')
_CELL_VALUE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?v>([^<]{0,32})<')
_CELL_END = re.compile(rb'</(?:[A-Za-z_][\w.-]*:)?c>')
KEEP_XML_BYTES = 64 << 20     # a sheet's XML kept in memory at most (a 60,000-row ledger)

# BIFF8 record types (MS-XLS 2.3)
_BOF, _EOF, _BOUNDSHEET, _DATEMODE, _FILEPASS, _ROW, _SST = 0x0809, 0x000A, 0x0085, 0x0022, 0x002F, 0x0208, 0x00FC
_DIMENSIONS = 0x0200
_FORMULA, _BOOLERR = 0x0006, 0x0205
# Excel's error values by their BIFF code (MS-XLS 2.5.97.2 BErr; COM's CVErr numbers are these + 2000)
EXCEL_ERRORS = {0: "#NULL!", 7: "#DIV/0!", 15: "#VALUE!", 23: "#REF!", 29: "#NAME?", 36: "#NUM!", 42: "#N/A",
                43: "#GETTING_DATA", 45: "#SPILL!", 46: "#CONNECT!", 47: "#BLOCKED!", 48: "#UNKNOWN!",
                49: "#FIELD!", 50: "#CALC!", 51: "#BUSY!"}
_BIFF8_ROWS, _BIFF8_COLUMNS = 65536, 256
_ROW_HIDDEN_FLAG = 0x20   # fDyZero in the ROW record's flags


@dataclass
class Probe:
    """Facts about a readable workbook file; raises nothing once built."""
    path: Path
    format: str                        # xlsx | xlsm | xls
    date1904: bool = False
    sheet_parts: dict[str, str] = field(default_factory=dict)    # xlsx: sheet name -> zip member
    sheet_offsets: dict[str, int] = field(default_factory=dict)  # xls: sheet name -> BIFF offset
    biff: bytes = b""
    styles_part: str = ""                                        # xlsx: the styles zip member

    def time_cells(self, sheet: str, cells: set[tuple[int, str]],
                   kept: list[bytes | None] | None = None) -> set[tuple[int, str]] | None:
        """Of (row, column letters) cells, those whose number format shows a time; None when unknown.
        kept: the sheet's XML as hidden_rows kept it (used when complete, else the part is read again)."""
        if self.format == "xls" or not self.styles_part:
            return None
        xml = kept[:-1] if kept and kept[-1] is None else None
        try:
            with zipfile.ZipFile(self.path) as z:
                return cells_showing_time(z, self.sheet_parts[sheet], self.styles_part, cells, xml)
        except (KeyError, OSError, EOFError, ValueError, RuntimeError, NotImplementedError,
                zipfile.BadZipFile, zlib.error, ElementTree.ParseError):
            return None

    def hidden_rows(self, sheet: str, keep: list[bytes | None] | None = None,
                    errors: list[tuple[int, str, str]] | None = None) -> set[int]:
        """1-based numbers of the rows Excel hides in a sheet (empty when unknown). keep: receives the
        sheet's XML as inflated, then None to say it is complete (nothing when over KEEP_XML_BYTES).
        errors: receives (row, column letters, value) of each cell holding an error value, which calamine
        reads as blank."""
        try:
            if self.format == "xls":
                return _biff_hidden_rows(self.biff, self.sheet_offsets[sheet], errors)
            return _xml_hidden_rows(self.path, self.sheet_parts[sheet], keep, errors)
        except (KeyError, OSError, EOFError, ValueError, IndexError, RuntimeError, NotImplementedError,
                zipfile.BadZipFile, zlib.error, struct.error):
            # the flags are a courtesy: calamine has already read the cells themselves
            return set()


def detect_format(path: str | Path) -> str:
    """'xlsx', 'xlsm' or 'xls'; LedgerError when the file cannot be read as a workbook."""
    return probe(path).format


def probe(path: str | Path) -> Probe:
    path = Path(path)
    if path.is_dir():           # on Windows opening a folder says "Permission denied": name it for what it is
        raise LedgerError("file-is-folder", path)
    try:
        with path.open("rb") as f:
            magic = f.read(8)
    except FileNotFoundError:
        raise LedgerError("file-not-found", path) from None
    except OSError as e:
        raise LedgerError("file-unreadable", path, detail=e.strerror or type(e).__name__) from None
    if not magic:
        raise LedgerError("file-empty", path)
    if magic.startswith(ZIP_MAGIC):
        return _probe_zip(path)
    if magic == OLE_MAGIC:
        return _probe_ole(path)
    raise LedgerError("file-not-xlsx", path)


def _probe_zip(path: Path) -> Probe:
    try:
        with zipfile.ZipFile(path) as z:
            _refuse_bomb(path, z)
            names = set(z.namelist())
            if len(names) > MAX_PARTS:
                raise LedgerError("file-too-large", path, detail=f"压缩包里有 {len(names):,} 个部件")
            book = _office_document(z, names)
            if book is None or not book.endswith(".xml"):
                # .ods, .docx, .xlsb or an ordinary zip archive
                raise LedgerError("file-not-xlsx", path)
            if book not in names:
                raise LedgerError("file-corrupt", path, detail=f"缺少工作簿部件 {book}")
            types = z.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
            fmt = "xlsm" if b"macroEnabled.main+xml" in types else "xlsx"
            root = ElementTree.fromstring(z.read(book))
            rels = _relationships(z, book, names)
            styles = _relationships(z, book, names, type_suffix="/styles")
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, UnicodeDecodeError, KeyError):
        # damaged directory entries show up as odd versions, "encrypted" flags or bad names
        raise LedgerError("file-corrupt", path, detail="压缩包结构损坏") from None
    except (zlib.error, EOFError):
        raise LedgerError("file-corrupt", path, detail="压缩数据损坏") from None
    except ElementTree.ParseError:
        raise LedgerError("file-corrupt", path, detail="工作簿结构 XML 无法解析") from None
    probe_ = Probe(path, fmt, styles_part=next(iter(styles.values()), ""))
    sheets = sum(1 for el in root.iter() if _local(el.tag) == "sheet")
    if sheets > MAX_SHEETS:
        raise LedgerError("file-too-large", path, detail=f"工作簿声明了 {sheets:,} 个工作表")
    for el in root.iter():
        tag = _local(el.tag)
        if tag == "workbookPr":
            probe_.date1904 = el.get("date1904", "").lower() in ("1", "true")
        elif tag == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            if rid in rels:
                probe_.sheet_parts[el.get("name", "")] = rels[rid]
    return probe_


MAX_UNPACKED = 3 << 30       # a million-row ledger unpacks to about 0.6 GB
MAX_PARTS = 10_000           # a ledger package has ~20 parts; every part costs the parser a directory entry
MAX_RATIO = 250              # sheet XML packs 10-30x; a decompression bomb packs thousands of times


def _refuse_bomb(path: Path, z: zipfile.ZipFile) -> None:
    """Branch files are untrusted: refuse one that would unpack to more than any real ledger."""
    infos = z.infolist()
    total = sum(i.file_size for i in infos)
    worst = max(infos, key=lambda i: i.file_size / max(i.compress_size, 1), default=None)
    if total > MAX_UNPACKED or (worst is not None and worst.file_size > 50 << 20
                                and worst.file_size / max(worst.compress_size, 1) > MAX_RATIO):
        raise LedgerError("file-too-large", path,
                          detail=f"文件解压后有 {total / (1 << 20):,.0f} MB，可能是恶意构造的压缩包")


def _office_document(z: zipfile.ZipFile, names: set[str]) -> str | None:
    """The workbook part named by the package relationships (xl/workbook.xml as a rule)."""
    if "_rels/.rels" in names:
        for el in ElementTree.fromstring(z.read("_rels/.rels")).iter():
            if el.get("Type", "").endswith(_REL_OFFICE_DOC):
                return el.get("Target", "").lstrip("/")
    return "xl/workbook.xml" if "xl/workbook.xml" in names else None


def _relationships(z: zipfile.ZipFile, part: str, names: set[str], type_suffix: str = "") -> dict[str, str]:
    """Relationship id -> zip member, for the relationships of one part (of one type when given)."""
    p = PurePosixPath(part)
    rels_name = str(p.parent / "_rels" / f"{p.name}.rels")
    if rels_name not in names:
        return {}
    out = {}
    for el in ElementTree.fromstring(z.read(rels_name)).iter():
        target = el.get("Target")
        if target and el.get("Id") and el.get("Type", "").endswith(type_suffix):
            out[el.get("Id")] = target.lstrip("/") if target.startswith("/") else _join(p.parent, target)
    return out


def _join(base: PurePosixPath, target: str) -> str:
    parts: list[str] = []
    for piece in (*base.parts, *target.split("/")):
        if piece == "..":
            parts = parts[:-1]
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_hidden_rows(path: Path, member: str, keep: list[bytes | None] | None = None,
                     errors: list[tuple[int, str, str]] | None = None) -> set[int]:
    """Find hidden <row> tags chunk by chunk, without building the sheet in memory (unless asked to keep
    it, up to KEEP_XML_BYTES); and, when errors is a list, the cells holding an error value."""
    hidden: set[int] = set()
    rows_before, tail, row_tag = 0, b"", None
    kept = 0
    with zipfile.ZipFile(path) as z, z.open(member) as f:
        while True:
            chunk = f.read(_CHUNK)
            if keep is not None:
                kept += len(chunk)
                if kept > KEEP_XML_BYTES:
                    keep.clear()
                    keep = None
                elif chunk:
                    keep.append(chunk)
                else:
                    keep.append(None)      # complete
            buf = tail + chunk
            if row_tag is None:
                m = _ROOT_PREFIX.search(buf)
                row_tag = b"<" + ((m.group(1) or b"") if m else b"") + b"row"
            cut = len(buf) if not chunk else max(buf.rfind(b"<"), 0)
            # error cells are rare: one substring search per chunk (~0.4 ms a MB, beside calamine's parse);
            # Excel, WPS, LibreOffice and the Python writers all quote attributes with "
            if errors is not None and b't="e"' in buf:
                cut = _error_cells(buf, cut, errors, final=not chunk)
            # hidden= is rare, so look for it and then at its tag, instead of parsing every row
            pos = buf.find(b'hidden="', 0, cut)
            while pos >= 0:
                start = buf.rfind(b"<", 0, pos)
                tag = buf[start:buf.find(b">", pos)]
                if tag.startswith(row_tag) and tag[len(row_tag):len(row_tag) + 1].isspace() \
                        and _HIDDEN_TRUE.search(tag):
                    num = _ROW_NUMBER.search(tag)
                    # Excel always writes r=; without it a row is one below the previous row tag
                    hidden.add(int(num.group(1)) if num else rows_before + buf.count(row_tag, 0, pos))
                pos = buf.find(b'hidden="', pos + 8, cut)
            if not chunk:
                return hidden
            rows_before += buf.count(row_tag, 0, cut)
            tail = buf[cut:]


def _error_cells(buf: bytes, cut: int, errors: list[tuple[int, str, str]], *, final: bool) -> int:
    """Append (row, column letters, value) of the error cells starting before cut; the cut to use: moved back
    to a cell whose end is not in buf yet, so that it is read whole with the next chunk."""
    for m in _ERROR_CELL.finditer(buf, 0, cut):
        value = ""
        if not m.group(0).endswith(b"/>"):
            close = _CELL_END.search(buf, m.end())
            if close is None and not final:
                return m.start()
            found = _CELL_VALUE.search(buf, m.end(), close.start() if close else len(buf))
            value = found.group(1).decode("utf-8", "replace") if found else ""
        ref = _CELL_REF.search(m.group(0))
        if ref is not None:         # Excel always writes r=; a cell without one cannot be named
            errors.append((int(ref.group(2)), ref.group(1).decode(), value))
    return cut


def _probe_ole(path: Path) -> Probe:
    check_container(path, path.read_bytes())
    import olefile   # only old .xls files and encrypted packages are OLE containers
    try:
        with olefile.OleFileIO(str(path)) as ole:
            if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
                # an .xlsx with an opening password is an OLE container, not a zip
                raise LedgerError("file-encrypted", path)
            stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
            if stream is None:
                raise LedgerError("file-not-xlsx", path)   # a .doc or another OLE file
            biff = ole.openstream(stream).read()
    except (OSError, ValueError, IndexError, struct.error) as e:
        raise LedgerError("file-corrupt", path, detail=f"OLE 结构损坏（{e}）") from None
    probe_ = Probe(path, "xls", biff=biff)
    sst_unique = None
    try:
        for rtype, pos, size in _records(biff, 0):
            if rtype == _FILEPASS:
                raise LedgerError("file-encrypted", path)
            if rtype == _SST and size >= 8:
                sst_unique = struct.unpack_from("<I", biff, pos + 4)[0]
            elif rtype == _DATEMODE and size >= 2:
                probe_.date1904 = struct.unpack_from("<H", biff, pos)[0] == 1
            elif rtype == _BOUNDSHEET and size >= 8:
                probe_.sheet_offsets[_short_unicode(biff, pos + 6)] = struct.unpack_from("<I", biff, pos)[0]
            elif rtype == _EOF:
                break
    except (IndexError, struct.error, UnicodeDecodeError):
        pass   # BIFF5 or damaged globals: calamine judges the cells, we only lose the extras
    dimensions = {}
    for name, offset in probe_.sheet_offsets.items():
        dims = _dimensions(biff, offset)
        if dims is False:
            # calamine sizes its grid from this record: a damaged one aborts the whole process
            raise LedgerError("file-corrupt", path, detail=f"工作表“{name}”的尺寸记录损坏")
        if dims:
            dimensions[name] = dims
    check_biff(path, biff, probe_.sheet_offsets, sst_unique, dimensions)
    return probe_


def _dimensions(biff: bytes, offset: int) -> tuple[int, int] | bool | None:
    """(rows, columns) a sheet's DIMENSIONS record claims; False when more than a .xls sheet can hold."""
    for rtype, pos, size in _records(biff, offset):
        if rtype == _DIMENSIONS and size >= 12:
            first_row, end_row, first_col, end_col = struct.unpack_from("<IIHH", biff, pos)
            if not (first_row <= end_row <= _BIFF8_ROWS and first_col <= end_col <= _BIFF8_COLUMNS):
                return False
            return end_row - first_row, end_col - first_col
        if rtype in (_ROW, _EOF):     # DIMENSIONS comes before the first row; the walk is cheap
            break
    return None


def _records(data: bytes, offset: int):
    """(type, data offset, size) of each BIFF record from offset on."""
    end = len(data) - 4
    while offset <= end:
        rtype, size = struct.unpack_from("<HH", data, offset)
        yield rtype, offset + 4, size
        offset += 4 + size


def _short_unicode(data: bytes, pos: int) -> str:
    """A BIFF8 ShortXLUnicodeString (sheet names)."""
    count, flags = data[pos], data[pos + 1]
    raw = data[pos + 2: pos + 2 + count * (2 if flags & 1 else 1)]
    return raw.decode("utf-16-le" if flags & 1 else "latin-1")


def _biff_hidden_rows(biff: bytes, offset: int, errors: list[tuple[int, str, str]] | None = None) -> set[int]:
    """Hidden rows of the sheet's substream; its error cells into errors: a FORMULA whose cached result is an
    error (FormulaValue: 0xFFFF in its last two bytes, type 2, the code in its third byte) or a BOOLERR
    holding an error constant."""
    hidden, depth = set(), 0
    for rtype, pos, size in _records(biff, offset):
        if rtype == _ROW and size >= 16:
            row, flags = struct.unpack_from("<H", biff, pos)[0], struct.unpack_from("<H", biff, pos + 12)[0]
            if flags & _ROW_HIDDEN_FLAG:
                hidden.add(row + 1)
        elif errors is not None and depth == 1 and (
                (rtype == _FORMULA and size >= 14 and biff[pos + 6] == 2 and biff[pos + 12:pos + 14] == b"\xff\xff")
                or (rtype == _BOOLERR and size >= 8 and biff[pos + 7] == 1)):
            row, col = struct.unpack_from("<HH", biff, pos)
            code = biff[pos + 8] if rtype == _FORMULA else biff[pos + 6]
            errors.append((row + 1, column_letter(col + 1), EXCEL_ERRORS.get(code, "")))
        elif rtype == _BOF:
            depth += 1          # embedded charts open their own substreams
        elif rtype == _EOF:
            depth -= 1
            if depth <= 0:
                break
    return hidden
