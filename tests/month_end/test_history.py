"""Trends from the archive: the report's 趋势 sheet, the `history` command's print and exports, 环比/累计."""
import csv
import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from support.archive_files import consolidate, ledger, two_months
from support.cli import run
from support.archive_world import row_values
from xl_automation.month_end.trends import with_changes

NOW = "2026-12-26 09:00"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("history")
    inbox = two_months(root)
    # an untrusted 受理编号 shaped like a formula, from the same phone in both months
    from datetime import datetime
    evil = row_values("ZLS04", "=HYPERLINK(\"http://x\",\"y\")", datetime(2026, 11, 3, 9), None,
                      datetime(2026, 11, 24, 9), "窗口现场", 77)
    ledger(inbox / "2026-11", "ZLS04", "2026-11", [evil], datetime(2026, 11, 24, 9))
    again = row_values("ZLS04", "ZLS04-20261201-001", datetime(2026, 12, 1, 9), None, datetime(2026, 12, 24, 9),
                       "窗口现场", 77)
    ledger(inbox / "2026-12", "ZLS04", "2026-12", [dict(evil, result="已办结", closed_at=datetime(2026, 12, 2)),
                                                  again], datetime(2026, 12, 24, 9))
    return inbox, consolidate(inbox, "2026-11"), consolidate(inbox, "2026-12")


def test_report_trend_sheet_has_every_period_and_a_line_chart(archive):
    inbox, nov, dec = archive
    report = Path(dec["report"])
    sheet = openpyxl.load_workbook(report, read_only=True)["趋势"]
    rows = [r for r in sheet.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] == "受理数")
    header, first, second = rows[start + 1], rows[start + 2], rows[start + 3]
    assert (first[0], second[0]) == ("2026-11", "2026-12")
    group = header.index("全集团")
    assert (first[group], second[group]) == (nov_received(nov), nov_received(dec))
    with zipfile.ZipFile(report) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert any(b"<c:lineChart>" in z.read(n) for n in charts)


def nov_received(data) -> int:
    """Received this period as the report's 跨月核对 sheet shows it for the group."""
    sheet = openpyxl.load_workbook(data["report"], read_only=True)["跨月核对"]
    return next(r[2] for r in sheet.iter_rows(values_only=True) if r and r[0] == "GROUP")


def test_history_prints_exports_xlsx_and_masks_repeat_phones(archive, tmp_path):
    inbox, _, dec = archive
    out = tmp_path / "历史.xlsx"
    done = run("history", inbox, "--export", out)
    assert done.returncode == 0, done.stderr
    assert "2026-11" in done.stdout and "2026-12" in done.stdout and "139****0077" in done.stdout
    assert "13900000077" not in done.stdout
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["各期数据", "受理数", "按时率", "办结率", "考核得分", "重复来件", "汇总记录"]
    repeats = list(book["重复来件"].iter_rows(values_only=True))
    phones = {r[0] for r in repeats[1:]}
    assert "139****0077" in phones and not any("13900000077" in str(p) for p in phones)
    ids = next(r[5] for r in repeats if r[0] == "139****0077")
    cell = next(c for row in book["重复来件"].iter_rows() for c in row if c.value == ids)
    assert cell.data_type == "s" and ids.startswith("=HYPERLINK")          # text, never a formula
    data = json.loads(run("history", inbox, "--json").stdout)
    group = {r["period"]: r for r in data["figures"] if r["code"] == "GROUP"}
    assert group["2026-12"]["previous_received"] == group["2026-11"]["received"]
    assert group["2026-12"]["received_year"] == group["2026-11"]["received"] + group["2026-12"]["received"]
    assert {(r["period"], r["window"], r["state"]) for r in data["runs"]} >= {("2026-11", "ZLS01", "采用"),
                                                                              ("2026-12", "ZLS04", "采用")}
    shown = json.loads(run("history", inbox, "--json", "--show-personal-info").stdout)
    assert "13900000077" in {r["phone"] for r in shown["repeats"]}


def test_history_csv_cells_cannot_become_formulas(archive, tmp_path):
    inbox, _, _ = archive
    out = tmp_path / "历史.csv"
    assert run("history", inbox, "--export", out).returncode == 0
    with open(tmp_path / "历史-重复来件.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "联系电话"
    cells = [c for r in rows for c in r]
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    with open(out, encoding="utf-8-sig", newline="") as f:
        figures = list(csv.DictReader(f))
    assert {r["统计周期"] for r in figures} == {"2026-11", "2026-12"}


def test_history_without_an_archive_says_what_to_do(tmp_path):
    done = run("history", tmp_path)
    assert done.returncode == 2 and "找不到归档数据库" in done.stderr


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]),
                          st.sampled_from(["A", "B"]), st.integers(0, 500)), min_size=1, max_size=10,
                unique_by=lambda t: (t[0], t[1])))
def test_change_and_year_to_date_hold_for_any_series(rows):
    frame = pd.DataFrame([{"period": p, "scope": "window", "code": c, "received": n} for p, c, n in rows])
    out = with_changes(frame)
    for code, series in out.groupby("code"):
        series = series.sort_values("period")
        prev = None
        for r in series.itertuples():
            same_year = series[(series["period"].str[:4] == r.period[:4]) & (series["period"] <= r.period)]
            assert r.received_year == same_year["received"].sum()
            if prev is None:
                assert pd.isna(r.previous_received)
            else:
                assert r.previous_received == prev
                if prev == 0:
                    assert pd.isna(r.received_change)
                else:   # rounded to 4 places (half a unit either way: 0.04375 may round up or down in binary)
                    assert abs(r.received_change - (r.received - prev) / prev) <= 0.00005 + 1e-12
                    assert r.received_change == round(r.received_change, 4)
            prev = r.received


@pytest.mark.parametrize("args, says", [
    (["--period", "2026-1x"], "2026-1x"),
    (["--window", "NOPE"], "NOPE 不是配置中的窗口编码"),
    (["--periods", "-3"], "--periods -3"),           # was the internal-error line (IndexError)
])
def test_a_mistyped_period_or_window_is_named_not_an_empty_history(archive, args, says):
    inbox, _, _ = archive
    done = run("history", inbox, *args)
    assert done.returncode == 2 and says in done.stderr and "还没有汇总过" not in done.stderr, done.stderr
    assert "内部错误" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_history_on_an_empty_archive_file_says_it_is_empty(tmp_path):
    (tmp_path / "归档.sqlite").write_bytes(b"")
    done = run("history", "--archive", tmp_path / "归档.sqlite")
    assert done.returncode == 2 and "是空文件（0 字节）" in done.stderr and (tmp_path / "归档.sqlite").stat().st_size == 0
