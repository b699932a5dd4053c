"""new-ledger --from: the next ledger starts with open requests, rows received or closed since the last submission
of that file (at the latest the last day), and every row of a ledger never submitted (loss path 2 of issue 9)."""
from datetime import datetime, timedelta

from hypothesis import given, strategies as st

from support.archive_world import row_values
from support.cli import run
from xl_automation.model import config as cfg
from xl_automation.rules.cross_month import carry_since, default_since, rows_to_carry
from xl_automation.xlsx.fill import fill_ledger
from xl_automation.model.labels import INFO_PERIOD, INFO_WINDOW_CODE
from xl_automation.model.ledger import LedgerRow
from xl_automation.rules.periods import Period
from xl_automation.xlsx.reader import read_ledger

CONF = cfg.load()
NOV = Period.parse("2026-11")


def _last_month(tmp_path, extra=(), submit_first_two_at=None):
    """November's ledger; with submit_first_two_at, submitted (to tmp_path/box) after its first two rows."""
    last = tmp_path / "ZLS02-2026-11.xlsx"
    assert run("new-ledger", "--window", "ZLS02", "--period", "2026-11", "--out", last).returncode == 0
    at = datetime(2026, 11, 26, 9)
    rows = [row_values("ZLS02", "OPEN-OCT", datetime(2026, 10, 20, 9), None, at, "窗口现场", 1),
            row_values("ZLS02", "CLOSED-NOV", datetime(2026, 11, 10, 9), datetime(2026, 11, 11, 9), at, "电话", 2),
            row_values("ZLS02", "EVENING-24", datetime(2026, 11, 24, 20), datetime(2026, 11, 24, 22), at, "电话", 3),
            row_values("ZLS02", "DEC-1", datetime(2026, 11, 25, 0, 30), None, at, "窗口现场", 4), *extra]
    rows = [dict(r, install_type="民用") for r in rows]
    if submit_first_two_at:
        fill_ledger(last, rows[:2])
        done = run("submit", last, "--to", tmp_path / "box" / "2026-11", "--now", submit_first_two_at)
        assert done.returncode == 0, done.stdout + done.stderr
        rows = rows[2:]
    fill_ledger(last, rows)
    return last


def test_new_ledger_from_last_month_carries_open_and_late_rows(tmp_path):
    last = _last_month(tmp_path)
    inbox = tmp_path / "报送"
    done = run("submit", last, "--to", inbox / "2026-11", "--now", "2026-11-26 09:00")
    assert done.returncode == 0, done.stdout + done.stderr
    nxt = tmp_path / "ZLS02-2026-12.xlsx"
    done = run("new-ledger", "--from", last, "--out", nxt, "--submitted-in", inbox)
    assert done.returncode == 0, done.stderr
    assert "带入 3 行" in done.stdout and "未办结 2 行" in done.stdout and "未找到" not in done.stdout
    ledger = read_ledger(nxt, config=CONF)
    assert (ledger.info[INFO_WINDOW_CODE], ledger.info[INFO_PERIOD]) == ("ZLS02", "2026-12")
    got = {r.values["request_id"]: r.values for r in ledger.rows}
    assert set(got) == {"OPEN-OCT", "EVENING-24", "DEC-1"}
    assert got["EVENING-24"]["received_at"] == datetime(2026, 11, 24, 20)
    assert got["EVENING-24"]["closed_at"] == datetime(2026, 11, 24, 22)
    # the moment of submission as cut-off: only what came after it (and what is open)
    later = tmp_path / "later.xlsx"
    done = run("new-ledger", "--from", last, "--out", later, "--since", "2026-11-24 23:00")
    assert {r.values["request_id"] for r in read_ledger(later, config=CONF).rows} == {"OPEN-OCT", "DEC-1"}


def test_a_ledger_never_submitted_hands_on_every_row_and_says_so(tmp_path):
    """Loss path 2: a window skips November's submission and starts December from November's file."""
    last = _last_month(tmp_path)
    nxt = tmp_path / "ZLS02-2026-12.xlsx"
    done = run("new-ledger", "--from", last, "--out", nxt)
    assert done.returncode == 0, done.stderr
    assert "未找到 ZLS02-2026-11.xlsx 的报送记录" in done.stdout and "带入其中全部 4 行" in done.stdout
    assert "2026-10 期 1 行" in done.stdout and "2026-11 期 2 行" in done.stdout and "补报" in done.stdout
    assert {r.values["request_id"] for r in read_ledger(nxt, config=CONF).rows} == {
        "OPEN-OCT", "CLOSED-NOV", "EVENING-24", "DEC-1"}


def test_a_submission_before_the_last_day_moves_the_cut_off_to_it(tmp_path):
    """Rows received after an early submission (here on the 20th) and closed before the 24th reach the next ledger."""
    after = row_values("ZLS02", "AFTER-SUBMIT", datetime(2026, 11, 21, 9), datetime(2026, 11, 21, 11),
                       datetime(2026, 11, 26, 9), "电话", 5)
    last = _last_month(tmp_path, [after], submit_first_two_at="2026-11-20 12:00")
    box = tmp_path / "box"
    nxt = tmp_path / "next.xlsx"
    done = run("new-ledger", "--from", last, "--out", nxt, "--submitted-in", box)
    assert done.returncode == 0 and "2026-11-20 12:00 以后受理或办结 2 行" in done.stdout, done.stdout
    assert {r.values["request_id"] for r in read_ledger(nxt, config=CONF).rows} == {
        "OPEN-OCT", "AFTER-SUBMIT", "EVENING-24", "DEC-1"}


def test_new_ledger_needs_a_window_without_from(tmp_path):
    done = run("new-ledger", "--period", "2026-12", "--out", tmp_path / "x.xlsx")
    assert done.returncode == 2 and "--window" in done.stderr


moments = st.one_of(st.none(), st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2026, 12, 31)))


@given(st.lists(st.tuples(moments, st.sampled_from(["办理中", "", "已办结", "无法办理", "已转办"]), moments), max_size=30),
       st.datetimes(min_value=datetime(2026, 10, 1), max_value=datetime(2026, 12, 1)))
def test_nothing_open_recent_or_unreadable_is_left_behind(raw, since):
    rows = [LedgerRow(i + 4, {"received_at": t, "result": r, "closed_at": c}) for i, (t, r, c) in enumerate(raw)]
    carried = rows_to_carry(rows, since)
    kept = {r.excel_row for r in carried.rows}
    for row in rows:
        t, result, closed = row.values["received_at"], row.values["result"], row.values["closed_at"]
        must = t is None or result in ("办理中", "") or t >= since or (closed is not None and closed >= since)
        assert (row.excel_row in kept) == must
    assert len(carried.rows) == carried.open + carried.recent + carried.no_time == sum(n for _, n in carried.by_period)
    everything = rows_to_carry(rows, None)          # never submitted: nothing is left behind
    assert [r.excel_row for r in everything.rows] == [r.excel_row for r in rows]
    assert len(rows) == everything.open + everything.no_time + everything.closed_unsubmitted


@given(st.lists(st.datetimes(min_value=datetime(2026, 10, 1), max_value=datetime(2026, 12, 1)), max_size=4))
def test_the_cut_off_is_never_after_a_known_submission_nor_the_last_day(submitted):
    since = carry_since(NOV, submitted)
    if not submitted:
        assert since is None
    else:
        assert since <= max(submitted) and since <= default_since(NOV)
        assert since in (max(submitted), default_since(NOV))


def test_default_cut_off_is_the_last_day_of_the_period():
    assert default_since(NOV) == datetime(2026, 11, 24) == NOV.end - timedelta(days=1)


def test_carried_text_with_control_characters_and_escape_lookalikes_reads_back_as_it_was(tmp_path):
    """A control character in last month's cell (Excel stores it as _x0001_) made new-ledger --from stop with
    an internal error after writing the blank ledger (openpyxl refuses it), and a rerun was refused: the
    file existed. The next ledger now holds the text as the old one did, a literal "_x0041_" included."""
    remark, reason = "外线\x01待查\x7f", "等待_x005F_x0041_批复 _x0041_"
    last = _last_month(tmp_path)
    fill_ledger(last, [dict(row_values("ZLS02", "OPEN-CTRL", datetime(2026, 11, 12, 9), None, datetime(2026, 11, 26, 9),
                                       "电话", 6), install_type="民用", remarks=remark, unresolved_reason=reason)])
    before = {r.values["request_id"]: r.values for r in read_ledger(last, config=CONF).rows}["OPEN-CTRL"]
    assert (before["remarks"], before["unresolved_reason"]) == (remark, reason)      # fill_ledger stores them too
    nxt = tmp_path / "next.xlsx"
    done = run("new-ledger", "--from", last, "--out", nxt)
    assert done.returncode == 0, done.stderr
    after = {r.values["request_id"]: r.values for r in read_ledger(nxt, config=CONF).rows}["OPEN-CTRL"]
    assert (after["remarks"], after["unresolved_reason"]) == (before["remarks"], before["unresolved_reason"])


def test_last_months_ledger_is_read_in_a_worker_within_the_limits(tmp_path):
    """new-ledger --from read last month's file in its own process, the one untrusted read without the
    workers' memory ceiling and time limit: a 5 KB workbook with one far cell asks the parser for a 3.9 GB
    grid (a native abort with a Rust backtrace where that fails, the machine's memory where it does not).
    It is refused in a few seconds, in one line, as validate refuses it, and no new ledger is left."""
    import json

    from support.ledger_files import stray_cell_ledger
    from xl_automation.model import labels
    import openpyxl
    storm = stray_cell_ledger(tmp_path / "上期.xlsx")
    wb = openpyxl.load_workbook(storm)
    info = wb.create_sheet(labels.INFO_SHEET)
    info.append([labels.INFO_WINDOW_CODE, "ZLS02"])
    info.append([labels.INFO_PERIOD, "2026-11"])
    wb.save(storm)
    data = cfg.default_data()
    data["limits"] = dict(data["limits"], memory_mb=400, seconds_per_file=20)
    config = tmp_path / "限额.json"
    config.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "next.xlsx"
    done = run("--config", config, "new-ledger", "--from", storm, "--out", out, timeout=120)
    assert done.returncode == 2 and "上期.xlsx" in done.stderr and "400 MB" in done.stderr, done.stderr
    assert not out.exists()
