"""read_ledger on real .xlsx files read block by block gives, for every row, what converting each cell of the
whole sheet on its own gives: block edges (rows BLOCK and BLOCK + 1, a ledger of exactly BLOCK rows), headers
low in the sheet, columns moved, missing or extra, empty and hidden rows at the edges, columns whose values
change their kind from one block to the next (distinct then repeated, a tick's mark changing, Booleans beside
the numbers they equal), midnights and dates in different blocks, both date systems, formulas and errors."""
from __future__ import annotations

import random
import tempfile
from datetime import date, datetime, time
from pathlib import Path

import python_calamine as calamine
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xl_automation.model import labels
from xl_automation.model.schema import COLUMNS, HEADERS, INPUT_COLUMNS
from xl_automation.xlsx import row_values
from xl_automation.xlsx.reader import read_ledger
from xl_automation.xlsx.row_values import EMPTY, converter, is_blank

# (how the cell is written, value): text, number, Boolean, a date-time shown with its time ("dt"), a whole
# day shown as a date ("d"), a time of day, an error and a formula's cached value
CELLS = [("s", v) for v in (
    " ", "\u3000", "张三", " 张三", "张  三", "ＡＢＣ１２３", "13853312345", "两行\n文字", "结尾换行\n", "a\tb",
    "x\x01y", "\u2003宽", "√", "✓", "是", "否", "窗口现场", "已办结", "工业", "2026-11-03 09:05", "2026/11/3",
    "不是时间", "45234.5", "12", "1", "0", "TRUE", "-", "长" * 3000)] + [
    ("n", 45234.375), ("n", 2.5), ("n", 7), ("n", 1), ("n", 0), ("n", -3), ("b", True), ("b", False),
    ("dt", datetime(2026, 11, 3, 9, 5)), ("dt", datetime(2026, 11, 4)), ("dt", datetime(2026, 11, 3, 8, 29, 59, 994000)),
    ("d", datetime(2026, 11, 5)), ("t", 0.375), ("e", "#N/A"), ("f", 2), ("", "")]
FORMATS = {"dt": "yyyy-mm-dd hh:mm", "d": "yyyy-mm-dd", "t": "hh:mm"}
KINDS = ["few", "few", "distinct", "tick", "days", "equal", "blank"]
DAYS = [("dt", datetime(2026, 11, 3, 9, 5)), ("dt", datetime(2026, 11, 4)), ("d", datetime(2026, 11, 5)), ("", "")]
EQUAL = [("n", 1), ("b", True), ("n", 0), ("b", False), ("s", "1"), ("", "")]     # True == 1, False == 0
OPTIONAL = [k for k, c in enumerate(COLUMNS) if not c.column_required]


def palette(rnd: random.Random, c: int):
    """How one column is filled over a run of rows: a few repeated values, distinct ids, a tick's one mark."""
    kind = rnd.choice(KINDS)
    if kind == "few":
        cells = rnd.sample(CELLS, rnd.randint(1, 3))
        return lambda r: rnd.choice(cells)
    if kind == "distinct":
        return lambda r: ("s", f"值{c}-{r}") if r % 9 else rnd.choice(CELLS)
    if kind in ("days", "equal"):
        cells = rnd.sample(DAYS if kind == "days" else EQUAL, rnd.randint(1, 3))
        return lambda r: rnd.choice(cells)
    if kind == "tick":
        mark = rnd.choice([("s", "√"), ("s", "是"), ("n", 1), ("b", True), ("s", "✓")])
        return lambda r: mark if rnd.random() < 0.4 else ("", "")
    return lambda r: ("", "")


def write(path: Path, rnd: random.Random, *, rows: int, title: int, left: int, order: list, date1904: bool):
    """A ledger sheet: `title` rows above the header, the header from column `left` (0-based) holding the
    schema columns in `order` (None: a column the schema does not know), `rows` data rows. Returns, per
    1-based Excel row, the written (how, value) of each of the sheet's columns, and the hidden rows."""
    wb = xlsxwriter.Workbook(str(path), {"date_1904": date1904, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    formats = {how: wb.add_format({"num_format": f}) for how, f in FORMATS.items()}
    ws = wb.add_worksheet(labels.LEDGER_SHEET)
    for r in range(title):
        if rnd.random() < 0.5:
            ws.write_string(r, left, labels.LEDGER_TITLE if r == 0 else f"说明{r}")
    for c, k in enumerate(order):
        ws.write_string(title, left + c, HEADERS[k] if k is not None else f"备用{c}")
    # each column changes how it is filled at up to two rows: across a block edge, or not
    plans = []
    for c in range(len(order)):
        edges = sorted(rnd.sample(range(rows + 1), min(rnd.randint(0, 2), rows + 1)))
        plans.append((edges, [palette(rnd, c) for _ in range(len(edges) + 1)]))
    written: dict[int, list] = {}
    hidden: set[int] = set()
    for i in range(rows):
        r = title + 1 + i                       # 0-based sheet row
        if rnd.random() < 0.08:
            continue                            # an empty row
        if rnd.random() < 0.08:
            hidden.add(r + 1)
        line = []
        for c, (edges, fills) in enumerate(plans):
            how, v = fills[sum(e <= i for e in edges)](i)
            line.append((how, v))
            col = left + c
            if how == "s":
                ws.write_string(r, col, v)
            elif how == "n":
                ws.write_number(r, col, v)
            elif how == "b":
                ws.write_boolean(r, col, v)
            elif how in ("dt", "d"):
                ws.write_datetime(r, col, v, formats[how])
            elif how == "t":
                ws.write_number(r, col, v, formats[how])
            elif how == "e":
                ws.write_formula(r, col, "=NA()", None, v)
            elif how == "f":
                ws.write_formula(r, col, "=1+1", None, v)
        written[r + 1] = line
    for r in hidden:
        ws.set_row(r - 1, None, None, {"hidden": True})
    wb.close()
    return written, hidden


def one_by_one(path: Path, *, title: int, left: int, order: list, written: dict, hidden: set, date1904: bool):
    """The reference: the whole sheet read at once, each cell converted on its own; a row kept when any of its
    input cells is not blank; a whole day written with a format that shows a time is that midnight."""
    with calamine.CalamineWorkbook.from_path(str(path)) as wb:
        grid = wb.get_sheet_by_name(labels.LEDGER_SHEET).to_python(skip_empty_area=False)
    at = {k: left + c for c, k in reversed(list(enumerate(order))) if k is not None}     # first one wins
    out = []
    for r in range(title + 2, len(grid) + 1):
        line = grid[r - 1]
        raw = {col.key: line[at[k]] if k in at and at[k] < len(line) else "" for k, col in enumerate(COLUMNS)}
        if all(is_blank(raw[col.key]) for col in INPUT_COLUMNS):
            continue
        values = {}
        for k, col in enumerate(COLUMNS):
            v = raw[col.key]
            values[col.key] = EMPTY[col.kind] if v == "" else converter(col.kind, date1904)(v)
            if (col.kind == "datetime" and type(v) is date and k in at
                    and written[r][at[k] - left][0] in ("dt", "t")):
                values[col.key] = datetime.combine(v, time())
        out.append((r, r in hidden, typed(values)))
    return out


def typed(values: dict) -> list:
    # True == 1 and False == 0: compare the types and the text too
    return [(key, type(v).__name__, repr(v)) for key, v in values.items()]


LAYOUTS = st.fixed_dictionaries({
    "title": st.sampled_from([0, 1, 2, 5, 29]),      # 29: the header in the last row looked at
    "left": st.sampled_from([0, 0, 0, 1]),           # 1: the sheet starts in column B
    "date1904": st.booleans(),
    "moved": st.booleans(),
    "dropped": st.sets(st.sampled_from(OPTIONAL), max_size=4),
    "extra": st.lists(st.integers(0, len(COLUMNS)), max_size=2),
    "duplicate": st.booleans(),
})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LAYOUTS, st.sampled_from(["small", "small", "small", "edge"]), st.data())
def test_real_files_read_block_by_block_as_cell_by_cell(layout, size, data):
    rnd = data.draw(st.randoms(use_true_random=False))
    block = row_values.BLOCK if size == "edge" else data.draw(st.sampled_from([1, 2, 3, 5, 8]))
    rows = data.draw(st.sampled_from([block - 1, block, block + 1, 2 * block, 2 * block + 1]) if size == "edge"
                     else st.integers(0, 30))
    order: list = [k for k in range(len(COLUMNS)) if k not in layout["dropped"]]
    if layout["moved"]:
        rnd.shuffle(order)
    for at in layout["extra"]:
        order.insert(min(at, len(order)), None)
    if layout["duplicate"]:
        order.append(rnd.choice([k for k in order if k is not None]))   # a second column of one name
    saved = row_values.BLOCK
    with tempfile.TemporaryDirectory(prefix="blocks-real-") as folder:
        path = Path(folder) / "台账.xlsx"
        written, hidden = write(path, rnd, rows=rows, title=layout["title"], left=layout["left"], order=order,
                                date1904=layout["date1904"])
        row_values.BLOCK = block
        try:
            ledger = read_ledger(path)
        finally:
            row_values.BLOCK = saved
        want = one_by_one(path, title=layout["title"], left=layout["left"], order=order, written=written,
                          hidden=hidden, date1904=layout["date1904"])
    assert ledger.header_row == layout["title"] + 1
    assert ledger.columns == {COLUMNS[k].key: layout["left"] + c + 1
                              for c, k in reversed(list(enumerate(order))) if k is not None}
    got = [(r.excel_row, r.hidden, typed(dict(r.values.items()))) for r in ledger.rows]
    assert [g[:2] for g in got] == [w[:2] for w in want]
    assert got == want


def test_whole_numbers_of_both_types_in_a_column_each_quoted_as_written():
    # a .xls holds a number as an integer (an RK record) or as a float (a formula's result, a NUMBER record):
    # 2 and 2.0 are equal keys, yet a tick cell's finding quotes its own text ("2" or "2.0")
    from xl_automation.xlsx.reader import ledger_from_grid
    body = [["W01"] + [""] * (len(COLUMNS) - 1) for _ in range(4)]
    water = [col.key for col in COLUMNS].index("svc_water")
    for line, v in zip(body, [2.0, 2, 2, 2.0]):
        line[water] = v
    grid = [list(HEADERS)] + body
    ledger = ledger_from_grid(grid, sheet=labels.LEDGER_SHEET, path=Path("台账.xls"), info={}, format="xls")
    assert [repr(r.values["svc_water"].raw) for r in ledger.rows] == ["2.0", "2", "2", "2.0"]
