"""annotate patches the package: real workbooks (the corpus, and ones made by XlsxWriter, openpyxl,
LibreOffice and by hand) get a grafted ledger sheet, `validate --annotate` runs twice, and every part
outside the annotation is byte-identical; in the ledger sheet only marked cells' styles and the program
columns differ; the second run changes no byte."""
from __future__ import annotations


import pytest
from lxml import etree

from support.grafting import graft, read_entries
from xl_automation.xlsx.xlsx_package import STRICT_NS


from support.patch_check import CORPUS_FILES, HOSTS, REFUSED_BY_READER, annotate_twice, check_patch, graftable, readers_open, run_cli


# ---- host workbooks other programs wrote ---------------------------------------------------------


# ---- the promise, on every host ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_made_workbooks_are_patched_and_nothing_else_changes(tmp_path, name):
    host = HOSTS[name](tmp_path)
    before, after, findings = annotate_twice(tmp_path, host)
    assert findings
    assert check_patch(before, after, findings) == []
    readers_open(before, after)


@pytest.mark.parametrize("path", [p for p in CORPUS_FILES if graftable(p)],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_workbooks_are_patched_or_refused_cleanly(tmp_path, path):
    """Each real workbook: annotated in place with only the annotation's parts changed, or (Strict OOXML,
    an entity bomb the reader refuses) refused with a message saying what to do, the file untouched."""
    strict = etree.fromstring(read_entries(path)["xl/workbook.xml"]).tag.startswith(f"{{{STRICT_NS}}}")
    if strict or path.name in REFUSED_BY_READER:
        grafted = graft(path, tmp_path / f"台账{path.suffix}")
        untouched = grafted.read_bytes()
        code, out, err = run_cli(grafted)
        assert code == 2 and err.startswith(f"无法使用：{grafted.name}：")
        assert ("Strict Open XML" if strict else REFUSED_BY_READER[path.name]) in err and "。" in err
        assert grafted.read_bytes() == untouched
        return
    before, after, findings = annotate_twice(tmp_path, path)
    assert check_patch(before, after, findings) == []
    readers_open(before, after)
