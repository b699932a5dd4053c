"""受理编号 told apart without regard to the case of their letters: 'x-1' typed in one window and 'X-1' in
another (or in the same window next month) are one request, within a month, across months and in an
archive recorded before keys were folded."""
import sqlite3
from datetime import datetime

from xl_automation.model import config as cfg
from xl_automation.month_end.archive import open_archive
from xl_automation.month_end.collect import Collected
from xl_automation.month_end.month_archive import consolidate_period
from xl_automation.model.text import id_key
from xl_automation.rules.cross_month import request_key, role
from xl_automation.rules.periods import Period

from support.archive_world import figures_only, run_months as run, window_source as source
from support.rows import good_row

CONF = cfg.load()
NOW = datetime(2026, 12, 1, 10)
A, B = (w.code for w in CONF.windows[:2])
NAME = {w.code: w.name for w in CONF.windows[:2]}


def test_the_key_folds_ascii_letters_and_spaces_only():
    assert id_key(" zls01-20261120-001 ") == "ZLS01-20261120-001"
    assert id_key("ß-ä-1") == "ß-ä-1"                 # as SQLite's upper(): ASCII letters only
    assert request_key({"request_id": "zls01-1"}) == request_key({"request_id": "ZLS01-1 "})


def test_a_transfer_typed_in_lower_case_merges_with_its_origin(tmp_path):
    accepted = good_row(request_id="ZLS01-20261120-001", received_at=datetime(2026, 11, 20, 9),
                        replied_at=datetime(2026, 11, 20, 9, 30), result="已转办", transferred_to=NAME[B])
    received = good_row(request_id="zls01-20261120-001", channel="联络群转入", received_at=datetime(2026, 11, 20, 10),
                        replied_at=datetime(2026, 11, 20, 10, 20), result="办理中", closed_at=None)
    ((nov, _, report),) = run(tmp_path, [("2026-11", [source(A, "11", accepted), source(B, "11", received)])])
    assert [(d.window, role(d)) for d in nov.details] == [(A, "received")]
    assert nov.merged == 1 and report.figures["group"]["received"] == 1


def test_next_month_the_same_request_in_other_case_is_carried_not_new_and_dropped(tmp_path):
    october = good_row(request_id="zls01-20261020-001", received_at=datetime(2026, 10, 20, 9),
                       replied_at=datetime(2026, 10, 20, 9, 30), result="办理中", closed_at=None)
    november = dict(october, request_id="ZLS01-20261020-001")
    (_, _, _), (nov, _, report) = run(tmp_path, [("2026-10", [source(A, "10", october)]),
                                                 ("2026-11", [source(A, "11", november)])])
    assert [(d.window, role(d)) for d in nov.details] == [(A, "carried")]
    assert nov.dropped_open == [] and report.figures["group"]["received"] == 0


def test_an_archive_recorded_with_keys_as_typed_is_migrated(tmp_path):
    october = good_row(request_id="zls01-20261020-001", received_at=datetime(2026, 10, 20, 9),
                       replied_at=datetime(2026, 10, 20, 9, 30), result="办理中", closed_at=None)
    run(tmp_path, [("2026-10", [source(A, "10", october)])])
    db = tmp_path / "a.sqlite"
    conn = sqlite3.connect(db)             # as an older version recorded it: the key as typed, schema 3
    conn.execute("UPDATE requests SET key = request_id")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    archive = open_archive(db)
    try:
        keys = [k for (k,) in archive.conn.execute("SELECT key FROM requests")]
        nov, _, report = consolidate_period(Collected([source(A, "11", dict(october, request_id="ZLS01-20261020-001"))]),
                                            Period.parse("2026-11"), CONF, NOW, archive, figures_only)
    finally:
        archive.close()
    assert keys == ["ZLS01-20261020-001"]
    assert [role(d) for d in nov.details] == ["carried"] and nov.dropped_open == []

