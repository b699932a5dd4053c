"""The build: committed workbooks fresh and reproducible, packages whole, the pinned xlwings inside,
the macro workbook safe for the CLI, and .cmd wrappers that call real commands."""
from __future__ import annotations

import re
import shlex
import shutil
import tomllib
import zipfile
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import python_calamine as calamine

from support.workbook_compare import identical_parts
from xl_automation.excel import build as B
from xl_automation.xlsx import fileio
from xl_automation.model import labels
from xl_automation.excel.build_vba import MAIN_TYPES, XLWINGS_VERSION, BuildError, add_vba, xlwings_bas
from xl_automation.cli.main import build_parser
from xl_automation.xlsx.ledger_check import check_file
from xl_automation.xlsx.template import TEMPLATE_FILE, default_config

from support.paths import ROOT as REPO
REBUILD = "python -m xl_automation build ."
NOW = datetime(2026, 11, 20, 12, 0)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("build")
    B.build(root, macros=REPO / "macros")
    return root


def built_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "workbook").iterdir())


def test_committed_workbooks_are_fresh(fresh):
    committed = REPO / "workbook"
    assert built_files(fresh) == sorted(p.name for p in committed.iterdir()), f"workbook/ is stale; run: {REBUILD}"
    for name in built_files(fresh):
        if name.endswith(".cmd"):
            assert (committed / name).read_bytes() == (fresh / "workbook" / name).read_bytes(), \
                f"workbook/{name} is stale; run: {REBUILD}"
        else:
            problems = identical_parts(committed / name, fresh / "workbook" / name)
            assert not problems, f"workbook/{name} is stale; run: {REBUILD}\n" + "\n".join(problems)
    assert (REPO / "templates" / TEMPLATE_FILE).read_bytes() == (fresh / "templates" / TEMPLATE_FILE).read_bytes()


def test_rebuild_gives_the_same_bytes(fresh, tmp_path):
    B.build(tmp_path, macros=REPO / "macros")
    for name in built_files(fresh):
        assert (tmp_path / "workbook" / name).read_bytes() == (fresh / "workbook" / name).read_bytes(), name
        if not name.endswith(".cmd"):
            with zipfile.ZipFile(fresh / "workbook" / name) as z:
                assert {i.date_time for i in z.infolist()} == {(2026, 11, 1, 0, 0, 0)}
                core = z.read("docProps/core.xml").decode()
                assert re.findall(r"<dcterms:\w+ [^>]*>([^<]+)<", core) == ["2026-11-01T00:00:00Z"] * 2


def test_the_pinned_xlwings_is_what_is_embedded():
    import xlwings
    pins = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert f"xlwings=={XLWINGS_VERSION}" in pins["build"] and f"xlwings=={XLWINGS_VERSION}" in pins["excel"]
    assert "pyOpenVBA==6.5.0" in pins["build"]
    assert xlwings.__version__ == XLWINGS_VERSION
    source = xlwings_bas()
    assert f'XLWINGS_VERSION As String = "{XLWINGS_VERSION}"' in source
    assert f"xlwings64-{XLWINGS_VERSION}.dll" in source


def test_build_refuses_another_xlwings_and_non_ascii_macros(tmp_path, monkeypatch):
    import xlwings
    monkeypatch.setattr(xlwings, "__version__", "0.30.0")
    with pytest.raises(BuildError, match="固定版本 0.37.8"):
        xlwings_bas()
    monkeypatch.undo()
    base = tmp_path / "base.xlsm"
    import xlsxwriter
    xlsxwriter.Workbook(str(base)).close()
    with pytest.raises(BuildError, match="非 ASCII"):
        add_vba(base, tmp_path / "x.xlsm", ['Attribute VB_Name = "M"\nSub A()\n  MsgBox "校验"\nEnd Sub\n'],
                when=NOW)


def _content_type(parts: dict[str, bytes], part: str) -> str:
    return fileio.content_types(parts).get(part, "")


@pytest.mark.parametrize("name", sorted(B.MODULES))
def test_package_is_whole(fresh, name):
    """Every part typed, every relationship resolving, the project related, code names declared."""
    path = fresh / "workbook" / name
    parts = fileio.read_parts(path)
    types = fileio.content_types(parts)
    assert all(types[p] for p in parts if p != "[Content_Types].xml"), "a part without a content type"
    ct = ET.fromstring(parts["[Content_Types].xml"])
    for override in ct.iter(f"{fileio.CT}Override"):
        assert override.get("PartName").lstrip("/") in parts
    for part in ["", *parts]:
        for _, rtype, target, mode in fileio.rels_of(parts, part):
            assert mode == "External" or target in parts, f"{part} -> {target}"
    workbook = fileio.workbook_part(parts)
    assert types[workbook] == MAIN_TYPES[Path(name).suffix]
    projects = [t for _, rt, t, _ in fileio.rels_of(parts, workbook) if rt.endswith("/vbaProject")]
    assert projects == ["xl/vbaProject.bin"] and types["xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
    import olefile
    project = olefile.OleFileIO(parts["xl/vbaProject.bin"]).openstream("PROJECT").read().decode("cp1252")
    documents = set(re.findall(r"^Document=([^/\r\n]+)/", project, re.M))
    names = [re.search(r'codeName="([^"]+)"', parts[p].decode()).group(1)
             for p in [workbook, *fileio.sheet_parts(parts).values()]]
    assert set(names) == documents
    assert set(re.findall(r"^Module=(\S+)", project, re.M)) == {"xlwings", *B.MODULES[name]}


def test_ledger_workbook_is_the_template_with_buttons(fresh):
    """Same sheets and cells as the committed template, plus the submissions-folder setting."""
    def cells(path: Path) -> dict[str, list]:
        with calamine.CalamineWorkbook.from_path(str(path)) as wb:
            return {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names}
    xlsm, xlsx = cells(fresh / "workbook" / B.LEDGER_BOOK), cells(fresh / "templates" / TEMPLATE_FILE)
    assert list(xlsm) == list(xlsx)
    info = xlsm.pop(labels.INFO_SHEET)
    template_info = xlsx.pop(labels.INFO_SHEET)
    assert xlsm == xlsx
    keys = len(labels.INFO_KEYS)
    assert [line[:2] for line in info[:keys]] == [line[:2] for line in template_info[:keys]]
    assert info[keys][:2] == [labels.INFO_SUBMIT_DIR, ""]
    wb = openpyxl.load_workbook(fresh / "workbook" / B.LEDGER_BOOK, keep_vba=True)
    assert wb.sheetnames == [labels.LEDGER_SHEET, labels.FORM_SHEET, labels.INFO_SHEET, labels.LOOKUP_SHEET]


def test_cli_annotation_keeps_the_macro_workbook_whole(fresh, tmp_path):
    """The WPS / .cmd path: validate --annotate on the macro ledger writes in place and keeps VBA and buttons."""
    from xl_automation.xlsx.fill import fill_ledger
    from xl_automation.rules.periods import Period
    from xl_automation.demo.sample import sample_rows
    conf = default_config()
    path = Path(shutil.copy(fresh / "workbook" / B.LEDGER_BOOK, tmp_path / "张店分公司-2026-11.xlsm"))
    fill_ledger(path, sample_rows(conf.window("ZLS02"), Period.parse("2026-11"), conf, n=20, now=NOW))
    before = fileio.read_parts(path)
    check, annotation = check_file(path, conf, NOW, annotate=True)
    after = fileio.read_parts(path)
    assert not annotation.is_copy and annotation.path == path and check.findings
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert _content_type(after, "xl/workbook.xml") == MAIN_TYPES[".xlsm"]
    macros = [m for part, data in after.items() if part.endswith(".vml")
              for m in re.findall(rb"<(?:\w+:)?FmlaMacro>(.*?)</(?:\w+:)?FmlaMacro>", data)]
    assert sorted(m.decode().split("!")[-1] for m in macros) == sorted(m for m, _ in B.LEDGER_BUTTONS + B.FORM_BUTTONS)


def test_cmd_wrappers_run_real_commands(fresh, tmp_path):
    parser = build_parser()
    ledger, folder = tmp_path / "台账.xlsx", tmp_path / "报送"
    for name, (title, _) in B.WRAPPERS.items():
        data = (fresh / "workbook" / name).read_bytes()
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b""), f"{name}: CRLF line ends for cmd.exe"
        text = data.decode(B.WRAPPER_ENCODING)
        assert title in text and "pause" in text
        (line,) = [ln for ln in text.splitlines() if "-m xl_automation" in ln]
        args = shlex.split(line.split("-m xl_automation", 1)[1].replace("%~1", str(ledger)).replace("%TO%", str(folder)))
        parsed = parser.parse_args(args)
        assert parsed.func.__module__ in ("xl_automation.cli.commands", "xl_automation.cli.month_end")
        assert Path(parsed.file) == ledger
