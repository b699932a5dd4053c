"""Values-only ledgers written through the XML spool hold exactly what XlsxWriter cell by cell wrote."""
from datetime import datetime
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from xl_automation.model import config as cfg
from xl_automation.model.labels import LEDGER_SHEET, TICK
from xl_automation.rules.normalize import DateOnly, Invalid
from xl_automation.rules.periods import Period
from xl_automation.xlsx.reader import read_ledger
from xl_automation.demo.sample import sample_rows
from xl_automation.model.schema import COLUMNS
from xl_automation.xlsx.values_ledger import HEADER_ROW, finish_ledger, start_ledger, write_values_ledger
from xl_automation.xlsx.xlsx_safe import cell_value, write_text

from support.rows import good_row

INFO = {"窗口编码": "ZLS02", "统计周期": "2026-11"}


def write_cell_by_cell(path: Path, rows, info, program_values=None) -> None:
    """The rows as they were written before the spool: every cell through XlsxWriter (the reference)."""
    wb, ws, when, day = start_ledger(path, info)
    program_values = program_values or {}
    for n, values in enumerate(rows, start=1):
        r = HEADER_ROW - 1 + n
        extra = program_values.get(n - 1, ())
        for c, col in enumerate(COLUMNS):
            if col.program_written:
                i = c - (len(COLUMNS) - len(extra))
                value = extra[i] if 0 <= i < len(extra) else None
            else:
                raw = values.get(col.key)
                if isinstance(raw, DateOnly):
                    ws.write_datetime(r, c, raw.value, day)
                    continue
                value = cell_value(raw)
            if value is None or value == "" or value is False:
                continue
            if value is True:
                ws.write_string(r, c, TICK)
            elif hasattr(value, "hour"):
                ws.write_datetime(r, c, value, when)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value)
            else:
                write_text(ws, r, c, str(value))
    finish_ledger(wb, info)


def values(path: Path) -> dict[str, list[list]]:
    with CalamineWorkbook.from_path(str(path)) as wb:
        return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}


def cells(path: Path) -> dict[str, list[tuple]]:
    """Every cell as openpyxl sees it: value, type, number format, bold; and each sheet's frozen panes."""
    wb = openpyxl.load_workbook(path)
    return {ws.title: [(c.coordinate, c.value, c.data_type, c.number_format, c.font.b)
                       for row in ws.iter_rows() for c in row if c.value is not None] + [ws.freeze_panes]
            for ws in wb.worksheets}


def both(tmp_path: Path, rows, program_values=None) -> tuple[Path, Path]:
    ours, reference = tmp_path / "spool.xlsx", tmp_path / "cells.xlsx"
    write_values_ledger(ours, rows, INFO, program_values=program_values)
    write_cell_by_cell(reference, rows, INFO, program_values)
    return ours, reference


def test_a_generated_month_reads_back_identically(tmp_path):
    conf = cfg.load()
    rows = sample_rows(conf.window("ZLS02"), Period.parse("2026-11"), conf, n=300, seed=9,
                       now=datetime(2026, 11, 25, 10))           # with the usual slips
    rows += [good_row(remarks=text) for text in (" 前有空格", "后有空格 ", "a\x01b", "<r><t>x</t></r>", "=1+1",
                                                  "0123", "&<>\"'", "两行\n文字", "_x0041_")]
    rows += [good_row(closed_at=DateOnly(datetime(2026, 11, 5))), good_row(replied_at=Invalid("昨天下午")),
             good_row(received_at=Invalid(45234.5)), good_row(svc_gas=Invalid("？")), good_row(remarks=12.5)]
    program = {0: (35.0, "按时", "通过"), 3: ("超时", "有 2 个错误"), 7: (0, "待回复", "")}
    ours, reference = both(tmp_path, rows, program)
    assert values(ours) == values(reference)
    assert cells(ours) == cells(reference)
    a, b = read_ledger(ours), read_ledger(reference)
    assert [(r.excel_row, dict(r.values)) for r in a.rows] == [(r.excel_row, dict(r.values)) for r in b.rows]
    assert len(a.rows) == len(rows) and a.findings == b.findings


def test_no_rows_and_one_row(tmp_path):
    for rows in ([], [good_row()]):
        ours, reference = both(tmp_path, rows)
        assert values(ours) == values(reference) and cells(ours) == cells(reference)


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, min_size=1, max_size=12),
       numbers=st.lists(st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False)),
                        max_size=6))
def test_any_text_and_number_reads_back_as_written(tmp_path, texts, numbers):
    """Text exactly as XlsxWriter writes it (escapes, control characters, spaces); numbers exactly
    as given (XlsxWriter rounds them to 16 significant digits)."""
    rows = [good_row(remarks=t, applicant=t[::-1]) for t in texts] + [good_row(address=x) for x in numbers]
    ours, reference = both(tmp_path, rows)
    a, b = values(ours)[LEDGER_SHEET], values(reference)[LEDGER_SHEET]
    text_cols = [i for i, c in enumerate(COLUMNS) if c.key in ("remarks", "applicant")]
    assert [[line[i] for i in text_cols] for line in a] == [[line[i] for i in text_cols] for line in b]
    address = next(i for i, c in enumerate(COLUMNS) if c.key == "address")
    assert [line[address] for line in a[HEADER_ROW + len(texts):]] == [float(x) for x in numbers]
