"""Re-consolidating a period after a window resubmits records exactly what a cold run records.

The re-run takes unchanged files' rows from the archive's cache and copies what follows from an unmerged
row's values (values_json, phone, …) from the period's previous run instead of encoding it again: a key
that is wrong there (a row merged with a transfer in one run and not in the other) would be a loss path.
Both archives are compared table by table: runs' inputs, every request, 未续报, figures.
"""
import json
import sqlite3
from datetime import datetime
from pathlib import Path

from support.archive_world import row_values
from xl_automation.model import config as cfg, labels
from xl_automation.month_end.submission import MANIFEST_SUFFIX, sha256_of
from xl_automation.report.month_report import consolidate_folder
from xl_automation.rules.periods import Period
from xl_automation.xlsx.values_ledger import write_values_ledger

CONF = cfg.load()
NOW = datetime(2026, 12, 26, 9)
OCT, NOV = Period.parse("2026-10"), Period.parse("2026-11")


def submission(folder: Path, code: str, period: Period, rows, at: datetime) -> None:
    """A submission copy with its manifest, as submit writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"{code}_{period.label}_{at:%Y%m%d-%H%M%S}.xlsx"
    write_values_ledger(copy, rows, {labels.INFO_WINDOW_CODE: code, labels.INFO_PERIOD: period.label})
    manifest = {"manifest_version": 1, "window": code, "period": period.label, "rows": len(rows),
                "copy_file": copy.name, "copy_sha256": sha256_of(copy), "submitted_at": at.isoformat(sep=" "),
                "errors": 0, "warnings": 0, "findings": []}
    copy.with_name(copy.stem + MANIFEST_SUFFIX).write_text(json.dumps(manifest), encoding="utf-8")


def r(code, rid, got, closed, n, channel="窗口现场", at=datetime(2026, 11, 24, 12)):
    return row_values(code, rid, got, closed, at, channel, n)


ZLS01 = [r("ZLS01", f"ZLS01-2026111{i}-00{i}", datetime(2026, 11, 10 + i, 9), None if i % 2 else
           datetime(2026, 11, 11 + i, 9), i) for i in range(1, 7)] + [
    r("ZLS01", "ZLS01-20261020-009", datetime(2026, 10, 20, 9), None, 9)]            # open since October
ZLS01[0] = dict(ZLS01[0], result="已转办", transferred_to="ZLS02")       # merged: the transfer's outcome is taken
TRANSFER = r("ZLS02", "ZLS01-20261111-001", datetime(2026, 11, 11, 9, 20), datetime(2026, 11, 12, 9), 1, "联络群转入")
ZLS02 = [r("ZLS02", f"ZLS02-2026111{i}-00{i}", datetime(2026, 11, 10 + i, 10), None, 20 + i) for i in range(1, 4)]
ZLS03 = [r("ZLS03", "ZLS03-20261115-001", datetime(2026, 11, 15, 9), None, 31)]


def states(root: Path):
    """October for everyone, then November in three states: ZLS02 with the transfer row (merged into ZLS01's
    request), ZLS02 resubmitting without it, and again with it and one more row."""
    oct_rows = {"ZLS01": [r("ZLS01", "ZLS01-20261020-009", datetime(2026, 10, 20, 9), None, 9,
                            at=datetime(2026, 10, 24, 12))], "ZLS02": [], "ZLS03": []}
    for code, rows in oct_rows.items():
        submission(root / "2026-10", code, OCT, rows, datetime(2026, 10, 24, 12))
    yield lambda: (submission(root / "2026-11", "ZLS01", NOV, ZLS01, datetime(2026, 11, 24, 12)),
                   submission(root / "2026-11", "ZLS02", NOV, ZLS02 + [TRANSFER], datetime(2026, 11, 24, 12)),
                   submission(root / "2026-11", "ZLS03", NOV, ZLS03, datetime(2026, 11, 24, 12)))
    yield lambda: submission(root / "2026-11", "ZLS02", NOV, ZLS02, datetime(2026, 11, 24, 14))
    extra = r("ZLS02", "ZLS02-20261120-009", datetime(2026, 11, 20, 10), None, 29)
    yield lambda: submission(root / "2026-11", "ZLS02", NOV, ZLS02 + [TRANSFER, extra], datetime(2026, 11, 24, 16))


def run(root: Path, period: Period, db: Path) -> dict:
    return consolidate_folder(root / period.label, period, CONF, NOW, root.parent / f"月报-{db.stem}-{period.label}.xlsx",
                              show_personal_info=False, archive=str(db))


def current(db: Path, period: str) -> dict[str, list]:
    """The period's result as recorded: every table, without ids and clock stamps."""
    conn = sqlite3.connect(db)
    try:
        run_id = conn.execute("SELECT id FROM runs WHERE period = ? AND current = 1", (period,)).fetchone()[0]
        inputs = json.loads(conn.execute("SELECT inputs FROM runs WHERE id = ?", (run_id,)).fetchone()[0])
        cols = [c[1] for c in conn.execute("PRAGMA table_info(requests)") if c[1] not in ("id", "run_id")]
        return {
            "inputs": sorted((i["window"], i["file"], i["sha256"], i["state"]) for i in inputs if i["state"] != "superseded"),
            "requests": conn.execute(f"SELECT {', '.join(cols)} FROM requests WHERE run_id = ? ORDER BY id",
                                     (run_id,)).fetchall(),
            "dropped_open": conn.execute("SELECT window, key, request_id, last_period FROM dropped_open WHERE run_id = ?"
                                         " ORDER BY rowid", (run_id,)).fetchall(),
            "figures": [row[1:] for row in conn.execute("SELECT * FROM figures WHERE run_id = ? ORDER BY scope, code",
                                                        (run_id,))],
        }
    finally:
        conn.close()


def test_a_rerun_after_resubmissions_records_what_a_cold_run_records(tmp_path):
    root = tmp_path / "报送"
    warm_db = tmp_path / "warm.sqlite"
    steps = states(root)
    for n, step in enumerate(steps):
        step()
        if n == 0:
            run(root, OCT, warm_db)
        warm = run(root, NOV, warm_db)
        cold_db = tmp_path / f"cold-{n}.sqlite"
        run(root, OCT, cold_db)
        run(root, NOV, cold_db)
        merged = current(cold_db, NOV.label)["requests"]
        assert current(warm_db, NOV.label) == current(cold_db, NOV.label), f"state {n}"
        if n:
            assert warm["archive"]["files_from_cache"] >= 2 and warm["archive"]["files_read"] == 1
        # the transfer row is merged into ZLS01's request in states 0 and 2, not in 1: both ways are covered
        owner = [q for q in merged if q[1] == "ZLS01-20261111-001" and q[0] == "ZLS01"]
        assert len(owner) == 1 and owner[0][-1] == (0 if n == 1 else 1)
