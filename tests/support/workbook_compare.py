"""Part-by-part semantic comparison of two workbook packages, with readable diffs.

Parts are matched by what they are (sheet "受理台账", its comments, table "渠道表", the VBA project),
not by file name, because writers name parts differently. Each part is reduced to canonical text:
shared strings and style indices resolved, relationship ids replaced by what they point at,
attributes sorted, writer defaults and timestamps dropped. Binary parts compare by bytes.
"""
from __future__ import annotations

import difflib
import hashlib
import posixpath
import re
import zipfile
from pathlib import Path
from typing import Callable, Iterable
from xml.etree import ElementTree as ET

from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries

from xl_automation.xlsx.fileio import content_types, read_parts, rels_of, sheet_parts, vml_shapes, workbook_part
from xl_automation.model.ledger import column_letter

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
DROP_ATTRS = {"spans", "dyDescent", "count", "Ignorable", "space", "uid"}
# (element, attribute, writer default): a missing attribute and its default mean the same
DEFAULTS = {
    ("outlinePr", "summaryBelow", "1"), ("outlinePr", "summaryRight", "1"), ("sheetFormatPr", "baseColWidth", "8"),
    ("dataValidation", "showDropDown", "0"), ("dataValidation", "allowBlank", "0"),
    ("dataValidation", "showInputMessage", "0"), ("dataValidation", "showErrorMessage", "0"),
    ("dataValidation", "errorStyle", "stop"), ("dataValidation", "type", "none"),
    ("sheet", "state", "visible"), ("workbookView", "visibility", "visible"), ("workbookView", "minimized", "0"),
    ("workbookView", "showHorizontalScroll", "1"), ("workbookView", "showVerticalScroll", "1"),
    ("workbookView", "showSheetTabs", "1"), ("workbookView", "tabRatio", "600"), ("workbookView", "firstSheet", "0"),
    ("workbookView", "activeTab", "0"), ("workbookView", "autoFilterDateGrouping", "1"),
    ("cfRule", "stopIfTrue", "0"), ("patternFill", "patternType", "none"), ("table", "headerRowCount", "1"),
    ("b", "val", "1"), ("i", "val", "1"), ("strike", "val", "1"), ("u", "val", "single"), ("c", "t", "n"),
    ("selection", "activeCell", "A1"), ("selection", "sqref", "A1"), ("col", "style", "0"),
    ("pageSetup", "orientation", "default"),
}
# attributes openpyxl drops that change nothing the user sees
HARMLESS = {"workbookPr@defaultThemeVersion", "workbookPr@filterPrivacy"}
# elements that say nothing about the content
NOISE = {"fileVersion", "AlternateContent", "revisionPtr", "extLst", "calcChain"}
TIMESTAMPS = {"modified", "created", "lastPrinted"}
# elements that mean nothing when empty (writers add or omit them)
OPTIONAL = {"pageSetUpPr", "sheetPr", "definedNames", "selection", "outlinePr", "extLst", "sheetFormatPr"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kind(rel_type: str) -> str:
    return rel_type.rsplit("/", 1)[-1]


def _number(value: str) -> str:
    if value in ("true", "false"):
        value = "1" if value == "true" else "0"
    try:
        return repr(float(value)) if re.fullmatch(r"-?(0|[1-9]\d*)(\.\d+)?", value) else value
    except ValueError:
        return value


_DEFAULTS = {(tag, attr, _number(value)) for tag, attr, value in DEFAULTS}


def _is_default(tag: str, attr: str, value: str) -> bool:
    return (tag, attr, _number(value)) in _DEFAULTS


class Package:
    """A workbook package, read once, with its parts indexed by meaning."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.parts = read_parts(path)
        self.types = content_types(self.parts)
        self.workbook = workbook_part(self.parts)
        self.sheets = sheet_parts(self.parts)
        self.strings = self._shared_strings()
        self.styles = self._styles()
        self.logical = self._logical()

    def _shared_strings(self) -> list[ET.Element]:
        target = next((t for _, rt, t, _ in rels_of(self.parts, self.workbook) if rt.endswith("/sharedStrings")), None)
        if not target or target not in self.parts:
            return []
        return list(ET.fromstring(self.parts[target]).iter(MAIN + "si"))

    def _styles(self) -> list[str]:
        """Each cellXfs entry as canonical text of what it means (font, fill, border, format...)."""
        target = next((t for _, rt, t, _ in rels_of(self.parts, self.workbook) if rt.endswith("/styles")), None)
        if not target or target not in self.parts:
            return []
        root = ET.fromstring(self.parts[target])
        def listed(name, item):
            holder = root.find(MAIN + name)
            return [] if holder is None else list(holder.findall(MAIN + item))
        fonts, fills, borders = listed("fonts", "font"), listed("fills", "fill"), listed("borders", "border")
        formats = {f.get("numFmtId"): f.get("formatCode") for f in listed("numFmts", "numFmt")}
        out = []
        for xf in listed("cellXfs", "xf"):
            pick = lambda seq, key: _flat(seq[int(xf.get(key, 0))]) if seq and int(xf.get(key, 0)) < len(seq) else ""
            fmt = xf.get("numFmtId", "0")
            extra = " ".join(_flat(c) for c in xf)
            out.append(f"numFmt={formats.get(fmt, fmt)} font={pick(fonts, 'fontId')} fill={pick(fills, 'fillId')} "
                       f"border={pick(borders, 'borderId')} {extra}".strip())
        return out

    def _logical(self) -> dict[str, str]:
        """Meaningful name -> part name."""
        names = {"workbook": self.workbook}
        for _, rtype, target, mode in rels_of(self.parts, self.workbook):
            kind = _kind(rtype)
            if mode != "External" and kind in ("styles", "theme", "vbaProject", "externalLink", "pivotCacheDefinition"):
                several = kind in ("externalLink", "pivotCacheDefinition")
                names[f"{kind}:{posixpath.basename(target)}" if several else kind] = target
        for name, part in self.sheets.items():
            names[f"sheet:{name}"] = part
            for _, rtype, target, mode in rels_of(self.parts, part):
                kind = _kind(rtype)
                if mode == "External" or target not in self.parts:
                    continue
                if kind == "table":
                    table = ET.fromstring(self.parts[target])
                    names[f"sheet:{name}/table:{table.get('displayName')}"] = target
                elif kind in ("comments", "vmlDrawing", "drawing", "threadedComments"):
                    names[f"sheet:{name}/{kind}"] = target
        for _, rtype, target, _ in rels_of(self.parts, ""):
            kind = _kind(rtype)
            if kind in ("core-properties", "extended-properties", "custom-properties", "extensibility"):
                names[f"package:{kind}"] = target
        claimed = set(names.values())
        for part in self.parts:
            if part not in claimed and not part.endswith(".rels") and part != "[Content_Types].xml" \
                    and not part.startswith(("xl/sharedStrings", "xl/calcChain", "xl/printerSettings")):
                names.setdefault(f"part:{part}", part)
        return names

    # -- canonical text ------------------------------------------------------------------
    def canonical(self, name: str, *, mask: Callable[[str], bool] | None = None,
                  ignore_sheets: Iterable[str] = (), ignore_attrs: Iterable[str] = ()) -> list[str]:
        part = self.logical[name]
        data = self.parts[part]
        head = [f"content-type: {self.types.get(part, '')}"]
        if name.endswith("/vmlDrawing"):
            return head + _vml_lines(data)
        if name.endswith("/comments"):
            return head + self._comment_lines(data)
        if not data.lstrip().startswith(b"<"):
            return head + [f"bytes sha256 {hashlib.sha256(data).hexdigest()} ({len(data)} bytes)"]
        root = ET.fromstring(data)
        rels = {rid: (_kind(rt), t) for rid, rt, t, _ in rels_of(self.parts, part)}
        if name.startswith("sheet:"):
            self._resolve_cells(root, mask)
        if name == "workbook":
            for holder in root.findall(MAIN + "sheets"):
                for sheet in list(holder):
                    if sheet.get("name") in set(ignore_sheets):
                        holder.remove(sheet)
        lines: list[str] = []
        _emit(root, rels, self, lines, 0, set(ignore_attrs), mask)
        return head + lines

    def _resolve_cells(self, root: ET.Element, mask) -> None:
        data = root.find(MAIN + "sheetData")
        if data is None:
            return
        # the hidden cells of a merged range carry no content; writers style them differently
        covered = set()
        for merge in root.iter(MAIN + "mergeCell"):
            c1, r1, c2, r2 = range_boundaries(merge.get("ref"))
            covered |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)} - {(r1, c1)}
        for row in list(data):
            for c in list(row):
                ref = c.get("r", "")
                empty = not any(_local(x.tag) in ("v", "f", "is") and (x.text or len(x)) for x in c)
                if (mask and mask(ref)) or (empty and coordinate_to_tuple(ref) in covered):
                    row.remove(c)
                    continue
                style = int(c.attrib.pop("s", "0"))
                c.set("style", self.styles[style] if style < len(self.styles) else f"#{style}")
                if c.get("t") == "s":
                    v = c.find(MAIN + "v")
                    si = self.strings[int(v.text)]
                    c.remove(v)
                    c.set("t", "inlineStr")
                    holder = ET.SubElement(c, MAIN + "is")
                    holder.extend(list(si))
                for v in c.findall(MAIN + "v"):
                    if not (v.text or ""):
                        c.remove(v)
            if mask and not len(row) and not any(k for k in row.attrib if k not in ("r", "spans")):
                data.remove(row)

    def _comment_lines(self, data: bytes) -> list[str]:
        root = ET.fromstring(data)
        authors = [a.text or "" for a in root.iter(MAIN + "author")]
        out = []
        for c in root.iter(MAIN + "comment"):
            text = "".join(t.text or "" for t in c.iter(MAIN + "t"))
            out.append(f"{c.get('ref')} author={authors[int(c.get('authorId', 0))]!r} text={text!r}")
        return sorted(out)


def _flat(el: ET.Element) -> str:
    tag = _local(el.tag)
    attrs = " ".join(f"{_local(k)}={_number(v)}" for k, v in sorted(el.attrib.items())
                     if not _is_default(tag, _local(k), v))
    children = list(el)
    if _local(el.tag) in ("font", "rPr"):   # writers order a font's properties differently
        children.sort(key=lambda c: _local(c.tag))
    inner = "".join(_flat(c) for c in children)
    text = (el.text or "").strip()
    return f"<{_local(el.tag)} {attrs}>{text}{inner}</>" if attrs else f"<{_local(el.tag)}>{text}{inner}</>"


def _emit(el, rels, pkg: Package, out: list[str], depth: int, ignore_attrs: set[str], mask) -> None:
    tag = _local(el.tag)
    if tag in NOISE:
        return
    attrs = {}
    for key, value in el.attrib.items():
        local = _local(key)
        if key == R_ID:
            kind, target = rels.get(value, ("?", value))
            if kind == "table" and target in pkg.parts:
                target = "table:" + (ET.fromstring(pkg.parts[target]).get("displayName") or "")
            elif kind in ("comments", "vmlDrawing", "drawing"):
                target = kind
            attrs["r:id"] = f"{kind}->{target}"
            continue
        name = f"{tag}@{local}"
        if local in DROP_ATTRS or local in TIMESTAMPS or name in ignore_attrs or name in HARMLESS \
                or _is_default(tag, local, value) or name == "table@id":   # writers renumber table ids
            continue
        if tag == "dimension" and local == "ref" and ":" in value and len(set(value.split(":"))) == 1:
            value = value.split(":")[0]
        attrs[local] = _number(value)
    children = list(el)
    if tag == "cols" and mask:
        children = [c for c in children if not mask(f"{column_letter(int(c.get('min', 1)))}1")]
    text = (el.text or "").strip()
    if tag in TIMESTAMPS or (tag == "dimension" and mask):
        return
    inner: list[str] = []
    for child in children:
        _emit(child, rels, pkg, inner, depth + 1, ignore_attrs, mask)
    if not inner and not text and not attrs and depth > 0 and tag in OPTIONAL:
        return   # an element left with nothing to say after the defaults went
    line = "  " * depth + f"<{tag}" + "".join(f' {k}="{v}"' for k, v in sorted(attrs.items())) + ">"
    out.append(line + (f" {text}" if text else ""))
    out.extend(inner)


def _vml_lines(data: bytes) -> list[str]:
    """Notes by position and size; every other shape (buttons...) in full, without its id."""
    out = []
    root = ET.fromstring(data)
    for shape, info in zip(root.iter("{urn:schemas-microsoft-com:vml}shape"), vml_shapes(data)):
        if info["type"] == "Note":
            out.append(f"note row={info['row']} col={info['column']} width={info['width']:.0f} "
                       f"height={info['height']:.0f} visible={info['visible']}")
        else:
            copy = ET.fromstring(ET.tostring(shape))
            copy.attrib.pop("id", None)
            copy.attrib.pop("{urn:schemas-microsoft-com:office:office}spid", None)
            out.append(f"shape {info['type']}: {_flat(copy)}")
    return sorted(out)


def compare(expected: Path | str | Package, actual: Path | str | Package, *, skip: Iterable[str] = (),
            masks: dict[str, Callable[[str], bool]] | None = None, ignore_sheets: Iterable[str] = (),
            ignore_attrs: Iterable[str] = ()) -> list[str]:
    """Differences between two packages, one readable block per differing part; [] when they match.

    skip: logical names not compared (prefix match); masks: per sheet, cell refs left out;
    ignore_sheets: sheets expected only in `actual`; ignore_attrs: "element@attribute" left out.
    """
    a = expected if isinstance(expected, Package) else Package(expected)
    b = actual if isinstance(actual, Package) else Package(actual)
    masks = masks or {}
    skip = tuple(skip) + tuple(f"sheet:{s}" for s in ignore_sheets)
    problems = []
    for name in sorted(set(a.logical) | set(b.logical)):
        if name.startswith(skip):
            continue
        if name not in a.logical or name not in b.logical:
            problems.append(f"{name}: only in {'actual' if name in b.logical else 'expected'}")
            continue
        mask = next((m for s, m in masks.items() if name == f"sheet:{s}"), None)
        left = a.canonical(name, mask=mask, ignore_sheets=ignore_sheets, ignore_attrs=ignore_attrs)
        right = b.canonical(name, mask=mask, ignore_sheets=ignore_sheets, ignore_attrs=ignore_attrs)
        if left != right:
            diff = difflib.unified_diff(left, right, "expected", "actual", n=2, lineterm="")
            problems.append(f"{name} ({a.logical[name]} vs {b.logical[name]}):\n" + "\n".join(list(diff)[:80]))
    return problems


def identical_parts(first: Path | str, second: Path | str) -> list[str]:
    """Parts whose bytes differ between two packages (names included), with a diff for XML parts."""
    with zipfile.ZipFile(first) as za, zipfile.ZipFile(second) as zb:
        pa = {n: za.read(n) for n in za.namelist()}
        pb = {n: zb.read(n) for n in zb.namelist()}
    problems = [f"{n}: only in {'second' if n in pb else 'first'}" for n in sorted(set(pa) ^ set(pb))]
    for n in sorted(set(pa) & set(pb)):
        if pa[n] != pb[n]:
            left = pa[n].decode("utf-8", "replace").replace("><", ">\n<").splitlines()
            right = pb[n].decode("utf-8", "replace").replace("><", ">\n<").splitlines()
            problems.append(f"{n}:\n" + "\n".join(list(difflib.unified_diff(left, right, n=1, lineterm=""))[:40]))
    return problems
