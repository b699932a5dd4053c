"""The worksheet part's pieces alone: a cell's value written and read back, merged ranges, column widths and
the schema's child order. The whole patch is checked on real workbooks in the test_annotate*.py files."""
from __future__ import annotations

from hypothesis import given, strategies as st
from lxml import etree

from xl_automation.xlsx.xlsx_cells import (ORDER, Merged, SharedStrings, add_width, cell_value, insert_child,
                                           unshare, write_value)
from xl_automation.xlsx.xlsx_package import MAIN_NS, local, q

NO_STRINGS = SharedStrings(None, None)
values = st.one_of(st.none(), st.integers(-10**12, 10**12),
                   st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
                   st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1).filter(lambda t: t))


def _cell(**attrs) -> etree._Element:
    c = etree.Element(q("c"), r="B2", s="7", **attrs)
    etree.SubElement(c, q("f")).text = "A1*2"
    etree.SubElement(c, q("v")).text = "4"
    return c


@given(values)
def test_a_value_written_into_a_cell_reads_back_as_itself_and_keeps_the_style(value):
    c = _cell(t="str")
    write_value(c, value)
    back = cell_value(etree.fromstring(etree.tostring(c)), NO_STRINGS)      # as the saved XML says it
    assert back == value and type(back) is type(value)
    assert c.get("s") == "7" and c.find(q("f")) is None                    # the formula never survives


def test_text_that_looks_like_a_formula_stays_text():
    c = _cell()
    write_value(c, "=HYPERLINK(\"http://x\")")
    assert c.get("t") == "inlineStr" and cell_value(c, NO_STRINGS) == "=HYPERLINK(\"http://x\")"


@given(st.lists(st.tuples(st.integers(1, 30), st.integers(1, 10), st.integers(0, 3), st.integers(0, 3)),
                max_size=4), st.integers(1, 40), st.integers(1, 15))
def test_a_cell_belongs_to_the_first_range_holding_it(ranges, row, col):
    merged = Merged((r, c, r + h, c + w) for r, c, h, w in ranges)
    holding = [(r1, c1) for r1, c1, r2, c2 in merged if r1 <= row <= r2 and c1 <= col <= c2]
    assert merged.owner(row, col) == (holding[0] if holding else (row, col))
    assert merged.covered(row, col) == (bool(holding) and holding[0] != (row, col))


def _sheet(*children: str) -> etree._Element:
    root = etree.Element(q("worksheet"), nsmap={None: MAIN_NS})
    for name in children:
        etree.SubElement(root, q(name))
    return root


@given(st.lists(st.integers(1, 30), min_size=1, max_size=8))
def test_widths_go_in_column_order_and_never_over_the_users_columns(columns):
    root = _sheet("sheetData", "pageMargins")
    added = {}
    for col in columns:
        added.setdefault(col, add_width(root, col, 12.5))
    assert [local(c.tag) for c in root] == ["cols", "sheetData", "pageMargins"]
    mins = [int(el.get("min")) for el in root.find(q("cols"))]
    assert mins == sorted(set(columns))
    assert not any(add_width(root, col, 30) for col in columns)               # the existing settings win


@given(st.permutations(ORDER[:12]))
def test_a_new_child_takes_its_place_in_the_schemas_order(names):
    root = _sheet()
    for name in names:
        insert_child(root, etree.Element(q(name)))
    assert [local(c.tag) for c in root] == list(ORDER[:12])


@given(st.integers(2, 40))
def test_a_shared_formula_group_becomes_each_cells_own_formula(rows):
    """Cells B2:B<rows> share =A2*2 written once in B2; expanded, each says its own row, as Excel reads it."""
    cells = {}
    for r in range(2, rows + 1):
        c = etree.Element(q("c"), r=f"B{r}")
        f = etree.SubElement(c, q("f"), t="shared", si="0")
        if r == 2:
            f.set("ref", f"B2:B{rows}")
            f.text = "A2*2"
        cells[(r, 2)] = c
    other = etree.Element(q("c"), r="C2")
    etree.SubElement(other, q("f"), t="shared", si="1").text = "A2+1"
    cells[(2, 3)] = other
    unshare(cells, "0")
    for r in range(2, rows + 1):
        f = cells[(r, 2)].find(q("f"))
        assert f.text == f"A{r}*2" and not set(f.attrib) & {"t", "si", "ref"}
    assert cells[(2, 3)].find(q("f")).get("si") == "1"                     # another group is left alone
