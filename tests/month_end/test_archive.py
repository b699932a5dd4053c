"""The archive as users meet it: two months consolidated by the CLI, read back with the sqlite3 tool,
two consolidations at once, a crash mid-transaction, newer / foreign / damaged files refused."""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from support.cli import run
from xl_automation.model import labels
from xl_automation.month_end.archive import APPLICATION_ID, DEFAULT_NAME, SCHEMA_VERSION, ArchiveError, is_network_path, \
    open_archive
from support.archive_files import NOW, consolidate, two_months

from support.paths import ROOT as ROOT


def sqlite_cli(db: Path, sql: str) -> list[list[str]]:
    out = subprocess.run(["sqlite3", "-readonly", "-separator", "|", str(db), sql], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    inbox = two_months(tmp_path_factory.mktemp("archive"))
    return inbox, consolidate(inbox, "2026-11"), consolidate(inbox, "2026-12")


def test_first_month_uses_todays_rules_and_says_so(months):
    inbox, nov, _ = months
    assert nov["archive"]["path"] == str(inbox / DEFAULT_NAME) and not nov["archive"]["used"]
    assert "还没有更早的统计周期" in nov["archive"]["note"]
    assert nov["late_reported"] == [] and nov["dropped_open"] == []


def test_second_month_late_reported_dropped_open_and_late_transfer(months):
    inbox, _, dec = months
    assert dec["archive"]["used"]
    assert [(x["window"], x["request_id"], x["period"]) for x in dec["late_reported"]] == [
        ("ZLS01", "ZLS01-20261124-003", "2026-11")]
    assert dec["dropped_open"] == [{"window": "ZLS02", "request_id": "ZLS02-20261105-001", "last_period": "2026-11"}]
    windows = {w["code"]: w for w in dec["windows"]}
    assert (windows["ZLS01"]["late_reported"], windows["ZLS01"]["dropped_open"]) == (1, 0)
    assert (windows["ZLS02"]["late_reported"], windows["ZLS02"]["dropped_open"]) == (0, 1)
    # ZLS01 received A3 (补报) and A4; A1 is carried, not received again
    assert (windows["ZLS01"]["received"], windows["ZLS01"]["carried_over"]) == (2, 1)
    # B2's transfer row is folded into B2 (owner ZLS02), not received again by ZLS03: B2 was open in November's
    # report and ZLS02's December ledger brings it closed, so its own row is 结转 (its outcome reaches the group)
    assert dec["rows_from_archive"] == 0 and dec["rows_merged"] == 1
    book = openpyxl.load_workbook(inbox.parent / "月报-2026-12.xlsx", read_only=True)
    text = [str(c) for row in book["跨月核对"].iter_rows(values_only=True) for c in row if c is not None]
    assert "ZLS01-20261124-003" in text and "ZLS02-20261105-001" in text
    detail = list(book["明细"].iter_rows(values_only=True))
    col = {h: i for i, h in enumerate(detail[0])}
    by_id = {r[col["受理编号"]]: r for r in detail[1:]}
    assert by_id["ZLS01-20261124-003"][col["补报"]] == "是" and by_id["ZLS01-20261124-003"][col["结转"]] is None
    assert by_id["ZLS01-20261110-001"][col["结转"]] == "是" and by_id["ZLS01-20261110-001"][col["补报"]] is None
    moved = by_id["ZLS02-20261124-002"]        # owner the first window, clock from its receipt on the 24th
    assert moved[col["窗口编码"]] == "ZLS02" and moved[col["结转"]] == "是" and "ZLS03" in moved[col["合并行"]]
    assert moved[col["受理时间"]] == datetime(2026, 11, 24, 16)
    notice = run("notice", inbox / "2026-12", "--period", "2026-12", "--now", NOW)
    assert notice.returncode == 0 and "未续报" in notice.stdout and "ZLS02-20261105-001" in notice.stdout


def test_sqlite3_tool_sees_tables_and_counts_that_match_the_reports(months):
    inbox, nov, dec = months
    db = inbox / DEFAULT_NAME
    tables = {r[0] for r in sqlite_cli(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "requests", "dropped_open", "figures", "file_cache"} <= tables
    assert sqlite_cli(db, "PRAGMA user_version") == [[str(SCHEMA_VERSION)]]
    assert sqlite_cli(db, "PRAGMA journal_mode") == [["wal"]]
    for data in (nov, dec):
        rows = sqlite_cli(db, "SELECT q.role, count(*) FROM requests q JOIN runs r ON r.id = q.run_id "
                              f"WHERE r.current = 1 AND r.period = '{data['period']}' GROUP BY q.role")
        roles = {k: int(n) for k, n in rows}
        assert sum(roles.values()) == data["rows_in_details"]
        assert roles.get("late_reported", 0) == len(data["late_reported"])
        dropped = sqlite_cli(db, "SELECT d.window, d.request_id, d.last_period FROM dropped_open d JOIN runs r "
                                 f"ON r.id = d.run_id WHERE r.current = 1 AND r.period = '{data['period']}'")
        assert dropped == [[x["window"], x["request_id"], x["last_period"]] for x in data["dropped_open"]]
        figures = sqlite_cli(db, "SELECT f.code, f.received, f.late_reported, f.carried_over, f.dropped_open, f.handled"
                                 " FROM figures f JOIN runs r ON r.id = f.run_id WHERE r.current = 1 AND r.period ="
                                 f" '{data['period']}' AND f.scope != 'company'")
        assert sorted(figures) == sorted(_cross_month_rows(Path(data["report"])))
        assert [int(x) for x in dict((f[0], f[1:]) for f in figures)["GROUP"][1:5:3]] == [
            len(data["late_reported"]), data["rows_in_details"]]


def _cross_month_rows(report: Path) -> list[list[str]]:
    """Code, 本期受理, 补报, 结转, 未续报, 经手合计 of every window and the group, as the report shows them."""
    sheet = openpyxl.load_workbook(report, read_only=True)["跨月核对"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows.index(next(r for r in rows if r and r[0] == labels.INFO_WINDOW_CODE))
    out = []
    for r in rows[header + 1:]:
        if not r or r[0] is None:
            break
        out.append([str(r[0])] + [str(int(r[c] or 0)) for c in range(2, 7)])
    return out


def test_reconsolidating_a_period_replaces_its_result_and_keeps_the_run_as_history(months, tmp_path):
    inbox, _, dec = months
    copy = tmp_path / "报送"
    shutil.copytree(inbox, copy)
    again = consolidate(copy, "2026-12", "--now", "2026-12-27 10:00")
    assert again["late_reported"] == dec["late_reported"] and again["archive"]["runs_of_period"] == 2
    db = copy / DEFAULT_NAME
    assert sqlite_cli(db, "SELECT period, current, run_at FROM runs ORDER BY id") == [
        ["2026-11", "1", "2026-12-26 09:00:00"], ["2026-12", "0", "2026-12-26 09:00:00"],
        ["2026-12", "1", "2026-12-27 10:00:00"]]
    inputs = json.loads(sqlite_cli(db, "SELECT inputs FROM runs WHERE id = 3")[0][0])
    assert {i["window"] for i in inputs} == {"ZLS01", "ZLS02", "ZLS03"} and all(len(i["sha256"]) == 64 for i in inputs)
    history = run("history", copy)
    assert history.returncode == 0 and "2026-12（2 次）" in history.stdout
    runs = json.loads(run("history", copy, "--json").stdout)["runs"]
    assert {(r["period"], r["run"], r["current"]) for r in runs if r["window"] == "ZLS01"} == {
        ("2026-11", 1, "是"), ("2026-12", 2, "否（已被替换）"), ("2026-12", 3, "是")}


def test_no_archive_creates_nothing_and_says_so(tmp_path):
    inbox = two_months(tmp_path)
    data = consolidate(inbox, "2026-12", "--no-archive")
    assert not (inbox / DEFAULT_NAME).exists()
    assert data["archive"]["used"] is False and "未使用归档" in data["archive"]["note"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", ["newer", "foreign", "damaged"])
def test_newer_foreign_or_damaged_archive_is_refused_and_left_alone(tmp_path, kind):
    inbox = two_months(tmp_path)
    db = inbox / DEFAULT_NAME
    if kind == "damaged":
        db.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    else:
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE t(x)")
        if kind == "newer":
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.commit()
        conn.close()
    before = _sha(db)
    done = run("consolidate", inbox / "2026-11", "--period", "2026-11", "--out", tmp_path / "m.xlsx", "--now", NOW)
    assert done.returncode == 2
    expected = {"newer": "比本程序支持的", "foreign": "不是综合受理归档", "damaged": "已损坏"}[kind]
    assert expected in done.stderr and str(db) in done.stderr and "不会" in done.stderr
    assert _sha(db) == before and not (tmp_path / "m.xlsx").exists()


def test_two_consolidations_at_once_serialise_and_equal_a_serial_run(tmp_path):
    inbox = two_months(tmp_path / "a")
    serial = two_months(tmp_path / "b")
    consolidate(inbox, "2026-11")
    consolidate(serial, "2026-11")
    args = lambda box, name: [sys.executable, "-m", "xl_automation", "consolidate", box / "2026-12", "--period",  # noqa
                              "2026-12", "--out", box.parent / name, "--json", "--now", NOW]
    procs = [subprocess.Popen(args(inbox, f"m{i}.xlsx"), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    alone = consolidate(serial, "2026-12")
    for out, _ in outs:
        data = json.loads(out)
        for key in ("late_reported", "dropped_open", "rows_in_details", "rows_merged", "rows_excluded", "overdue"):
            assert data[key] == alone[key]
    db = inbox / DEFAULT_NAME
    assert sqlite_cli(db, "PRAGMA integrity_check") == [["ok"]]
    assert sqlite_cli(db, "SELECT period, current FROM runs ORDER BY id") == [["2026-11", "1"], ["2026-12", "0"],
                                                                            ["2026-12", "1"]]
    figures = "SELECT f.scope, f.code, f.received, f.late_reported, f.carried_over, f.dropped_open, f.handled " \
              "FROM figures f JOIN runs r ON r.id = f.run_id WHERE r.current = 1 ORDER BY r.period, f.scope, f.code"
    assert sqlite_cli(db, figures) == sqlite_cli(serial / DEFAULT_NAME, figures)


def test_a_second_consolidation_that_cannot_wait_stops_with_a_message(tmp_path):
    db = tmp_path / DEFAULT_NAME
    holder = open_archive(db)
    holder.conn.execute("BEGIN IMMEDIATE")
    try:
        other = open_archive(db, busy_seconds=0.2)
        with pytest.raises(ArchiveError, match="正被另一次汇总使用"):
            with other.transaction():
                pass
        other.close()
    finally:
        holder.conn.rollback()
        holder.close()


CRASH = """
import sys, time
from datetime import datetime
from pathlib import Path
from xl_automation.model import config as cfg
from xl_automation.month_end.archive import open_archive
from xl_automation.month_end.collect import collect
from xl_automation.month_end.month_archive import consolidate_period, record
from xl_automation.rules.periods import Period
folder, db = Path(sys.argv[1]), Path(sys.argv[2])
conf, period, now = cfg.load(), Period.parse("2026-12"), datetime(2026, 12, 26, 9)
archive = open_archive(db)
def write(cons, info):
    from support.archive_world import figures_only
    record(archive, cons, collect(folder, period, conf, now), figures_only(cons, info), conf, now)
    print("recorded", flush=True)
    time.sleep(600)
consolidate_period(collect(folder, period, conf, now), period, conf, now, archive, write)
"""


def _dump(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_a_process_killed_mid_transaction_leaves_the_archive_as_it_was(tmp_path):
    inbox = two_months(tmp_path)
    consolidate(inbox, "2026-11")
    db = inbox / DEFAULT_NAME
    before = _dump(db)
    child = subprocess.Popen([sys.executable, "-c", CRASH, str(inbox / "2026-12"), str(db)], cwd=ROOT / "tests",
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "recorded", child.stderr.read()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert _dump(db) == before
    assert sqlite_cli(db, "PRAGMA integrity_check") == [["ok"]]
    data = consolidate(inbox, "2026-12")       # and the archive works on
    assert data["archive"]["runs_of_period"] == 1


def test_an_exception_mid_run_rolls_back_and_leaves_no_report(tmp_path):
    from xl_automation.model import config as cfg
    from xl_automation.month_end.collect import collect
    from xl_automation.month_end.month_archive import consolidate_period
    from xl_automation.rules.periods import Period
    inbox = two_months(tmp_path)
    consolidate(inbox, "2026-11")
    db = inbox / DEFAULT_NAME
    before = _dump(db)
    conf, period, now = cfg.load(), Period.parse("2026-12"), datetime(2026, 12, 26, 9)
    archive = open_archive(db)

    def write(cons, info):
        archive.conn.execute("UPDATE runs SET current = 0")
        raise OSError("disk full")
    with pytest.raises(OSError):
        consolidate_period(collect(inbox / "2026-12", period, conf, now), period, conf, now, archive, write)
    archive.close()
    assert _dump(db) == before


def test_a_network_share_uses_rollback_journal_with_an_exclusive_lock_and_says_so(tmp_path, monkeypatch):
    assert is_network_path(Path(r"\\fileserver\营销\综合受理归档.sqlite"))
    assert is_network_path(Path("//fileserver/share/a.sqlite"))
    assert not is_network_path(tmp_path / "a.sqlite")
    monkeypatch.setattr("xl_automation.month_end.archive.is_network_path", lambda p: True)
    archive = open_archive(tmp_path / "a.sqlite")
    try:
        assert archive.conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert archive.conn.execute("PRAGMA locking_mode").fetchone()[0] == "exclusive"
        assert any("网络共享" in n for n in archive.notes)
    finally:
        archive.close()


def test_an_archive_from_elsewhere_cannot_make_its_schema_call_functions(tmp_path):
    """A view in a crafted archive calling a function the program registers (or one with side effects) is
    refused when used, not run: trusted_schema is off on every connection."""
    archive = open_archive(tmp_path / "a.sqlite")
    try:
        assert archive.conn.execute("PRAGMA trusted_schema").fetchone()[0] == 0
        archive.conn.create_function("probe", 0, lambda: 1)
        archive.conn.execute("CREATE VIEW crafted AS SELECT probe() AS x")
        with pytest.raises(sqlite3.OperationalError, match="unsafe use of probe"):
            archive.conn.execute("SELECT x FROM crafted").fetchall()
    finally:
        archive.close()


def test_migrations_run_from_an_older_schema_and_keep_its_data(tmp_path):
    from xl_automation.month_end.archive import MIGRATIONS
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("INSERT INTO runs(period, run_at, recorded_at, tool_version, inputs) VALUES "
                 "('2026-10', 'x', 'y', '0', '[]')")
    conn.commit()
    conn.close()
    archive = open_archive(db)
    try:
        assert archive.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert archive.periods() == ["2026-10"]
        assert archive.conn.execute("SELECT count(*) FROM file_cache").fetchone()[0] == 0
    finally:
        archive.close()


def test_the_archive_path_comes_from_the_configuration_when_not_given(tmp_path):
    inbox = two_months(tmp_path)
    db = tmp_path / "集团" / "归档.sqlite"
    db.parent.mkdir()
    conf = tmp_path / "conf.json"
    conf.write_text(json.dumps({"archive": {"path": str(db)}}), encoding="utf-8")
    done = run("--config", conf, "consolidate", inbox / "2026-11", "--period", "2026-11", "--out",
               tmp_path / "m.xlsx", "--json", "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["archive"]["path"] == str(db) and db.exists()
    assert not (inbox / DEFAULT_NAME).exists()


def test_reconsolidating_an_earlier_period_says_which_later_ones_rest_on_it(months, tmp_path):
    inbox, _, _ = months
    copy = tmp_path / "报送"
    shutil.copytree(inbox, copy)
    again = consolidate(copy, "2026-11")
    assert any("2026-12" in n and "重新汇总" in n for n in again["archive"]["notes"])


def test_an_archive_that_cannot_be_written_is_named_with_what_to_do(tmp_path, monkeypatch):
    real = sqlite3.connect

    class ReadOnly:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, *a):
            if sql.startswith("PRAGMA journal_mode"):
                raise sqlite3.OperationalError("attempt to write a readonly database")
            return self.conn.execute(sql, *a)

        def close(self):
            self.conn.close()
    monkeypatch.setattr("xl_automation.month_end.archive.sqlite3.connect", lambda *a, **k: ReadOnly(real(*a, **k)))
    with pytest.raises(ArchiveError, match="无法写入归档数据库.*--no-archive"):
        open_archive(tmp_path / "a.sqlite")


def test_known_takes_the_state_of_the_last_report_and_the_first_counting_period(tmp_path):
    archive = open_archive(tmp_path / "a.sqlite")
    row = lambda key, role, first, is_open: ("ZLS01", key, key, role, first, is_open, None, "", "{}", None,  # noqa
                                             "f.xlsx", "0" * 64, 4, 0)
    with archive.transaction():
        for period, rows in (("2026-10", [row("A", "received", "2026-10", 1), row("B", "received", "2026-10", 1)]),
                             ("2026-11", [row("A", "carried", "2026-10", 1), row("B", "carried", "2026-10", 1)]),
                             ("2026-12", [row("A", "carried", "2026-10", 0)])):
            archive.add_requests(archive.begin_run(period, datetime(2027, 1, 1), [], "t"), rows)
    known = archive.known_before("2027-01")
    assert (known[("ZLS01", "A")].first_period, known[("ZLS01", "A")].last_period, known[("ZLS01", "A")].open) == (
        "2026-10", "2026-12", False)
    assert (known[("ZLS01", "B")].last_period, known[("ZLS01", "B")].open) == ("2026-11", True)
    # limited to this period's keys, the open ones still come (未续报 needs them), the closed others do not
    assert set(archive.known_before("2027-01", keys=[])) == {("ZLS01", "B")}
    assert set(archive.known_before("2027-01", keys=["A"])) == {("ZLS01", "A"), ("ZLS01", "B")}
    archive.close()


@pytest.mark.parametrize("command", ["consolidate", "notice", "history"])
def test_a_folder_given_as_the_archive_is_named_with_what_to_do(tmp_path, command):
    """--archive 报送 (the folder holding the archive, not the file): one Chinese line saying it is a folder and
    which file to give, not SQLite's "unable to open database file"."""
    inbox = two_months(tmp_path)
    folder = tmp_path / "归档"
    folder.mkdir()
    args = {"consolidate": ("consolidate", inbox / "2026-11", "--period", "2026-11", "--out", tmp_path / "m.xlsx",
                            "--now", NOW),
            "notice": ("notice", inbox / "2026-11", "--period", "2026-11", "--now", NOW),
            "history": ("history", "--archive")}[command]
    done = run(*args, *(("--archive",) if command != "history" else ()), folder)
    assert done.returncode == 2 and "内部错误" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(folder) in lines[0] and "文件夹" in lines[0], lines
    assert "unable" not in lines[0] and str(folder / DEFAULT_NAME) in lines[0]
    assert list(folder.iterdir()) == [] and not (tmp_path / "m.xlsx").exists()
