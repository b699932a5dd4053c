"""Properties of the patch for any findings on any cells: a repeated run changes no byte, and a run with
no findings gives every cell back its own format and note (the user's fills and notes as they were)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from support.grafting import LEDGER, cells_of, read_entries
from support.annotate_books import Case, _col
from xl_automation.xlsx import fileio
from xl_automation.model import schema
from xl_automation.rules import sla
from xl_automation.model.findings import make
from xl_automation.model.ledger import column_letter
from xl_automation.xlsx.xlsx_package import MAIN_NS

M = f"{{{MAIN_NS}}}"
KEYS = ["request_id", "channel", "applicant", "phone", "address", "first_responder", "result"]
PROGRAM = {column_letter(_col(c.key)) for c in schema.PROGRAM_COLUMNS}
STATUSES = [sla.ON_TIME, sla.LATE, sla.NEAR, sla.OVERDUE_OPEN]

finding = st.tuples(st.integers(0, 3), st.sampled_from(KEYS), st.sampled_from(["enum-invalid", "phone-short"]))
clock = st.one_of(st.none(), st.tuples(st.floats(0, 600, allow_nan=False), st.sampled_from(STATUSES)))


def notes(path: Path, part: str) -> dict[str, tuple[str, str]]:
    """ref -> (text, author) of the ledger sheet's notes, read from its comments part."""
    parts = read_entries(path)
    target = next(t for _, rt, t, _ in fileio.rels_of(parts, part) if rt.endswith("/comments"))
    root = etree.fromstring(parts[target])
    authors = [a.text or "" for a in root.iter(M + "author")]
    return {c.get("ref"): ("".join(c.find(M + "text").itertext()), authors[int(c.get("authorId"))])
            for c in root.iter(M + "comment")}


def styles(path: Path, part: str) -> dict[str, str]:
    return {ref: s for ref, (s, _) in cells_of(read_entries(path)[part]).items()
            if ref.rstrip("0123456789") not in PROGRAM}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(marks=st.lists(finding, max_size=8), clocks=st.lists(clock, min_size=4, max_size=4), suffix=st.sampled_from(
    [".xlsx", ".xlsm"]))
def test_rerun_is_identical_and_no_findings_restores_every_cell(marks, clocks, suffix):
    case, original = CASES.get(suffix) or CASES.setdefault(suffix, _case(suffix))
    case.path.write_bytes(original)
    part = "xl/worksheets/sheet1.xml"
    original_styles, original_notes = styles(case.path, part), notes(case.path, part)
    findings = []
    for index, key, code in marks:
        row = case.rows[index]
        column = schema.BY_KEY[key]
        findings.append(make(code, sheet=LEDGER, row=row, column=column.header, cell=case.ledger.cell(row, key),
                             value="x", header=column.header, choices="电话"))
    row_clocks = {case.rows[i]: sla.RowClock(c[0], 120 - c[0], c[1]) for i, c in enumerate(clocks) if c}
    case.run(findings=findings, clocks=row_clocks)
    first = case.path.read_bytes()
    case.run(findings=findings, clocks=row_clocks)
    assert case.path.read_bytes() == first
    case.run(findings=[], clocks={})
    assert styles(case.path, part) == original_styles
    assert notes(case.path, part) == original_notes


CASES: dict[str, tuple[Case, bytes]] = {}


def _case(suffix: str) -> tuple[Case, bytes]:
    """One ledger per layout, built once (the XlsxWriter + VBA one takes a while); each example starts
    from its bytes."""
    case = Case(Path(tempfile.mkdtemp(prefix="annotate-property-")), suffix)
    return case, case.path.read_bytes()
