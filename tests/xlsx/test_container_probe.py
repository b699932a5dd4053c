"""Cheap refusals from the container's own directory: .xls (OLE + BIFF claims) and .xlsx (parts, sheets)."""
import random
import struct
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from support import mutate
from xl_automation.xlsx import ole_probe
from xl_automation.model.ledger import LedgerError
from xl_automation.xlsx.xlsx_probe import MAX_PARTS, probe

from support.ledger_files import write_ledger

from support.paths import CORPUS
GOOD_XLS = [CORPUS / "calamine" / n for n in ("biff5_write.xls", "merged_range.xls", "sst_continue.xls", "OOM_alloc.xls")] + \
    [CORPUS / "exceldatareader" / n for n in ("as3xls_BIFF5.xls", "Test_git_issue_224_simple_95.xls",
                                              "Test_Excel_OpenOffice.xls", "roo_1904_base.xls")]
SEED = CORPUS / "exceldatareader" / "Test_Excel_OpenOffice.xls"


def refused(path: Path) -> LedgerError:
    with pytest.raises(LedgerError) as e:
        probe(path)
    return e.value


@pytest.mark.parametrize("path", GOOD_XLS, ids=lambda p: p.name)
def test_real_xls_files_pass_the_checks(path):
    # OOM_alloc.xls claims 8 TB in the high half of a version-3 size, which MS-CFB says readers ignore
    assert probe(path).format == "xls"


def test_the_looping_file_is_refused_at_once_without_parsing():
    t = time.perf_counter()
    e = refused(CORPUS / "exceldatareader" / "Test_git_issue_382_oom.xls")
    assert e.finding.code == "file-corrupt" and "成环" in e.finding.message
    assert time.perf_counter() - t < 2


def test_a_sheet_claiming_the_whole_biff8_grid_is_refused():
    e = refused(CORPUS / "poi" / "51535.xls")
    assert e.finding.code == "file-too-large" and "Sheet1" in e.finding.message and "65,536 行" in e.finding.message


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_an_inflated_workbook_stream_size_is_refused(tmp_path):
    data = bytearray(SEED.read_bytes())
    i = data.find("Workbook".encode("utf-16-le"))
    struct.pack_into("<I", data, i + 120, 0x7FFFFFFF)
    e = refused(write(tmp_path, "大.xls", bytes(data)))
    assert e.finding.code == "file-too-large" and "2,048 MB" in e.finding.message and "KB" in e.finding.message


def test_a_directory_chain_pointing_at_itself_is_refused(tmp_path):
    data = bytearray(SEED.read_bytes())
    first_dir = struct.unpack_from("<I", data, 0x30)[0]
    fat = 512 + struct.unpack_from("<I", data, 0x4C)[0] * 512
    struct.pack_into("<I", data, fat + first_dir * 4, first_dir)
    assert refused(write(tmp_path, "环.xls", bytes(data))).finding.code == "file-corrupt"


def test_a_string_table_claiming_billions_of_strings_is_refused(tmp_path):
    data = bytearray(SEED.read_bytes())
    import olefile
    with olefile.OleFileIO(str(SEED)) as ole:
        biff = ole.openstream("Workbook").read()
    from xl_automation.xlsx.xlsx_probe import _records
    sst = next(pos for rtype, pos, size in _records(biff, 0) if rtype == 0x00FC)
    record = biff[sst - 4: sst + 8]
    at = bytes(data).find(record)
    assert at > 0, "the SST record lies in one sector of the seed"
    struct.pack_into("<I", data, at + 4 + 4, 0x7FFFFFFF)
    e = refused(write(tmp_path, "串.xls", bytes(data)))
    assert e.finding.code == "file-too-large" and "个字符串" in e.finding.message


def test_too_many_sheets_are_refused():
    with pytest.raises(LedgerError) as e:
        ole_probe.check_biff(Path("x.xls"), b"\0" * 100, {f"S{i}": 0 for i in range(300)}, None, {})
    assert e.value.finding.code == "file-too-large" and "300 个工作表" in e.value.finding.message
    ole_probe.check_biff(Path("x.xls"), b"\0" * 100, {f"S{i}": 0 for i in range(5)}, 10, {"S0": (100_000, 27)})


def test_an_xlsx_with_too_many_parts_or_sheets_is_refused(tmp_path):
    good = write_ledger(tmp_path / "good.xlsx")
    with zipfile.ZipFile(good) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    many = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(many, "w") as z:
        for n, d in parts.items():
            z.writestr(n, d)
        for i in range(MAX_PARTS):
            z.writestr(f"xl/media/x{i}.bin", b"")
    assert "个部件" in refused(many).finding.message
    book = parts["xl/workbook.xml"].decode()
    extra = "".join(f'<sheet name="S{i}" sheetId="{i + 10}" r:id="rId{i + 10}"/>' for i in range(300))
    sheets = tmp_path / "sheets.xlsx"
    with zipfile.ZipFile(sheets, "w") as z:
        for n, d in parts.items():
            z.writestr(n, book.replace("</sheets>", extra + "</sheets>") if n == "xl/workbook.xml" else d)
    e = refused(sheets)
    assert e.finding.code == "file-too-large" and "工作表" in e.finding.message


OLE_SEEDS = [p.read_bytes() for p in GOOD_XLS]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(range(len(OLE_SEEDS))), offset=st.integers(0x18, 4096),
       value=st.sampled_from([0, 1, 2, 7, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFA, 0x10000]))
def test_any_four_bytes_of_an_ole_header_or_directory_give_a_verdict_never_a_crash(tmp_path_factory, seed, offset, value):
    data = bytearray(OLE_SEEDS[seed])
    if offset + 4 > len(data):
        return
    struct.pack_into("<I", data, offset, value)
    path = tmp_path_factory.mktemp("h") / "f.xls"
    path.write_bytes(bytes(data))
    t = time.perf_counter()
    try:
        probe(path)
    except LedgerError as e:
        assert e.finding.code in ("file-corrupt", "file-too-large", "file-not-xlsx", "file-encrypted")
    assert time.perf_counter() - t < 5


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(sorted(mutate.OLE_MUTATORS)),
       which=st.sampled_from(range(len(OLE_SEEDS))))
def test_every_ole_mutation_gives_a_verdict(tmp_path_factory, seed, kind, which):
    data = mutate.OLE_MUTATORS[kind](OLE_SEEDS[which], random.Random(seed))
    path = tmp_path_factory.mktemp("m") / "f.xls"
    path.write_bytes(data)
    try:
        probe(path)
    except LedgerError:
        pass
