"""The reader on well-formed ledgers in many layouts: positions, normalised values, info sheet."""
from __future__ import annotations

import random
import zipfile
from datetime import datetime, timedelta

import openpyxl
import pytest

from xl_automation.model import labels
from xl_automation.model.ledger import column_letter
from xl_automation.rules.normalize import DateOnly, Invalid
from xl_automation.xlsx.reader import detect_format, read_ledger
from xl_automation.model.schema import BY_KEY, COLUMNS, HEADERS, INPUT_COLUMNS, SERVICE_COLUMNS

from support.ledger_files import DEFAULT_INFO, sample_rows, write_ledger

INPUT_KEYS = [c.key for c in INPUT_COLUMNS]


def codes(ledger):
    return [f.code for f in ledger.findings]


def input_values(row):
    return {k: row.values[k] for k in INPUT_KEYS}


def expected(sample):
    """What the reader should give for a sample row dict: every input key, empty ones filled in."""
    empty = {"text": "", "enum": "", "tick": False, "datetime": None, "number": None}
    return {c.key: sample.get(c.key, empty[c.kind]) if c.kind != "tick" else sample.get(c.key) == labels.TICK
            for c in INPUT_COLUMNS}


@pytest.mark.parametrize("title_rows", [0, 2, 5])
def test_header_found_below_title_rows(tmp_path, title_rows):
    rows = sample_rows(3)
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", rows, title_rows=title_rows))
    assert ledger.sheet == labels.LEDGER_SHEET
    assert ledger.header_row == title_rows + 1
    assert [r.excel_row for r in ledger.rows] == [title_rows + 2 + i for i in range(3)]
    assert [input_values(r) for r in ledger.rows] == [expected(s) for s in rows]
    assert ledger.findings == []
    assert ledger.format == "xlsx" and not ledger.date1904


def test_columns_in_any_order(tmp_path):
    headers = list(HEADERS)
    random.Random(7).shuffle(headers)
    rows = sample_rows(4)
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", rows, headers=headers))
    assert ledger.columns == {c.key: headers.index(c.header) + 1 for c in COLUMNS}
    assert [input_values(r) for r in ledger.rows] == [expected(s) for s in rows]
    assert ledger.findings == []


def test_aliases_are_read_and_reported(tmp_path):
    aliases = {"request_id": "流水号", "phone": "联系电话", "applicant": "单位名称（或用户姓名）",
               "svc_heat": "供暖"}
    headers = [aliases.get(c.key, c.header) for c in COLUMNS]
    rows = sample_rows(6)
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", rows, headers=headers))
    assert [input_values(r) for r in ledger.rows] == [expected(s) for s in rows]
    found = {f.column: f for f in ledger.findings}
    assert codes(ledger) == ["column-alias"] * len(aliases)
    assert set(found) == {BY_KEY[k].header for k in aliases}
    for key, alias in aliases.items():
        f = found[BY_KEY[key].header]
        assert f.cell == f"{column_letter(headers.index(alias) + 1)}3"
        assert f.value == alias.replace("（", "(").replace("）", ")")
        assert f"“{f.value}”" in f.message and f"“{BY_KEY[key].header}”" in f.message
    assert ledger.header_names["phone"] == "联系电话"


def test_full_width_text_becomes_half_width(tmp_path):
    row = sample_rows(1)[0] | {"request_id": "ＺＬＳ０１－２０２６１１０３－００１", "phone": "１３８５３３１２３４５",
                               "applicant": "\u3000张三\u3000", "address": "张店区人民西路８８号",
                               "svc_gas": "ｙ", "channel": " 电话 "}
    [read] = read_ledger(write_ledger(tmp_path / "t.xlsx", [row])).rows
    assert read.values["request_id"] == "ZLS01-20261103-001"
    assert read.values["phone"] == "13853312345"
    assert read.values["applicant"] == "张三"
    assert read.values["address"] == "张店区人民西路88号"
    assert read.values["svc_gas"] is True
    assert read.values["channel"] == "电话"


@pytest.mark.parametrize("text, value", [
    ("2026年11月3日 9:05", datetime(2026, 11, 3, 9, 5)),
    ("2026/11/3 9:05", datetime(2026, 11, 3, 9, 5)),
    ("2026-11-03 09:05:30", datetime(2026, 11, 3, 9, 5, 30)),
    ("2026.11.3 9:05", datetime(2026, 11, 3, 9, 5)),
    ("２０２６年１１月３日　９：０５", datetime(2026, 11, 3, 9, 5)),
    ("2026年11月3日下午3点05分", datetime(2026, 11, 3, 15, 5)),
    ("2026-11-03", DateOnly(datetime(2026, 11, 3))),
    ("明天上午", Invalid("明天上午")),
], ids=["chinese", "slashes", "iso-seconds", "dots", "full-width", "afternoon", "date-only", "nonsense"])
def test_dates_typed_as_text(tmp_path, text, value):
    row = sample_rows(1)[0] | {"replied_at": text}
    [read] = read_ledger(write_ledger(tmp_path / "t.xlsx", [row])).rows
    assert read.values["replied_at"] == value


def test_excel_serials_and_milliseconds_in_datetime_columns(tmp_path):
    start = datetime(2026, 11, 3, 8, 30)
    serial = (start - datetime(1899, 12, 30)) / timedelta(days=1)
    row = sample_rows(1)[0] | {"received_at": serial, "posted_at": str(serial),
                               # 08:29:59.994 as Excel stores it after arithmetic: shown as 08:30:00
                               "replied_at": start + timedelta(minutes=90, microseconds=-6000)}
    [read] = read_ledger(write_ledger(tmp_path / "t.xlsx", [row])).rows
    assert read.values["received_at"] == start
    assert read.values["posted_at"] == start
    assert read.values["replied_at"] == start + timedelta(minutes=90)


@pytest.mark.parametrize("engine", ["openpyxl", "xlsxwriter"])
def test_1904_date_system(tmp_path, engine):
    when = datetime(2026, 11, 3, 9, 5)
    serial = 44867.375      # a bare number in a datetime column counts from 1904-01-01
    row = sample_rows(1)[0] | {"received_at": when, "posted_at": serial}
    path = write_ledger(tmp_path / "t.xlsx", [row], engine=engine, date1904=True)
    with zipfile.ZipFile(path) as z:
        assert b'date1904="1"' in z.read("xl/workbook.xml")
    ledger = read_ledger(path)
    assert ledger.date1904
    [read] = ledger.rows
    assert read.values["received_at"] == when
    assert read.values["posted_at"] == datetime(1904, 1, 1) + timedelta(days=serial)
    assert read.values["replied_at"] == row["replied_at"]


def test_hidden_rows_are_read_and_flagged(tmp_path):
    rows = sample_rows(5)
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", rows, hidden_rows=[1, 3]))
    assert [r.hidden for r in ledger.rows] == [False, True, False, True, False]
    assert [input_values(r) for r in ledger.rows] == [expected(s) for s in rows]
    assert [(f.code, f.row) for f in ledger.findings] == [("row-hidden", 5), ("row-hidden", 7)]


def test_empty_rows_skipped_and_excel_rows_kept(tmp_path):
    a, b, c = sample_rows(3)
    rows = [a, {}, b, {"check_result": "上次校验：通过", "sla_status": "按时"}, {"remarks": "   "}, c, {}]
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", rows))
    assert [r.excel_row for r in ledger.rows] == [4, 6, 9]
    assert [r.values["request_id"] for r in ledger.rows] == [a["request_id"], b["request_id"], c["request_id"]]


def test_row_with_a_single_input_value_is_kept(tmp_path):
    rows = [{"remarks": "只有备注"}, {"replied_at": "不知道"}]
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", rows))
    assert [r.excel_row for r in ledger.rows] == [4, 5]
    assert ledger.rows[1].values["replied_at"] == Invalid("不知道")


def test_values_normalised_by_kind(tmp_path):
    row = sample_rows(1)[0] | {"svc_water": "是", "svc_power": 1, "svc_gas": "×", "svc_heat": "要",
                               "result": "已办结 ", "response_minutes": "45", "remarks": "第一行\n第二行"}
    [read] = read_ledger(write_ledger(tmp_path / "t.xlsx", [row])).rows
    v = read.values
    assert (v["svc_water"], v["svc_power"], v["svc_gas"]) == (True, True, False)
    assert v["svc_heat"] == Invalid("要")
    assert v["result"] == "已办结"
    assert v["response_minutes"] == 45.0
    assert v["remarks"] == "第一行\n第二行"
    assert v["sla_status"] == "" and v["check_result"] == ""


def test_info_sheet(tmp_path):
    info = DEFAULT_INFO | {labels.INFO_PERIOD_RANGE: "2026-10-25 至 2026-11-24"}
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", sample_rows(1), info=info))
    assert ledger.info == info
    assert read_ledger(write_ledger(tmp_path / "n.xlsx", sample_rows(1), info=None)).info == {}


def test_two_level_merged_header(tmp_path):
    rows = sample_rows(6)
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", rows, two_level=True, hidden_rows=[0]))
    assert ledger.header_row == 3
    assert [r.excel_row for r in ledger.rows] == list(range(5, 11))
    assert len(ledger.columns) == len(COLUMNS)
    assert [input_values(r) for r in ledger.rows] == [expected(s) for s in rows]
    for i, s in enumerate(SERVICE_COLUMNS):
        assert ledger.rows[i].values[s.key] is True     # sample row i ticks service i
    merged = [f for f in ledger.findings if f.code == "header-merged"]
    first, last = (column_letter(HEADERS.index(c.header) + 1) for c in (SERVICE_COLUMNS[0], SERVICE_COLUMNS[-1]))
    assert len(merged) == 1 and f"{first}3:{last}3" in merged[0].message
    assert [(f.code, f.row) for f in ledger.findings if f.code != "header-merged"] == [("row-hidden", 5)]


def test_program_columns_absent_is_not_a_finding(tmp_path):
    headers = [c.header for c in INPUT_COLUMNS]
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", sample_rows(2), headers=headers))
    assert ledger.findings == []
    assert "check_result" not in ledger.columns
    assert ledger.rows[0].values["response_minutes"] is None and ledger.rows[0].values["check_result"] == ""


def test_formats_detected(tmp_path):
    path = write_ledger(tmp_path / "t.xlsx", sample_rows(2))
    macro = tmp_path / "t.xlsm"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(macro, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml")
            dst.writestr(item, data)
    assert detect_format(path) == "xlsx"
    assert detect_format(macro) == "xlsm"
    ledger = read_ledger(macro)
    assert ledger.format == "xlsm" and len(ledger.rows) == 2


def test_openpyxl_workbook_with_header_text_variants(tmp_path):
    """Headers with required marks, line breaks and spaces still match, and are not aliases."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = labels.LEDGER_SHEET
    variants = {"request_id": "*受理编号", "received_at": "受理\n时间", "phone": " 联系 方式 "}
    ws.append([variants.get(c.key, c.header) for c in COLUMNS])
    ws.append(["ZLS01-20261103-001", datetime(2026, 11, 3, 9, 5), "电话"])
    wb.save(tmp_path / "t.xlsx")
    ledger = read_ledger(tmp_path / "t.xlsx")
    assert ledger.header_row == 1 and len(ledger.columns) == len(COLUMNS)
    assert "column-alias" not in codes(ledger)
    assert ledger.header_names["received_at"] == "受理时间"
    assert ledger.rows[0].values["received_at"] == datetime(2026, 11, 3, 9, 5)


def test_text_fast_paths_agree_with_clean_text():
    """The reader skips clean_text for text it would not change; that shortcut must never differ."""
    from xl_automation.rules.normalize import clean_text
    from xl_automation.xlsx.row_values import all_clean_strings as _all_clean_strings, text_value as _text
    alphabet = ["a", "中", " ", "\n", "\t", "\r", "\u3000", "\xa0", "Ａ", "１", "\u2003", "-", "\x85"]
    rnd = random.Random(5)
    for _ in range(20_000):
        pair = tuple("".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 5))) for _ in range(2))
        assert [_text(v) for v in pair] == [clean_text(v) for v in pair]
        if _all_clean_strings(pair):
            assert [clean_text(v) for v in pair] == list(pair)


def test_a_run_of_hidden_rows_is_one_warning_naming_the_range(tmp_path):
    """A filtered ledger hides thousands of rows: one warning per run, not one per row."""
    path = write_ledger(tmp_path / "filtered.xlsx", sample_rows(8), hidden_rows=[1, 2, 3, 4, 6])
    ledger = read_ledger(path)
    hidden = [f for f in ledger.findings if f.code == "row-hidden"]
    assert [f.row for f in hidden] == [5, 10]
    assert "5–8（共 4 行）" in hidden[0].message and "第 10 行" in hidden[1].message
    assert [r.excel_row for r in ledger.rows if r.hidden] == [5, 6, 7, 8, 10]


def test_a_ledger_longer_than_a_block(tmp_path):
    # the reader converts the rows a block at a time (row_values.BLOCK): empty and hidden rows, and
    # values that repeat or not, fall on both sides of the blocks' edges
    from xl_automation.xlsx.row_values import BLOCK
    samples = sample_rows(2 * BLOCK + 40)
    rows = [{} if i % 97 == 5 else s for i, s in enumerate(samples)]
    hidden = [BLOCK - 1, BLOCK, 2 * BLOCK + 3]
    ledger = read_ledger(write_ledger(tmp_path / "t.xlsx", rows, hidden_rows=hidden))
    kept = [i for i, r in enumerate(rows) if r]
    assert [r.excel_row for r in ledger.rows] == [i + 4 for i in kept]
    assert [input_values(r) for r in ledger.rows] == [expected(rows[i]) for i in kept]
    assert [r.excel_row for r in ledger.rows if r.hidden] == [i + 4 for i in hidden if rows[i]]


def test_a_ledger_beginning_right_of_column_a(tmp_path):
    # calamine's row iterator leaves out the empty columns left of the first cell: the reader reads
    # such a sheet whole instead, with the same result as the ledger in column A
    rows = sample_rows(5)
    wb = openpyxl.load_workbook(write_ledger(tmp_path / "a.xlsx", rows))
    wb[labels.LEDGER_SHEET].insert_cols(1)
    wb.save(tmp_path / "b.xlsx")
    a, b = read_ledger(tmp_path / "a.xlsx"), read_ledger(tmp_path / "b.xlsx")
    assert b.columns == {key: column + 1 for key, column in a.columns.items()}
    assert [(r.excel_row, r.values, r.hidden) for r in b.rows] == [(r.excel_row, r.values, r.hidden) for r in a.rows]
    assert [input_values(r) for r in b.rows] == [expected(s) for s in rows]
