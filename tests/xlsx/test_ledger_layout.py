"""The reader's structure step on its own (xlsx/ledger_layout): for any arrangement of the schema's headers
below some title rows, the header row is found, every key maps to its column, and each column left out
is reported once, as required or optional."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from xl_automation.model.schema import COLUMNS, INPUT_COLUMNS
from xl_automation.xlsx.ledger_layout import HEADER_SCAN_ROWS, MIN_HEADER_MATCHES, find_header, hidden_row_findings, \
    layout_of

SHEET = "台账"


@settings(max_examples=150, deadline=None)
@given(order=st.permutations(COLUMNS), dropped=st.sets(st.integers(0, len(COLUMNS) - 1), max_size=6),
       titles=st.integers(0, 5), gap=st.integers(0, 2))
def test_the_header_is_found_and_every_column_mapped(order, dropped, titles, gap):
    kept = [c for i, c in enumerate(order) if i not in dropped]
    header = [""] * gap + [c.header for c in kept]
    grid = [["综合受理台账"] + [""] * (len(header) - 1) for _ in range(titles)] + [header, ["x"] * len(header)]
    found = find_header(grid)
    if len(kept) < MIN_HEADER_MATCHES:
        assert found is None
        return
    assert found is not None and found[0] == titles
    layout = layout_of(grid, [], found, SHEET)
    assert layout.columns == {c.key: gap + i + 1 for i, c in enumerate(kept)}
    assert layout.data_start == titles + 1
    missing = {f.code: f for f in layout.findings}
    gone = [c for c in COLUMNS if c not in kept]
    required = [c.header for c in gone if c.column_required]
    optional = [c.header for c in INPUT_COLUMNS if c in gone and not c.column_required]
    assert set(missing) == {code for code, names in (("column-missing", required),
                                                      ("column-optional-missing", optional)) if names}
    assert all(f.sheet == SHEET for f in layout.findings)


def test_a_header_below_the_scanned_rows_is_not_found():
    grid = [["标题"]] * HEADER_SCAN_ROWS + [[c.header for c in COLUMNS]]
    assert find_header(grid) is None


def test_hidden_rows_are_one_finding_per_run():
    found = hidden_row_findings([4, 5, 6, 9, 11, 12], SHEET)
    assert [(f.code, f.row) for f in found] == [("row-hidden", 4), ("row-hidden", 9), ("row-hidden", 11)]
