"""The bad-input suite: every file a clerk might hand us gives a Ledger or a LedgerError, never a traceback."""
from __future__ import annotations

import io
import random
import re
import shutil
import struct
import zipfile

import olefile
import pytest
from msoffcrypto.format.ooxml import OOXMLFile

from xl_automation.model import labels
from xl_automation.model.ledger import LedgerError, column_letter
from xl_automation.xlsx.reader import detect_format, read_ledger
from xl_automation.model.schema import BY_KEY, COLUMNS, HEADERS, SERVICE_COLUMNS

from support.cli import run as cli_run
from support.ledger_files import convert_with_soffice, ledger_layout, sample_row, sample_rows, write_layout, write_ledger

CJK = re.compile(r"[\u4e00-\u9fff]")


def ref(key: str, row: int) -> str:
    """The cell of a column in the standard layout (schema order)."""
    return f"{column_letter(HEADERS.index(BY_KEY[key].header) + 1)}{row}"


SERVICES_MERGED = f"{ref(SERVICE_COLUMNS[0].key, 3)}:{ref(SERVICE_COLUMNS[-1].key, 3)}"


def flat(ledger):
    return [(f.code, f.row, f.cell) for f in ledger.findings]


def read_error(path) -> LedgerError:
    """The LedgerError reading path raises; any other exception fails the test with its traceback."""
    with pytest.raises(LedgerError) as info:
        read_ledger(path)
    return info.value


# ---- files that cannot be used at all ------------------------------------------------------------

def _ledger_bytes(tmp_path) -> bytes:
    return write_ledger(tmp_path / "src.xlsx", sample_rows(3)).read_bytes()


def _replace_member(data: bytes, member: str, new: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, new if item.filename == member else src.read(item))
    return out.getvalue()


def _encrypted(tmp_path) -> bytes:
    out = io.BytesIO()
    with open(write_ledger(tmp_path / "plain.xlsx", sample_rows(2)), "rb") as f:
        OOXMLFile(f).encrypt("zibo1234", out)
    return out.getvalue()


def _plain_zip(tmp_path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("说明.txt", "不是工作簿")
    return out.getvalue()


def _damaged_deflate(tmp_path) -> bytes:
    data = bytearray(_ledger_bytes(tmp_path))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 40:start + 140] = random.Random(3).randbytes(100)
    return bytes(data)


BAD_FILES = {
    # name: (file name, contents from tmp_path or None for no file, expected code)
    "missing": ("台账.xlsx", None, "file-not-found"),
    "empty": ("台账.xlsx", lambda t: b"", "file-empty"),
    "random-bytes": ("台账.xlsx", lambda t: random.Random(1).randbytes(4096), "file-not-xlsx"),
    "text-renamed": ("台账.xlsx", lambda t: "受理编号,受理时间\nZLS01-1,2026-11-03\n".encode("gbk"), "file-not-xlsx"),
    "html-saved-as-xls": ("台账.xls", lambda t: "<html><table><tr><td>受理编号</td></tr></table>".encode(),
                          "file-not-xlsx"),
    "plain-zip": ("台账.xlsx", _plain_zip, "file-not-xlsx"),
    "truncated-zip": ("台账.xlsx", lambda t: _ledger_bytes(t)[:3000], "file-corrupt"),
    "damaged-deflate": ("台账.xlsx", _damaged_deflate, "file-corrupt"),
    "broken-sheet-xml": ("台账.xlsx", lambda t: _replace_member(
        _ledger_bytes(t), "xl/worksheets/sheet1.xml", b'<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0'),
        "file-corrupt"),
    "no-workbook-part": ("台账.xlsx", lambda t: _replace_member(_ledger_bytes(t), "xl/_rels/workbook.xml.rels",
                                                               b"<Relationships"), "file-corrupt"),
    "password": ("台账.xlsx", _encrypted, "file-encrypted"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_unusable_file(tmp_path, case):
    name, contents, code = BAD_FILES[case]
    path = tmp_path / name
    if contents is not None:
        path.write_bytes(contents(tmp_path))
    error = read_error(path)
    assert error.finding.code == code
    assert error.finding.severity == "error"
    assert str(error).startswith(f"{name}：")          # the one-line message names the file
    assert CJK.search(error.finding.message) and CJK.search(error.finding.hint)
    if code == "file-corrupt":
        assert "{detail}" not in error.finding.message and error.finding.message.split("：", 1)[1]


def test_folder_instead_of_file(tmp_path):
    """A folder given where the ledger is expected (a period folder dragged onto 校验台账.cmd, or a folder
    named like a workbook) is said to be a folder, in Chinese, not "Is a directory" with advice on
    read permissions (on Windows, opening a folder even raises "Permission denied")."""
    folder = tmp_path / "台账.xlsx"
    folder.mkdir()
    error = read_error(folder)
    assert error.finding.code == "file-is-folder"
    assert str(error).startswith("台账.xlsx：") and "文件夹" in str(error)
    assert "directory" not in str(error) and "权限" not in str(error)


@pytest.mark.parametrize("cut", [10, 200, -400, -22])
def test_truncated_files_never_escape(tmp_path, cut):
    data = _ledger_bytes(tmp_path)
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[:cut])
    assert read_error(path).finding.code == "file-corrupt"


def test_detect_format_shares_the_checks(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(_encrypted(tmp_path))
    with pytest.raises(LedgerError) as info:
        detect_format(path)
    assert info.value.finding.code == "file-encrypted"


# ---- a real legacy .xls (BIFF8), made by LibreOffice -------------------------------------------

@pytest.fixture(scope="module")
def legacy_xls(tmp_path_factory):
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: cannot make a real .xls")
    folder = tmp_path_factory.mktemp("xls")
    rows = sample_rows(5)
    source = write_ledger(folder / "台账.xlsx", rows, two_level=True, hidden_rows=[2])
    return convert_with_soffice(source, "xls", folder), rows


def _as_read(ledger):
    return ledger.format, ledger.sheet, [(r.excel_row, r.values) for r in ledger.rows], \
        [(f.code, f.row, f.cell) for f in ledger.findings]


@pytest.mark.libreoffice
def test_a_workbook_whose_extension_names_the_other_format_is_read_by_its_content(legacy_xls, tmp_path):
    """An .xls saved (or renamed) as 台账.xlsx, and an .xlsx named .xls, as systems export and people rename
    them: Excel opens both (with a warning); they were refused as damaged ("Could not find EOCD",
    "Invalid OLE signature"), while the same bytes under the right name were read."""
    xls, _ = legacy_xls
    xlsx = write_ledger(tmp_path / "src.xlsx", sample_rows(4))
    for source, wrong_name in ((xls, "导出.xlsx"), (xlsx, "导出.xls")):
        misnamed = tmp_path / wrong_name
        shutil.copyfile(source, misnamed)
        assert _as_read(read_ledger(misnamed)) == _as_read(read_ledger(source))
        done = cli_run("validate", misnamed, "--json", "--now", "2026-11-30 12:00", cwd=tmp_path)
        assert done.returncode in (0, 1) and "损坏" not in done.stderr, done.stderr
    # writing back is still refused for .xls content, by what the file is, with the file untouched
    misnamed = tmp_path / "导出.xlsx"
    before = misnamed.read_bytes()
    done = cli_run("validate", misnamed, "--annotate", "--now", "2026-11-30 12:00", cwd=tmp_path)
    assert done.returncode == 2 and "旧版 .xls" in done.stderr and misnamed.read_bytes() == before


@pytest.mark.libreoffice
def test_legacy_xls_is_read_and_marked(legacy_xls):
    path, rows = legacy_xls
    assert detect_format(path) == "xls"
    ledger = read_ledger(path)
    assert ledger.format == "xls"
    assert [r.values["request_id"] for r in ledger.rows] == [r["request_id"] for r in rows]
    assert [r.values["received_at"] for r in ledger.rows] == [r["received_at"] for r in rows]
    assert [r.values["svc_power"] for r in ledger.rows] == [r.get("svc_power") == labels.TICK for r in rows]
    assert [r.excel_row for r in ledger.rows] == [5, 6, 7, 8, 9]
    assert [(f.code, f.row) for f in ledger.findings] == [("header-merged", 3), ("row-hidden", 7)]
    assert SERVICES_MERGED in ledger.findings[0].message and "第 7 行" in ledger.findings[1].message


@pytest.mark.libreoffice
def test_legacy_xls_with_impossible_dimensions_is_corrupt(legacy_xls, tmp_path):
    """calamine would size its grid from this record and abort the process, so the probe that
    read_ledger runs first refuses it (checked through the probe alone, so a regression fails
    this test instead of killing the test run)."""
    path = tmp_path / "坏.xls"
    shutil.copy(legacy_xls[0], path)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        stream = bytearray(ole.openstream("Workbook").read())
        pos = 0
        while True:
            rtype, size = struct.unpack_from("<HH", stream, pos)
            if rtype == 0x0200:                                   # DIMENSIONS of the first sheet
                struct.pack_into("<I", stream, pos + 8, 0xB9F0E703)
                break
            pos += 4 + size
        ole.write_stream("Workbook", bytes(stream))
    with pytest.raises(LedgerError) as info:
        detect_format(path)
    assert info.value.finding.code == "file-corrupt" and labels.LEDGER_SHEET in info.value.finding.message


# ---- sheets -----------------------------------------------------------------------------------

# the contact form names six services in one row: enough to look like a header, yet never the ledger
FORM_GRID = [[labels.FORM_TITLE], ["办事需求", *(c.header for c in SERVICE_COLUMNS)],
             [BY_KEY["applicant"].header, "", BY_KEY["phone"].header, "", BY_KEY["address"].header]]


def test_no_ledger_sheet_and_no_header(tmp_path):
    layout = ledger_layout([], sheet="Sheet1", headers=["序号", "日期", "备注"],
                           extra_sheets={labels.FORM_SHEET: FORM_GRID})
    error = read_error(write_layout(tmp_path / "t.xlsx", layout))
    assert error.finding.code == "sheet-missing"
    assert f"“{labels.LEDGER_SHEET}”" in error.finding.message


def test_ledger_sheet_found_by_its_header(tmp_path):
    layout = ledger_layout(sample_rows(2), sheet="11月台账", extra_sheets={labels.FORM_SHEET: FORM_GRID})
    layout.sheets = {labels.FORM_SHEET: layout.sheets.pop(labels.FORM_SHEET), **layout.sheets}
    ledger = read_ledger(write_layout(tmp_path / "t.xlsx", layout))
    assert ledger.sheet == "11月台账" and len(ledger.rows) == 2
    assert flat(ledger) == [("sheet-fallback", None, None)]
    assert "“11月台账”" in ledger.findings[0].message and f"“{labels.LEDGER_SHEET}”" in ledger.findings[0].message


def test_ledger_sheet_without_header_row(tmp_path):
    layout = ledger_layout([], headers=["序号", "日期"], title_rows=2)
    error = read_error(write_layout(tmp_path / "t.xlsx", layout))
    assert error.finding.code == "header-missing"
    assert f"“{labels.LEDGER_SHEET}”" in error.finding.message


# ---- columns ----------------------------------------------------------------------------------

def test_missing_columns_one_finding_each_kind(tmp_path):
    dropped = {"received_at", "phone", "replied_at", "remarks", "posted_at", "check_result"}
    headers = [c.header for c in COLUMNS if c.key not in dropped]
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", sample_rows(2), headers=headers))
    assert flat(ledger) == [("column-missing", 3, None), ("column-optional-missing", 3, None)]
    required, optional = ledger.findings
    assert required.severity == "error" and optional.severity == "warning"
    for key in ("received_at", "phone", "replied_at"):
        assert BY_KEY[key].header in required.message
    for key in ("remarks", "posted_at"):
        assert BY_KEY[key].header in optional.message
    assert BY_KEY["check_result"].header not in required.message + optional.message
    assert len(ledger.rows) == 2 and ledger.rows[0].values["received_at"] is None


def test_duplicate_column(tmp_path):
    headers = [*HEADERS, "联系电话"]            # an alias of 联系方式, which is already there
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", sample_rows(2), headers=headers))
    extra = f"{column_letter(len(headers))}3"
    assert flat(ledger) == [("column-duplicate", 3, extra)]
    message = ledger.findings[0].message
    assert f"“{BY_KEY['phone'].header}”" in message and f"{ref('phone', 3)}、{extra}" in message
    assert ledger.columns["phone"] == HEADERS.index(BY_KEY["phone"].header) + 1


# ---- layouts and values clerks produce: read, with the right findings ---------------------------

def _fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


ALIASED = [{"received_at": "接收时间", "district": "区县"}.get(c.key, c.header) for c in COLUMNS]
FIRST = sample_row(0)
LAYOUTS = {
    # name: (layout options, changes to the first row, expected [(code, row, cell)], texts messages name)
    "title-rows": (dict(title_rows=6), {}, [], []),
    "reordered": (dict(headers=list(reversed(HEADERS))), {}, [], []),
    "aliases": (dict(headers=ALIASED), {},
                [("column-alias", 3, ref("received_at", 3)), ("column-alias", 3, ref("district", 3))],
                [["接收时间", BY_KEY["received_at"].header], ["区县", BY_KEY["district"].header]]),
    "merged-header": (dict(two_level=True), {}, [("header-merged", 3, SERVICES_MERGED.split(":")[0])],
                      [[SERVICES_MERGED, "A3:A4"]]),
    "full-width": ({}, {"phone": _fullwidth(FIRST["phone"]), "request_id": _fullwidth(FIRST["request_id"])},
                   [], []),
    "text-dates": ({}, {"received_at": f"{FIRST['received_at']:%Y年%m月%d日 %H:%M}",
                        "replied_at": f"{FIRST['replied_at']:%Y/%m/%d %H:%M}"}, [], []),
    "hidden-rows": (dict(hidden_rows=[1]), {}, [("row-hidden", 5, None)], [["第 5 行"]]),
}


@pytest.mark.parametrize("case", list(LAYOUTS))
def test_layouts_read_with_precise_findings(tmp_path, case):
    options, changes, expected, named = LAYOUTS[case]
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", [FIRST | changes, sample_row(1)], **options))
    assert flat(ledger) == expected
    for finding, texts in zip(ledger.findings, named, strict=True):
        assert finding.sheet == labels.LEDGER_SHEET and CJK.search(finding.message)
        for text in texts:
            assert text in finding.message
    keys = ("request_id", "phone", "received_at", "replied_at", "svc_water", "district")
    assert {k: ledger.rows[0].values[k] for k in keys} == {k: FIRST.get(k, False) if k != "svc_water"
                                                          else FIRST[k] == labels.TICK for k in keys}
    assert ledger.rows[1].values["request_id"] == sample_row(1)["request_id"]


# ---- a month of a busy window, ten times over ---------------------------------------------------

BIG = 10_000


@pytest.fixture(scope="module")
def big_ledger(tmp_path_factory):
    rows = sample_rows(BIG)
    path = write_ledger(tmp_path_factory.mktemp("big") / "big.xlsx", rows, hidden_rows=[BIG - 1])
    return read_ledger(path), rows


def test_ten_thousand_rows_read_completely(big_ledger):
    ledger, rows = big_ledger
    assert len(ledger.rows) == BIG
    assert [r.excel_row for r in ledger.rows] == list(range(4, BIG + 4))
    assert len({r.values["request_id"] for r in ledger.rows}) == BIG
    for i in (0, 1, BIG // 2, BIG - 1):
        values = ledger.rows[i].values
        assert values["request_id"] == rows[i]["request_id"]
        assert values["received_at"] == rows[i]["received_at"]
        assert values["replied_at"] == rows[i]["replied_at"]
        assert values["phone"] == rows[i]["phone"]
    assert flat(ledger) == [("row-hidden", BIG + 3, None)]
    assert ledger.rows[-1].hidden and not ledger.rows[-2].hidden


def test_a_decompression_bomb_is_refused_before_parsing(tmp_path):
    """An untrusted file that would unpack to gigabytes is refused from the zip directory alone."""
    import zipfile as zf
    from xl_automation.model.ledger import LedgerError
    bomb = tmp_path / "炸弹.xlsx"
    with zf.ZipFile(bomb, "w", zf.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b"0" * (1 << 20)
            for _ in range(60):
                f.write(chunk)
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(LedgerError) as e:
        read_ledger(bomb)
    assert e.value.finding.code == "file-too-large" and "炸弹.xlsx" in str(e.value)
