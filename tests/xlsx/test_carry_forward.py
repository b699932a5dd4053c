"""new-ledger --from: the next ledger starts with open requests and every row of the last day or later."""
from datetime import datetime, timedelta

from hypothesis import given, strategies as st

from support.archive_world import row_values
from support.cli import run
from xl_automation.model import config as cfg
from xl_automation.rules.cross_month import default_since, rows_to_carry
from xl_automation.xlsx.fill import fill_ledger
from xl_automation.model.labels import INFO_PERIOD, INFO_WINDOW_CODE
from xl_automation.model.ledger import LedgerRow
from xl_automation.rules.periods import Period
from xl_automation.xlsx.reader import read_ledger

CONF = cfg.load()
NOV = Period.parse("2026-11")


def test_new_ledger_from_last_month_carries_open_and_late_rows(tmp_path):
    last = tmp_path / "ZLS02-2026-11.xlsx"
    assert run("new-ledger", "--window", "ZLS02", "--period", "2026-11", "--out", last).returncode == 0
    at = datetime(2026, 11, 26, 9)
    rows = [row_values("ZLS02", "OPEN-OCT", datetime(2026, 10, 20, 9), None, at, "窗口现场", 1),
            row_values("ZLS02", "CLOSED-NOV", datetime(2026, 11, 10, 9), datetime(2026, 11, 11, 9), at, "电话", 2),
            row_values("ZLS02", "EVENING-24", datetime(2026, 11, 24, 20), datetime(2026, 11, 24, 22), at, "电话", 3),
            row_values("ZLS02", "DEC-1", datetime(2026, 11, 25, 0, 30), None, at, "窗口现场", 4)]
    fill_ledger(last, rows)
    nxt = tmp_path / "ZLS02-2026-12.xlsx"
    done = run("new-ledger", "--from", last, "--out", nxt)
    assert done.returncode == 0, done.stderr
    assert "带入 3 行" in done.stdout and "未办结 2 行" in done.stdout
    ledger = read_ledger(nxt, config=CONF)
    assert (ledger.info[INFO_WINDOW_CODE], ledger.info[INFO_PERIOD]) == ("ZLS02", "2026-12")
    got = {r.values["request_id"]: r.values for r in ledger.rows}
    assert set(got) == {"OPEN-OCT", "EVENING-24", "DEC-1"}
    assert got["EVENING-24"]["received_at"] == datetime(2026, 11, 24, 20)
    assert got["EVENING-24"]["closed_at"] == datetime(2026, 11, 24, 22)
    # the moment of submission as cut-off: only what came after it (and what is open)
    later = tmp_path / "later.xlsx"
    done = run("new-ledger", "--from", last, "--out", later, "--since", "2026-11-24 21:00")
    assert {r.values["request_id"] for r in read_ledger(later, config=CONF).rows} == {"OPEN-OCT", "DEC-1"}


def test_new_ledger_needs_a_window_without_from(tmp_path):
    done = run("new-ledger", "--period", "2026-12", "--out", tmp_path / "x.xlsx")
    assert done.returncode == 2 and "--window" in done.stderr


moments = st.one_of(st.none(), st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2026, 12, 31)))


@given(st.lists(st.tuples(moments, st.sampled_from(["办理中", "", "已办结", "无法办理", "已转办"])), max_size=30),
       st.datetimes(min_value=datetime(2026, 10, 1), max_value=datetime(2026, 12, 1)))
def test_nothing_open_recent_or_unreadable_is_left_behind(raw, since):
    rows = [LedgerRow(i + 4, {"received_at": t, "result": r}) for i, (t, r) in enumerate(raw)]
    carried = rows_to_carry(rows, since)
    kept = {r.excel_row for r in carried.rows}
    for row in rows:
        t, result = row.values["received_at"], row.values["result"]
        must = t is None or result in ("办理中", "") or t >= since
        assert (row.excel_row in kept) == must
    assert len(carried.rows) == carried.open + carried.recent + carried.no_time


def test_default_cut_off_is_the_last_day_of_the_period():
    assert default_since(NOV) == datetime(2026, 11, 24) == NOV.end - timedelta(days=1)
