"""Parsed rows cached by sha256 in the archive: exact round trip, and a re-run reads only what changed."""
import json
from datetime import datetime

from hypothesis import given, strategies as st

from support.cli import run
from support.month_files import make_ledger
from xl_automation.model.ledger import _KEYS, LedgerRow, RowValues
from xl_automation.rules.normalize import DateOnly, Invalid
from xl_automation.month_end.row_cache import dumps, loads

moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1))
values = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), st.floats(allow_nan=False),
                   st.text(), st.text().map(lambda t: "\x00" + t), moments, moments.map(DateOnly),
                   st.builds(Invalid, st.one_of(st.none(), st.text(), st.integers(), st.floats(allow_nan=False)),
                             st.text()))


@given(st.lists(st.tuples(st.integers(1, 10**6), st.booleans(), st.lists(values, min_size=len(_KEYS),
                                                                         max_size=len(_KEYS))), max_size=5))
def test_cached_rows_come_back_exactly(raw):
    rows = [LedgerRow(r, RowValues(v), h) for r, h, v in raw]
    back = loads(dumps(rows))
    assert [(r.excel_row, r.hidden, tuple(r.values)) for r in back] == [(r.excel_row, r.hidden, tuple(r.values))
                                                                         for r in rows]
    assert all(type(a) is type(b) for x, y in zip(back, rows) for a, b in zip(tuple(x.values), tuple(y.values)))


def test_a_cache_of_another_column_layout_is_not_used():
    text = dumps([LedgerRow(4, RowValues([None] * len(_KEYS)))])
    data = json.loads(text)
    data["keys"] = data["keys"][:-1]
    assert loads(json.dumps(data)) is None


def test_rerun_after_one_resubmission_reads_only_the_changed_file(tmp_path):
    inbox = tmp_path / "报送" / "2026-11"
    now = datetime(2026, 11, 20, 12)
    ledgers = [make_ledger(tmp_path, code, now, n=15) for code in ("ZLS01", "ZLS02", "ZLS03")]
    for path in ledgers:
        assert run("submit", path, "--to", inbox, "--now", "2026-11-20 12:00").returncode == 0

    def consolidate():
        done = run("consolidate", inbox, "--period", "2026-11", "--out", tmp_path / "m.xlsx", "--json",
                   "--now", "2026-11-25 10:00")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    cold = consolidate()
    assert (cold["archive"]["files_from_cache"], cold["archive"]["files_read"]) == (0, 3)
    warm = consolidate()
    assert (warm["archive"]["files_from_cache"], warm["archive"]["files_read"]) == (3, 0)
    for key in ("rows_in", "rows_in_details", "rows_merged", "rows_excluded", "overdue", "on_time_rate"):
        assert cold[key] == warm[key]
    (tmp_path / "v2").mkdir()
    changed = make_ledger(tmp_path / "v2", "ZLS02", now, n=16)          # one more row than submitted before
    assert run("submit", changed, "--to", inbox, "--now", "2026-11-21 08:00").returncode == 0
    again = consolidate()
    # the two unchanged copies and the superseded one from the cache, the new copy read
    assert (again["archive"]["files_from_cache"], again["archive"]["files_read"]) == (3, 1)
    assert again["rows_in"] == cold["rows_in"] + 1 and again["windows_resubmitted"] == ["ZLS02"]


def test_entries_unused_for_long_are_dropped_and_used_ones_kept(tmp_path):
    from datetime import timedelta
    from xl_automation.month_end.archive import open_archive
    from xl_automation.month_end.row_cache import KEEP_DAYS, RowCache
    archive = open_archive(tmp_path / "a.sqlite")
    rows = [LedgerRow(4, RowValues([None] * len(_KEYS)))]
    start = datetime(2025, 1, 1)
    with archive.transaction():
        cache = RowCache(archive)
        cache.put("old", rows)
        cache.put("kept", rows)
        cache.flush(start)
    later = start + timedelta(days=KEEP_DAYS + 1)
    with archive.transaction():
        cache = RowCache(archive)
        assert cache.get("kept") is not None and cache.get("missing") is None
        cache.flush(later)
    assert archive.cached_text("old") is None and archive.cached_text("kept") is not None
    assert (cache.hits, cache.misses) == (1, 1)
    archive.close()
