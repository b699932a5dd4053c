"""The styles part, extended only: cell formats and fills are appended, never renumbered, and an identical
format already there (e.g. appended by the previous run) is used again, so a second run adds nothing."""
from __future__ import annotations

from copy import deepcopy

from lxml import etree

from xl_automation.xlsx.xlsx_package import CT_STYLES, MAIN_NS, PARSER, Package, local, q

MINIMAL = (f'<styleSheet xmlns="{MAIN_NS}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
           '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>')


def canonical(el: etree._Element) -> tuple:
    """What an element says, independent of prefixes and attribute order."""
    return (local(el.tag), tuple(sorted((local(k), v) for k, v in el.attrib.items())),
            (el.text or "").strip(), tuple(canonical(c) for c in el if isinstance(c.tag, str)))


def plain_xml(el: etree._Element) -> str:
    """An element as namespace-free XML: the form the record keeps fills in (openpyxl and VBA read it)."""
    def strip(node: etree._Element) -> etree._Element:
        out = etree.Element(local(node.tag), {local(k): v for k, v in node.attrib.items()})
        out.text = node.text
        for child in node:
            if isinstance(child.tag, str):
                out.append(strip(child))
        return out
    return etree.tostring(strip(el), encoding="unicode")


def _in_main(node: etree._Element) -> etree._Element:
    out = etree.Element(q(local(node.tag)), dict(node.attrib))
    out.text = node.text
    for child in node:
        if isinstance(child.tag, str):
            out.append(_in_main(child))
    return out


def solid(rgb: str) -> etree._Element:
    fill = etree.Element(q("fill"))
    pattern = etree.SubElement(fill, q("patternFill"), patternType="solid")
    etree.SubElement(pattern, q("fgColor"), rgb=rgb)
    etree.SubElement(pattern, q("bgColor"), rgb=rgb)
    return fill


class Styles:
    """Cell formats (cellXfs) and fills of the workbook's styles part."""

    def __init__(self, pkg: Package, workbook: str):
        self.pkg = pkg
        part = pkg.target(workbook, "styles")
        if part is None or not pkg.has(part):
            part = part or "xl/styles.xml"
            pkg.put(part, MINIMAL.encode())
            if pkg.target(workbook, "styles") is None:
                pkg.add_rel(workbook, "styles", part)
            pkg.set_override(part, CT_STYLES)
        self.part = part
        self.root = pkg.xml(part)
        self.fills = self._list("fills", 0)
        self.xfs = self._list("cellXfs", 3)
        self._fill_ids = {}
        for i, f in enumerate(self.fills):
            self._fill_ids.setdefault(canonical(f), i)
        self._xf_ids = {}
        for i, x in enumerate(self.xfs):
            self._xf_ids.setdefault(canonical(x), i)
        self._fill_free: dict[int, tuple] = {}
        self.changed = False

    def _list(self, name: str, rank: int) -> etree._Element:
        holder = self.root.find(q(name))
        if holder is None:   # fills and cellXfs come after numFmts/fonts; append keeps them in order
            holder = etree.SubElement(self.root, q(name))
            if name == "fills":
                holder.append(etree.fromstring(f'<fill xmlns="{MAIN_NS}"><patternFill patternType="none"/></fill>'))
            else:
                etree.SubElement(holder, q("xf"), numFmtId="0", fontId="0", fillId="0", borderId="0")
            later = [c for c in self.root if local(c.tag) in ("cellStyles", "dxfs", "tableStyles", "colors", "extLst")]
            if later:
                later[0].addprevious(holder)
        return holder

    def xf(self, index: int) -> etree._Element:
        return self.xfs[index] if 0 <= index < len(self.xfs) else self.xfs[0]

    def _fill_of(self, index: int) -> etree._Element | None:
        fill_id = int(self.xf(index).get("fillId", 0))
        return self.fills[fill_id] if 0 <= fill_id < len(self.fills) else None

    def fill_xml(self, index: int) -> str:
        """The fill cell format `index` shows, as the record keeps it; "" for no fill."""
        fill = self._fill_of(index)
        return "" if fill is None or _is_plain(fill) else plain_xml(fill)

    def solid_rgb(self, index: int) -> str | None:
        """The colour of a solid fill (None for any other fill)."""
        fill = self._fill_of(index)
        pattern = None if fill is None else fill.find(q("patternFill"))
        if pattern is None or pattern.get("patternType") != "solid":
            return None
        colour = pattern.find(q("fgColor"))
        return None if colour is None else colour.get("rgb")

    def _fill_id(self, fill: str | etree._Element) -> int:
        """The index of a fill: "" (none), a recorded fill's XML, or an element; appended when new."""
        if isinstance(fill, str):
            if not fill:
                plain = [i for i, f in enumerate(self.fills) if _is_plain(f)]
                if plain:
                    return plain[0]
                fill = etree.fromstring(f'<fill xmlns="{MAIN_NS}"><patternFill patternType="none"/></fill>')
            else:
                fill = _in_main(etree.fromstring(fill.encode(), PARSER))
        return self._index(self.fills, self._fill_ids, fill)

    def with_fill(self, index: int, fill: str | etree._Element) -> int:
        """The cell format that is `index` with another fill (an existing identical one when there is one)."""
        base = self.xf(index)
        fill_id = self._fill_id(fill)
        if int(base.get("fillId", 0)) == fill_id:
            return index if 0 <= index < len(self.xfs) else 0
        xf = deepcopy(base)
        xf.set("fillId", str(fill_id))
        xf.set("applyFill", "1")
        return self._index(self.xfs, self._xf_ids, xf)

    def _index(self, holder: etree._Element, known: dict[tuple, int], item: etree._Element) -> int:
        """The index of an identical entry, or of `item` appended (existing entries never move)."""
        key = canonical(item)
        if key not in known:
            holder.append(item)
            known[key] = len(holder) - 1
            holder.set("count", str(len(holder)))
            self.changed = True
        return known[key]

    def same_but_fill(self, a: int, b: int) -> bool:
        """True when two cell formats differ at most in their fill."""
        return 0 <= a < len(self.xfs) and self._without_fill(a) == self._without_fill(b)

    def _without_fill(self, index: int) -> tuple:
        if index not in self._fill_free:
            xf = deepcopy(self.xf(index))
            for attr in ("fillId", "applyFill"):
                xf.attrib.pop(attr, None)
            self._fill_free[index] = canonical(xf)
        return self._fill_free[index]

    def save(self) -> None:
        if self.changed:
            self.pkg.save_xml(self.part, self.root)


def _is_plain(fill: etree._Element) -> bool:
    pattern = fill.find(q("patternFill"))
    return pattern is not None and pattern.get("patternType", "none") == "none"
