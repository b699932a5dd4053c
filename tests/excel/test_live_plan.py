"""The live plan's parts alone: the captured grid (merged ranges) and the program columns' rectangles.

The whole plan is checked against annotate.py on real workbooks in test_excel.py and test_macros.py."""
from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, strategies as st

from xl_automation.excel.live_plan import Grid, ProgramColumns
from xl_automation.model.ledger import column_letter

SHEET = "受理台账"


@st.composite
def merged_range(draw):
    r1, c1 = draw(st.integers(1, 20)), draw(st.integers(1, 10))
    return r1, c1, draw(st.integers(r1, r1 + 4)), draw(st.integers(c1, c1 + 4))


@given(merged_range(), st.integers(1, 30), st.integers(1, 20))
def test_a_cell_is_covered_only_inside_a_merged_range_off_its_top_left(bounds, row, col):
    r1, c1, r2, c2 = bounds
    grid = Grid([], {SHEET: [((r1 - 1, c1 - 1), (r2 - 1, c2 - 1))]})       # captured 0-based, as calamine
    inside = r1 <= row <= r2 and c1 <= col <= c2
    assert grid.is_covered(SHEET, row, col) == (inside and (row, col) != (r1, c1))
    assert not grid.is_covered("其他工作表", row, col)
    expected = (r1, c1) if inside else (row, col)
    assert grid.anchor(SHEET, f"{column_letter(col)}{row}") == (SHEET, f"{column_letter(expected[1])}{expected[0]}")


def test_an_anchor_needs_one_cell():
    assert Grid([]).anchor(SHEET, "A1:B2") is None and Grid([]).anchor(SHEET, "合计") is None


@given(st.lists(st.tuples(st.integers(1, 12), st.integers(1, 8)), min_size=1, unique=True),
       st.lists(st.lists(st.sampled_from(["", "甲", 3, None]), max_size=8), max_size=12))
def test_program_values_go_out_as_rectangles_that_keep_the_cells_in_between(written, rows):
    grid = Grid(rows)
    program = ProgramColumns(SimpleNamespace(sheet=SHEET), grid, ops=[])
    for n, (r, c) in enumerate(written):
        program.put(r, c, f"值{n}")
    blocks = program.blocks()
    seen = {}
    for first_col, top, body in blocks:
        assert len({len(line) for line in body}) == 1                   # a rectangle
        for i, line in enumerate(body):
            for j, value in enumerate(line):
                seen[(top + i, first_col + j)] = value
    for (r, c), value in seen.items():
        assert value == program.values.get((r, c), grid.value(r, c))
    assert set(program.values) <= set(seen)
    columns = sorted(first for first, _, _ in blocks)
    ends = [first + len(body[0]) for first, _, body in sorted(blocks)]
    assert all(end < nxt for end, nxt in zip(ends, columns[1:]))          # runs of columns never touch
