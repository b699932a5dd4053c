"""The promise of annotation in place, checked part by part: host workbooks from three writers, the corpus files a ledger can be grafted into, and what may differ after annotating (only the program's columns, appended styles, the annotation record)."""
from __future__ import annotations

import io
import json
import shutil
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import openpyxl
import python_calamine
import xlsxwriter
from lxml import etree

from support.grafting import LEDGER, annotation_parts, graft, ledger_differences, read_entries
from support.package_edits import rewrite, tiny_png
from support.paths import CORPUS
from xl_automation.cli import main as cli
from xl_automation.model import labels, schema
from xl_automation.xlsx.xlsx_cells import split_ref
from xl_automation.xlsx.xlsx_package import MAIN_NS

NOW = "2026-11-20 12:00"
PROGRAM_HEADERS = {c.header for c in schema.PROGRAM_COLUMNS}


def run_cli(path: Path, *extra: str) -> tuple[int, str, str]:
    """The CLI's own main(), in process (test_annotate_cases runs the real process too)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["validate", str(path), "--annotate", "--json", "--now", NOW, *extra])
    return code, out.getvalue(), err.getvalue()


def xlsxwriter_host(tmp: Path) -> Path:
    """Charts, a chart sheet, a picture, a text box, a button, sparklines, 2010 data bars, notes."""
    path = tmp / "xlsxwriter.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("数据")
    ws.write_row(0, 0, [3, 1, 4, 1, 5])
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=数据!$A$1:$E$1"})
    ws.insert_chart("B3", chart)
    ws.insert_image("H3", "dot.png", {"image_data": io.BytesIO(tiny_png())})
    ws.insert_textbox("H10", "文本框内容")
    ws.insert_button("H14", {"macro": "M", "caption": "按钮"})
    ws.add_sparkline("F1", {"range": "数据!A1:E1"})
    ws.conditional_format("A1:E1", {"type": "data_bar", "data_bar_2010": True})
    ws.write_comment("A1", "常显批注", {"visible": True, "author": ""})
    sheet = wb.add_chartsheet("图表")
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({"values": "=数据!$A$1:$E$1"})
    sheet.set_chart(pie)
    wb.close()
    return path


def openpyxl_host(tmp: Path) -> Path:
    """Hidden columns with widths, a note with an empty author, a defined name, a 1904 date system."""
    path = tmp / "openpyxl.xlsx"
    wb = openpyxl.Workbook()
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "说明"
    ws["A1"] = "本表说明"
    ws.column_dimensions["B"].width = 31.5
    ws.column_dimensions["C"].hidden = True
    ws["A2"].comment = openpyxl.comments.Comment("作者为空的批注", "")
    wb.defined_names["说明"] = openpyxl.workbook.defined_name.DefinedName("说明", attr_text="'说明'!$A$1")
    wb.save(path)
    return path


THREADED = ('<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
            '<threadedComment ref="A1" dT="2024-01-01T00:00:00.00" personId="{P1}" id="{T1}"><text>会话式批注</text>'
            '</threadedComment></ThreadedComments>')
PERSONS = ('<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
           '<person displayName="李娜" id="{P1}" userId="lina" providerId="None"/></personList>')
CUSTOM_XML = b'<?xml version="1.0"?><root xmlns="urn:example:custom"><item>\xe5\x8f\xb0\xe8\xb4\xa6</item></root>'


def handmade_host(tmp: Path) -> Path:
    """No calcPr (Tencent Docs, Numbers), threaded comments with their persons part, custom XML, a
    pivot-cache-like part no library models: all must come through byte for byte."""
    base = tmp / "base.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "数据"
    wb.save(base)
    book = etree.fromstring(read_entries(base)["xl/workbook.xml"])
    for calc in book.findall(f"{{{MAIN_NS}}}calcPr"):
        book.remove(calc)
    types = ('<Override PartName="/xl/threadedComments/threadedComment1.xml" '
             'ContentType="application/vnd.ms-excel.threadedcomments+xml"/>'
             '<Override PartName="/xl/persons/person.xml" ContentType="application/vnd.ms-excel.person+xml"/>'
             '<Override PartName="/customXml/itemProps1.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.customXmlProperties+xml"/>'
             '<Override PartName="/xl/pivotCache/pivotCacheRecords1.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheRecords+xml"/>')
    rels = ('<Relationship Id="rIdT" Type="http://schemas.microsoft.com/office/2017/10/relationships/threadedComment" '
            'Target="../threadedComments/threadedComment1.xml"/>')
    out = tmp / "handmade.xlsx"
    rewrite(base, out, {"xl/workbook.xml": lambda d: etree.tostring(book, xml_declaration=True, encoding="UTF-8"),
                        "[Content_Types].xml": lambda d: d.replace(b"</Types>", types.encode() + b"</Types>")},
            {"xl/worksheets/_rels/sheet1.xml.rels": (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                + rels + "</Relationships>").encode(),
             "xl/threadedComments/threadedComment1.xml": THREADED.encode(), "xl/persons/person.xml": PERSONS.encode(),
             "customXml/item1.xml": CUSTOM_XML, "customXml/itemProps1.xml": b'<ds:datastoreItem ds:itemID="{X}" '
             b'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"/>',
             "xl/pivotCache/pivotCacheRecords1.xml": b'<pivotCacheRecords xmlns="' + MAIN_NS.encode()
             + b'" count="0"/>'})
    return out


HOSTS = {"xlsxwriter": xlsxwriter_host, "openpyxl-1904": openpyxl_host, "handmade": handmade_host}
REFUSED_BY_READER = {"poc-xmlbomb.xlsx": "文件已损坏"}   # an entity bomb: the reader refuses before any write
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".xlsx", ".xlsm")) if CORPUS.exists() else []


def graftable(path: Path) -> bool:
    """A package with a workbook part to graft into (encrypted, broken and empty files are not)."""
    try:
        with zipfile.ZipFile(path) as z:
            if z.testzip() is not None:   # a damaged entry: the reader refuses it (test_corpus)
                return False
            names = set(z.namelist())
            if not {"_rels/.rels", "[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"} <= names:
                return False
            for name in ("_rels/.rels", "[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
                etree.fromstring(z.read(name))
            return bool(etree.fromstring(z.read("xl/workbook.xml")).find(".//{*}sheet") is not None)
    except (zipfile.BadZipFile, etree.XMLSyntaxError, OSError):
        return False


def check_patch(before_path: Path, after_path: Path, findings: list[dict]) -> list[str]:
    """Every difference between the grafted workbook and the annotated one the annotation may not make."""
    before, after = read_entries(before_path), read_entries(after_path)
    book = etree.fromstring(before["xl/workbook.xml"])
    ledger_rid = next(s.get(f"{{{s.nsmap.get('r') or 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'}}}id")
                      for s in book.iter(f"{{{MAIN_NS}}}sheet") if s.get("name") == LEDGER)
    rels = etree.fromstring(before["xl/_rels/workbook.xml.rels"])
    ledger_part = "xl/" + next(r.get("Target") for r in rels if r.get("Id") == ledger_rid)
    allowed = annotation_parts(before, after, ledger_part)
    problems = [f"part {name} changed" for name in before if name not in allowed and before[name] != after.get(name)]
    problems += [f"part {name} gone" for name in before if name not in after]
    header = {c.text for c in etree.fromstring(after[ledger_part]).iter(f"{{{MAIN_NS}}}t")}
    assert PROGRAM_HEADERS <= header
    program_cols = _program_columns(after[ledger_part])
    marked = {f["cell"].replace("$", "") for f in findings if f.get("cell") and f.get("sheet") in (None, LEDGER)}
    problems += ledger_differences(before[ledger_part], after[ledger_part], marked, program_cols)
    problems += _styles_only_appended(before.get("xl/styles.xml"), after.get("xl/styles.xml"))
    problems += _workbook_only_gains_record(before["xl/workbook.xml"], after["xl/workbook.xml"])
    return problems


def _program_columns(sheet: bytes) -> set[int]:
    out = set()
    for c in etree.fromstring(sheet).iter(f"{{{MAIN_NS}}}c"):
        text = "".join(t.text or "" for t in c.iter(f"{{{MAIN_NS}}}t"))
        if text in PROGRAM_HEADERS:
            out.add(split_ref(c.get("r"))[1])
    return out


def _styles_only_appended(before: bytes | None, after: bytes | None) -> list[str]:
    if before is None:
        return []
    out = []
    b, a = etree.fromstring(before), etree.fromstring(after)
    for holder in ("cellXfs", "fills", "fonts", "borders", "numFmts", "dxfs", "cellStyleXfs"):
        old, new = b.find(f"{{{MAIN_NS}}}{holder}"), a.find(f"{{{MAIN_NS}}}{holder}")
        old_items = [etree.tostring(x) for x in old] if old is not None else []
        new_items = [etree.tostring(x) for x in new] if new is not None else []
        if new_items[:len(old_items)] != old_items:
            out.append(f"styles: existing {holder} entries renumbered or changed")
    return out


def _workbook_only_gains_record(before: bytes, after: bytes) -> list[str]:
    def outline(data: bytes) -> list[bytes]:
        root = etree.fromstring(data)
        for el in list(root.iter(f"{{{MAIN_NS}}}sheet", f"{{{MAIN_NS}}}calcPr")):
            if el.tag.endswith("calcPr") or el.get("name") == labels.ANNOTATION_SHEET:
                el.getparent().remove(el)
        return [etree.tostring(c) for c in root]
    return [] if outline(before) == outline(after) else ["workbook part: more changed than the record sheet"]


def calamine_sheets(path: Path) -> dict[str, int | str]:
    """Rows calamine reads in each sheet (or its error)."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    out: dict[str, int | str] = {}
    for name in book.sheet_names:
        try:
            out[name] = len(book.get_sheet_by_name(name).to_python())
        except python_calamine.CalamineError as exc:
            out[name] = f"error: {exc}"
    return out


def readers_open(before: Path, after: Path) -> None:
    """openpyxl reads the annotated workbook; python-calamine reads every sheet it read before, and the
    ledger and the record sheet."""
    wb = openpyxl.load_workbook(after, keep_vba=after.suffix == ".xlsm")
    assert LEDGER in wb.sheetnames and wb[labels.ANNOTATION_SHEET].sheet_state == "veryHidden"
    old, new = calamine_sheets(before), calamine_sheets(after)
    assert {n: v for n, v in new.items() if n in old} == old
    assert isinstance(new[LEDGER], int) and isinstance(new[labels.ANNOTATION_SHEET], int)


def annotate_twice(tmp_path: Path, host: Path) -> tuple[Path, Path, list[dict]]:
    grafted = graft(host, tmp_path / f"台账-{host.stem}{host.suffix}")
    before = tmp_path / f"before{host.suffix}"
    shutil.copy(grafted, before)
    code, out, err = run_cli(grafted)
    assert code in (0, 1), (err, out[-500:])
    summary = json.loads(out)
    assert summary["annotated"]["path"] == str(grafted) and not summary["annotated"]["copy"]
    first = grafted.read_bytes()
    assert run_cli(grafted)[0] == code
    assert grafted.read_bytes() == first, "the second run changed bytes"
    return before, grafted, summary["findings"]
